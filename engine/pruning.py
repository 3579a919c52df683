"""Prune a case's SpiffWorkflow state to what the running case still needs, before each save.

SpiffWorkflow 3.2 keeps every task it ever ran: a loop adds a new chain of tasks per iteration
below the last one, a finished call activity stays in `workflow.subprocesses`, and cancelled
boundary timers stay beside their tasks. A case two years old carried 256 tasks (111 KiB) for
15 that mattered, and every step (de)serialized all of them. The audit log keeps the history;
the live state keeps only:

- every task that is not finished (READY, WAITING, STARTED, predicted, ERROR), the root, and
  each workflow's `last_task` (a call activity copies its subprocess's `last_task.data` out);
- the parent of each of those (a task inherits its parent's data when it becomes ready, and
  SpiffWorkflow's joins read `task.parent.state` and `.task_spec`);
- for a structured join (the join SpiffWorkflow inserts after a task with boundary events) the
  chain up to its split (`find_ancestor(split_task)`), whose children it inspects;
- every finished instance of an unstructured join (parallel gateway, a process's end) and its
  parent: when the join fires it merges the data of every earlier token's parent into its own
  (`UnstructuredJoin._run_hook`), and a parallel gateway counts them as arrived inputs; a loop
  through a parallel gateway still keeps two tasks per pass (see bench/README.md);
- subprocesses whose call activity is still kept and not finished.

SpiffWorkflow's task converter stores a task's data as changes from its parent's, but a
subprocess starts a new tree whose root holds a whole copy of its call activity's data:
`SharedDataTaskConverter` stores the root's data as changes from the call activity's too.
So a form answer is stored once however deep the call activities that carry it.

Everything else is cut out and its kept descendants hang from their nearest kept ancestor, so
"is descendant of" between kept tasks is unchanged (the parallel gateway's join relies on it).
Which elements of the case's own drawing (its process and embedded sub-processes) were ever
completed (the case diagram's "done" marks) is kept as a small map, element id -> first
completion, in `workflow.done_elements` (saved by the runtime's converter); the steps people
completed anywhere are in the audit. Task data is serialized as a delta against the (new) parent.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.serializer.default.workflow import TaskConverter
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import CallActivity
from SpiffWorkflow.bpmn.specs.mixins.unstructured_join import UnstructuredJoin
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.exceptions import TaskNotFoundException
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

__all__ = ["DONE_ATTR", "SharedDataTaskConverter", "done_elements", "prune"]

DONE_ATTR = "done_elements"
_GONE = TaskState.COMPLETED | TaskState.CANCELLED


def done_elements(workflow: Any) -> dict[str, float]:
    """Top-level elements completed in pruned history: element id -> first completion time."""
    done = getattr(workflow, DONE_ATTR, None)
    if done is None:
        done = {}
        setattr(workflow, DONE_ATTR, done)
    return done


def prune(workflow: Any) -> int:
    """Drop what the case no longer needs from `workflow` (in place); return tasks removed."""
    done = done_elements(workflow)
    for wf in _drawn_on_top(workflow):  # the diagram's done marks, before the tasks go
        for task in wf.tasks.values():
            element = getattr(task.task_spec, "bpmn_id", None)
            if element and task.state == TaskState.COMPLETED:
                first = done.get(element)
                if first is None or task.last_state_change < first:
                    done[element] = task.last_state_change
    removed = _prune_tasks(workflow) + _drop_subprocesses(workflow)
    for sub in workflow.subprocesses.values():
        removed += _prune_tasks(sub)
    return removed + _drop_subprocesses(workflow)


def _drawn_on_top(top: Any) -> list[Any]:
    """The case's workflow and its embedded sub-processes, not through a call activity: their
    elements are drawn in the case's own diagram (a called process is another file)."""

    def task(task_id: Any) -> Any:
        try:
            return top.get_task_from_id(task_id)
        except TaskNotFoundException:  # its owner is gone: _drop_subprocesses removes it
            return None

    drawn = [top]
    for sub in top.subprocesses.values():
        owner = task(sub.parent_task_id)
        while owner is not None and not isinstance(owner.task_spec, CallActivity):
            if owner.workflow is top:
                drawn.append(sub)
                break
            owner = task(owner.workflow.parent_task_id)
    return drawn


