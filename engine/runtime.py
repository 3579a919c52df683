"""The SpiffWorkflow adapter: parse, serialize, restore, step, and say what is READY/WAITING.

One `Runtime` object is built once from parser class, serializer and the restricted script
environment (after spiff-example-cli). Nothing above this module imports SpiffWorkflow.

Longer than 500 lines on purpose: with `runtime_timers.py` (the engine's timer definitions and
parser) and `runtime_migration.py` (moving a case to another version) it is all that touches
SpiffWorkflow's internals (serializer registry, task states), so whoever upgrades SpiffWorkflow
reads these three files.
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import VERSION as SERIALIZER_VERSION
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from engine import clock, pruning, runtime_states
from engine.clock import FixedClock
from engine.errors import CinflowError, DiagramError
from engine.expressions import ExpressionError, evaluate, script_engine
from engine.runtime_states import ElementStates
from engine.runtime_timers import TIMER_DEFINITIONS, Parser

__all__ = [
    "SERIALIZER_VERSION",
    "TIMER_DEFINITIONS",
    "Parser",
    "Runtime",
    "Snapshot",
    "UserTaskView",
    "TimerView",
]


# --- serialization -----------------------------------------------------------------------------


class _StateOnlyWorkflowConverter(BpmnWorkflowConverter):
    """Saves instance state without the spec; restores onto spec objects cached per version."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct = super(BpmnWorkflowConverter, self).to_dict(workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        done = getattr(workflow, pruning.DONE_ATTR, None)
        if done:
            dct[pruning.DONE_ATTR] = done
        last = workflow.last_task
        if workflow.completed and last is not None and workflow.data == last.data:
            dct["data"], dct["data_is_last_task"] = {}, True  # a finished case: stored once
        return dct

    def from_dict(self, dct: dict[str, Any]) -> BpmnWorkflow:
        spec = dct.pop("spec")
        subprocess_specs = dct.pop("subprocess_specs", {})
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        if dct.pop("data_is_last_task", False) and workflow.last_task is not None:
            workflow.data = dict(workflow.last_task.data)  # as `_mark_complete` made it
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        setattr(workflow, pruning.DONE_ATTR, dct.pop(pruning.DONE_ATTR, {}))
        return workflow


def _make_serializer() -> BpmnWorkflowSerializer:
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = _StateOnlyWorkflowConverter
    config[Task] = pruning.SharedDataTaskConverter
    for spiffs, ours in TIMER_DEFINITIONS.items():  # same typenames: stored specs restore as ours
        config[ours] = config.pop(spiffs)
    registry = BpmnWorkflowSerializer.configure(config)
    registry.register(
        date, lambda v: {"value": v.isoformat()}, lambda v: date.fromisoformat(v["value"]), "date"
    )
    registry.register(
        Decimal, lambda v: {"value": str(v)}, lambda v: Decimal(v["value"]), "Decimal"
    )
    return BpmnWorkflowSerializer(registry)


# --- what a case looks like from outside ---------------------------------------------------------


# An escalation step's own deadline unless the council's timescales.yaml says otherwise.
ESCALATION_AFTER = "1 working day"
ESCALATION_SEARCH_DEPTH = 4


@dataclass(frozen=True)
class UserTaskView:
    task_id: str
    element_id: str
    name: str
    lane: str | None
    form: str | None
    due_at: datetime | None
    rule_id: str | None
    process_id: str
    # An escalation step: the element whose deadline timer led here, and that deadline.
    escalates: str | None = None
    missed_at: datetime | None = None


@dataclass(frozen=True)
class TimerView:
    task_id: str
    element_id: str
    name: str
    kind: str  # "deadline" (boundary, escalates), "reminder" (boundary, before), "timer"
    attached_to: str | None
    due_at: datetime
    rule_id: str | None
    expression: str = ""


@dataclass(frozen=True)
class Snapshot:
    user_tasks: list[UserTaskView] = field(default_factory=list)
    timers: list[TimerView] = field(default_factory=list)
    completed: bool = False


