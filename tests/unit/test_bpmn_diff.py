"""The one diff between two versions of a diagram: what the CLI prints and the viewer colours."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from engine.bpmn_diff import diff

ROOT = Path(__file__).resolve().parents[2]
OLD = (ROOT / "processes" / "portsmouth" / "portsmouth_after_assessment.bpmn").read_text(
    encoding="utf-8"
)
PID = "portsmouth_after_assessment"


def edited(*pairs: tuple[str, str]) -> str:
    text = OLD
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


EDITS = {
    "name": (
        ('name="Formulate the initial plan with the family"', 'name="Agree the plan"'),
        "initial_plan",
        ("Formulate the initial plan with the family", "Agree the plan"),
    ),
    "timer": (
        ('deadline("initial_plan", ', 'deadline("first_planning_meeting", '),
        "initial_plan_deadline",
        (
            'deadline: deadline("initial_plan", from_=transfer_date)',
            'deadline: deadline("first_planning_meeting", from_=transfer_date)',
        ),
    ),
    "form": (
        ('value="cin_plan.json"', 'value="meeting_record.json"'),
        "initial_plan",
        ("cin_plan.json", "meeting_record.json"),
    ),
    "documentation": (
        ("Involve the child if they are aged 5 or over", "Involve the child"),
        "initial_plan",
        None,
    ),
    "flow": (
        ('sourceRef="initial_plan" targetRef="child_involved_gw"',
         'sourceRef="initial_plan" targetRef="after_assessment_planning"'),
        "flow_initial_plan_to_child_involved_gw",
        ("initial_plan -> child_involved_gw", "initial_plan -> after_assessment_planning"),
    ),
    "condition": (
        ('manager_decision.decision == "return"', 'manager_decision.decision == "redo"'),
        None,
        ('manager_decision.decision == "return"', 'manager_decision.decision == "redo"'),
    ),
}  # fmt: skip


@pytest.mark.parametrize("field", sorted(EDITS))
def test_each_kind_of_change_is_named_with_before_and_after(field: str) -> None:
    pair, element, values = EDITS[field]
    result = diff(OLD, edited(pair))
    (change,) = result.elements
    assert change.kind == "changed" and change.process_id == PID
    if element:
        assert change.element_id == element
    assert [c.field for c in change.changes] == [field]
    if values:
        assert (change.changes[0].before, change.changes[0].after) == values
    assert result.as_data()["changed"] == {
        change.element_id: {
            field: {"before": change.changes[0].before, "after": change.changes[0].after}
        }
    }
    assert not result.layout_changed


def test_lane_move_and_identical_xml() -> None:
    moved = edited(
        ("<bpmn:flowNodeRef>chase_initial_plan</bpmn:flowNodeRef>", ""),
        ("<bpmn:flowNodeRef>transferred</bpmn:flowNodeRef>",
         "<bpmn:flowNodeRef>transferred</bpmn:flowNodeRef>"
         "<bpmn:flowNodeRef>chase_initial_plan</bpmn:flowNodeRef>"),
    )  # fmt: skip
    assert diff(OLD, moved).lines() == [
        'changed userTask chase_initial_plan "Initial plan overdue": '
        'lane "Team manager" -> "Social worker"'
    ]
    assert diff(OLD, OLD).empty and diff(OLD, OLD).lines() == ["no changes"]


def test_added_and_removed_elements_and_a_moved_shape() -> None:
    root = etree.fromstring(OLD.encode())
    (gone,) = root.xpath("//*[@id='check_child_involved']")
    gone.getparent().remove(gone)
    (shape,) = root.xpath("//*[@bpmnElement='initial_plan']/*[local-name()='Bounds']")
    shape.set("x", str(int(float(shape.get("x"))) + 40))
    new = etree.tostring(root, encoding="unicode").replace(
        '<bpmn:endEvent id="closed_refused"',
        '<bpmn:endEvent id="extra_end" name="Extra" /><bpmn:endEvent id="closed_refused"',
    )
    result = diff(OLD, new)
    data = result.as_data()
    assert data["added"] == ["extra_end"]
    assert data["removed"] == ["check_child_involved"]
    assert result.layout_changed
    assert "layout: shapes or lines were moved or resized" in result.lines()
