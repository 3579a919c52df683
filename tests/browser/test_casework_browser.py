"""Casework in a real browser: a team manager starts a referral at the front door and allocates
it; the allocated worker finds it in "My cases", completes a step and is taken to the next one;
a misspelt name still finds the child; the case lists and worklist fit a 320 px screen. axe
(WCAG 2.2 AA tags) runs on every new page.

The module has a world of its own (own_world), clock at Monday 23 November 2026 09:00 UTC.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect


def _banner_starts(page, words: str) -> None:  # noqa: ANN001
    """The success banner begins with `words`, waiting for the page a click asked for (reading
    straight after the click can see the page before, whose banner said something else)."""
    pattern = re.compile(r"^\s*" + r"\s*".join(map(re.escape, words.split())))
    expect(page.get_by_test_id("notification-banner").first).to_have_text(pattern)


def _fill_date(page, field: str, day: int, month: int, year: int) -> None:  # noqa: ANN001
    page.locator(f"#{field}-day").fill(str(day))
    page.locator(f"#{field}-month").fill(str(month))
    page.locator(f"#{field}-year").fill(str(year))


def test_referral_allocation_my_cases_and_the_next_step(own_page, sign_in, axe, shot):  # noqa: ANN001
    manager = own_page()
    sign_in(manager, "tm.north")
    manager.get_by_role("link", name="Cases", exact=True).click()
    manager.get_by_test_id("start-case-link").click()
    assert "How does the child's case come to" in manager.locator("h1").inner_text()
    axe.assert_no_violations(manager)
    manager.get_by_role("button", name="Continue").click()  # nothing chosen: a clear error
    assert (
        "Select how the child's case comes to the team"
        in manager.locator(".govuk-error-summary").inner_text()
    )
    axe.assert_no_violations(manager)
    manager.get_by_label("Sample referral").check()
    manager.get_by_role("button", name="Continue").click()
    assert manager.locator("h1").inner_text() == "Child's details"

    # A referral date in the future is refused and named; nothing is started.
    manager.get_by_label("Child's first name").fill("Nia")
    manager.get_by_label("Child's last name").fill("Okoro")
    _fill_date(manager, "date_of_birth", 14, 2, 2018)
    _fill_date(manager, "referral_date", 20, 12, 2026)
    manager.get_by_role("button", name="Start case").click()
    summary = manager.locator(".govuk-error-summary").inner_text()
    assert "Date of the referral must be today or in the past" in summary
    shot(manager, "casework-01-front-door-error")
    axe.assert_no_violations(manager)
    _fill_date(manager, "referral_date", 20, 11, 2026)
    manager.get_by_role("button", name="Start case").click()
    assert manager.locator("h1").inner_text() == "Nia Okoro"
    _banner_starts(manager, "Success Case started")

    # Allocate to Priya Shah: the open social worker step moves to her.
    manager.get_by_label("Allocate the case to a social worker").select_option(label="Priya Shah")
    manager.get_by_role("button", name="Allocate case").click()
    _banner_starts(manager, "Success Case allocated")
    assert "Priya Shah" in manager.get_by_test_id("case-summary").inner_text()
    shot(manager, "casework-02-allocated")
    axe.assert_no_violations(manager)

    # The worker is told, and finds the case in My cases with its step and deadline.
    worker = own_page()
    sign_in(worker, "sw2.north")
    assert "Inbox (2 new)" in worker.locator(".govuk-service-navigation").inner_text()
    worker.get_by_role("link", name="Cases", exact=True).click()
    row = worker.get_by_test_id("case-row").filter(has_text="Nia Okoro")
    expect(row).to_have_count(1)
    assert "Record consent" in row.inner_text()
    shot(worker, "casework-03-my-cases")
    axe.assert_no_violations(worker)

    # Completing the step takes her straight to her next step on the same case.
    row.get_by_role("link", name="Record consent").click()
    worker.get_by_label("Full name of the person asked for consent").fill("Ada Okoro")
    worker.get_by_label("Parent with parental responsibility").check()
    worker.get_by_label("Assessment and Child in Need involvement under section 17").check()
    worker.get_by_label("Written").check()
    _fill_date(worker, "consent_date", 23, 11, 2026)
    worker.locator("#consent_given").check()  # "Yes"
    worker.get_by_test_id("complete").click()
    _banner_starts(worker, "Success Step completed Your next step on the same case")
    assert "Complete the assessment" in worker.locator("h1").inner_text()
    shot(worker, "casework-04-next-step")
    axe.assert_no_violations(worker)


def test_the_manager_allocates_the_worker_as_the_case_starts(own_page, sign_in, axe, shot):  # noqa: ANN001
    manager = own_page()
    sign_in(manager, "tm.north")
    manager.goto("/cases/new")
    manager.get_by_label("Sample referral").check()
    manager.get_by_role("button", name="Continue").click()
    manager.get_by_label("Child's first name").fill("Tom")
    manager.get_by_label("Child's last name").fill("Reyes")
    _fill_date(manager, "date_of_birth", 3, 9, 2017)
    _fill_date(manager, "referral_date", 23, 11, 2026)
    manager.get_by_label("Priya Shah").check()
    shot(manager, "casework-06-front-door-allocate")
    axe.assert_no_violations(manager)
    manager.get_by_role("button", name="Start case").click()
    assert manager.locator("h1").inner_text() == "Tom Reyes"
    assert "Priya Shah" in manager.get_by_test_id("case-summary").inner_text()

    worker = own_page()
    sign_in(worker, "sw2.north")
    worker.get_by_role("link", name="Cases", exact=True).click()
    row = worker.get_by_test_id("case-row").filter(has_text="Tom Reyes")
    expect(row).to_have_count(1)
    assert "Record consent" in row.inner_text()


def test_search_finds_a_child_by_a_misspelt_name(own_page, sign_in, axe):  # noqa: ANN001
    page = own_page()
    sign_in(page, "sw.north")
    page.goto("/cases/search")
    axe.assert_no_violations(page)
    page.get_by_label("Child's name, date of birth or case number").fill("Amelia Hughs")
    page.get_by_role("button", name="Search").click()
    rows = page.get_by_test_id("case-row")
    expect(rows).to_have_count(1)
    assert "Amelia Hughes" in rows.first.inner_text()
    assert "Mon 16 Nov 2026, overdue by 5 working days" in rows.first.inner_text()
    axe.assert_no_violations(page)
    page.goto("/cases/team")
    axe.assert_no_violations(page)


def _fits(page) -> None:  # noqa: ANN001
    """Nothing wider than the screen: no sideways scrolling, no control cut off."""
    overflow = page.evaluate(
        """() => {
            const width = document.documentElement.clientWidth;
            const wide = [...document.querySelectorAll('main *')].filter(el => {
                const box = el.getBoundingClientRect();
                return box.width > 0 && (box.right > width + 1 || box.left < -1);
            }).map(el => el.tagName + '.' + el.className);
            return {scroll: document.documentElement.scrollWidth, width, wide: wide.slice(0, 5)};
        }"""
    )
    assert overflow["scroll"] <= overflow["width"], overflow
    assert not overflow["wide"], overflow


def test_worklist_and_case_lists_fit_320_px(own_page, sign_in, axe, shot):  # noqa: ANN001
    # 320 px, and 640 px: a 1280 px screen at 200% zoom.
    wide = own_page(viewport={"width": 640, "height": 800})
    sign_in(wide, "tm.north")
    page = own_page(viewport={"width": 320, "height": 640})
    sign_in(page, "tm.north")
    for path in ("/worklist/unclaimed", "/worklist/overdue", "/cases/team", "/cases/new"):
        wide.goto(path)
        _fits(wide)
        page.goto(path)
        _fits(page)
        axe.assert_no_violations(page)
    page.goto("/worklist/unclaimed")
    # Each task is a card: the child, the step, the deadline and the claim button all visible.
    card = page.get_by_test_id("task-row").filter(has_text="Ben Carter")
    expect(
        card.get_by_role("button", name="Claim Complete the assessment for Ben Carter")
    ).to_be_visible()
    assert "Mon 23 Nov 2026, today" in card.inner_text()
    shot(page, "casework-05-worklist-320")
