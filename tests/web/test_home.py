from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime

import pytest
from web_fakes import CASES, FAKE_PASSWORD, PROCESSES, fake_engine

from webui import create_app
from webui.engine_access import EngineNotConfigured, get_engine
from webui.filters import uk_date, uk_datetime, uk_short_date

# Home (/home) shows the fake engine's processes and cases to a signed-in practice manager.
# These fixtures replace conftest's real-engine ones for this module only.


def signed_in(app, username: str = "pm.fake"):
    client = app.test_client()
    page = client.get("/sign-in").get_data(as_text=True)
    signed = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post(
        "/sign-in", data={"username": username, "password": FAKE_PASSWORD, "csrf_token": signed}
    )
    assert response.status_code == 302
    return client


@pytest.fixture
def engine():
    return fake_engine()


@pytest.fixture
def app(engine):
    return create_app({"TESTING": True, "SECRET_KEY": "test"}, engine=engine)


@pytest.fixture
def client(app):
    return signed_in(app)


def text_of(page: str) -> str:
    """The page's visible-ish text with whitespace collapsed, for readable assertions."""
    no_tags = re.sub(r"<[^>]+>", " ", page)
    return re.sub(r"\s+", " ", html.unescape(no_tags))


def test_home_lists_processes_and_cases(client):
    response = client.get("/home")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    text = text_of(page)

    assert '<h1 class="govuk-heading-xl">Child in Need procedures</h1>' in page
    assert "Deployed processes" in text
    assert "Open cases in your teams" in text
    for process in PROCESSES:
        assert process.process_id in text
        assert process.name in text
        assert process.deployed_by in text
    assert "Amelia Hughes" in text
    assert "Visit the child" in text
    assert "Record the assessment" in text
    # The case's process is shown by its name, not only its id.
    assert "Child in Need assessment 3" in text


def test_home_dates_are_uk_style_in_london_time(client):
    text = text_of(client.get("/home").get_data(as_text=True))
    assert "23 November 2026" in text
    # 23:30 UTC on 30 June 2026 is 00:30 on 1 July in London (BST).
    assert "1 July 2026" in text
    assert "30 June 2026" not in text
    assert "2 November 2026" in text


def test_home_escapes_html_in_child_names(client):
    page = client.get("/home").get_data(as_text=True)
    assert "<script>alert(" not in page
    assert "&lt;script&gt;alert(" in page


def test_page_is_a_council_page_not_gov_uk(client):
    page = client.get("/home").get_data(as_text=True)
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


def test_empty_engine_shows_empty_states():
    app = create_app({"TESTING": True}, engine=fake_engine(processes=[], cases=[]))
    text = text_of(signed_in(app).get("/home").get_data(as_text=True))
    assert "No processes have been deployed yet." in text
    assert "There are no open cases in your teams." in text


def test_unknown_url_is_gov_uk_page_not_found(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert '<h1 class="govuk-heading-l">Page not found</h1>' in page
    assert "If you typed the web address, check it is correct." in page
    assert "<title>Page not found – cinflow" in page


def test_forbidden_page(app):
    from flask import abort

    from webui.access import allow_signed_in

    @app.get("/forbidden-for-test")
    @allow_signed_in
    def forbidden_for_test():
        abort(403)

    response = signed_in(app).get("/forbidden-for-test")
    assert response.status_code == 403
    assert "You do not have permission to view this page" in response.get_data(as_text=True)


def test_server_error_page(engine):
    def broken():
        raise RuntimeError("engine exploded")

    engine.list_cases = broken
    app = create_app(
        {"TESTING": False, "PROPAGATE_EXCEPTIONS": False, "SESSION_COOKIE_SECURE": False},
        engine=engine,
    )
    response = signed_in(app).get("/home")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Sorry, there is a problem with the service" in page
    assert "engine exploded" not in page


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


def test_cases_fixture_has_html_name():
    # Guard: the escaping test relies on a child name carrying markup.
    assert any("<script>" in case.child_name for case in CASES)
