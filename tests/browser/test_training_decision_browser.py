"""At a decision the trainer asks "what if the review finds significant harm?" (issue 18), in
real Chromium: a training case on Portsmouth's review is stepped with the example answers to
the review outcome; the diagram marks done, current and still-to-come steps, the call to the
common review opens with the real step marked and comes back; the trainer picks "Strategy
discussion" and the walkthrough follows that branch. axe on what the trainer sees."""

from __future__ import annotations

import json

REVIEW = "portsmouth:portsmouth_review"


def _ready(page) -> dict:  # noqa: ANN001
    page.wait_for_selector('#case-diagram[data-ready="true"]')
    return json.loads(page.locator("#case-diagram").get_attribute("data-marked") or "{}")


def _current(page) -> str:  # noqa: ANN001
    return page.get_by_test_id("current-step").locator("h2").inner_text()


def test_trainer_takes_the_significant_harm_branch(live_portsmouth, page, sign_in, axe) -> None:  # noqa: ANN001
    sign_in(page, "trainer.north")
    page.goto("/training")
    page.get_by_label("Pathway or route").select_option(REVIEW)
    page.get_by_role("button", name="Start training case").click()
    page.wait_for_load_state()
    marked = _ready(page)  # at the first step, the review itself is still to come
    assert marked == {
        "current": ["see_child_alone"],
        "done": ["review_due"],
        "upcoming": ["hold_review"],
    }, marked
    assert page.locator("#case-diagram .cin-upcoming").count() == 1
    for _ in range(6):  # the example answers carry the case to the review outcome
        if _current(page) == "Record the review outcome":
            break
        page.get_by_role("button", name="Complete step").click()
        page.wait_for_load_state()
        _ready(page)
    assert _current(page) == "Record the review outcome"

    # the case diagram: the call holding the step is current, what is left is marked upcoming
    marked = _ready(page)
    assert marked.get("current") == ["hold_review"], marked
    assert "see_child_alone" in marked.get("done", [])
    assert page.locator("#case-diagram .cin-current").count() == 1
    done = page.get_by_test_id("steps-done").inner_text()
    assert "See the child alone before the review" in done and "Review due" not in done
    axe.assert_no_violations(page)

    # open the called review: the real step is current inside it; then back
    page.get_by_role("button", name="Open the called process: Hold the review").click()
    page.wait_for_selector('#case-diagram[data-showing="hold_review"]')
    marked = json.loads(page.locator("#case-diagram").get_attribute("data-marked"))
    assert marked.get("current") == ["record_review_outcome"], marked
    assert "upcoming" not in marked  # only end events follow the outcome
    assert "called from" in page.get_by_test_id("diagram-where").inner_text()
    page.get_by_role("button", name="Show the overview map").click()
    assert page.locator("#case-diagram .djs-minimap.open").count() == 1
    axe.assert_no_violations(page)
    page.get_by_role("button", name="Hide the overview map").click()
    page.get_by_test_id("diagram-back").click()
    page.wait_for_selector('#case-diagram[data-showing=""]')

    # "what if the review finds significant harm?"
    form = page.get_by_test_id("step-form")
    form.get_by_label("Strategy discussion").check()
    form.get_by_role("button", name="Complete step").click()
    page.wait_for_load_state()
    _ready(page)
    # the significant-harm branch ends Portsmouth's review (the strategy discussion follows
    # in the pathway): the walkthrough says so, and the points to go back to are still there
    assert page.get_by_test_id("finished").is_visible()
    assert "See the child alone" in page.get_by_test_id("steps-done").inner_text()
    assert page.get_by_test_id("step-points").locator("button").count() >= 4
    axe.assert_no_violations(page)


STEP_DOWN = "portsmouth:portsmouth_step_down_cp"
# The steps the trainer takes, first found first, to reach the first review's outcome: the
# meetings and the review, not the visits and supervision that run beside them.
TOWARDS_REVIEW = (
    "Record the review outcome",
    "Chair and record the meeting",
    "Check the meeting took place",
    "Arrange the meeting",
    "See the child alone before the review",
)


def _steps(page) -> str:  # noqa: ANN001
    return page.get_by_test_id("current-steps").inner_text()


def _take(page, name: str) -> None:  # noqa: ANN001
    """Make `name` the step shown, if it is not already."""
    link = page.get_by_test_id("current-steps").get_by_role("link", name=name, exact=True)
    if link.count():
        link.click()
        page.wait_for_load_state()
    assert _current(page) == name


def test_trainer_steps_back_and_takes_another_review_outcome(live_portsmouth, page, sign_in, axe) -> None:  # noqa: ANN001, E501
    """The step down from a CP plan to its first review outcome; "what if the review asks for a
    strategy discussion?", then back one step and the example answer (an amended plan): each
    branch has its own next step, and the other branch's step is gone."""
    sign_in(page, "trainer.north")
    page.goto("/training")
    page.get_by_label("Pathway or route").select_option(STEP_DOWN)
    page.get_by_role("button", name="Start training case").click()
    page.wait_for_load_state()
    for _ in range(20):
        steps = _steps(page)
        if "Record the review outcome" in steps:
            break
        _take(page, next((n for n in TOWARDS_REVIEW if n in steps), _current(page)))
        page.get_by_test_id("step-form").get_by_role("button", name="Complete step").click()
        page.wait_for_load_state()
    _take(page, "Record the review outcome")
    _ready(page)

    # branch one: a strategy discussion
    form = page.get_by_test_id("step-form")
    form.get_by_label("Strategy discussion").check()
    form.get_by_role("button", name="Complete step").click()
    page.wait_for_load_state()
    _ready(page)
    strategy = _steps(page)
    assert "Hold the strategy discussion" in strategy, strategy
    assert "Amend the plan and have it signed" not in strategy
    assert "Record the review outcome" not in strategy

    # one step back: the outcome is to record again, the strategy discussion is gone
    page.locator('button[data-testid^="back-"]').last.click()
    page.wait_for_load_state()
    _ready(page)
    again = _steps(page)
    assert "Record the review outcome" in again and "Hold the strategy discussion" not in again

    # branch two: the example answer, continue with an amended plan
    _take(page, "Record the review outcome")
    form = page.get_by_test_id("step-form")
    assert form.get_by_label("Continue with an amended plan").is_checked()
    form.get_by_role("button", name="Complete step").click()
    page.wait_for_load_state()
    _ready(page)
    amended = _steps(page)
    assert "Amend the plan and have it signed" in amended, amended
    assert "Hold the strategy discussion" not in amended
    assert "Hold the strategy discussion" not in page.get_by_test_id("steps-done").inner_text()
    axe.assert_no_violations(page)
