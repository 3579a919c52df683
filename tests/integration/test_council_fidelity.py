"""Council fidelity: clocks count from the event, entered as a date; councils read their own words.

A Portsmouth case starts with the date of the event the seed counts from (transfer to the
Child in Need team, the end of the assessment, the step-down event). A missing date or a
timestamp instead of a date is refused and nothing is saved; the timers count from the date
given, not from the moment the case is opened.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.clock import FixedClock
from engine.errors import InvalidData
from engine.services import Engine, NewChild

ROOT = Path(__file__).resolve().parents[2]


def test_portsmouth_start_dates_are_required_real_dates(
    engine: Engine, fixed_clock: FixedClock
) -> None:
    fixed_clock.set(datetime(2027, 1, 11, 9, tzinfo=UTC))
    engine.deploy(
        [ROOT / "processes" / "common", ROOT / "processes" / "portsmouth"],
        "pm1",
        council="portsmouth",
    )
    child = NewChild("Ada Example")
    with pytest.raises(InvalidData) as missing:
        engine.start_case(
            "portsmouth_after_assessment", child, {"cin_start_date": "2027-01-04"}, "sw1"
        )
    assert [e.field for e in missing.value.errors] == ["transfer_date"]
    assert "case transferred" in missing.value.errors[0].message
    with pytest.raises(InvalidData) as instant:
        engine.start_case(
            "portsmouth_return_home_unplanned", child, {"cin_start_date": "yesterday"}, "sw1"
        )
    assert [e.field for e in instant.value.errors] == ["cin_start_date"]
    assert engine.list_cases() == []
    case = engine.start_case(
        "portsmouth_after_assessment",
        child,
        {"transfer_date": "2027-01-04", "cin_start_date": "2026-12-31"},
        "sw1",
    )
    assert [t.element_id for t in case.tasks] == ["seek_consent"]


def test_a_portsmouth_worker_reads_portsmouth_guidance_on_a_shared_step(
    engine: Engine, fixed_clock: FixedClock
) -> None:
    """The task page's guidance for a shared block's step keeps only Portsmouth's citations."""
    fixed_clock.set(datetime(2027, 3, 9, 10, tzinfo=UTC))
    engine.deploy(
        [ROOT / "processes" / "common", ROOT / "processes" / "portsmouth"],
        "pm1",
        council="portsmouth",
    )
    case = engine.start_case(
        "portsmouth_return_home_unplanned",
        NewChild("Leo Marsh"),
        {"cin_start_date": "2027-03-05"},
        "sw1",
    )
    task = engine.task(case.tasks[0].id)
    assert task.element_id == "arrange_meeting"
    assert task.documentation.endswith("P2 · Portsmouth 1.2")
    for other in ("Dudley", "Teeswide", "Rochdale", "Waltham Forest", "D2", "T4", "R9", "W1"):
        assert other not in task.documentation
    assert task.rule_id == "P2"
