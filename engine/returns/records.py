"""What happened to each case, read once from the store for the returns and oversight.

The audit trail is the record: `case_started` (the referral or transfer data the case opened
with), `task_completed` (each step's answers, who and when), `message_received` (events from
outside, such as a ceasing event with its details) and `timer_fired:deadline` (a missed
deadline). Reading it needs SQLAlchemy only: no workflow is loaded. Training cases are never
read here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from xml.etree import ElementTree as ET

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, sessionmaker

from engine.calendar import LONDON
from engine.collector import collector_paused
from engine.store.db import read_transaction
from engine.store.models import AuditEvent, Case, Child, ProcessVersion, TaskRow

ACTIONS = ("case_started", "task_completed", "message_received", "timer_fired:deadline")


@dataclass(frozen=True)
class Event:
    """One thing recorded on a case: a step completed, a message, a deadline passing."""

    at: datetime
    action: str
    actor: str
    element_id: str | None
    task_id: str | None
    name: str
    form: str | None
    data: Mapping[str, Any]
    rule: str | None = None
    attached_to: str | None = None
    day: date = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "day", self.at.astimezone(LONDON).date())


@dataclass
class CaseRecord:
    case_id: int
    child_id: int
    child_name: str
    date_of_birth: date | None
    council: str
    team: str | None
    status: str
    opened_at: datetime
    closed_at: datetime | None
    process_id: str
    process_version_id: int
    start: dict[str, Any] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)

    @property
    def steps(self) -> list[Event]:
        return [e for e in self.events if e.action == "task_completed"]

    @property
    def missed(self) -> list[Event]:
        return [e for e in self.events if e.action == "timer_fired:deadline"]

    def worker(self) -> str | None:
        """The allocated worker: whoever last completed a step on the case (not a timer)."""
        for event in reversed(self.steps):
            if event.actor and event.actor != "scheduler":
                return event.actor
        return None


def _cases_query(
    council: str | None, case_ids: Iterable[int] | None, teams: Iterable[str] | None = None
) -> Select[Any]:
    query = (
        select(
            Case.id,
            Case.child_id,
            Child.name,
            Child.date_of_birth,
            Case.council_key,
            Case.team_key,
            Case.status,
            Case.opened_at,
            Case.closed_at,
            ProcessVersion.process_id,
            Case.process_version_id,
        )
        .join(Child, Child.id == Case.child_id)
        .join(ProcessVersion, ProcessVersion.id == Case.process_version_id)
        .where(Case.training.is_(False))
        .order_by(Case.id)
    )
    if council is not None:
        query = query.where(Case.council_key == council)
    if case_ids is not None:
        query = query.where(Case.id.in_(list(case_ids)))
    if teams is not None:
        query = query.where(Case.team_key.in_(list(teams)))
    return query


def read_cases(
    sessions: sessionmaker[Session] | Session,
    council: str | None = None,
    case_ids: Iterable[int] | None = None,
    teams: Iterable[str] | None = None,
) -> list[CaseRecord]:
    """Every real (not training) case of a council (or of some of its teams) with its events,
    read in a new session (`sessions` a factory) or the caller's (`sessions` a Session).

    Two queries whatever the number of cases: the cases, then their events in id order, with
    the cyclic garbage collector paused (`engine.collector`).
    """
    with collector_paused:
        return _read_cases(sessions, council, case_ids, teams)


def _read_cases(
    sessions: sessionmaker[Session] | Session,
    council: str | None,
    case_ids: Iterable[int] | None,
    teams: Iterable[str] | None,
) -> list[CaseRecord]:
    # in the caller's open session (the task page reads in one transaction), or a new one
    given = isinstance(sessions, Session)
    with nullcontext(sessions) if given else read_transaction(sessions) as s:
        records = {
            row[0]: CaseRecord(*row) for row in s.execute(_cases_query(council, case_ids, teams))
        }
        if not records:
            return []
        wanted = _cases_query(council, case_ids, teams).with_only_columns(Case.id).scalar_subquery()
        events = s.execute(
            select(
                AuditEvent.case_id,
                AuditEvent.at,
                AuditEvent.action,
                AuditEvent.actor,
                AuditEvent.element_id,
                AuditEvent.task_id,
                AuditEvent.detail,
            )
            .where(AuditEvent.action.in_(ACTIONS), AuditEvent.case_id.in_(wanted))
            .order_by(AuditEvent.id)
            .execution_options(yield_per=5000)
        )
        for case_id, at, action, actor, element, task, detail in events:
            record = records.get(case_id)
            if record is not None:
                _add(record, at, action, actor, element, task, detail or {})
    return list(records.values())


def _add(
    record: CaseRecord,
    at: datetime,
    action: str,
    actor: str,
    element: str | None,
    task: str | None,
    detail: Mapping[str, Any],
) -> None:
    if action == "case_started":
        record.start = dict(detail.get("data") or {})
        return
    if action == "message_received":
        data = detail.get("payload") or {}
        name = str(detail.get("message", ""))
    else:
        data = detail.get("data") or {}
        name = str(detail.get("name", ""))
    record.events.append(
        Event(
            at,
            action,
            actor,
            element,
            task,
            name,
            detail.get("form"),
            data if isinstance(data, Mapping) else {},
            detail.get("rule"),
            detail.get("attached_to"),
        )
    )


def by_child(records: Iterable[CaseRecord]) -> Iterator[tuple[int, list[CaseRecord]]]:
    """Cases grouped per child (a child may have had more than one episode)."""
    groups: dict[int, list[CaseRecord]] = {}
    for record in records:
        groups.setdefault(record.child_id, []).append(record)
    yield from groups.items()


@dataclass(frozen=True)
class OpenTask:
    case_id: int
    element_id: str
    name: str
    due_at: datetime | None
    claimed_by: str | None
    team: str | None
    process_version_id: int


def read_open_tasks(
    sessions: sessionmaker[Session], council: str, teams: Iterable[str] | None = None
) -> list[OpenTask]:
    """The steps waiting now on a council's real cases (training cases' are left out)."""
    with read_transaction(sessions) as s:
        rows = s.execute(
            select(
                TaskRow.case_id,
                TaskRow.element_id,
                TaskRow.name,
                TaskRow.due_at,
                TaskRow.claimed_by,
                Case.team_key,
                Case.process_version_id,
            )
            .join(Case, Case.id == TaskRow.case_id)
            .where(
                Case.council_key == council,
                Case.training.is_(False),
                TaskRow.training.is_(False),
                Case.team_key.in_(list(teams)) if teams is not None else True,
            )
        )
        return [OpenTask(*row) for row in rows]


BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
SPIFF = "{http://spiffworkflow.org/bpmn/schema/1.0/core}"


@dataclass(frozen=True)
class VersionSteps:
    """What a process version's diagrams say about their steps: names, rules, deadlines."""

    version_id: int
    process_id: str
    version: int
    xml: str
    names: dict[str, str]
    rules: dict[str, str]  # user task -> its main rule id
    deadlines: set[str]  # user tasks with a deadline timer


