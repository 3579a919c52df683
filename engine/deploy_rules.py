"""Deploy-time rules about what a diagram may contain: each construct runs here, or is refused.

Diagrams come from practice managers' browsers and from other tools (Camunda Modeler, bpmn.io,
the MIWG reference files). A construct SpiffWorkflow parses but this engine does not run to the
end (a plain task stalls, a link event skips what follows, a call cycle spins) is refused at
deploy with the element, its line and what to draw instead. Each rule is a function in `RULES`
(one file) or `BUNDLE_RULES` (all files deployed together), so rules are easy to add.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN, "spiffworkflow": SPIFF}

#: Element namespaces a diagram may use anywhere.
DIAGRAM_NAMESPACES = frozenset({BPMN, BPMNDI, DC, DI, SPIFF})
#: Other modelers' own settings, allowed (and ignored) inside bpmn:extensionElements only.
TOOL_NAMESPACES = frozenset(
    {
        "http://camunda.org/schema/1.0/bpmn",
        "http://camunda.org/schema/zeebe/1.0",
        "http://camunda.org/schema/modeler/1.0",
        "http://bpmn.io/schema/bpmn/biocolor/1.0",
        "http://www.omg.org/spec/BPMN/non-normative/color/1.0",
        "http://www.signavio.com",
    }
)


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    element_id: str | None
    message: str

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        element = f" [{self.element_id}]" if self.element_id else ""
        return f"{where}{element}: {self.message}"


@dataclass(frozen=True)
class Diagram:
    """One file being deployed, and what its rules may need."""

    file_name: str
    root: Any  # the bpmn:definitions element
    forms_dir: Path
    functions: Mapping[str, Callable[..., Any]]

    def problem(self, el: Any, message: str) -> Problem:
        return Problem(self.file_name, el.sourceline, el.get("id"), message)

    def processes(self) -> list[Any]:
        return self.root.findall(f"{{{BPMN}}}process")


def _local(el: Any) -> str:
    return etree.QName(el).localname


def _name(el: Any) -> str:
    return el.get("name") or el.get("id") or _local(el)


# --- markup: nothing a browser could run -------------------------------------------------------


def foreign_markup(d: Diagram) -> Iterable[Problem]:
    """Only BPMN, its diagram interchange and spiffworkflow elements (issue 10: stored XSS)."""
    tree = d.root.getroottree()
    if tree.docinfo.doctype:
        yield Problem(d.file_name, 1, None, "a DOCTYPE is not allowed in a diagram: remove it")
    for node in d.root.itersiblings(preceding=True):
        if isinstance(node, etree._ProcessingInstruction):
            yield Problem(
                d.file_name,
                node.sourceline,
                None,
                f'the processing instruction "<?{node.target}" is not allowed: remove it',
            )
    for el in d.root.iter():
        if isinstance(el, etree._ProcessingInstruction):
            yield Problem(
                d.file_name,
                el.sourceline,
                None,
                f'the processing instruction "<?{el.target}" is not allowed: remove it',
            )
            continue
        if not isinstance(el.tag, str):
            continue  # comments
        namespace = etree.QName(el).namespace
        if namespace in DIAGRAM_NAMESPACES:
            continue
        inside_extensions = any(a.tag == f"{{{BPMN}}}extensionElements" for a in el.iterancestors())
        if inside_extensions and namespace in TOOL_NAMESPACES:
            continue
        yield Problem(
            d.file_name,
            el.sourceline,
            el.getparent().get("id") if el.getparent() is not None else None,
            f"the element <{el.prefix + ':' if el.prefix else ''}{_local(el)}> "
            f"(namespace {namespace or 'none'}) is not part of BPMN: remove it "
            "(diagrams hold only BPMN, its layout and spiffworkflow extensions)",
        )


# --- constructs: what runs here, what to draw instead -------------------------------------------

#: Flow elements this engine runs (inside processes and subprocesses).
RUNS = frozenset(
    {
        "startEvent",
        "endEvent",
        "intermediateCatchEvent",
        "intermediateThrowEvent",
        "boundaryEvent",
        "userTask",
        "exclusiveGateway",
        "parallelGateway",
        "callActivity",
        "subProcess",
        "sequenceFlow",
        "laneSet",
        "textAnnotation",
        "association",
        "group",
        "documentation",
        "extensionElements",
        "incoming",
        "outgoing",
        "conditionExpression",
        "standardLoopCharacteristics",  # refused below with its own message
        "multiInstanceLoopCharacteristics",
    }
)

_INSTEAD_OF_TASK = (
    "draw a user task in the lane of the role who does it, with documentation and a form"
)
INSTEAD = {
    "task": f"a plain task has nobody to do it and the case would stall: {_INSTEAD_OF_TASK}",
    "manualTask": f"a manual task would stall the case: {_INSTEAD_OF_TASK}",
    "serviceTask": "service tasks are not allowed (diagrams cannot call other systems): "
    "draw a user task where a person records the result",
    "scriptTask": "script tasks are not allowed: diagrams cannot run code",
    "businessRuleTask": "business rule tasks are not supported: draw an exclusive gateway "
    "with a condition on each outgoing flow",
    "sendTask": "send tasks are not supported: draw a message end or throw event",
    "receiveTask": "receive tasks are not supported: draw a message catch event, or a message "
    "boundary event on the user task that waits",
    "eventBasedGateway": "event-based gateways are not supported: draw the wait as a user task "
    '(e.g. "Record the reply") with an interrupting timer boundary event for the time limit, '
    "or a message boundary event on it",
    "inclusiveGateway": "inclusive gateways are not supported: draw a parallel gateway for "
    "steps that all happen, and exclusive gateways for each choice",
    "complexGateway": "complex gateways are not supported: draw exclusive or parallel gateways",
    "adHocSubProcess": "ad-hoc subprocesses are not supported: draw the steps in a subprocess "
    "after a parallel gateway, or as separate user tasks",
    "transaction": "transactions are not supported: draw a subprocess",
    "dataObject": "data objects are not supported: the case's data comes from forms, so "
    "remove it (name the form field in the gateway condition instead)",
    "dataObjectReference": "data objects are not supported: remove the data object (the "
    "case's data comes from forms)",
    "dataStoreReference": "data stores are not supported: remove it",
    "dataInputAssociation": "data associations are not supported: remove the arrow between "
    "the data object and the step",
    "dataOutputAssociation": "data associations are not supported: remove the arrow between "
    "the step and the data object",
    "ioSpecification": "input/output specifications are not supported: remove them",
    "property": "process properties are not supported: remove them",
    "standardLoopCharacteristics": "loops on a step are not supported: draw an exclusive "
    "gateway after the step that loops back to it",
    "multiInstanceLoopCharacteristics": "multi-instance steps are not supported: draw one "
    "step whose form lists each item, or a loop back through an exclusive gateway",
}

#: Event definitions this engine runs, by the event they are in.
EVENTS_RUN = {
    "startEvent": frozenset({None}),
    "endEvent": frozenset({None, "terminateEventDefinition", "messageEventDefinition"}),
    "intermediateCatchEvent": frozenset({"timerEventDefinition", "messageEventDefinition"}),
    "intermediateThrowEvent": frozenset({None, "messageEventDefinition"}),
    "boundaryEvent": frozenset({"timerEventDefinition", "messageEventDefinition"}),
}
#: Starts of event subprocesses.
EVENT_SUBPROCESS_STARTS = frozenset({"messageEventDefinition", "timerEventDefinition"})

EVENT_INSTEAD = {
    "linkEventDefinition": "link events are not supported (the case would skip what follows "
    "the link): join the two parts with a sequence flow",
    "signalEventDefinition": "signals are not supported: draw a message event (messages are "
    "sent to one case with `send_message`)",
    "errorEventDefinition": "error events are not supported: draw an exclusive gateway after "
    "the step, with a route for the failure",
    "escalationEventDefinition": "escalation events are not supported: draw a non-interrupting "
    "timer boundary event leading to a Team manager task",
    "conditionalEventDefinition": "conditional events are not supported: draw an exclusive "
    "gateway with the condition",
    "compensateEventDefinition": "compensation is not supported: draw the undoing steps as user "
    "tasks",
    "cancelEventDefinition": "cancel events are not supported: draw an interrupting message "
    "boundary event on the subprocess",
    "timerEventDefinition": "a timer cannot start a case here: cases are started by a person "
    "(or by a message); draw a plain start event",
    "messageEventDefinition": "a message cannot start a case here: draw a plain start event",
    "terminateEventDefinition": "draw a plain end event or a terminate end event",
}


#: Parts of a step: a problem with one is reported on the step.
_PARTS = frozenset(
    {
        "standardLoopCharacteristics",
        "multiInstanceLoopCharacteristics",
        "dataInputAssociation",
        "dataOutputAssociation",
        "ioSpecification",
    }
)


def _definitions(event: Any) -> list[Any]:
    return [c for c in event if isinstance(c.tag, str) and c.tag.endswith("EventDefinition")]


def _event_problem(event: Any, in_event_subprocess: bool) -> str | None:
    kind = _local(event)
    definitions = _definitions(event)
    if len(definitions) > 1:
        return "an event with more than one trigger is not supported: draw one event per trigger"
    found = _local(definitions[0]) if definitions else None
    if kind == "startEvent" and in_event_subprocess:
        if found in EVENT_SUBPROCESS_STARTS:
            return None
        return "an event subprocess starts with a message or timer start event"
    if found in EVENTS_RUN.get(kind, frozenset()):
        return None
    if found is None:
        return f"a {kind} needs a trigger here: a timer or a message"
    return EVENT_INSTEAD.get(found, f"{found} is not supported in a {kind}")


def constructs(d: Diagram) -> Iterable[Problem]:
    """Every element inside a process is one this engine runs; the rest say what to draw."""
    for process in d.processes():
        if process.get("isExecutable") != "true":
            continue
        for el in process.iter():
            if not isinstance(el.tag, str) or etree.QName(el).namespace != BPMN:
                continue
            kind = _local(el)
            parent = el.getparent()
            if kind in INSTEAD:
                owner = el if el.get("id") and kind not in _PARTS else parent
                yield d.problem(owner, INSTEAD[kind])
                continue
            if parent is not process and _local(parent) != "subProcess":
                continue  # parts of elements (flows, event definitions...) go with them
            if kind not in RUNS:
                yield d.problem(el, f"<bpmn:{kind}> is not supported in an executable process")
            elif kind in EVENTS_RUN:
                in_event_sub = parent.get("triggeredByEvent") == "true"
                message = _event_problem(el, in_event_sub)
                if message:
                    yield d.problem(el, message)


_ACTIVITIES = frozenset({"userTask", "callActivity", "subProcess"})


def flows(d: Diagram) -> Iterable[Problem]:
    """One way out of each step; gateways with a choice have a default and conditions."""
    for process in d.processes():
        if process.get("isExecutable") != "true":
            continue
        by_id = {el.get("id"): el for el in process.iter() if isinstance(el.tag, str)}
        outgoing: dict[str, list[Any]] = {}
        for flow in process.iter(f"{{{BPMN}}}sequenceFlow"):
            outgoing.setdefault(flow.get("sourceRef"), []).append(flow)
            for end in ("sourceRef", "targetRef"):
                if flow.get(end) not in by_id:
                    yield d.problem(
                        flow, f'the flow\'s {end[:-3]} "{flow.get(end)}" is not in this process'
                    )
        for source_id, out in outgoing.items():
            source = by_id.get(source_id)
            if source is None:
                continue
            kind = _local(source)
            if kind == "exclusiveGateway" and len(out) > 1:
                default = source.get("default")
                if not default:
                    yield d.problem(
                        source,
                        f'the gateway "{_name(source)}" has no default flow: mark one outgoing '
                        "flow as the default, the route taken when no condition holds",
                    )
                for flow in out:
                    has_condition = flow.find(f"{{{BPMN}}}conditionExpression") is not None
                    if flow.get("id") != default and not has_condition:
                        yield d.problem(
                            flow,
                            "this flow out of a choice has no condition: write one (e.g. "
                            "consent.consent_given == True) or make it the gateway's default",
                        )
            elif len(out) > 1 and (kind in _ACTIVITIES or kind.endswith("Event")):
                yield d.problem(
                    source,
                    f'"{_name(source)}" has {len(out)} outgoing flows: draw an exclusive '
                    "gateway after it for a choice, or a parallel gateway for steps that all "
                    "happen",
                )


def references(d: Diagram) -> Iterable[Problem]:
    """What an element points at exists: the step a boundary event sits on, the message a
    message event waits for; and each process or subprocess starts in one place."""
    messages = {m.get("id") for m in d.root.iter(f"{{{BPMN}}}message")}
    for process in d.processes():
        if process.get("isExecutable") != "true":
            continue
        containers = [process, *process.iter(f"{{{BPMN}}}subProcess")]
        for container in containers:
            children = {el.get("id"): el for el in container if isinstance(el.tag, str)}
            plain_starts = [
                el for el in container.iterfind("bpmn:startEvent", NS) if not _definitions(el)
            ]
            if len(plain_starts) > 1:
                yield d.problem(
                    plain_starts[1],
                    f'"{_name(container)}" has {len(plain_starts)} plain start events: keep one',
                )
            if container.get("triggeredByEvent") != "true" and not container.findall(
                "bpmn:startEvent", NS
            ):
                yield d.problem(
                    container, f'"{_name(container)}" has no start event: draw one where it begins'
                )
            for boundary in container.iterfind("bpmn:boundaryEvent", NS):
                target = children.get(boundary.get("attachedToRef"))
                if target is None or _local(target) not in _ACTIVITIES:
                    yield d.problem(
                        boundary,
                        f'the boundary event "{_name(boundary)}" is not attached to a step of '
                        "this process: drag it onto the step it belongs to",
                    )
        for definition in process.iter(f"{{{BPMN}}}messageEventDefinition"):
            if definition.get("messageRef") not in messages:
                event = definition.getparent()
                yield d.problem(
                    event,
                    f'the message event "{_name(event)}" names no message of this file: '
                    "choose or create its message (with a name) in the modeler",
                )


# --- all files together ----------------------------------------------------------------------


def call_targets(diagrams: list[Diagram]) -> Iterable[Problem]:
    """Each call activity calls a process deployed with it."""
    known = {p.get("id") for d in diagrams for p in d.processes()}
    for d in diagrams:
        for process in d.processes():
            for call in process.iter(f"{{{BPMN}}}callActivity"):
                target = call.get("calledElement") or ""
                if target not in known:
                    yield d.problem(
                        call,
                        f'"{_name(call)}" calls "{target}", which is not in this deployment: '
                        "deploy the called process's file with this one, or correct its id",
                    )


def _loop_from(start: str, targets: Mapping[str, list[str]]) -> list[str] | None:
    """The first loop of calls reachable from `start`, as a path that ends where it began."""
    path: list[str] = []
    clear: set[str] = set()  # explored without finding a loop
    stack: list[tuple[str, int]] = [(start, 0)]
    while stack:
        pid, index = stack.pop()
        if index == 0:
            if pid in path:
                return [*path[path.index(pid) :], pid]
            if pid in clear:
                continue
            path.append(pid)
        following = targets.get(pid, [])
        if index < len(following):
            stack.append((pid, index + 1))
            stack.append((following[index], 0))
        else:
            path.pop()
            clear.add(pid)
    return None


def call_cycles(diagrams: list[Diagram]) -> Iterable[Problem]:
    """A process that calls itself, directly or through others, would start for ever."""
    calls: dict[str, list[tuple[Diagram, Any]]] = {}
    for d in diagrams:
        for process in d.processes():
            pid = process.get("id")
            for call in process.iter(f"{{{BPMN}}}callActivity"):
                calls.setdefault(pid, []).append((d, call))
    targets = {pid: [c.get("calledElement") or "" for _, c in out] for pid, out in calls.items()}
    reported: set[str] = set()
    for start in sorted(calls):
        cycle = _loop_from(start, targets)
        if not cycle or cycle[0] != start or start in reported:
            continue
        reported.update(cycle)
        d, call = next((d, c) for d, c in calls[start] if c.get("calledElement") == cycle[1])
        yield d.problem(
            call,
            "calls form a loop (" + " -> ".join(cycle) + "), so a case would start for ever: "
            "draw the repeat as a loop back through an exclusive gateway inside one process",
        )


RULES: list[Callable[[Diagram], Iterable[Problem]]] = [
    foreign_markup,
    constructs,
    flows,
    references,
]
BUNDLE_RULES: list[Callable[[list[Diagram]], Iterable[Problem]]] = [call_targets, call_cycles]