_KEY_CALL = re.compile(r"""\b(deadline|reminder)\(\s*["']([A-Za-z0-9_]+)["']""")


def timer_kind_and_key(expression: str, attached: bool) -> tuple[str, str | None]:
    """Classify a timer by its expression: reminders remind, boundary deadlines escalate."""
    match = _KEY_CALL.search(expression or "")
    key = match.group(2) if match else None
    if match and match.group(1) == "reminder":
        return "reminder", key
    return ("deadline" if attached else "timer"), key


def timer_view(task: Task, rule_for_key: Callable[[str], str | None]) -> TimerView | None:
    """What a timer task means to people: its kind, what it is attached to, when, which rule."""
    spec = task.task_spec
    definition = getattr(spec, "event_definition", None)
    if not isinstance(spec, CatchingEvent) or not isinstance(definition, TimerEventDefinition):
        return None
    due = _parse_due(task.internal_data.get("event_value"))
    if due is None:
        return None
    attached_spec = getattr(task.parent.task_spec, "name", "") if task.parent else ""
    attached = attached_spec.endswith(".BoundaryEventSplit")
    attached_to = attached_spec.removesuffix(".BoundaryEventSplit") if attached else None
    props = (spec.extensions or {}).get("properties", {})
    kind, key = timer_kind_and_key(definition.expression, attached)
    if props.get("timer") in ("reminder", "deadline") and attached:
        kind = props["timer"]
    rule = props.get("rule") or (rule_for_key(key) if key else None)
    return TimerView(
        str(task.id),
        spec.bpmn_id or spec.name,
        spec.bpmn_name or spec.bpmn_id or "",
        kind,
        attached_to,
        due,
        rule,
        definition.expression or "",
    )


def _parse_due(value: Any) -> datetime | None:
    if isinstance(value, dict):  # cycle timers keep {"next": ..., "cycles": ...}
        value = value.get("next")
    if not isinstance(value, str):
        return None
    try:
        return TimerEventDefinition.get_datetime(value)
    except ValueError:
        return None


# --- failures while running: one typed error naming the element ------------------------------


def diagram_error(exc: BaseException) -> DiagramError:
    """A failure inside SpiffWorkflow as a refusal that names the element and the expression."""
    spec = getattr(exc, "task_spec", None)
    cause = exc.__cause__ if isinstance(exc.__cause__, ExpressionError) else exc
    expression = cause.expression if isinstance(cause, ExpressionError) else None
    if isinstance(exc, RecursionError):
        problem = "the diagram nests or loops too deeply to run"
    elif isinstance(cause, ExpressionError):
        kind = "timer" if getattr(spec, "event_definition", None) is not None else "condition"
        problem = f"the {kind} could not be worked out: {cause}"
    elif "No conditions satisfied" in str(exc):
        problem = (
            "no condition on the gateway's flows holds for this case and it has no default "
            "flow: mark one flow as the default"
        )
    else:
        problem = str(exc).split("\n")[0] or type(exc).__name__
    process = getattr(spec, "_wf_spec", None)
    return DiagramError(
        problem,
        element_id=getattr(spec, "bpmn_id", None),
        element_name=getattr(spec, "bpmn_name", None),
        process_id=getattr(process, "name", None),
        expression=expression,
    )


@contextmanager
def _diagram_errors() -> Iterator[None]:
    """Anything SpiffWorkflow raises while running a case becomes a DiagramError."""
    try:
        yield
    except CinflowError:
        raise
    except Exception as exc:  # noqa: BLE001 - spiff raises bare Exception for bad timers
        raise diagram_error(exc) from exc


# --- the runtime ---------------------------------------------------------------------------

