"""A shared form's council-only questions (`x-councils`): each council's case sees its own form.

forms/meeting_record.json is every council's meeting record, and Rochdale alone asks R9's
questions about the review interval a manager agreed; another council's case must neither be
shown them, nor required to answer them, nor be able to record an answer to them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine import forms
from engine.errors import InvalidData
from engine.services.task_submit import step_form
from engine.views import TaskInfo

R9 = {"review_weeks_agreed", "review_weeks_agreed_by", "children_with_disability_team"}
EXAMPLE = json.loads(
    (forms.FORMS_DIR / "examples" / "meeting_record.valid.json").read_text(encoding="utf-8")
)
R9_ANSWERS = {
    "review_weeks_agreed": 10,
    "review_weeks_agreed_by": "Tina Manager",
    "children_with_disability_team": True,
}

SHARED = {
    "type": "object",
    "required": ["seen", "team_agreed"],
    "additionalProperties": False,
    "properties": {
        "seen": {"type": "boolean", "title": "Seen"},
        "team_agreed": {"type": "boolean", "title": "Agreed", "x-councils": ["rochdale"]},
        "weeks": {"type": "integer", "title": "Weeks", "x-councils": ["rochdale", "dudley"]},
    },
    "allOf": [
        {
            "if": {"properties": {"team_agreed": {"const": True}}, "required": ["team_agreed"]},
            "then": {"required": ["weeks"]},
        },
        {"if": {"properties": {"seen": {"const": False}}, "required": ["seen"]}, "then": {}},
    ],
}


def test_another_councils_view_has_no_trace_of_the_question():
    view = forms.for_council(SHARED, "portsmouth")
    assert list(view["properties"]) == ["seen"]
    assert view["required"] == ["seen"]
    assert view["allOf"] == [SHARED["allOf"][1]]  # the rule about team_agreed goes with it
    assert list(forms.for_council(SHARED, "dudley")["properties"]) == ["seen", "weeks"]
    assert "team_agreed" in SHARED["properties"]  # the form itself is untouched


def test_the_named_councils_view_is_the_whole_form():
    assert forms.for_council(SHARED, "rochdale") == SHARED


@pytest.mark.parametrize("council", ["portsmouth", "dudley", "teeswide", "walthamforest"])
def test_other_councils_meeting_record_has_no_r9_questions(council):
    view = forms.load_form("meeting_record.json", council=council)
    assert not R9 & set(view["properties"])
    assert not R9 & set(view["required"])
    forms.validate("meeting_record.json", EXAMPLE, council=council)  # still a whole record


@pytest.mark.parametrize("council", ["portsmouth", "walthamforest"])
def test_an_answer_to_another_councils_question_is_refused_not_kept(council):
    for name, value in R9_ANSWERS.items():
        with pytest.raises(InvalidData) as refused:
            forms.validate("meeting_record.json", {**EXAMPLE, name: value}, council=council)
        assert [e.kind for e in refused.value.errors] == ["additionalProperties"]
        assert name in refused.value.errors[0].message
        with pytest.raises(InvalidData):  # nor saved in a draft
            forms.validate_draft("meeting_record.json", {name: value}, council=council)


def test_rochdale_asks_and_accepts_the_r9_questions():
    view = forms.load_form("meeting_record.json", council="rochdale")
    assert set(view["properties"]) >= R9
    assert view == forms.load_form("meeting_record.json")
    forms.validate("meeting_record.json", {**EXAMPLE, **R9_ANSWERS}, council="rochdale")
    with pytest.raises(InvalidData):  # its own limits still hold
        forms.validate(
            "meeting_record.json", {**EXAMPLE, "review_weeks_agreed": 13}, council="rochdale"
        )


def _task(council: str, preset: dict | None = None) -> TaskInfo:
    return TaskInfo(
        "t1",
        1,
        "record",
        "Record the meeting",
        "social_worker",
        "meeting_record.json",
        None,
        None,
        None,
        None,
        council=council,
        preset=preset or {},  # type: ignore[arg-type]
    )


def test_the_step_form_is_the_councils_view_without_its_preset_answers():
    portsmouth = step_form(_task("portsmouth", {"meeting_type": "review"}), forms.FORMS_DIR)
    assert not R9 & set(portsmouth["properties"])
    assert "meeting_type" not in portsmouth["properties"]
    assert set(step_form(_task("rochdale"), Path(forms.FORMS_DIR))["properties"]) >= R9
