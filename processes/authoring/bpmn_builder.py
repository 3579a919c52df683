"""A small DSL that writes cinflow BPMN files with a left-to-right BPMNDI layout.

    from processes.authoring.bpmn_builder import Process, write

    p = Process("common_example", "Example", lanes=["Social worker", "Team manager"])
    p.start("start", "Plan agreed", lane="Social worker")
    p.user_task("visit", "Visit the child", "Social worker", form="visit_record.json",
                rule="P4", doc="See the child at home. P4 · Portsmouth 2.1")
    p.boundary_timer("visit_reminder", "Reminder", "visit", 'reminder("visit")', reminder=True)
    p.boundary_timer("visit_deadline", "Visit overdue", "visit", 'deadline("visit")')
    p.user_task("chase", "Chase the overdue visit", "Team manager", form="manager_decision.json",
                rule="P4", doc="... P4 · Portsmouth 2.1")
    p.end("chased", "Chased", "Team manager")
    p.end("done", "Visited", "Social worker")
    p.chain("start", "visit", "done")
    p.chain("visit_deadline", "chase", "chased")
    write("processes/common/example.bpmn", p)

Each node has a lane (a role, see processes/README.md). Layout is automatic: a node's column is
its longest path from the start (loop-back edges ignored), its row is the first free row of its
lane in that column; boundary events sit on the bottom edge of their task; flows are right-angled;
loop-back flows run under the lane (or under the subprocess that holds them). Embedded
subprocesses are drawn expanded, spanning the lanes of their content. The subprocess element
itself is put in no lane: the engine gives every task inside a laned subprocess the subprocess's
lane, so leaving it out lets each inner task keep its own role.
"""

from __future__ import annotations

import textwrap
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

ROLES = ("Social worker", "Team manager", "Chair", "Conference chair / IRO", "Business support")

SIZES = {
    "task": (100, 80),
    "event": (36, 36),
    "gateway": (50, 50),
}
COL_GAP = 80  # horizontal gap between columns
ROW_H = 160  # height of one row in a lane
NODE_TOP = 30  # offset of a row's 80-high task from the row top
TRACK = 14  # vertical spacing of loop-back tracks
POOL_X, POOL_Y, POOL_LABEL, LANE_LABEL = 100, 60, 30, 30
BOUNDARY = 36


def _kind_size(kind: str) -> tuple[int, int]:
    if kind in ("userTask", "callActivity", "manualTask"):
        return SIZES["task"]
    if kind.endswith("Gateway"):
        return SIZES["gateway"]
    return SIZES["event"]


@dataclass
class Node:
    id: str
    kind: str  # bpmn local tag name
    name: str
    lane: str | None
    parent: str | None = None  # id of the embedded subprocess holding it
    attrs: dict[str, str] = field(default_factory=dict)
    doc: str | None = None
    props: dict[str, str] = field(default_factory=dict)
    body: str = ""  # inner XML (event definitions)
    attached_to: str | None = None
    order: int = 0


@dataclass
class Flow:
    id: str
    src: str
    dst: str
    name: str | None = None
    condition: str | None = None


@dataclass
class Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h


