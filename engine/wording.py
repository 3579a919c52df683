"""How dates and deadlines read: one presenter for every page and every mail.

The worklist, the case and task pages and the notices timers send all word a deadline here, so
the same task reads the same everywhere ("Thu 7 Jan 2027, in 3 working days", "Fri 8 Jan 2027,
today", "Mon 4 Jan 2027, overdue by 2 working days"), in the council's working days.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

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


def _not_working_why(day: date, calendar: WorkingCalendar) -> str:
    """ "not a working day", or "Christmas Day, not a working day"."""
    why = calendar.holiday_name(day)
    return f"{why}, not a working day" if why else "not a working day"


def non_working_note(due: date, calendar: WorkingCalendar) -> str:
    """Why a due date needs a second look: "not a working day: last working day before it is
    Fri 8 Jan 2027" (a calendar-day deadline on a weekend, bank holiday or closure day); "" on
    a working day."""
    if calendar.is_working_day(due):
        return ""
    what = _not_working_why(due, calendar)
    before = calendar.last_working_day_before(due)
    return f"{what}: last working day before it is {short_date(before)}"


def rolled_back_reason(nominal: date, council_name: str) -> str:
    """The audit's words for a deadline the council's setting moved back."""
    return (
        f"{short_date(nominal)} is not a working day: {council_name or 'the council'} moves a "
        "calendar-day deadline to the last working day before it "
        "(calendar_deadlines_on_non_working_days: roll_back)"
    )


def rolled_back_from(events: Iterable[Any], due_at: datetime | None) -> date | None:
    """The day the council's `roll_back` setting moved a deadline from, read back from the
    case's `deadline_rolled_back` audit events (None when it was not moved).

    The event names the timer's own element (often a sub-process the step sits in), so a step
    is matched by its deadline's instant: the moved deadline, to the second."""
    if due_at is None:
        return None
    for event in events:
        if event.action != "deadline_rolled_back":
            continue
        try:
            moved_to = datetime.fromisoformat(str(event.detail.get("to")))
            nominal = datetime.fromisoformat(str(event.detail.get("from")))
        except ValueError:
            continue
        if moved_to.tzinfo is not None and moved_to == due_at:
            return due_date(nominal)
    return None


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _relative(due_at: datetime, due: date, today: date, left: int, now: datetime) -> str:
    """The second half of a deadline's words: how far off it is, in working days."""
    if due_at < now:
        late = max(-left, 0)
        if late:
            return f"overdue by {_plural(late, 'working day')}"
        return "overdue since today" if due == today else "overdue"
    if due <= today:
        return "today"
    if due == today + timedelta(days=1):
        return "tomorrow"
    if left <= 0:
        return "before the next working day"
    return f"in {_plural(left, 'working day')}"


def describe_deadline(
    due_at: datetime | None,
    now: datetime,
    calendar: WorkingCalendar,
    soon_days: int = 2,
    moved_from: date | None = None,
) -> DeadlineView:
    """How a step's deadline reads at `now`, counted in its council's working days: the day with
    its weekday, then how far off it is, "Thu 7 Jan 2027, in 3 working days".

    The second half: "today", "tomorrow" (the next calendar day), "in 3 working days", "before
    the next working day" (a later day that is not a working day, before the next one); once
    passed "overdue by 2 working days", "overdue since today" (passed earlier today), or
    "overdue" (passed on a day that was not a working day).

    A due date that is not a working day (a calendar-day rule, kept where it falls) carries a
    `note`: "not a working day: last working day before it is Fri 8 Jan 2027". A deadline the
    council's `roll_back` setting moved (`moved_from`, the day the rule gave) carries instead
    "moved from Sun 10 Jan 2027, not a working day".
    """
    if due_at is None:
        return DeadlineView(None, "none", None, "No deadline")
    today = now.astimezone(LONDON).date()
    due = due_date(due_at)
    left = working_days_left(today, due, calendar)
    text = f"{short_date(due)}, {_relative(due_at, due, today, left, now)}"
    if moved_from is not None and moved_from != due:
        note = f"moved from {short_date(moved_from)}, {_not_working_why(moved_from, calendar)}"
    else:
        note = non_working_note(due, calendar)
    if due_at < now:
        state, days = "overdue", left
    elif left <= 0:
        state, days = "today", 0
    else:
        state, days = ("soon" if left <= soon_days else "later"), left
    return DeadlineView(due, state, days, text, short_date(due), note)


def handed_on(
    scales: Iterable[Any], data: dict[str, Any], deadline: Any
) -> list[str]:
    """What the worker hands on at closure, worded with its date (P12: "A new CAF is needed if
    the Team Around the Child reviews progress after Sat 10 Jul 2027"): each timescale with
    `tell`, counted by the council's `deadline` from the answer `tell_from` names, when given."""
    notes = []
    for scale in scales:
        if not scale.tell:
            continue
        form, _, field = scale.tell_from.partition(".")
        answers = data.get(form)
        start = answers.get(field) if isinstance(answers, dict) else None
        if not start:
            continue
        try:
            due = datetime.fromisoformat(deadline(scale.key, from_=start))
        except ValueError:
            continue  # a malformed answer is refused by its form; nothing to hand on
        notes.append(scale.tell.replace("{date}", short_date(due.astimezone(LONDON).date())))
    return notes
