"""Loading and saving a case: its row, its SpiffWorkflow state and its projection, together.

Every service that reads or changes a case goes through `CaseStore`: it finds the case (locked
when changing it), loads the workflow on the version the case runs on, and gathers the new
state, revision and projection into a `Writes` for one set-based flush.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine import clock, holders, payloads
from engine.calendar import due_date
from engine.errors import CaseClosed, CinflowError, UnknownCase, UnknownTask
from engine.functions import to_datetime
from engine.runtime import SERIALIZER_VERSION, Runtime
from engine.runtime_states import ElementStates
from engine.store.audit import jsonable
from engine.store.models import AuditEvent, Case, ProcessVersion, TaskRow, TimerRow
from engine.store.projection import (
    CASE_BY_ID,
    LOCK_CASE_BY_ID,
    CaseRecord,
    Person,
    Projection,
    TaskRecord,
    Writes,
    case_query,
    case_record,
    lock_case_of_task,
    project,
    read_projection,
)
from engine.timescales import CouncilProfile
from engine.views import CaseInfo, ChildInfo, CompletedStep, ProcessInfo, TaskInfo, TimerInfo
from engine.wording import rolled_back_reason


@dataclass(frozen=True)
class VersionRef:
    process_id: str
    version: int
    spec_key: str


@dataclass(frozen=True)
class Saved:
    """What a save changed: the projection after it, and the task ids open before."""

    projection: Projection
    previous_task_ids: set[str]


@dataclass(frozen=True)
class Reading:
    """What the read-only pages take from a case's state; shared, so never changed by callers."""

    data: Any  # the case's data, JSON-ready
    marks: ElementStates  # done, current and held elements, per diagram
    next_steps: list[tuple[str, str]]


READINGS_KEPT = 64  # cases whose latest reading an engine keeps


