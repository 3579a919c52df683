"""The worklist: tabs, deadlines in working days, filters, paging, claim/unclaim/reassign, races.

The world (tests/factories.py), with the clock at Monday 23 November 2026 09:00 UTC:
  north team (Portsmouth): Amelia (overdue by 5, Sam's), Ben (due today), Chloe (1 working day
  left, Priya's), Dylan (2 left), Evie (15 left), "<script>..." Finn (no deadline);
  south team: Grace; Dudley team: Harry (4 left; the practice manager is in both).
"""

from __future__ import annotations

import pytest
from factories import SCRIPT_CHILD, CaseSpec, add_case

from webui import create_app
from webui.worklist import PAGE_SIZE

NORTH_ALL = [
    "Amelia Hughes",
    "Ben Carter",
    "Chloe Davies",
    "Dylan Evans",
    "Evie Foster",
    SCRIPT_CHILD,
]


@pytest.fixture
def sw(client_request):  # noqa: ANN001, ANN201
    return client_request.sign_in("sw.north")


@pytest.fixture
def tm(new_client_request):  # noqa: ANN001, ANN201
    return new_client_request().sign_in("tm.north")


# -- tabs ----------------------------------------------------------------------------------------


def test_my_tasks_is_the_default_tab(sw) -> None:  # noqa: ANN001
    page = sw.get("/worklist")
    assert page.title == "My tasks – Worklist – cinflow – Portsmouth City Council"
    assert page.h1 == "Worklist"
    (row,) = page.rows()
    assert row["child"] == "Amelia Hughes"
    assert row["task"].startswith("Complete the assessment")
    assert row["claimed_by"] == "You"
    assert row["actions"] == ["Unclaim"]
    link = page.xpath('//tr[@data-testid="task-row"]/td[1]//a')[0]
    assert link.get("href") == f"/tasks/{row['id']}"


def test_tabs_are_links_and_the_current_one_is_marked(sw) -> None:  # noqa: ANN001
    page = sw.get("/worklist/overdue")
    tabs = page.testid("worklist-tabs")[0]
    assert tabs.tag == "nav" and tabs.get("aria-label") == "Worklist views"
    links = {page.text_of(a): a for a in tabs.xpath(".//a")}
    assert list(links) == [
        "My tasks (1)",
        "Team's unclaimed tasks (4)",
        "Due soon (3)",
        "Overdue (1)",
    ]
    assert [a.get("href") for a in links.values()] == [
        "/worklist",
        "/worklist/unclaimed",
        "/worklist/due-soon",
        "/worklist/overdue",
    ]
    assert [t for t, a in links.items() if a.get("aria-current") == "page"] == ["Overdue (1)"]


def test_each_tab_counts_its_tasks_and_its_task_filter_offers_only_them(sw) -> None:  # noqa: ANN001
    page = sw.get("/worklist")
    counts = {
        a.get("href"): int(page.text_of(a).rsplit("(", 1)[1].rstrip(")"))
        for a in page.testid("worklist-tabs")[0].xpath(".//a")
    }
    for href, count in counts.items():
        shown = sw.get(href)
        assert len(shown.rows()) == count, href
        offered = shown.xpath('//select[@id="filter-task"]/option/@value')[1:]
        assert sorted(offered) == sorted({r["task"].rsplit(" Social worker", 1)[0]
                                          for r in shown.rows()}), href  # fmt: skip


def test_managers_also_have_the_team_overview_tab(tm) -> None:  # noqa: ANN001
    page = tm.get("/worklist")
    tabs = [page.text_of(a) for a in page.testid("worklist-tabs")[0].xpath(".//a")]
    assert tabs[-1] == "Team overview"


def test_unclaimed_lists_only_my_teams_unclaimed_tasks_soonest_first(sw) -> None:  # noqa: ANN001
    page = sw.get("/worklist/unclaimed")
    assert page.children() == ["Ben Carter", "Dylan Evans", "Evie Foster", SCRIPT_CHILD]
    assert all(r["claimed_by"] == "Not claimed" for r in page.rows())
    assert all(r["actions"] == ["Claim"] for r in page.rows())
    assert "Grace Miller" not in page.html and "Harry Dudley" not in page.html


