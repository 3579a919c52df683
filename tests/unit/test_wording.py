"""One deadline presenter: the words every page and mail use for a step's deadline."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from engine.calendar import LONDON, WorkingCalendar
from engine.wording import describe_deadline, uk_date

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday


def end_of(day: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, 23, 59, 59, tzinfo=UTC)


def words(due: datetime | None, now: datetime = NOW, calendar: WorkingCalendar | None = None):  # noqa: ANN201
    d = describe_deadline(due, now, calendar or WorkingCalendar(), 2)
    return d.state, d.text


def test_deadline_words_in_every_state() -> None:
    assert words(None) == ("none", "No deadline")
    assert words(end_of(23)) == ("today", "Mon 23 Nov 2026, today")
    assert words(end_of(24)) == ("soon", "Tue 24 Nov 2026, tomorrow")
    assert words(end_of(25)) == ("soon", "Wed 25 Nov 2026, in 2 working days")
    assert words(end_of(26)) == ("later", "Thu 26 Nov 2026, in 3 working days")
    assert words(end_of(30)) == ("later", "Mon 30 Nov 2026, in 5 working days")
    assert words(end_of(20)) == ("overdue", "Fri 20 Nov 2026, overdue by 1 working day")
    assert words(end_of(16)) == ("overdue", "Mon 16 Nov 2026, overdue by 5 working days")
    # hours-based, passed earlier today
    assert words(NOW - timedelta(hours=1)) == ("overdue", "Mon 23 Nov 2026, overdue since today")


def test_one_working_day_off_over_a_weekend_is_not_tomorrow() -> None:
    friday = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    assert words(end_of(30), friday) == ("soon", "Mon 30 Nov 2026, in 1 working day")


def test_a_deadline_on_a_day_that_is_not_a_working_day() -> None:
    friday = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    assert words(end_of(28), friday) == ("today", "Sat 28 Nov 2026, tomorrow")
    assert words(end_of(29), friday) == ("today", "Sun 29 Nov 2026, before the next working day")
    closed = WorkingCalendar([date(2026, 11, 24)])  # a council closure day, tomorrow
    assert words(end_of(24), NOW, closed) == ("today", "Tue 24 Nov 2026, tomorrow")
    assert words(end_of(28), datetime(2026, 11, 30, 9, 0, tzinfo=UTC)) == (
        "overdue",
        "Sat 28 Nov 2026, overdue",
    )


def test_christmas_counts_working_days_only() -> None:
    xmas = datetime(2026, 12, 24, 9, 0, tzinfo=UTC)  # to Tue 29 Dec: 25 and 28 are holidays
    d = describe_deadline(end_of(29, 12), xmas, WorkingCalendar(), 2)
    assert (d.state, d.text, d.due, d.due_short) == (
        "soon",
        "Tue 29 Dec 2026, in 1 working day",
        date(2026, 12, 29),
        "Tue 29 Dec 2026",
    )


def test_dates_read_in_london() -> None:
    assert uk_date(datetime(2027, 1, 6, 23, 30, tzinfo=UTC)) == "6 January 2027"
    assert uk_date(datetime(2026, 6, 30, 23, 30, tzinfo=UTC)) == "1 July 2026"  # BST
    assert uk_date(date(2027, 1, 7)) == "7 January 2027"
    assert uk_date(None) == ""


# -- calendar-day deadlines on a day that is not a working day ------------------------------------


def _on(day: date) -> datetime:
    """The end of a London day, as a day-based deadline ends (BST from 28 March 2027)."""
    return datetime.combine(day, time(23, 59, 59), LONDON).astimezone(UTC)


def test_a_due_day_that_is_not_a_working_day_says_so_and_gives_the_day_before() -> None:
    monday = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
    sunday = describe_deadline(_on(date(2027, 1, 10)), monday, WorkingCalendar(), 2)
    assert sunday.due_short == "Sun 10 Jan 2027"
    assert sunday.note == "not a working day: last working day before it is Fri 8 Jan 2027"
    assert sunday.summary == (
        "Sun 10 Jan 2027, in 4 working days "
        "(not a working day: last working day before it is Fri 8 Jan 2027)"
    )
    assert sunday.note_sentence.startswith("Not a working day: ")
    working = describe_deadline(_on(date(2027, 1, 7)), monday, WorkingCalendar(), 2)
    assert (working.note, working.summary) == ("", "Thu 7 Jan 2027, in 3 working days")


def test_a_deadline_the_council_moved_back_says_where_from() -> None:
    monday = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
    moved = describe_deadline(
        _on(date(2027, 1, 8)), monday, WorkingCalendar(), 2, moved_from=date(2027, 1, 10)
    )
    assert moved.text == "Fri 8 Jan 2027, in 4 working days"
    assert moved.note == "moved from Sun 10 Jan 2027, not a working day"
    xmas = describe_deadline(
        _on(date(2026, 12, 24)), monday, WorkingCalendar(), 2, moved_from=date(2026, 12, 25)
    )
    assert xmas.note == "moved from Fri 25 Dec 2026, Christmas Day, not a working day"
    # a deadline that was not moved keeps the plain words
    same = describe_deadline(
        _on(date(2027, 1, 8)), monday, WorkingCalendar(), 2, moved_from=date(2027, 1, 8)
    )
    assert same.note == ""


@pytest.mark.parametrize(
    ("due", "note"),
    [
        # Christmas 2026: Fri 25 Dec; Boxing Day on Saturday, its substitute Monday 28 Dec
        (date(2026, 12, 25), "Christmas Day, not a working day: last working day before it is "
                             "Thu 24 Dec 2026"),
        (date(2026, 12, 26), "Boxing Day, not a working day: last working day before it is "
                             "Thu 24 Dec 2026"),
        (date(2027, 1, 1), "New Year's Day, not a working day: last working day before it is "
                           "Thu 31 Dec 2026"),
        # Easter 2027: Good Friday 26 March, Easter Monday 29 March
        (date(2027, 3, 29), "Easter Monday, not a working day: last working day before it is "
                            "Thu 25 Mar 2027"),
        (date(2027, 3, 28), "not a working day: last working day before it is Thu 25 Mar 2027"),
    ],
)  # fmt: skip
def test_bank_holidays_are_named_and_skipped_back_over(due: date, note: str) -> None:
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert describe_deadline(_on(due), now, WorkingCalendar(), 2).note == note


def test_a_council_closure_day_is_not_a_working_day_either() -> None:
    closed = WorkingCalendar([date(2026, 12, 24)])
    d = describe_deadline(_on(date(2026, 12, 24)), datetime(2026, 12, 1, tzinfo=UTC), closed)
    assert d.note == (
        "Council closure day, not a working day: last working day before it is Wed 23 Dec 2026"
    )
