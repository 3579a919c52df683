"""A trainer walks Portsmouth's step down from a CP plan in real Chromium (issue 18): starts a
training case, completes the first step with the example answers, moves the case's own clock on
16 working days and sees the escalation fire, goes back; a trainee's follow-along page follows;
nobody else sees the case; axe on the pages; the page works at 200% zoom and from the keyboard."""

from __future__ import annotations

STEP_DOWN = "portsmouth:portsmouth_step_down_cp"


def _start(page) -> None:  # noqa: ANN001
    page.goto("/training")
    page.get_by_label("Pathway or route").select_option(STEP_DOWN)
    page.get_by_role("button", name="Start training case").click()
    page.wait_for_load_state()
    page.wait_for_selector('#case-diagram[data-ready="true"]')


def test_trainer_walks_the_step_down_route(live_portsmouth, page, new_page, sign_in, axe, shot) -> None:  # noqa: ANN001, E501
    sign_in(page, "trainer.north")
    assert "Amelia Hughes" not in page.locator("main").inner_text()  # no live children
    page.goto("/training")
    axe.assert_no_violations(page)

    _start(page)
    main = page.locator("main")
    assert "Training case – not a real child" in main.inner_text()
    assert "Training clock: 23 November 2026" in main.inner_text()
    assert "Conference chair / IRO" in page.get_by_test_id("step-who").inner_text()
    axe.assert_no_violations(page)

    # a trainee follows along, without signing in
    page.get_by_role("button", name="Make a follow-along link").click()
    page.wait_for_load_state()
    link = page.get_by_test_id("follow-links").locator("a").first.get_attribute("href")
    trainee = new_page()
    trainee.goto(link)
    trainee.wait_for_selector('#case-diagram[data-ready="true"]')
    assert "Training clock: 23 November 2026" in trainee.locator("main").inner_text()
    axe.assert_no_violations(trainee)

    # the example answers are there to change before completing
    step = page.get_by_test_id("step-form")
    step.locator('input[name="event_date-day"]').fill("23")
    step.locator('input[name="event_date-month"]').fill("11")
    step.locator('input[name="event_date-year"]').fill("2026")
    step.get_by_role("button", name="Complete step").click()
    page.wait_for_load_state()
    assert "Send" in page.get_by_test_id("current-steps").inner_text()

    # the keyboard moves the clock: type in the box and press Enter
    days = page.get_by_label("Working days")
    days.fill("16")
    days.press("Enter")
    page.wait_for_load_state()
    page.wait_for_selector('#case-diagram[data-ready="true"]')
    fired = page.get_by_test_id("fired").inner_text()
    assert "Escalation" in fired, fired
    assert "Training clock: 15 December 2026" in main.inner_text()
    assert page.locator("#case-diagram .cin-overdue").count() > 0  # highlighted on the diagram
    shot(page, "training-walkthrough")
    trainee.get_by_text("Training clock: 15 December 2026").wait_for(timeout=15_000)
    assert "Escalation" in trainee.get_by_test_id("fired").inner_text()
    axe.assert_no_violations(page)

    # a social worker sees nothing of it
    other = new_page()
    sign_in(other, "sw.north")
    for path in ("/worklist", "/worklist/unclaimed", "/inbox"):
        other.goto(path)
        assert "Example child (training)" not in other.locator("main").inner_text(), path

    # back to before the clock moved: the escalation has not happened
    page.locator('button[data-testid^="back-"]').last.click()
    page.wait_for_load_state()
    assert page.get_by_test_id("fired").count() == 0
    assert "Training clock: 23 November 2026" in main.inner_text()

    # the viewer: opened readable, driven from the keyboard, bpmn.io's watermark kept
    page.wait_for_selector('#case-diagram[data-ready="true"]')
    assert page.locator(".bjs-powered-by").is_visible()
    scale = page.evaluate(
        "document.querySelector('#case-diagram .viewport').transform.baseVal[0].matrix.a"
    )
    assert scale >= 0.5, scale
    zoom_in = page.get_by_role("button", name="Zoom in")
    zoom_in.focus()
    page.keyboard.press("Enter")
    bigger = page.evaluate(
        "document.querySelector('#case-diagram .viewport').transform.baseVal[0].matrix.a"
    )
    assert bigger > scale
    assert page.get_by_role("button", name="Fit to the box").is_visible()
    # the practitioner view hides timers and unnamed gateways; the full drawing is one click away
    diagram = page.locator("#case-diagram")
    assert diagram.get_attribute("data-view") == "practitioner"
    hidden = page.locator("#case-diagram .cin-plumbing")
    shown = page.evaluate(
        """[...document.querySelectorAll('#case-diagram .cin-plumbing')]
            .filter(e => getComputedStyle(e).display !== 'none')
            .map(e => e.dataset.elementId)"""
    )
    assert hidden.count() > 0 and shown == [], shown
    page.get_by_role("button", name="Show the full drawing").click()
    assert diagram.get_attribute("data-view") == "full"
    assert page.locator("#case-diagram .cin-plumbing").count() == 0
    page.get_by_role("button", name="Show the practitioner view").click()
    assert diagram.get_attribute("data-view") == "practitioner"

    # 200% zoom (half the width): nothing needs sideways scrolling
    page.set_viewport_size({"width": 640, "height": 900})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_presenter_view_from_the_keyboard(live_portsmouth, page, sign_in, axe) -> None:  # noqa: ANN001
    sign_in(page, "trainer.north")
    _start(page)
    page.get_by_test_id("present-link").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("presenter").is_visible()
    axe.assert_no_violations(page)
    first = page.locator(".cin-present__step-name").first.inner_text()

    with page.expect_navigation():
        page.keyboard.press("n")  # next step, with the example answers
    assert page.locator(".cin-present__step-name").first.inner_text() != first
    with page.expect_navigation():
        page.keyboard.press("a")  # the clock, 5 working days on
    assert page.get_by_test_id("training-clock").inner_text() == "30 November 2026"
    with page.expect_navigation():
        page.keyboard.press("b")
    assert page.get_by_test_id("training-clock").inner_text() == "23 November 2026"

    # the keys can be switched off (WCAG 2.1.4): then a key press does nothing
    page.get_by_label("Keyboard shortcuts (N, B, A, D)").uncheck()
    page.keyboard.press("a")
    page.wait_for_timeout(300)
    assert page.get_by_test_id("training-clock").inner_text() == "23 November 2026"


