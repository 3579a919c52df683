"""A calendar-day deadline the council's `roll_back` setting moved off a Sunday, as a social
worker reads it: the task page and the case page say where it was moved from (read from the
`deadline_rolled_back` audit event); the worklist gives the moved day in the same words."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from factories import planned_return_home, processes_rolling_back

from engine.services import Engine

ROOT = Path(__file__).resolve().parents[2]
KEEP = "calendar_deadlines_on_non_working_days: keep"
WORDS = "Thu 31 Dec 2026, in 3 working days"  # 25 and 28 December are holidays
MOVED = "Moved from Sun 3 Jan 2027, not a working day"


@pytest.fixture
def engine(world_db, tmp_path: Path, fixed_clock) -> Iterator[Engine]:  # noqa: ANN001
    """The web world, with Portsmouth's pack rolling calendar-day deadlines back."""
    processes = processes_rolling_back(tmp_path)
    db = tmp_path / "cinflow.db"
    shutil.copy(world_db[0], db)
    eng = Engine(f"sqlite:///{db}", processes_dir=processes)
    yield eng
    eng.dispose()


def test_a_moved_deadline_says_where_from_on_the_task_and_case_pages(
    client_request,
    engine: Engine,
    fixed_clock,  # noqa: ANN001
) -> None:
    # P16: a planned return home on Christmas Eve; the first planning meeting is due within 10
    # calendar days, Sunday 3 January 2027, moved back to Thursday 31 December (Friday 1
    # January is New Year's Day).
    case_id = planned_return_home(engine, fixed_clock, team="north")
    (arrange,) = [t for t in engine.get_case(case_id).tasks if t.element_id == "arrange_meeting"]

    sw = client_request.sign_in("sw.north")
    page = sw.get(f"/tasks/{arrange.id}")
    assert page.text_of(page.testid("task-deadline")[0]) == f"Due {WORDS} {MOVED}"
    assert page.testid("task-deadline")[0].xpath(".//time/@datetime") == ["2026-12-31"]

    shown = sw.get(f"/cases/{case_id}")
    (row,) = [
        r
        for r in shown.testid("current-tasks")[0].xpath(".//tbody/tr")
        if arrange.name in shown.text_of(r)
    ]
    assert f"{WORDS} {MOVED}" in shown.text_of(row)

    # The worklist gives the moved day in the same words (where it was moved from is on the
    # step's own pages: a list does not read each case's audit trail).
    (listed,) = [r for r in sw.get("/worklist/unclaimed").rows() if r["child"] == "Ella Short"]
    assert listed["due"] == WORDS


def test_a_deadline_that_was_not_moved_says_nothing_of_it(client_request, engine) -> None:  # noqa: ANN001
    """Portsmouth rolls back here, but Amelia's working-day deadline was never moved."""
    sw = client_request.sign_in("sw.north")
    (amelia,) = [r for r in sw.get("/worklist").rows() if r["child"] == "Amelia Hughes"]
    page = sw.get(f"/tasks/{amelia['id']}")
    assert page.text_of(page.testid("task-deadline")[0]) == (
        "Due Mon 16 Nov 2026, overdue by 5 working days Overdue"
    )
    assert "Moved from" not in page.text
