"""A missed deadline in a real browser: the manager's escalation is at the top of their list
and in their inbox; they record the reason, a new date and an oversight note; the worker sees
the new date. axe (WCAG 2.2 AA tags) on each page. This module has a world of its own."""

from __future__ import annotations

import re

from engine import clock


def _banner(page) -> str:  # noqa: ANN001
    return " ".join(page.get_by_test_id("notification-banner").first.inner_text().split())


def test_missed_deadline_escalates_and_the_new_date_reaches_the_worker(
    own_world, own_page, sign_in, axe, shot
):  # noqa: ANN001
    # The sweep runs: Amelia's assessment (due Mon 16 Nov 2026, held by Sam North) is late.
    with clock.using(own_world.clock):
        assert own_world.engine.fire_due_timers()

    manager = own_page()
    sign_in(manager, "tm.north")
    nav = manager.locator(".govuk-service-navigation").inner_text()
    assert "Inbox (1 new)" in nav
    for tab in ("Team's unclaimed tasks", "Overdue"):
        named = re.compile(rf"^{re.escape(tab)} \(\d+\)$")
        manager.get_by_test_id("worklist-tabs").get_by_role("link", name=named).click()
        first = manager.get_by_test_id("task-row").first
        assert "Amelia Hughes" in first.inner_text()
        assert first.get_by_test_id("escalation-tag").inner_text() == "Escalation"
    shot(manager, "escalation-01-overdue")
    axe.assert_no_violations(manager)

    manager.get_by_role("link", name="Inbox (1 new)").click()
    assert (
        "Deadline passed: “Complete the assessment” for Amelia Hughes"
        in manager.locator("main").inner_text()
    )
    axe.assert_no_violations(manager)

    manager.go_back()
    manager.get_by_test_id("task-row").first.get_by_role(
        "link", name="Review the overdue assessment"
    ).click()
    section = manager.get_by_test_id("escalation").inner_text()
    assert "Complete the assessment" in section and "Sam North" in section
    assert "Mon 16 Nov 2026, overdue by 5 working days" in section
    axe.assert_no_violations(manager)

    manager.get_by_label("Reason for the delay").fill("Sam was off sick for a week.")
    manager.locator("#agreed_date-day").fill("1")
    manager.locator("#agreed_date-month").fill("12")
    manager.locator("#agreed_date-year").fill("2026")
    manager.get_by_label("Management oversight note").fill("Agreed in supervision.")
    manager.get_by_role("button", name="Record decision and new date").click()
    assert _banner(manager).startswith("Success New date agreed")
    assert "Tue 1 Dec 2026, in 6 working days (the original deadline was Mon 16 Nov 2026)" in (
        manager.get_by_test_id("agreed-date").inner_text()
    )
    shot(manager, "escalation-02-new-date")
    axe.assert_no_violations(manager)

    worker = own_page()
    sign_in(worker, "sw.north")
    row = worker.get_by_test_id("task-row").filter(has_text="Amelia Hughes")
    assert "Tue 1 Dec 2026, in 6 working days" in row.inner_text()
    assert "Overdue" not in row.inner_text()
    # A reminder came before the deadline; the new date is the newest message.
    worker.get_by_role("link", name=re.compile(r"^Inbox \(\d+ new\)$")).click()
    assert (
        "New date agreed for “Complete the assessment”: Tue 1 Dec 2026"
        in worker.locator("main").inner_text()
    )
    axe.assert_no_violations(worker)
