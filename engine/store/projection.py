"""What saving a case writes, gathered as plain rows and sent in a few set-based statements.

Completing a step or firing a case's timers changes the case row (state, revision), the task
and timer projection, the audit log and sometimes the inbox. Through the ORM that is a statement
per row plus re-reads of what was just written, which cost more than the SpiffWorkflow step
itself. Here the case and its projection rows are read once, when the case is locked; the new
projection is diffed against them in Python (`project`); and a `Writes` gathers the rows of one
transaction (one case, or a whole batch of a timer sweep) and sends at most one statement per
table and kind (`Writes.flush`).

Over 500 lines on purpose: the reads, the diff and the statements that write them (with the
completion's holder check) must agree column for column, so they stay side by side.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    JSON,
    Integer,
    Select,
    String,
    any_,
    bindparam,
    cast,
    delete,
    func,
    insert,
    literal_column,
    null,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from engine.errors import Conflict
from engine.lanes import PERSON_BY_NAME
from engine.runtime import Snapshot
from engine.store.audit import audit_row
from engine.store.models import (
    AuditEvent,
    Case,
    Child,
    Notification,
    TaskRow,
    TimerRow,
    User,
)


@dataclass
class CaseRecord:
    """The columns of a case that running and saving it need (the state, not the spec)."""

    id: int
    child_id: int
    child_name: str
    child_date_of_birth: date | None
    process_version_id: int
    council_key: str
    team_key: str | None
    training: bool
    status: str
    revision: int
    serializer_version: str
    state_json: str
    opened_at: datetime
    closed_at: datetime | None
    close_reason: str | None
    attention: str | None
    allocated_to: str | None = None


# Steps in these lanes go straight to the case's allocated worker (services/casework.py).
ALLOCATED_LANES = frozenset({"Social worker"})


@dataclass
class TaskRecord:
    """One open user task, as stored in the `task` projection table."""

    id: str
    case_id: int
    council_key: str
    element_id: str
    name: str
    lane: str | None
    form: str | None
    due_at: datetime | None
    rule_id: str | None
    created_at: datetime
    claimed_by: str | None
    training: bool
    team_key: str | None
    # Written when the row is made, never diffed: read_projection leaves them None.
    escalates: str | None = None
    missed_at: datetime | None = None


@dataclass
class TimerRecord:
    """One waiting timer, as stored in the `timer` projection table."""

    id: str
    case_id: int
    element_id: str
    name: str
    attached_to: str | None
    kind: str
    due_at: datetime
    rule_id: str | None
    training: bool
    expression: str
    started_at: datetime | None
    council_key: str


_CASE_FIELDS = [f.name for f in fields(CaseRecord)]
_TASK_FIELDS = [f.name for f in fields(TaskRecord)]
_TIMER_FIELDS = [f.name for f in fields(TimerRecord)]


def _case_select() -> Select[Any]:
    case, child = Case.__table__, Child.__table__
    named = {
        "child_name": child.c.name.label("child_name"),
        "child_date_of_birth": child.c.date_of_birth.label("child_date_of_birth"),
    }
    columns = [named.get(name, case.c.get(name)) for name in _CASE_FIELDS]
    return select(*columns).join(child, child.c.id == case.c.child_id)


_CASE_SELECT = _case_select()
_OF_TASK = select(TaskRow.__table__.c.case_id).where(TaskRow.__table__.c.id == bindparam("task_id"))
# Built once: SQLAlchemy then finds the compiled form without re-deriving a cache key shape.
CASE_BY_ID = _CASE_SELECT.where(Case.__table__.c.id == bindparam("case_id"))
LOCK_CASE_BY_ID = CASE_BY_ID.with_for_update(of=Case.__table__)
LOCK_CASE_OF_TASK = _CASE_SELECT.where(
    Case.__table__.c.id == _OF_TASK.scalar_subquery()
).with_for_update(of=Case.__table__)


def _person(column: Any) -> Any:
    user = User.__table__
    return select(column).where(user.c.username == bindparam("username")).scalar_subquery()


# A completion also needs the completer's role (lanes are roles): it rides on the lock
# statement (`person_role`, `person_active`; NULL for someone who is not a registered person)
# instead of costing a statement, and on PostgreSQL a round trip, of its own.
_LOCK_CASE_OF_TASK_FOR = LOCK_CASE_OF_TASK.add_columns(
    _person(User.__table__.c.role).label("person_role"),
    _person(User.__table__.c.active).label("person_active"),
)


def case_query() -> Select[Any]:
    """SELECT the columns of `CaseRecord` (the child's name and birth date joined in)."""
    return _CASE_SELECT


def case_record(row: Any) -> CaseRecord:
    mapping = row._mapping
    return CaseRecord(**{name: mapping[name] for name in _CASE_FIELDS})


def _with_projection(query: Select[Any]) -> Select[Any]:
    """PostgreSQL: the case's task and timer rows ride along as JSON, with the case revision
    as of the statement's snapshot (`revision_then`).

    If the statement waited for the case lock, PostgreSQL returns the case row as committed by
    the holder but the rows of subqueries as they were before the wait: then `revision_then`
    differs from `revision` and the rows must be read again (`lock_case_of_task`).
    """
    case, task, timer = Case.__table__, TaskRow.__table__, TimerRow.__table__
    then = case.alias("case_then")
    return query.add_columns(
        select(then.c.revision)
        .where(then.c.id == case.c.id)
        .scalar_subquery()
        .label("revision_then"),
        select(func.json_agg(literal_column("task")))
        .where(task.c.case_id == case.c.id)
        .scalar_subquery()
        .label("tasks_json"),
        select(func.json_agg(literal_column("timer")))
        .where(timer.c.case_id == case.c.id)
        .scalar_subquery()
        .label("timers_json"),
    )


def _with_projection_sqlite(query: Select[Any]) -> Select[Any]:
    """SQLite: the case's task and timer rows ride along as JSON arrays of objects (one
    statement instead of two; SQLite has one writer, so what it reads cannot change under it)."""

    def rows_of(table: Any, names: list[str]) -> Any:
        pairs = [x for name in names for x in (literal_column(f"'{name}'"), table.c[name])]
        return (
            select(func.json_group_array(func.json_object(*pairs)))
            .where(table.c.case_id == Case.__table__.c.id)
            .scalar_subquery()
        )

    return query.add_columns(
        rows_of(TaskRow.__table__, _TASK_FIELDS).label("tasks_json"),
        rows_of(TimerRow.__table__, _TIMER_FIELDS).label("timers_json"),
    )


_LOCK_CASE_OF_TASK_WITH_ROWS = _with_projection(_LOCK_CASE_OF_TASK_FOR)
_LOCK_CASE_OF_TASK_WITH_ROWS_SQLITE = _with_projection_sqlite(_LOCK_CASE_OF_TASK_FOR)
# (role, active) of the person acting, as read with the lock; None if not a registered person
Person = tuple[str, bool] | None


def lock_case_of_task(
    s: Session, task_id: str, username: str
) -> tuple[CaseRecord, Projection, Person] | None:
    """The case an open task belongs to, locked for this transaction, its projection rows,
    and the role of `username` (as `user_account` spells it: `lanes.person_key`).

    One statement, the rows coming along as JSON. PostgreSQL: three round trips if the
    statement had to wait for the lock (the rows are read again).
    """
    conn = s.connection()
    params = {"task_id": task_id, "username": username}
    postgres = conn.dialect.name == "postgresql"
    query = _LOCK_CASE_OF_TASK_WITH_ROWS if postgres else _LOCK_CASE_OF_TASK_WITH_ROWS_SQLITE
    row = conn.execute(query, params).first()
    if row is None:
        return None
    case = case_record(row)
    if postgres and row.revision_then != row.revision:
        # the person again: a statement that waited saw the rows as they were before the wait
        person = conn.execute(PERSON_BY_NAME, {"username": username}).first()
        return case, read_projection(s, [case.id])[case.id], person and (person[0], person[1])
    projection = Projection()
    tasks, timers = row.tasks_json, row.timers_json
    if not postgres:  # SQLite hands JSON back as text
        tasks, timers = json.loads(tasks), json.loads(timers)
    for item in tasks or ():
        task = TaskRecord(**_from_json(item, _TASK_FIELDS, ("due_at", "created_at", "missed_at")))
        projection.tasks[task.id] = task
    for item in timers or ():
        timer = TimerRecord(**_from_json(item, _TIMER_FIELDS, ("due_at", "started_at")))
        projection.timers[timer.id] = timer
    return case, projection, _person_of(row)


def _person_of(row: Any) -> Person:
    return None if row.person_role is None else (row.person_role, row.person_active)


def _from_json(item: Mapping[str, Any], names: list[str], instants: tuple[str, ...]) -> dict:
    """A projection row from its JSON: instants as UTC datetimes (PostgreSQL gives them with
    their offset, SQLite as it stores them, in UTC without one), `training` a bool (SQLite: 0/1),
    as `UTCDateTime` and `Boolean` read them."""
    out = {name: item[name] for name in names}
    out["training"] = bool(out["training"])
    for name in instants:
        if out[name] is not None:
            moment = datetime.fromisoformat(out[name])
            out[name] = (
                moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
            )
    return out


@dataclass
class Projection:
    """A case's open tasks and waiting timers, by id."""

    tasks: dict[str, TaskRecord] = field(default_factory=dict)
    timers: dict[str, TimerRecord] = field(default_factory=dict)


def read_projection(s: Session, case_ids: Iterable[int]) -> dict[int, Projection]:
    """The projection rows of some cases: one query (task and timer rows together) per 500."""
    ids = list(case_ids)
    out = {case_id: Projection() for case_id in ids}
    conn = s.connection()
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        if len(chunk) == 1:
            rows = conn.execute(_PROJECTION_OF_ONE, {"case_id": chunk[0]})
        else:
            rows = conn.execute(_PROJECTION_OF_MANY, {"case_ids": chunk})
        for row in rows:
            shared = {name: row[n] for n, name in enumerate(_SHARED, start=1)}
            own = row[len(_SHARED) + 1 :]
            if row.row_kind == "task":
                task = TaskRecord(**shared, **dict(zip(_TASK_OWN, own, strict=True)))
                out[task.case_id].tasks[task.id] = task
            else:
                mine = {name: v for name, v in zip(_TIMER_OWN, own, strict=True) if name}
                timer = TimerRecord(**shared, **mine)
                out[timer.case_id].timers[timer.id] = timer
    return out


# Task and timer rows come back in one UNION ALL: a kind, the columns both tables have, then
# five of each table's own (a timer has one fewer: NULL pads it).
_SHARED = ("id", "case_id", "council_key", "element_id", "name", "due_at", "rule_id", "training")
_TASK_OWN = ("lane", "form", "claimed_by", "team_key", "created_at")
_TIMER_OWN = ("attached_to", "kind", "expression", None, "started_at")


def _projection_select(case_filter: Callable[[Any], Any]) -> Any:
    task, timer = TaskRow.__table__, TimerRow.__table__
    tasks = select(
        literal_column("'task'").label("row_kind"),
        *(task.c[name] for name in _SHARED),
        *(task.c[name].label(f"own_{n}") for n, name in enumerate(_TASK_OWN)),
    ).where(case_filter(task.c.case_id))
    timers = select(
        literal_column("'timer'"),
        *(timer.c[name] for name in _SHARED),
        *(timer.c[name] if name else null() for name in _TIMER_OWN),
    ).where(case_filter(timer.c.case_id))
    return union_all(tasks, timers)


_PROJECTION_OF_ONE = _projection_select(lambda column: column == bindparam("case_id"))
_PROJECTION_OF_MANY = _projection_select(
    lambda column: column.in_(bindparam("case_ids", expanding=True))
)
_CHUNK = 500  # case ids per IN list (SQLite caps bound parameters)


@dataclass
class Writes:
    """The rows one transaction changes, sent set-based by `flush` (then emptied)."""

    cases: list[dict[str, Any]] = field(default_factory=list)
    new_tasks: list[dict[str, Any]] = field(default_factory=list)
    gone_tasks: list[str] = field(default_factory=list)
    moved_tasks: list[dict[str, Any]] = field(default_factory=list)
    new_timers: list[dict[str, Any]] = field(default_factory=list)
    gone_timers: list[str] = field(default_factory=list)
    moved_timers: list[dict[str, Any]] = field(default_factory=list)
    audits: list[dict[str, Any]] = field(default_factory=list)
    notifications: list[dict[str, Any]] = field(default_factory=list)
    # A completion's claim check, made in the case UPDATE itself: {"g_task", "g_holder"}
    holder: dict[str, Any] = field(default_factory=dict)

    def save_case(self, case: CaseRecord, old_revision: int) -> None:
        """The case's new state; `old_revision` is checked (optimistic locking) by `flush`."""
        self.cases.append(
            {
                "b_id": case.id,
                "b_old": old_revision,
                "revision": case.revision,
                "state_json": case.state_json,
                "serializer_version": case.serializer_version,
                "status": case.status,
                "closed_at": case.closed_at,
                "close_reason": case.close_reason,
            }
        )

    def check_holder(self, task_id: str, holder: str | None) -> None:
        """Write nothing unless `task_id` is still held by `holder` (None: by nobody).

        The completion read the task's holder under the case lock, but on PostgreSQL a lock
        statement that waited sees rows as they were before the wait, and a claim takes the
        case lock too: the UPDATE that saves the case checks again with a fresh snapshot, so a
        claim or hand-over committed first makes the save a Conflict (the caller says why).
        """
        self.holder = {"g_task": task_id, "g_holder": holder}

    def audit(self, at: datetime, actor: str, action: str, *args: Any, **kwargs: Any) -> None:
        """One audit event; the arguments are `audit_row`'s."""
        self.audits.append(audit_row(at, actor, action, *args, **kwargs))

    def extend(self, other: Writes) -> None:
        for name in (f.name for f in fields(self)):
            if name == "holder":
                self.holder.update(other.holder)
            else:
                getattr(self, name).extend(getattr(other, name))

    def flush(self, s: Session) -> None:
        """Send everything gathered; a case changed meanwhile by someone else is a Conflict.

        PostgreSQL, one case (a task completion): one statement, the row changes riding as
        data-modifying CTEs on the case UPDATE, so one round trip instead of six. Otherwise
        (SQLite, where statements cost no round trip; a sweep batch): one statement per kind.
        """
        conn = s.connection()
        if len(self.cases) == 1 and conn.dialect.name == "postgresql":
            self._flush_one_statement(conn)
        else:
            self._flush_per_kind(conn)
        for name in (f.name for f in fields(self)):
            getattr(self, name).clear()

    def _flush_per_kind(self, s: Connection) -> None:
        if self.cases:
            if self.holder:
                params = [{**case, **self.holder} for case in self.cases]
                changed = s.execute(_UPDATE_CASE_HELD, params).rowcount
            else:
                changed = s.execute(_UPDATE_CASE, self.cases).rowcount
            if changed != len(self.cases):
                self._conflict()
        for table, ids in self._gone():
            if ids:
                s.execute(_DELETE_BY_IDS[table.name], {"ids": ids})
        for table, rows in self._new():
            if rows:
                # prebuilt (no cache key to derive per call); one row is not an executemany
                s.execute(_INSERT[table.name], rows[0] if len(rows) == 1 else rows)
        self._moves(s)

    def _flush_one_statement(self, s: Connection) -> None:
        (case,) = self.cases
        params = {**case, **self.holder}
        for n, (_table, ids) in enumerate(self._gone()):
            if ids:
                params[f"gone_{n}"] = ids
        for n, (_table, rows) in enumerate(self._new()):
            if rows:
                params[f"new_{n}"] = json.dumps(rows, default=_json_value)
        shape = (
            tuple(bool(ids) for _t, ids in self._gone())
            + tuple(bool(rows) for _t, rows in self._new())
            + (bool(self.holder),)
        )
        if s.execute(_one_statement(shape), params).first() is None:
            self._conflict()
        self._moves(s)

    def _gone(self) -> list[tuple[Any, list[str]]]:
        return list(zip(_GONE_TABLES, (self.gone_tasks, self.gone_timers), strict=True))

    def _new(self) -> list[tuple[Any, list[dict[str, Any]]]]:
        rows = (self.new_tasks, self.new_timers, self.audits, self.notifications)
        return list(zip(_NEW_TABLES, rows, strict=True))

    def _moves(self, s: Connection) -> None:
        """Deadlines that moved (a recomputation): rare, so plain executemany."""
        if self.moved_tasks:
            s.execute(_MOVE_TASK, self.moved_tasks)
        if self.moved_timers:
            s.execute(_MOVE_TIMER, self.moved_timers)

    def _conflict(self) -> None:
        ids = ", ".join(str(c["b_id"]) for c in self.cases)
        raise Conflict(f"case {ids} was changed by someone else; reload it and try again")


@lru_cache(maxsize=64)
def _one_statement(shape: tuple[bool, ...]) -> Any:
    """PostgreSQL: the case UPDATE with the row changes of `shape` as data-modifying CTEs.

    Every value is a bound parameter (ids as an array, new rows as one JSON list), and the
    statement is built once per shape, so SQLAlchemy and PostgreSQL both cache it.
    """
    ctes = []
    for n, table in enumerate(_GONE_TABLES):
        if shape[n]:
            any_id = any_(bindparam(f"gone_{n}", type_=ARRAY(String)))
            ctes.append(delete(table).where(table.c.id == any_id).cte(f"gone_{n}"))
    for n, table in enumerate(_NEW_TABLES):
        if shape[len(_GONE_TABLES) + n]:
            names = [c.name for c in table.c if not (c.primary_key and isinstance(c.type, Integer))]
            records = func.json_populate_recordset(
                literal_column(f"NULL::{table.name}"), cast(bindparam(f"new_{n}"), JSON)
            ).table_valued(*(c.name for c in table.c))
            from_json = select(*(records.c[name] for name in names))
            ctes.append(insert(table).from_select(names, from_json).cte(f"new_{n}"))
    held = shape[len(_GONE_TABLES) + len(_NEW_TABLES)]
    statement = (_UPDATE_CASE_HELD if held else _UPDATE_CASE).returning(_case_table.c.id)
    return statement.add_cte(*ctes) if ctes else statement


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} in a projection row")