# Restored specs, shared by every Runtime of the process: a spec is read-only once restored and
# keyed by its content, so engines on different databases (each web test, each journey's scratch
# copy, a demo beside a real one) restore a version once instead of once each (a pack is 22
# versions and about 150 ms). Bounded: draft versions come and go.
SPEC_CACHE_SIZE = 256
_specs: OrderedDict[str, tuple[Any, dict[str, Any]]] = OrderedDict()
_specs_lock = threading.Lock()


class Runtime:
    """Parse, serialize and run workflows; specs restored once per process version.

    `prune` (the default) cuts each saved state down to what the running case still needs
    (engine/pruning.py); `prune=False` keeps SpiffWorkflow's whole history, as the benchmark's
    raw side and the pruning equivalence tests do.
    """

    def __init__(self, prune: bool = True) -> None:
        self.prune = prune
        self.serializer = _make_serializer()

    # specs
    def spec_to_json(self, spec: Any, subprocess_specs: Mapping[str, Any]) -> str:
        registry = self.serializer.registry
        return json.dumps(
            {
                "spec": registry.convert(spec),
                "subprocess_specs": {k: registry.convert(v) for k, v in subprocess_specs.items()},
            }
        )

    def cached_spec(self, key: str) -> tuple[Any, dict[str, Any]] | None:
        """A version's restored specs if this process has them (see `spec_from_json`)."""
        with _specs_lock:
            return _specs.get(key)

    def spec_from_json(self, key: str, spec_json: str) -> tuple[Any, dict[str, Any]]:
        """Restore a version's spec objects once; specs are read-only thereafter.

        `key` must identify the content (process id and sha256), not a row id: one process may
        serve several databases (tests, a demo beside a real one) whose ids overlap.
        """
        with _specs_lock:
            cached = _specs.get(key)
            if cached is not None:
                _specs.move_to_end(key)
                return cached
        dct = json.loads(spec_json)
        registry = self.serializer.registry
        spec = registry.restore(dct["spec"])
        subs = {k: registry.restore(v) for k, v in dct["subprocess_specs"].items()}
        with _specs_lock:
            cached = _specs.setdefault(key, (spec, subs))
            while len(_specs) > SPEC_CACHE_SIZE:
                _specs.popitem(last=False)
        return cached

    # instances
    def new_workflow(
        self, spec: Any, subs: Mapping[str, Any], data: Mapping[str, Any], functions: Functions
    ) -> BpmnWorkflow:
        workflow = BpmnWorkflow(spec, dict(subs), script_engine=script_engine(functions))
        start = workflow.get_next_task(state=TaskState.READY)
        start.data.update(deepcopy(dict(data)))
        return workflow

    def dump_state(self, workflow: BpmnWorkflow) -> str:
        """The state to save; pruned first (in place: what a reload would give anyway)."""
        if self.prune:
            pruning.prune(workflow)
        return self.serializer.serialize_json(workflow)

    def load_state(
        self, state_json: str, spec: Any, subs: Mapping[str, Any], functions: Functions
    ) -> BpmnWorkflow:
        dct = json.loads(state_json)
        self.serializer.migrate(dct)
        dct["spec"], dct["subprocess_specs"] = spec, dict(subs)
        workflow = self.serializer.from_dict(dct)
        workflow.script_engine = script_engine(functions)
        return workflow

    # running
    @staticmethod
    def run(workflow: BpmnWorkflow) -> list[Task]:
        """Run everything that can run without a person; return the timers that fired on the way
        (a timer already past when its step starts fires here, not in the sweep)."""
        fired: list[Task] = []

        def completed(task: Task) -> None:
            definition = getattr(task.task_spec, "event_definition", None)
            if isinstance(task.task_spec, CatchingEvent) and isinstance(
                definition, TimerEventDefinition
            ):
                fired.append(task)

        with _diagram_errors():
            workflow.do_engine_steps(did_complete_task=completed)
        return fired

    @staticmethod
    def fire_timers(workflow: BpmnWorkflow) -> list[Task]:
        """Fire every timer due by the engine clock and run on."""
        with _diagram_errors():
            workflow.refresh_timers()
        return Runtime.run(workflow)

    @staticmethod
    def find_task(workflow: BpmnWorkflow, task_id: str) -> Task | None:
        try:
            return workflow.get_task_from_id(UUID(task_id))
        except Exception:  # noqa: BLE001 - a bad id is ValueError, an unknown one spiff's own
            return None

    @staticmethod
    def find_user_task(workflow: BpmnWorkflow, task_id: str, element_id: str) -> Task | None:
        """The task with this id if it is the diagram element expected (else None)."""
        task = Runtime.find_task(workflow, task_id)
        if task is None or getattr(task.task_spec, "bpmn_id", None) != element_id:
            return None
        return task

    @staticmethod
    def documentation(spec: Any, subs: Mapping[str, Any], element_id: str) -> tuple[str, str]:
        """A diagram element's documentation (a step's guidance), from the version's specs,
        with the id of the process it is drawn in (a council may word a shared block's step)."""
        for candidate in (spec, *subs.values()):
            task_spec = candidate.task_specs.get(element_id)
            if task_spec is not None:
                return candidate.name, task_spec.documentation or ""
        return "", ""

    @staticmethod
    def start_form(spec: Any) -> str | None:
        """The form a process's start event names (its `formJsonSchemaFilename` property): the
        dates its clocks count from, which the engine checks when a case starts."""
        for event in spec.start.outputs:
            props = (event.extensions or {}).get("properties") or {}
            form = props.get("formJsonSchemaFilename")
            if form:
                return str(form)
        return None

    @staticmethod
    def preset(spec: Any, subs: Mapping[str, Any], element_id: str) -> dict[str, Any]:
        """The answers a step gives itself (see `preset_answers`), from the version's specs."""
        for candidate in (spec, *subs.values()):
            task_spec = candidate.task_specs.get(element_id)
            if task_spec is not None:
                return preset_answers(task_spec)
        return {}

    @staticmethod
    def recompute_timer(
        workflow: BpmnWorkflow, timer_id: str, expression: str, started_at: datetime
    ) -> Any | None:
        """Evaluate a waiting timer's expression again as at `started_at` (the calendar may have
        changed); the new due value when it moved (set on the timer), None when it did not."""
        task = Runtime.find_task(workflow, timer_id)
        if task is None:
            return None
        with clock.using(FixedClock(started_at)):
            value = workflow.script_engine.evaluate(task, expression)
        if value == task.internal_data.get("event_value"):
            return None
        task.internal_data["event_value"] = value
        return value

    @staticmethod
    def evaluate_timer(
        workflow: BpmnWorkflow,
        timer_id: str,
        expression: str,
        functions: Mapping[str, Callable[..., Any]],
        at: datetime,
    ) -> Any | None:
        """A waiting timer's expression as at `at` with other diagram functions (a council's
        rules as written, to tell a deadline it moved); None when the timer is not waiting."""
        task = Runtime.find_task(workflow, timer_id)
        if task is None:
            return None
        with clock.using(FixedClock(at)):
            return evaluate(expression, task.data, functions)

    @staticmethod
    def complete_user_task(
        workflow: BpmnWorkflow, task: Task, key: str, data: Mapping[str, Any]
    ) -> list[Task]:
        task.data[key] = deepcopy(dict(data))
        counter = counted_in(task.task_spec)
        if counter:
            held = task.data.get(counter)
            task.data[counter] = (held if isinstance(held, int) else 0) + 1
        with _diagram_errors():
            task.run()
        return Runtime.run(workflow)

    @staticmethod
    def send_message(
        workflow: BpmnWorkflow, name: str, payload: Mapping[str, Any]
    ) -> list[Task] | None:
        """Deliver a named message and run on (returning fired timers); None when nothing in
        the case can catch it."""
        from SpiffWorkflow.bpmn.util.event import BpmnEvent
        from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition

        if name not in Runtime.waiting_messages(workflow):
            return None
        with _diagram_errors():
            workflow.catch(BpmnEvent(MessageEventDefinition(name), dict(payload)))
        return Runtime.fire_timers(workflow)

    @staticmethod
    def waiting_messages(workflow: BpmnWorkflow) -> list[str]:
        """Messages the case can take now: waiting catch events and event subprocess starts."""
        names = {
            e.name
            for e in workflow.waiting_events()
            if e.event_type.endswith("MessageEventDefinition")
        }
        for spec_name in workflow.spec.start.trigger_specs:
            sp_spec = workflow.subprocess_specs.get(spec_name)
            for start in getattr(sp_spec, "bpmn_start_events", []):
                definition = getattr(start, "event_definition", None)
                if type(definition).__name__ == "MessageEventDefinition":
                    names.add(definition.name)
        return sorted(names)

    @staticmethod
    def case_data(workflow: BpmnWorkflow) -> dict[str, Any]:
        """The case's data as it stands: open branches' data, the most recent change winning."""
        tasks = workflow.get_tasks(state=TaskState.READY | TaskState.WAITING)
        if not tasks and workflow.last_task is not None:
            tasks = [workflow.last_task]
        data: dict[str, Any] = {}
        for task in sorted(tasks, key=lambda t: t.last_state_change):
            data.update(task.data)
        return data

    @staticmethod
    def element_states(workflow: BpmnWorkflow) -> ElementStates:
        """Done, current and holding elements on the case's diagram and each called one."""
        return runtime_states.element_states(workflow)

    @staticmethod
    def next_steps(workflow: BpmnWorkflow) -> list[tuple[str, str]]:
        """(name, lane) of the steps the case can reach from where it is, nearest first."""
        return runtime_states.next_steps(workflow)

    @staticmethod
    def view_key(workflow: BpmnWorkflow, task: Task) -> str:
        """The drawing a task is in: "" for the case's own, else its call activity ids."""
        return runtime_states.view_key(workflow, task)

    def migrate(
        self,
        workflow: BpmnWorkflow,
        spec: Any,
        subs: Mapping[str, Any],
        started: Mapping[str, datetime],
    ) -> Any:
        """Move a case onto another version keeping its deadlines (engine/runtime_migration)."""
        from engine import runtime_migration

        return runtime_migration.migrate(self.serializer.registry, workflow, spec, subs, started)

    @staticmethod
    def cancel(workflow: BpmnWorkflow) -> None:
        workflow.cancel()

    # projection
    def snapshot(
        self,
        workflow: BpmnWorkflow,
        rule_for_key: Callable[[str], str | None],
        escalation_after: str = ESCALATION_AFTER,
    ) -> Snapshot:
        """What is READY and WAITING. An escalation step (reached from a missed deadline) gets
        its own short deadline, `escalation_after` from when it became ready."""
        timers: list[TimerView] = []
        deadline_of: dict[str, tuple[datetime, str | None]] = {}
        ready: list[Task] = []
        for task in _open_tasks(workflow):
            if task.state == TaskState.READY:
                ready.append(task)
                continue
            view = timer_view(task, rule_for_key)
            if view is None:
                continue
            timers.append(view)
            due, rule, kind = view.due_at, view.rule_id, view.kind
            attached = view.attached_to is not None
            if kind == "deadline" and attached and task.parent is not None:
                current = deadline_of.get(task.parent.id)
                if current is None or due < current[0]:
                    deadline_of[task.parent.id] = (due, rule)
        users: list[UserTaskView] = []
        for task in ready:
            spec = task.task_spec
            if not isinstance(spec, UserTask):
                continue
            props = (spec.extensions or {}).get("properties", {})
            due, rule = _deadline_for(workflow, task, deadline_of)
            escalates, missed = _escalation_of(task)
            if escalates and missed and due is None:
                due = _escalation_due(workflow, missed, escalation_after)
            users.append(
                UserTaskView(
                    task_id=str(task.id),
                    element_id=spec.bpmn_id,
                    name=spec.bpmn_name or spec.bpmn_id,
                    lane=spec.lane,
                    form=props.get("formJsonSchemaFilename"),
                    due_at=due,
                    rule_id=props.get("rule") or rule,
                    process_id=task.workflow.spec.name,
                    escalates=escalates,
                    missed_at=missed,
                )
            )
        return Snapshot(users, timers, _is_completed(workflow))


