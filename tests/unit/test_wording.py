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
    assert words(end_of(23)) == ("today", "Due today")
    assert words(end_of(24)) == ("soon", "1 working day left")
    assert words(end_of(25)) == ("soon", "2 working days left")
    assert words(end_of(26)) == ("later", "3 working days left")
    assert words(end_of(20)) == ("overdue", "Overdue by 1 working day")
    assert words(end_of(16)) == ("overdue", "Overdue by 5 working days")
    assert words(NOW - timedelta(hours=1)) == ("overdue", "Overdue")  # hours-based, passed today


def test_a_deadline_on_a_day_that_is_not_a_working_day() -> None:
    friday = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    assert words(end_of(28), friday) == ("today", "Due before the next working day")  # Saturday
    closed = WorkingCalendar([date(2026, 11, 24)])  # a council closure day, tomorrow
    assert words(end_of(24), NOW, closed) == ("today", "Due before the next working day")
    assert words(end_of(28), datetime(2026, 11, 30, 9, 0, tzinfo=UTC)) == ("overdue", "Overdue")


def test_christmas_counts_working_days_only() -> None:
    xmas = datetime(2026, 12, 24, 9, 0, tzinfo=UTC)  # to Tue 29 Dec: 25 and 28 are holidays
    d = describe_deadline(end_of(29, 12), xmas, WorkingCalendar(), 2)
    assert (d.state, d.text, d.due, d.due_text) == (
        "soon",
        "1 working day left",
        date(2026, 12, 29),
        "29 December 2026",
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
        "Due Sun 10 Jan 2027 (not a working day: last working day before it is Fri 8 Jan 2027)"
    )
    working = describe_deadline(_on(date(2027, 1, 7)), monday, WorkingCalendar(), 2)
    assert (working.note, working.summary) == ("", "Due Thu 7 Jan 2027")


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