class _Container:
    """Shared API of a process and an embedded subprocess: add nodes and flows."""

    def __init__(self, root: Process, parent: str | None) -> None:
        self._root = root
        self._parent = parent

    # -- nodes -------------------------------------------------------------------------------
    def _add(self, node: Node) -> str:
        root = self._root
        if node.id in root.nodes:
            raise ValueError(f"duplicate id {node.id}")
        if node.lane is not None and node.lane not in root.lanes:
            raise ValueError(f"{node.id}: lane {node.lane!r} is not one of {root.lanes}")
        node.parent = self._parent
        node.order = len(root.nodes)
        root.nodes[node.id] = node
        return node.id

    def start(
        self,
        id: str,
        name: str,
        lane: str | None = None,
        message: str | None = None,
        variable: str | None = None,
    ) -> str:
        """A (none) start event; lane defaults to the first lane."""
        body = self._root._message_body(id, message, variable) if message else ""
        return self._add(Node(id, "startEvent", name, lane or self._root.lanes[0], body=body))

    def end(self, id: str, name: str, lane: str, terminate: bool = False) -> str:
        body = f'<bpmn:terminateEventDefinition id="{id}_terminate" />' if terminate else ""
        return self._add(Node(id, "endEvent", name, lane, body=body))

    def user_task(
        self,
        id: str,
        name: str,
        lane: str,
        *,
        form: str,
        rule: str | None = None,
        doc: str,
    ) -> str:
        """A user task: `doc` is plain English ending with rule ids and section."""
        props = {"formJsonSchemaFilename": form}
        if rule:
            props["rule"] = rule
        return self._add(Node(id, "userTask", name, lane, doc=doc, props=props))

    def call(self, id: str, name: str, called: str, lane: str, doc: str | None = None) -> str:
        """A call activity running another process of the bundle (its data flows in and out)."""
        return self._add(
            Node(id, "callActivity", name, lane, attrs={"calledElement": called}, doc=doc)
        )

    def xor(self, id: str, name: str, lane: str, default: str | None = None) -> str:
        """Exclusive gateway; `default` is the target node id (or flow id) of the default flow."""
        node = Node(id, "exclusiveGateway", name, lane)
        if default:
            node.attrs["_default"] = default
        return self._add(node)

    def parallel(self, id: str, name: str, lane: str) -> str:
        return self._add(Node(id, "parallelGateway", name, lane))

    def event_based(self, id: str, name: str, lane: str) -> str:
        return self._add(Node(id, "eventBasedGateway", name, lane))

    def timer_catch(self, id: str, name: str, lane: str, expr: str) -> str:
        """Intermediate timer: `expr` is a whitelisted expression giving an ISO instant."""
        body = self._root._timer_body(id, expr)
        return self._add(Node(id, "intermediateCatchEvent", name, lane, body=body))

    def message_catch(
        self, id: str, name: str, lane: str, message: str, variable: str | None = None
    ) -> str:
        body = self._root._message_body(id, message, variable)
        return self._add(Node(id, "intermediateCatchEvent", name, lane, body=body))

    def boundary_timer(
        self,
        id: str,
        name: str,
        attached_to: str,
        expr: str,
        reminder: bool = False,
        interrupting: bool = False,
        deadline: bool | None = None,
    ) -> str:
        """Boundary timer. `reminder=True` sets property timer=reminder; otherwise a
        non-interrupting timer is marked timer=deadline (pass deadline=False for neither)."""
        host = self._root.nodes[attached_to]
        node = Node(id, "boundaryEvent", name, host.lane, attached_to=attached_to)
        node.attrs["cancelActivity"] = "true" if interrupting else "false"
        if reminder:
            node.props["timer"] = "reminder"
        elif deadline or (deadline is None and not interrupting):
            node.props["timer"] = "deadline"
        node.body = self._root._timer_body(id, expr)
        return self._add(node)

    def boundary_message(
        self,
        id: str,
        name: str,
        attached_to: str,
        message: str,
        interrupting: bool = True,
        variable: str | None = None,
    ) -> str:
        host = self._root.nodes[attached_to]
        node = Node(id, "boundaryEvent", name, host.lane, attached_to=attached_to)
        node.attrs["cancelActivity"] = "true" if interrupting else "false"
        node.body = self._root._message_body(id, message, variable)
        return self._add(node)

    def deadline_pair(
        self,
        attached_to: str,
        *,
        reminder: str,
        deadline: str,
        escalation: str,
        escalation_name: str,
        doc: str,
        rule: str | None = None,
        form: str = "manager_decision.json",
        lane: str = "Team manager",
        reminder_name: str = "Reminder",
        deadline_name: str = "Deadline passed",
    ) -> tuple[str, str]:
        """The convention for a timed rule, in one call: a non-interrupting reminder timer
        (ends "Reminder sent") and a non-interrupting deadline timer whose path gives `lane`
        (the Team manager) the escalation task `escalation`. Returns (reminder id, deadline id).

            p.deadline_pair("send_plan", reminder='reminder("plan_distribution")',
                            deadline='deadline("plan_distribution")', escalation="chase_plan",
                            escalation_name="Chase the plan", doc="... P3 · Portsmouth 2")
        """
        host = self._root.nodes[attached_to]
        rid = self.boundary_timer(
            f"{attached_to}_reminder", reminder_name, attached_to, reminder, reminder=True
        )
        did = self.boundary_timer(f"{attached_to}_deadline", deadline_name, attached_to, deadline)
        self.end(f"{attached_to}_reminded", "Reminder sent", host.lane or self._root.lanes[0])
        self.user_task(escalation, escalation_name, lane, form=form, rule=rule, doc=doc)
        self.end(f"{escalation}_done", "Escalation handled", lane)
        self.flow(rid, f"{attached_to}_reminded")
        self.chain(did, escalation, f"{escalation}_done")
        return rid, did

    def timed_rule(
        self, attached_to: str, key: str, *, from_: str | None = None, **pair: Any
    ) -> tuple[str, str]:
        """`deadline_pair` for a council timescale `key`: reminder("key") and deadline("key"),
        counted from the case-data date `from_` (None: from when the task starts)."""
        arg = f'"{key}"' + (f", from_={from_}" if from_ else "")
        return self.deadline_pair(
            attached_to, reminder=f"reminder({arg})", deadline=f"deadline({arg})", **pair
        )

    def message_throw(
        self, id: str, name: str, lane: str | None, message: str, payload: str | None = None
    ) -> str:
        """An intermediate message throw event, caught by the case's own waiting catch events
        (SpiffWorkflow delivers a message thrown inside a case to that case). `payload` is a
        whitelisted expression (spiffworkflow:messagePayload)."""
        if payload is None:
            body = self._root._message_body(id, message, None)
        else:
            mid = self._root.messages.setdefault(message, f"message_{message}")
            body = (
                f'<bpmn:messageEventDefinition id="{id}_message" messageRef="{mid}">'
                "<bpmn:extensionElements><spiffworkflow:messagePayload>"
                f"{escape(payload)}</spiffworkflow:messagePayload></bpmn:extensionElements>"
                "</bpmn:messageEventDefinition>"
            )
        return self._add(Node(id, "intermediateThrowEvent", name, lane, body=body))

    def subprocess(self, id: str, name: str, lane: str | None = None) -> SubProcessBuilder:
        """An embedded subprocess, drawn expanded; add its nodes on the returned builder.
        `lane` is only a layout hint (where an empty subprocess would go)."""
        self._add(Node(id, "subProcess", name, lane or self._root.lanes[0]))
        return SubProcessBuilder(self._root, id)

    # -- flows -------------------------------------------------------------------------------
    def flow(
        self,
        src: str,
        dst: str,
        name: str | None = None,
        condition: str | None = None,
        id: str | None = None,
    ) -> str:
        root = self._root
        fid = id or f"flow_{src}_to_{dst}"
        if any(f.id == fid for f in root.flows):
            raise ValueError(f"duplicate flow {fid}")
        root.flows.append(Flow(fid, src, dst, name, condition))
        return fid

    def chain(self, *ids: str) -> None:
        """Unnamed flows between consecutive nodes."""
        for a, b in zip(ids, ids[1:], strict=False):
            self.flow(a, b)


class SubProcessBuilder(_Container):
    """Nodes added here live inside the embedded subprocess (flows too)."""


