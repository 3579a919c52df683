"""Where a case is on its drawings: which elements are done, current, or hold the current step,
for the case's own diagram and for each called process it is inside (a call activity's diagram
is another file, so each call is its own "view", keyed by the call activity ids from the top,
joined with "/").

An embedded sub-process is drawn in the same file, so its steps are marked themselves (the
sub-process only "holds" the current step); a step inside a call activity marks the call in the
caller's view and itself in the called process's view. The steps people completed are not read
from here: pruning drops a finished call's tasks, so they come from the audit trail
(`store.cases.completed_steps`), each recorded with its view (`view_key`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import CallActivity, SubWorkflowTask
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine import pruning

TOP = ""  # the view key of the case's own diagram


@dataclass(frozen=True)
class ViewStates:
    """One drawing's marks: `process_id` is the process drawn (the called one for a call)."""

    process_id: str
    name: str
    completed: list[str]
    current: list[str]
    holds: list[str]  # sub-processes and calls with the current step inside
    names: dict[str, str]


@dataclass(frozen=True)
class ElementStates:
    completed: list[str]
    current: list[str]
    names: dict[str, str]
    top_level_element: dict[str, str]  # task id -> the element that shows it on the case diagram
    holds: list[str] = field(default_factory=list)
    calls: dict[str, ViewStates] = field(default_factory=dict)  # view key -> its marks
    placed: dict[str, dict[str, str]] = field(default_factory=dict)  # task id -> view -> element


class _View:
    def __init__(self, process_id: str, name: str) -> None:
        self.process_id, self.name = process_id, name
        self.completed: set[str] = set()
        self.current: set[str] = set()
        self.holds: set[str] = set()
        self.names: dict[str, str] = {}
        self.done_at: dict[str, float] = {}

    def done(self, element: str, at: float) -> None:
        self.completed.add(element)
        self.done_at[element] = min(at, self.done_at.get(element, at))

    def ordered_done(self) -> list[str]:
        done = self.completed - self.current - self.holds
        return sorted(done, key=lambda e: (self.done_at.get(e, float("inf")), e))

    def freeze(self) -> ViewStates:
        return ViewStates(
            self.process_id,
            self.name,
            self.ordered_done(),
            sorted(self.current),
            sorted(self.holds - self.current),
            self.names,
        )


def _chain(workflow: BpmnWorkflow, task: Any) -> list[Any]:
    """The task and the sub-process and call tasks around it, outermost first."""
    chain = [task]
    while chain[0].workflow is not workflow:
        chain.insert(0, workflow.get_task_from_id(chain[0].workflow.parent_task_id))
    return chain


def _views(chain: list[Any]) -> list[tuple[str, Any, Any]]:
    """(view key, the task that shows the chain's last task in that view, the call task that
    opened the view or None), outermost first: in each view the deepest task drawn there (the
    call activity, or the task itself)."""
    shown: dict[str, list[Any]] = {TOP: [None, None]}
    key = TOP
    for task in chain:
        shown[key][0] = task
        if isinstance(task.task_spec, CallActivity) and task is not chain[-1]:
            key = f"{key}/{task.task_spec.bpmn_id}" if key else task.task_spec.bpmn_id
            shown[key] = [None, task]
    return [(k, v[0], v[1]) for k, v in shown.items()]


def view_key(workflow: BpmnWorkflow, task: Any) -> str:
    """The view a task is drawn in: the call activity ids from the top, joined with "/"."""
    return _views(_chain(workflow, task))[-1][0]


def element_states(workflow: BpmnWorkflow) -> ElementStates:
    views: dict[str, _View] = {TOP: _View(workflow.spec.name, workflow.spec.description or "")}
    top_level: dict[str, str] = {}
    placed: dict[str, dict[str, str]] = {}
    for task in workflow.get_tasks():
        spec = task.task_spec
        if not getattr(spec, "bpmn_id", None):
            continue
        active = task.has_state(TaskState.READY | TaskState.WAITING | TaskState.STARTED)
        boundary = type(spec).__name__ == "BoundaryEvent"
        chain = _chain(workflow, task)
        for key, shown, call in _views(chain):
            element = getattr(shown.task_spec, "bpmn_id", None)
            if not element:
                continue
            if key not in views:
                views[key] = _View(call.task_spec.spec, call.task_spec.bpmn_name or "")
            view = views[key]
            view.names[element] = shown.task_spec.bpmn_name or element
            placed.setdefault(str(task.id), {})[key] = element
            if key == TOP:
                top_level[str(task.id)] = element
            own = shown is task
            if own and task.has_state(TaskState.COMPLETED):
                view.done(element, task.last_state_change)
            if not active or not (isinstance(spec, UserTask) or (own and not boundary)):
                continue
            if own and isinstance(spec, SubWorkflowTask) and not isinstance(spec, CallActivity):
                view.holds.add(element)
            else:
                view.current.add(element)
    top = views[TOP]
    for element, at in pruning.done_elements(workflow).items():  # pruned history
        spec = workflow.spec.task_specs.get(element)
        top.done(element, at)
        top.names.setdefault(element, (spec.bpmn_name if spec else None) or element)
    frozen = top.freeze()
    return ElementStates(
        frozen.completed,
        frozen.current,
        top.names,
        top_level,
        frozen.holds,
        {key: view.freeze() for key, view in views.items() if key != TOP},
        placed,
    )


def next_steps(workflow: BpmnWorkflow, limit: int = 12) -> list[tuple[str, str]]:
    """(name, lane) of the steps people do that the case can reach from its current steps,
    nearest first: along the sequence flows, into sub-processes and called processes and out
    at their end, not through boundary timers (as the diagram's "still to come" marks)."""
    specs = workflow.subprocess_specs
    start: list[tuple[Any, tuple[Any, ...]]] = []
    here: set[str] = set()
    for task in workflow.get_tasks(state=TaskState.READY | TaskState.WAITING):
        if isinstance(task.task_spec, UserTask):
            here.add(task.task_spec.bpmn_id)
            returns = tuple(t.task_spec for t in _chain(workflow, task)[:-1])
            start += [(spec, returns) for spec in task.task_spec.outputs]
    found: dict[tuple[str, str], None] = {}
    seen: set[tuple[int, tuple[int, ...]]] = set()
    queue = list(start)
    while queue and len(found) < limit and len(seen) < 5000:
        spec, returns = queue.pop(0)
        key = (id(spec), tuple(id(r) for r in returns))
        if key in seen:
            continue
        seen.add(key)
        if isinstance(spec, UserTask) and spec.bpmn_id not in here:
            found[(spec.bpmn_name or spec.bpmn_id, spec.lane or "")] = None
        if isinstance(spec, SubWorkflowTask) and spec.spec in specs:
            queue.append((specs[spec.spec].start, (*returns, spec)))
            continue
        outputs = [o for o in spec.outputs if type(o).__name__ != "BoundaryEvent"]
        if not outputs and returns:  # the end of a sub-process: on after its activity
            outputs, returns = returns[-1].outputs, returns[:-1]
        queue += [(o, returns) for o in outputs]
    return list(found)
