"""Who holds a task, under the case lock, and what to say when it is not yours to take.

A claim, a hand-over and a completion of one task are serialised by the case's row lock (the
completion has always taken it; claims and hand-overs take it here), so exactly one of them
wins and the audit trail's order is the order they committed. The loser hears what happened,
by name and time, never "claimed by None".
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.calendar import LONDON
from engine.errors import CinflowError, ClaimConflict, TaskAlreadyCompleted, UnknownTask
from engine.store.models import AuditEvent, Case, TaskRow, User

LOCK_CASE_ROW = select(Case.id).with_for_update()


def lock_task(s: Session, task_id: str) -> TaskRow:
    """The open task, read after locking its case (PostgreSQL; SQLite has one writer): what
    any claim, hand-over or completion committed before us is seen; none can start meanwhile."""
    case_id = s.scalar(select(TaskRow.case_id).where(TaskRow.id == task_id))
    if case_id is None:
        raise gone(s, task_id)
    s.execute(LOCK_CASE_ROW.where(Case.id == case_id))
    row = s.get(TaskRow, task_id, populate_existing=True)
    if row is None:  # completed or closed while we waited for the lock
        raise gone(s, task_id)
    return row


def gone(s: Session, task_id: str, teams: frozenset[str] | None = None) -> CinflowError:
    """Why a task is not open: who completed it and when, or that it is no longer open.

    With `teams`, a task of another team's case is simply unknown (never who did what).
    """
    from engine.store.cases import completed_step  # the one answer to who completed a step

    done = completed_step(s, task_id, teams)
    if done is not None:
        return TaskAlreadyCompleted(
            f'"{done.name}" was already completed by {person(s, done.by)} on {when(done.at)}',
            done,
        )
    return UnknownTask(f"no open task {task_id}")


def held(s: Session, row: TaskRow) -> ClaimConflict:
    """The task is someone else's: whose, and since when."""
    since = s.scalar(
        select(AuditEvent.at)
        .where(
            AuditEvent.task_id == row.id,
            AuditEvent.action.in_(("task_claimed", "task_assigned")),
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    at = f" since {when(since)}" if since else ""
    return ClaimConflict(
        f'"{row.name}" is already claimed by {person(s, row.claimed_by)}{at}; ask them or a '
        "manager to give it to you",
        row.claimed_by,
    )


def person(s: Session, username: str | None) -> str:
    """A person as others know them: "Alice Smith (alice)"; a name with no account as is."""
    if not username:
        return "nobody"
    name = s.scalar(select(User.display_name).where(User.username == username))
    return f"{name} ({username})" if name and name != username else username


def when(at: datetime) -> str:
    """7 January 2027 at 10:42 (London time)."""
    local = at.astimezone(LONDON)
    return f"{local.day} {local:%B %Y} at {local:%H:%M}"