class Process(_Container):
    """One executable process drawn as one pool with horizontal lanes (top to bottom as given)."""

    def __init__(self, id: str, name: str, lanes: list[str], pool_name: str | None = None):
        self.id, self.name, self.lanes = id, name, list(lanes)
        self.pool_name = pool_name or name
        self.nodes: dict[str, Node] = {}
        self.flows: list[Flow] = []
        self.messages: dict[str, str] = {}  # message name -> id
        for lane in lanes:
            if lane not in ROLES:
                raise ValueError(f"lane {lane!r} is not a role name: {ROLES}")
        super().__init__(self, None)

    # -- helpers for event bodies ------------------------------------------------------------
    def _timer_body(self, id: str, expr: str) -> str:
        return (
            f'<bpmn:timerEventDefinition id="{id}_timer">'
            f'<bpmn:timeDate xsi:type="bpmn:tFormalExpression">{escape(expr)}</bpmn:timeDate>'
            "</bpmn:timerEventDefinition>"
        )

    def _message_body(self, id: str, message: str, variable: str | None) -> str:
        mid = self.messages.setdefault(message, f"message_{message}")
        ext = (
            "<bpmn:extensionElements><spiffworkflow:messageVariable>"
            f"{escape(variable)}</spiffworkflow:messageVariable></bpmn:extensionElements>"
            if variable
            else ""
        )
        return (
            f'<bpmn:messageEventDefinition id="{id}_message" messageRef="{mid}">{ext}'
            "</bpmn:messageEventDefinition>"
        )

    # -- checks ------------------------------------------------------------------------------
    def check(self) -> None:
        ids = set(self.nodes)
        for f in self.flows:
            for end in (f.src, f.dst):
                if end not in ids:
                    raise ValueError(f"flow {f.id}: unknown node {end}")
            if self.nodes[f.src].parent != self.nodes[f.dst].parent:
                raise ValueError(f"flow {f.id} crosses a subprocess border")
        for n in self.nodes.values():
            if n.kind == "boundaryEvent" and n.parent != self.nodes[n.attached_to].parent:
                raise ValueError(f"{n.id}: boundary event in another scope than its host")
            if n.kind == "userTask" and not (n.doc or "").strip():
                raise ValueError(f"{n.id}: user task without documentation")

    # -- layout ------------------------------------------------------------------------------
    def layout(self) -> tuple[dict[str, Box], dict[str, list[tuple[float, float]]], dict]:
        return _Layout(self).run()

    # -- XML ---------------------------------------------------------------------------------
    def _flow_of_default(self, gateway: Node) -> str | None:
        want = gateway.attrs.get("_default")
        if not want:
            return None
        for f in self.flows:
            if f.src == gateway.id and (f.id == want or f.dst == want):
                return f.id
        raise ValueError(f"{gateway.id}: default {want} is not one of its outgoing flows")

    def process_xml(self) -> str:
        self.check()
        out: list[str] = [
            f'  <bpmn:process id="{self.id}" name={quoteattr(self.name)} isExecutable="true">'
        ]
        out.append(f'    <bpmn:laneSet id="{self.id}_lanes">')
        for lane in self.lanes:
            out.append(f'      <bpmn:lane id="{_lane_id(self.id, lane)}" name={quoteattr(lane)}>')
            for n in self.nodes.values():
                if n.lane == lane and n.kind != "subProcess":
                    out.append(f"        <bpmn:flowNodeRef>{n.id}</bpmn:flowNodeRef>")
            out.append("      </bpmn:lane>")
        out.append("    </bpmn:laneSet>")
        self._scope_xml(None, out, "    ")
        out.append("  </bpmn:process>")
        return "\n".join(out)

    def _scope_xml(self, scope: str | None, out: list[str], ind: str) -> None:
        incoming: dict[str, list[str]] = defaultdict(list)
        outgoing: dict[str, list[str]] = defaultdict(list)
        for f in self.flows:
            outgoing[f.src].append(f.id)
            incoming[f.dst].append(f.id)
        for n in self.nodes.values():
            if n.parent != scope:
                continue
            attrs = {k: v for k, v in n.attrs.items() if not k.startswith("_")}
            if n.kind == "exclusiveGateway":
                default = self._flow_of_default(n)
                if default:
                    attrs["default"] = default
            if n.kind == "boundaryEvent":
                attrs["attachedToRef"] = n.attached_to or ""
            attr_text = "".join(f" {k}={quoteattr(v)}" for k, v in attrs.items())
            out.append(
                f"{ind}<bpmn:{n.kind} id={quoteattr(n.id)} name={quoteattr(n.name)}{attr_text}>"
            )
            inner = ind + "  "
            if n.doc:
                out.append(f"{inner}<bpmn:documentation>{escape(n.doc)}</bpmn:documentation>")
            if n.props:
                out.append(f"{inner}<bpmn:extensionElements>")
                out.append(f"{inner}  <spiffworkflow:properties>")
                for k, v in n.props.items():
                    out.append(
                        f"{inner}    <spiffworkflow:property name={quoteattr(k)} "
                        f"value={quoteattr(v)} />"
                    )
                out.append(f"{inner}  </spiffworkflow:properties>")
                out.append(f"{inner}</bpmn:extensionElements>")
            for fid in incoming.get(n.id, []):
                out.append(f"{inner}<bpmn:incoming>{fid}</bpmn:incoming>")
            for fid in outgoing.get(n.id, []):
                out.append(f"{inner}<bpmn:outgoing>{fid}</bpmn:outgoing>")
            if n.kind == "subProcess":
                self._scope_xml(n.id, out, inner)
            if n.body:
                out.append(f"{inner}{n.body}")
            out.append(f"{ind}</bpmn:{n.kind}>")
        for f in self.flows:
            if self.nodes[f.src].parent != scope:
                continue
            name = f" name={quoteattr(f.name)}" if f.name else ""
            head = (
                f"{ind}<bpmn:sequenceFlow id={quoteattr(f.id)}{name} "
                f"sourceRef={quoteattr(f.src)} targetRef={quoteattr(f.dst)}"
            )
            if f.condition:
                out.append(head + ">")
                out.append(
                    f'{ind}  <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">'
                    f"{escape(f.condition)}</bpmn:conditionExpression>"
                )
                out.append(f"{ind}</bpmn:sequenceFlow>")
            else:
                out.append(head + " />")

    def diagram_xml(self, y0: float = POOL_Y) -> tuple[str, float]:
        """BPMNDI shapes and edges for this pool (placed at y0); returns (xml, pool bottom)."""
        boxes, edges, info = _Layout(self, y0).run()
        out: list[str] = []
        pool = info["pool"]
        out.append(
            f'      <bpmndi:BPMNShape id="{self.id}_pool_di" bpmnElement="{self.id}_pool" '
            'isHorizontal="true">'
            f"{_bounds(pool)}</bpmndi:BPMNShape>"
        )
        for lane, box in info["lanes"].items():
            lid = _lane_id(self.id, lane)
            out.append(
                f'      <bpmndi:BPMNShape id="{lid}_di" bpmnElement="{lid}" isHorizontal="true">'
                f"{_bounds(box)}</bpmndi:BPMNShape>"
            )
        # subprocesses first so they are drawn beneath their content
        ordered = sorted(self.nodes.values(), key=lambda n: (n.kind != "subProcess", n.order))
        for n in ordered:
            box = boxes[n.id]
            extra = ""
            if n.kind == "exclusiveGateway":
                extra = ' isMarkerVisible="true"'
            if n.kind == "subProcess":
                extra = ' isExpanded="true"'
            label = ""
            if n.id in info["labels"] and n.name:
                label = f"<bpmndi:BPMNLabel>{_bounds(info['labels'][n.id])}</bpmndi:BPMNLabel>"
            out.append(
                f'      <bpmndi:BPMNShape id="{n.id}_di" bpmnElement="{n.id}"{extra}>'
                f"{_bounds(box)}{label}</bpmndi:BPMNShape>"
            )
        for f in self.flows:
            pts = edges[f.id]
            wps = "".join(f'<di:waypoint x="{x:.0f}" y="{y:.0f}" />' for x, y in pts)
            label = ""
            if f.name:
                label = f"<bpmndi:BPMNLabel>{_bounds(info['edge_labels'][f.id])}</bpmndi:BPMNLabel>"
            out.append(
                f'      <bpmndi:BPMNEdge id="{f.id}_di" bpmnElement="{f.id}">'
                f"{wps}{label}</bpmndi:BPMNEdge>"
            )
        return "\n".join(out), pool.bottom


