"""The procedure library: a deployed pathway's steps in order, each with its guidance, lane (who),
rule ids and the council's timescales for those rules, read from the stored BPMN and the
council's timescales file. Read-only; trainers, practice managers and social workers use it.

"In order" is the order of the drawing (left to right, then top to bottom), which is how the
pathways are laid out; steps inside sub-processes come where their shapes are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from engine.calendar import Duration
from engine.timescales import CouncilProfile

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
_RULE = re.compile(r"\b[A-Z]{1,2}\d{1,3}\b")
STEP_KINDS = ("userTask", "callActivity")


@dataclass(frozen=True)
class TimescaleText:
    rule: str
    words: str  # "15 working days from the conference"
    working_days: int | None  # None for calendar months or days
    section: str
    note: str


@dataclass(frozen=True)
class ProcedureStep:
    element_id: str
    name: str
    kind: str  # "userTask" or "callActivity" (a shared block, e.g. a planning meeting)
    lane: str | None
    documentation: str
    rules: list[str]
    timescales: list[TimescaleText]


def working_days(duration: Duration) -> int | None:
    """A duration in working days when it is one without a calendar: weeks are 5 each."""
    if duration.unit == "working_days":
        return duration.amount
    if duration.unit == "weeks":
        return duration.amount * 5
    return None


def _trailer_rules(doc: str) -> list[str]:
    """Rule ids from the references that end a step's documentation ("P14 · Portsmouth 7.1")."""
    marker = doc.find(" · ")
    if marker < 0:
        return []
    start = doc.rfind(". ", 0, marker)
    trailer = doc[start + 2 :] if start >= 0 else doc
    return [r for part in trailer.split(";") for r in _RULE.findall(part.partition(" · ")[0])]


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def procedure_steps(xml: str, profile: CouncilProfile) -> list[ProcedureStep]:
    """The steps people do in a stored diagram, in drawing order, with their timescales."""
    root = etree.fromstring(xml.encode("utf-8"), _parser())
    lanes: dict[str, str] = {}
    for lane in root.iterfind(".//bpmn:lane", NS):
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            lanes[(ref.text or "").strip()] = lane.get("name") or ""
    where: dict[str, tuple[float, float]] = {}
    for shape in root.iterfind(".//bpmndi:BPMNShape", NS):
        bounds = shape.find("dc:Bounds", NS)
        if bounds is not None:
            where[shape.get("bpmnElement", "")] = (
                float(bounds.get("x", 0)),
                float(bounds.get("y", 0)),
            )
    by_rule: dict[str, list[TimescaleText]] = {}
    for scale in profile.timescales.values():
        by_rule.setdefault(scale.rule, []).append(
            TimescaleText(
                scale.rule,
                f"{scale.duration} from {scale.start}",
                working_days(scale.duration),
                scale.section,
                scale.note,
            )
        )
    steps = []
    for kind in STEP_KINDS:
        for node in root.iterfind(f".//bpmn:{kind}", NS):
            element = node.get("id", "")
            doc = " ".join("".join(node.findtext("bpmn:documentation", "", NS)).split())
            prop = node.find(".//spiffworkflow:property[@name='rule']", NS)
            rules = _RULE.findall(prop.get("value", "")) if prop is not None else []
            rules += [r for r in _trailer_rules(doc) if r not in rules]
            rules = [r for r in rules if r in by_rule] or rules
            steps.append(
                ProcedureStep(
                    element,
                    node.get("name") or element,
                    kind,
                    lanes.get(element),
                    doc,
                    rules,
                    [t for r in rules for t in by_rule.get(r, [])],
                )
            )
    return sorted(steps, key=lambda s: (where.get(s.element_id, (1e9, 1e9)), s.element_id))