class CaseStore:
    """Case rows in and out; built once per engine (it caches process version identities)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        runtime: Runtime,
        profile: Callable[[str], CouncilProfile],
        functions: Callable[[str], dict[str, Any]],
    ) -> None:
        self.sessions = sessions
        self.runtime = runtime
        self.profile = profile
        self.functions = functions
        self._versions: dict[int, VersionRef] = {}
        self._readings: OrderedDict[tuple[int, int, int], Reading] = OrderedDict()

    def case(self, s: Session, case_id: int, lock: bool = False) -> CaseRecord:
        """The case row; locked for this transaction when changing it (PostgreSQL row lock).
        Anything but a case id is refused before it reaches the database (BadCaseId)."""
        case_id = payloads.case_id(case_id)
        query = LOCK_CASE_BY_ID if lock else CASE_BY_ID
        row = s.connection().execute(query, {"case_id": case_id}).first()
        if row is None:
            raise UnknownCase(f"no case {case_id}")
        return case_record(row)

    def open_case(self, s: Session, case_id: int) -> CaseRecord:
        case = self.case(s, case_id, lock=True)
        if case.status != "open":
            raise CaseClosed(f"case {case_id} is {case.status}")
        return case

    def lock_case_of_task(
        self, s: Session, task_id: str, username: str
    ) -> tuple[CaseRecord, Projection, Person]:
        """The case an open task belongs to, locked, with its projection and the role of
        `username` (`lanes.person_key`); a task not open says why (`task_row`)."""
        task_id = payloads.task_id(task_id)
        found = lock_case_of_task(s, task_id, username)
        if found is None:
            self.task_row(s, task_id)
            raise UnknownTask(f"no open task {task_id}")
        return found

    def task_row(self, s: Session, task_id: str, teams: Iterable[str] | None = None) -> TaskRow:
        """An open task; a completed one says who completed it, but only to the case's team.
        Anything but a task id is refused before it reaches the database (BadTaskId)."""
        task_id = payloads.task_id(task_id)
        row = s.get(TaskRow, task_id)
        if row is not None:
            if teams is not None and row.team_key not in set(teams):
                raise UnknownTask(f"no open task {task_id}")
            return row
        raise holders.gone(s, task_id, None if teams is None else frozenset(teams))

    @staticmethod
    def claim_due_cases(
        s: Session, now: datetime, case_id: int | None, batch: int
    ) -> list[CaseRecord]:
        """Up to `batch` open cases with a timer due, soonest first, locked for this transaction.

        Driven from the timer index; the row lock skips cases another worker holds before the
        LIMIT counts, so concurrent workers take disjoint batches (PostgreSQL; SQLite has one
        writer at a time and ignores the lock clause).
        """
        query = (
            case_query()
            .join(TimerRow, TimerRow.case_id == Case.id)
            .where(TimerRow.due_at <= now, Case.status == "open", Case.attention.is_(None))
            .order_by(TimerRow.due_at, Case.id)
            .limit(batch)
            .with_for_update(of=Case.__table__, skip_locked=True)
        )
        if case_id is not None:
            query = query.where(Case.id == case_id)
        else:  # training cases fire only on their own clock (engine.services.training)
            query = query.where(Case.training.is_(False))
        cases: dict[int, CaseRecord] = {}
        for row in s.execute(query):
            cases.setdefault(row.id, case_record(row))
        return list(cases.values())

    def version(self, s: Session, version_id: int) -> VersionRef:
        """A process version's identity, cached per engine (versions never change once stored)."""
        ref = self._versions.get(version_id)
        if ref is None:
            row = s.execute(
                select(
                    ProcessVersion.process_id, ProcessVersion.version, ProcessVersion.sha256
                ).where(ProcessVersion.id == version_id)
            ).one()
            ref = self._versions[version_id] = VersionRef(
                row.process_id, row.version, f"{row.process_id}:{row.sha256}"
            )
        return ref

    def specs(self, s: Session, version_id: int) -> tuple[Any, dict[str, Any]]:
        """The parsed specs of a version (from the runtime's cache; JSON read only on a miss)."""
        ref = self.version(s, version_id)
        cached = self.runtime.cached_spec(ref.spec_key)
        if cached is not None:
            return cached
        query = select(ProcessVersion.spec_json).where(ProcessVersion.id == version_id)
        spec_json = s.scalar(query)
        return self.runtime.spec_from_json(ref.spec_key, spec_json or "")

    def load(self, s: Session, case: CaseRecord) -> Any:
        spec, subs = self.specs(s, case.process_version_id)
        return self.runtime.load_state(
            case.state_json, spec, subs, self.functions(case.council_key)
        )

    def reading(self, s: Session, case: CaseRecord) -> Reading:
        """The case's data, diagram marks and next steps, worked out once per revision.

        A case page shows the data and the diagram, and each restored the whole state before
        (the costliest part of a read, growing with the case's age). Every change of state
        goes through `save`, which moves the revision on, so a kept reading is never stale.
        """
        key = (case.id, case.revision, case.process_version_id)
        found = self._readings.get(key)
        if found is not None:
            self._readings.move_to_end(key)
            return found
        workflow = self.load(s, case)
        runtime = self.runtime
        found = Reading(
            jsonable(runtime.case_data(workflow)),
            runtime.element_states(workflow),
            runtime.next_steps(workflow),
        )
        self._readings[key] = found
        if len(self._readings) > READINGS_KEPT:
            self._readings.popitem(last=False)
        return found

    def save(
        self,
        s: Session,
        case: CaseRecord,
        workflow: Any,
        actor: str,
        writes: Writes,
        before: Projection | None = None,
        now: datetime | None = None,
    ) -> Saved:
        """Gather the case's new state, revision and projection into `writes`.

        `before` is the projection as read when the case was locked (read here if not given).
        Nothing is sent until `writes.flush`, whose UPDATE checks the revision (optimistic
        locking): a case changed meanwhile by someone else is a Conflict and rolls back.
        """
        now = now or clock.now()
        profile = self.profile(case.council_key)
        snapshot = self.runtime.snapshot(
            workflow, profile.rule_for_key, profile.escalation_deadline
        )
        snapshot = replace(
            snapshot,
            user_tasks=[
                replace(t, rule_id=profile.own_rules(t.rule_id)) for t in snapshot.user_tasks
            ],
            timers=[replace(t, rule_id=profile.own_rules(t.rule_id)) for t in snapshot.timers],
        )
        old_revision = case.revision
        case.state_json = self.runtime.dump_state(workflow)
        case.serializer_version = SERIALIZER_VERSION
        case.revision += 1
        if snapshot.completed and case.status == "open":
            case.status, case.closed_at = "completed", now
            writes.audit(now, actor, "case_completed", case.id)
        writes.save_case(case, old_revision)
        if before is None:
            before = read_projection(s, [case.id])[case.id]
        previous = set(before.tasks)
        after = project(case, before, snapshot, now, writes)
        if profile.rolls_back:
            self._audit_rolled_back(case, workflow, before, after, profile, writes, now)
        return Saved(after, previous)

    def _audit_rolled_back(
        self,
        case: CaseRecord,
        workflow: Any,
        before: Projection,
        after: Projection,
        profile: CouncilProfile,
        writes: Writes,
        now: datetime,
    ) -> None:
        """Each new deadline the council's `roll_back` moved off a day that is not a working
        day, audited with the day the rule gave and why it moved."""
        as_written = self.functions(case.council_key, as_written=True)
        for timer in after.timers.values():
            if timer.id in before.timers or timer.kind == "reminder" or not timer.expression:
                continue
            try:
                value = self.runtime.evaluate_timer(
                    workflow, timer.id, timer.expression, as_written, now
                )
                nominal = to_datetime(value) if value is not None else None
            except (ValueError, CinflowError):
                continue  # the timer itself evaluated: nothing moved that can be told
            if nominal is None or nominal == timer.due_at:
                continue
            day = due_date(nominal)
            writes.audit(
                now,
                "system",
                "deadline_rolled_back",
                case.id,
                timer.id,
                timer.attached_to or timer.element_id,
                detail={
                    "from": nominal.isoformat(),
                    "to": timer.due_at.isoformat(),
                    "rule": timer.rule_id,
                    "reason": rolled_back_reason(day, profile.name),
                },
            )

    def case_info(
        self, s: Session, case: CaseRecord, projection: Projection | None = None
    ) -> CaseInfo:
        ref = self.version(s, case.process_version_id)
        if projection is None:
            projection = read_projection(s, [case.id])[case.id]
        tasks = [
            task_info(t, case.child_name)
            for t in sorted(projection.tasks.values(), key=_task_order)
        ]
        timers = [timer_info(t) for t in sorted(projection.timers.values(), key=lambda t: t.due_at)]
        return CaseInfo(
            id=case.id,
            child=ChildInfo(
                case.child_id, case.child_name, case.child_date_of_birth, case.council_key
            ),
            council=case.council_key,
            process_id=ref.process_id,
            version=ref.version,
            status=case.status,
            revision=case.revision,
            opened_at=case.opened_at,
            closed_at=case.closed_at,
            training=case.training,
            attention=case.attention,
            team=case.team_key,
            tasks=tasks,
            timers=timers,
        )


