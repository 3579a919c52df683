"""The engine clock: one source of now, which SpiffWorkflow's timers follow too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer

import engine.runtime  # noqa: F401 - installs the clock into SpiffWorkflow's timer module
from engine import clock
from engine.clock import FixedClock, OffsetClock

AT = datetime(2026, 12, 25, 9, 0, tzinfo=UTC)


def test_fixed_clock_needs_a_time_zone() -> None:
    with pytest.raises(ValueError, match="time zone"):
        FixedClock(datetime(2026, 12, 25, 9, 0))


def test_using_nests_and_restores() -> None:
    outer, inner = FixedClock(AT), FixedClock(AT + timedelta(days=1))
    with clock.using(outer):
        assert clock.now() == AT
        with clock.using(inner):
            assert clock.now() == AT + timedelta(days=1)
        assert clock.now() == AT
    assert clock.now() != AT


def test_offset_clock_runs_ahead_of_its_base() -> None:
    base = FixedClock(AT)
    training = OffsetClock(base, timedelta(weeks=3))
    assert training.now() == AT + timedelta(weeks=3)
    base.advance(timedelta(hours=1))
    assert training.now() == AT + timedelta(weeks=3, hours=1)


def test_spiffworkflow_timers_read_the_engine_clock() -> None:
    with clock.using(FixedClock(AT)):
        seen = spiff_timer.datetime.now(UTC)
    # One microsecond ahead, so that a timer is reached at its due instant (Spiff compares <).
    assert seen - AT == timedelta(microseconds=1)
