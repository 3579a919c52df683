"""The managers' reports in a real browser: oversight, heatmap and census pages pass axe."""

from __future__ import annotations


def test_oversight_page_in_a_browser(page, sign_in, axe, shot):  # noqa: ANN001
    sign_in(page, "pm.north")
    page.get_by_role("link", name="Reports").click()
    page.wait_for_load_state()
    page.goto(page.url + "?council=portsmouth")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Reports"
    charts = page.locator("svg[role=img]")
    assert charts.count() >= 1
    # Each chart is named by its own title, and its numbers are also in a table.
    assert page.get_by_role("img", name="Steps overdue now, by team").count() == 1
    assert page.get_by_test_id("overdue-team").inner_text().strip()
    shot(page, "reports")
    axe.assert_no_violations(page)


def test_heatmap_page_in_a_browser(page, sign_in, axe, shot):  # noqa: ANN001
    sign_in(page, "pm.north")
    page.goto("/reports")
    links = page.get_by_test_id("heatmap-links").locator("a")
    assert links.count() >= 1
    links.first.click()
    page.wait_for_selector("#heatmap-diagram[data-ready=true]", timeout=15_000)
    rows = page.get_by_test_id("heat-table").locator("tbody tr[data-element]")
    assert rows.count() >= 1
    # The busiest step in the table is coloured on the diagram, with its numbers as a badge.
    first = rows.first.get_attribute("data-element")
    marked = page.locator(f'.djs-element[data-element-id="{first}"]')
    if marked.count():
        assert "cin-heat--" in (marked.first.get_attribute("class") or "")
        assert page.locator(".cin-heat-badge").count() >= 1
    shot(page, "heatmap")
    axe.assert_no_violations(page)


def test_census_page_in_a_browser(page, sign_in, axe):  # noqa: ANN001
    sign_in(page, "pm.north")
    page.goto("/reports/census?council=portsmouth")
    assert page.locator("h1").inner_text().startswith("Child in Need census")
    axe.assert_no_violations(page)
