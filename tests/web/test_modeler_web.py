"""The modeler's save (webui/modeler.py) over HTTP: a changed diagram becomes a draft, never
live; bad XML, a construct the engine refuses, a diagram without the process, another council,
another role and a missing CSRF token are refused and change nothing."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = (ROOT / "processes" / "sample" / "sample_referral.bpmn").read_text()
SAVE = "/processes/portsmouth/sample_referral/drafts"


def _versions(engine, council: str = "portsmouth") -> list[tuple[str, int, str]]:  # noqa: ANN001
    return sorted(
        (e.process_id, v.version, v.status)
        for e in engine.process_library(council)
        for v in e.versions
    )


def test_save_makes_a_draft_never_live(client_request, engine) -> None:  # noqa: ANN001
    client_request.sign_in("pm.north")
    page = client_request.get("/processes/portsmouth/sample_referral/v1/edit")
    assert page.h1.startswith("Change Sample referral")
    data = json.loads(page.xpath('//script[@id="modeler-data"]')[0].text)
    assert data["xmlUrl"] == "/processes/portsmouth/sample_referral/v1.bpmn"
    assert data["saveUrl"] == SAVE and data["context"]["council"] == "portsmouth"
    assert "visit_record.json" in [f["file"] for f in data["choices"]["forms"]]
    changed = SAMPLE.replace(
        'name="Complete the assessment"', 'name="Complete the single assessment"'
    )
    response = client_request.client.post(
        SAVE, data={"xml": changed, "comment": "clearer", "csrf_token": client_request.csrf_token()}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["ok"] and response.json["version"] == 2
    assert response.json["status"] == "draft"
    assert ("sample_referral", 2, "draft") in _versions(engine)
    assert ("sample_referral", 1, "live") in _versions(engine)
    # saving the same diagram again makes no new version
    again = client_request.client.post(
        SAVE, data={"xml": changed, "csrf_token": client_request.csrf_token()}
    )
    assert again.json["version"] == 2 and "No changes" in again.json["message"]


def _refused(client_request, engine, xml: str) -> list[dict]:  # noqa: ANN001
    before = _versions(engine)
    response = client_request.client.post(
        SAVE, data={"xml": xml, "csrf_token": client_request.csrf_token()}
    )
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.json["ok"] is False
    assert _versions(engine) == before  # nothing saved
    return response.json["problems"]


def test_refusals_name_the_problem_and_save_nothing(client_request, engine) -> None:  # noqa: ANN001
    client_request.sign_in("pm.north")
    problems = _refused(client_request, engine, "<bpmn:definitions")
    assert "not well-formed XML" in problems[0]["message"]
    problems = _refused(client_request, engine, "")
    assert "empty" in problems[0]["message"]
    # a construct the engine cannot run: a data object
    data_object = SAMPLE.replace(
        '<bpmn:userTask id="complete_assessment"',
        '<bpmn:dataObject id="case_file" />\n    <bpmn:userTask id="complete_assessment"',
    )
    problems = _refused(client_request, engine, data_object)
    assert any(p["elementId"] == "case_file" for p in problems), problems
    # a timer naming a timescale the council does not have (bpmnlint's rule, on the server)
    wrong_timer = SAMPLE.replace('due_in("15 working days"', 'deadline("no_such_rule"')
    problems = _refused(client_request, engine, wrong_timer)
    assert any("no_such_rule" in p["message"] for p in problems), problems
    # another process's diagram
    problems = _refused(
        client_request, engine, SAMPLE.replace('id="sample_referral"', 'id="something_else"')
    )
    assert any("sample_referral" in p["message"] for p in problems), problems


def test_other_councils_roles_and_forged_posts_are_refused(
    client_request,
    new_client_request,
    engine,  # noqa: ANN001
) -> None:
    client_request.sign_in("pm.north")  # Portsmouth and Dudley, not Rochdale
    before = _versions(engine, "rochdale")
    client_request.post(
        "/processes/rochdale/sample_referral/drafts", {"xml": SAMPLE}, _expected_status=404
    )
    client_request.get("/processes/rochdale/sample_referral/v1/edit", _expected_status=404)
    client_request.get("/processes/portsmouth/sample_referral/v9/edit", _expected_status=404)
    assert _versions(engine, "rochdale") == before
    # no CSRF token: refused before anything is read
    forged = client_request.client.post(SAVE, data={"xml": SAMPLE})
    assert forged.status_code == 400
    social_worker = new_client_request().sign_in("sw.north")
    social_worker.get("/processes/portsmouth/sample_referral/v1/edit", _expected_status=403)
    social_worker.post(SAVE, {"xml": SAMPLE}, _expected_status=403)
    assert ("sample_referral", 2, "draft") not in _versions(engine)


def test_a_new_process_starts_from_the_council_template_as_a_draft(client_request, engine) -> None:  # noqa: ANN001

    client_request.sign_in("pm.north")
    assert client_request.get("/processes/portsmouth/new").h1 == "New process"
    refused = client_request.get("/processes/portsmouth/new?name=+%21+", _expected_status=400)
    assert "Enter a name" in refused.error_summary()
    page = client_request.get("/processes/portsmouth/new?name=Family+network+meeting")
    data = json.loads(page.xpath('//script[@id="modeler-data"]')[0].text)
    assert 'id="portsmouth_family_network_meeting" name="Family network meeting"' in data["xml"]
    assert 'isExecutable="true"' in data["xml"] and 'name="Team manager"' in data["xml"]
    response = client_request.client.post(
        data["saveUrl"], data={"xml": data["xml"], "csrf_token": client_request.csrf_token()}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert ("portsmouth_family_network_meeting", 1, "draft") in _versions(engine)
    library = client_request.get("/processes/portsmouth")
    assert "Family network meeting" in library.text
    again = client_request.get(
        "/processes/portsmouth/new?name=Family+network+meeting", _expected_status=400
    )
    assert "already a process" in again.error_summary()
