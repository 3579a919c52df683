"""The task page, /tasks/<id>: guidance, child, deadline, the form, drafts, completing, refusals.

The real engine on a copy of the factories' world (tests/web/conftest.py), clock fixed at
Monday 23 November 2026 09:00 UTC. Cases for these tests are started here: the sample process
(consent, then "Complete the assessment" due Mon 14 Dec 2026) and a tiny process with a CIN
plan step (tests/browser/data/cin_plan_journey.bpmn).

Over 500 lines on purpose: the task page's GET and POST paths share their cases and are read
together.
"""

from __future__ import annotations

import json
import re
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from engine.services import Engine, NewChild
from webui import form_render as fr
from webui.tasks import guidance

ROOT = Path(__file__).resolve().parents[2]
JOURNEY = ROOT / "tests" / "browser" / "data" / "cin_plan_journey.bpmn"
EVIL = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


# --- helpers (test_cases.py uses them too) -------------------------------------------------------


def schema(form: str) -> dict[str, Any]:
    return json.loads((ROOT / "forms" / form).read_text())


def example(form: str) -> dict[str, Any]:
    name = form.removesuffix(".json")
    return json.loads((ROOT / "forms" / "examples" / f"{name}.valid.json").read_text())


def post_fields(form_schema: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """The fields a browser posts for these answers: dates in three boxes, rows numbered."""
    raw = fr.raw_from_data(form_schema, data)
    out: dict[str, Any] = {}

    def put(name: str, node: dict[str, Any], value: Any) -> None:
        if fr.widget(node) == fr.DATE:
            for part in fr.DATE_PARTS:
                out[f"{name}-{part}"] = value[part]
        else:
            out[name] = value

    for name, node in form_schema["properties"].items():
        if fr.widget(node) == fr.TABLE:
            for i, row in enumerate(raw[name]):
                for key, sub in node["items"]["properties"].items():
                    put(f"{name}-{i}-{key}", sub, row[key])
        else:
            put(name, node, raw[name])
    return out


def start_sample(engine: Engine, child: str = "Ada Example", team: str = "north") -> Any:
    """A sample case waiting on "Record consent" (no deadline)."""
    return engine.start_case(
        "sample_referral",
        NewChild(child, date(2016, 5, 4)),
        {"referral_date": "2026-11-23"},
        "factory",
        council="portsmouth",
        team=team,
    )


def start_plan(engine: Engine, child: str = "Leo Whitlow", team: str = "north") -> Any:
    """A case waiting on "Agree the Child in Need plan", due Monday 7 December 2026."""
    engine.deploy([JOURNEY], "factory", "journey", council="portsmouth")
    return engine.start_case(
        "cin_plan_journey",
        NewChild(child, date(2016, 5, 4)),
        {},
        "factory",
        council="portsmouth",
        team=team,
    )


def form_data(task: Any, case: Any, answers: dict[str, Any], action: str = "complete") -> dict:
    return {
        **post_fields(schema(task.form), answers),
        "action": action,
        "revision": str(case.revision),
        "case_id": str(case.id),
    }


def stored(engine: Engine, case_id: int) -> tuple:
    """What the engine holds for a case, to prove that a refusal changed nothing."""
    case = engine.get_case(case_id, with_data=True)
    completions = [e for e in engine.audit_trail(case_id) if e.action == "task_completed"]
    return case.revision, [(t.id, t.claimed_by) for t in case.tasks], case.data, len(completions)


@pytest.fixture
def sw(client_request):
    return client_request.sign_in("sw.north")


# --- the page ------------------------------------------------------------------------------------


def test_task_page_shows_guidance_child_deadline_and_form(engine, sw):
    case = start_plan(engine)
    (task,) = case.tasks
    page = sw.get(f"/tasks/{task.id}")
    assert page.h1 == "Agree the Child in Need plan"
    assert page.title.startswith("Agree the Child in Need plan – Leo Whitlow – cinflow")

    guide = page.text_of(page.testid("task-guidance")[0])
    assert "for each assessed need, the outcome, the actions" in guide
    assert "D2 · Dudley" not in guide  # the references are not left in the guidance text
    tags = [page.text_of(t) for t in page.xpath('//*[@data-testid="task-guidance"]//strong')]
    assert tags == ["P1"]  # a Portsmouth worker sees Portsmouth's rules only, not Dudley's D2
    assert page.xpath('//*[@data-testid="task-guidance"]//strong[contains(@class,"govuk-tag")]')
    assert "Source: Portsmouth 3" in guide and "Dudley" not in guide

    child = page.text_of(page.testid("child-summary")[0])
    assert "Leo Whitlow" in child and "4 May 2016" in child and "10 years old" in child

    due = page.text_of(page.testid("task-deadline")[0])
    assert due == "Due Mon 7 Dec 2026, in 10 working days"

    form = page.xpath('//form[@id="task-form"]')[0]
    assert form.xpath('.//input[@name="revision"]/@value') == [str(case.revision)]
    assert form.xpath('.//input[@name="case_id"]/@value') == [str(case.id)]
    assert form.xpath('.//input[@name="csrf_token"]/@value')[0]
    assert form.xpath('.//input[@name="plan_stage"][@type="radio"]')
    assert form.xpath('.//textarea[@name="items-0-assessed_need"]')
    # Enter in a text box must not press "Add another row": the first button saves a draft.
    first = form.xpath(".//button")[0]
    assert first.get("value") == "save" and first.get("hidden") is not None
    assert [b.get("value") for b in form.xpath(".//button[not(@hidden)]")][-2:] == [
        "complete",
        "save",
    ]
    # Viewing a child's step is recorded.
    assert any(
        e.action == "viewed" and e.detail == {"page": "task"} for e in engine.audit_trail(case.id)
    )


def test_overdue_deadline_is_red_and_in_words(engine, sw, fixed_clock):
    from datetime import timedelta

    case = start_plan(engine)
    fixed_clock.advance(timedelta(days=15))  # Tuesday 8 December: a working day late
    sw.sign_in("sw.north")  # a new session, two weeks later
    page = sw.get(f"/tasks/{case.tasks[0].id}")
    due = page.testid("task-deadline")[0]
    assert page.text_of(due) == "Due Mon 7 Dec 2026, overdue by 1 working day Overdue"
    assert due.xpath('.//*[contains(@class,"govuk-tag--red")]')
    assert due.xpath('.//*[contains(@class,"cin-deadline--overdue")]')


def test_guidance_splits_rule_references():
    g = guidance("Do the thing. P2 · Portsmouth 1.2; D5 · Dudley Timescales; T4 · Teeswide 6.2")
    assert g.text == "Do the thing." and g.rules == ["P2", "D5", "T4"]
    assert g.sources == ["Portsmouth 1.2", "Dudley Timescales", "Teeswide 6.2"]
    g = guidance("R2 · Rochdale 5", "R3")
    assert g.text == "" and g.rules == ["R2", "R3"]
    g = guidance("Plain words. No references here.", None)
    assert g.text == "Plain words. No references here." and g.rules == [] and g.sources == []
    g = guidance("Reviews. D5-D7 · Dudley Timescales")
    assert g.rules == ["D5-D7"]
    g = guidance("Step. Children Act 1989 s17; as R16 · Rochdale 14")
    assert g.rules == ["R16"] and g.sources == ["Children Act 1989 s17", "Rochdale 14"]


# --- completing ----------------------------------------------------------------------------------


def test_invalid_then_valid_then_next_step(engine, sw):
    case = start_sample(engine)
    (task,) = case.tasks
    before = stored(engine, case.id)
    answers = {"consent_given": False, "refusal_reason": "Mother wants to talk to her sister"}
    page = sw.post(f"/tasks/{task.id}", form_data(task, case, answers), _expected_status=400)

    assert page.title.startswith("Error: Record consent")
    summary = page.xpath('//*[contains(@class,"govuk-error-summary")]')[0]
    links = summary.xpath(".//a")
    assert links, "an error summary with links"
    for link in links:
        target = link.get("href")[1:]
        assert page.xpath(f'//*[@id="{target}"]'), f"summary link #{target} goes nowhere"
    # Inline errors next to the fields, with the GOV.UK hidden "Error:" prefix.
    assert page.xpath('//*[contains(@class,"govuk-form-group--error")]')
    assert page.xpath('//p[contains(@class,"govuk-error-message")]')
    # The answers are kept...
    assert page.xpath('//input[@name="consent_given"][@value="no"]/@checked')
    assert "Mother wants to talk to her sister" in page.html
    # ...and nothing was saved.
    assert stored(engine, case.id) == before
    assert engine.get_draft(task.id, "sw.north") is None

    done = sw.post(f"/tasks/{task.id}", form_data(task, case, example("consent")))
    assert done.response.location == f"/tasks/{task.id}/done"
    page = sw.follow(done)
    panel = page.testid("completed-panel")[0]
    assert page.text_of(panel.xpath(".//h1")[0]) == "Step completed"
    assert re.sub(r"\s+", " ", " ".join(panel.xpath(".//div//text()"))).strip() == (
        "Record consent for Ada Example"
    )
    nxt = page.testid("next-tasks")[0]
    assert page.text_of(nxt).startswith(
        "Next: Complete the assessment, due Mon 14 Dec 2026, in 15 working days For the social"
    )
    (link,) = nxt.xpath(".//a")
    (assessment,) = engine.tasks(case_id=case.id)
    assert link.get("href") == f"/tasks/{assessment.id}"
    assert page.xpath(f'//a[@href="/cases/{case.id}"]')
    assert engine.get_case(case.id, with_data=True).data["consent"] == example("consent")


def test_dates_and_numbers_that_cannot_be_read_are_errors_not_saved(engine, sw):
    case = start_plan(engine)
    (task,) = case.tasks
    fields = form_data(task, case, example("cin_plan"))
    fields.update({"items-0-by_when-day": "31", "items-0-by_when-month": "2",
                   "visiting_frequency_weeks": "four"})  # fmt: skip
    before = stored(engine, case.id)
    page = sw.post(f"/tasks/{task.id}", fields, _expected_status=400)
    summary = page.error_summary()
    assert "Plan item 1: by when must be a real date" in summary
    assert "Enter a whole number for ‘How often will the social worker visit, in weeks?’" in (
        summary
    )
    assert page.xpath('//a[@href="#items-0-by_when-day"]')
    # What was typed is shown back as typed.
    assert page.xpath('//input[@name="items-0-by_when-day"]/@value') == ["31"]
    assert page.xpath('//input[@name="visiting_frequency_weeks"]/@value') == ["four"]
    assert stored(engine, case.id) == before


def test_replayed_post_of_a_completed_task_changes_nothing(engine, sw):
    case = start_sample(engine)
    (task,) = case.tasks
    fields = form_data(task, case, example("consent"))
    sw.post(f"/tasks/{task.id}", fields)
    after = stored(engine, case.id)

    page = sw.post(f"/tasks/{task.id}", fields, _expected_status=409)
    assert page.h1 == "This step has already been completed"
    said = page.text_of(page.testid("completed-by")[0])
    assert said == "‘Record consent’ was completed by Sam North on 23 November 2026 at 9am."
    assert "nothing has changed" in page.text
    assert stored(engine, case.id) == after
    # A GET of the old link says the same.
    assert sw.get(f"/tasks/{task.id}").h1 == "This step has already been completed"


def test_stale_revision_says_reload_and_saves_nothing(engine, sw):
    case = start_sample(engine)
    (task,) = case.tasks
    fields = {**form_data(task, case, example("consent")), "revision": str(case.revision - 1)}
    before = stored(engine, case.id)
    page = sw.post(f"/tasks/{task.id}", fields, _expected_status=409)
    problem = page.text_of(page.testid("task-problem")[0])
    assert "Someone else changed this case while you were working on it" in problem
    assert "reload this page" in problem
    assert page.xpath(f'//a[@href="/tasks/{task.id}"][contains(., "Reload this step")]')
    assert page.xpath('//input[@name="consent_given"][@value="yes"]/@checked')  # answers kept
    assert stored(engine, case.id) == before
    # A revision that is not a number is stale too.
    fields["revision"] = "nope"
    sw.post(f"/tasks/{task.id}", fields, _expected_status=409)
    assert stored(engine, case.id) == before


def test_step_claimed_by_someone_else_names_them(engine, sw, world):
    task = world.task("Chloe Davies")  # claimed by sw2.north, Priya Shah
    page = sw.get(f"/tasks/{task.id}")
    said = page.text_of(page.testid("claimed-by-other")[0])
    assert "Priya Shah is working on this step" in said
    assert not page.xpath('//form[@id="task-form"]')

    case = engine.get_case(task.case_id)
    before = stored(engine, case.id)
    (live,) = case.tasks
    fields = form_data(live, case, example("assessment_outcome"))
    page = sw.post(f"/tasks/{task.id}", fields, _expected_status=403)
    assert "Priya Shah is working on this step" in page.text_of(page.testid("task-problem")[0])
    assert stored(engine, case.id) == before


# --- drafts --------------------------------------------------------------------------------------


def test_save_draft_then_reload_shows_it_only_to_its_author(engine, sw, new_client_request):
    case = start_plan(engine)
    (task,) = case.tasks
    half = {"plan_stage": "initial", "items": [{"assessed_need": "School every day"}]}
    saved = sw.post(f"/tasks/{task.id}", form_data(task, case, half, action="save"))
    assert saved.response.location == f"/tasks/{task.id}"
    page = sw.follow(saved)
    assert any("Draft saved" in b for b in page.banners())
    assert page.testid("draft-note")
    assert page.xpath('//input[@name="plan_stage"][@value="initial"]/@checked')
    assert page.xpath('//textarea[@name="items-0-assessed_need"]/text()') == ["School every day"]
    assert engine.get_draft(task.id, "sw.north") == half
    assert engine.get_case(case.id).revision == case.revision  # a draft is not the case

    other = new_client_request().sign_in("sw2.north").get(f"/tasks/{task.id}")
    assert not other.testid("draft-note")
    assert not other.xpath('//input[@name="plan_stage"]/@checked')


def test_a_half_typed_date_survives_a_draft(engine, sw):
    case = start_plan(engine)
    (task,) = case.tasks
    fields = form_data(task, case, {}, action="save")
    fields.update({"items-0-by_when-day": "31", "items-0-by_when-month": "2"})
    page = sw.follow(sw.post(f"/tasks/{task.id}", fields))
    assert page.xpath('//input[@name="items-0-by_when-day"]/@value') == ["31"]
    assert page.xpath('//input[@name="items-0-by_when-month"]/@value') == ["2"]


# --- the SMART plan's rows without JavaScript ----------------------------------------------------


def test_add_and_remove_rows_without_javascript_save_nothing(engine, sw):
    case = start_plan(engine)
    (task,) = case.tasks
    before = stored(engine, case.id)
    one = {"items": [{"assessed_need": "Need A", "who": "Mum"}]}
    page = sw.post(
        f"/tasks/{task.id}",
        form_data(task, case, one, action="add-row:items"),
        _expected_status=200,
    )
    legends = [
        page.text_of(x) for x in page.xpath('//legend[contains(@class,"cin-repeat__legend")]')
    ]
    assert legends == ["Plan item 1", "Plan item 2"]
    assert page.xpath('//textarea[@name="items-0-assessed_need"]/text()') == ["Need A"]
    assert page.xpath('//textarea[@name="items-1-assessed_need"][@autofocus]')
    assert [page.text_of(b) for b in page.xpath('//button[starts-with(@value,"remove-row")]')] == [
        "Remove row 1 (Plan item 1)",
        "Remove row 2 (Plan item 2)",
    ]
    assert page.xpath('//input[@name="revision"]/@value') == [str(case.revision)]

    two = {"items": [{"assessed_need": "Need A"}, {"assessed_need": "Need B"}]}
    page = sw.post(
        f"/tasks/{task.id}",
        form_data(task, case, two, action="remove-row:items:0"),
        _expected_status=200,
    )
    assert page.xpath('//textarea[@name="items-0-assessed_need"]/text()') == ["Need B"]
    assert not page.xpath('//textarea[@name="items-1-assessed_need"]')
    assert not page.xpath('//button[starts-with(@value,"remove-row")]')  # the only row stays
    assert stored(engine, case.id) == before
    assert engine.get_draft(task.id, "sw.north") is None


def test_cin_plan_with_two_rows_completes(engine, sw):
    case = start_plan(engine)
    (task,) = case.tasks
    plan = example("cin_plan")
    page = sw.follow(sw.post(f"/tasks/{task.id}", form_data(task, case, plan)))
    assert "Next: Record the first visit, due Mon 21 Dec 2026, in" in page.text
    assert engine.get_case(case.id, with_data=True).data["cin_plan"] == plan


# --- escaping ------------------------------------------------------------------------------------


def every_text_field(form_schema: dict[str, Any], value: str) -> dict[str, Any]:
    """Answers with `value` in every free-text field, rows included (other fields left blank)."""

    def texts(props: dict[str, Any]) -> dict[str, Any]:
        return {k: value for k, n in props.items() if fr.widget(n) in (fr.TEXT, fr.TEXTAREA)}

    answers = texts(form_schema["properties"])
    for name, node in form_schema["properties"].items():
        if fr.widget(node) == fr.TABLE:
            answers[name] = [texts(node["items"]["properties"])] * 2
    return answers


def test_html_typed_into_every_text_field_is_shown_inert(engine, sw):
    case = start_plan(engine, child=EVIL)
    (task,) = case.tasks
    answers = every_text_field(schema("cin_plan.json"), EVIL)
    page = sw.post(f"/tasks/{task.id}", form_data(task, case, answers), _expected_status=400)
    assert "<script>alert(1)" not in page.html
    textareas = page.xpath("//textarea/text()")
    assert textareas and all(t == EVIL for t in textareas)
    assert page.html.count(ESCAPED) >= len(textareas) + 3  # + the child's name in the page
    # And the same from a saved draft.
    page = sw.follow(sw.post(f"/tasks/{task.id}", form_data(task, case, answers, "save")))
    assert "<script>alert(1)" not in page.html
    assert page.xpath('//input[@name="lead_professional_name"]/@value') == [EVIL]


# --- who may see what ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "task_id",
    ["00000000-0000-0000-0000-000000000000", "not-a-task", "..%2F..%2Fetc"],
)
def test_unknown_task_ids_are_404(sw, task_id):
    sw.get(f"/tasks/{task_id}", _expected_status=404)
    sw.post(f"/tasks/{task_id}", {"action": "save"}, _expected_status=404)