def test_due_soon_covers_today_and_the_next_two_working_days(sw) -> None:  # noqa: ANN001
    rows = sw.get("/worklist/due-soon").rows()
    assert [(r["child"], r["due"], r["claimed_by"]) for r in rows] == [
        ("Ben Carter", "Mon 23 Nov 2026, today", "Not claimed"),
        ("Chloe Davies", "Tue 24 Nov 2026, tomorrow", "Priya Shah"),
        ("Dylan Evans", "Wed 25 Nov 2026, in 2 working days", "Not claimed"),
    ]
    # Someone else's task: no Claim button for a social worker.
    assert rows[1]["actions"] == []


def test_overdue_says_so_in_words_and_in_a_red_tag(sw) -> None:  # noqa: ANN001
    page = sw.get("/worklist/overdue")
    (row,) = page.rows()
    assert row["child"] == "Amelia Hughes"
    assert row["due"] == "Mon 16 Nov 2026, overdue by 5 working days"
    tag = page.xpath('//tr[@data-testid="task-row"]//strong[contains(@class,"govuk-tag")]')[0]
    assert "govuk-tag--red" in tag.get("class")
    assert page.text_of(tag) == "Mon 16 Nov 2026, overdue by 5 working days"
    # the day is machine-readable as well
    assert tag.xpath(".//time/@datetime") == ["2026-11-16"]


def test_due_soon_days_come_from_cinflow_due_soon_days(engine, monkeypatch) -> None:  # noqa: ANN001
    from web_client import ClientRequest

    monkeypatch.setenv("CINFLOW_DUE_SOON_DAYS", "15")
    app = create_app({"TESTING": True, "SECRET_KEY": "t"}, engine=engine)
    page = ClientRequest(app).sign_in("sw.north").get("/worklist/due-soon")
    assert page.children() == ["Ben Carter", "Chloe Davies", "Dylan Evans", "Evie Foster"]
    assert "within 15 working days" in page.text


def test_empty_tabs_say_what_to_do(new_client_request) -> None:  # noqa: ANN001
    sw2 = new_client_request().sign_in("sw.south")
    page = sw2.get("/worklist")
    assert page.testid("worklist-empty")
    assert "You have not claimed any tasks." in page.text
    assert page.xpath('//*[@data-testid="worklist-empty"]//a/@href') == ["/worklist/unclaimed"]
    assert "No tasks are overdue." in sw2.get("/worklist/overdue").text


def test_team_overview_counts_per_worker(tm) -> None:  # noqa: ANN001
    page = tm.get("/worklist/team")
    assert page.title == "Team overview – Worklist – cinflow – Portsmouth City Council"
    (table,) = page.testid("team-table")
    counts = {
        page.text_of(tr.xpath("./th")[0]): [page.text_of(td) for td in tr.xpath("./td")]
        for tr in table.xpath(".//tbody/tr")
    }
    assert counts == {
        "Bea Sharp Business support": ["0", "0", "0"],
        "Ian Rowe Conference chair / IRO": ["0", "0", "0"],
        "Pat Morgan Practice manager": ["0", "0", "0"],
        "Priya Shah Social worker": ["1", "1", "0"],
        "Sara Price Senior practitioner": ["0", "0", "0"],
        "Sam North Social worker": ["1", "0", "1 overdue"],
        "Tariq Malik Team manager": ["0", "0", "0"],
        "Not claimed": ["4", "2", "0"],
    }
    summary = page.text_of(page.testid("team-summary")[0])
    assert summary == "6 open tasks: 4 not claimed, 3 due soon, 1 overdue."


def test_team_overview_shows_each_of_a_practice_managers_teams(new_client_request) -> None:  # noqa: ANN001
    page = new_client_request().sign_in("pm.north").get("/worklist/team")
    headings = [page.text_of(h) for h in page.xpath("//main//h3")]
    assert headings == ["Dudley CIN team", "Portsmouth North CIN team"]


# -- filters and paging -------------------------------------------------------------------------