_case_table = Case.__table__
# Tables whose rows a save deletes by id, and tables it inserts into, in `Writes` order.
_GONE_TABLES = (TaskRow.__table__, TimerRow.__table__)
_NEW_TABLES = (TaskRow.__table__, TimerRow.__table__, AuditEvent.__table__, Notification.__table__)
_UPDATE_CASE = (
    update(_case_table)
    .where(_case_table.c.id == bindparam("b_id"), _case_table.c.revision == bindparam("b_old"))
    .values(
        {
            name: bindparam(name)
            for name in (
                "revision",
                "state_json",
                "serializer_version",
                "status",
                "closed_at",
                "close_reason",
            )
        }
    )
)
_task_table = TaskRow.__table__
# The case UPDATE of a completion: also nothing unless the task is held as the completer saw.
_UPDATE_CASE_HELD = _UPDATE_CASE.where(
    ~select(_task_table.c.id)
    .where(
        _task_table.c.id == bindparam("g_task"),
        _task_table.c.claimed_by.is_distinct_from(bindparam("g_holder", type_=String)),
    )
    .exists()
)
_INSERT = {table.name: insert(table) for table in _NEW_TABLES}
_DELETE_BY_IDS = {
    table.name: delete(table).where(table.c.id.in_(bindparam("ids", expanding=True)))
    for table in (TaskRow.__table__, TimerRow.__table__)
}
_MOVE_TASK = (
    update(TaskRow.__table__)
    .where(TaskRow.__table__.c.id == bindparam("b_id"))
    .values(due_at=bindparam("due_at"), rule_id=bindparam("rule_id"))
)
_MOVE_TIMER = (
    update(TimerRow.__table__)
    .where(TimerRow.__table__.c.id == bindparam("b_id"))
    .values(due_at=bindparam("due_at"))
)


