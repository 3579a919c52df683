"""A condition that fails on a case's data at run time: a DiagramError (engine/runtime.py), the
case unchanged and the step still completable, and the refusal in the audit trail."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.errors import DiagramError
from engine.services import Engine, NewChild

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "processes" / "sample"
EXAMPLES = ROOT / "forms" / "examples"
BROKEN = 'assessment_outcome.decision == "cin_plan" and assessment_outcome.urgency == "high"'


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
    with pytest.raises(DiagramError, match="urgency"):
        engine.complete_task(task.id, answers, "sw1")

    assert engine.get_case(case.id).revision == revision
    assert [t.id for t in engine.tasks(case_id=case.id)] == [task.id]
    (refusal,) = engine.audit_trail(case.id, action="diagram_refused")
    assert (refusal.actor, refusal.task_id) == ("sw1", task.id)
    assert refusal.detail["refused"] == "complete"
    assert "urgency" in refusal.detail["problem"]
    assert refusal.element_id and refusal.detail["expression"]

    # The step stays completable: answers on which the condition can be worked out go through.
    other = {**example("assessment_outcome"), "decision": "no_further_action"}
    engine.complete_task(task.id, other, "sw1")
    assert engine.audit_trail(case.id, action="task_completed")[-1].task_id == task.id
