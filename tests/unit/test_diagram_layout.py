"""The shipped diagrams are drawn so people can read them (issue 18): in each file's BPMNDI, no
label lies on another shape (a timer on a label, a label under a task's icon), no shape lies
on another one (an end event drawn over a task) except a boundary event on its own host and
anything inside a lane, pool or expanded sub-process, and no word of an outside label is wider
than its label box (bpmn-js would split it mid-word). A label box too short for its wrapped
text fails when the lines that spill below it lie on another label, a shape or a flow
(`text_extent`: bpmn-js wraps at the box's width and draws every line, whatever its height).

A task's icon over the start of its name is not checked: bpmn-js wraps and centres a task's
name inside it as it draws, so where the first letters fall depends on its text layout, not on
anything in the file; a check here would guess. No sequence flow's line runs through the words
of an outside label (`flow_label_problems`).

Only geometry is read: a file that fails is fixed by moving its DI coordinates, never its
semantics. Sizes follow bpmn-js's rendering (11 px Arial for outside labels).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted((ROOT / "processes").rglob("*.bpmn"))
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DD_DI = "http://www.omg.org/spec/DD/20100524/DI"
CONTAINERS = {"lane", "participant"}
CHAR_WIDTH = 6.2  # a wide-ish average for 11 px Arial; a word wider than its box is split


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float

    def overlaps(self, other: Box, margin: float = 1.0) -> bool:
        """Overlap by more than `margin` pixels each way (touching edges are fine)."""
        return (
            min(self.x + self.w, other.x + other.w) - max(self.x, other.x) > margin
            and min(self.y + self.h, other.y + other.h) - max(self.y, other.y) > margin
        )


def _box(el: etree._Element) -> Box:
    b = el.find(f"{{{DC}}}Bounds")
    return Box(*(float(b.get(k)) for k in ("x", "y", "width", "height")))


def layout_problems(path: Path) -> list[str]:
    root = etree.parse(str(path)).getroot()
    semantic = {el.get("id"): el for el in root.iter() if el.get("id")}
    shapes: dict[str, tuple[Box, str]] = {}
    labels: list[tuple[str, Box, str]] = []
    expanded = set()
    for shape in root.iter(f"{{{DI}}}BPMNShape"):
        ref = shape.get("bpmnElement")
        el = semantic.get(ref)
        if el is None:
            continue
        kind = etree.QName(el).localname
        if kind in CONTAINERS:
            continue
        if kind in ("subProcess", "transaction") and shape.get("isExpanded") == "true":
            expanded.add(ref)
            continue
        shapes[ref] = (_box(shape), kind)
        label = shape.find(f"{{{DI}}}BPMNLabel")
        if label is not None and label.find(f"{{{DC}}}Bounds") is not None:
            labels.append((ref, _box(label), (el.get("name") or "").strip()))
    host = {el.get("id"): el.get("attachedToRef") for el in root.iter(f"{{{BPMN}}}boundaryEvent")}
    name = path.relative_to(ROOT).as_posix()
    problems = []
    ids = sorted(shapes)
    for i, a in enumerate(ids):
        for b in ids[i + 1 :]:
            if host.get(a) == b or host.get(b) == a:
                continue
            if shapes[a][0].overlaps(shapes[b][0]):
                problems.append(f"{name}: shape {a} lies on shape {b}")
    drawn = {ref: text_extent(box, text) for ref, box, text in labels}
    for ref, box, text in labels:
        for other in ids:
            if other != ref and box.overlaps(shapes[other][0]):
                problems.append(f"{name}: the label of {ref} lies on shape {other}")
            elif other != ref and drawn[ref].overlaps(shapes[other][0]):
                problems.append(f"{name}: {_too_short(ref, box, drawn[ref])} onto shape {other}")
        for word in text.split():
            # A template's {{placeholder}} is replaced by words when the template is used.
            if word.startswith("{{"):
                continue
            if len(word) * CHAR_WIDTH > box.w + 2:
                problems.append(
                    f"{name}: the label of {ref} is {box.w:g} px wide, too narrow for '{word}'"
                )
    for i, (a, box_a, _) in enumerate(labels):
        for b, box_b, _ in labels[i + 1 :]:
            if box_a.overlaps(box_b):
                problems.append(f"{name}: the labels of {a} and {b} lie on each other")
            elif drawn[a].overlaps(drawn[b]):
                short, other, box = (a, b, box_a) if drawn[a] != box_a else (b, a, box_b)
                too_short = _too_short(short, box, drawn[short])
                problems.append(f"{name}: {too_short} onto the label of {other}")
    return problems


def text_extent(box: Box, text: str) -> Box:
    """The area an outside label's words cover: its box, grown downwards when the wrapped
    lines need more height than the box has (bpmn-js draws every line, from the box's top,
    whatever the box's height, so the extra lines spill onto whatever lies below)."""
    lines = text_boxes(box, text)
    height = len(lines) * LINE_HEIGHT
    return box if height <= box.h + 2 else Box(box.x, box.y, box.w, height)


def _too_short(ref: str, box: Box, drawn: Box) -> str:
    lines = round(drawn.h / LINE_HEIGHT)
    return f"the label of {ref} is {box.h:g} px tall, too short for its {lines} lines, and runs"


LINE_HEIGHT = 13.2  # bpmn-js: 11 px text, 1.2 line height


NARROW_CHAR_WIDTH = 5.0  # 11 px Arial as Chromium draws it: words may fit on fewer lines


def text_boxes(box: Box, text: str, char_width: float = CHAR_WIDTH) -> list[Box]:
    """Where an outside label's words are drawn: bpmn-js wraps the text at the width of its
    label box and centres each line in it, from the top, so a box wider than its words has
    empty margins a line may cross without hiding anything."""
    lines: list[str] = []
    for word in text.split():
        if lines and (len(lines[-1]) + 1 + len(word)) * char_width <= box.w:
            lines[-1] += " " + word
        else:
            lines.append(word)
    boxes = []
    for n, line in enumerate(lines):
        width = min(len(line) * char_width, box.w)
        boxes.append(Box(box.x + (box.w - width) / 2, box.y + n * LINE_HEIGHT, width, LINE_HEIGHT))
    return boxes


def flow_label_problems(path: Path) -> list[str]:
    """Outside labels whose words a sequence flow's line runs through (bpmn-js draws the lines
    over the labels, so the words under a line are struck through). Only the words count, not
    the empty ends of a wide label box; a flow of the labelled element itself counts the same
    (a boundary event's label beside its own outgoing flow is fine, under it is not: bpmn-js's
    own modeler moves such a label aside, AdaptiveLabelPositioningBehavior)."""
    root = etree.parse(str(path)).getroot()
    semantic = {el.get("id"): el for el in root.iter() if el.get("id")}
    name = path.relative_to(ROOT).as_posix()
    labels = []
    for shape in root.iter(f"{{{DI}}}BPMNShape"):
        label = shape.find(f"{{{DI}}}BPMNLabel")
        el = semantic.get(shape.get("bpmnElement"))
        if el is None or label is None or label.find(f"{{{DC}}}Bounds") is None:
            continue
        text = (el.get("name") or "").strip()
        # The words fall somewhere between the narrow and the wide estimate: both must be clear.
        boxes = text_boxes(_box(label), text) + text_boxes(_box(label), text, NARROW_CHAR_WIDTH)
        labels.append((el.get("id"), boxes))
    problems = []
    for edge in root.iter(f"{{{DI}}}BPMNEdge"):
        points = [(float(w.get("x")), float(w.get("y"))) for w in edge.iter(f"{{{DD_DI}}}waypoint")]
        segments = list(zip(points, points[1:], strict=False))
        for ref, boxes in labels:
            if any(_crosses(box, p, q) for box in boxes for p, q in segments):
                flow = edge.get("bpmnElement")
                problems.append(f"{name}: the label of {ref} lies on sequence flow {flow}")
    return problems


def _crosses(box: Box, p: tuple[float, float], q: tuple[float, float], margin: float = 1.0) -> bool:
    """Whether the segment p-q passes through the inside of `box` (Liang-Barsky clipping)."""
    low, high = 0.0, 1.0
    dx, dy = q[0] - p[0], q[1] - p[1]
    for d, start, lo, hi in (
        (dx, p[0], box.x + margin, box.x + box.w - margin),
        (dy, p[1], box.y + margin, box.y + box.h - margin),
    ):
        if d == 0:
            if not lo < start < hi:
                return False
            continue
        a, b = sorted(((lo - start) / d, (hi - start) / d))
        low, high = max(low, a), min(high, b)
    return low < high


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_shipped_diagrams_have_no_label_under_a_flow(path: Path) -> None:
    problems = flow_label_problems(path)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_shipped_diagrams_have_no_overlapping_labels_or_shapes(path: Path) -> None:
    problems = layout_problems(path)
    assert not problems, "\n".join(problems)


def test_the_check_finds_a_timer_on_a_label_and_an_end_event_on_a_task(tmp_path: Path) -> None:
    """The check is not vacuous: a drawing with each fault is caught on each."""
    shape = '<bpmndi:BPMNShape id="{0}_di" bpmnElement="{0}"><dc:Bounds x="{1}" y="{2}" width="{3}" height="{4}" />'  # noqa: E501
    edge = (
        '<bpmndi:BPMNEdge id="{0}_di" bpmnElement="{0}"><di:waypoint x="{1}" y="{2}" />'
        '<di:waypoint x="{3}" y="{4}" /></bpmndi:BPMNEdge>'
    )
    label = (
        '<bpmndi:BPMNLabel><dc:Bounds x="30" y="150" width="40" height="14" /></bpmndi:BPMNLabel>'
    )
    text = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="{BPMN}" xmlns:bpmndi="{DI}" xmlns:dc="{DC}"
    xmlns:di="{DD_DI}" id="d">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:userTask id="task" name="Do it" />
    <bpmn:endEvent id="end" name="Finished" />
    <bpmn:startEvent id="start" name="Unquestionably" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="dd"><bpmndi:BPMNPlane id="pl" bpmnElement="p">
    {shape.format("task", 100, 100, 100, 80)}</bpmndi:BPMNShape>
    {shape.format("end", 180, 120, 36, 36)}</bpmndi:BPMNShape>
    {shape.format("start", 40, 120, 36, 36)}{label}</bpmndi:BPMNShape>
    {edge.format("f", 50, 200, 50, 140)}
    {edge.format("g", 76, 138, 100, 138)}
  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</bpmn:definitions>"""
    (tmp_path / "p.bpmn").write_text(text)
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        problems = layout_problems(tmp_path / "p.bpmn")
        problems += flow_label_problems(tmp_path / "p.bpmn")
    finally:
        ROOT = saved
    assert "p.bpmn: shape end lies on shape task" in problems
    assert "p.bpmn: the label of start lies on shape start" not in problems  # its own shape
    assert any("too narrow for 'Unquestionably'" in p for p in problems)
    assert "p.bpmn: the label of start lies on sequence flow f" in problems  # up through it
    assert not any("sequence flow g" in p for p in problems)  # beside it, not on it


def test_the_check_finds_a_label_too_short_for_its_wrapped_lines(tmp_path: Path) -> None:
    """'Reminder 1 week before' in a 56 by 14 px box wraps to three lines: the third runs into
    the label below it; the same words in a box tall enough for them, or with nothing below,
    pass. (A flow under the spilled lines is caught by `flow_label_problems`, which follows
    the wrapped lines, not the box.)"""

    def drawing(height: int, below: int) -> str:
        return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="{BPMN}" xmlns:bpmndi="{DI}" xmlns:dc="{DC}"
    xmlns:di="{DD_DI}" id="d">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="remind" name="Reminder 1 week before" />
    <bpmn:endEvent id="due" name="Due" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="dd"><bpmndi:BPMNPlane id="pl" bpmnElement="p">
    <bpmndi:BPMNShape id="remind_di" bpmnElement="remind"><dc:Bounds x="40" y="40" width="36" height="36" /><bpmndi:BPMNLabel><dc:Bounds x="30" y="80" width="56" height="{height}" /></bpmndi:BPMNLabel></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="due_di" bpmnElement="due"><dc:Bounds x="300" y="40" width="36" height="36" /><bpmndi:BPMNLabel><dc:Bounds x="30" y="{below}" width="56" height="14" /></bpmndi:BPMNLabel></bpmndi:BPMNShape>
  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</bpmn:definitions>"""  # noqa: E501

    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        found = {}
        for height, below in ((14, 100), (41, 124), (14, 160)):
            (tmp_path / "p.bpmn").write_text(drawing(height, below))
            found[height, below] = layout_problems(tmp_path / "p.bpmn")
    finally:
        ROOT = saved
    assert found[14, 100] == [
        "p.bpmn: the label of remind is 14 px tall, too short for its 3 lines, and runs onto"
        " the label of due"
    ]
    assert found[41, 124] == []  # tall enough
    assert found[14, 160] == []  # too short, but nothing lies below it
