"""A practice manager tests a changed Portsmouth procedure in a real browser (issue 15, "Testing
a change before approval"): a draft whose reminder now follows another timescale makes one of
Portsmouth's journeys fail; the failing step is marked on the diagram and named in the text; a
copy of the journey is changed and saved with the draft, the journeys run again and pass, the
draft is sent for approval; a second practice manager approves it and puts it live. axe (WCAG
2.2 AA tags) reports nothing on each page."""

from __future__ import annotations

from engine import clock

OLD = 'reminder("first_planning_meeting_supervision_order"'
NEW = 'reminder("first_planning_meeting"'
DRAFT = "/journeys/portsmouth/portsmouth_supervision_order/v2"
SLOW_MS = 240_000  # running every Portsmouth journey on a shared machine


def test_run_the_journeys_fix_one_send_approve_and_put_live(
    portsmouth,  # noqa: ANN001
    own_page,  # noqa: ANN001
    own_sign_in,  # noqa: ANN001
    axe,  # noqa: ANN001
    shot,  # noqa: ANN001
) -> None:
    engine = portsmouth.engine
    with clock.using(portsmouth.clock):
        files = engine.export_files("portsmouth")
        (name,) = [n for n in files if n.endswith("portsmouth_supervision_order.bpmn")]
        assert OLD in files[name]
        files[name] = files[name].replace(OLD, NEW)
        engine.deploy(files, "pm.north", "reminder as for other planning meetings", "portsmouth")

    page = own_page()
    own_sign_in(page, "pm.north")
    page.goto("/processes/portsmouth")
    row = page.locator("tr[data-process='portsmouth_supervision_order']")
    row.get_by_test_id("test-draft").click()
    assert page.url.endswith(DRAFT)
    page.wait_for_selector("#draft-diagram[data-ready='true']")
    assert "supervision_order_planning_reminder" in page.get_by_test_id("changes").inner_text()
    assert page.locator(".djs-element.cin-changed").count() >= 1
    axe.assert_no_violations(page)

    page.set_default_timeout(SLOW_MS)
    page.get_by_test_id("run-journeys").click()
    summary = page.get_by_test_id("run-summary").inner_text()
    assert summary.startswith("1 of ") and summary.endswith("journeys failed.")
    where = page.get_by_test_id("failed-steps").inner_text()
    assert (
        "Reminder 2 working days before (supervision_order_planning_reminder), marked in red on "
        "the diagram" in where
    )
    assert "Expected due 3 June 2027; got due 11 June 2027." in where
    page.wait_for_selector("#draft-diagram[data-ready='true']")
    failed = page.locator(".djs-element.cin-failed")
    assert failed.count() == 1
    assert failed.get_attribute("data-element-id") == "supervision_order_planning_reminder"
    result = page.locator("details[data-file='supervision_order.yaml']")
    assert result.get_attribute("data-ok") == "false"
    shot(page, "journeys-failed")
    axe.assert_no_violations(page)

    result.get_by_role("link", name="Change this journey").click()
    box = page.get_by_label("The journey (YAML)")
    text = box.input_value()
    assert "supervision_order_planning_reminder: 2027-06-03" in text
    axe.assert_no_violations(page)
    box.fill(
        text.replace(
            "supervision_order_planning_reminder: 2027-06-03",
            "supervision_order_planning_reminder: 2027-06-11",
        )
    )
    page.get_by_test_id("save-journey").click()
    assert "Journey saved with the draft" in page.get_by_test_id("notification-banner").inner_text()
    saved_row = page.locator("tr[data-file='supervision_order.yaml']")
    assert "Changed by pm.north" in saved_row.inner_text()

    page.get_by_test_id("run-journeys").click()
    summary = page.get_by_test_id("run-summary").inner_text()
    assert summary.startswith("All ") and summary.endswith("journeys passed."), summary
    assert page.locator("details[data-ok='false']").count() == 0
    page.wait_for_selector("#draft-diagram[data-ready='true']")
    assert page.locator(".djs-element.cin-failed").count() == 0
    axe.assert_no_violations(page)

    page.get_by_test_id("send").click()
    assert "Sent for approval" in page.get_by_test_id("notification-banner").inner_text()
    assert "Sent for approval by pm.north" in page.get_by_test_id("status").inner_text()
    axe.assert_no_violations(page)

    second = own_page()
    second.set_default_timeout(SLOW_MS)
    own_sign_in(second, "pm.second")
    second.goto(DRAFT)
    second.get_by_label("Comment (optional)").fill("Reminder as for the other planning meetings")
    second.get_by_test_id("approve").click()
    banner = second.get_by_test_id("notification-banner").inner_text()
    assert "Approved 1 draft version(s)" in banner
    assert "Approved by pm.second" in second.get_by_test_id("status").inner_text()
    axe.assert_no_violations(second)
    second.get_by_test_id("go-live").click()
    assert "1 version(s) are live" in second.get_by_test_id("notification-banner").inner_text()
    assert "Version 2: live" in second.locator("h1").inner_text()
    shot(second, "journeys-live")
    axe.assert_no_violations(second)
    live = [
        v
        for v in engine.list_processes("portsmouth")
        if v.process_id == "portsmouth_supervision_order"
    ]
    assert [(v.version, v.status) for v in live] == [(2, "live")]
