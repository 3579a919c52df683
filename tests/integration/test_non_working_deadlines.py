"""A calendar-day deadline on a day that is not a working day, on the real engine: kept where
it falls by default, moved to the last working day before it where the council's timescales.yaml
says `calendar_deadlines_on_non_working_days: roll_back` (audited, with why)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from factories import planned_return_home, processes_rolling_back

from engine.calendar import due_date
from engine.services import Engine


@pytest.fixture
def processes(tmp_path: Path) -> Path:
    """The shipped packs, with Portsmouth rolling calendar-day deadlines back."""
    return processes_rolling_back(tmp_path)


def _planned_return_home(engine: Engine, fixed_clock) -> int:  # noqa: ANN001
    return planned_return_home(engine, fixed_clock, worker="sw1", chair="iro1")


def _due(engine: Engine, case_id: int) -> dict[str, date]:
    case = engine.get_case(case_id)
    found = {t.element_id: due_date(t.due_at) for t in case.timers}
    found |= {t.element_id: due_date(t.due_at) for t in case.tasks if t.due_at}
    return found


def test_by_default_the_deadline_stays_on_the_sunday(engine: Engine, fixed_clock) -> None:  # noqa: ANN001
    case_id = _planned_return_home(engine, fixed_clock)
    due = _due(engine, case_id)
    assert due["arrange_meeting"] == due["return_home_planned_planning_deadline"]
    assert due["arrange_meeting"] == date(2027, 1, 3)
    assert due["return_home_planned_planning_reminder"] == date(2026, 12, 31)
    assert not [e for e in engine.audit_trail(case_id) if e.action == "deadline_rolled_back"]


def test_roll_back_moves_the_deadline_to_the_last_working_day_before_it(
    db_url: str,
    processes: Path,
    fixed_clock,  # noqa: ANN001
) -> None:
    engine = Engine(db_url, processes_dir=processes)
    engine.init_db()
    try:
        case_id = _planned_return_home(engine, fixed_clock)
        due = _due(engine, case_id)
        # Sun 3 Jan 2027 -> Thu 31 Dec 2026 (Fri 1 Jan is New Year's Day, then the weekend)
        assert due["arrange_meeting"] == date(2026, 12, 31)
        assert due["return_home_planned_planning_deadline"] == date(2026, 12, 31)
        # the reminder keeps its 3 days before the deadline as it now is
        assert due["return_home_planned_planning_reminder"] == date(2026, 12, 28)
        [moved] = [e for e in engine.audit_trail(case_id) if e.action == "deadline_rolled_back"]
        assert moved.actor == "system" and moved.detail["rule"] == "P16"
        assert due_date(datetime.fromisoformat(moved.detail["from"])) == date(2027, 1, 3)
        assert due_date(datetime.fromisoformat(moved.detail["to"])) == date(2026, 12, 31)
        assert moved.detail["reason"] == (
            "Sun 3 Jan 2027 is not a working day: Portsmouth City Council moves a calendar-day "
            "deadline to the last working day before it "
            "(calendar_deadlines_on_non_working_days: roll_back)"
        )
    finally:
        engine.dispose()
