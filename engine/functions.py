"""The whitelist: the only functions a diagram's conditions and timers may call.

Diagrams are edited by practice managers, so their expressions are evaluated by
`engine.expressions` over exactly these names, bound to the case's council calendar and clock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from datetime import time as dt_time
from typing import Any

from engine import clock
from engine.calendar import LONDON, Duration, WorkingCalendar, add_duration
from engine.expressions import DATA_FUNCTIONS

#: The longest span a diagram may count (ten years in each unit): longer is a typing slip, and
#: counting it would hold the evaluator (working days load each year's bank holidays).
MAX_SPAN = {"working_days": 2610, "days": 3660, "weeks": 522, "months": 120, "hours": 87840}

#: The yes/no choices a council's procedure makes that shared blocks ask about, with the answer
#: when a council's timescales.yaml does not set it (`settings:`), e.g. Teeswide 11.3's closure
#: "without a review meeting ... must be approved by the team manager".
COUNCIL_SETTINGS: Mapping[str, bool] = {"closing_without_review_needs_approval": False}


def bounded(duration: Duration | str) -> Duration:
    """Read a duration and refuse one longer than ten years, before anything counts it."""
    d = Duration.parse(duration) if isinstance(duration, str) else duration
    if abs(d.amount) > MAX_SPAN[d.unit]:
        raise ValueError(f'"{d}" is longer than ten years; check the number')
    return d


@dataclass(frozen=True)
class Timescale:
    """One timed rule of a council, as read from its timescales file."""

    key: str
    rule: str
    duration: Duration
    start: str
    section: str
    remind_before: Duration = Duration(2, "working_days")
    note: str = ""
    at_deadline: str = ""  # "abandon": the step is dropped, not escalated, when the deadline passes
    # R9: the longest limit a manager may agree, only where `longer_when` holds (the diagram's
    # longer_if=); None: a manager's limit can only be shorter than `duration`.
    longest: Duration | None = None
    longer_when: str = ""
    # P12: a date the worker hands on when the case leaves children's social care (checks that
    # fall after closure): `tell` words it with {date}, counted from the answer `tell_from` names.
    tell: str = ""
    tell_from: str = ""


def to_datetime(value: Any) -> datetime:
    """Read a date or instant as diagrams and forms hold them (ISO strings, dates, datetimes)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"time without a time zone: {value.isoformat()}")
        return value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, 12, tzinfo=UTC)
    if isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 10:
                return to_datetime(date.fromisoformat(text))
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f'"{value}" is not a date (expected e.g. 2026-11-23)') from None
        return to_datetime(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC))
    raise ValueError(f"{value!r} is not a date")


