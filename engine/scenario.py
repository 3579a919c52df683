"""Journey files: drive a case end to end and check what a worker would see at each step.

The product's own tests use these, and practice managers can run one against an edited diagram
(`cinflow scenario FILE`). One line per expectation; a failure names the step.
Over 500 lines because the runner and its step kinds are one vocabulary, read together.

    name: Consent given, CIN plan agreed
    process: sample_referral
    council: any                      # optional
    deploy: [processes/sample]        # optional; default: the folder above scenarios/
    child: {name: Sam Sample, date_of_birth: 2016-05-04}
    start: 2026-11-23T09:00:00Z       # the clock at the start (UTC)
    data: {referral_date: $start}     # $start: the day the journey starts
    demo: {started: 12 working days ago, stop_after: 3}   # how `cinflow demo` seeds a case
    steps:
      - expect: {tasks: [record_consent], finished: false}
      - complete: record_consent      # answers start from forms/examples/consent.valid.json;
        data: {consent_given: true}   # `data` overrides fields; `exact: true` sends only `data`
      - expect: {due: {complete_assessment: 2026-12-14}, timers: [assessment_deadline]}
      - advance: 10 working days      # or "advance_to: 2026-12-15", fires what falls due
      - message: family_moved         # with optional payload: {...}
      - complete: complete_assessment
        data: {decision: not-a-choice}
        refused: invalid   # expect a refusal: invalid | conflict | unknown | closed | diagram
      - expect: {finished: true, status: completed, fired: [assessment_deadline]}
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from time import monotonic
from typing import Any

import yaml

from engine import clock, yaml_files
from engine.calendar import LONDON, Duration, DurationError, due_date
from engine.clock import FixedClock
from engine.demodata import personalise
from engine.errors import (
    CaseClosed,
    CinflowError,
    Conflict,
    DiagramError,
    InvalidData,
    MessageNotExpected,
    NotAllowed,
    NotFound,
    TaskAlreadyCompleted,
)
from engine.services import Engine, NewChild
from engine.wording import uk_date

REFUSALS: dict[str, tuple[type[CinflowError], ...]] = {
    "invalid": (InvalidData,),
    "conflict": (Conflict,),
    "unknown": (NotFound, TaskAlreadyCompleted),
    "closed": (CaseClosed,),
    "not_allowed": (NotAllowed,),
    "message": (MessageNotExpected,),
    "diagram": (DiagramError,),  # a timer refused the case's data (R9: a limit not allowed)
}


class ScenarioError(Exception):
    """The journey file itself is wrong (not the diagram): bad YAML, unknown step, bad value."""


@dataclass
class Outcome:
    step: int
    label: str
    ok: bool
    detail: str = ""
    # For pages: the diagram element the expectation is about, and what was expected and found
    # in plain words ("due 18 May 2027" / "due 25 May 2027").
    element: str = ""
    expected: str = ""
    got: str = ""

    def line(self) -> str:
        return f"{'PASS' if self.ok else 'FAIL'} step {self.step}: {self.label}" + (
            f" — {self.detail}" if self.detail else ""
        )


@dataclass
class Report:
    name: str
    file: str
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.outcomes) and all(o.ok for o in self.outcomes)


def load(path: Path) -> dict[str, Any]:
    try:
        raw = yaml_files.read(path)
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict) or "process" not in raw or "steps" not in raw:
        raise ScenarioError(f"{path}: a scenario needs at least 'process' and 'steps'")
    return raw


def default_deploy(path: Path) -> tuple[list[Path], str | None]:
    """The pack a scenario belongs to: the folder above scenarios/, plus common/ for councils."""
    folder = path.resolve().parent
    if folder.name == "scenarios":
        folder = folder.parent
    if (folder / "timescales.yaml").is_file():
        common = folder.parent / "common"
        return ([common] if common.is_dir() else []) + [folder], folder.name
    return [folder], None


@contextmanager
def _scratch_engine(url: str | None) -> Iterator[Engine]:
    with tempfile.TemporaryDirectory(prefix="cinflow-scenario-") as tmp:
        engine = Engine(url or f"sqlite:///{tmp}/scenario.db")
        engine.init_db()
        try:
            yield engine
        finally:
            engine.dispose()


@dataclass(frozen=True)
class Cast:
    """Who does a demo journey's steps: the team's worker, or whoever a step's lane names
    (e.g. {"Team manager": "tm.portsmouth"}); the case starts in `team`."""

    user: str
    team: str | None = None
    by_lane: dict[str, str] = field(default_factory=dict)


def run_file(
    path: Path,
    url: str | None = None,
    engine: Engine | None = None,
    demo_at: datetime | None = None,
    cast: Cast | None = None,
    deadline: float | None = None,
    deployed: bool = False,
) -> Report:
    """Run a journey on a scratch database (or `engine`), returning one outcome per expectation.

    With `deployed`, `engine` already holds the journey's pack (what `deployment` names, e.g.
    on a copy of a template database), so the journey starts its case without deploying.

    With `deadline` (a time.monotonic() instant), the steps left when it passes are not run: the
    report ends with a failed "time limit" line (pages must answer in bounded time).

    With `demo_at`, the journey seeds a demo case instead: it starts `demo.started` before that
    instant, runs its first `demo.stop_after` steps without checking expectations, and leaves the
    case open at that point so the demo shows cases part-way along their pathway.
    """
    spec = load(path)
    report = Report(str(spec.get("name", path.stem)), str(path))
    if engine is not None:
        _run(spec, path, engine, report, demo_at, cast, deadline, deployed)
        return report
    with _scratch_engine(url) as scratch:
        _run(spec, path, scratch, report, demo_at, cast, deadline)
    return report


def deployment(path: Path, spec: dict[str, Any] | None = None) -> tuple[list[Path], str | None]:
    """What a journey deploys before it starts: the folders (its `deploy`, or its pack's) and
    the council (its `council`, or its pack's)."""
    spec = load(path) if spec is None else spec
    if "deploy" in spec:
        base = path.resolve().parent
        return [_resolve(base, p) for p in spec["deploy"]], spec.get("council")
    paths, council = default_deploy(path)
    return paths, spec.get("council", council)


def start_of(spec: dict[str, Any]) -> datetime:
    """When a journey starts (its `start`, else Monday 23 November 2026, 09:00 UTC)."""
    return _parse_instant(spec.get("start", "2026-11-23T09:00:00Z"))


def _parse_instant(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(9), LONDON).astimezone(UTC)
    text = str(value)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ScenarioError(f'"{text}" is not a date or time (e.g. 2026-11-23T09:00:00Z)') from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _as_date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ScenarioError(f'"{value}" is not a date (e.g. 2026-12-14)') from None


def _demo_start(
    spec: dict[str, Any], engine: Engine, council: str | None, at: datetime
) -> datetime:
    text = str((spec.get("demo") or {}).get("started", "0 days"))
    try:
        duration = Duration.parse(text.removesuffix(" ago"))
    except DurationError as exc:
        raise ScenarioError(f"demo.started: {exc}") from None
    local = at.astimezone(LONDON)
    if duration.unit == "hours":
        return at - timedelta(hours=duration.amount)
    if duration.unit == "working_days":
        day = engine.calendar(council or "any").add_working_days(local.date(), -duration.amount)
    else:
        days = {"days": 1, "weeks": 7, "months": 30}[duration.unit] * duration.amount
        day = local.date() - timedelta(days=days)
    return datetime.combine(day, local.time().replace(tzinfo=None), LONDON).astimezone(UTC)


def _substitute(value: Any, start: datetime) -> Any:
    """`$start` in a journey's data is the day the journey starts (so demos can shift it)."""
    if isinstance(value, str):
        if value == "$start":
            return start.astimezone(LONDON).date().isoformat()
        if value == "$start_time":
            return start.isoformat()
        return value
    if isinstance(value, list):
        return [_substitute(v, start) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, start) for k, v in value.items()}
    return value


def _run(
    spec: dict[str, Any],
    path: Path,
    engine: Engine,
    report: Report,
    demo_at: datetime | None,
    cast: Cast | None = None,
    deadline: float | None = None,
    deployed: bool = False,
) -> None:
    if demo_at is not None:
        begin = _demo_start(spec, engine, spec.get("council") or default_deploy(path)[1], demo_at)
    else:
        begin = start_of(spec)
    spec = {
        **spec,
        "data": _substitute(spec.get("data") or {}, begin),
        "steps": _substitute(spec["steps"], begin),
    }
    fixed = FixedClock(begin)
    with clock.using(fixed):
        paths, council = deployment(path, spec)
        if not deployed:
            engine.deploy(paths, "scenario", f"scenario {path.name}", council=council)
        child = spec.get("child") or {}
        dob = child.get("date_of_birth")
        case = engine.start_case(
            spec["process"],
            NewChild(str(child.get("name", "Test Child")), _as_date(dob) if dob else None),
            spec.get("data") or {},
            cast.user if cast else "scenario",
            council=council,
            team=cast.team if cast else None,
        )
        user = cast.user if cast else spec.get("user", "scenario")
        runner = _Runner(engine, case.id, fixed, report, user)
        runner.limit = demo_at
        runner.by_lane = dict(cast.by_lane) if cast else {}
        runner.demo_child = case.child.name if demo_at is not None else None
        steps = spec["steps"]
        if demo_at is not None:
            steps = steps[: int((spec.get("demo") or {}).get("stop_after", len(steps)))]
        for number, step in enumerate(steps, start=1):
            if demo_at is not None and "expect" in step:
                continue
            if deadline is not None and monotonic() > deadline:
                runner.record(number, "time limit", False, "not run: the time limit was reached")
                return
            runner.step(number, step)
        if demo_at is not None and fixed.now() < demo_at:
            runner._move(len(steps) + 1, "catch up to now", demo_at)


def _resolve(base: Path, item: str) -> Path:
    for candidate in (
        base / item,
        Path.cwd() / item,
        Path(__file__).resolve().parent.parent / item,
    ):
        if candidate.exists():
            return candidate
    raise ScenarioError(f'cannot find "{item}" to deploy')


class _Runner:
    def __init__(self, engine: Engine, case_id: int, fixed: FixedClock, report: Report, user: str):
        self.engine = engine
        self.case_id = case_id
        self.clock = fixed
        self.report = report
        self.user = user
        self.completed: dict[str, str] = {}
        self.limit: datetime | None = None
        self.by_lane: dict[str, str] = {}
        # A demo case: the forms' examples are rewritten for this child (engine/demodata.py).
        self.demo_child: str | None = None

    def record(
        self,
        step: int,
        label: str,
        ok: bool,
        detail: str = "",
        element: str = "",
        expected: str = "",
        got: str = "",
    ) -> None:
        self.report.outcomes.append(Outcome(step, label, ok, detail, element, expected, got))

    def step(self, number: int, step: dict[str, Any]) -> None:
        if not isinstance(step, dict) or not step:
            raise ScenarioError(
                f"step {number}: each step is a mapping such as 'complete: <task id>'"
            )
        actions: dict[str, Callable[[int, dict[str, Any]], None]] = {
            "complete": self.complete,
            "advance": self.advance,
            "advance_to": self.advance_to,
            "message": self.message,
            "expect": self.expect,
            "cancel": self.cancel,
        }
        kind = next((k for k in actions if k in step), None)
        if kind is None:
            raise ScenarioError(
                f"step {number}: unknown step {sorted(step)}; use one of {sorted(actions)}"
            )
        actions[kind](number, step)

    def _refusable(
        self,
        number: int,
        step: dict[str, Any],
        label: str,
        action: Callable[[], Any],
        element: str = "",
    ) -> None:
        refused = step.get("refused")
        if refused is not None and refused not in REFUSALS:
            raise ScenarioError(f"step {number}: refused must be one of {sorted(REFUSALS)}")
        try:
            action()
        except CinflowError as exc:
            if refused and isinstance(exc, REFUSALS[refused]):
                self.record(number, f"{label} is refused ({refused})", True, str(exc))
            else:
                self.record(
                    number, label, False, f"{type(exc).__name__}: {exc}", element,
                    "accepted" if not refused else f"refused ({refused})", f"refused: {exc}",
                )  # fmt: skip
            return
        if refused:
            self.record(
                number, f"{label} is refused ({refused})", False, "it was accepted", element,
                f"refused ({refused})", "accepted",
            )  # fmt: skip
        else:
            self.record(number, label, True, element=element)

    def complete(self, number: int, step: dict[str, Any]) -> None:
        element = step["complete"]
        user = step.get("as", self.user)
        tasks = [t for t in self.engine.tasks(case_id=self.case_id) if t.element_id == element]
        if not tasks and step.get("refused") and element in self.completed:
            task_id = self.completed[element]
            self._refusable(
                number,
                step,
                f"complete {element} again",
                lambda: self.engine.complete_task(task_id, step.get("data") or {}, user),
                element,
            )
            return
        if not tasks:
            ready = sorted(t.element_id for t in self.engine.tasks(case_id=self.case_id))
            self.record(
                number,
                f"complete {element}",
                False,
                f"not ready (ready: {ready or 'nothing'})",
                element,
                f"{element} ready",
                f"ready: {_plain(ready)}",
            )
            return
        data = dict(step.get("data") or {})
        if not step.get("exact") and tasks[0].form:
            example = _example(self.engine, tasks[0].form)
            if self.demo_child:
                example = personalise(
                    example, self.demo_child, self.clock.now().astimezone(LONDON).date()
                )
            data = {**example, **data}
        user = self.by_lane.get(tasks[0].lane or "", user)
        self._refusable(
            number,
            step,
            f"complete {element}",
            lambda: self.engine.complete_task(tasks[0].id, data, user, case_id=self.case_id),
            element,
        )
        if not step.get("refused"):
            self.completed[element] = tasks[0].id

    def advance(self, number: int, step: dict[str, Any]) -> None:
        text = str(step["advance"])
        try:
            duration = Duration.parse(text)
        except DurationError as exc:
            raise ScenarioError(f"step {number}: {exc}") from None
        now = self.clock.now()
        if duration.unit == "hours":
            target = now + timedelta(hours=duration.amount)
        else:
            local = now.astimezone(LONDON)
            calendar = self.engine.calendar(self.engine.get_case(self.case_id).council)
            day = local.date()
            if duration.unit == "working_days":
                day = calendar.add_working_days(day, duration.amount)
            else:
                end = due_date(_day_end(day, duration, calendar))
                day = end
            target = datetime.combine(day, local.time().replace(tzinfo=None), LONDON).astimezone(
                UTC
            )
        self._move(number, f"advance {text}", target)

    def advance_to(self, number: int, step: dict[str, Any]) -> None:
        target = _parse_instant(step["advance_to"])
        self._move(number, f"advance to {step['advance_to']}", target)

    def _move(self, number: int, label: str, target: datetime) -> None:
        if self.limit is not None:
            target = min(target, max(self.limit, self.clock.now()))
        if target < self.clock.now():
            raise ScenarioError(f"step {number}: time cannot go backwards")
        # Fire timers in due order, each at its own instant, as a real scheduler would.
        while True:
            pending = [t for t in self.engine.timers(case_id=self.case_id) if t.due_at <= target]
            if not pending:
                break
            self.clock.set(max(self.clock.now(), min(t.due_at for t in pending)))
            if not self.engine.fire_due_timers(case_id=self.case_id):
                break
        self.clock.set(target)
        self.engine.fire_due_timers(case_id=self.case_id)
        self.record(number, f"{label} (now {target.astimezone(LONDON):%d %B %Y %H:%M})", True)

    def message(self, number: int, step: dict[str, Any]) -> None:
        name = step["message"]
        self._refusable(
            number,
            step,
            f"message {name}",
            lambda: self.engine.send_message(
                self.case_id, name, step.get("payload") or {}, self.user
            ),
        )

    def cancel(self, number: int, step: dict[str, Any]) -> None:
        reason = str(step["cancel"])
        self._refusable(
            number,
            step,
            "cancel case",
            lambda: self.engine.cancel_case(self.case_id, reason, self.user),
        )

    def expect(self, number: int, step: dict[str, Any]) -> None:
        want = step["expect"]
        if not isinstance(want, dict):
            raise ScenarioError(
                f"step {number}: expect takes a mapping (tasks, due, timers, finished...)"
            )
        case = self.engine.get_case(self.case_id)
        ready = sorted(t.element_id for t in case.tasks)
        waiting = sorted(t.element_id for t in case.timers)
        for key, value in want.items():
            if key == "tasks":
                expected = sorted(value or [])
                self.record(
                    number, f"tasks ready {expected}", ready == expected, f"got {ready}",
                    _first_difference(expected, ready), f"ready: {_plain(expected)}",
                    f"ready: {_plain(ready)}",
                )  # fmt: skip
            elif key == "tasks_include":
                missing = sorted(set(value) - set(ready))
                self.record(
                    number, f"tasks include {sorted(value)}", not missing, f"ready {ready}",
                    missing[0] if missing else "", f"ready include: {_plain(sorted(value))}",
                    f"ready: {_plain(ready)}",
                )  # fmt: skip
            elif key == "timers":
                expected = sorted(value or [])
                self.record(
                    number, f"timers waiting {expected}", waiting == expected, f"got {waiting}",
                    _first_difference(expected, waiting), f"waiting: {_plain(expected)}",
                    f"waiting: {_plain(waiting)}",
                )  # fmt: skip
            elif key == "due":
                for element, day in value.items():
                    task = next((t for t in case.tasks if t.element_id == element), None)
                    timer = next((t for t in case.timers if t.element_id == element), None)
                    at = task.due_at if task else (timer.due_at if timer else None)
                    got = due_date(at).isoformat() if at else "no deadline"
                    want_day = _as_date(day).isoformat()
                    self.record(
                        number, f"{element} due {want_day}", got == want_day, f"got {got}",
                        element, f"due {uk_date(_as_date(day))}",
                        f"due {uk_date(due_date(at))}" if at else "no deadline",
                    )  # fmt: skip
            elif key == "rule":
                for element, rule in value.items():
                    task = next((t for t in case.tasks if t.element_id == element), None)
                    got = task.rule_id if task else "not ready"
                    self.record(
                        number, f"{element} rule {rule}", got == rule, f"got {got}", element,
                        f"rule {rule}", f"rule {got}" if task else "not ready",
                    )  # fmt: skip
            elif key == "finished":
                done = case.status in ("completed", "cancelled")
                self.record(
                    number, f"finished {bool(value)}", done == bool(value), f"status {case.status}",
                    "", "finished" if value else "still open", f"case {case.status}",
                )  # fmt: skip
            elif key == "status":
                self.record(
                    number, f"status {value}", case.status == value, f"got {case.status}", "",
                    f"case {value}", f"case {case.status}",
                )  # fmt: skip
            elif key == "fired":
                fired = sorted(
                    {
                        e.element_id
                        for e in self.engine.audit_trail(self.case_id)
                        if e.action.startswith("timer_fired") and e.element_id
                    }
                )
                missing = sorted(set(value) - set(fired))
                self.record(
                    number, f"timers fired {sorted(value)}", not missing, f"fired {fired}",
                    missing[0] if missing else "", f"fired: {_plain(sorted(value))}",
                    f"fired: {_plain(fired)}",
                )  # fmt: skip
            elif key == "lane":
                for element, lane in value.items():
                    task = next((t for t in case.tasks if t.element_id == element), None)
                    got = task.lane if task else "not ready"
                    self.record(
                        number, f"{element} in lane {lane}", got == lane, f"got {got}", element,
                        f"in lane {lane}", f"in lane {got}" if task else "not ready",
                    )  # fmt: skip
            else:
                raise ScenarioError(f"step {number}: unknown expectation '{key}'")


def _plain(ids: list[str]) -> str:
    return ", ".join(ids) if ids else "nothing"


def _first_difference(expected: list[str], got: list[str]) -> str:
    """The element to show on the diagram for a list that differs: one expected but missing,
    else one there but not expected."""
    missing = [e for e in expected if e not in got] or [g for g in got if g not in expected]
    return missing[0] if missing else ""


def _example(engine: Engine, form: str) -> dict[str, Any]:
    """A form's filled example (forms/examples/<form>.valid.json), the base of a step's answers."""
    path = engine.forms_dir / "examples" / form.replace(".json", ".valid.json")
    if not path.is_file():
        return {}
    return dict(yaml_files.read(path) or {})


def _day_end(day: date, duration: Duration, calendar: Any) -> datetime:
    from engine.calendar import add_duration

    start = datetime.combine(day, time(12), LONDON)
    return add_duration(start, duration, calendar)