def test_procedure_library_and_handout(live_portsmouth, page, sign_in, axe) -> None:  # noqa: ANN001
    sign_in(page, "sw.north")
    page.goto("/library")
    axe.assert_no_violations(page)
    page.get_by_role("link", name="Portsmouth: step down from a child protection plan").click()
    page.wait_for_selector('#case-diagram[data-ready="true"]')
    assert (
        "Agree the outline Child in Need plan"
        in page.get_by_test_id("procedure-steps").inner_text()
    )
    axe.assert_no_violations(page)

    page.get_by_test_id("handout-link").click()
    page.wait_for_selector('#case-diagram[data-ready="true"]')
    axe.assert_no_violations(page)
    page.emulate_media(media="print")
    assert not page.locator(".govuk-service-navigation").is_visible()
    assert page.get_by_test_id("handout").is_visible()
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000


SCALE = "document.querySelector('#case-diagram .viewport').transform.baseVal[0].matrix"


def _focused(page) -> str:  # noqa: ANN001
    return page.evaluate(
        "(document.activeElement.textContent || document.activeElement.id || '').trim()"
    )


def test_diagram_at_200_percent_zoom_from_the_keyboard(live_portsmouth, new_page, sign_in, axe) -> None:  # noqa: ANN001, E501
    """WCAG 1.4.10 and 2.1.1 on the walkthrough's diagram: a 1280 px window at 200% zoom is a
    640 CSS px page drawn at twice the density; every diagram control shows whole, inside the
    page, and works from the keyboard alone (Tab to it, Enter), and the arrow keys pan."""
    page = new_page(viewport={"width": 640, "height": 450}, device_scale_factor=2)
    sign_in(page, "trainer.north")
    _start(page)
    width = page.evaluate("window.innerWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
    canvas = page.locator("#case-diagram").bounding_box()
    assert canvas["x"] >= 0 and canvas["x"] + canvas["width"] <= width + 1, canvas
    controls = page.get_by_role("group", name="Diagram controls").get_by_role("button")
    names = [b.inner_text() for b in controls.all() if b.is_visible()]
    for wanted in ("Zoom in", "Zoom out", "Fit to the box", "Show the full drawing",
                   "Show the overview map", "Full screen"):
        assert wanted in names, names
    for button in controls.all():
        if button.is_visible():
            box = button.bounding_box()
            inside = box["x"] >= 0 and box["x"] + box["width"] <= width + 1
            assert inside, (button.inner_text(), box)
    axe.assert_no_violations(page)

    # Tab from the top of the page to the first control, then through them with Enter
    page.locator("body").focus()
    for _ in range(150):
        page.keyboard.press("Tab")
        if _focused(page) == "Zoom in":
            break
    assert _focused(page) == "Zoom in"
    scale = page.evaluate(f"{SCALE}.a")
    page.keyboard.press("Enter")
    assert page.evaluate(f"{SCALE}.a") > scale
    page.keyboard.press("Tab")
    assert _focused(page) == "Zoom out"
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    assert page.evaluate(f"{SCALE}.a") < scale * 1.01
    page.keyboard.press("Tab")
    assert _focused(page) == "Fit to the box"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert _focused(page) == "Show the full drawing"
    page.keyboard.press("Enter")
    assert page.locator("#case-diagram").get_attribute("data-view") == "full"
    page.keyboard.press("Enter")
    assert page.locator("#case-diagram").get_attribute("data-view") == "practitioner"
    page.keyboard.press("Tab")
    assert _focused(page) == "Show the overview map"
    page.keyboard.press("Enter")
    assert page.locator("#case-diagram .djs-minimap.open").count() == 1
    page.keyboard.press("Enter")
    assert page.locator("#case-diagram .djs-minimap.open").count() == 0
    page.keyboard.press("Tab")
    assert _focused(page) == "Full screen"
    page.keyboard.press("Enter")
    _until(page, "document.fullscreenElement !== null")
    _until(page, "document.activeElement.textContent.trim() === 'Exit full screen'")
    page.keyboard.press("Enter")
    _until(page, "document.fullscreenElement === null")

    # on to the drawing itself: the arrow keys pan it, + zooms
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "case-diagram"
    before = page.evaluate(f"[{SCALE}.e, {SCALE}.f]")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")
    after = page.evaluate(f"[{SCALE}.e, {SCALE}.f]")
    assert after[0] < before[0] and after[1] < before[1], (before, after)
    scale = page.evaluate(f"{SCALE}.a")
    page.keyboard.press("+")
    assert page.evaluate(f"{SCALE}.a") > scale


def _until(page, expression: str, seconds: float = 10) -> None:  # noqa: ANN001
    """Wait until `expression` holds in the page. Playwright's wait_for_function evaluates a
    string predicate with eval while it polls, which the app's CSP forbids (flaky); each
    page.evaluate here is one DevTools evaluation, which the CSP does not govern."""
    for _ in range(int(seconds * 20)):
        if page.evaluate(expression):
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"not true within {seconds} s: {expression}")
