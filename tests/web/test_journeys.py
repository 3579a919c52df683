"""Testing a draft before approval over HTTP (webui/journeys.py): the draft's page with its
changes, running the council's journeys against it on a scratch copy, saving a changed copy of
a journey (refused with every problem named, nothing saved), sending for approval, four eyes,
putting live; and who may see any of it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from factories import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "processes" / "sample"
DRAFT = "/journeys/portsmouth/sample_referral/v2"
JOURNEY = f"{DRAFT}/journey/cin_plan_route.yaml"


@pytest.fixture
def pack(engine, tmp_path: Path, monkeypatch) -> Path:  # noqa: ANN001
    """Portsmouth with one journey (the sample's), and a draft of sample_referral by pm.north
    that renames a step and removes nothing."""
    folder = tmp_path / "processes" / "portsmouth"
    (folder / "scenarios").mkdir(parents=True)
    shutil.copy(ROOT / "processes" / "portsmouth" / "timescales.yaml", folder)
    shutil.copy(SAMPLE / "scenarios" / "cin_plan_route.yaml", folder / "scenarios")
    monkeypatch.setattr(engine.context, "processes_dir", folder.parent)
    files = {p.name: p.read_text() for p in SAMPLE.glob("*.bpmn")}
    files["sample_referral.bpmn"] = files["sample_referral.bpmn"].replace(
        'name="Complete the assessment"', 'name="Complete the single assessment"'
    )
    engine.deploy(files, "pm.north", "clearer name", council="portsmouth")
    return folder


def test_run_change_a_journey_send_approve_and_put_live(
    client_request,  # noqa: ANN001
    new_client_request,  # noqa: ANN001
    engine,  # noqa: ANN001
    pack: Path,
) -> None:
    pm = client_request.sign_in("pm.north")
    library = pm.get("/processes/portsmouth")
    (link,) = library.testid("test-draft")
    assert link.get("href") == DRAFT

    page = pm.get(DRAFT)
    assert page.h1.startswith("Sample referral")
    changes = page.text_of(page.testid("changes")[0])
    assert "Changed Complete the single assessment (complete_assessment)" in changes
    (canvas,) = page.xpath("//*[@id='draft-diagram']")
    markers = json.loads(canvas.get("data-markers"))
    assert markers == {"cin-added": [], "cin-changed": ["complete_assessment"], "cin-failed": []}
    assert "As shipped" in page.text_of(page.xpath("//tr[@data-file='cin_plan_route.yaml']")[0])

    ran = pm.post(f"{DRAFT}/run", _expected_status=200)
    assert page_text(ran, "run-summary") == "All 1 journeys passed."
    rows = ran.xpath("//details[@data-file='cin_plan_route.yaml']//tbody/tr")
    assert rows and all(r.get("data-ok") == "true" for r in rows)

    # a copy that expects another date: refused first for what cannot run, nothing saved
    text = (pack / "scenarios" / "cin_plan_route.yaml").read_text()
    wrong = text.replace("complete_assessment: 2027-01-07", "complete_assessment: 2027-01-08")
    assert wrong != text
    bad = wrong.replace("- complete: record_consent", "- complete: record_concent")
    refused = pm.post(
        JOURNEY, {"file_name": "cin_plan_route.yaml", "journey": bad}, _expected_status=400
    )
    problems = page_text(refused, "problems")
    assert 'complete: there is no step "record_concent" in the draft\'s pack' in problems
    assert refused.xpath("//textarea[@id='journey']")[0].text.startswith("name: Sample referral")
    outside = pm.post(
        JOURNEY,
        {"file_name": "cin_plan_route.yaml", "journey": "deploy: [/etc]\n" + wrong},
        _expected_status=400,
    )
    assert 'unknown key "deploy" (a saved journey runs on the draft\'s pack)' in page_text(
        outside, "problems"
    )
    assert pm.get(JOURNEY).xpath("//textarea[@id='journey']")[0].text == text  # not saved

    saved = pm.post(JOURNEY, {"file_name": "cin_plan_route.yaml", "journey": wrong})
    assert "Journey saved with the draft" in " ".join(pm.follow(saved).banners())
    row = pm.get(DRAFT).xpath("//tr[@data-file='cin_plan_route.yaml']")[0]
    assert "Changed by pm.north" in pm.get(DRAFT).text_of(row)

    failed = pm.post(f"{DRAFT}/run", _expected_status=200)
    assert page_text(failed, "run-summary") == "1 of 1 journeys failed."
    where = page_text(failed, "failed-steps")
    assert (
        "step 4: Complete the single assessment (complete_assessment), marked in red on the "
        "diagram. Expected due 8 January 2027; got due 7 January 2027." in where
    )
    (canvas,) = failed.xpath("//*[@id='draft-diagram']")
    assert json.loads(canvas.get("data-markers"))["cin-failed"] == ["complete_assessment"]

    # send for approval; the sender (and author) cannot approve
    sent = pm.post(f"{DRAFT}/send")
    assert "Sent for approval" in " ".join(pm.follow(sent).banners())
    mine = pm.post(f"{DRAFT}/approve", _expected_status=409)
    assert "pm.north made the draft sample_referral version 2" in page_text(mine, "refusal")

    engine.people.add_user("pm.two", "Pip Two", PASSWORD, "practice_manager", ["north"])
    second = new_client_request().sign_in("pm.two")
    # approval runs the journeys, the saved copy included: refused with the failure listed
    blocked = second.post(f"{DRAFT}/approve", _expected_status=409)
    assert "scenario cin_plan_route.yaml: FAIL step 4: complete_assessment due 2027-01-08" in (
        page_text(blocked, "refusal")
    )
    assert "Version 2: draft" in second.get(DRAFT).h1

    pm.post(JOURNEY, {"file_name": "cin_plan_route.yaml", "journey": text})
    approved = second.post(f"{DRAFT}/approve", {"comment": "checked"})
    assert "Approved 1 draft version(s)" in " ".join(second.follow(approved).banners())
    live = second.post(f"{DRAFT}/go-live")
    after = second.follow(live)
    assert "Version 2: live" in after.h1
    assert "1 version(s) are live" in " ".join(after.banners())


def test_a_sender_who_did_not_make_it_still_cannot_approve(
    client_request,  # noqa: ANN001
    new_client_request,  # noqa: ANN001
    engine,  # noqa: ANN001
    pack: Path,
) -> None:
    engine.people.add_user("pm.two", "Pip Two", PASSWORD, "practice_manager", ["north"])
    second = new_client_request().sign_in("pm.two")
    second.post(f"{DRAFT}/send", _expected_status=302)
    refused = second.post(f"{DRAFT}/approve", _expected_status=409)
    assert "pm.two sent the draft sample_referral version 2 for approval" in page_text(
        refused, "refusal"
    )


def test_only_the_councils_practice_managers(
    client_request,  # noqa: ANN001
    new_client_request,  # noqa: ANN001
    pack: Path,
) -> None:
    sw = client_request.sign_in("sw.north")
    for url in (DRAFT, JOURNEY):
        sw.get(url, _expected_status=403)
    for url in (f"{DRAFT}/run", f"{DRAFT}/send", f"{DRAFT}/approve", f"{DRAFT}/go-live", JOURNEY):
        sw.post(url, {"file_name": "x.yaml", "journey": "steps: []"}, _expected_status=403)
    pm = new_client_request().sign_in("pm.north")
    # another council's (pm.north is in Portsmouth and Dudley, not Teeswide): as if none
    pm.get("/journeys/teeswide/sample_referral/v2", _expected_status=404)
    pm.post("/journeys/teeswide/sample_referral/v2/run", _expected_status=404)
    pm.get("/journeys/portsmouth/sample_referral/v9", _expected_status=404)
    pm.get("/journeys/portsmouth/nothing/v1", _expected_status=404)
    pm.get(f"{DRAFT}/journey/no_such.yaml", _expected_status=404)
    # the live version is not a draft: no journeys saved with it
    refused = pm.post(
        "/journeys/portsmouth/sample_referral/v1/journey/cin_plan_route.yaml",
        {"file_name": "cin_plan_route.yaml", "journey": "name: x"},
        _expected_status=400,
    )
    assert "journeys are saved with drafts only" in page_text(refused, "problems")


def page_text(page, testid: str) -> str:  # noqa: ANN001
    return page.text_of(page.testid(testid)[0])
