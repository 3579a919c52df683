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


DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def short_date(value: date) -> str:
    """Thu 7 Jan 2027: a deadline's day, with its weekday."""
    return f"{DAYS[value.weekday()]} {value.day} {MONTHS[value.month - 1][:3]} {value.year}"


def non_working_note(due: date, calendar: WorkingCalendar) -> str:
    """Why a due date needs a second look: "not a working day: last working day before it is
    Fri 8 Jan 2027" (a calendar-day deadline on a weekend, bank holiday or closure day); "" on
    a working day."""
    if calendar.is_working_day(due):
        return ""
    why = calendar.holiday_name(due)
    what = f"{why}, not a working day" if why else "not a working day"
    before = calendar.last_working_day_before(due)
    return f"{what}: last working day before it is {short_date(before)}"


def rolled_back_reason(nominal: date, council_name: str) -> str:
    """The audit's words for a deadline the council's setting moved back."""
    return (
        f"{short_date(nominal)} is not a working day: {council_name or 'the council'} moves a "
        "calendar-day deadline to the last working day before it "
        "(calendar_deadlines_on_non_working_days: roll_back)"
    )


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def describe_deadline(
    due_at: datetime | None, now: datetime, calendar: WorkingCalendar, soon_days: int = 2
) -> DeadlineView:
    """How a step's deadline reads at `now`, counted in its council's working days.

    A due date that is not a working day (a calendar-day rule, kept where it falls) carries a
    `note`: "not a working day: last working day before it is Fri 8 Jan 2027"; `summary` reads
    "Due Sun 10 Jan 2027 (not a working day: ...)".

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
    when = (uk_date(due), short_date(due), non_working_note(due, calendar))
    if due_at < now:
        late = max(-left, 0)
        text = f"Overdue by {_plural(late, 'working day')}" if late else "Overdue"
        return DeadlineView(due, "overdue", left, text, *when)
    if left <= 0:
        text = "Due today" if due <= today else "Due before the next working day"
        return DeadlineView(due, "today", 0, text, *when)
    state = "soon" if left <= soon_days else "later"
    return DeadlineView(due, state, left, f"{_plural(left, 'working day')} left", *when)
