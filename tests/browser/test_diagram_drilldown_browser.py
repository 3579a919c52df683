"""A collapsed sub-process on the case diagram, in real Chromium (issue 18): the review is drawn
collapsed with its own plane (tests/browser/data/collapsed_review.bpmn), and a trainer's case
starts on the first step inside it. The collapsed shape shows it holds the current step;
bpmn-js's drill-down arrow opens the sub-process, where the real step is marked current; the
breadcrumb goes back to the parent drawing. axe on both drawings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine import clock
from engine.clock import FixedClock

REVIEW = Path(__file__).resolve().parent / "data" / "collapsed_review.bpmn"


@pytest.fixture(scope="module")
def collapsed(own_world):  # noqa: ANN001, ANN201
    factories = __import__("factories")
    with clock.using(FixedClock(factories.NOW)):
        own_world.engine.deploy([REVIEW], "admin", "drill-down test", council="portsmouth")
    return own_world


def _marked(page) -> dict:  # noqa: ANN001
    return json.loads(page.locator("#case-diagram").get_attribute("data-marked") or "{}")


def _visible(page, element: str) -> bool:  # noqa: ANN001
    return page.locator(f'#case-diagram .djs-element[data-element-id="{element}"]').is_visible()


def test_the_drill_down_opens_the_step_inside_and_comes_back(collapsed, own_page, sign_in, axe) -> None:  # noqa: ANN001, E501
    page = own_page()
    sign_in(page, "trainer.north")
    page.goto("/training")
    page.get_by_label("Pathway or route").select_option("portsmouth:collapsed_review")
    page.get_by_role("button", name="Start training case").click()
    page.wait_for_load_state()
    page.wait_for_selector('#case-diagram[data-ready="true"]')
    assert "Meet the family" in page.get_by_test_id("current-step").inner_text()

    # the parent drawing: the collapsed review holds the step, which is drawn inside it
    marked = _marked(page)
    assert marked.get("holds") == ["hold_review"], marked
    assert marked.get("current") == ["meet_family"], marked
    holder = page.locator('#case-diagram .djs-element[data-element-id="hold_review"]')
    assert "cin-holds" in (holder.get_attribute("class") or "")
    assert holder.is_visible() and not _visible(page, "meet_family")
    axe.assert_no_violations(page)

    # bpmn-js's drill-down arrow (a button named after the sub-process) opens it, by keyboard
    page.get_by_role("button", name="Open Hold the review").focus()
    page.keyboard.press("Enter")
    step = page.locator('#case-diagram .djs-element[data-element-id="meet_family"]')
    step.wait_for(state="visible")
    assert "cin-current" in (step.get_attribute("class") or "")
    following = page.locator('#case-diagram .djs-element[data-element-id="record_review"]')
    assert "cin-upcoming" in (following.get_attribute("class") or "")
    assert not holder.is_visible()
    crumbs = page.locator("#case-diagram .bjs-breadcrumbs")
    assert "Hold the review" in crumbs.inner_text()
    axe.assert_no_violations(page)

    # the breadcrumb (a link, so the keyboard reaches it) goes back to the parent drawing
    parent = crumbs.get_by_role("link")
    assert parent.count() == 1
    parent.focus()
    page.keyboard.press("Enter")
    holder.wait_for(state="visible")
    assert not _visible(page, "meet_family")
    assert "cin-holds" in (holder.get_attribute("class") or "")
