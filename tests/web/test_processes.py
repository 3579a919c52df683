"""The practice managers' procedure pages: library, a version with its diff, four-eyes approval,
going live and the migration preview, over HTTP as a practice manager uses them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from factories import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "processes" / "sample"


def draft(engine, by: str = "pm.north") -> None:  # noqa: ANN001
    files = {p.name: p.read_text() for p in SAMPLE.glob("*.bpmn")}
    files["sample_referral.bpmn"] = files["sample_referral.bpmn"].replace(
        'name="Complete the assessment"', 'name="Complete the single assessment"'
    )
    (version,) = [
        v for v in engine.deploy(files, by, "clearer name", council="portsmouth")
        if v.process_id == "sample_referral"
    ]  # fmt: skip
    assert (version.version, version.status) == (2, "draft")


def test_library_version_diff_four_eyes_live_and_migration_preview(
    client_request,  # noqa: ANN001
    new_client_request,  # noqa: ANN001
    engine,  # noqa: ANN001
    tmp_path: Path,
    monkeypatch,  # noqa: ANN001
) -> None:
    draft(engine)
    client_request.sign_in("pm.north")
    page = client_request.get("/processes/portsmouth")
    assert page.h1 == "Procedures: Portsmouth"
    (row,) = page.xpath("//tr[@data-process='sample_referral']")
    text = page.text_of(row)
    assert "Version 2 Draft 0 open cases" in text and "Version 1 Live" in text
    assert page.testid("approve")

    version = client_request.get("/processes/portsmouth/sample_referral/v2")
    changes = version.text_of(version.testid("changes")[0])
    assert "Changed Complete the single assessment (complete_assessment)" in changes
    assert "Name: “Complete the assessment” → “Complete the single assessment”" in changes
    (canvas,) = version.xpath("//*[@id='process-diagram']")
    assert json.loads(canvas.get("data-diff"))["changed"] == {
        "complete_assessment": {
            "name": {"before": "Complete the assessment", "after": "Complete the single assessment"}
        }
    }
    url = canvas.get("data-xml-url")
    xml = client_request.client.get(url.decode() if isinstance(url, bytes) else url)
    assert xml.status_code == 200 and b"Complete the single assessment" in xml.data

    refused = client_request.post("/processes/portsmouth/approve", _expected_status=409)
    assert "pm.north made the draft sample_referral version 2" in refused.text_of(
        refused.testid("refusal")[0]
    )
    engine.people.add_user("pm.two", "Pip Two", PASSWORD, "practice_manager", ["north"])
    second = new_client_request().sign_in("pm.two")
    # one rule everywhere: a draft is approved only once sent for approval (by its author here)
    unsent = second.post("/processes/portsmouth/approve", _expected_status=409)
    assert "sample_referral version 2 has not been sent for approval" in unsent.text_of(
        unsent.testid("refusal")[0]
    )
    assert client_request.get("/processes/portsmouth").testid("send")
    sent = client_request.post("/processes/portsmouth/send")
    assert "Sent for approval" in " ".join(client_request.follow(sent).banners())
    assert not client_request.get("/processes/portsmouth").testid("send")
    # Portsmouth's journeys need its whole pack, which this world has not deployed: refused
    failing = second.post("/processes/portsmouth/approve", _expected_status=409)
    listed = failing.text_of(failing.testid("refusal")[0])
    assert "scenario after_assessment.yaml: no deployed process" in listed
    # a council whose pack has no journeys yet: only the validation runs
    pack = tmp_path / "processes" / "portsmouth"
    pack.mkdir(parents=True)
    shutil.copy(ROOT / "processes" / "portsmouth" / "timescales.yaml", pack)
    monkeypatch.setattr(engine.context, "processes_dir", pack.parent)
    done = second.post("/processes/portsmouth/approve", {"comment": "fine"})
    assert "Approved 1 draft version(s)" in " ".join(second.follow(done).banners())
    live = second.post("/processes/portsmouth/go-live")
    after = second.follow(live)
    (row,) = after.xpath("//tr[@data-process='sample_referral']")
    assert "Version 2 Live" in after.text_of(row) and "Version 1 Retired" in after.text_of(row)

    preview = second.get("/processes/portsmouth/sample_referral/migration")
    rows = preview.xpath("//table[@data-testid='migration']//tbody/tr")
    assert rows and all(
        "1 to 2" in preview.text_of(r) and "Yes" in preview.text_of(r) for r in rows
    )
    assert engine.get_case(int(rows[0].get("data-case"))).version == 1  # a preview only


def test_only_practice_managers_of_the_council(client_request, new_client_request) -> None:  # noqa: ANN001
    client_request.sign_in("sw.north")
    client_request.get("/processes/portsmouth", _expected_status=403)
    pm = new_client_request().sign_in("pm.north")
    pm.get("/processes/teeswide", _expected_status=404)
    pm.get("/processes/portsmouth/sample_referral/v9", _expected_status=404)
    pm.get("/processes/portsmouth/nothing/migration", _expected_status=404)
    pm.get("/processes", _expected_status=302, _expected_redirect="/processes/dudley")


def test_the_rule_set_and_context_for_the_browser_runner(client_request) -> None:  # noqa: ANN001
    client_request.sign_in("pm.north")
    response = client_request.client.get("/processes/portsmouth/conventions.json")
    assert response.status_code == 200
    data = response.get_json()
    assert [r["id"] for r in data["rules"]["rules"]][:2] == [
        "user-task-lane",
        "user-task-documentation",
    ]
    assert data["context"]["council"] == "portsmouth"
    assert "initial_plan" in data["context"]["timescales"]
    assert "P1" in data["context"]["ruleIds"] and "cin_plan.json" in data["context"]["forms"]