def test_filter_by_child_name_contains_any_case(sw) -> None:  # noqa: ANN001
    page = sw.get("/worklist/unclaimed", child="  eVaN ")
    assert page.children() == ["Dylan Evans"]
    assert page.xpath('//input[@name="child"]/@value') == ["eVaN"]
    assert page.xpath('//a[text()="Clear filters"]/@href') == ["/worklist/unclaimed"]
    empty = sw.get("/worklist/unclaimed", child="Nobody")
    assert "No tasks match these filters." in empty.text


def test_filter_by_task_type(sw) -> None:  # noqa: ANN001
    page = sw.get("/worklist/unclaimed")
    options = page.xpath('//select[@name="task"]/option/text()')
    assert [o.strip() for o in options] == [
        "All tasks",
        "Complete the assessment",
        "Record consent",
    ]
    assert sw.get("/worklist/unclaimed", task="Record consent").children() == [SCRIPT_CHILD]
    # The element id works too (links from elsewhere can use it).
    assert sw.get("/worklist/unclaimed", task="record_consent").children() == [SCRIPT_CHILD]


def test_council_and_team_filters_for_someone_in_two_teams(new_client_request) -> None:  # noqa: ANN001
    pm = new_client_request().sign_in("pm.north")
    page = pm.get("/worklist/unclaimed")
    assert "Harry Dudley" in page.children() and "Ben Carter" in page.children()
    councils = page.xpath('//select[@name="council"]/option/@value')
    assert councils == ["", "dudley", "portsmouth"]
    teams = [t.strip() for t in page.xpath('//select[@name="team"]/option/text()')]
    assert teams == ["All my teams", "Dudley CIN team", "Portsmouth North CIN team"]
    assert pm.get("/worklist/unclaimed", council="dudley").children() == ["Harry Dudley"]
    assert pm.get("/worklist/unclaimed", team="dudley-cin").children() == ["Harry Dudley"]
    # Someone else's team or an unknown council is ignored, never shown.
    assert "Grace Miller" not in pm.get("/worklist/unclaimed", team="south").html
    assert len(pm.get("/worklist/unclaimed", council="atlantis").rows()) == 5


def test_one_team_one_council_shows_no_pointless_filters(sw) -> None:  # noqa: ANN001
    page = sw.get("/worklist/unclaimed")
    assert not page.xpath('//select[@name="council"]')
    assert not page.xpath('//select[@name="team"]')


def test_pages_of_25_with_gov_uk_pagination(engine, sw) -> None:  # noqa: ANN001
    for i in range(PAGE_SIZE + 5):
        add_case(engine, CaseSpec(f"Paged Child {i:02d}", "north", "portsmouth", None))
    first = sw.get("/worklist/unclaimed", child="Paged")
    assert len(first.rows()) == PAGE_SIZE
    assert first.text_of(first.testid("result-count")[0]) == "Showing 1 to 25 of 30 tasks"
    nav = first.xpath('//nav[contains(@class,"govuk-pagination")]')[0]
    assert nav.get("aria-label") == "Pagination"
    assert nav.xpath('.//a[@aria-current="page"]/text()')[0].strip() == "1"
    next_href = nav.xpath('.//a[@rel="next"]/@href')[0]
    assert next_href == "/worklist/unclaimed?child=Paged&page=2"
    second = sw.get(next_href)
    assert len(second.rows()) == 5
    assert second.text_of(second.testid("result-count")[0]) == "Showing 26 to 30 of 30 tasks"
    assert not set(first.children()) & set(second.children())
    # Oldest first within the same (no) deadline; pages outside the range show the nearest.
    assert sw.get("/worklist/unclaimed", child="Paged", page=99).children() == second.children()
    assert sw.get("/worklist/unclaimed", child="Paged", page="x").children() == first.children()


# -- claim, unclaim, reassign ---------------------------------------------------------------------


def test_claim_moves_the_task_to_my_tasks(sw, engine, world) -> None:  # noqa: ANN001
    ben = world.task("Ben Carter")
    done = sw.post(
        f"/worklist/tasks/{ben.id}/claim",
        {"next": "/worklist/unclaimed?child=Ben"},
        _expected_redirect="/worklist/unclaimed?child=Ben",
    )
    page = sw.follow(done)
    assert page.banners() == [
        "Success You have claimed Complete the assessment for Ben Carter Go to the task"
    ]
    assert page.xpath('//*[@data-testid="notification-banner"]//a/@href') == [f"/tasks/{ben.id}"]
    assert page.children() == []  # no longer unclaimed
    assert sw.get("/worklist").children() == ["Amelia Hughes", "Ben Carter"]
    assert engine.task(ben.id).claimed_by == "sw.north"
    (event,) = [e for e in engine.audit_trail(action="task_claimed") if e.task_id == ben.id]
    assert event.actor == "sw.north"


