"""A condition reading a field the case does not have. What the files show is refused at deploy
(a form field the form cannot hold: engine/condition_fields.py, naming the flow and the field);
what depends on the case (a starting fact it was not given) fails at run time as a DiagramError
(engine/runtime.py): the case unchanged, the step still completable, the refusal audited."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.deployment import DeploymentError
from engine.errors import DiagramError
from engine.services import Engine, NewChild

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "processes" / "sample"
EXAMPLES = ROOT / "forms" / "examples"
BROKEN = 'assessment_outcome.decision == "cin_plan" and referral.urgency == "high"'
NO_SUCH_FIELD = 'assessment_outcome.decision == "cin_plan" and assessment_outcome.urgency == "high"'


def example(name: str) -> dict:
    return json.loads((EXAMPLES / f"{name}.valid.json").read_text())


def test_a_failing_condition_is_an_audited_refusal_that_leaves_the_step_open(
    engine: Engine,
) -> None:
    files = {p.name: p.read_text() for p in SAMPLE.glob("*.bpmn")}
    files["sample_referral.bpmn"] = files["sample_referral.bpmn"].replace(
        'assessment_outcome.decision == "cin_plan"', BROKEN.replace('"', "&quot;")
    )
    engine.deploy(files, "pm1", "broken condition")
    case = engine.start_case(
        "sample_referral", NewChild("Ada Example"), {"referral_date": "2026-11-23"}, "sw1"
    )
    engine.complete_task(case.tasks[0].id, example("consent"), "sw1")
    (task,) = engine.tasks(case_id=case.id)
    revision = engine.get_case(case.id).revision

    answers = {**example("assessment_outcome"), "decision": "cin_plan"}
    with pytest.raises(DiagramError, match="referral"):
        engine.complete_task(task.id, answers, "sw1")

    assert engine.get_case(case.id).revision == revision
    assert [t.id for t in engine.tasks(case_id=case.id)] == [task.id]
    (refusal,) = engine.audit_trail(case.id, action="diagram_refused")
    assert (refusal.actor, refusal.task_id) == ("sw1", task.id)
    assert refusal.detail["refused"] == "complete"
    assert "referral" in refusal.detail["problem"]
    assert refusal.element_id and refusal.detail["expression"]

    # The step stays completable: answers on which the condition can be worked out go through.
    other = {**example("assessment_outcome"), "decision": "no_further_action"}
    engine.complete_task(task.id, other, "sw1")
    assert engine.audit_trail(case.id, action="task_completed")[-1].task_id == task.id


def test_a_condition_reading_a_field_its_form_does_not_have_is_refused_at_deploy(
    engine: Engine,
) -> None:
    files = {p.name: p.read_text() for p in SAMPLE.glob("*.bpmn")}
    files["sample_referral.bpmn"] = files["sample_referral.bpmn"].replace(
        'assessment_outcome.decision == "cin_plan"', NO_SUCH_FIELD.replace('"', "&quot;")
    )
    with pytest.raises(DeploymentError) as refused:
        engine.deploy(files, "pm1", "a field the form does not have")
    (problem,) = refused.value.problems
    assert problem.element_id == "flow_plan" and problem.line
    assert (
        'reads "assessment_outcome.urgency", but the form assessment_outcome.json has no field'
        in (problem.message)
    )
    assert "decision" in problem.message  # the fields it does have
    assert engine.list_processes() == []  # nothing deployed
    # the other ways of reading a field are checked too; a real field passes
    for form_read in ('assessment_outcome["urgency"]', 'assessment_outcome.get("urgency")'):
        text = files["sample_referral.bpmn"].replace("assessment_outcome.urgency", form_read)
        with pytest.raises(DeploymentError, match="urgency"):
            engine.deploy({**files, "sample_referral.bpmn": text}, "pm1")
    fine = files["sample_referral.bpmn"].replace(
        "assessment_outcome.urgency", "assessment_outcome.sex"
    )
    assert [v.status for v in engine.deploy({**files, "sample_referral.bpmn": fine}, "pm1")]
