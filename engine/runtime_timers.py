"""The engine's own timer event definitions and the parser that builds them.

SpiffWorkflow's timer definitions read `datetime.now(timezone.utc)`. The engine's subclasses read
`engine.clock` instead and fire AT the due instant (Spiff fires once `due < now`). They keep
SpiffWorkflow's class names, so stored specs and states name them as before; `Parser` builds them
(its parser class map) and `engine.runtime`'s serializer restores them (`TIMER_DEFINITIONS`).
Part of the SpiffWorkflow adapter with `runtime.py` and `runtime_migration.py`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from SpiffWorkflow.bpmn.parser.event_parsers import EventDefinitionParser
from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.task import Task

from engine import clock


def _now() -> datetime:
    return clock.now().astimezone(UTC)


def _reached(due: datetime) -> bool:
    return due <= _now()


class TimeDateEventDefinition(spiff_timer.TimeDateEventDefinition):
    """A timer at an instant (timeDate): every deadline and reminder of the diagrams."""

    def has_fired(self, my_task: Task) -> bool:
        event_value = my_task._get_internal_data("event_value")
        if event_value is None:
            event_value = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            my_task._set_internal_data(event_value=event_value)
        if _reached(spiff_timer.TimerEventDefinition.parse_time_or_duration(event_value)):
            my_task._set_internal_data(event_fired=True)
        return my_task._get_internal_data("event_fired", False)


class DurationTimerEventDefinition(spiff_timer.DurationTimerEventDefinition):
    """A timer a duration after it starts (timeDuration)."""

    def has_fired(self, my_task: Task) -> bool:
        event_value = my_task._get_internal_data("event_value")
        if event_value is None:
            expression = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            parsed = spiff_timer.TimerEventDefinition.parse_iso_duration(expression)
            start = _now()
            delta = spiff_timer.TimerEventDefinition.get_timedelta_from_start(parsed, start)
            event_value = (start + delta).isoformat()
            my_task._set_internal_data(event_value=event_value)
        if _reached(spiff_timer.TimerEventDefinition.get_datetime(event_value)):
            my_task._set_internal_data(event_fired=True)
        return my_task._get_internal_data("event_fired", False)


class CycleTimerEventDefinition(spiff_timer.CycleTimerEventDefinition):
    """A repeating timer (timeCycle); an interval without a start begins now."""

    def cycle_complete(self, my_task: Task) -> bool:
        timer = spiff_timer.TimerEventDefinition
        event_value = my_task._get_internal_data("event_value")
        if event_value is None:
            expression = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            parts = expression.upper().replace("--", "/").strip("R").split("/")
            if len(parts) == 2 and parts[1].startswith("P"):  # "R3/PT1H": from now
                delta = timer.get_timedelta_from_start(timer.parse_iso_duration(parts[1]), _now())
                cycles, start = int(parts[0]) if parts[0] else -1, _now() + delta
            else:
                cycles, start, delta = timer.parse_iso_recurring_interval(expression)
            event_value = {
                "cycles": cycles,
                "next": start.isoformat(),
                "duration": delta.total_seconds(),
            }
        ready = False
        if event_value["cycles"] != 0:
            next_event = datetime.fromisoformat(event_value["next"])
            if _reached(next_event):
                following = next_event + timedelta(seconds=event_value["duration"])
                event_value["next"] = following.isoformat()
                event_value["cycles"] -= 1
                ready = True
        else:
            my_task.internal_data.pop("event_value", None)
            my_task.internal_data["event_fired"] = True
        my_task._set_internal_data(event_value=event_value)
        return ready


# SpiffWorkflow's timer definition classes -> the engine's (parser and serializer use this map)
TIMER_DEFINITIONS: dict[type, type] = {
    spiff_timer.TimeDateEventDefinition: TimeDateEventDefinition,
    spiff_timer.DurationTimerEventDefinition: DurationTimerEventDefinition,
    spiff_timer.CycleTimerEventDefinition: CycleTimerEventDefinition,
}


def _engine_timer(definition: Any) -> Any:
    """The engine's timer definition in place of SpiffWorkflow's (anything else unchanged)."""
    ours = TIMER_DEFINITIONS.get(type(definition))
    if ours is None:
        return definition
    return ours(definition.name, definition.expression, description=definition.description)


def _timer_parser(base: type) -> type:
    """An event parser whose timer definitions are the engine's."""

    def parse_timer_event(self: Any, event: Any) -> Any:
        return _engine_timer(base.parse_timer_event(self, event))

    return type(base.__name__, (base,), {"parse_timer_event": parse_timer_event})


class Parser(SpiffBpmnParser):
    """SpiffWorkflow's parser with the engine's timer event definitions (its parser class map)."""

    OVERRIDE_PARSER_CLASSES = {
        tag: (
            _timer_parser(parser) if issubclass(parser, EventDefinitionParser) else parser,
            spec,
        )
        for tag, (parser, spec) in SpiffBpmnParser.OVERRIDE_PARSER_CLASSES.items()
    }
