"""Moving a running case onto another version of its process, keeping its deadlines' start.

Part of the SpiffWorkflow adapter (engine/runtime.py). SpiffWorkflow's `migrate_workflow`
resets every READY and WAITING branch, so each waiting timer would be evaluated again from
now: a deadline 10 working days away would restart on the day of the migration. Here the
timers' values are kept: a timer whose expression did not change gets its old due instant
back; one whose rule changed (another timescale key, another date) is evaluated again with
the clock at the timer's original start, and reported so the caller can audit it.

A case is refused, with the reason, when its history or current steps use elements the new
version no longer has, or when a subprocess it is inside changed shape (steps added or
removed): SpiffWorkflow could not restore it, or would leave it on a path that no longer exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.bpmn.util.diff import SpecDiff, diff_workflow, migrate_workflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine import clock
from engine.clock import FixedClock

ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED


@dataclass(frozen=True)
class KeptTimer:
    """A waiting timer across the migration: its due instant before and after."""

    task_id: str
    element_id: str
    name: str
    before: str
    after: str
    expression_before: str
    expression_after: str

    @property
    def recomputed(self) -> bool:
        return self.expression_before != self.expression_after


@dataclass(frozen=True)
class Migration:
    """What migrating did (or, on a copy, would do): refusal reasons, or the steps and timers."""

    reasons: tuple[str, ...] = ()
    steps: tuple[str, ...] = ()  # element ids of the READY user tasks afterwards
    timers: tuple[KeptTimer, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.reasons


def _label(task: Any) -> str:
    spec = task.task_spec
    name = getattr(spec, "bpmn_name", None) or getattr(spec, "bpmn_id", None) or spec.name
    return f'"{name}" ({getattr(spec, "bpmn_id", None) or spec.name})'


def check(registry: Any, workflow: BpmnWorkflow, spec: Any, subs: Mapping[str, Any]) -> list[str]:
    """Why `workflow` cannot move to `spec` (empty: it can). Changes nothing."""
    reasons: list[str] = []
    top, sub_diffs = diff_workflow(registry, workflow, spec, subs)
    for task in top.removed:
        where = "its current step" if task.has_state(ACTIVE) else "a step it has passed"
        reasons.append(f"{where} {_label(task)} is not in the new version")
    for sp_id, sub_diff in sub_diffs.items():
        sub = workflow.subprocesses[sp_id]
        name = sub.spec.name
        if sub_diff is None:
            reasons.append(f'subprocess "{name}" is not in the new version')
            continue
        shape = SpecDiff(registry, sub.spec, subs[name])
        if shape.added or shape.removed:
            if not sub.is_completed():
                reasons.append(
                    f'subprocess "{name}" that the case is in changed shape '
                    f"({len(shape.added)} step(s) added, {len(shape.removed)} removed)"
                )
            else:
                reasons.extend(
                    f'a step it has passed in "{name}", {_label(task)}, is not in the new version'
                    for task in sub_diff.removed
                )
    reasons.extend(_new_events_on_current_steps(workflow, spec, subs))
    return reasons


def _new_events_on_current_steps(
    workflow: BpmnWorkflow, spec: Any, subs: Mapping[str, Any]
) -> list[str]:
    """A step the case waits at that gained a boundary event (a timer, a message) in the new
    version would not get it: SpiffWorkflow attached the events when the step began."""
    reasons = []
    for task in workflow.get_tasks(state=TaskState.READY | TaskState.STARTED):
        split = task.parent
        if split is None or not split.task_spec.name.endswith(".BoundaryEventSplit"):
            continue
        own = task.workflow.spec
        target = spec if own.name == spec.name else subs.get(own.name)
        new_split = target.task_specs.get(split.task_spec.name) if target else None
        if new_split is None:
            continue
        have = {child.task_spec.name for child in split.children}
        added = [o for o in new_split.outputs if o.name not in have]
        if added:
            names = ", ".join(f'"{o.bpmn_name or o.bpmn_id or o.name}"' for o in added)
            reasons.append(
                f"its current step {_label(task)} has new events in the new version ({names}), "
                "which a step already started would not get"
            )
    return reasons


def migrate(
    registry: Any,
    workflow: BpmnWorkflow,
    spec: Any,
    subs: Mapping[str, Any],
    started: Mapping[str, datetime],
) -> Migration:
    """Move `workflow` onto `spec`/`subs` in place, keeping each waiting timer's due instant.

    `started`: task id -> when each waiting timer started (the engine's timer rows), so a
    changed rule is counted from the original start. Refused (and unchanged) when `check`
    gives reasons.
    """
    reasons = check(registry, workflow, spec, subs)
    if reasons:
        return Migration(tuple(reasons))
    waiting = {
        str(task.id): (task.internal_data.get("event_value"), task.task_spec.event_definition)
        for task in workflow.get_tasks(state=TaskState.WAITING)
        if isinstance(getattr(task.task_spec, "event_definition", None), TimerEventDefinition)
    }
    top, sub_diffs = diff_workflow(registry, workflow, spec, subs)
    for sp_id, sub_diff in sub_diffs.items():
        sub = workflow.subprocesses[sp_id]
        migrate_workflow(sub_diff, sub, subs[sub.spec.name])
    migrate_workflow(top, workflow, spec)
    workflow.subprocess_specs = dict(subs)
    kept: list[KeptTimer] = []
    for task in workflow.get_tasks(state=TaskState.WAITING | TaskState.READY):
        old = waiting.get(str(task.id))
        definition = getattr(task.task_spec, "event_definition", None)
        if old is None or not isinstance(definition, TimerEventDefinition):
            continue
        value, old_definition = old
        if definition.expression == old_definition.expression:
            after = value
        else:
            start = started.get(str(task.id)) or clock.now()
            with clock.using(FixedClock(start)):
                after = workflow.script_engine.evaluate(task, definition.expression)
        task.internal_data["event_value"] = after
        task._set_state(TaskState.WAITING)
        kept.append(
            KeptTimer(
                str(task.id),
                task.task_spec.bpmn_id or task.task_spec.name,
                task.task_spec.bpmn_name or "",
                str(value),
                str(after),
                old_definition.expression or "",
                definition.expression or "",
            )
        )
    steps = tuple(
        sorted(
            t.task_spec.bpmn_id
            for t in workflow.get_tasks(state=TaskState.READY)
            if isinstance(t.task_spec, UserTask)
        )
    )
    return Migration((), steps, tuple(kept))
