"""Statutory timescales: expected dates are worked out by hand from the gov.uk bank holiday list."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from engine.calendar import (
    LONDON,
    Duration,
    DurationError,
    WorkingCalendar,
    add_duration,
    due_date,
    working_days_left,
)

# England & Wales bank holidays, typed in by hand (not taken from the `holidays` package).
BANK_HOLIDAYS = {
    # 2026
    date(2026, 1, 1), date(2026, 4, 3), date(2026, 4, 6), date(2026, 5, 4),
    date(2026, 5, 25), date(2026, 8, 31), date(2026, 12, 25), date(2026, 12, 28),
    # 2027
    date(2027, 1, 1), date(2027, 3, 26), date(2027, 3, 29), date(2027, 5, 3),
    date(2027, 5, 31), date(2027, 8, 30), date(2027, 12, 27), date(2027, 12, 28),
    # 2028
    date(2028, 1, 3), date(2028, 4, 14), date(2028, 4, 17), date(2028, 5, 1),
    date(2028, 5, 29), date(2028, 8, 28), date(2028, 12, 25), date(2028, 12, 26),
}  # fmt: skip


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return WorkingCalendar()


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _ref_working(day: date, closures: frozenset[date] = frozenset()) -> bool:
    return day.weekday() < 5 and day not in BANK_HOLIDAYS and day not in closures


def _ref_add(start: date, n: int) -> date:
    """Day-by-day reference: step one day at a time, counting working days."""
    step = 1 if n >= 0 else -1
    day, left = start, abs(n)
    while left:
        day += timedelta(days=step)
        if _ref_working(day):
            left -= 1
    return day


# -- working days ----------------------------------------------------------------------------


def test_working_days_match_hand_list_2026_to_2028(cal: WorkingCalendar) -> None:
    for day in _days(date(2026, 1, 1), date(2028, 12, 31)):
        assert cal.is_working_day(day) == _ref_working(day), day


def test_christmas_2026(cal: WorkingCalendar) -> None:
    assert date(2026, 12, 25).weekday() == 4  # Friday
    assert cal.add_working_days(date(2026, 12, 23), 1) == date(2026, 12, 24)
    assert cal.add_working_days(date(2026, 12, 24), 1) == date(2026, 12, 29)
    assert cal.add_working_days(date(2026, 12, 18), 5) == date(2026, 12, 29)
    assert not cal.is_working_day(date(2026, 12, 28))  # substitute Boxing Day
    assert cal.holiday_name(date(2026, 12, 28)) is not None
    assert cal.holiday_name(date(2026, 12, 25)) == "Christmas Day"
    assert cal.holiday_name(date(2026, 12, 24)) is None
    assert cal.holiday_name(date(2026, 12, 19)) is None  # a plain Saturday


def test_easter_2027(cal: WorkingCalendar) -> None:
    assert not cal.is_working_day(date(2027, 3, 26))  # Good Friday
    assert not cal.is_working_day(date(2027, 3, 29))  # Easter Monday
    assert cal.add_working_days(date(2027, 3, 25), 1) == date(2027, 3, 30)
    assert cal.add_working_days(date(2027, 3, 30), -1) == date(2027, 3, 25)


def test_new_year_2027(cal: WorkingCalendar) -> None:
    assert date(2027, 1, 1).weekday() == 4
    assert not cal.is_working_day(date(2027, 1, 1))
    assert cal.holiday_name(date(2027, 1, 1)) == "New Year's Day"
    assert cal.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)


def test_closure_day_shifts_results() -> None:
    plain = WorkingCalendar()
    closed = WorkingCalendar([date(2026, 12, 24)])
    assert closed.closures == frozenset({date(2026, 12, 24)})
    assert not closed.is_working_day(date(2026, 12, 24))
    assert closed.holiday_name(date(2026, 12, 24)) == "Council closure day"
    assert closed.add_working_days(date(2026, 12, 23), 1) == date(2026, 12, 29)
    assert closed.add_working_days(date(2026, 12, 18), 5) == date(2026, 12, 30)
    assert closed.working_days_between(date(2026, 12, 18), date(2026, 12, 31)) == 6
    assert plain.working_days_between(date(2026, 12, 18), date(2026, 12, 31)) == 7

    swapped = closed.with_closures([date(2026, 12, 22)])
    assert swapped.closures == frozenset({date(2026, 12, 22)})
    assert swapped.is_working_day(date(2026, 12, 24))
    assert not swapped.is_working_day(date(2026, 12, 22))
    assert swapped.add_working_days(date(2026, 12, 18), 5) == date(2026, 12, 30)
    assert closed.is_working_day(date(2026, 12, 22))  # the original is unchanged
    assert closed.with_closures([]) == plain


def test_closure_on_bank_holiday_keeps_its_name() -> None:
    cal = WorkingCalendar([date(2026, 12, 25)])
    assert cal.holiday_name(date(2026, 12, 25)) == "Christmas Day"


def test_closures_must_be_dates() -> None:
    with pytest.raises(TypeError):
        WorkingCalendar([datetime(2026, 12, 24, tzinfo=UTC)])


def test_day_zero_convention(cal: WorkingCalendar) -> None:
    saturday = date(2026, 6, 13)
    assert cal.add_working_days(saturday, 1) == date(2026, 6, 15)
    assert cal.add_working_days(saturday, 0) == saturday
    assert cal.add_working_days(saturday, -1) == date(2026, 6, 12)
    assert cal.add_working_days(date(2026, 6, 15), -1) == date(2026, 6, 12)  # Mon -> Fri
    assert cal.add_working_days(date(2026, 6, 12), 1) == date(2026, 6, 15)  # Fri -> Mon
    assert cal.add_working_days(date(2026, 6, 10), 10) == date(2026, 6, 24)  # two whole weeks


def test_remind_two_working_days_before(cal: WorkingCalendar) -> None:
    # due Tue 29 Dec 2026: back over the 28th (substitute Boxing Day) and Christmas Day
    assert cal.add_working_days(date(2026, 12, 29), -2) == date(2026, 12, 23)


def test_working_days_between_examples(cal: WorkingCalendar) -> None:
    assert cal.working_days_between(date(2026, 12, 14), date(2026, 12, 14)) == 0
    assert cal.working_days_between(date(2026, 12, 14), date(2027, 1, 7)) == 15
    assert cal.working_days_between(date(2027, 1, 7), date(2026, 12, 14)) == -15
    assert cal.working_days_between(date(2026, 6, 12), date(2026, 6, 14)) == 0  # Fri -> Sun
    assert cal.working_days_between(date(2026, 6, 13), date(2026, 6, 12)) == -1  # Sat -> Fri


@pytest.mark.parametrize("n", range(-30, 61))
def test_round_trip_and_reference(cal: WorkingCalendar, n: int) -> None:
    for start in _days(date(2026, 3, 1), date(2028, 9, 15)):  # results stay in 2026-28
        result = cal.add_working_days(start, n)
        assert result == _ref_add(start, n), (start, n)
        assert cal.working_days_between(start, result) == n, (start, n)


def test_long_spans_across_years(cal: WorkingCalendar) -> None:
    # 2027 has 261 weekdays, 8 of them bank holidays
    assert cal.working_days_between(date(2026, 12, 31), date(2027, 12, 31)) == 253
    assert cal.add_working_days(date(2026, 12, 31), 253) == date(2027, 12, 31)
    # backwards, 31 Dec 2027 itself is not counted: the 253rd working day before it is in 2026
    assert cal.add_working_days(date(2027, 12, 31), -253) == date(2026, 12, 31)
    assert cal.add_working_days(date(2027, 12, 31), -252) == date(2027, 1, 4)


def test_unknown_subdivision_fails_early() -> None:
    with pytest.raises(NotImplementedError):
        WorkingCalendar(subdiv="XXX")


# -- Duration --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15 working days", Duration(15, "working_days")),
        ("1 working day", Duration(1, "working_days")),
        ("4 weeks", Duration(4, "weeks")),
        ("1 week", Duration(1, "weeks")),
        ("3 months", Duration(3, "months")),
        ("6 Months", Duration(6, "months")),
        ("10 days", Duration(10, "days")),
        ("1 day", Duration(1, "days")),
        ("24 hours", Duration(24, "hours")),
        ("  15   working   days ", Duration(15, "working_days")),
        ("15 Working Days", Duration(15, "working_days")),
        ("-2 working days", Duration(-2, "working_days")),
        ("0 days", Duration(0, "days")),
    ],
)
def test_parse_accepted(text: str, expected: Duration) -> None:
    assert Duration.parse(text) == expected


@pytest.mark.parametrize(
    "text",
    ["15 workdays", "15", "working days", "1.5 days", "fifteen working days", "3 fortnights", ""],
)
def test_parse_rejected_with_clear_message(text: str) -> None:
    with pytest.raises(DurationError) as err:
        Duration.parse(text)
    message = str(err.value)
    assert f'"{text}"' in message
    assert "working days, days, weeks, months, hours" in message
    assert isinstance(err.value, ValueError)


def test_parse_error_wording() -> None:
    with pytest.raises(DurationError) as err:
        Duration.parse("15 workdays")
    assert str(err.value) == (
        'cannot read "15 workdays" as a duration: use a whole number and one of '
        'working days, days, weeks, months, hours (e.g. "15 working days")'
    )


def test_bad_unit_in_constructor() -> None:
    with pytest.raises(DurationError):
        Duration(3, "fortnights")


@pytest.mark.parametrize(
    ("duration", "text"),
    [
        (Duration(15, "working_days"), "15 working days"),
        (Duration(1, "working_days"), "1 working day"),
        (Duration(-1, "working_days"), "-1 working day"),
        (Duration(1, "weeks"), "1 week"),
        (Duration(3, "months"), "3 months"),
        (Duration(24, "hours"), "24 hours"),
        (Duration(-2, "days"), "-2 days"),
    ],
)
def test_str_round_trip(duration: Duration, text: str) -> None:
    assert str(duration) == text
    assert Duration.parse(str(duration)) == duration


# -- add_duration ----------------------------------------------------------------------------


def test_fifteen_working_days_over_christmas(cal: WorkingCalendar) -> None:
    # After Mon 14 Dec 2026: 15,16,17,18 (4), 21,22,23,24 (8), [25 Fri, 28 Mon off] 29,30,31 (11),
    # [1 Jan off] 4,5,6,7 Jan (15). GMT in winter, so 23:59:59 London == 23:59:59 UTC.
    start = datetime(2026, 12, 14, 10, 0, tzinfo=UTC)
    due = add_duration(start, "15 working days", cal)
    assert due == datetime(2027, 1, 7, 23, 59, 59, tzinfo=UTC)
    assert due.utcoffset() == timedelta(0)
    assert due_date(due) == date(2027, 1, 7)


def test_duration_object_accepted(cal: WorkingCalendar) -> None:
    start = datetime(2026, 12, 14, 10, 0, tzinfo=UTC)
    assert add_duration(start, Duration(15, "working_days"), cal) == datetime(
        2027, 1, 7, 23, 59, 59, tzinfo=UTC
    )


def test_summer_time_due_date(cal: WorkingCalendar) -> None:
    # After Thu 1 Jul 2027: 2 (1), 5-9 (6), 12-15 (10) -> Thu 15 Jul, BST (UTC+1)
    start = datetime(2027, 7, 1, 9, 0, tzinfo=UTC)
    due = add_duration(start, "10 working days", cal)
    assert due == datetime(2027, 7, 15, 22, 59, 59, tzinfo=UTC)
    assert due.astimezone(LONDON).replace(tzinfo=None) == datetime(2027, 7, 15, 23, 59, 59)
    assert due_date(due) == date(2027, 7, 15)


def test_three_months_clamps_to_month_end(cal: WorkingCalendar) -> None:
    start = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    assert add_duration(start, "3 months", cal) == datetime(2027, 2, 28, 23, 59, 59, tzinfo=UTC)
    jan31 = datetime(2028, 1, 31, 12, 0, tzinfo=UTC)
    assert due_date(add_duration(jan31, "1 month", cal)) == date(2028, 2, 29)  # leap year
    assert due_date(add_duration(jan31, "-2 months", cal)) == date(2027, 11, 30)
    assert due_date(add_duration(jan31, "12 months", cal)) == date(2029, 1, 31)


def test_days_and_weeks(cal: WorkingCalendar) -> None:
    start = datetime(2026, 12, 14, 10, 0, tzinfo=UTC)
    assert due_date(add_duration(start, "10 days", cal)) == date(2026, 12, 24)
    assert due_date(add_duration(start, "4 weeks", cal)) == date(2027, 1, 11)
    assert due_date(add_duration(start, "-1 week", cal)) == date(2026, 12, 7)


def test_negative_working_days_for_reminders(cal: WorkingCalendar) -> None:
    start = datetime(2026, 12, 29, 9, 0, tzinfo=UTC)
    assert due_date(add_duration(start, "-2 working days", cal)) == date(2026, 12, 23)


def test_hours_are_exact_even_across_clock_change(cal: WorkingCalendar) -> None:
    start = datetime(2026, 12, 14, 10, 30, tzinfo=UTC)
    assert add_duration(start, "24 hours", cal) == datetime(2026, 12, 15, 10, 30, tzinfo=UTC)
    # Clocks go forward at 01:00 on Sun 28 Mar 2027: 24 real hours later is 13:00 BST.
    before = datetime(2027, 3, 27, 12, 0, tzinfo=LONDON)
    after = add_duration(before, "24 hours", cal)
    assert after == datetime(2027, 3, 28, 12, 0, tzinfo=UTC)
    assert after.astimezone(LONDON).hour == 13
    assert after.tzinfo == UTC


def test_naive_start_rejected(cal: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match="time zone"):
        add_duration(datetime(2026, 12, 14, 10, 0), "1 day", cal)
    with pytest.raises(ValueError):
        due_date(datetime(2026, 12, 14, 10, 0))


def test_bad_duration_text_raises(cal: WorkingCalendar) -> None:
    with pytest.raises(DurationError):
        add_duration(datetime(2026, 12, 14, tzinfo=UTC), "15 workdays", cal)


def test_day_zero_is_london_date(cal: WorkingCalendar) -> None:
    # 23:30 UTC on Wed 30 Jun 2027 is 00:30 BST on Thu 1 Jul: day 0 is 1 July.
    start = datetime(2027, 6, 30, 23, 30, tzinfo=UTC)
    assert due_date(start) == date(2027, 7, 1)
    assert add_duration(start, "1 day", cal) == datetime(2027, 7, 2, 22, 59, 59, tzinfo=UTC)
    assert due_date(add_duration(start, "1 working day", cal)) == date(2027, 7, 2)  # Fri
    assert due_date(add_duration(start, "0 days", cal)) == date(2027, 7, 1)


def test_working_days_left(cal: WorkingCalendar) -> None:
    due = date(2027, 1, 7)
    assert working_days_left(date(2026, 12, 14), due, cal) == 15
    assert working_days_left(date(2027, 1, 7), due, cal) == 0
    assert working_days_left(date(2027, 1, 8), due, cal) == -1
    assert working_days_left(date(2027, 1, 11), due, cal) == -2  # Fri 8, then Mon 11
    assert working_days_left(date(2027, 1, 9), due, cal) == -2  # Sat: Thu 7 and Fri 8 have gone