def test_another_teams_task_is_404_and_unchanged(engine, sw, world):
    task = world.task("Grace Miller")  # team south
    before = stored(engine, task.case_id)
    sw.get(f"/tasks/{task.id}", _expected_status=404)
    sw.post(f"/tasks/{task.id}", {"action": "save"}, _expected_status=404)
    sw.post(f"/tasks/{task.id}", {"action": "complete", "revision": "1"}, _expected_status=404)
    assert stored(engine, task.case_id) == before
    assert engine.get_draft(task.id, "sw.north") is None


def test_another_teams_completed_task_is_404(engine, sw):
    case = start_sample(engine, team="south")
    (task,) = case.tasks
    engine.complete_task(task.id, example("consent"), "sw.south")
    sw.get(f"/tasks/{task.id}", _expected_status=404)
    sw.get(f"/tasks/{task.id}/done", _expected_status=404)
    page = sw.post(f"/tasks/{task.id}", {"action": "complete"}, _expected_status=404)
    assert "sw.south" not in page.html and "Sol Stevens" not in page.html


def test_tampered_case_id_is_404(engine, sw, world):
    case = start_sample(engine)
    (task,) = case.tasks
    other = world.task("Ben Carter").case_id
    fields = {**form_data(task, case, example("consent")), "case_id": str(other)}
    before = stored(engine, case.id)
    sw.post(f"/tasks/{task.id}", fields, _expected_status=404)
    assert stored(engine, case.id) == before