def test_unclaim_gives_the_task_back_to_the_team(sw, engine, world) -> None:  # noqa: ANN001
    amelia = world.task("Amelia Hughes")
    page = sw.follow(sw.post(f"/worklist/tasks/{amelia.id}/unclaim", {"next": "/worklist"}))
    assert page.banners() == [
        "Success You have unclaimed Complete the assessment for Amelia Hughes "
        "It is back with your team's unclaimed tasks."
    ]
    assert engine.task(amelia.id).claimed_by is None
    assert "Amelia Hughes" in sw.get("/worklist/unclaimed").children()


def test_a_worker_cannot_unclaim_someone_elses_task(sw, engine, world) -> None:  # noqa: ANN001
    chloe = world.task("Chloe Davies")
    page = sw.follow(sw.post(f"/worklist/tasks/{chloe.id}/unclaim"))
    assert page.banners() == ["Important This task is claimed by Priya Shah, not you"]
    assert engine.task(chloe.id).claimed_by == "sw2.north"


def test_a_manager_reassigns_to_someone_in_the_team(tm, engine, world) -> None:  # noqa: ANN001
    chloe = world.task("Chloe Davies")
    row = next(r for r in tm.get("/worklist/due-soon").rows() if r["child"] == "Chloe Davies")
    assert row["actions"] == ["Reassign"]
    # Only people of the task's team whose role may act in its lane (Social worker) are offered.
    assert row["reassign_to"] == ["", "pm.north", "sp.north", "sw.north", "sw2.north", "tm.north"]
    page = tm.follow(
        tm.post(f"/worklist/tasks/{chloe.id}/reassign", {"to": "sw.north", "next": "/worklist"})
    )
    assert page.banners() == [
        "Success Complete the assessment for Chloe Davies is now with Sam North"
    ]
    assert engine.task(chloe.id).claimed_by == "sw.north"
    (event,) = [e for e in engine.audit_trail(action="task_assigned") if e.task_id == chloe.id]
    assert (event.actor, event.detail) == (
        "tm.north",
        {"to": "sw.north", "previously": "sw2.north"},
    )


@pytest.mark.parametrize("to", ["", "sw.south", "trainer.north", "admin", "nobody"])
def test_reassign_only_to_a_caseworker_of_the_team(tm, engine, world, to) -> None:  # noqa: ANN001
    chloe = world.task("Chloe Davies")
    page = tm.follow(tm.post(f"/worklist/tasks/{chloe.id}/reassign", {"to": to}))
    assert page.banners()[0].startswith("Important Choose who to give the task to")
    assert engine.task(chloe.id).claimed_by == "sw2.north"


def test_social_workers_cannot_reassign(sw, engine, world) -> None:  # noqa: ANN001
    chloe = world.task("Chloe Davies")
    sw.post(f"/worklist/tasks/{chloe.id}/reassign", {"to": "sw.north"}, _expected_status=403)
    assert engine.task(chloe.id).claimed_by == "sw2.north"
    assert not sw.get("/worklist/due-soon").xpath("//select[@name='to']")


def test_two_people_claim_at_once_one_wins_the_other_is_told_who(
    sw, new_client_request, engine, world
) -> None:  # noqa: ANN001
    ben = world.task("Ben Carter")
    priya = new_client_request().sign_in("sw2.north")
    # Both have the page open with Ben's task unclaimed.
    assert "Claim" in sw.get("/worklist/unclaimed").rows()[0]["actions"]
    assert "Claim" in priya.get("/worklist/unclaimed").rows()[0]["actions"]
    won = sw.follow(sw.post(f"/worklist/tasks/{ben.id}/claim"))
    lost = priya.follow(priya.post(f"/worklist/tasks/{ben.id}/claim"))
    assert won.banners()[0].startswith("Success You have claimed")
    assert lost.banners() == [
        "Important Already claimed by Sam North Complete the assessment for Ben Carter is with "
        "Sam North. Ask them or your team manager if you need to work on it."
    ]
    assert engine.task(ben.id).claimed_by == "sw.north"
    assert len([e for e in engine.audit_trail(action="task_claimed") if e.task_id == ben.id]) == 1


