"""One deadline presenter: the words every page and mail use for a step's deadline."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from engine.calendar import WorkingCalendar
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
