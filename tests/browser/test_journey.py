"""A social worker's journey in a real browser, on the real engine: sign in, claim the CIN plan
step, fill the SMART plan (two rows), submit it wrong then right, see what is next, and see the
case page with its highlighted diagram. axe (WCAG 2.2 AA tags) runs on every page on the way.

The app runs the real engine on a temporary SQLite database with the clock fixed at Monday
23 November 2026, 09:00 UTC, and the tiny process in tests/browser/data/cin_plan_journey.bpmn.
Screenshots go to $CINFLOW_SCREENSHOTS when set (to look at them), else to a temporary folder.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from werkzeug.serving import make_server

from engine import clock
from engine.clock import FixedClock, SystemClock
from engine.services import Engine, NewChild
from webui import create_app

HERE = Path(__file__).resolve().parent
JOURNEY = HERE / "data" / "cin_plan_journey.bpmn"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple"
TIMEOUT_MS = 10_000


@pytest.fixture(scope="module")
def journey_server(browser, tmp_path_factory) -> Iterator[SimpleNamespace]:
    """The real app on a real engine with one case waiting on its CIN plan."""
    clock.set_default(FixedClock(NOW))  # the server's threads read the process-wide clock
    folder = tmp_path_factory.mktemp("journey")
    engine = Engine(f"sqlite:///{folder / 'cinflow.db'}")
    engine.init_db()
    engine.people.add_team("north", "portsmouth", "Portsmouth North CIN team")
    engine.people.add_user("sw.north", "Sam North", PASSWORD, "social_worker", ["north"])
    engine.deploy([JOURNEY], "pm", "journey", council="portsmouth")
    case = engine.start_case(
        "cin_plan_journey",
        NewChild("Leo Whitlow", date(2016, 5, 4)),
        {},
        "intake",
        council="portsmouth",
        team="north",
    )
    second = engine.start_case(
        "cin_plan_journey",
        NewChild("Mia Whitlow", date(2019, 2, 14)),
        {},
        "intake",
        council="portsmouth",
        team="north",
    )
    app = create_app({"TESTING": True, "SECRET_KEY": "journey"}, engine=engine)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="journey-server", daemon=True)
    thread.start()
    try:
        yield SimpleNamespace(
            url=f"http://127.0.0.1:{server.server_port}",
            engine=engine,
            case=case,
            second=second,
        )
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        engine.dispose()
        clock.set_default(SystemClock())


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    wanted = os.environ.get("CINFLOW_SCREENSHOTS")
    folder = Path(wanted) if wanted else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def assert_accessible(axe, page) -> None:
    """axe with wcag2a, wcag2aa, wcag21a, wcag21aa and wcag22aa: no violations at all."""
    violations = axe(page)
    assert not violations, axe.format(violations)


def screenshot(page, folder: Path, name: str, slice_height: int = 1100) -> None:
    """The whole page, and slices of it one screen tall (easier to look at than a long strip)."""
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    height = page.evaluate("document.documentElement.scrollHeight")
    for n, top in enumerate(range(0, height, slice_height)):
        clip = {"x": 0, "y": top, "width": 1280, "height": min(slice_height, height - top)}
        page.screenshot(path=str(folder / f"{name}.{n}.png"), full_page=True, clip=clip)


def new_page(browser, server, *, javascript: bool = True):
    context = browser.new_context(
        base_url=server.url,
        viewport={"width": 1280, "height": 900},
        locale="en-GB",
        timezone_id="Europe/London",
        java_script_enabled=javascript,
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    context.route(lambda url: not url.startswith(server.url), lambda route: route.abort())
    return context, context.new_page()


def sign_in(page) -> None:
    page.goto("/sign-in")
    page.get_by_label("Username").fill("sw.north")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def fill_row(page, n: int, need: str, outcome: str, actions: str, who: str, when: date) -> None:
    i = n - 1
    page.locator(f"#items-{i}-assessed_need").fill(need)
    page.locator(f"#items-{i}-outcome").fill(outcome)
    page.locator(f"#items-{i}-actions").fill(actions)
    page.locator(f"#items-{i}-who").fill(who)
    page.locator(f"#items-{i}-by_when-day").fill(str(when.day))
    page.locator(f"#items-{i}-by_when-month").fill(str(when.month))
    page.locator(f"#items-{i}-by_when-year").fill(str(when.year))


def test_social_worker_journey(browser, journey_server, axe, shots):
    context, page = new_page(browser, journey_server)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        # Sign in: the worklist.
        page.goto("/sign-in")
        assert_accessible(axe, page)
        sign_in(page)
        assert page.url.startswith(f"{journey_server.url}/worklist")
        assert_accessible(axe, page)

        # Claim Leo's plan from the team's unclaimed steps.
        page.goto("/worklist/unclaimed")
        row = page.get_by_test_id("task-row").filter(has_text="Leo Whitlow")
        row.get_by_role("button", name="Claim").click()
        page.wait_for_load_state()
        assert "You have claimed" in page.get_by_test_id("notification-banner").first.inner_text()
        assert_accessible(axe, page)
        (task,) = journey_server.engine.tasks(case_id=journey_server.case.id)
        assert task.claimed_by == "sw.north"

        # The task page.
        page.goto(f"/tasks/{task.id}")
        assert page.locator("h1").inner_text() == "Agree the Child in Need plan"
        deadline = page.get_by_test_id("task-deadline").inner_text()
        assert "Mon 7 Dec 2026, in 10 working days" in deadline
        assert "4 May 2016" in page.get_by_test_id("child-summary").inner_text()
        assert_accessible(axe, page)
        screenshot(page, shots, "1-task")

        # Fill the plan: one row, add another (a server round trip), fill it too.
        page.get_by_label("Initial plan").check()
        page.get_by_label("Lead professional").fill("Sam North, social worker")
        fill_row(
            page,
            1,
            "Leo needs to be in school every day, on time.",
            "Attendance of at least 95% by the end of term.",
            "Mum walks Leo to school for 8:50am. School phones Mum by 9:30am on any absence.",
            "Karen Whitlow (mother) and Ms Patel, attendance officer",
            date(2027, 3, 26),
        )
        page.get_by_role("button", name="Add another row").click()
        page.wait_for_load_state()
        assert page.locator("#items-1-assessed_need").evaluate(
            "el => el === document.activeElement"
        )
        assert page.locator("#items-0-who").input_value().startswith("Karen Whitlow")
        fill_row(
            page,
            2,
            "Mum needs help with her low mood to keep the morning routine.",
            "Mum says mornings feel manageable; the children arrive fed and on time.",
            "Mum sees her GP. Family support worker visits weekly for six weeks.",
            "Karen Whitlow (mother) and Jo Reed, family support worker",
            date(2027, 1, 15),
        )
        # Enter in a text box saves a draft; it does not press "Remove row 1".
        page.locator("#items-1-who").press("Enter")
        page.wait_for_load_state()
        assert "Draft saved" in page.get_by_test_id("notification-banner").first.inner_text()
        assert page.locator("#items-1-who").input_value().startswith("Karen Whitlow")
        page.get_by_label("Contingency plan").fill(
            "If attendance falls below 85%, an early review within 10 working days."
        )
        page.get_by_label("How often will the social worker visit, in weeks?").fill("4")
        # "No" reveals the reason (GOV.UK conditional reveal), left blank on purpose.
        reason = page.get_by_label("Why was the child not involved?")
        fieldset = page.locator("fieldset", has_text="Was the child involved in making the plan?")
        assert not reason.is_visible()
        fieldset.get_by_label("No", exact=True).check()
        assert reason.is_visible()
        page.get_by_label("The child's views").fill("Leo said mornings are 'a rush'.")
        page.locator("fieldset", has_text="Has the child signed the plan?").get_by_label(
            "Yes", exact=True
        ).check()
        page.locator("fieldset", has_text="Have the parents signed the plan?").get_by_label(
            "Yes", exact=True
        ).check()

        # Complete with the reason missing: the error summary, nothing saved.
        page.get_by_role("button", name="Complete step").click()
        page.wait_for_load_state()
        summary = page.locator(".govuk-error-summary")
        assert summary.is_visible()
        assert "Answer ‘Why was the child not involved?’" in summary.inner_text()
        assert page.title().startswith("Error: ")
        assert summary.evaluate("el => el === document.activeElement")  # GOV.UK JS focuses it
        assert page.locator("#items-1-assessed_need").input_value().startswith("Mum needs")
        assert journey_server.engine.tasks(case_id=journey_server.case.id)[0].id == task.id
        assert_accessible(axe, page)
        screenshot(page, shots, "2-task-errors")
        summary.get_by_role("link").first.click()
        assert page.locator("#child_not_involved_reason").evaluate(
            "el => el === document.activeElement"
        )

        # Put it right and complete: what is next.
        reason.fill("Leo was unwell on the day of the meeting; his views were sought at home.")
        page.get_by_role("button", name="Complete step").click()
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == "Step completed"
        nxt = page.get_by_test_id("next-tasks").inner_text()
        next_words = "Next: Record the first visit, due Mon 21 Dec 2026, in 20 working days"
        assert nxt.startswith(next_words), nxt
        assert_accessible(axe, page)
        screenshot(page, shots, "3-done")
        plan = journey_server.engine.get_case(journey_server.case.id, with_data=True).data
        assert len(plan["cin_plan"]["items"]) == 2

        # The case page: plan, chronology, and the diagram with its markers.
        page.get_by_role("link", name="Go to the case of Leo Whitlow").click()
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == "Leo Whitlow"
        page.wait_for_selector("#case-diagram[data-ready='true']")
        markers = page.evaluate(
            """() => ({
                current: [...document.querySelectorAll('.cin-current')]
                    .map(e => e.dataset.elementId),
                done: [...document.querySelectorAll('.cin-done')].map(e => e.dataset.elementId),
                overdue: document.querySelectorAll('.cin-overdue').length,
                svg: document.querySelectorAll('#case-diagram svg').length,
            })"""
        )
        assert markers["current"] == ["first_visit"]
        assert {"journey_start", "agree_plan"} <= set(markers["done"])
        assert markers["overdue"] == 0 and markers["svg"] >= 1
        # The highlight is drawn: the current step's shape has the current style.
        stroke = page.evaluate(
            """() => getComputedStyle(document.querySelector(
                '.cin-current .djs-visual > :first-child')).stroke"""
        )
        assert stroke == "rgb(15, 56, 92)"
        assert page.locator(".bjs-powered-by").is_visible()  # bpmn.io's watermark stays
        assert not page.locator(".cin-diagram__fallback").is_visible()
        rows = page.get_by_test_id("plan-table").locator("tbody tr")
        assert rows.count() == 2
        assert "26 March 2027" in rows.nth(0).inner_text()
        chronology = page.get_by_test_id("chronology").inner_text()
        assert "Step completed" in chronology and "Agree the Child in Need plan" in chronology
        assert "23 November 2026 at 9am" in chronology
        assert_accessible(axe, page)
        screenshot(page, shots, "4-case")
        assert errors == [], errors
    finally:
        context.close()


def test_without_javascript_rows_and_reveals_work(browser, journey_server, shots):
    """GOV.UK's progressive enhancement: with JavaScript off, everything but the diagram works."""
    context, page = new_page(browser, journey_server, javascript=False)
    try:
        sign_in(page)
        (task,) = journey_server.engine.tasks(case_id=journey_server.second.id)
        page.goto(f"/tasks/{task.id}")
        # Conditional reveals are simply shown.
        assert page.get_by_label("Why was the child not involved?").is_visible()
        page.locator("#items-0-assessed_need").fill("Mia needs a nursery place.")
        page.get_by_role("button", name="Add another row").click()
        page.wait_for_load_state()
        assert page.locator("#items-1-assessed_need").count() == 1
        page.locator("#items-1-assessed_need").fill("Second need")
        page.get_by_role("button", name="Remove row 1").click()
        page.wait_for_load_state()
        assert page.locator("#items-0-assessed_need").input_value() == "Second need"
        assert page.locator("#items-1-assessed_need").count() == 0
        assert journey_server.engine.get_draft(task.id, "sw.north") is None
        screenshot(page, shots, "5-task-no-js")

        page.goto(f"/cases/{journey_server.second.id}")
        assert page.locator(".cin-diagram__fallback").is_visible()
        current = page.get_by_test_id("states-current").inner_text()
        assert current == "Agree the Child in Need plan"
        screenshot(page, shots, "6-case-no-js")
    finally:
        context.close()
