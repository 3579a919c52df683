"""Issue 15's "Done when", end to end in real Chromium, as two practice managers do it.

pm.north opens Portsmouth's supervision-order pathway from the procedures page in the modeler,
renames a task and moves the planning meeting's reminder to another rule of the council's
timescales (both with the properties panel), sees a lint problem on the task (the rule set the
server runs at deploy), fixes it there, and saves a draft. On the draft's test page the
journeys run: exactly one fails, because the reminder's timescale changed, and its failing step
is marked on the diagram. A copy of that journey with the new reminder date is saved with the
draft; the journeys pass; the draft is sent for approval. pm.second approves it and puts it
live: the procedures page shows version 2 live and a new case starts on it. axe (wcag2a ..
wcag22aa) reports nothing on the modeler page and the draft's test page.
"""

from __future__ import annotations

from datetime import date

from engine import clock
from engine.services import NewChild

PROCESS = "portsmouth_supervision_order"
TASK = "send_outline_plan"
REMINDER = "supervision_order_planning_reminder"
NEW_NAME = "Send the outline plan with the invitations"
DRAFT = f"/journeys/portsmouth/{PROCESS}/v2"
SLOW_MS = 240_000  # running every Portsmouth journey on a shared machine


def test_change_in_the_modeler_test_send_approve_and_live(
    portsmouth,  # noqa: ANN001
    own_page,  # noqa: ANN001
    own_sign_in,  # noqa: ANN001
    modeler_canvas,  # noqa: ANN001
    axe,  # noqa: ANN001
    shot,  # noqa: ANN001
) -> None:
    engine = portsmouth.engine
    page = own_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    own_sign_in(page, "pm.north")

    # the pathway, opened in the modeler from the procedures page
    page.goto("/processes/portsmouth")
    row = page.locator(f"tr[data-process='{PROCESS}']")
    row.get_by_role("link", name="Version 1").click()
    page.get_by_test_id("edit").click()
    page.wait_for_selector("#modeler-canvas[data-ready='true']")
    page.get_by_test_id("lint-ok").wait_for()
    axe.assert_no_violations(page)

    # rename a task in the properties panel
    modeler_canvas.select(page, TASK)
    page.get_by_label("Name").fill(NEW_NAME)
    page.get_by_label("Name").press("Tab")
    # a lint problem, shown on the element and in the list: the step loses its form
    page.locator("#prop-form").select_option("")
    summary = page.get_by_test_id("lint-summary")
    summary.wait_for()
    assert "has no form" in summary.inner_text()
    overlays = f".djs-overlays[data-container-id='{TASK}'] .bjsl-overlay"
    assert page.locator(overlays).count() == 1
    shot(page, "change-lint-problem")
    axe.assert_no_violations(page)
    # fixed from the list: its link selects the element, the panel shows its form again
    page.locator("body").click(position={"x": 5, "y": 5})
    summary.get_by_role("link", name=TASK).first.click()
    page.wait_for_selector(f"#modeler-panel[data-element='{TASK}']")
    page.locator("#prop-form").select_option("distribution.json")
    page.get_by_test_id("lint-ok").wait_for()
    assert page.locator(overlays).count() == 0

    # the reminder moves from the supervision-order rule to the general planning meeting's
    modeler_canvas.select(page, REMINDER)
    rule = page.locator("#prop-timer-rule")
    assert rule.input_value() == "first_planning_meeting_supervision_order"
    rule.select_option("first_planning_meeting")
    page.get_by_test_id("lint-ok").wait_for()

    page.get_by_label("What you changed").fill("reminder as for the other planning meetings")
    page.get_by_test_id("save").click()
    saved = page.get_by_test_id("save-result")
    saved.wait_for()
    assert "Saved as draft version 2" in saved.inner_text(), saved.inner_text()
    xml = engine.version_xml("portsmouth", PROCESS, 2)
    assert f'name="{NEW_NAME}"' in xml
    assert 'reminder("first_planning_meeting", from_=chair_agreement.event_date)' in xml
    assert errors == []  # nothing blocked by the content security policy, no script error

    # the draft's test page: what changed, on the diagram and in words
    saved.get_by_test_id("test-draft").click()
    assert page.url.endswith(DRAFT)
    page.wait_for_selector("#draft-diagram[data-ready='true']")
    changes = page.get_by_test_id("changes").inner_text()
    assert REMINDER in changes and TASK in changes
    axe.assert_no_violations(page)

    # the journeys: exactly one fails, on the reminder, marked on the diagram
    page.set_default_timeout(SLOW_MS)
    page.get_by_test_id("run-journeys").click()
    summary_text = page.get_by_test_id("run-summary").inner_text()
    assert summary_text.startswith("1 of ") and summary_text.endswith("journeys failed.")
    where = page.get_by_test_id("failed-steps").inner_text()
    assert f"Reminder 2 working days before ({REMINDER}), marked in red on the diagram" in where
    assert "Expected due 3 June 2027; got due 11 June 2027." in where
    page.wait_for_selector("#draft-diagram[data-ready='true']")
    failed = page.locator(".djs-element.cin-failed")
    assert failed.count() == 1 and failed.get_attribute("data-element-id") == REMINDER
    journey = page.locator("details[data-file='supervision_order.yaml']")
    assert journey.get_attribute("data-ok") == "false"
    shot(page, "change-journey-failed")
    axe.assert_no_violations(page)

    # the journey's copy, with the reminder's new date, saved with the draft
    journey.get_by_role("link", name="Change this journey").click()
    box = page.get_by_label("The journey (YAML)")
    text = box.input_value()
    assert f"{REMINDER}: 2027-06-03" in text
    box.fill(text.replace(f"{REMINDER}: 2027-06-03", f"{REMINDER}: 2027-06-11"))
    page.get_by_test_id("save-journey").click()
    assert "Journey saved with the draft" in page.get_by_test_id("notification-banner").inner_text()
    page.get_by_test_id("run-journeys").click()
    summary_text = page.get_by_test_id("run-summary").inner_text()
    assert summary_text.startswith("All ") and summary_text.endswith("journeys passed.")
    page.wait_for_selector("#draft-diagram[data-ready='true']")
    assert page.locator(".djs-element.cin-failed").count() == 0
    axe.assert_no_violations(page)

    page.get_by_test_id("send").click()
    assert "Sent for approval by pm.north" in page.get_by_test_id("status").inner_text()

    # another practice manager approves it (the journeys run again) and puts it live
    second = own_page()
    second.set_default_timeout(SLOW_MS)
    own_sign_in(second, "pm.second")
    second.goto(DRAFT)
    second.get_by_label("Comment (optional)").fill("Checked against the timescales")
    second.get_by_test_id("approve").click()
    assert "Approved by pm.second" in second.get_by_test_id("status").inner_text()
    second.get_by_test_id("go-live").click()
    assert "Version 2: live" in second.locator("h1").inner_text()
    second.goto("/processes/portsmouth")
    row = second.locator(f"tr[data-process='{PROCESS}']")
    assert "Version 2 Live" in " ".join(row.inner_text().split())
    assert "Version 1 Retired" in " ".join(row.inner_text().split())
    shot(second, "change-live")

    # new cases start on version 2, with the renamed step
    with clock.using(portsmouth.clock):
        case = engine.start_case(
            PROCESS,
            NewChild("Sophie Lane", date(2014, 9, 9)),
            {"cin_start_date": "2026-11-23"},
            "tm.north",
            council="portsmouth",
        )
    assert case.version == 2