def _lane_id(pid: str, lane: str) -> str:
    slug = "".join(c if c.isalnum() else "_" for c in lane.lower()).strip("_")
    while "__" in slug:
        slug = slug.replace("__", "_")
    return f"{pid}_lane_{slug}"


def _bounds(b: Box) -> str:
    return f'<dc:Bounds x="{b.x:.0f}" y="{b.y:.0f}" width="{b.w:.0f}" height="{b.h:.0f}" />'


def _label_lines(text: str, width: int = 18) -> list[str]:
    return textwrap.wrap(text, width) or [""]


def _edge_label_box(pts: list[tuple[float, float]], text: str) -> Box:
    (x1, y1), (x2, y2) = pts[0], pts[1]
    room = (x2 - x1 - 10) if abs(y1 - y2) < 1 and len(pts) == 2 else 130
    lines = _label_lines(text, max(8, min(22, int(room / 6.2))))
    w = max(len(line) for line in lines) * 6.2 + 6
    h = 14 * len(lines)
    if abs(y1 - y2) < 1 and len(pts) == 2:  # straight: above it, after the source
        return Box(x1 + 6, y1 - h - 3, w, h)
    if abs(y1 - y2) < 1:  # right, then down/up: on the far side of the first leg
        down = pts[2][1] > y2
        return Box(x1 + 6, (y1 + 3) if down else (y1 - h - 3), w, h)
    (xa, ya), (xb, yb) = pts[-2], pts[-1]
    if abs(ya - yb) < 1 and xb - xa > w + 6:  # down/up, then into the target: above the last leg
        return Box(xa + 4, ya - h - 2, w, h)
    return Box(x1 + 5, (y1 + 24) if y2 > y1 else (y1 - h - 24), w, h)