def completed_step(
    s: Session, task_id: str, teams: Iterable[str] | None = None, case_id: int | None = None
) -> CompletedStep | None:
    """Who completed a step and when, if it was completed in a case of `teams` (any team when
    None). One query; with `case_id` it is found by the audit's case index."""
    query = (
        select(AuditEvent, Case.team_key)
        .join(Case, Case.id == AuditEvent.case_id)
        .where(AuditEvent.task_id == task_id, AuditEvent.action == "task_completed")
        .order_by(AuditEvent.id)
        .limit(1)
    )
    if case_id is not None:
        query = query.where(AuditEvent.case_id == case_id)
    found = s.execute(query).first()
    if found is None:
        return None
    event, team = found
    if teams is not None and team not in set(teams):
        return None
    return _completed(event)


STEP_EVENTS = ("task_completed", "training_stepped_back")


def completed_steps(s: Session, case_id: int) -> list[CompletedStep]:
    """Every step people completed in a case, in order, with who and when: read from the
    audit, so a step stays listed for the life of the case (pruning drops a finished call's
    tasks from the state). A training case's steps after the point it went back to are left
    out (the audit is append-only: they are skipped here, not deleted)."""
    done: list[tuple[int, CompletedStep]] = []
    events = s.scalars(
        select(AuditEvent)
        .where(AuditEvent.case_id == case_id, AuditEvent.action.in_(STEP_EVENTS))
        .order_by(AuditEvent.id)
    )
    for e in events:
        detail = e.detail or {}
        if e.action == "training_stepped_back":
            upto = detail.get("audit_upto")
            if isinstance(upto, int):
                done = [(i, step) for i, step in done if i <= upto]
            else:  # gone back before the boundary was recorded: by the case's clock
                done = [(i, step) for i, step in done if step.at <= e.at]
            continue
        done.append((e.id, _completed(e)))
    return [step for _, step in done]


def _completed(event: AuditEvent) -> CompletedStep:
    """A `task_completed` event as who completed which step, when, and in which drawing."""
    detail = event.detail or {}
    return CompletedStep(
        event.task_id or "",
        event.case_id or 0,
        str(detail.get("name") or event.element_id or event.task_id or ""),
        event.actor,
        event.at,
        event.element_id or "",
        str(detail.get("view") or ""),
    )


def _task_order(row: TaskRow | TaskRecord) -> tuple[bool, Any, Any, str]:
    return (row.due_at is None, row.due_at or row.created_at, row.created_at, row.id)


def spec_key(version: ProcessVersion) -> str:
    return f"{version.process_id}:{version.sha256}"


def process_info(row: ProcessVersion) -> ProcessInfo:
    return ProcessInfo(
        row.id,
        row.council_key,
        row.process_id,
        row.name,
        row.version,
        row.sha256,
        row.deployed_at,
        row.deployed_by,
        row.comment,
        row.file_name,
        row.status,
    )


def task_info(row: TaskRow | TaskRecord, child_name: str = "", documentation: str = "") -> TaskInfo:
    return TaskInfo(
        row.id,
        row.case_id,
        row.element_id,
        row.name,
        row.lane,
        row.form,
        row.due_at,
        row.rule_id,
        row.created_at,
        row.claimed_by,
        child_name,
        row.council_key,
        documentation,
        row.team_key,
        row.escalates,
        row.missed_at,
        getattr(row, "original_due_at", None),
    )


def timer_info(row: Any) -> TimerInfo:
    return TimerInfo(
        row.id,
        row.case_id,
        row.element_id,
        row.name,
        row.kind,
        row.attached_to,
        row.due_at,
        row.rule_id,
    )