def read_versions(
    sessions: sessionmaker[Session], version_ids: Iterable[int]
) -> dict[int, VersionSteps]:
    """Parse each version's XML (and its call targets') once, with ElementTree only."""
    wanted = sorted(set(version_ids))
    if not wanted:
        return {}
    with read_transaction(sessions) as s:
        rows = s.execute(
            select(
                ProcessVersion.id,
                ProcessVersion.process_id,
                ProcessVersion.version,
                ProcessVersion.xml,
                ProcessVersion.dependency_xml,
            ).where(ProcessVersion.id.in_(wanted))
        ).all()
    out: dict[int, VersionSteps] = {}
    for vid, process_id, version, xml, deps in rows:
        steps = VersionSteps(vid, process_id, version, xml, {}, {}, set())
        for text in [xml, *(deps or {}).values()]:
            _read_steps(text, steps)
        out[vid] = steps
    return out


def _read_steps(text: str, steps: VersionSteps) -> None:
    try:
        root = ET.fromstring(text.encode("utf-8") if isinstance(text, str) else text)
    except ET.ParseError:
        return
    for task in root.iter(f"{BPMN}userTask"):
        element = task.get("id", "")
        steps.names[element] = task.get("name") or element
        for prop in task.iter(f"{SPIFF}property"):
            if prop.get("name") == "rule" and prop.get("value"):
                steps.rules[element] = prop.get("value", "")
    for event in root.iter(f"{BPMN}boundaryEvent"):
        kinds = {p.get("value") for p in event.iter(f"{SPIFF}property") if p.get("name") == "timer"}
        if "deadline" in kinds and event.get("attachedToRef"):
            steps.deadlines.add(event.get("attachedToRef", ""))
