"""A step whose diagram cannot go on (a condition reading a starting fact the case was not
given; a form field the form lacks is refused at deploy instead) is refused on the page with what
to do, nothing saved, and the step still open: never a 500."""

from __future__ import annotations

from pathlib import Path

from test_tasks import example, form_data, start_sample, stored

from engine.services import Engine

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "processes" / "sample"
BROKEN = 'assessment_outcome.decision == "cin_plan" and referral.urgency == "high"'


def test_a_condition_that_fails_on_the_answers_is_a_409_page_and_nothing_is_saved(
    engine: Engine,
    client_request,
    tmp_path: Path,
    monkeypatch,  # noqa: ANN001
) -> None:
    files = {p.name: p.read_text() for p in SAMPLE.glob("*.bpmn")}
    files["sample_referral.bpmn"] = files["sample_referral.bpmn"].replace(
        'assessment_outcome.decision == "cin_plan"', BROKEN.replace('"', "&quot;")
    )
    engine.deploy(files, "pm.portsmouth", "broken condition", council="portsmouth")
    # the draft goes live (approved by another practice manager; this world's Portsmouth has
    # no journeys to run, so only the validation is checked)
    pack = tmp_path / "processes" / "portsmouth"
    pack.mkdir(parents=True)
    (pack / "timescales.yaml").write_text(
        (ROOT / "processes" / "portsmouth" / "timescales.yaml").read_text()
    )
    monkeypatch.setattr(engine.context, "processes_dir", pack.parent)
    engine.send_drafts("portsmouth", "admin")  # sent for approval, then a second person
    engine.approve_drafts("portsmouth", "pm.north")
    engine.go_live("portsmouth", "pm.north")
    case = start_sample(engine)
    engine.complete_task(case.tasks[0].id, example("consent"), "sw.north")
    case = engine.get_case(case.id)
    (task,) = case.tasks
    assert task.name == "Complete the assessment"
    before = stored(engine, case.id)

    sw = client_request.sign_in("sw.north")
    answers = {**example("assessment_outcome"), "decision": "cin_plan"}
    page = sw.post(f"/tasks/{task.id}", form_data(task, case, answers), _expected_status=409)
    problem = page.text_of(page.testid("task-problem")[0])
    assert "The procedure cannot go on from this step" in problem
    assert "Nothing has been saved" in problem and "practice manager" in problem
    assert '"referral" is not a value in this case' in problem
    assert stored(engine, case.id) == before
    assert sw.get(f"/tasks/{task.id}").h1 == "Complete the assessment"