Functions = Mapping[str, Callable[..., Any]]


def _open_tasks(workflow: BpmnWorkflow) -> list[Task]:
    """READY and WAITING tasks of the case and its subprocesses, in one pass over each dict.

    The same tasks as `workflow.get_tasks(state=WAITING | READY)`, without SpiffWorkflow's
    tree iterator (which costs more than the rest of the snapshot on a case with history).
    """
    wanted = TaskState.WAITING | TaskState.READY
    return [
        task
        for each in (workflow, *workflow.subprocesses.values())
        for task in each.tasks.values()
        if task.state & wanted
    ]


def _is_completed(workflow: BpmnWorkflow) -> bool:
    """`workflow.is_completed()` in one pass over the task dictionary: SpiffWorkflow walks the
    tree depth first to its first unfinished task, most of the tree on a case with history."""
    return workflow.completed or not any(
        task.state & TaskState.NOT_FINISHED_MASK for task in workflow.tasks.values()
    )


def _deadline_for(
    workflow: BpmnWorkflow, task: Task, deadline_of: dict[Any, tuple[datetime, str | None]]
) -> tuple[datetime | None, str | None]:
    """A task's deadline: its own boundary timer's; failing that, that of the nearest call
    activity or subprocess it runs inside (a council times a whole common block from outside)."""
    current: Task | None = task
    while current is not None:
        if current.parent is not None and current.parent.id in deadline_of:
            return deadline_of[current.parent.id]
        parent_id = getattr(current.workflow, "parent_task_id", None)
        current = workflow.get_task_from_id(parent_id) if parent_id else None
    return None, None