def test_claiming_a_completed_task_says_so(sw, engine, world) -> None:  # noqa: ANN001
    import json

    from factories import ROOT

    answers = json.loads((ROOT / "forms/examples/assessment_outcome.valid.json").read_text())
    ben, grace = world.task("Ben Carter"), world.task("Grace Miller")
    engine.complete_task(ben.id, answers, "sw2.north")
    page = sw.follow(sw.post(f"/worklist/tasks/{ben.id}/claim"))
    assert page.banners() == ["Important This task has already been completed"]
    # Another team's completed task is just not found: nothing about it is told.
    engine.complete_task(grace.id, answers, "sw.south")
    page = sw.post(f"/worklist/tasks/{grace.id}/claim", _expected_status=404)
    assert "completed" not in page.text


def test_another_teams_task_is_not_listed_and_cannot_be_claimed(sw, engine, world) -> None:  # noqa: ANN001
    grace = world.task("Grace Miller")
    for tab in ("/worklist", "/worklist/unclaimed", "/worklist/due-soon", "/worklist/overdue"):
        page = sw.get(tab, child="Grace")
        assert page.rows() == [] and "Grace Miller" not in page.html
    for action in ("claim", "unclaim"):
        page = sw.post(
            f"/worklist/tasks/{grace.id}/{action}",
            _expected_status=404,
        )
        assert page.h1 == "Page not found"
    assert engine.task(grace.id).claimed_by is None


@pytest.mark.parametrize("task_id", ["no-such-task", "../../etc", "%3Cscript%3E"])
def test_unknown_tasks_are_404(sw, task_id) -> None:  # noqa: ANN001
    sw.post(f"/worklist/tasks/{task_id}/claim", _expected_status=404)


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example", "/sign-out", "/tasks/x", ""]
)
def test_after_an_action_we_only_go_back_to_the_worklist(sw, world, target) -> None:  # noqa: ANN001
    ben = world.task("Ben Carter")
    sw.post(f"/worklist/tasks/{ben.id}/claim", {"next": target}, _expected_redirect="/worklist")


def test_child_names_with_html_are_shown_as_text(sw) -> None:  # noqa: ANN001
    page = sw.get("/worklist/unclaimed")
    assert "<script>alert(" not in page.html
    assert "&lt;script&gt;alert(" in page.html
    assert page.rows()[-1]["child"] == SCRIPT_CHILD
    assert not page.xpath("//main//script")


def test_buttons_say_which_task_they_act_on(sw) -> None:  # noqa: ANN001
    page = sw.get("/worklist/unclaimed")
    button = page.xpath('//tr[@data-testid="task-row"]//button')[0]
    assert page.text_of(button) == "Claim Complete the assessment for Ben Carter"
    assert "govuk-visually-hidden" in button.xpath("./span/@class")[0]


def test_an_overdue_task_stays_overdue_after_the_timer_sweep(sw, engine) -> None:  # noqa: ANN001
    assert engine.fire_due_timers()  # Amelia's deadline timer fires: a manager is told
    rows = sw.get("/worklist/overdue").rows()
    amelia = [(r["task"], r["due"]) for r in rows if r["child"] == "Amelia Hughes"]
    # The manager's escalation step comes first, with its own deadline (1 working day after
    # the missed one), missed too.
    assert amelia == [
        (
            "Escalation Review the overdue assessment Team manager",
            "Tue 17 Nov 2026, overdue by 4 working days",
        ),
        ("Complete the assessment Social worker", "Mon 16 Nov 2026, overdue by 5 working days"),
    ]


def test_the_child_links_to_the_case_page(sw, world) -> None:  # noqa: ANN001
    page = sw.get("/worklist")
    links = page.xpath('//tr[@data-testid="task-row"]/th//a/@href')
    assert links == [f"/cases/{world.task('Amelia Hughes').case_id}"]
