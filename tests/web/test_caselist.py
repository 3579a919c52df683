"""My cases, the team's cases, finding a child and allocating a case, over HTTP."""

from __future__ import annotations


def _cases(page) -> list[str]:  # noqa: ANN001
    return [page.text_of(tr.xpath("./th")[0]) for tr in page.testid("case-row")]


def test_manager_allocates_and_the_worker_finds_it_in_my_cases(
    client_request, new_client_request, world
):  # noqa: ANN001
    ben = world.task("Ben Carter")
    manager = client_request.sign_in("tm.north")
    case_page = manager.get(f"/cases/{ben.case_id}")
    options = case_page.xpath('//select[@id="allocate-to"]/option/@value')
    assert options == ["", "sw2.north", "sw.north"]  # A to Z by name: Priya Shah, Sam North
    assert "Allocated to Not allocated" in case_page.text_of(case_page.testid("case-summary")[0])

    done = manager.post(f"/cases/{ben.case_id}/allocate", {"to": "sw2.north"})
    shown = manager.follow(done)
    assert shown.banners() == ["Success Case allocated to Priya Shah 1 open step moved to them."]
    assert "Allocated to Priya Shah" in shown.text_of(shown.testid("case-summary")[0])
    assert "Reallocate case" in shown.text

    worker = new_client_request().sign_in("sw2.north")
    mine = worker.get("/cases")
    assert _cases(mine)[0].startswith("Ben Carter")
    row = worker.get("/cases").testid("case-row")[0]
    text = mine.text_of(row)
    assert "Complete the assessment" in text and "Priya Shah" in text
    assert "Mon 23 Nov 2026, today" in text and "You" in text
    inbox = worker.get("/inbox")
    assert "New step for you: “Complete the assessment” for Ben Carter." in inbox.text
    assert "Ben Carter's case is now allocated to you by Tariq Malik." in inbox.text
    assert "Inbox (2 new)" in inbox.text


def test_only_managers_allocate(client_request, world):  # noqa: ANN001
    ben = world.task("Ben Carter")
    worker = client_request.sign_in("sw.north")
    assert not worker.get(f"/cases/{ben.case_id}").testid("allocate-form")
    worker.post(f"/cases/{ben.case_id}/allocate", {"to": "sw.north"}, _expected_status=403)


def test_allocation_refused_for_someone_outside_the_team(client_request, world):  # noqa: ANN001
    ben = world.task("Ben Carter")
    manager = client_request.sign_in("tm.north")
    page = manager.follow(manager.post(f"/cases/{ben.case_id}/allocate", {"to": "sw.south"}))
    assert page.banners()[0].startswith("Important The case was not allocated")
    assert "Choose a social worker who is in the case's team." in page.banners()[0]
    grace = world.task("Grace Miller")  # another team's case looks like no case
    manager.post(f"/cases/{grace.case_id}/allocate", {"to": "sw.north"}, _expected_status=404)


def test_search_finds_a_misspelt_name_only_in_my_teams(client_request, world):  # noqa: ANN001
    user = client_request.sign_in("sw.north")
    page = user.get("/cases/search", q="Ben Cartr")
    assert _cases(page) == [f"Ben Carter Case {world.task('Ben Carter').case_id}"]
    assert user.get("/cases/search", q=str(world.task("Amelia Hughes").case_id)).testid("case-row")
    nothing = user.get("/cases/search", q="Grace Miller")  # team south's child
    assert not nothing.testid("case-row")
    assert "No child in your team's cases matches “Grace Miller”" in nothing.text
    short = user.get("/cases/search", q="B")
    assert short.title.startswith("Error: Find a child")
    assert "Enter at least 2 letters" in short.error_summary()


def test_team_cases_and_empty_my_cases(client_request):  # noqa: ANN001
    user = client_request.sign_in("sw.north")
    assert "No open cases are allocated to you" in user.get("/cases").text
    team = _cases(user.get("/cases/team"))
    assert any(c.startswith("Amelia Hughes") for c in team)
    assert not any(c.startswith("Grace Miller") for c in team)
