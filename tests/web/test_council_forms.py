"""A shared form asks each council its own questions (forms/README.md, `x-councils`).

The sample process's planning meeting uses forms/meeting_record.json, the meeting record of
every council. Rochdale alone asks R9's questions (the review interval a team manager agreed,
and whether the Children with Disability Team works with the child): a Portsmouth worker's
task page never shows them, and an answer to them is never kept for a Portsmouth case.
"""

from __future__ import annotations

from typing import Any

import pytest
from factories import add_team_people, deploy_sample
from test_tasks import example, post_fields, start_sample

from engine import forms
from engine.errors import InvalidData
from engine.services import Engine, NewChild

CWD = "Children with Disability Team"
R9 = {
    "review_weeks_agreed": 10,
    "review_weeks_agreed_by": "Tina Manager",
    "children_with_disability_team": True,
}


def at_meeting(engine: Engine, case: Any, by: str) -> Any:
    """Consent given and a CIN plan decided: the case waits on the planning meeting."""
    engine.complete_task(case.tasks[0].id, example("consent"), by)
    (assessment,) = engine.get_case(case.id).tasks
    engine.complete_task(assessment.id, example("assessment_outcome"), by)
    case = engine.get_case(case.id)
    (meeting,) = [t for t in case.tasks if t.form == "meeting_record.json"]
    return case, meeting


@pytest.fixture
def rochdale(engine: Engine) -> Any:
    """A Rochdale team, worker and sample case at its planning meeting."""
    deploy_sample(engine, ["rochdale"])
    add_team_people(engine, "roch", "rochdale", [("sw.roch", "social_worker")])
    case = engine.start_case(
        "sample_referral", NewChild("Rosa Example"), {"referral_date": "2026-11-23"},
        "factory", council="rochdale", team="roch",
    )  # fmt: skip
    return at_meeting(engine, case, "sw.roch")


def post(case: Any, answers: dict[str, Any], council: str, **extra: str) -> dict[str, Any]:
    form = forms.load_form("meeting_record.json", council=council)
    fields = post_fields(form, answers)
    return {**fields, **extra, "action": "complete", "revision": str(case.revision),
            "case_id": str(case.id)}  # fmt: skip


def test_portsmouth_meeting_page_does_not_ask_rochdales_r9_questions(engine, client_request):
    case, meeting = at_meeting(engine, start_sample(engine), "sw.north")
    sw = client_request.sign_in("sw.north")
    page = sw.get(f"/tasks/{meeting.id}")
    assert 'name="decisions"' in page.html  # the meeting record is on the page
    assert CWD not in page.html
    for name in R9:
        assert f'name="{name}"' not in page.html
    # A hand-made post with Rochdale's question completes the step without keeping it.
    done = sw.post(
        f"/tasks/{meeting.id}",
        post(case, example("meeting_record"), "portsmouth", children_with_disability_team="yes"),
    )
    assert done.response.location == f"/tasks/{meeting.id}/done"
    kept = engine.get_case(case.id, with_data=True).data["meeting_record"]
    assert not set(R9) & set(kept)


def test_an_r9_answer_for_a_portsmouth_case_is_refused_by_the_engine(engine):
    case, meeting = at_meeting(engine, start_sample(engine), "sw.north")
    with pytest.raises(InvalidData) as refused:
        engine.complete_task(
            meeting.id, {**example("meeting_record"), "review_weeks_agreed": 10}, "sw.north"
        )
    assert "review_weeks_agreed" in refused.value.errors[0].message
    assert engine.get_case(case.id).revision == case.revision  # nothing changed


def test_rochdale_meeting_page_asks_and_keeps_the_r9_questions(engine, client_request, rochdale):
    case, meeting = rochdale
    sw = client_request.sign_in("sw.roch")
    page = sw.get(f"/tasks/{meeting.id}")
    assert CWD in page.html
    for name in R9:
        assert f'name="{name}"' in page.html
    done = sw.post(
        f"/tasks/{meeting.id}", post(case, {**example("meeting_record"), **R9}, "rochdale")
    )
    assert done.response.location == f"/tasks/{meeting.id}/done"
    kept = engine.get_case(case.id, with_data=True).data["meeting_record"]
    assert {k: kept[k] for k in R9} == R9
