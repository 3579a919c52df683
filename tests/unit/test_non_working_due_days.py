"""Calendar-day deadlines (days, weeks, months) that fall on a weekend, bank holiday or closure
day: kept where they fall (the wording says so), or rolled back to the working day before where
a council's timescales.yaml says `calendar_deadlines_on_non_working_days: roll_back`."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest

from engine.calendar import LONDON, WorkingCalendar, add_duration, due_date
from engine.functions import diagram_functions, to_datetime
from engine.timescales import load_profile

CAL = WorkingCalendar()


def _from(day: date) -> datetime:
    return datetime.combine(day, time(10), LONDON)


@pytest.mark.parametrize(
    ("start", "duration", "kept", "rolled"),
    [
        # Wed 16 Dec 2026 + 10 days = Sat 26 Dec (Boxing Day); 25 Dec is Christmas Day
        (date(2026, 12, 16), "10 days", date(2026, 12, 26), date(2026, 12, 24)),
        # Fri 27 Nov 2026 + 4 weeks = Fri 25 Dec (Christmas Day)
        (date(2026, 11, 27), "4 weeks", date(2026, 12, 25), date(2026, 12, 24)),
        # Mon 28 Dec 2026 (substitute Boxing Day) + 0 days stays put, then rolls to Thu 24 Dec
        (date(2026, 12, 28), "0 days", date(2026, 12, 28), date(2026, 12, 24)),
        # Thu 10 Dec 2026 + 1 month = Sun 10 Jan 2027
        (date(2026, 12, 10), "1 month", date(2027, 1, 10), date(2027, 1, 8)),
        # Easter 2027: Mon 1 Mar + 4 weeks = Easter Monday 29 Mar; Good Friday 26 Mar is off too
        (date(2027, 3, 1), "4 weeks", date(2027, 3, 29), date(2027, 3, 25)),
        (date(2026, 12, 26), "3 months", date(2027, 3, 26), date(2027, 3, 25)),
        # a working day is never moved
        (date(2027, 1, 4), "3 days", date(2027, 1, 7), date(2027, 1, 7)),
    ],
)
def test_calendar_day_deadlines_keep_or_roll_back(start, duration, kept, rolled) -> None:  # noqa: ANN001
    assert due_date(add_duration(_from(start), duration, CAL)) == kept
    moved = add_duration(_from(start), duration, CAL, roll_back=True)
    assert due_date(moved) == rolled
    assert moved.astimezone(LONDON).time() == time(23, 59, 59)  # the whole day is still allowed


def test_working_days_and_hours_are_never_rolled_back() -> None:
    # 15 working days from Mon 14 Dec 2026 skip the holidays and end on Thu 7 Jan 2027
    start = _from(date(2026, 12, 14))
    assert due_date(add_duration(start, "15 working days", CAL, roll_back=True)) == date(2027, 1, 7)
    friday = datetime(2027, 1, 8, 10, tzinfo=UTC)
    assert add_duration(friday, "24 hours", CAL, roll_back=True) == datetime(
        2027, 1, 9, 10, tzinfo=UTC
    )  # Saturday: hours are exact


def test_a_closure_day_counts_as_not_a_working_day() -> None:
    closed = WorkingCalendar([date(2026, 12, 24)])
    moved = add_duration(_from(date(2026, 11, 27)), "4 weeks", closed, roll_back=True)
    assert due_date(moved) == date(2026, 12, 23)


def _profile(tmp_path: Path, setting: str | None) -> Path:
    folder = tmp_path / "testboro"
    folder.mkdir(parents=True)
    line = f"calendar_deadlines_on_non_working_days: {setting}\n" if setting else ""
    (folder / "timescales.yaml").write_text(
        "council: testboro\nname: Test Borough Council\n" + line + "timescales:\n"
        "  first_review:\n    rule: X1\n    duration: 1 month\n"
        "    remind_before: 2 working days\n",
        encoding="utf-8",
    )
    return folder / "timescales.yaml"


def test_the_setting_is_read_per_council_and_defaults_to_keep(tmp_path: Path) -> None:
    assert load_profile(_profile(tmp_path / "a", None), tmp_path).calendar_deadlines == "keep"
    rolls = load_profile(_profile(tmp_path / "b", "roll_back"), tmp_path)
    assert rolls.rolls_back
    with pytest.raises(ValueError, match="use one of keep, roll_back"):
        load_profile(_profile(tmp_path / "c", "forwards"), tmp_path)


def test_the_diagram_functions_roll_back_a_rule_and_its_reminder(tmp_path: Path) -> None:
    profile = load_profile(_profile(tmp_path, "roll_back"), tmp_path)
    kept = diagram_functions(CAL, profile.timescales)
    rolled = diagram_functions(CAL, profile.timescales, roll_back=True)
    start = "2026-12-10"  # + 1 month = Sun 10 Jan 2027
    assert due_date(to_datetime(kept["deadline"]("first_review", start))) == date(2027, 1, 10)
    assert due_date(to_datetime(rolled["deadline"]("first_review", start))) == date(2027, 1, 8)
    # the reminder counts back from the day the deadline is now due: Wed 6 Jan 2027
    assert due_date(to_datetime(rolled["reminder"]("first_review", start))) == date(2027, 1, 6)
    assert due_date(to_datetime(kept["reminder"]("first_review", start))) == date(2027, 1, 7)