def preset_answers(task_spec: Any) -> dict[str, Any]:
    """Answers the step itself gives (userTask property `answers`, a JSON object), e.g. the
    plan's stage on "Formulate the initial plan": the form does not ask them."""
    props = (getattr(task_spec, "extensions", None) or {}).get("properties", {})
    try:
        value = json.loads(props.get("answers") or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def counted_in(task_spec: Any) -> str | None:
    """The case data name a step counts its completions in (userTask property `counts`), so a
    diagram can find e.g. Rochdale's 4th CIN meeting (R12) without the form asking its number;
    the count travels with the case data into and out of called processes."""
    props = (getattr(task_spec, "extensions", None) or {}).get("properties", {})
    name = str(props.get("counts") or "").strip()
    return name if name.isidentifier() else None


def _escalation_of(task: Task) -> tuple[str | None, datetime | None]:
    """(the element whose deadline was missed, the deadline) when `task` was reached from a
    fired deadline timer, through events and gateways only; (None, None) otherwise."""
    current = task.parent
    for _ in range(ESCALATION_SEARCH_DEPTH):
        if current is None or isinstance(current.task_spec, UserTask):
            return None, None
        view = timer_view(current, lambda _key: None)
        if view is not None:
            if view.kind == "deadline" and view.attached_to:
                return view.attached_to, view.due_at
            return None, None
        current = current.parent
    return None, None


def _escalation_due(workflow: BpmnWorkflow, missed: datetime, after: str) -> datetime | None:
    """`after` from the missed deadline, in the council's working days (the case's own
    whitelist knows its calendar). Counted from the deadline, so every save agrees."""
    functions = getattr(workflow.script_engine.environment, "functions", {})
    due_in = functions.get("due_in")
    return _parse_due(due_in(after, from_=missed.isoformat())) if due_in else None


@lru_cache(maxsize=1)
def default_runtime() -> Runtime:
    return Runtime()
