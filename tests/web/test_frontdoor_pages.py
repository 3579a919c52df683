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
    assert labels == ["Child's date of birth", "Date of the referral"]

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
