"""The worklist in a real browser, on the real engine: sign in, see the worklist, claim a task,
two people racing for the same claim, a manager's view, sign out. axe (WCAG 2.2 AA tags) runs on
every page of the journey; screenshots are saved for a person to look at (see conftest.py).

The world is tests/factories.py's, clock fixed at Monday 23 November 2026 09:00 UTC. This
file claims Ben Carter's, Dylan Evans's and Evie Foster's tasks; no other browser test uses them.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect


def _banner(page) -> str:  # noqa: ANN001
    return " ".join(page.get_by_test_id("notification-banner").first.inner_text().split())


def _tab(page, name: str):  # noqa: ANN001, ANN202
    # A tab's name ends with how many tasks it holds: "My tasks (1)".
    named = re.compile(rf"^{re.escape(name)}( \(\d+\))?$")
    return page.get_by_test_id("worklist-tabs").get_by_role("link", name=named)


def _row(page, child: str):  # noqa: ANN001, ANN202
    return page.get_by_test_id("task-row").filter(has_text=child)


def test_sign_in_claim_and_sign_out(page, sign_in, axe, shot, live_world):  # noqa: ANN001
    # Signed out, the worklist asks for a sign-in first and comes back after it.
    page.goto("/worklist/unclaimed")
    assert page.url.endswith("/sign-in?next=/worklist/unclaimed")
    assert page.locator("h1").inner_text() == "Sign in to cinflow"
    shot(page, "01-sign-in")
    axe.assert_no_violations(page)

    # A wrong password: one calm message, with an error summary that links to the field.
    page.get_by_label("Username").fill("sw.north")
    page.get_by_label("Password", exact=True).fill("not my password")
    page.get_by_role("button", name="Sign in").click()
    summary = page.locator(".govuk-error-summary")
    assert "Enter a correct username and password" in summary.inner_text()
    assert page.title().startswith("Error: Sign in")
    # GOV.UK Frontend moves focus to the summary so screen readers announce it.
    # (a locator assertion: a string predicate would be eval'd in the page, which the CSP forbids)
    expect(summary).to_be_focused()
    shot(page, "02-sign-in-error")
    axe.assert_no_violations(page)

    page.get_by_label("Password", exact=True).fill(live_world.password)
    page.get_by_role("button", name="Sign in").click()
    assert page.url.endswith("/worklist/unclaimed")
    header = page.get_by_test_id("signed-in-as").inner_text()
    assert "Sam North" in header and "Social worker" in header

    # My tasks: Amelia's overdue assessment, in words as well as red.
    _tab(page, "My tasks").click()
    assert _tab(page, "My tasks").get_attribute("aria-current") == "page"
    amelia = _row(page, "Amelia Hughes")
    assert "Mon 16 Nov 2026, overdue by 5 working days" in amelia.inner_text()
    shot(page, "03-my-tasks")
    axe.assert_no_violations(page)

    # Claim Ben's task from the team's unclaimed tasks.
    _tab(page, "Team's unclaimed tasks").click()
    ben = _row(page, "Ben Carter")
    assert "Mon 23 Nov 2026, today" in ben.inner_text()
    ben.get_by_role("button", name="Claim Complete the assessment for Ben Carter").click()
    assert _banner(page).startswith("Success You have claimed Complete the assessment for Ben")
    assert page.url.endswith("/worklist/unclaimed")
    expect(_row(page, "Ben Carter")).to_have_count(0)
    shot(page, "04-claimed")
    axe.assert_no_violations(page)

    _tab(page, "My tasks").click()
    expect(_row(page, "Ben Carter")).to_have_count(1)
    assert "You" in _row(page, "Ben Carter").inner_text()

    # Due soon and overdue views.
    _tab(page, "Due soon").click()
    assert "Wed 25 Nov 2026, in 2 working days" in _row(page, "Dylan Evans").inner_text()
    shot(page, "05-due-soon")
    axe.assert_no_violations(page)
    _tab(page, "Overdue").click()
    expect(_row(page, "Amelia Hughes")).to_have_count(1)
    axe.assert_no_violations(page)

    # Filters are a plain GET form.
    _tab(page, "Team's unclaimed tasks").click()
    page.get_by_label("Child's name").fill("evans")
    page.get_by_role("button", name="Apply filters").click()
    assert page.url.endswith("/worklist/unclaimed?child=evans&task=")
    expect(page.get_by_test_id("task-row")).to_have_count(1)
    shot(page, "06-filtered")
    axe.assert_no_violations(page)

    # Sign out: back to the sign-in page, and the worklist is closed again.
    page.get_by_test_id("sign-out").click()
    assert page.url.endswith("/sign-in")
    assert _banner(page) == "Success You have signed out"
    shot(page, "07-signed-out")
    axe.assert_no_violations(page)
    page.goto("/worklist")
    assert "/sign-in" in page.url
    page.go_back()
    assert page.locator("h1").inner_text() == "Sign in to cinflow"


def test_two_people_race_for_the_same_claim(new_page, sign_in, axe, shot, live_world):  # noqa: ANN001
    sam, priya = new_page(), new_page()
    sign_in(sam, "sw.north")
    sign_in(priya, "sw2.north")
    for page in (sam, priya):
        page.goto("/worklist/unclaimed")
        expect(_row(page, "Dylan Evans").get_by_role("button", name="Claim")).to_have_count(1)

    claim = "Claim Complete the assessment for Dylan Evans"
    priya.get_by_role("button", name=claim).click()
    assert _banner(priya).startswith("Success You have claimed")
    sam.get_by_role("button", name=claim).click()  # Sam's page still showed it unclaimed
    assert _banner(sam).startswith("Important Already claimed by Priya Shah")
    assert "Ask them or your team manager" in _banner(sam)
    expect(_row(sam, "Dylan Evans")).to_have_count(0)
    shot(sam, "08-already-claimed")
    axe.assert_no_violations(sam)
    dylan = live_world.world.task("Dylan Evans")
    assert live_world.engine.task(dylan.id).claimed_by == "sw2.north"


def test_a_team_manager_sees_the_team_and_reassigns(page, sign_in, axe, shot, live_world):  # noqa: ANN001
    sign_in(page, "tm.north")
    _tab(page, "Team's unclaimed tasks").click()
    evie = _row(page, "Evie Foster")
    evie.get_by_label("Give Complete the assessment for Evie Foster to").select_option("sw2.north")
    evie.get_by_role("button", name="Reassign").click()
    assert _banner(page) == "Success Complete the assessment for Evie Foster is now with Priya Shah"
    shot(page, "09-manager-unclaimed")
    axe.assert_no_violations(page)

    _tab(page, "Team overview").click()
    table = page.get_by_test_id("team-table")
    assert "Priya Shah" in table.inner_text()
    shot(page, "10-team-overview")
    axe.assert_no_violations(page)
    evie_task = live_world.world.task("Evie Foster")
    assert live_world.engine.task(evie_task.id).claimed_by == "sw2.north"


def test_claiming_works_without_javascript(new_page, sign_in, live_world):  # noqa: ANN001
    page = new_page(java_script_enabled=False)
    sign_in(page, "pm.north")
    page.goto("/worklist/unclaimed?child=Harry")
    page.get_by_role("button", name="Claim Complete the assessment for Harry Dudley").click()
    assert "You have claimed" in page.get_by_test_id("notification-banner").inner_text()
    harry = live_world.world.task("Harry Dudley")
    assert live_world.engine.task(harry.id).claimed_by == "pm.north"


def test_narrow_screen_has_no_sideways_page_scroll(new_page, sign_in, axe, shot):  # noqa: ANN001
    page = new_page(viewport={"width": 360, "height": 780})
    sign_in(page, "tm.north")
    page.goto("/worklist/due-soon")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the page is {width}px wide on a 360px screen"
    shot(page, "11-narrow")
    axe.assert_no_violations(page)
