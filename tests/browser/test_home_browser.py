from __future__ import annotations

import re


def test_home_page_in_a_browser(page, sign_in, axe, shot):  # noqa: ANN001
    sign_in(page, "pm.north")
    response = page.goto("/home")
    assert response is not None and response.status == 200

    assert page.locator("h1").inner_text() == "Child in Need procedures"
    assert page.title() == "Home – cinflow – Example Borough Council"
    assert page.locator("html").get_attribute("lang") == "en-GB"

    processes = page.get_by_test_id("processes-table")
    assert "Sample referral" in processes.inner_text()
    assert "23 November 2026" in processes.inner_text()
    cases = page.get_by_test_id("cases-table")
    assert "Amelia Hughes" in cases.inner_text()
    assert "Complete the assessment" in cases.inner_text()
    assert "Grace Miller" not in cases.inner_text()  # another team's case
    # The child name carrying markup shows as text, and no script ran from it.
    assert "<script>alert('x')</script> Finn" in cases.inner_text()

    # GOV.UK Frontend's CSS and JS loaded: system font, and the JS-enabled class on <body>.
    font = page.evaluate("getComputedStyle(document.querySelector('h1')).fontFamily")
    assert "GDS Transport" not in font and "arial" in font.lower()
    assert re.search(r"\bgovuk-frontend-supported\b", page.locator("body").get_attribute("class"))
    assert page.locator(".govuk-logo, .govuk-footer__crown").count() == 0

    path = shot(page, "home")
    assert path.stat().st_size > 10_000

    axe.assert_no_violations(page)


def test_page_not_found_in_a_browser(page, axe):  # noqa: ANN001
    response = page.goto("/no/such/page")
    assert response is not None and response.status == 404
    assert page.locator("h1").inner_text() == "Page not found"
    axe.assert_no_violations(page)


def test_skip_link_moves_focus_to_main_content(page):  # noqa: ANN001
    page.goto("/sign-in")
    page.keyboard.press("Tab")
    skip = page.locator(".govuk-skip-link")
    assert skip.evaluate("el => el === document.activeElement")
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main-content"
