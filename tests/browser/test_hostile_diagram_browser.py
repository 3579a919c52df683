"""A diagram carrying an XHTML <script>: opening its download URL signed in runs nothing.

The same bytes served the way main used to serve them (application/xml, no policy) do run the
script in a real Chromium: that control proves the test can see a script run.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from engine.services import NewChild

JOURNEY = Path(__file__).parent / "data" / "cin_plan_journey.bpmn"
USER = "sw.south"  # a team no other browser test looks at: the shared world stays as they expect


@pytest.fixture(scope="module")
def hostile_case(live_world, hostile) -> int:  # noqa: ANN001
    engine = live_world.engine
    engine.deploy([JOURNEY], "factory", "journey", council="portsmouth")
    case = engine.start_case(
        "cin_plan_journey", NewChild("Ivy Hostile", date(2016, 5, 4)), {}, "factory",
        council="portsmouth", team="south",
    )  # fmt: skip
    hostile.plant(engine, case.id)
    return case.id


def _beacons(page, hostile) -> list[str]:  # noqa: ANN001
    """Every request the planted script makes (it calls hostile.BEACON) is caught here."""
    seen: list[str] = []

    def catch(route) -> None:  # noqa: ANN001
        seen.append(route.request.url)
        route.fulfill(status=204, body="")

    page.route(f"**{hostile.BEACON}*", catch)
    return seen


def test_the_control_shows_such_xml_would_run_if_rendered(
    page, sign_in, hostile_case, hostile, live_world
):  # noqa: ANN001
    sign_in(page, USER)
    xml = live_world.engine.case_process_xml(hostile_case)
    seen = _beacons(page, hostile)
    page.route("**/control.xml", lambda r: r.fulfill(body=xml, content_type="application/xml"))
    page.goto("/control.xml")
    page.wait_for_timeout(500)
    assert any("ran=1" in url for url in seen), "the control should run the planted script"


def test_opening_the_download_url_signed_in_runs_no_script(page, sign_in, hostile_case, hostile):  # noqa: ANN001
    sign_in(page, USER)
    seen = _beacons(page, hostile)
    url = f"/cases/{hostile_case}/diagram.bpmn"
    with page.expect_download() as download:
        try:
            page.goto(url)
        except Exception as error:  # noqa: BLE001 - Chromium reports a download as an aborted load
            assert "Download is starting" in str(error) or "ERR_ABORTED" in str(error)
    assert download.value.suggested_filename == f"case-{hostile_case}.bpmn"
    assert "<html:script" in Path(download.value.path()).read_text()
    page.wait_for_timeout(500)
    assert seen == []

    # Fetched as the case page's viewer does, and shown in a frame: still nothing runs.
    page.goto("/worklist")
    text = page.evaluate("u => fetch(u).then(r => r.text())", url)
    assert "<html:script" in text
    page.evaluate(
        "u => { const f = document.createElement('iframe'); f.src = u; document.body.append(f); }",
        url,
    )
    page.wait_for_timeout(500)
    assert seen == []


def test_the_case_page_still_draws_the_diagram_under_the_policy(
    page,
    sign_in,
    hostile_case,
    hostile,  # noqa: ANN001
):  # noqa: ANN001
    sign_in(page, USER)
    seen = _beacons(page, hostile)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"/cases/{hostile_case}")
    page.wait_for_selector("#case-diagram[data-ready='true']")
    assert page.locator("#case-diagram svg").count() >= 1
    assert seen == []
    assert not [e for e in errors if "Content Security Policy" in e], errors
