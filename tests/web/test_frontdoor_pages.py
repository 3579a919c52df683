"""The front door over HTTP: choose a route, give the child's details and the clock dates."""

from __future__ import annotations

START = "/cases/new/sample_referral"


def _fields(**overrides: str) -> dict[str, str]:
    fields = {
        "first_name": "Nia",
        "last_name": "Okoro",
        "date_of_birth-day": "14",
        "date_of_birth-month": "2",
        "date_of_birth-year": "2018",
        "referral_date-day": "20",
        "referral_date-month": "11",
        "referral_date-year": "2026",
    }
    return {**fields, **overrides}


def test_a_manager_starts_a_referral_with_its_clock_date(client_request, engine):  # noqa: ANN001
    manager = client_request.sign_in("tm.north")
    choose = manager.get("/cases/new")
    assert choose.h1 == "How does the child's case come to Portsmouth North CIN team?"
    radios = choose.xpath('//input[@name="route"]/@value')
    assert radios == ["sample_referral"]  # sample_consent is called by it: not a way in
    assert "Starts when: Referral received" in choose.text
    manager.get("/cases/new", route="sample_referral", _expected_status=302)

    page = manager.get(START)
    labels = [manager_label.text_content().strip() for manager_label in page.xpath("//legend")]
    assert labels == ["Child's date of birth", "Date of the referral", "Allocated social worker"]

    started = manager.post(START, _fields())
    case_id = int(started.response.location.rsplit("/", 1)[1])
    shown = manager.follow(started)
    assert shown.h1 == "Nia Okoro"
    assert shown.banners()[0].startswith("Success Case started")
    case = engine.get_case(case_id, with_data=True)
    assert case.team == "north" and case.data["referral_date"] == "2026-11-20"
    (task,) = case.tasks
    assert task.name == "Record consent" and task.claimed_by is None
    assert engine.audit_trail(case_id, action="case_started")[0].actor == "tm.north"


def test_dates_are_checked_and_named(client_request, engine):  # noqa: ANN001
    before = len(engine.list_cases())
    user = client_request.sign_in("sw.north")
    page = user.post(
        START,
        _fields(**{"first_name": "", "date_of_birth-day": "31", "referral_date-year": "2027"}),
        _expected_status=400,
    )
    summary = page.error_summary()
    assert "Enter child's first name" in summary
    assert "Child's date of birth must be a real date" in summary
    assert "Date of the referral must be today or in the past" in summary
    assert page.title.startswith("Error: Child's details")
    # What was typed is kept.
    assert page.xpath('//input[@name="referral_date-year"]/@value') == ["2027"]
    assert len(engine.list_cases()) == before


def test_unknown_route_is_404_and_choice_is_required(client_request):  # noqa: ANN001
    user = client_request.sign_in("sw.north")
    user.get("/cases/new/portsmouth_step_down_cp", _expected_status=404)
    user.get("/cases/new/sample_consent", _expected_status=404)
    page = user.get("/cases/new", route="")
    assert "Select how the child's case comes to the team" in page.error_summary()


def test_a_manager_allocates_the_worker_at_the_front_door(client_request, engine):  # noqa: ANN001
    manager = client_request.sign_in("tm.north")
    page = manager.get(START)
    offered = page.xpath('//input[@name="allocated_to"]/@value')
    assert "sw.north" in offered and offered[-1] == "pool"

    before = len(engine.list_cases())
    stranger = manager.post(START, _fields(allocated_to="sw.south"), _expected_status=400)
    # another team's worker: the engine refuses the allocation and the start with it
    assert "not a social worker in this case's team" in stranger.error_summary()
    assert len(engine.list_cases()) == before  # nothing started

    started = manager.post(START, _fields(allocated_to="sw.north"))
    case_id = int(started.response.location.rsplit("/", 1)[1])
    (task,) = engine.get_case(case_id).tasks
    assert task.name == "Record consent" and task.claimed_by == "sw.north"
    (allocated,) = engine.audit_trail(case_id, action="case_allocated")
    assert allocated.actor == "tm.north" and allocated.detail["to"] == "sw.north"
    told = engine.notifications("sw.north", ["north"], "social_worker")
    assert any(n.case_id == case_id for n in told)

    pooled = manager.post(START, _fields(first_name="Ola", allocated_to="pool"))
    pooled_id = int(pooled.response.location.rsplit("/", 1)[1])
    assert engine.get_case(pooled_id).tasks[0].claimed_by is None


def test_only_a_manager_is_asked_and_a_worker_cannot_allocate(client_request, engine):  # noqa: ANN001
    worker = client_request.sign_in("sw.north")
    assert worker.get(START).xpath('//input[@name="allocated_to"]') == []
    started = worker.post(START, _fields(allocated_to="sw.north"))  # not asked: ignored
    case_id = int(started.response.location.rsplit("/", 1)[1])
    assert engine.get_case(case_id).tasks[0].claimed_by is None
    assert engine.audit_trail(case_id, action="case_allocated") == []
