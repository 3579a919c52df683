"""What a manager acts on: deadlines met per rule, team and worker; overdue now; caseloads;
plans open too long; and, per process version, where cases wait and where deadlines slip.

A step is on time when it was completed before its deadline timer fired, late when the timer
fired first (the audit's `timer_fired:deadline`); only steps whose diagram gives them a
deadline count. Training cases are never read (see `records`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from engine.calendar import LONDON
from engine.returns.records import CaseRecord, OpenTask, VersionSteps

DRIFT_MONTHS = (6, 12)
NO_RULE = "no rule id"


@dataclass
class Rate:
    """Deadlines met and missed for one rule, team or worker in the period."""

    key: str
    met: int = 0
    missed: int = 0

    @property
    def total(self) -> int:
        return self.met + self.missed

    @property
    def percent(self) -> int:
        return round(100 * self.met / self.total) if self.total else 0


@dataclass(frozen=True)
class Drift:
    case_id: int
    child: str
    team: str
    plan_start: date
    months: int


@dataclass
class Oversight:
    start: date
    end: date
    now: datetime
    by_rule: list[Rate] = field(default_factory=list)
    by_team: list[Rate] = field(default_factory=list)
    by_worker: list[Rate] = field(default_factory=list)
    overdue_by_team: dict[str, int] = field(default_factory=dict)
    overdue_by_worker: dict[str, int] = field(default_factory=dict)
    caseload_by_team: dict[str, int] = field(default_factory=dict)
    caseload_by_worker: dict[str, int] = field(default_factory=dict)
    drift: list[Drift] = field(default_factory=list)

    def drifting(self, months: int) -> int:
        return sum(1 for d in self.drift if d.months >= months)


@dataclass(frozen=True)
class Outcome:
    """One step with a deadline, completed: on time or late."""

    case_id: int
    element_id: str
    rule: str
    team: str
    worker: str
    day: date
    late: bool


def outcomes(records: Iterable[CaseRecord], versions: dict[int, VersionSteps]) -> list[Outcome]:
    """Every completed step that had a deadline, in the order they happened."""
    out: list[Outcome] = []
    for record in records:
        steps = versions.get(record.process_version_id)
        if steps is None:
            continue
        fired: dict[str, str | None] = {}
        for event in record.events:
            if event.action == "timer_fired:deadline" and event.attached_to:
                fired.setdefault(event.attached_to, event.rule)
            elif event.action == "task_completed" and event.element_id in steps.deadlines:
                element = event.element_id
                late = element in fired
                rule = steps.rules.get(element) or fired.pop(element, None) or NO_RULE
                fired.pop(element, None)
                out.append(
                    Outcome(
                        record.case_id,
                        element,
                        rule,
                        record.team or "",
                        event.actor,
                        event.day,
                        late,
                    )
                )
    return out


def _rates(items: Iterable[tuple[str, bool]]) -> list[Rate]:
    rates: dict[str, Rate] = {}
    for key, late in items:
        rate = rates.setdefault(key, Rate(key))
        if late:
            rate.missed += 1
        else:
            rate.met += 1
    return sorted(rates.values(), key=lambda r: r.key)


def _months_between(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month - (end.day < start.day)


def build(
    records: list[CaseRecord],
    versions: dict[int, VersionSteps],
    open_tasks: Iterable[OpenTask],
    start: date,
    end: date,
    now: datetime,
) -> Oversight:
    view = Oversight(start, end, now)
    done = [o for o in outcomes(records, versions) if start <= o.day <= end]
    view.by_rule = _rates((o.rule, o.late) for o in done)
    view.by_team = _rates((o.team, o.late) for o in done)
    view.by_worker = _rates((o.worker, o.late) for o in done)
    open_cases = {r.case_id: r for r in records if r.status == "open"}
    overdue = [t for t in open_tasks if t.due_at is not None and t.due_at < now]
    view.overdue_by_team = dict(sorted(Counter(t.team or "" for t in overdue).items()))
    view.overdue_by_worker = dict(
        sorted(Counter(t.claimed_by or "unclaimed" for t in overdue).items())
    )
    view.caseload_by_team = dict(sorted(Counter(r.team or "" for r in open_cases.values()).items()))
    view.caseload_by_worker = dict(
        sorted(Counter(r.worker() or "unallocated" for r in open_cases.values()).items())
    )
    today = now.astimezone(LONDON).date()
    for record in open_cases.values():
        plans = [e for e in record.steps if e.form == "cin_plan.json"]
        if not plans:
            continue
        months = _months_between(plans[0].day, today)
        if months >= DRIFT_MONTHS[0]:
            view.drift.append(
                Drift(record.case_id, record.child_name, record.team or "", plans[0].day, months)
            )
    view.drift.sort(key=lambda d: (-d.months, d.case_id))
    return view


@dataclass
class StepHeat:
    element_id: str
    name: str
    waiting: int = 0
    missed: int = 0


def heatmap(
    steps: VersionSteps, records: Iterable[CaseRecord], open_tasks: Iterable[OpenTask]
) -> list[StepHeat]:
    """Per step of one process version: cases waiting there now, deadlines missed there ever."""
    heat: dict[str, StepHeat] = {}

    def at(element: str, name: str | None = None) -> StepHeat:
        if element not in heat:
            heat[element] = StepHeat(element, name or steps.names.get(element, element))
        return heat[element]

    for task in open_tasks:
        if task.process_version_id == steps.version_id:
            at(task.element_id, task.name).waiting += 1
    for record in records:
        if record.process_version_id != steps.version_id:
            continue
        for event in record.missed:
            if event.attached_to:
                at(event.attached_to).missed += 1
    return sorted(heat.values(), key=lambda h: (-(h.waiting + h.missed), h.name))
