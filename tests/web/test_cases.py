"""The case page, /cases/<id>: child, what is waiting, the plan, the chronology, the diagram."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from test_tasks import (
    ESCAPED,
    EVIL,
    JOURNEY,
    every_text_field,
    example,
    form_data,
    schema,
    start_plan,
    start_sample,
)

from engine.services import Engine, NewChild
from webui import create_app
from webui.cases import age_text, chronology, describe, plan_rows


@pytest.fixture
def sw(client_request):
    return client_request.sign_in("sw.north")


def complete_plan(engine, case, plan=None, user="sw.north"):
    (task,) = engine.tasks(case_id=case.id)
    return engine.complete_task(task.id, plan or example("cin_plan"), user)


def test_case_page_summary_and_waiting_steps(engine, sw):
    case = start_plan(engine)
    page = sw.get(f"/cases/{case.id}")
    assert page.h1 == "Leo Whitlow"
    assert page.title.startswith("Leo Whitlow – case – cinflow")
    child = page.text_of(page.testid("child-summary")[0])
    assert "4 May 2016" in child and "10 years old" in child
    summary = page.text_of(page.testid("case-summary")[0])
    assert "CIN plan journey, version 1" in summary and "Portsmouth North CIN team" in summary

    (row,) = page.testid("current-tasks")[0].xpath(".//tbody/tr")
    assert page.text_of(row) == (
        "Agree the Child in Need plan Social worker Nobody yet Mon 7 Dec 2026, in 10 working days"
    )
    (link,) = row.xpath(".//a")
    assert link.get("href") == f"/tasks/{case.tasks[0].id}"
    assert "There is no plan on this case yet." in page.text
    # Viewing the case is recorded; the chronology does not list views.
    assert any(e.action == "viewed" for e in engine.audit_trail(case.id))
    assert "Viewed" not in page.text_of(page.testid("chronology")[0])


def test_plan_table(engine, sw):
    case = start_plan(engine)
    complete_plan(engine, case)
    page = sw.get(f"/cases/{case.id}")
    table = page.testid("plan-table")[0]
    heads = [page.text_of(th) for th in table.xpath(".//thead//th")]
    assert heads == ["Assessed need", "Outcome", "Actions", "Who", "By when", "Achieved?"]
    rows = [[page.text_of(td) for td in tr.xpath("./td")] for tr in table.xpath(".//tbody/tr")]
    assert len(rows) == 2
    assert rows[0][0].startswith("Leo needs to be in school every day")
    assert rows[0][3].startswith("Karen Whitlow (mother) and Ms Patel")
    assert rows[0][4:] == ["18 July 2025", "Not yet reviewed"]
    assert rows[1][4:] == ["13 June 2025", "Partly"]
    facts = page.text_of(page.xpath('//ul[contains(@class,"cin-plan-facts")]')[0])
    assert "Plan: Initial plan" in facts and "Visits: At least every 4 weeks" in facts
    assert "Next review: 24 July 2025" in facts


def test_chronology_newest_first_in_plain_english(engine, sw, fixed_clock):
    case = start_plan(engine)
    fixed_clock.advance(timedelta(hours=6, minutes=5))  # 3:05pm
    sw.sign_in("sw.north")  # the morning's session ended after 30 idle minutes
    complete_plan(engine, case)
    page = sw.get(f"/cases/{case.id}")
    rows = page.testid("chronology")[0].xpath(".//tbody/tr")
    entries = [[page.text_of(td) for td in tr.xpath("./td")] for tr in rows]
    assert entries == [
        [
            "23 November 2026 at 3:05pm",
            "Step completed Agree the Child in Need plan",
            "Sam North",
        ],
        ["23 November 2026 at 9am", "Case opened", "factory"],
    ]
    for code in ("task_completed", "case_started", "viewed", "draft_saved"):
        assert not re.search(rf"\b{code}\b", page.text), code


def test_deadline_missed_and_escalated_in_chronology_and_overdue_lists(engine, sw, fixed_clock):
    case = start_plan(engine)
    # Tuesday 8 December: "Agree the plan" was due on Monday 7 December, and is overdue.
    fixed_clock.set(datetime(2026, 12, 8, 9, 0, tzinfo=UTC))
    sw.sign_in("sw.north")  # two weeks later: a new session
    page = sw.get(f"/cases/{case.id}")
    assert page.text_of(page.testid("states-overdue")[0]) == "Agree the Child in Need plan Overdue"
    row = page.testid("current-tasks")[0].xpath(".//tbody/tr")[0]
    assert "Mon 7 Dec 2026, overdue by 1 working day Overdue" in page.text_of(row)
    assert row.xpath('.//*[contains(@class,"govuk-tag--red")]')
    overdue = json.loads(page.xpath('//*[@id="case-diagram"]/@data-overdue')[0])
    assert overdue == ["agree_plan"]

    assert engine.fire_due_timers(case_id=case.id) == 1
    page = sw.get(f"/cases/{case.id}")
    first = page.testid("chronology")[0].xpath(".//tbody/tr")[0]
    assert page.text_of(first) == (
        "8 December 2026 at 9am Deadline missed – escalated "
        "‘Agree the Child in Need plan’ was not done in time (10 working days) "
        "cinflow (automatic)"
    )
    # The manager's escalation step is now waiting too.
    waiting = page.text_of(page.testid("current-tasks")[0])
    assert "Review the late plan" in waiting and "Team manager" in waiting


def test_diagram_markup_and_text_lists(engine, sw):
    case = start_plan(engine)
    complete_plan(engine, case)
    page = sw.get(f"/cases/{case.id}")
    (canvas,) = page.xpath('//*[@id="case-diagram"]')
    assert canvas.get("data-xml-url") == f"/cases/{case.id}/diagram.bpmn"
    assert json.loads(canvas.get("data-current")) == ["first_visit"]
    assert set(json.loads(canvas.get("data-done"))) >= {"journey_start", "agree_plan"}
    assert json.loads(canvas.get("data-overdue")) == []
    # Without JavaScript the diagram says where to look instead...
    assert "The same information is in the list below" in page.text_of(canvas)
    # ...and the lists say it.
    assert page.text_of(page.testid("states-current")[0]) == "Record the first visit"
    done = page.text_of(page.testid("states-done")[0])
    # only the steps people did, with who and when: the start event is on the drawing only
    assert done == "Agree the Child in Need plan – Sam North, 23 November 2026 at 9am"
    assert "journey_start" in json.loads(canvas.get("data-done"))
    scripts = page.xpath("//script/@src")
    viewer = "/static/build/bpmn-js/bpmn-navigated-viewer.production.min.js"
    assert viewer in scripts and "/static/js/case-diagram.mjs" in scripts
    assert scripts.index(viewer) < scripts.index("/static/js/case-diagram.mjs")
    styles = page.xpath('//link[@rel="stylesheet"]/@href')
    assert "/static/build/bpmn-js/assets/bpmn-js.css" in styles


def test_diagram_xml_is_served_to_the_team_only(engine, sw, client_request, new_client_request):
    case = start_plan(engine)
    response = sw.client.get(f"/cases/{case.id}/diagram.bpmn")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"  # never rendered as a page (test_security.py)
    assert response.get_data(as_text=True) == JOURNEY.read_text()

    # a call the case's diagram does not have, or a malformed one, is a 404 (nothing echoed)
    sw.get(f"/cases/{case.id}/diagram.bpmn?call=nothing_here", _expected_status=404)
    sw.get(f"/cases/{case.id}/diagram.bpmn?call=../../etc", _expected_status=404)

    south = new_client_request().sign_in("sw.south")
    south.get(f"/cases/{case.id}/diagram.bpmn", _expected_status=404)
    south.get(f"/cases/{case.id}/diagram.bpmn?call=x", _expected_status=404)
    south.get(f"/cases/{case.id}", _expected_status=404)
    signed_out = new_client_request()
    page = signed_out.get(f"/cases/{case.id}/diagram.bpmn", _expected_status=302)
    assert page.response.location.startswith("/sign-in")


@pytest.mark.parametrize("path", ["/cases/999999", "/cases/abc", "/cases/999999/diagram.bpmn"])
def test_unknown_cases_are_404(sw, path):
    sw.get(path, _expected_status=404)


def test_another_teams_case_is_404_and_not_recorded_as_viewed(engine, sw, world):
    case_id = world.task("Grace Miller").case_id
    views = [e for e in engine.audit_trail(case_id) if e.action == "viewed"]
    page = sw.get(f"/cases/{case_id}", _expected_status=404)
    assert "Grace Miller" not in page.text
    assert [e for e in engine.audit_trail(case_id) if e.action == "viewed"] == views


def test_html_is_inert_in_plan_chronology_and_names(engine, sw):
    case = start_plan(engine, child=EVIL)
    plan = {**example("cin_plan"), **every_text_field(schema("cin_plan.json"), EVIL)}
    plan["items"] = [{**row, "by_when": "2026-12-01"} for row in plan["items"]]
    (task,) = case.tasks
    sw.post(f"/tasks/{task.id}", form_data(task, case, plan))
    page = sw.get(f"/cases/{case.id}")
    assert "<script>alert(1)" not in page.html
    cells = page.testid("plan-table")[0].xpath(".//tbody//td")
    assert [page.text_of(td) for td in cells].count(EVIL) == 8  # 4 text cells x 2 rows
    assert page.h1 == EVIL

    other = start_sample(engine, child="Ivy")
    engine.cancel_case(other.id, EVIL, "tm.north")
    page = sw.get(f"/cases/{other.id}")
    assert "<script>alert(1)" not in page.html and ESCAPED in page.html
    first = page.testid("chronology")[0].xpath(".//tbody/tr")[0]
    assert page.text_of(first).endswith(f"Case cancelled {EVIL} Tariq Malik")


# --- the pieces, on their own ---------------------------------------------------------------------


def event(action, detail=None, element_id=None, actor="sw.north", at=None):
    return SimpleNamespace(
        action=action,
        detail=detail or {},
        element_id=element_id,
        actor=actor,
        at=at or datetime(2026, 11, 23, 15, 5, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("action", "detail", "expected"),
    [
        (
            "task_completed",
            {"name": "Record a visit", "form": "visit_record.json",
             "data": {"visit_date": "2026-11-20"}},
            ("Visit recorded", "Record a visit – visit on 20 November 2026"),
        ),
        (
            "task_completed",
            {"name": "Record the meeting", "form": "meeting_record.json",
             "data": {"meeting_date": "2026-11-19"}},
            ("Meeting recorded", "Record the meeting – held on 19 November 2026"),
        ),
        (
            "message_received",
            {"message": "significant_change"},
            ("News received", "A significant change in the child's circumstances"),
        ),
        ("message_received", {"message": "family_won_lottery"},
         ("News received", "Family won lottery")),
        (
            "timer_fired:reminder",
            {"name": "2 working days before", "attached_to": "agree_plan"},
            ("Reminder sent", "‘Agree the plan’ is due soon (2 working days before)"),
        ),
        ("timer_fired:timer", {"name": "Six weeks"}, ("Time passed", "Six weeks")),
        ("case_completed", {}, ("Case finished", "Every step of the process is complete")),
        (
            "case_moved_team",
            {"to": "south"},
            ("Case moved to another team", "Now with Portsmouth South CIN team"),
        ),
        ("some_new_thing", {}, ("Some new thing", "")),
    ],
)  # fmt: skip
def test_describe_turns_actions_into_plain_english(app, action, detail, expected):
    with app.app_context():
        assert describe(event(action, detail), {"agree_plan": "Agree the plan"}) == expected


def test_chronology_skips_views_drafts_and_claims_and_sorts_newest_first(app):
    early = datetime(2026, 11, 1, 10, 0, tzinfo=UTC)
    with app.app_context():
        entries = chronology(
            [
                event("case_started", at=early, actor="scheduler"),
                event("viewed"),
                event("draft_saved"),
                event("task_claimed"),
                event("task_completed", {"name": "Record consent"}),
                event("case_completed"),
            ],
            {},
        )
    assert [(e.what, e.when, e.who) for e in entries] == [
        ("Case finished", "23 November 2026 at 3:05pm", "Sam North"),
        ("Step completed", "23 November 2026 at 3:05pm", "Sam North"),
        ("Case opened", "1 November 2026 at 10am", "cinflow (automatic)"),
    ]


def test_plan_rows_cope_with_missing_plans():
    assert plan_rows({}) == []
    assert plan_rows({"cin_plan": {"items": "nonsense"}}) == []
    assert plan_rows({"cin_plan": {"items": [{"by_when": "soon"}, "x"]}}) == [
        {"assessed_need": "", "outcome": "", "actions": "", "who": "",
         "by_when": "soon", "achieved": "Not yet reviewed"}
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("born", "on", "expected"),
    [
        ("2016-05-04", "2026-11-23", "10 years old"),
        ("2016-11-24", "2026-11-23", "9 years old"),
        ("2025-11-23", "2026-11-23", "1 year old"),
        ("2026-03-30", "2026-11-23", "7 months old"),
        ("2026-10-23", "2026-11-23", "1 month old"),
        ("2026-11-10", "2026-11-23", "Under 1 month old"),
    ],
)
def test_age_text(born, on, expected):
    from datetime import date

    assert age_text(date.fromisoformat(born), date.fromisoformat(on)) == expected
    assert age_text(None) == ""


MEETING = {
    "meeting_type": "review",
    "meeting_date": "2026-11-25",
    "venue": "Family centre",
    "invitees": [{"name": "Karen Whitlow", "role": "Mother"}],
    "cancelled": False,
}
RECORD = {
    "meeting_type": "review",
    "meeting_date": "2026-11-25",
    "chair_name": "Ruth Okafor",
    "chair_role": "senior_practitioner",
    "attendees": MEETING["invitees"],
    "child_attended": False,
    "childs_views": "Sam said mornings are calmer.",
    "parents_views": "Karen agrees with the plan.",
    "decisions": "Plan agreed.",
}
OUTCOME = {
    "review_date": "2026-11-25",
    "outcome": "continue",
    "reasons": "Attendance is up to 96%.",
    "child_seen_alone_before_review": True,
    "next_review_date": "2027-03-01",
}


def test_steps_done_in_a_called_process_stay_listed_to_the_end(db_url, fixed_clock):  # noqa: ANN001
    """A review calls the common meeting; once the call ends its tasks are pruned from the
    case's state, but the case page still lists every step done, who did it and when (from
    the audit), and the called drawing's done marks come from the same record. SQLite and
    PostgreSQL."""
    from factories import PASSWORD, ROOT
    from web_client import ClientRequest

    engine = Engine(db_url)
    try:
        engine.init_db()
        engine.deploy([ROOT / "processes/common"], "test", "test", council="portsmouth")
        engine.people.add_team("north", "portsmouth", "Portsmouth North CIN team")
        for user, name, role in (
            ("sw.north", "Sam North", "social_worker"),
            ("sp.north", "Sara Price", "senior_practitioner"),
        ):
            engine.people.add_user(user, name, PASSWORD, role, ["north"], by="test")
        case = engine.start_case(
            "common_review", NewChild("Sam Sample"), {}, "sw.north", "portsmouth", team="north"
        )
        steps = [
            ("arrange_meeting", MEETING, "sw.north"),
            ("record_by_chair", RECORD, "sp.north"),
            ("record_review_outcome", OUTCOME, "sw.north"),
        ]
        for element, answers, user in steps:
            fixed_clock.advance(timedelta(days=1))
            task = next(t for t in engine.get_case(case.id).tasks if t.element_id == element)
            engine.complete_task(task.id, answers, user)
        assert engine.get_case(case.id).status == "completed"

        sw = ClientRequest(create_app({"TESTING": True, "SECRET_KEY": "t"}, engine=engine))
        page = sw.sign_in("sw.north").get(f"/cases/{case.id}")
        items = [page.text_of(li) for li in page.testid("states-done")[0].xpath("./li")]
        assert items == [
            "Arrange the meeting – Sam North, 24 November 2026 at 9am",
            "Chair and record the meeting – Sara Price, 25 November 2026 at 9am",
            "Record the review outcome – Sam North, 26 November 2026 at 9am",
        ]
        (canvas,) = page.xpath('//*[@id="case-diagram"]')
        called = json.loads(canvas.get("data-calls"))["review_meeting"]
        assert {"arrange_meeting", "record_by_chair"} <= set(called["done"])
        assert called["current"] == []
        assert {"review_meeting", "record_review_outcome"} <= set(
            json.loads(canvas.get("data-done"))
        )
    finally:
        engine.dispose()


def test_case_page_lists_the_next_steps(engine, sw):
    """Beside the diagram, the steps the case can reach from where it is, with their lane (the
    walkthrough's list); none once only the last step is left."""
    case = start_plan(engine)
    page = sw.get(f"/cases/{case.id}")
    (upcoming,) = page.testid("next-steps")
    assert page.text_of(upcoming) == "Record the first visit – Social worker"
    complete_plan(engine, case)
    page = sw.get(f"/cases/{case.id}")
    assert page.testid("next-steps") == []
    assert "No more steps" in page.text_of(page.testid("next-steps-none")[0])