class _Layout:
    """Columns by longest path, rows per lane, right-angled flows."""

    def __init__(self, proc: Process, y0: float = POOL_Y) -> None:
        self.p = proc
        self.y0 = y0
        self.nodes = proc.nodes
        self.children: dict[str | None, list[str]] = defaultdict(list)
        for n in proc.nodes.values():
            self.children[n.parent].append(n.id)
        self.boundaries: dict[str, list[str]] = defaultdict(list)
        for n in proc.nodes.values():
            if n.attached_to:
                self.boundaries[n.attached_to].append(n.id)

    # Graph with subprocesses flattened: X->sub becomes X->sub:in->start; end->sub:out->Y.
    def _graph(self) -> tuple[list[str], dict[str, list[str]]]:
        succ: dict[str, list[str]] = defaultdict(list)
        verts: list[str] = []
        for n in self.nodes.values():
            if n.kind == "subProcess":
                verts += [n.id + ":in", n.id + ":out"]
                starts = [c for c in self.children[n.id] if self.nodes[c].kind == "startEvent"]
                ends = [
                    c
                    for c in self.children[n.id]
                    if self.nodes[c].kind == "endEvent"
                    or not any(f.src == c for f in self.p.flows)
                    and self.nodes[c].kind != "boundaryEvent"
                ]
                succ[n.id + ":in"] += starts or self.children[n.id][:1]
                for e in ends:
                    succ[e].append(n.id + ":out")
                if not self.children[n.id]:
                    succ[n.id + ":in"].append(n.id + ":out")
            else:
                verts.append(n.id)
        for f in self.p.flows:
            succ[self._out(f.src)].append(self._in(f.dst))
        for b, host in ((n.id, n.attached_to) for n in self.nodes.values() if n.attached_to):
            succ[self._out(host)].append(b)  # placeholder edge for column of boundary
        return verts, succ

    def _in(self, nid: str) -> str:
        return nid + ":in" if self.nodes[nid].kind == "subProcess" else nid

    def _out(self, nid: str) -> str:
        return nid + ":out" if self.nodes[nid].kind == "subProcess" else nid

    def run(self) -> tuple[dict[str, Box], dict[str, list[tuple[float, float]]], dict]:
        verts, succ = self._graph()
        order = {v: i for i, v in enumerate(verts)}
        # back edges by DFS from sources (start events first, then anything unvisited)
        indeg: dict[str, int] = defaultdict(int)
        for v in verts:
            for w in succ[v]:
                indeg[w] += 1
        roots = [v for v in verts if self.nodes.get(v) and self.nodes[v].kind == "startEvent"]
        roots += [v for v in verts if indeg[v] == 0 and v not in roots]
        roots += verts
        state: dict[str, int] = {}
        back: set[tuple[str, str]] = set()
        for r in roots:
            if r in state:
                continue
            stack = [(r, iter(succ[r]))]
            state[r] = 1
            while stack:
                v, it = stack[-1]
                w = next(it, None)
                if w is None:
                    state[v] = 2
                    stack.pop()
                    continue
                if state.get(w) == 1:
                    back.add((v, w))
                elif w not in state:
                    state[w] = 1
                    stack.append((w, iter(succ[w])))
        # longest path columns on the DAG (Kahn)
        fwd = {v: [w for w in succ[v] if (v, w) not in back] for v in verts}
        indeg = defaultdict(int)
        for v in verts:
            for w in fwd[v]:
                indeg[w] += 1
        col: dict[str, int] = dict.fromkeys(verts, 0)
        ready = sorted((v for v in verts if indeg[v] == 0), key=order.get)
        topo: list[str] = []
        while ready:
            v = ready.pop(0)
            topo.append(v)
            for w in fwd[v]:
                is_boundary = self.nodes.get(w) is not None and self.nodes[w].attached_to
                step = 0 if is_boundary else 1
                col[w] = max(col[w], col[v] + step)
                indeg[w] -= 1
                if indeg[w] == 0:
                    ready.append(w)
                    ready.sort(key=order.get)
        # the end of a subprocess is as far right as its last inner node
        self.col = col
        self.back = back
        self.topo = topo
        return self._place()

    # -- rows --------------------------------------------------------------------------------
    def _lane_of(self, nid: str) -> str:
        n = self.nodes[nid]
        if n.kind == "subProcess":
            inner = [c for c in self.children[nid] if not self.nodes[c].attached_to]
            if inner:
                return self._lane_of(
                    min(inner, key=lambda c: (self.col[self._in(c)], self.nodes[c].order))
                )
        return n.lane or self.p.lanes[0]

    def _place(self) -> tuple[dict[str, Box], dict[str, list[tuple[float, float]]], dict]:
        lanes = self.p.lanes
        lane_idx = {lane: i for i, lane in enumerate(lanes)}
        occupied: dict[tuple[str, int], set[int]] = defaultdict(set)  # (lane, col) -> rows
        row: dict[str, int] = {}
        lane_of: dict[str, str] = {}
        sub_span: dict[str, dict] = {}

        def cols_of(nid: str) -> range:
            if self.nodes[nid].kind == "subProcess":
                return range(self.col[nid + ":in"], self.col[nid + ":out"] + 1)
            return range(self.col[nid], self.col[nid] + 1)

        def free(lane: str, r: int, cols: range) -> bool:
            return all(r not in occupied[(lane, c)] for c in cols)

        preds: dict[str, list[str]] = defaultdict(list)
        for f in self.p.flows:
            preds[f.dst].append(f.src)

        def preferred(nid: str) -> tuple[str, int]:
            n = self.nodes[nid]
            lane = self._lane_of(nid)
            if n.attached_to:
                return lane, 0
            for pr in preds[nid]:
                if (pr, nid) in self.back or (self._out(pr), self._in(nid)) in self.back:
                    continue
                pn = self.nodes[pr]
                if pr in row and lane_of.get(pr) == lane:
                    if pn.attached_to:
                        return lane, row[pr] + 1
                    if pr in straight:  # another branch already leaves straight ahead
                        return lane, row[pr] + 1
                    straight.add(pr)
                    return lane, row[pr]
            return lane, 0

        straight: set[str] = set()

        def place_scope(scope: str | None, min_rows: dict[str, int]) -> None:
            ids = [c for c in self.children[scope] if not self.nodes[c].attached_to]
            # main-path nodes before the successors of boundary events, then in writing order
            ids.sort(
                key=lambda c: (
                    self.col[self._in(c)],
                    bool(preds[c]) and all(self.nodes[x].attached_to for x in preds[c]),
                    self.nodes[c].order,
                )
            )
            for nid in ids:
                n = self.nodes[nid]
                lane, pref = preferred(nid)
                pref = max(pref, min_rows.get(lane, 0))
                if n.kind != "subProcess":
                    r = pref
                    while not free(lane, r, cols_of(nid)):
                        r += 1
                    row[nid], lane_of[nid] = r, lane
                    occupied[(lane, self.col[nid])].add(r)
                    for b in self.boundaries[nid]:
                        row[b], lane_of[b] = r, lane
                    continue
                # subprocess: place its content below everything already in its columns
                cols = cols_of(nid)
                top_lane = lane
                floor = dict(min_rows)
                r = pref
                while not all(free(top_lane, rr, cols) for rr in range(r, r + 1)):
                    r += 1
                floor[top_lane] = max(floor.get(top_lane, 0), r)
                for lane2 in lanes:
                    if lane_idx[lane2] > lane_idx[top_lane]:
                        used = [rr for c in cols for rr in occupied[(lane2, c)]]
                        floor[lane2] = max(floor.get(lane2, 0), max(used, default=-1) + 1)
                place_scope(nid, floor)
                inner = [c for c in self._descendants(nid) if c in row]
                span_lanes = sorted({lane_of[c] for c in inner} | {top_lane}, key=lane_idx.get)
                first, last = span_lanes[0], span_lanes[-1]
                rows_in = {ln: [row[c] for c in inner if lane_of[c] == ln] for ln in span_lanes}
                r0 = min(rows_in[first], default=floor.get(first, 0))
                r1 = max(rows_in[last], default=r0)
                if self.boundaries[nid]:
                    r1 += 1  # room under the box for the boundary events and their labels
                sub_span[nid] = {"first": first, "last": last, "r0": r0, "r1": r1}
                row[nid], lane_of[nid] = r0, first
                # reserve the whole box
                for ln in lanes:
                    li = lane_idx[ln]
                    if li < lane_idx[first] or li > lane_idx[last]:
                        continue
                    lo = r0 if ln == first else 0
                    hi = r1 if ln == last else lo + 100  # the box runs to the lane's bottom
                    for c in cols:
                        occupied[(ln, c)].update(range(lo, hi + 1))
                for b in self.boundaries[nid]:
                    row[b], lane_of[b] = r1 - 1, last

        place_scope(None, {})
        self.row, self.lane_of, self.sub_span = row, lane_of, sub_span
        return self._coordinates()

    def _descendants(self, sid: str) -> list[str]:
        out: list[str] = []
        for c in self.children[sid]:
            out.append(c)
            if self.nodes[c].kind == "subProcess":
                out += self._descendants(c)
        return out

    # -- coordinates ---------------------------------------------------------------------------
    def _coordinates(self) -> tuple[dict[str, Box], dict[str, list[tuple[float, float]]], dict]:
        lanes = self.p.lanes
        nodes = self.nodes
        row, lane_of, col = self.row, self.lane_of, self.col
        # loop-back flows and the band (lane, row) under which each runs
        loops: list[tuple[str, str, int]] = []  # flow id, band lane, band row
        nrows: dict[str, int] = {
            ln: 1 + max((row[n] for n in nodes if lane_of.get(n) == ln and n in row), default=0)
            for ln in lanes
        }
        for s in self.sub_span.values():
            nrows[s["last"]] = max(nrows[s["last"]], s["r1"] + 1)
        for f in self.p.flows:
            if (self._out(f.src), self._in(f.dst)) in self.back:
                scope = nodes[f.src].parent
                if nodes[f.dst].kind == "subProcess":
                    loops.append((f.id, self.sub_span[f.dst]["first"], -1))
                elif scope is None:
                    loops.append((f.id, lane_of[f.src], nrows[lane_of[f.src]]))
                else:
                    ln = lane_of[f.src]
                    inner = [
                        row[c]
                        for c in self._descendants(scope)
                        if lane_of.get(c) == ln and not nodes[c].attached_to
                    ]
                    loops.append((f.id, ln, max(inner)))
        band_tracks: dict[tuple[str, int], list[str]] = defaultdict(list)
        span = {}
        for fid, ln, r in loops:
            f = next(x for x in self.p.flows if x.id == fid)
            span[fid] = col[self._out(f.src)] - col[self._in(f.dst)]
            band_tracks[(ln, r)].append(fid)
        for key in band_tracks:
            band_tracks[key].sort(key=lambda fid: span[fid])
        # row tops
        row_top: dict[tuple[str, int], float] = {}
        row_h: dict[tuple[str, int], float] = {}
        lane_box: dict[str, Box] = {}
        y = self.y0
        for ln in lanes:
            top = y
            over = band_tracks.get((ln, -1), [])
            if over:
                row_top[(ln, -1)], row_h[(ln, -1)] = y, TRACK * len(over) + 10
                y += TRACK * len(over) + 10
            n = nrows[ln] + (1 if band_tracks.get((ln, nrows[ln])) else 0)
            for r in range(n):
                base = ROW_H if r < nrows[ln] else 10
                extra = TRACK * len(band_tracks.get((ln, r), [])) + (
                    8 if band_tracks.get((ln, r)) else 0
                )
                row_top[(ln, r)], row_h[(ln, r)] = y, base + extra
                y += base + extra
            lane_box[ln] = Box(0, top, 0, y - top)
        # column x: width = widest node in the column
        ncols = max(col.values(), default=0) + 1
        width = [0.0] * ncols
        for v, c in col.items():
            if v.endswith(":in") or v.endswith(":out"):
                width[c] = max(width[c], 20)
            elif nodes[v].attached_to:
                continue
            else:
                width[c] = max(width[c], _kind_size(nodes[v].kind)[0])
        x = POOL_X + POOL_LABEL + 50
        col_x: list[float] = []
        for c in range(ncols):
            col_x.append(x)
            x += width[c] + COL_GAP
        self.col_x, self.width = col_x, width
        right = x - COL_GAP + 50
        boxes: dict[str, Box] = {}
        for nid, n in nodes.items():
            if n.kind == "subProcess" or n.attached_to:
                continue
            w, h = _kind_size(n.kind)
            c = col[nid]
            top = row_top[(lane_of[nid], row[nid])]
            cy = top + NODE_TOP + 40
            boxes[nid] = Box(col_x[c] + (width[c] - w) / 2, cy - h / 2, w, h)
        # subprocess boxes, innermost first
        subs = [n for n in nodes if nodes[n].kind == "subProcess"]
        subs.sort(key=lambda s: -len(self._ancestors(s)))
        for sid in subs:
            s = self.sub_span[sid]
            x1 = col_x[col[sid + ":in"]]
            x2 = col_x[col[sid + ":out"]] + width[col[sid + ":out"]]
            y1 = row_top[(s["first"], s["r0"])] + 8
            key = (s["last"], s["r1"])
            # with boundary events, the bottom edge runs inside the reserved row
            y2 = row_top[key] + (22 if self.boundaries[sid] else row_h[key] - 8)
            boxes[sid] = Box(x1, y1, x2 - x1, y2 - y1)
        # boundary events along the bottom edge, right to left
        for host, bids in self.boundaries.items():
            hb = boxes[host]
            k = len(bids)
            for i, b in enumerate(bids):
                if nodes[host].kind == "subProcess":
                    cx = hb.right - 40 - 110 * (k - 1 - i)
                else:
                    cx = hb.x + hb.w * (i + 1) / (k + 1)
                boxes[b] = Box(cx - 18, hb.bottom - 18, 36, 36)
        self.boxes = boxes
        self.row_top = row_top
        # edges
        edges: dict[str, list[tuple[float, float]]] = {}
        track_y: dict[str, float] = {}
        for (ln, r), fids in band_tracks.items():
            base = row_top[(ln, r)] + (ROW_H if 0 <= r < nrows[ln] else 4)
            for i, fid in enumerate(fids):
                track_y[fid] = base + 4 + TRACK * i
        for f in self.p.flows:
            if f.id in track_y:
                edges[f.id] = self._loop(f, track_y[f.id])
            else:
                edges[f.id] = self._route(f)
        _spread(edges, {f.id: (f.src, f.dst) for f in self.p.flows})
        pool = Box(POOL_X, self.y0, right - POOL_X, y - self.y0)
        for ln in lanes:
            b = lane_box[ln]
            lane_box[ln] = Box(POOL_X + POOL_LABEL, b.y, pool.w - POOL_LABEL, b.h)
        labels = self._labels(edges)
        edge_labels = {f.id: _edge_label_box(edges[f.id], f.name) for f in self.p.flows if f.name}
        return (
            boxes,
            edges,
            {
                "pool": pool,
                "lanes": lane_box,
                "labels": labels,
                "edge_labels": edge_labels,
            },
        )

    def _labels(self, edges: dict[str, list[tuple[float, float]]]) -> dict[str, Box]:
        """Event and gateway labels: below the shape, clear of flows that leave downwards."""
        out: dict[str, Box] = {}
        ends: list[tuple[float, float]] = []
        for pts in edges.values():
            ends += [pts[0], pts[-1]]
        for nid, n in self.nodes.items():
            if not (n.kind.endswith("Event") or n.kind.endswith("Gateway")):
                continue
            b = self.boxes[nid]
            lines = _label_lines(n.name)
            w = max(len(line) for line in lines) * 6.2 + 6
            h = 14 * len(lines)
            if n.attached_to:
                sibs = self.boundaries[n.attached_to]
                on_sub = self.nodes[n.attached_to].kind == "subProcess"
                if on_sub:
                    lines = _label_lines(n.name, 12)
                    w = max(len(line) for line in lines) * 6.2 + 6
                    h = 14 * len(lines)
                left = on_sub or len(sibs) == 1 or sibs.index(nid) < len(sibs) / 2
                x = b.cx - 4 - w if left else b.cx + 4
                out[nid] = Box(x, b.bottom + 2, w, h)
                continue
            bottom_used = any(abs(x - b.cx) < 1 and abs(y - b.bottom) < 1 for x, y in ends)
            top_used = any(abs(x - b.cx) < 1 and abs(y - b.y) < 1 for x, y in ends)
            span = self.sub_span.get(n.parent or "")
            under_title = bool(span) and (self.lane_of[nid], self.row[nid]) == (
                span["first"],
                span["r0"],
            )
            if not bottom_used:
                out[nid] = Box(b.cx - w / 2, b.bottom + 6, w, h)
            elif not top_used and not under_title:
                out[nid] = Box(b.cx - w / 2, b.y - 6 - h, w, h)
            else:  # a flow leaves downwards: the label goes right of it
                out[nid] = Box(b.cx + 6, b.bottom + 4, w, h)
        return out

    def _ancestors(self, nid: str) -> list[str]:
        out = []
        p = self.nodes[nid].parent
        while p:
            out.append(p)
            p = self.nodes[p].parent
        return out

    def _anchor(self, nid: str) -> Box:
        """The node's box; for a subprocess, a band at the height of its first row."""
        b = self.boxes[nid]
        if self.nodes[nid].kind != "subProcess":
            return b
        starts = [c for c in self.children[nid] if self.nodes[c].kind == "startEvent"]
        if starts:
            cy = self.boxes[starts[0]].cy
        else:
            s = self.sub_span[nid]
            cy = self.row_top[(s["first"], s["r0"])] + NODE_TOP + 40
        return Box(b.x, cy - 40, b.w, 80)

    def _col_right(self, nid: str) -> float:
        c = self.col[self._out(nid)]
        return self.col_x[c] + self.width[c]

    def _col_left(self, nid: str) -> float:
        return self.col_x[self.col[self._in(nid)]]

    def _hits(self, pts: list[tuple[float, float]], skip: set[str]) -> bool:
        for nid, b in self.boxes.items():
            if nid in skip or self.nodes[nid].kind == "subProcess":
                continue
            for (x1, y1), (x2, y2) in zip(pts, pts[1:], strict=False):
                lo_x, hi_x = min(x1, x2), max(x1, x2)
                lo_y, hi_y = min(y1, y2), max(y1, y2)
                if hi_x > b.x + 1 and lo_x < b.right - 1 and hi_y > b.y + 1 and lo_y < b.bottom - 1:
                    return True
        return False

    def _route(self, f: Flow) -> list[tuple[float, float]]:
        s, t = self._anchor(f.src), self._anchor(f.dst)
        sn = self.nodes[f.src]
        skip = {f.src, f.dst}
        if sn.attached_to:
            skip.add(sn.attached_to)
        skip |= set(self.boundaries[f.src]) | set(self.boundaries[f.dst])
        tx, ty = t.x, t.cy
        if sn.attached_to:  # leave a boundary event downwards
            sx, sy = s.cx, s.bottom
            # below the labels, the leftmost event lowest so that flows do not cross
            sibs = self.boundaries[sn.attached_to]
            mid = sy + 50 + 10 * (len(sibs) - 1 - sibs.index(f.src))
            bend = self._col_left(f.dst) - 20
            dogleg = [(sx, sy), (sx, mid), (bend, mid), (bend, ty), (tx, ty)]
            cands = [[(sx, sy), (sx, ty), (tx, ty)], dogleg] if ty > sy + 5 else [dogleg]
            return self._pick(cands, skip)
        if abs(s.cy - ty) < 1:
            return [(s.right, s.cy), (tx, ty)]
        bend = self._col_left(f.dst) - 20
        out_x = self._col_right(f.src) + 15
        hv = [(s.right, s.cy), (bend, s.cy), (bend, ty), (tx, ty)]
        vy = s.bottom if ty > s.cy else s.y
        vh = [(s.cx, vy), (s.cx, ty), (tx, ty)]
        cands = [vh, hv] if sn.kind.endswith("Gateway") else [hv, vh]
        # channel: along the gap just above the target row (or below the source row)
        top = t.y - 22 if ty > s.cy else t.bottom + 22
        cands.append(
            [(s.right, s.cy), (out_x, s.cy), (out_x, top), (bend, top), (bend, ty), (tx, ty)]
        )
        return self._pick(cands, skip)

    def _pick(
        self, cands: list[list[tuple[float, float]]], skip: set[str]
    ) -> list[tuple[float, float]]:
        for c in cands:
            if not self._hits(c, skip):
                return _clean(c)
        return _clean(cands[0])

    def _loop(self, f: Flow, ty_track: float) -> list[tuple[float, float]]:
        s, t = self._anchor(f.src), self._anchor(f.dst)
        sn, tn = self.nodes[f.src], self.nodes[f.dst]
        out_x = self._col_right(f.src) + 15
        up = ty_track < s.y
        starts = [[(s.right, s.cy), (out_x, s.cy), (out_x, ty_track)]]
        if sn.kind.endswith("Gateway") or sn.kind.endswith("Event"):
            starts.insert(0, [(s.cx, s.y if up else s.bottom), (s.cx, ty_track)])
        back_x = self._col_left(f.dst) - 30
        if tn.kind.endswith("Gateway"):
            ends = [[(t.cx, ty_track), (t.cx, t.y if up else t.bottom)]]
        else:
            ends = [[(back_x, ty_track), (back_x, t.cy), (t.x, t.cy)]]
        skip = {f.src, f.dst} | set(self.boundaries[f.src]) | set(self.boundaries[f.dst])
        return self._pick([a + b for a in starts for b in ends], skip)