def _drop_subprocesses(top: Any) -> int:
    """Remove subprocesses whose call activity is gone, or finished with the subprocess done
    (its data already copied out), and any nested in a removed one."""
    removed = 0
    changed = True
    while changed:
        changed = False
        for key, sub in list(top.subprocesses.items()):
            owner = top.tasks.get(key)
            if owner is None:
                owner = next(
                    (o.tasks[key] for o in top.subprocesses.values() if key in o.tasks), None
                )
            if owner is None or (owner.state & _GONE and sub.completed):
                removed += len(sub.tasks)
                del top.subprocesses[key]
                changed = True
    return removed


def _prune_tasks(wf: Any) -> int:
    tasks: dict[UUID, Task] = wf.tasks
    root = wf.task_tree
    keep: set[UUID] = {root.id}
    if wf.last_task is not None and wf.last_task.id in tasks:
        keep.add(wf.last_task.id)
    for task in tasks.values():
        if task.state & _GONE:
            if isinstance(task.task_spec, UnstructuredJoin):
                keep.add(task.id)  # a join merges the data of every token that reached it
                if task._parent is not None:
                    keep.add(task._parent)
            continue
        keep.add(task.id)
        if task._parent is not None:
            keep.add(task._parent)
        split = getattr(task.task_spec, "split_task", None)
        if split:  # a structured join inspects its split's children
            ancestor = task.parent
            while ancestor is not None:
                keep.add(ancestor.id)
                if ancestor.task_spec.name == split:
                    break
                ancestor = ancestor.parent
    if len(keep) == len(tasks):
        return 0
    # one depth-first pass: each kept task hangs from its nearest kept ancestor, order kept
    children: dict[UUID, list[UUID]] = {tid: [] for tid in keep}
    stack: list[tuple[UUID, UUID]] = [(c, root.id) for c in reversed(root._children)]
    while stack:
        tid, anchor = stack.pop()
        task = tasks.get(tid)
        if task is None:
            continue
        if tid in keep:
            children[anchor].append(tid)
            task._parent = anchor
            anchor = tid
        stack.extend((c, anchor) for c in reversed(task._children))
    for tid, kids in children.items():
        tasks[tid]._children = kids
    before = len(tasks)
    wf.tasks = {tid: task for tid, task in tasks.items() if tid in keep}
    return before - len(wf.tasks)


class SharedDataTaskConverter(TaskConverter):
    """SpiffWorkflow's task converter (data as changes from the parent's), extended so a
    subprocess's root task stores its data as changes from its call activity's."""

    def to_dict(self, task: Task) -> dict[str, Any]:
        dct = super().to_dict(task)
        owner = _call_activity(task)
        if owner is not None:
            dct["data"] = {}
            dct["delta"] = {
                "updates": DeepMerge.get_updated_keys(owner.data, task.data),
                "deletions": DeepMerge.get_deleted_keys(owner.data, task.data),
            }
            dct["delta_from"] = "call_activity"
        return dct

    def from_dict(self, dct: dict[str, Any], workflow: Any) -> Task:
        from_owner = dct.pop("delta_from", None) == "call_activity"
        task = super().from_dict(dct, workflow)
        owner = _call_activity(task) if from_owner else None
        if owner is not None:  # its parent workflow is restored first
            data = DeepMerge.merge({}, owner.data)
            delta = dct["delta"]
            data.update(self.registry.restore(delta.get("updates", {})))
            for key in delta.get("deletions", []):
                data.pop(key, None)
            task.data = data
        return task


def _call_activity(task: Task) -> Task | None:
    """The call activity of a subprocess's root task, if `task` is one."""
    wf = task.workflow
    if not isinstance(wf, BpmnSubWorkflow) or task._parent is not None:
        return None
    top, key = wf.top_workflow, wf.parent_task_id
    if key in top.tasks:
        return top.tasks[key]
    return next((sub.tasks[key] for sub in top.subprocesses.values() if key in sub.tasks), None)