def test_signed_out_goes_to_sign_in_and_other_roles_are_refused(client_request, world):
    task = world.task("Ben Carter")
    page = client_request.get(f"/tasks/{task.id}", _expected_status=302)
    assert page.response.location.startswith("/sign-in")
    client_request.sign_in("admin").get(f"/tasks/{task.id}", _expected_status=403)


def test_post_without_csrf_token_is_refused(engine, sw):
    case = start_sample(engine)
    (task,) = case.tasks
    before = stored(engine, case.id)
    fields = form_data(task, case, example("consent"))
    sw.post(f"/tasks/{task.id}", fields, _csrf=False, _expected_status=400)
    assert stored(engine, case.id) == before


def test_done_page_without_a_completion_in_this_session(engine, sw):
    case = start_sample(engine)
    (task,) = case.tasks
    sw.get(f"/tasks/{task.id}/done", _expected_status=404)  # still open: nothing to confirm
    engine.complete_task(task.id, example("consent"), "sw2.north")
    page = sw.get(f"/tasks/{task.id}/done")
    assert re.search(r"completed by Priya Shah on 23 November 2026 at 9am", page.text)


def test_the_worklist_and_the_task_page_word_a_deadline_the_same(engine, sw):
    """One presenter: a deadline on a day the council is now closed (every working day up to
    it closed, without moving it) reads the same on both pages, not "Due today" on one."""
    from datetime import timedelta

    from engine import clock
    from engine.store.models import ClosureDay

    now = clock.now()
    case = start_plan(engine)
    (task,) = case.tasks
    with engine.sessions() as s, s.begin():
        day = date(2026, 11, 24)
        while day <= date(2026, 12, 7):
            s.add(ClosureDay(council_key=task.council, day=day, reason="test", created_at=now))
            day += timedelta(days=1)
    engine.context.calendar_changed(task.council)  # as if read after the recheck time
    row = next(r for r in sw.get("/worklist/unclaimed").rows() if r["id"] == task.id)
    words = (
        "Mon 7 Dec 2026, before the next working day Council closure day, not a working day: "
        "last working day before it is Mon 23 Nov 2026"
    )
    assert row["due"] == words
    page = sw.get(f"/tasks/{task.id}")
    due = page.text_of(page.testid("task-deadline")[0])
    assert due == f"Due {words}"


