"""Deployments: versions, no-op redeploys, refusals that list every problem and store nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.deployment import DeploymentError, read_files
from engine.services import Engine, NewChild

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "processes" / "sample"


def sample_files() -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(SAMPLE.glob("*.bpmn"))}


def test_deploy_stores_versions_and_identical_xml_is_a_no_op(engine: Engine) -> None:
    first = engine.deploy(sample_files(), "pm1", "first")
    assert {(v.process_id, v.version) for v in first} == {
        ("sample_referral", 1),
        ("sample_consent", 1),
    }
    again = engine.deploy(sample_files(), "pm2", "again")
    assert [(v.id, v.version, v.deployed_by) for v in again] == [
        (v.id, v.version, v.deployed_by) for v in first
    ]
    assert len(engine.list_processes(all_versions=True)) == 2
    assert len(engine.audit_trail(action="process_deployed")) == 2


def test_changed_xml_is_a_new_version_and_running_cases_stay_on_theirs(engine: Engine) -> None:
    engine.deploy(sample_files(), "pm1")
    case = engine.start_case(
        "sample_referral", NewChild("Ada Example"), {"referral_date": "2026-11-23"}, "sw1"
    )
    files = sample_files()
    files["sample_referral.bpmn"] = files["sample_referral.bpmn"].replace(
        "Complete the assessment", "Complete the single assessment"
    )
    versions = {v.process_id: v.version for v in engine.deploy(files, "pm1", "rename")}
    assert versions == {"sample_referral": 2, "sample_consent": 1}
    assert engine.get_case(case.id).version == 1
    draft = engine.start_case(
        "sample_referral", NewChild("Cy Example"), {"referral_date": "2026-11-23"}, "sw1"
    )
    assert draft.version == 1, "a deploy is a draft: new cases stay on the live version"
    engine.people.add_user("pm2", "Pat Second", "a long enough password 1", "practice_manager")
    engine.people.add_user("pm1", "Pat First", "a long enough password 1", "practice_manager")
    engine.send_drafts("any", "pm1")  # the author asks for approval; a second person approves
    engine.approve_drafts("any", "pm2")
    engine.go_live("any", "pm2")
    newer = engine.start_case(
        "sample_referral", NewChild("Bo Example"), {"referral_date": "2026-11-23"}, "sw1"
    )
    assert newer.version == 2
    # The old case still runs its own version to the end of the step.
    task = engine.get_case(case.id).tasks[0]
    done = engine.complete_task(task.id, _consent(), "sw1")
    assert [t.name for t in done.next_tasks] == ["Complete the assessment"]


def test_a_dependency_change_is_a_new_version_of_the_caller(engine: Engine) -> None:
    engine.deploy(sample_files(), "pm1")
    files = sample_files()
    files["sample_consent.bpmn"] = files["sample_consent.bpmn"].replace(
        'Record consent"', 'Record consent now"'
    )
    versions = {v.process_id: v.version for v in engine.deploy(files, "pm1")}
    assert versions == {"sample_referral": 2, "sample_consent": 2}


def _consent() -> dict:
    return {
        "given_by_name": "Jo Example",
        "given_by_relationship": "parent_with_pr",
        "consent_for": "assessment",
        "consent_method": "written",
        "consent_date": "2026-11-23",
        "consent_given": True,
    }


BROKEN = {
    "not xml": ("<bpmn:definitions", "not well-formed XML"),
    "not bpmn": ('<?xml version="1.0"?><html><body/></html>', "not a BPMN 2.0 file"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_files_that_are_not_bpmn_are_refused(engine: Engine, case: str) -> None:
    text, message = BROKEN[case]
    with pytest.raises(DeploymentError) as caught:
        engine.deploy({"upload.bpmn": text}, "pm1")
    assert message in str(caught.value)
    assert engine.list_processes() == []


EDITS = {
    "not executable": (
        'name="Sample referral" isExecutable="true"',
        'name="Sample referral" isExecutable="false"',
        "sample_referral",
        "not executable",
    ),
    "missing call target": (
        'calledElement="sample_consent"',
        'calledElement="nowhere"',
        None,
        "nowhere",
    ),
    "timer that does not evaluate": (
        'due_in("15 working days", from_=referral_date)',
        'due_in("15 workdays", from_=referral_date)',
        "assessment_deadline",
        "15 workdays",
    ),
    "ISO duration in a date timer": (
        'due_in("15 working days", from_=referral_date)',
        "P15D",
        "assessment_deadline",
        "draw it as a duration timer (timeDuration)",
    ),
    "function not on the whitelist": (
        'due_in("15 working days", from_=referral_date)',
        '__import__("os").system("id")',
        "assessment_deadline",
        "timer",
    ),
    "user task without a lane": (
        "<bpmn:flowNodeRef>complete_assessment</bpmn:flowNodeRef>",
        "",
        "complete_assessment",
        "no lane",
    ),
    "missing form": (
        'value="assessment_outcome.json"',
        'value="nope.json"',
        "complete_assessment",
        "nope.json",
    ),
    "script task": (
        '<bpmn:endEvent id="plan_started" name="Plan started">',
        '<bpmn:scriptTask id="evil"><bpmn:script>import os</bpmn:script></bpmn:scriptTask>'
        '<bpmn:endEvent id="plan_started" name="Plan started">',
        "evil",
        "script tasks are not allowed",
    ),
    "pre-script": (
        '<spiffworkflow:property name="formJsonSchemaFilename" value="meeting_record.json" />',
        '<spiffworkflow:property name="formJsonSchemaFilename" value="meeting_record.json" />'
        "</spiffworkflow:properties><spiffworkflow:preScript>x = 1</spiffworkflow:preScript>"
        "<spiffworkflow:properties>",
        "hold_planning_meeting",
        "preScript is not allowed",
    ),
    "condition escape": (
        'assessment_outcome.decision == "cin_plan"',
        "().__class__.__bases__[0].__subclasses__()",
        "flow_plan",
        "condition",
    ),
}


@pytest.mark.parametrize("case", sorted(EDITS))
def test_invalid_diagrams_are_refused_by_element_and_line(engine: Engine, case: str) -> None:
    old, new, element, message = EDITS[case]
    files = sample_files()
    assert old in files["sample_referral.bpmn"], case
    files["sample_referral.bpmn"] = files["sample_referral.bpmn"].replace(old, new, 1)
    with pytest.raises(DeploymentError) as caught:
        engine.deploy(files, "pm1")
    problems = caught.value.problems
    assert any(message in p.message for p in problems), [str(p) for p in problems]
    if element:
        hit = next(p for p in problems if message in p.message)
        assert hit.element_id == element
        assert hit.line and hit.line > 1
        assert hit.file == "sample_referral.bpmn"
    assert engine.list_processes() == []
    assert engine.audit_trail() == []


def test_every_problem_is_listed_at_once(engine: Engine) -> None:
    files = sample_files()
    text = files["sample_referral.bpmn"]
    text = text.replace('value="assessment_outcome.json"', 'value="nope.json"')
    text = text.replace('value="meeting_record.json"', 'value="also_missing.json"')
    files["sample_referral.bpmn"] = text
    with pytest.raises(DeploymentError) as caught:
        engine.deploy(files, "pm1")
    assert {p.element_id for p in caught.value.problems} >= {
        "complete_assessment",
        "hold_planning_meeting",
    }


def test_a_council_pack_breaking_a_convention_is_refused_naming_the_element(
    engine: Engine,
) -> None:
    """The rule set (engine/conventions.json) runs at deploy: a deadline with no escalation."""
    files = read_files([ROOT / "processes" / "common", ROOT / "processes" / "portsmouth"])
    name = "portsmouth/portsmouth_after_assessment.bpmn"
    files[name] = files[name].replace(
        "<bpmn:flowNodeRef>chase_initial_plan</bpmn:flowNodeRef>", "", 1
    )
    with pytest.raises(DeploymentError) as caught:
        engine.deploy(files, "pm1", council="portsmouth")
    assert [(p.file, p.element_id) for p in caught.value.problems] == [
        (name, "chase_initial_plan"),
        (name, "initial_plan_deadline"),
    ]
    assert "leads to no task in the Team manager lane" in caught.value.problems[1].message
    assert engine.list_processes() == []
