from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from factories import SCRIPT_CHILD, USERS, add_people
from web_client import ClientRequest

from engine.clock import FixedClock
from engine.services import Engine
from webui import create_app
from webui.engine_access import EngineNotConfigured, get_engine
from webui.filters import uk_date, uk_datetime, uk_short_date

# Home (/home) on the real engine holding the factories' world (tests/web/conftest.py), seen by
# a practice manager of the north and Dudley teams.


@pytest.fixture
def pm(client_request: ClientRequest) -> ClientRequest:
    return client_request.sign_in("pm.north")


def test_home_lists_processes_and_cases(engine: Engine, pm: ClientRequest) -> None:
    page = pm.get("/home")
    assert page.response.mimetype == "text/html"
    assert page.h1 == "Child in Need procedures"
    assert "Deployed processes" in page.text and "Open cases in your teams" in page.text
    processes = engine.list_processes()
    assert processes
    for process in processes:
        assert process.process_id in page.text and process.name in page.text
        assert uk_date(process.deployed_at) in page.text
    mine = engine.list_cases(teams=["north", "dudley-cin"])
    others = engine.list_cases(teams=["south"])
    assert mine and others
    for case in mine:
        assert case.child.name in page.text
        assert all(step in page.text for step in case.current_steps)
    for case in others:
        assert case.child.name not in page.text  # another team's child


def test_home_escapes_html_in_child_names(engine: Engine, pm: ClientRequest) -> None:
    assert any(c.child.name == SCRIPT_CHILD for c in engine.list_cases(teams=["north"]))
    page = pm.get("/home")
    assert "<script>alert(" not in page.html
    assert "&lt;script&gt;alert(" in page.html


def test_page_is_a_council_page_not_gov_uk(pm: ClientRequest) -> None:
    page = pm.get("/home").html
    assert '<html lang="en-GB"' in page
    assert "govuk-generic-header" in page
    assert "Example Borough Council" in page
    assert "govuk-service-navigation" in page and "cinflow" in page
    assert 'href="#main-content"' in page  # skip link
    assert 'id="main-content"' in page
    assert "Prototype" in page and "Synthetic data only" in page
    # No crown, no GOV.UK logo, no Crown copyright, no OGL, no GOV.UK favicons.
    for forbidden in (
        "govuk-logo",
        "govuk-footer__crown",
        "Crown copyright",
        "Open Government Licence",
        "govuk-icon",
        "favicon.ico",
    ):
        assert forbidden not in page, forbidden
    assert "/static/build/app.css" in page
    assert "<title>Home – cinflow – Example Borough Council</title>" in page


def test_empty_engine_shows_empty_states(tmp_path: Path, fixed_clock: FixedClock) -> None:  # noqa: ARG001
    empty = Engine(f"sqlite:///{tmp_path}/empty.db")
    empty.init_db()
    add_people(empty, [u for u in USERS if u[0] == "pm.north"])
    try:
        app = create_app({"TESTING": True, "SECRET_KEY": "t"}, engine=empty)
        text = ClientRequest(app).sign_in("pm.north").get("/home").text
        assert "No processes have been deployed yet." in text
        assert "There are no open cases in your teams." in text
    finally:
        empty.dispose()


def test_unknown_url_is_gov_uk_page_not_found(pm: ClientRequest) -> None:
    page = pm.get("/no/such/page", _expected_status=404).html
    assert '<h1 class="govuk-heading-l">Page not found</h1>' in page
    assert "If you typed the web address, check it is correct." in page
    assert "<title>Page not found – cinflow" in page


def test_forbidden_page(app) -> None:  # noqa: ANN001
    from flask import abort

    from webui.access import allow_signed_in

    @app.get("/forbidden-for-test")
    @allow_signed_in
    def forbidden_for_test():  # noqa: ANN202
        abort(403)

    page = ClientRequest(app).sign_in("pm.north").get("/forbidden-for-test", _expected_status=403)
    assert "You do not have permission to view this page" in page.html


def test_server_error_page(engine: Engine) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("engine exploded")

    engine.list_cases = broken  # type: ignore[method-assign]
    app = create_app(
        {"TESTING": False, "PROPAGATE_EXCEPTIONS": False, "SESSION_COOKIE_SECURE": False},
        engine=engine,
    )
    response = ClientRequest(app).sign_in("pm.north").get("/home", _expected_status=500)
    assert "Sorry, there is a problem with the service" in response.html
    assert "engine exploded" not in response.html


def test_engine_is_stored_on_the_app(app, engine):
    assert app.extensions["cinflow"] is engine
    with app.app_context():
        assert get_engine() is engine


def test_get_engine_without_engine_raises():
    app = create_app({"TESTING": True})
    with app.app_context(), pytest.raises(EngineNotConfigured):
        get_engine()


def test_config_from_environment(monkeypatch):
    monkeypatch.setenv("CINFLOW_DATABASE_URL", "postgresql://localhost/cinflow_test")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("CINFLOW_SECRET_KEY", raising=False)
    first = create_app()
    second = create_app()
    assert first.config["DATABASE_URL"] == "postgresql://localhost/cinflow_test"
    assert first.config["SECRET_KEY"] and second.config["SECRET_KEY"]
    assert first.config["SECRET_KEY"] != second.config["SECRET_KEY"]

    monkeypatch.setenv("SECRET_KEY", "from-env")
    assert create_app().config["SECRET_KEY"] == "from-env"
    assert create_app({"SECRET_KEY": "explicit"}).config["SECRET_KEY"] == "explicit"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2026, 11, 23, 15, 5, tzinfo=UTC), "23 November 2026"),
        (datetime(2026, 6, 30, 23, 30, tzinfo=UTC), "1 July 2026"),  # BST
        (datetime(2026, 1, 5, 8, 0), "5 January 2026"),  # naive = UTC
        (date(2026, 3, 9), "9 March 2026"),
        (None, ""),
    ],
)
def test_uk_date(value, expected):
    assert uk_date(value) == expected


def test_uk_short_date():
    assert uk_short_date(datetime(2026, 11, 23, 15, 5, tzinfo=UTC)) == "23/11/2026"
    assert uk_short_date(date(2026, 3, 9)) == "09/03/2026"
    assert uk_short_date(datetime(2026, 6, 30, 23, 30, tzinfo=UTC)) == "01/07/2026"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2026, 11, 23, 15, 5, tzinfo=UTC), "23 November 2026 at 3:05pm"),
        (datetime(2026, 7, 1, 8, 5, tzinfo=UTC), "1 July 2026 at 9:05am"),  # BST
        (datetime(2026, 11, 23, 9, 0, tzinfo=UTC), "23 November 2026 at 9am"),
        (datetime(2026, 11, 23, 12, 0, tzinfo=UTC), "23 November 2026 at midday"),
        (datetime(2026, 11, 23, 0, 0, tzinfo=UTC), "23 November 2026 at midnight"),
        (datetime(2026, 11, 23, 0, 30, tzinfo=UTC), "23 November 2026 at 12:30am"),
        (datetime(2026, 11, 23, 12, 45, tzinfo=UTC), "23 November 2026 at 12:45pm"),
    ],
)
def test_uk_datetime(value, expected):
    assert uk_datetime(value) == expected


def test_filters_are_registered(app):
    env = app.jinja_env
    moment = datetime(2026, 11, 23, 15, 5, tzinfo=UTC)
    rendered = env.from_string(
        "{{ t | uk_date }}|{{ t | uk_short_date }}|{{ t | uk_datetime }}"
    ).render(t=moment)
    assert rendered == "23 November 2026|23/11/2026|23 November 2026 at 3:05pm"