def test_the_task_page_is_one_engine_call_to_show_and_one_to_post(engine, sw, monkeypatch):
    """GET: the page's data in one call (plus the in-memory calendar for the deadline words),
    with the view audited; POST (save or complete): one call, and no view audited for it."""
    case = start_plan(engine)
    (task,) = case.tasks
    calls: list[str] = []

    def counted(name: str, real: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            if sys._getframe(1).f_globals.get("__name__", "").startswith("webui"):
                calls.append(name)  # called by the web layer, not inside the engine
            return real(*args, **kwargs)

        return call

    for name in ("task_page", "task", "get_case", "get_draft", "record_view", "audit_trail",
                 "save_draft", "complete_task", "submit_task", "completed_step",
                 "calendar"):  # fmt: skip
        monkeypatch.setattr(engine, name, counted(name, getattr(engine, name)))
    sw.get(f"/tasks/{task.id}")
    assert calls == ["task_page", "calendar"]
    views = [e for e in engine.audit_trail(case.id) if e.action == "viewed"]
    assert [v.detail for v in views] == [{"page": "task"}]
    calls.clear()
    sw.post(f"/tasks/{task.id}", form_data(task, case, {}, action="save"))
    assert calls == ["submit_task"]
    assert engine.get_draft(task.id, "sw.north") is not None
    calls.clear()
    answers = example("cin_plan.json")
    sw.post(f"/tasks/{task.id}", form_data(task, engine.get_case(case.id), answers))
    assert calls == ["submit_task"]
    assert task.id not in {t.id for t in engine.get_case(case.id).tasks}
    assert len([e for e in engine.audit_trail(case.id) if e.action == "viewed"]) == 1