def diagram_functions(
    calendar: WorkingCalendar,
    timescales: Mapping[str, Timescale] | None = None,
    settings: Mapping[str, bool] | None = None,
    *,
    roll_back: bool = False,
) -> dict[str, Callable[..., Any]]:
    """Build the whitelist for one case: its council's calendar, timescales and settings.

    `roll_back`: the council moves a rule's calendar-day deadline that falls on a day that is
    not a working day back to the working day before (`deadline()` and its `reminder()`).
    """
    scales = dict(timescales or {})
    chosen = {**COUNCIL_SETTINGS, **dict(settings or {})}

    def council_setting(name: str) -> bool:
        """A yes/no choice of the case's council, so a shared block asks the council's own
        procedure instead of naming a council (e.g. "closing_without_review_needs_approval")."""
        try:
            return chosen[name]
        except KeyError:
            known = ", ".join(sorted(chosen))
            raise ValueError(f'no council setting "{name}" (known: {known})') from None

    def due_in(duration: str, from_: Any = None) -> str:
        """ISO instant `duration` after `from_` (default now), in the council's working days."""
        start = clock.now() if from_ is None else to_datetime(from_)
        return add_duration(start, bounded(duration), calendar).isoformat()

    def _scale(key: str) -> Timescale:
        try:
            return scales[key]
        except KeyError:
            known = ", ".join(sorted(scales)) or "none"
            raise ValueError(f'no timescale "{key}" for this council (known: {known})') from None

    def _limit(scale: Timescale, within: Any, longer_if: Any = False) -> Duration:
        """The council's timescale, or a limit a manager agreed in the same unit: shorter always
        (R3: "within the timescale set by the manager"); longer only up to the timescale's
        `longest` and only where `longer_if` holds (R9: a disabled child served by the Children
        with Disability Team). Anything else is refused, naming the limit."""
        if within is None or within == "":
            return scale.duration
        unit = scale.duration.unit.replace("_", " ")
        try:
            amount = int(within)
        except (TypeError, ValueError):
            raise ValueError(
                f'the limit for "{scale.key}" must be a whole number of {unit}, not "{within}"'
            ) from None
        if amount < 1:
            raise ValueError(f'the limit for "{scale.key}" must be at least 1')
        if amount <= scale.duration.amount:
            return Duration(amount, scale.duration.unit)
        if scale.longest is None:
            raise ValueError(
                f'the limit for "{scale.key}" can only be shorter than the council\'s '
                f"{scale.duration}, not {amount} {unit}"
            )
        if not longer_if:
            raise ValueError(
                f"{amount} {unit} is longer than the council's {scale.duration} "
                f'for "{scale.key}": a longer limit is allowed only when '
                f"{scale.longer_when or 'the procedure says'}"
            )
        if amount > scale.longest.amount:
            raise ValueError(
                f'the limit for "{scale.key}" is at most {scale.longest}, not {amount} {unit}'
            )
        return Duration(amount, scale.duration.unit)

    def deadline(key: str, from_: Any = None, within: Any = None, longer_if: Any = False) -> str:
        """The due instant of a council's timed rule, e.g. deadline("plan_distribution");
        `within` is a limit a manager agreed, a number in the timescale's unit (shorter, or
        longer up to the timescale's `longest` where `longer_if` holds)."""
        start = clock.now() if from_ is None else to_datetime(from_)
        duration = bounded(_limit(_scale(key), within, longer_if))
        return add_duration(start, duration, calendar, roll_back=roll_back).isoformat()

    def reminder(key: str, from_: Any = None, within: Any = None, longer_if: Any = False) -> str:
        """When to remind the worker before a timed rule's deadline (never before it starts)."""
        scale = _scale(key)
        due = to_datetime(deadline(key, from_, within, longer_if))
        back = Duration(-scale.remind_before.amount, scale.remind_before.unit)
        remind = add_duration(due, back, calendar)
        start = clock.now() if from_ is None else to_datetime(from_)
        return max(remind, start).isoformat()

    def at(day: Any, time: Any = None) -> str:
        """The instant of a date and an optional time of day ("14:30", London time), so a clock
        counted in hours starts when the meeting was held (R2); without a time, the date alone."""
        if time is None or time == "":
            return to_datetime(day).isoformat()
        try:
            hour, minute = (int(part) for part in str(time).split(":"))
            moment = datetime.combine(to_datetime(day).date(), dt_time(hour, minute), LONDON)
        except ValueError:
            raise ValueError(f'"{time}" is not a time of day (expected e.g. 14:30)') from None
        return moment.astimezone(UTC).isoformat()

    def add_working_days(day: Any, n: int) -> str:
        count = bounded(Duration(int(n), "working_days")).amount
        return calendar.add_working_days(to_datetime(day).date(), count).isoformat()

    def working_days_between(start: Any, end: Any) -> int:
        return calendar.working_days_between(to_datetime(start).date(), to_datetime(end).date())

    def today() -> str:
        return clock.now().date().isoformat()

    def now() -> str:
        return clock.now().isoformat()

    def age(date_of_birth: Any, on: Any = None) -> int:
        """Whole years of age, e.g. P1's "child involved if aged 5 or over"."""
        born = to_datetime(date_of_birth).date()
        at = clock.now().date() if on is None else to_datetime(on).date()
        return at.year - born.year - ((at.month, at.day) < (born.month, born.day))

    return {
        "due_in": due_in,
        "deadline": deadline,
        "reminder": reminder,
        "at": at,
        "add_working_days": add_working_days,
        "working_days_between": working_days_between,
        "today": today,
        "now": now,
        "age": age,
        "council_setting": council_setting,
    }


#: Every function a diagram may call: these, and those reading the expression's data (`has`).
FUNCTION_NAMES = frozenset(diagram_functions(WorkingCalendar())) | DATA_FUNCTIONS
