"""Statutory timescales: working days, calendar days, weeks, months and hours.

Child in Need deadlines ("assessment within 45 working days", "review within 3 months") are
counted in England & Wales working days, so every due date in cinflow is computed here and
nowhere else. Conventions:

* The day of the event is day 0; day 1 is the first working day after it.
* A day-based deadline lasts the whole of its due date in London (ends 23:59:59 local time).
* Hours are exact elapsed time, unaffected by clock changes.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

import holidays

__all__ = [
    "LONDON",
    "NON_WORKING_DAY_RULES",
    "Duration",
    "DurationError",
    "WorkingCalendar",
    "add_duration",
    "due_date",
    "working_days_left",
]

LONDON = ZoneInfo("Europe/London")

CLOSURE_NAME = "Council closure day"

_END_OF_DAY = time(23, 59, 59)


@lru_cache(maxsize=512)
def _bank_holidays(subdiv: str, year: int) -> Mapping[date, str]:
    """Bank holidays of one year; shared by every calendar because the library call is slow."""
    # subdiv matters: without it Easter Monday and the August bank holiday are missing.
    table = holidays.country_holidays("GB", subdiv=subdiv, years=year)
    return {d: name for d, name in table.items() if d.year == year}


def _weekdays_upto(ordinal: int) -> int:
    """Weekdays in ordinals [1, ordinal]; ordinal 1 (0001-01-01) is a Monday."""
    weeks, rest = divmod(ordinal, 7)
    return 5 * weeks + min(rest, 5)


def _shift_weekdays(day: date, k: int) -> date:
    """The k-th weekday after `day` (before it when k < 0), ignoring holidays; k != 0."""
    wd = day.weekday()
    if k > 0:
        if wd > 4:  # counting from a weekend is the same as counting from the Friday before
            day -= timedelta(days=wd - 4)
            wd = 4
        weeks, rest = divmod(k, 5)
        extra = rest + (2 if wd + rest > 4 else 0)
        return day + timedelta(days=7 * weeks + extra)
    if wd > 4:  # ...and backwards from a weekend, as from the Monday after
        day += timedelta(days=7 - wd)
        wd = 0
    weeks, rest = divmod(-k, 5)
    extra = rest + (2 if wd - rest < 0 else 0)
    return day - timedelta(days=7 * weeks + extra)


class _Loaded(NamedTuple):
    """An immutable snapshot of the years loaded so far, swapped in whole for thread safety."""

    first: int
    last: int
    off: tuple[date, ...]  # sorted weekdays that are not working days
    off_set: frozenset[date]
    names: Mapping[date, str]


class WorkingCalendar:
    """Working days: weekdays that are neither bank holidays (England) nor council closures.

    Holiday years load lazily and are cached, because the worklist asks thousands of times.
    """

    def __init__(self, closures: Iterable[date] = (), *, subdiv: str = "ENG") -> None:
        days = frozenset(closures)
        for d in days:
            if not isinstance(d, date) or isinstance(d, datetime):
                raise TypeError(f"closure days must be dates, got {d!r}")
        _bank_holidays(subdiv, date.today().year)  # fail now on an unknown subdivision
        self.closures: frozenset[date] = days
        self.subdiv = subdiv
        self._lock = threading.Lock()
        self._loaded: _Loaded | None = None

    def __repr__(self) -> str:
        return f"WorkingCalendar({len(self.closures)} closure days, subdiv={self.subdiv!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, WorkingCalendar):
            return NotImplemented
        return (self.subdiv, self.closures) == (other.subdiv, other.closures)

    def __hash__(self) -> int:
        return hash((self.subdiv, self.closures))

    def with_closures(self, closures: Iterable[date]) -> WorkingCalendar:
        """A calendar with these closure days instead of the current ones (same bank holidays)."""
        return WorkingCalendar(closures, subdiv=self.subdiv)

    # -- lazy year loading -------------------------------------------------------------------

    def _years(self, first: int, last: int) -> _Loaded:
        loaded = self._loaded
        if loaded is not None and loaded.first <= first and last <= loaded.last:
            return loaded
        with self._lock:
            loaded = self._loaded
            if loaded is not None:
                first, last = min(first, loaded.first), max(last, loaded.last)
            names: dict[date, str] = {}
            for year in range(first, last + 1):
                names.update(_bank_holidays(self.subdiv, year))
            for d in self.closures:
                if first <= d.year <= last:
                    names.setdefault(d, CLOSURE_NAME)  # a bank holiday keeps its own name
            off = tuple(sorted(d for d in names if d.weekday() < 5))
            loaded = _Loaded(first, last, off, frozenset(off), names)
            self._loaded = loaded
            return loaded

    def _span(self, a: date, b: date) -> _Loaded:
        return self._years(min(a.year, b.year), max(a.year, b.year))

    # -- queries ----------------------------------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        if day.weekday() > 4:
            return False
        return day not in self._years(day.year, day.year).off_set

    def holiday_name(self, day: date) -> str | None:
        """Why a day is a holiday ("Christmas Day", "Council closure day"), for the UI; else None.

        Plain weekends give None; a bank holiday that falls on a weekend still has its name.
        """
        return self._years(day.year, day.year).names.get(day)

    def last_working_day_before(self, day: date) -> date:
        """The working day before `day` (Fri 8 Jan 2027 for Sun 10 Jan 2027)."""
        return self.add_working_days(day, -1)

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after `start` (day 0, working or not); n < 0 counts backwards.

        Skips whole weeks arithmetically, then pushes on by one weekday per holiday passed.
        """
        day = start
        remaining = n
        while remaining > 0:  # working days in (prev, day] must reach n
            prev, day = day, _shift_weekdays(day, remaining)
            off = self._span(prev, day).off
            remaining = bisect_right(off, day) - bisect_right(off, prev)
        while remaining < 0:  # working days in [day, prev) must reach -n
            prev, day = day, _shift_weekdays(day, remaining)
            off = self._span(day, prev).off
            remaining = bisect_left(off, day) - bisect_left(off, prev)
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days d with start < d <= end; if end < start, minus those with end <= d < start.

        The backward count is the mirror image of the forward one, so that
        working_days_between(x, add_working_days(x, n)) == n for every n and every x.
        """
        if end >= start:
            off = self._span(start, end).off
            weekdays = _weekdays_upto(end.toordinal()) - _weekdays_upto(start.toordinal())
            return weekdays - (bisect_right(off, end) - bisect_right(off, start))
        off = self._span(end, start).off
        weekdays = _weekdays_upto(start.toordinal() - 1) - _weekdays_upto(end.toordinal() - 1)
        return -(weekdays - (bisect_left(off, start) - bisect_left(off, end)))


class DurationError(ValueError):
    """A timescale in a process definition or form that cannot be read."""


UNITS = ("working_days", "days", "weeks", "months", "hours")

_UNIT_WORDS = {
    "working_days": ("working day", "working days"),
    "days": ("day", "days"),
    "weeks": ("week", "weeks"),
    "months": ("month", "months"),
    "hours": ("hour", "hours"),
}

_PATTERN = re.compile(
    r"^\s*(?P<amount>[+-]?\d+)\s*"
    r"(?P<unit>working[\s_-]*days?|days?|weeks?|months?|hours?)\s*$",
    re.IGNORECASE,
)

_ACCEPTED = "use a whole number and one of working days, days, weeks, months, hours"


@dataclass(frozen=True)
class Duration:
    """A statutory timescale such as "15 working days"; negative amounts count backwards."""

    amount: int
    unit: str  # one of UNITS

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise DurationError(f"unknown duration unit {self.unit!r}: use one of {UNITS}")
        if not isinstance(self.amount, int) or isinstance(self.amount, bool):
            raise DurationError(f"duration amount must be a whole number, got {self.amount!r}")

    @classmethod
    def parse(cls, text: str) -> Duration:
        """Read the wording used in process definitions ("15 working days", "3 months")."""
        match = _PATTERN.match(text) if isinstance(text, str) else None
        if match is None:
            raise DurationError(
                f'cannot read "{text}" as a duration: {_ACCEPTED} (e.g. "15 working days")'
            )
        word = re.sub(r"[\s_-]+", " ", match["unit"].lower())
        unit = "working_days" if word.startswith("working") else word.rstrip("s") + "s"
        return cls(int(match["amount"]), unit)

    def __str__(self) -> str:
        singular, plural = _UNIT_WORDS[self.unit]
        return f"{self.amount} {singular if abs(self.amount) == 1 else plural}"


def _require_aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"times must carry a time zone, got naive {at.isoformat()}")


def _add_months(day: date, months: int) -> date:
    """Same day of the month, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    next_first = date(year + month // 12, month % 12 + 1, 1)
    last_day = (next_first - timedelta(days=1)).day
    return date(year, month, min(day.day, last_day))


#: What a council does with a calendar-day deadline (days, weeks, months) that falls on a day
#: that is not a working day: keep it (and say so), or roll it back to the working day before.
NON_WORKING_DAY_RULES = ("keep", "roll_back")


def add_duration(
    start: datetime,
    duration: Duration | str,
    calendar: WorkingCalendar,
    *,
    roll_back: bool = False,
) -> datetime:
    """When a timescale running from `start` ends, as an offset-aware UTC instant.

    Hours are exact elapsed time. Day-based units count from the London date of `start` (day 0)
    and end at 23:59:59 London time on the due date, because the whole due day is allowed.
    `roll_back`: a calendar-day due date (days, weeks, months) that is not a working day moves
    to the last working day before it (a council's `calendar_deadlines_on_non_working_days`).
    """
    _require_aware(start)
    d = Duration.parse(duration) if isinstance(duration, str) else duration
    if d.unit == "hours":
        return start.astimezone(UTC) + timedelta(hours=d.amount)
    day0 = start.astimezone(LONDON).date()
    if d.unit == "working_days":
        due = calendar.add_working_days(day0, d.amount)
    elif d.unit == "days":
        due = day0 + timedelta(days=d.amount)
    elif d.unit == "weeks":
        due = day0 + timedelta(weeks=d.amount)
    else:
        due = _add_months(day0, d.amount)
    if roll_back and d.unit != "working_days" and not calendar.is_working_day(due):
        due = calendar.last_working_day_before(due)
    return datetime.combine(due, _END_OF_DAY, tzinfo=LONDON).astimezone(UTC)


def due_date(at: datetime) -> date:
    """The London date of a due instant: the date the UI shows."""
    _require_aware(at)
    return at.astimezone(LONDON).date()


def working_days_left(today: date, due: date, calendar: WorkingCalendar) -> int:
    """Working days until `due`: 0 when due today, negative once overdue."""
    return calendar.working_days_between(today, due)
