"""How dates and deadlines read: one presenter for every page and every mail.

The worklist, the case and task pages and the notices timers send all word a deadline here, so
the same task reads the same everywhere ("Due today", "2 working days left", "Overdue by 1
working day"), in the council's working days.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from engine.calendar import LONDON, WorkingCalendar, due_date, working_days_left
from engine.views import DeadlineView

MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def uk_date(value: date | datetime | None) -> str:
    """7 January 2027 (an instant is shown as its London date; a naive one is taken as UTC)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        value = aware.astimezone(LONDON).date()
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def describe_deadline(
    due_at: datetime | None, now: datetime, calendar: WorkingCalendar, soon_days: int = 2
) -> DeadlineView:
    """How a step's deadline reads at `now`, counted in its council's working days.

    Passed: "Overdue by 2 working days" ("Overdue" when passed today, or on a day that is not a
    working day). Due by the end of today: "Due today"; due on a later day that is not a working
    day, before the next working day: "Due before the next working day". Otherwise "3 working
    days left", "soon" within `soon_days`.
    """
    if due_at is None:
        return DeadlineView(None, "none", None, "No deadline", "")
    today = now.astimezone(LONDON).date()
    due = due_date(due_at)
    left = working_days_left(today, due, calendar)
    if due_at < now:
        late = max(-left, 0)
        text = f"Overdue by {_plural(late, 'working day')}" if late else "Overdue"
        return DeadlineView(due, "overdue", left, text, uk_date(due))
    if left <= 0:
        text = "Due today" if due <= today else "Due before the next working day"
        return DeadlineView(due, "today", 0, text, uk_date(due))
    state = "soon" if left <= soon_days else "later"
    return DeadlineView(due, state, left, f"{_plural(left, 'working day')} left", uk_date(due))