def project(
    case: CaseRecord, before: Projection, snapshot: Snapshot, now: datetime, writes: Writes
) -> Projection:
    """The case's projection after a change, and the row changes that get it there.

    A step whose deadline timer has fired stays overdue: it keeps the deadline it had.
    """
    after = Projection()
    for view in snapshot.user_tasks:
        row = before.tasks.get(view.task_id)
        if row is None:
            holder = case.allocated_to if view.lane in ALLOCATED_LANES else None
            row = TaskRecord(
                id=view.task_id,
                case_id=case.id,
                council_key=case.council_key,
                element_id=view.element_id,
                name=view.name,
                lane=view.lane,
                form=view.form,
                due_at=view.due_at,
                rule_id=view.rule_id,
                created_at=now,
                claimed_by=holder,
                training=case.training,
                team_key=case.team_key,
                escalates=view.escalates,
                missed_at=view.missed_at,
            )
            writes.new_tasks.append(_row(row, _TASK_FIELDS))
            if holder:
                _told_of_step(case, row, now, writes)
        elif view.due_at is None and row.due_at is not None:
            pass  # the deadline timer fired: the step is overdue, its deadline stands
        elif row.due_at != view.due_at or row.rule_id != view.rule_id:
            row.due_at, row.rule_id = view.due_at, view.rule_id
            writes.moved_tasks.append(
                {"b_id": row.id, "due_at": row.due_at, "rule_id": row.rule_id}
            )
        after.tasks[row.id] = row
    writes.gone_tasks.extend(tid for tid in before.tasks if tid not in after.tasks)
    for view in snapshot.timers:
        timer = before.timers.get(view.task_id)
        if timer is None:
            timer = TimerRecord(
                id=view.task_id,
                case_id=case.id,
                element_id=view.element_id,
                name=view.name,
                attached_to=view.attached_to,
                kind=view.kind,
                due_at=view.due_at,
                rule_id=view.rule_id,
                training=case.training,
                expression=view.expression,
                started_at=now,
                council_key=case.council_key,
            )
            writes.new_timers.append(_row(timer, _TIMER_FIELDS))
        elif timer.due_at != view.due_at:
            timer.due_at = view.due_at
            writes.moved_timers.append({"b_id": timer.id, "due_at": timer.due_at})
        after.timers[timer.id] = timer
    writes.gone_timers.extend(tid for tid in before.timers if tid not in after.timers)
    return after


def _told_of_step(case: CaseRecord, task: TaskRecord, now: datetime, writes: Writes) -> None:
    """A step that went straight to the allocated worker: audited, and they are told (inbox,
    and mail when configured)."""
    writes.audit(
        now,
        "system",
        "task_assigned",
        case.id,
        task.id,
        task.element_id,
        {"to": task.claimed_by, "why": "allocated worker"},
    )
    writes.notifications.append(
        new_step_notification(
            case.id, case.child_name, case.team_key, task.name, task.claimed_by, now
        )
    )


def new_step_notification(
    case_id: int, child: str, team: str | None, step: str, to: str | None, now: datetime
) -> dict[str, Any]:
    """The inbox row telling someone a step is now theirs."""
    return {
        "team_key": team,
        "case_id": case_id,
        "kind": "assigned",
        "message": f"New step for you: “{step}” for {child}.",
        "created_at": now,
        "username": to,
        "lane": None,
        "read_at": None,
        "emailed_at": None,
    }


def _row(record: Any, names: list[str]) -> dict[str, Any]:
    return {name: getattr(record, name) for name in names}
