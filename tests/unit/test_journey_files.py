"""A journey saved with a draft is checked like a diagram: every problem named, by step, with
what to write instead (engine/journey_files.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.journey_files import JourneyRefused, check_journey

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "processes" / "sample"
FILES = {p.name: p.read_text() for p in SAMPLE.glob("*.bpmn")}
SHIPPED = (SAMPLE / "scenarios" / "cin_plan_route.yaml").read_text()


def problems(text: str, name: str = "j.yaml", council: str = "sample") -> list[str]:
    with pytest.raises(JourneyRefused) as refused:
        check_journey(name, text, council, FILES)
    return refused.value.problems


def test_a_shipped_journey_passes() -> None:
    assert check_journey("cin_plan_route.yaml", SHIPPED, "sample", FILES)["process"]


def test_each_problem_is_named_by_step() -> None:
    text = """process: sample_referral
council: dudley
start: next tuesday
deploy: [../../etc]
steps:
  - complete: record_concent
  - advance: 3 fortnights
  - advance_to: soon
  - message: no_such_news
  - expect: {due: {complete_assessment: 7 Jan}, tasks: [nothing_here], colour: red}
  - complete: record_consent
    refused: maybe
  - {}
"""
    found = problems(text)
    assert found[0].startswith('unknown key "deploy" (a saved journey runs on the draft\'s pack)')
    assert 'council is "dudley": this draft is sample\'s' in found
    assert any(p.startswith('start: "next tuesday" is not a date or time') for p in found)
    assert 'step 1: complete: there is no step "record_concent" in the draft\'s pack' in found
    assert any(p.startswith("step 2: advance: ") for p in found)
    assert any(p.startswith('step 3: advance_to: "soon" is not a date') for p in found)
    assert 'step 4: message: the draft\'s pack has no message "no_such_news"' in found
    assert any(p.startswith('step 5: unknown expectation "colour"') for p in found)
    assert any(p.startswith('step 5: expect due complete_assessment: "7 Jan"') for p in found)
    assert 'step 5: expect tasks: there is no step "nothing_here" in the draft\'s pack' in found
    assert any(p.startswith("step 6: refused must be one of") for p in found)
    assert any(p.startswith("step 7: name one of complete") for p in found)


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("../x.yaml", SHIPPED, "is not a journey file name"),
        ("J.yaml", SHIPPED, "is not a journey file name"),
        ("j.yaml", "a: &x [1]\nb: *x\n", "anchors and aliases"),
        ("j.yaml", "process: [unclosed", "not valid YAML"),
        ("j.yaml", "- just a list", "a journey is a mapping"),
        ("j.yaml", "process: sample_referral\nsteps: []\n", "'steps' is missing or empty"),
        ("j.yaml", "steps: [{expect: {finished: false}}]\n", "'process' is missing"),
        ("j.yaml", "process: other\nsteps: [{expect: {finished: false}}]\n", "not in the draft"),
        ("j.yaml", "x" * 70_000, "at most 65,536"),
    ],
)
def test_refusals(name: str, text: str, expected: str) -> None:
    assert any(expected in p for p in problems(text, name)), problems(text, name)
