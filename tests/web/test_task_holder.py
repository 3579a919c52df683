"""The task page says who holds the step and lets you claim or unclaim it; completing a step
nobody held claims it first, in the same audited act."""

from __future__ import annotations

import json

from factories import CONSENT_ANSWERS


def test_claim_and_unclaim_from_the_task_page(client_request, world, engine):  # noqa: ANN001
    ben = world.task("Ben Carter")
    user = client_request.sign_in("sw.north")
    page = user.get(f"/tasks/{ben.id}")
    holder = page.text_of(page.testid("task-holder")[0])
    assert "Who is doing this: nobody yet" in holder and "Claim this step" in holder
    user.post(f"/worklist/tasks/{ben.id}/claim", {"next": f"/tasks/{ben.id}"},
              _expected_redirect=f"/tasks/{ben.id}")  # fmt: skip
    page = user.get(f"/tasks/{ben.id}")
    assert "Who is doing this: you Unclaim this step" in page.text_of(page.testid("task-holder")[0])
    chloe = world.task("Chloe Davies")  # held by Priya Shah
    page = user.get(f"/tasks/{chloe.id}")
    assert page.text_of(page.testid("task-holder")[0]) == "Who is doing this: Priya Shah"


def test_completing_an_unclaimed_step_claims_it_in_the_same_act(engine, world):  # noqa: ANN001
    dylan = world.task("Dylan Evans")  # "Complete the assessment", nobody holds it
    answers = CONSENT_ANSWERS.parent / "assessment_outcome.valid.json"
    engine.complete_task(dylan.id, json.loads(answers.read_text()), "sw.north")
    actions = [(e.action, e.actor, e.at) for e in engine.audit_trail(dylan.case_id)
               if e.task_id == dylan.id]  # fmt: skip
    assert [a[:2] for a in actions] == [
        ("task_claimed", "sw.north"),
        ("task_completed", "sw.north"),
    ]
    assert actions[0][2] == actions[1][2]


def test_a_long_form_has_a_contents_list(client_request, engine):  # noqa: ANN001
    from test_tasks import start_plan  # noqa: PLC0415 - the plan case its tests use

    (task,) = start_plan(engine).tasks
    page = client_request.sign_in("sw.north").get(f"/tasks/{task.id}")
    contents = page.testid("form-contents")[0]
    links = contents.xpath(".//a")
    assert len(links) > 6
    for link in links:  # every entry jumps to a field on the page
        assert page.xpath(f'//*[@id="{link.get("href")[1:]}"]'), link.get("href")
    assert "Needs, outcomes and actions" in page.text_of(contents)
    short = client_request.get(f"/tasks/{client_request_task(engine)}")
    assert not short.testid("form-contents")


def client_request_task(engine) -> str:  # noqa: ANN001
    """A step with a short form: sending the plan (five questions), on a case of team north."""
    from pathlib import Path  # noqa: PLC0415

    from engine.services import NewChild  # noqa: PLC0415

    common = Path(__file__).resolve().parents[2] / "processes" / "common"
    engine.deploy([common], "test", "short form", council="portsmouth")
    case = engine.start_case(
        "common_plan_distribution",
        NewChild("Sam Short"),
        {},
        "tm.north",
        council="portsmouth",
        team="north",
    )
    (task,) = engine.tasks(case_id=case.id)
    assert task.form == "distribution.json"
    return task.id


def test_a_step_that_answers_a_question_itself_does_not_ask_it(client_request, engine):  # noqa: ANN001
    """ "Formulate the initial plan" is the initial plan: no "Which plan is this?"."""
    from engine.services import NewChild  # noqa: PLC0415

    engine.deploy_pack("portsmouth", "pm")
    case = engine.start_case(
        "portsmouth_after_assessment",
        NewChild("Isla Thompson"),
        {"transfer_date": "2026-11-23", "cin_start_date": "2026-11-23"},
        "tm.north",
        council="portsmouth",
        team="north",
    )
    (consent,) = engine.tasks(case_id=case.id)
    engine.complete_task(consent.id, json.loads(CONSENT_ANSWERS.read_text()), "sw.north")
    (task,) = [t for t in engine.tasks(case_id=case.id) if t.element_id == "initial_plan"]
    assert engine.task(task.id).preset == {"plan_stage": "initial"}
    page = client_request.sign_in("sw.north").get(f"/tasks/{task.id}")
    assert "Which plan is this?" not in page.text
    example = json.loads((CONSENT_ANSWERS.parent / "cin_plan.valid.json").read_text())
    del example["plan_stage"]
    engine.complete_task(task.id, example, "sw.north")
    assert engine.get_case(case.id, with_data=True).data["cin_plan"]["plan_stage"] == "initial"
