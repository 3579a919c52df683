"""What changed between two versions of a diagram, element by element, as data.

The one diff: the CLI prints it, the web pages list it and hand `as_data()` to the bpmn-js
viewer to colour added, removed and changed elements by id (bpmn-js-differ is not needed in
the browser). Elements are matched by id, which modelers keep when an element is edited.
Layout-only changes (a shape moved) are reported once, not per element.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml import etree

from engine.conventions import BPMN, FLOW_NODES, NS

FIELDS = (
    "type",
    "name",
    "lane",
    "documentation",
    "form",
    "rule",
    "timer",
    "condition",
    "flow",
    "called",
    "message",
)
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)
_FLOW = f"{{{BPMN}}}sequenceFlow"
_DI = "http://www.omg.org/spec/BPMN/20100524/DI"
_EVENT_KINDS = ("timer", "message", "signal", "error", "escalation", "terminate", "conditional")


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: str
    after: str


@dataclass(frozen=True)
class ElementDiff:
    process_id: str
    element_id: str
    kind: str  # added, removed, changed
    type: str
    name: str
    changes: tuple[FieldChange, ...] = ()

    def line(self) -> str:
        """One line for people: `changed userTask initial_plan "Plan": name "A" -> "B"`."""
        head = f'{self.kind} {self.type} {self.element_id} "{self.name}"'
        if not self.changes:
            return head
        parts = [f"{c.field} {_short(c.before)} -> {_short(c.after)}" for c in self.changes]
        return f"{head}: " + "; ".join(parts)


@dataclass(frozen=True)
class VersionDiff:
    elements: tuple[ElementDiff, ...]
    layout_changed: bool = False

    @property
    def empty(self) -> bool:
        return not self.elements and not self.layout_changed

    def of_kind(self, kind: str) -> list[ElementDiff]:
        return [e for e in self.elements if e.kind == kind]

    def lines(self) -> list[str]:
        out = [e.line() for e in self.elements]
        if self.layout_changed:
            out.append("layout: shapes or lines were moved or resized")
        return out or ["no changes"]

    def as_data(self) -> dict[str, Any]:
        """For the viewer and JSON: element ids by kind, and each changed element's fields."""
        return {
            "added": [e.element_id for e in self.of_kind("added")],
            "removed": [e.element_id for e in self.of_kind("removed")],
            "changed": {
                e.element_id: {c.field: {"before": c.before, "after": c.after} for c in e.changes}
                for e in self.of_kind("changed")
            },
            "layout_changed": self.layout_changed,
        }


def _short(value: str, limit: int = 80) -> str:
    value = " ".join(value.split())
    return f'"{value[: limit - 1]}…"' if len(value) > limit else f'"{value}"'


def _prop(el: Any, name: str) -> str:
    for prop in el.iterfind("bpmn:extensionElements/spiffworkflow:properties/*", NS):
        if prop.get("name") == name:
            return prop.get("value") or ""
    return ""


def _text(el: Any, path: str) -> str:
    return " ".join((el.findtext(path, namespaces=NS) or "").split())


def _describe(el: Any, lane_of: dict[str, str], messages: dict[str, str]) -> dict[str, str]:
    local = etree.QName(el).localname
    kinds = [k for k in _EVENT_KINDS if el.find(f"bpmn:{k}EventDefinition", NS) is not None]
    kind = local + (f" ({', '.join(kinds)})" if kinds else "")
    if local == "boundaryEvent" and el.get("cancelActivity") == "false":
        kind += " non-interrupting"
    timer = ""
    definition = el.find("bpmn:timerEventDefinition", NS)
    if definition is not None:
        timer = " ".join(" ".join(definition.itertext()).split())
        if _prop(el, "timer"):
            timer = f"{_prop(el, 'timer')}: {timer}"
    flow = ""
    if el.tag == _FLOW:
        flow = f"{el.get('sourceRef')} -> {el.get('targetRef')}"
    elif el.get("attachedToRef"):
        flow = f"on {el.get('attachedToRef')}"
    elif el.get("default"):
        flow = f"default {el.get('default')}"
    message = el.find("bpmn:messageEventDefinition", NS)
    return {
        "type": kind,
        "name": " ".join((el.get("name") or "").split()),
        "lane": lane_of.get(el.get("id") or "", ""),
        "documentation": _text(el, "bpmn:documentation"),
        "form": _prop(el, "formJsonSchemaFilename"),
        "rule": _prop(el, "rule"),
        "timer": timer,
        "condition": _text(el, "bpmn:conditionExpression"),
        "flow": flow,
        "called": el.get("calledElement") or "",
        "message": messages.get(message.get("messageRef") or "", "") if message is not None else "",
    }


def elements(xml: str) -> tuple[dict[tuple[str, str], dict[str, str]], dict[str, str]]:
    """(process id, element id) -> fields, for every process, flow node and sequence flow;
    and element id -> where it is drawn (BPMNDI bounds and waypoints)."""
    root = etree.fromstring(xml.encode("utf-8"), _PARSER)
    messages = {
        m.get("id"): m.get("name") or m.get("id") for m in root.iterfind("bpmn:message", NS)
    }
    found: dict[tuple[str, str], dict[str, str]] = {}
    for process in root.iterfind("bpmn:process", NS):
        pid = process.get("id") or ""
        lane_of = {
            (ref.text or "").strip(): lane.get("name") or ""
            for lane in process.iterfind(".//bpmn:lane", NS)
            for ref in lane.iterfind("bpmn:flowNodeRef", NS)
        }
        found[(pid, pid)] = {"type": "process", "name": process.get("name") or ""}
        for el in process.iter():
            if el.tag in FLOW_NODES or el.tag == _FLOW:
                found[(pid, el.get("id") or "")] = _describe(el, lane_of, messages)
    layout = {
        drawn.get("bpmnElement") or "": " ".join(
            f"{k}={v}"
            for part in drawn.iter()
            for k, v in sorted(part.attrib.items())
            if k in ("x", "y", "width", "height")
        )
        for drawn in root.iterfind(".//bpmndi:*", {"bpmndi": _DI})
        if etree.QName(drawn).localname in ("BPMNShape", "BPMNEdge")
    }
    return found, layout


def diff(old_xml: str, new_xml: str) -> VersionDiff:
    """Added, removed and changed elements from `old_xml` to `new_xml`, in document order."""
    old, old_layout = elements(old_xml)
    new, new_layout = elements(new_xml)
    out: list[ElementDiff] = []
    for key, fields in new.items():
        if key not in old:
            out.append(ElementDiff(*key, "added", fields["type"], fields["name"]))
            continue
        before = old[key]
        changes = tuple(
            FieldChange(f, before.get(f, ""), fields.get(f, ""))
            for f in FIELDS
            if before.get(f, "") != fields.get(f, "")
        )
        if changes:
            out.append(ElementDiff(*key, "changed", fields["type"], fields["name"], changes))
    for key, fields in old.items():
        if key not in new:
            out.append(ElementDiff(*key, "removed", fields["type"], fields["name"]))
    moved = any(new_layout[k] != old_layout[k] for k in new_layout.keys() & old_layout.keys())
    return VersionDiff(tuple(out), moved)
