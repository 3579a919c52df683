"""Clocks that count from an event read a date given at the start, checked by the start form.

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