def _spread(edges: dict[str, list[tuple[float, float]]], ends: dict[str, tuple[str, str]]) -> None:
    """Move apart inner vertical segments of different flows that would lie on one line."""
    placed: list[tuple[float, float, float, str]] = []  # x, y1, y2, flow id
    for fid in sorted(edges, key=lambda k: -_vertical_span(edges[k])):
        pts = edges[fid]
        for i in range(1, len(pts) - 2):
            (x1, y1), (x2, y2) = pts[i], pts[i + 1]
            if abs(x1 - x2) > 0.5:
                continue
            lo, hi = min(y1, y2), max(y1, y2)
            x = x1
            for _ in range(4):
                clash = any(
                    abs(px - x) < 4
                    and min(hi, py2) - max(lo, py1) > 2
                    and ends[pid][0] != ends[fid][0]
                    and ends[pid][1] != ends[fid][1]
                    for px, py1, py2, pid in placed
                )
                if not clash:
                    break
                x -= 9
            pts[i], pts[i + 1] = (x, y1), (x, y2)
            placed.append((x, lo, hi, fid))


def _vertical_span(pts: list[tuple[float, float]]) -> float:
    return sum(abs(b[1] - a[1]) for a, b in zip(pts, pts[1:], strict=False))


def _clean(pts: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for p in pts:
        if out and abs(out[-1][0] - p[0]) < 0.5 and abs(out[-1][1] - p[1]) < 0.5:
            continue
        out.append(p)
    # drop middle points on straight lines
    i = 1
    while i < len(out) - 1:
        (x0, y0), (x1, y1), (x2, y2) = out[i - 1], out[i], out[i + 1]
        if (abs(x0 - x1) < 0.5 and abs(x1 - x2) < 0.5) or (
            abs(y0 - y1) < 0.5 and abs(y1 - y2) < 0.5
        ):
            out.pop(i)
        else:
            i += 1
    return out


HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
  xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  xmlns:di="http://www.omg.org/spec/DD/20100524/DI"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
  id="{defs}" targetNamespace="https://cinflow.example/processes">
"""


def to_xml(*processes: Process, comment: str | None = None) -> str:
    """The BPMN document holding `processes` (one pool each, stacked vertically)."""
    if not processes:
        raise ValueError("nothing to write")
    defs = processes[0].id + "_defs"
    out = [HEADER.format(defs=defs).rstrip("\n")]
    if comment:
        out.append(f"  <!-- {escape(comment).replace('--', '-')} -->")
    collab = processes[0].id + "_collab"
    out.append(f'  <bpmn:collaboration id="{collab}">')
    for p in processes:
        out.append(
            f'    <bpmn:participant id="{p.id}_pool" name={quoteattr(p.pool_name)} '
            f'processRef="{p.id}" />'
        )
    out.append("  </bpmn:collaboration>")
    seen: dict[str, str] = {}
    for p in processes:
        seen.update({mid: name for name, mid in p.messages.items()})
    for mid, name in sorted(seen.items()):
        out.append(f'  <bpmn:message id="{mid}" name={quoteattr(name)} />')
    for p in processes:
        out.append(p.process_xml())
    out.append(f'  <bpmndi:BPMNDiagram id="{processes[0].id}_diagram">')
    out.append(f'    <bpmndi:BPMNPlane id="{processes[0].id}_plane" bpmnElement="{collab}">')
    y = POOL_Y
    for p in processes:
        xml, bottom = p.diagram_xml(y)
        out.append(xml)
        y = bottom + 40
    out.append("    </bpmndi:BPMNPlane>")
    out.append("  </bpmndi:BPMNDiagram>")
    out.append("</bpmn:definitions>")
    return "\n".join(out) + "\n"


def write(path: str | Path, *processes: Process, comment: str | None = None) -> Path:
    """Write `processes` to `path` (one file, one pool per process)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(to_xml(*processes, comment=comment), encoding="utf-8")
    return target
