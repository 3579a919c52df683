"""Escalations with teeth: which deadline was missed, by how much, who holds the late step, and
the manager's decision (reason for the delay, an agreed new date, a management oversight note).

The agreed date becomes the late step's deadline; the original is kept on the row and in the
audit. Functions take the caller's session (one unit of work); another team's step is unknown.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from engine import clock
from engine.calendar import LONDON, WorkingCalendar, due_date
from engine.errors import FieldError, InvalidData, NotAllowed, UnknownTask
from engine.store.audit import record_audit
from engine.store.models import Case, Child, Membership, Notification, TaskRow, User

DECIDING_ROLES = ("team_manager", "practice_manager")
# How far ahead a manager may agree a new date.
LONGEST_EXTENSION = timedelta(days=183)
NOTE_LIMIT = 2000


@dataclass(frozen=True)
class Escalation:
    """An escalation step and the late step it is about."""

    task_id: str
    case_id: int
    child_name: str
    step: str  # the late step's name
    step_task_id: str | None  # None once the late step is done
    missed_at: datetime  # the deadline that was missed
    working_days_late: int
    holder: str | None  # who holds the late step (username), None: the team's pool
    due_at: datetime | None  # the late step's deadline now (an agreed date, if any)
    original_due_at: datetime | None  # set once a new date has been agreed


def escalation(
    s: Session, task_id: str, calendar: WorkingCalendar, teams: Iterable[str] | None = None
) -> Escalation | None:
    """The escalation behind an open step, or None when the step is not an escalation."""
    row = _row(s, task_id, teams)
    if row.escalates is None or row.missed_at is None:
        return None
    late = s.scalars(
        select(TaskRow).where(TaskRow.case_id == row.case_id, TaskRow.element_id == row.escalates)
    ).first()
    child = s.scalar(
        select(Child.name).join(Case, Case.child_id == Child.id).where(Case.id == row.case_id)
    )
    today = clock.now().astimezone(LONDON).date()
    missed_day = due_date(row.missed_at)
    late_days = max(calendar.working_days_between(missed_day, today), 0)
    return Escalation(
        row.id,
        row.case_id,
        child or "",
        late.name if late else row.escalates,
        late.id if late else None,
        row.missed_at,
        late_days,
        late.claimed_by if late else None,
        late.due_at if late else None,
        late.original_due_at if late else None,
    )


def agree_new_date(
    s: Session,
    task_id: str,
    *,
    agreed: date,
    reason: str,
    note: str,
    by: str,
    calendar: WorkingCalendar,
    teams: Iterable[str] | None = None,
) -> Escalation:
    """Record the manager's decision on a missed deadline; the agreed date becomes the late
    step's deadline (the original kept), audited, and whoever holds the step is told."""
    row = _row(s, task_id, teams, lock=True)
    if row.escalates is None:
        raise NotAllowed("this step is not an escalation: there is no missed deadline to decide on")
    manager = s.scalars(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(User.username == by, Membership.team_key == row.team_key)
    ).first()
    if manager is None or manager.role not in DECIDING_ROLES:
        raise NotAllowed("only a manager of the case's team can agree a new date")
    today = clock.now().astimezone(LONDON).date()
    problems = []
    if not reason.strip():
        problems.append(FieldError("delay_reason", "Enter the reason for the delay", "required"))
    if not note.strip():
        problems.append(
            FieldError("oversight_note", "Enter the management oversight note", "required")
        )
    if len(reason) > NOTE_LIMIT or len(note) > NOTE_LIMIT:
        problems.append(FieldError("", f"Keep each answer to {NOTE_LIMIT} characters or fewer"))
    if agreed < today:
        problems.append(FieldError("agreed_date", "Agreed new date must be today or later"))
    elif agreed > today + LONGEST_EXTENSION:
        problems.append(
            FieldError("agreed_date", "Agreed new date must be within 6 months of today")
        )
    if problems:
        raise InvalidData(problems)
    late = s.scalars(
        select(TaskRow)
        .where(TaskRow.case_id == row.case_id, TaskRow.element_id == row.escalates)
        .with_for_update()
    ).first()
    if late is None:
        raise NotAllowed("the late step has been done: no new date is needed")
    now = clock.now()
    previous = late.due_at
    late.original_due_at = late.original_due_at or previous
    late.due_at = datetime.combine(agreed, time(23, 59, 59), LONDON).astimezone(UTC)
    s.execute(
        insert(Notification.__table__).values(
            username=late.claimed_by,
            team_key=late.team_key,
            lane=None if late.claimed_by else late.lane,
            case_id=row.case_id,
            kind="new_date",
            message=f"New date agreed for “{late.name}”: {agreed:%a} {agreed.day} "
            f"{agreed:%b %Y}. Your manager recorded why it was late.",
            created_at=now,
        )
    )
    record_audit(
        s,
        by,
        "escalation_decided",
        row.case_id,
        row.id,
        row.element_id,
        {
            "step": late.name,
            "step_task_id": late.id,
            "missed_at": row.missed_at,
            "original_due_at": late.original_due_at,
            "previous_due_at": previous,
            "agreed_date": agreed,
            "delay_reason": reason.strip(),
            "oversight_note": note.strip(),
        },
        at=now,
    )
    s.flush()
    result = escalation(s, task_id, calendar, teams)
    assert result is not None
    return result


def _row(s: Session, task_id: str, teams: Iterable[str] | None, lock: bool = False) -> TaskRow:
    query = select(TaskRow).where(TaskRow.id == task_id, TaskRow.training.is_(False))
    if lock:
        query = query.with_for_update()
    row = s.scalars(query).first()
    if row is None or (teams is not None and row.team_key not in set(teams)):
        raise UnknownTask(f"no open task {task_id}")
    return row
