"""The rule set of engine/conventions.json: every shipped diagram passes it, and each rule, when
one element of a real council diagram is broken, names that element in its message.

The checks run on parsed XML without a database, so this file is quick; tests/integration/
test_deploy.py shows the same messages come back from a deploy.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from lxml import etree

from engine.conventions import RULES_FILE, Finding, check, context_for

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = ROOT / "processes"
FORMS = ROOT / "forms"
COUNCILS = ["portsmouth", "dudley", "teeswide", "rochdale", "walthamforest"]
TARGET = PROCESSES / "portsmouth" / "portsmouth_after_assessment.bpmn"
DI = "http://www.omg.org/spec/BPMN/20100524/DI"


def _findings(text: str, council: str = "portsmouth", **context: object) -> list[Finding]:
    ctx = replace(context_for(council, PROCESSES, FORMS), **context)
    return check(etree.fromstring(text.encode("utf-8")), ctx)


def _edit(old: str, new: str) -> str:
    text = TARGET.read_text(encoding="utf-8")
    assert old in text, old
    return text.replace(old, new, 1)


def _without(element_id: str, child: str | None = None) -> str:
    """The target diagram with one element (or that element's `child`) removed."""
    root = etree.fromstring(TARGET.read_bytes())
    (el,) = root.xpath("//*[@id=$id]", id=element_id)
    if child:
        el = el.find(f"{{http://www.omg.org/spec/BPMN/20100524/MODEL}}{child}")
    el.getparent().remove(el)
    return etree.tostring(root, encoding="unicode")


@pytest.mark.parametrize("council", COUNCILS)
def test_every_council_pack_and_the_common_blocks_pass(council: str) -> None:
    ctx = context_for(council, PROCESSES, FORMS)
    for path in [*(PROCESSES / "common").glob("*.bpmn"), *(PROCESSES / council).glob("*.bpmn")]:
        found = check(etree.parse(str(path)).getroot(), ctx)
        assert found == [], f"{path.name}: {found}"


# rule id -> (broken diagram text, element the finding names, words the message contains)
BREAKS = {
    "user-task-lane": (
        lambda: _edit("<bpmn:flowNodeRef>initial_plan</bpmn:flowNodeRef>", ""),
        "initial_plan",
        'user task "Formulate the initial plan with the family" is in no lane',
    ),
    "user-task-documentation": (
        lambda: _without("initial_plan", child="documentation"),
        "initial_plan",
        '"Formulate the initial plan with the family" has no documentation',
    ),
    "form-exists": (
        lambda: _edit('value="cin_plan.json"', 'value="cin_plan_v2.json"'),
        "initial_plan",
        'form "cin_plan_v2.json" does not exist in forms/',
    ),
    "user-task-form": (
        lambda: _edit(
            '<spiffworkflow:property name="formJsonSchemaFilename" value="cin_plan.json" />', ""
        ),
        "initial_plan",
        '"Formulate the initial plan with the family" has no form',
    ),
    "rule-ids": (
        lambda: _edit(
            '<spiffworkflow:property name="rule" value="P1" />',
            '<spiffworkflow:property name="rule" value="P1/D99" />',
        ),
        "initial_plan",
        "names rule D99, which is not one of portsmouth's rules",
    ),
    "timer-key": (
        lambda: _edit('deadline("initial_plan", ', 'deadline("initial_plans", '),
        "initial_plan_deadline",
        'timer "15 working days" names timescale "initial_plans"',
    ),
    "timer-kind": (
        lambda: _edit('name="timer" value="deadline"', 'name="timer" value="late"'),
        "initial_plan_deadline",
        'boundary timer "15 working days" is neither a reminder nor a deadline',
    ),
    "timer-pair": (
        lambda: _without("initial_plan_reminder"),
        "initial_plan",
        '"Formulate the initial plan with the family" has a deadline but no reminder',
    ),
    "deadline-escalation": (
        lambda: _edit("<bpmn:flowNodeRef>chase_initial_plan</bpmn:flowNodeRef>", "").replace(
            "<bpmn:flowNodeRef>transferred</bpmn:flowNodeRef>",
            "<bpmn:flowNodeRef>transferred</bpmn:flowNodeRef>"
            "<bpmn:flowNodeRef>chase_initial_plan</bpmn:flowNodeRef>",
            1,
        ),
        "initial_plan_deadline",
        "leads to no task in the Team manager lane",
    ),
    "diagram-drawn": (
        lambda: _without("initial_plan_di"),
        "initial_plan",
        '"Formulate the initial plan with the family" is not drawn',
    ),
    "coverage-elements": (
        lambda: _edit('id="check_child_involved"', 'id="check_child_involved_again"'),
        "check_child_involved",
        "rule P1 names portsmouth_after_assessment:check_child_involved, which is not in the "
        "diagram",
    ),
}


def test_every_rule_has_a_breaking_test() -> None:
    rules = {r["id"] for r in json.loads(RULES_FILE.read_text(encoding="utf-8"))["rules"]}
    assert rules == set(BREAKS)


@pytest.mark.parametrize("rule", sorted(BREAKS))
def test_breaking_one_element_names_it(rule: str) -> None:
    make, element, words = BREAKS[rule]
    found = [f for f in _findings(make()) if f.rule == rule]
    assert [f.element_id for f in found] == [element], found
    assert words in found[0].message
    assert found[0].line and found[0].line > 1


def test_a_flow_without_an_edge_and_a_file_without_a_diagram() -> None:
    found = _findings(_without("flow_initial_plan_to_child_involved_gw_di"))
    assert [(f.element_id, f.message) for f in found] == [
        (
            "flow_initial_plan_to_child_involved_gw",
            "sequence flow "
            '"flow_initial_plan_to_child_involved_gw" is not drawn: the diagram has no edge for it',
        )
    ]
    root = etree.fromstring(TARGET.read_bytes())
    for diagram in root.findall(f"{{{DI}}}BPMNDiagram"):
        root.remove(diagram)
    found = _findings(etree.tostring(root, encoding="unicode"))
    assert [(f.rule, f.element_id) for f in found] == [
        ("diagram-drawn", "portsmouth_after_assessment")
    ]
    assert "has no diagram (BPMNDI)" in found[0].message


def test_a_step_the_rule_abandons_needs_no_escalation_but_an_interrupting_deadline() -> None:
    text = TARGET.read_text(encoding="utf-8")
    scales = tuple(
        (k, "abandon" if k == "initial_plan" else v)
        for k, v in context_for("portsmouth", PROCESSES, FORMS).timescales
    )
    broken = _edit("<bpmn:flowNodeRef>chase_initial_plan</bpmn:flowNodeRef>", "")
    found = _findings(broken, timescales=scales)
    assert [(f.rule, f.element_id) for f in found if f.rule == "deadline-escalation"] == [
        ("deadline-escalation", "initial_plan_deadline")
    ]
    assert "must interrupt it" in found[-1].message
    interrupting = text.replace(
        'id="initial_plan_deadline" name="15 working days" cancelActivity="false"',
        'id="initial_plan_deadline" name="15 working days" cancelActivity="true"',
    )
    assert _findings(interrupting, timescales=scales) == []


def test_processes_outside_the_pack_need_only_the_safety_rules() -> None:
    """Demonstrations and fixtures (ids not starting with the council or common_) are not held
    to pairs, drawing or coverage, but still to lanes, documentation, forms and timescale keys."""
    text = _without("initial_plan_di").replace(
        'bpmn:process id="portsmouth_after_assessment"', 'bpmn:process id="demo_after_assessment"'
    )
    assert _findings(text) == []
    text = text.replace('value="cin_plan.json"', 'value="nope.json"')
    assert [f.rule for f in _findings(text)] == ["form-exists"]
