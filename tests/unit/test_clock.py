"""The engine clock: one source of now, which the engine's timer definitions follow too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer

from engine import clock
from engine.calendar import WorkingCalendar
from engine.clock import FixedClock, OffsetClock
from engine.functions import diagram_functions
from engine.runtime import TIMER_DEFINITIONS, Parser, Runtime

WAIT_A_DAY = Path(__file__).parent.parent / "integration" / "data" / "wait_a_day.bpmn"

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


def _waiting_timer(at: datetime) -> tuple[Runtime, Any, Any]:
    """A case of wait_a_day.bpmn started at `at`, waiting on its timer (due one day later)."""
    runtime = Runtime()
    parser = Parser()
    parser.add_bpmn_file(str(WAIT_A_DAY))
    (pid,) = parser.get_process_ids()
    spec, subs = parser.get_spec(pid), parser.get_subprocess_specs(pid)
    # as a deployed version is used: stored as JSON, restored by the runtime's serializer
    spec, subs = runtime.spec_from_json("wait", runtime.spec_to_json(spec, subs))
    functions = diagram_functions(WorkingCalendar([]), {})
    with clock.using(FixedClock(at)):
        workflow = runtime.new_workflow(spec, subs, {}, functions)
        runtime.run(workflow)
    return runtime, workflow, functions


def test_timers_are_the_engines_own_definitions_after_parsing_and_restoring() -> None:
    _runtime, workflow, _functions = _waiting_timer(AT)
    definitions = [
        t.task_spec.event_definition
        for t in workflow.get_tasks()
        if hasattr(t.task_spec, "event_definition")
    ]
    assert definitions and all(
        type(d) in TIMER_DEFINITIONS.values() for d in definitions if "Timer" in type(d).__name__
    )
    assert spiff_timer.datetime is datetime  # SpiffWorkflow's module is left as it was


def test_a_timer_fires_at_its_due_instant_by_the_engine_clock_not_before() -> None:
    runtime, workflow, functions = _waiting_timer(AT)
    (timer,) = runtime.snapshot(workflow, lambda _key: None).timers
    state = runtime.dump_state(workflow)
    with clock.using(FixedClock(timer.due_at - timedelta(microseconds=1))):
        assert runtime.fire_timers(workflow) == []
    restored = runtime.load_state(state, workflow.spec, workflow.subprocess_specs, functions)
    with clock.using(FixedClock(timer.due_at)):
        assert len(runtime.fire_timers(restored)) == 1
