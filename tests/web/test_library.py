"""The procedure library (issue 18): each pathway and route of the user's councils once, its
steps in order with who, rules and timescales in words and working days, and an A4 handout."""

from __future__ import annotations

import pytest
from web_client import ClientRequest

from engine.services import Engine


@pytest.fixture
def sw(engine: Engine, client_request: ClientRequest) -> ClientRequest:
    engine.deploy_pack("portsmouth", "admin")
    engine.deploy_pack("dudley", "admin")
    return client_request.sign_in_as("social_worker")


def test_a_social_worker_reads_the_step_down_route(sw: ClientRequest) -> None:
    index = sw.get("/library")
    titles = [a.text_content() for a in index.testid("library-portsmouth")[0].xpath(".//a")]
    assert len(titles) == len(set(titles)) and titles  # each route once
    assert not any(t.startswith("Arrange and hold a meeting") for t in titles)  # blocks inside
    assert not index.testid("library-dudley")  # not the social worker's council

    page = sw.get("/library/portsmouth/portsmouth_step_down_cp")
    steps = page.testid("procedure-steps")[0].xpath("./li")
    first = page.text_of(steps[0])
    assert first.startswith("1. Agree the outline Child in Need plan")
    assert "Conference chair / IRO" in first
    assert "P14" in first and "15 working days from" in first and "(15 working days)" in first
    assert "section 7.1" in first
    assert any("calendar time" in page.text_of(s) for s in steps)

    handout = sw.get("/library/portsmouth/portsmouth_step_down_cp/handout")
    assert handout.testid("handout") and handout.testid("procedure-steps")
    assert (
        sw.client.get("/library/portsmouth/portsmouth_step_down_cp/diagram.bpmn").status_code == 200
    )
    sw.get("/library/dudley/dudley_after_assessment", _expected_status=404)
    sw.get("/library/portsmouth/no_such_route", _expected_status=404)
