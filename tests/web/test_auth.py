"""Signing in and out: the page, generic refusals, lockout, CSRF, cookies and headers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from factories import PASSWORD
from web_client import ClientRequest, Page

from engine import passwords, people
from webui import create_app
from webui.auth import LOCKED, WRONG_DETAILS, safe_next


def test_sign_in_page_is_a_gov_uk_form(client_request) -> None:  # noqa: ANN001
    page = client_request.get("/sign-in")
    assert page.h1 == "Sign in to cinflow"
    assert page.title == "Sign in – cinflow – Example Borough Council"
    assert page.xpath('//form[@method="post"]//input[@name="csrf_token"]')
    username = page.xpath('//input[@id="username"]')[0]
    assert username.get("autocomplete") == "username"
    assert page.xpath('//label[@for="username"]')
    password = page.xpath('//input[@id="password"]')[0]
    assert password.get("type") == "password"
    assert password.get("autocomplete") == "current-password"
    assert page.xpath('//*[@data-module="govuk-password-input"]')
    # Signed out: no name, no sign-out button, no navigation to pages that need signing in.
    assert not page.testid("signed-in-as")
    assert not page.testid("sign-out")
    assert "Worklist" not in page.text.split("Prototype")[0]


def test_signing_in_goes_to_the_worklist_and_shows_who_you_are(client_request) -> None:  # noqa: ANN001
    client_request.sign_in("sw.north")
    home = client_request.get("/", _expected_status=302, _expected_redirect="/worklist")
    assert home
    page = client_request.get("/worklist")
    who = page.text_of(page.testid("signed-in-as")[0])
    assert who == "Signed in as Sam North Social worker"
    nav = page.xpath('//nav[contains(@class, "govuk-service-navigation__wrapper")]')[0]
    links = [page.text_of(a) for a in nav.xpath(".//a")]
    # Home (processes) is for practice managers and admins
    assert links == ["Worklist", "Cases", "Inbox", "Library"]
    current = nav.xpath(".//a[@aria-current]")
    assert [page.text_of(a) for a in current] == ["Worklist"]
    assert page.testid("sign-out")[0].xpath("ancestor::form/@method") == ["post"]


@pytest.mark.parametrize(
    ("username", "lands_on", "nav"),
    [
        ("tm.north", "/worklist", ["Worklist", "Cases", "Inbox", "Reports", "Library"]),
        (
            "pm.north",
            "/worklist",
            ["Worklist", "Cases", "Inbox", "Reports", "Procedures", "Home", "Library"],
        ),
        ("trainer.north", "/home", ["Inbox", "Home", "Library", "Training"]),
        ("admin", "/home", ["Inbox", "Home", "Users"]),
    ],
)
def test_each_role_lands_where_it_can_work(client_request, username, lands_on, nav) -> None:  # noqa: ANN001
    client_request.sign_in(username)
    client_request.get("/", _expected_status=302, _expected_redirect=lands_on)
    page = client_request.get(lands_on)
    wrapper = page.xpath('//nav[contains(@class, "govuk-service-navigation__wrapper")]')[0]
    assert [page.text_of(a) for a in wrapper.xpath(".//a")] == nav


def test_signed_out_people_are_asked_to_sign_in_and_come_back(client, client_request) -> None:  # noqa: ANN001
    assert client.get("/").location == "/sign-in"
    response = client.get("/worklist/overdue?child=Amelia")
    assert response.status_code == 302
    assert response.location == "/sign-in?next=/worklist/overdue?child%3DAmelia"
    page = client_request.get("/sign-in", next="/worklist/overdue?child=Amelia")
    assert page.xpath('//input[@name="next"]/@value') == ["/worklist/overdue?child=Amelia"]
    token = page.csrf_token()
    response = client_request.client.post(
        "/sign-in",
        data={
            "username": "sw.north",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "/worklist/overdue?child=Amelia",
        },
    )
    assert response.location == "/worklist/overdue?child=Amelia"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/worklist",
        "/\\evil.example",
        "javascript:alert(1)",
        "worklist",
        "",
    ],
)
def test_sign_in_never_sends_people_to_another_site(client_request, target) -> None:  # noqa: ANN001
    assert safe_next(target) is None
    token = client_request.get("/sign-in").csrf_token()
    response = client_request.client.post(
        "/sign-in",
        data={"username": "sw.north", "password": PASSWORD, "csrf_token": token, "next": target},
    )
    assert response.location == "/"


def test_sign_out_ends_the_session(client_request) -> None:  # noqa: ANN001
    client_request.sign_in("sw.north")
    client_request.get("/worklist")
    done = client_request.post("/sign-out", _expected_redirect="/sign-in")
    page = client_request.follow(done)
    assert page.banners() == ["Success You have signed out"]
    assert not page.testid("signed-in-as")
    client_request.get("/worklist", _expected_status=302)
    # Signing out is a POST with a CSRF token: a link or an image cannot sign someone out.
    client_request.sign_in("sw.north")
    client_request.get("/sign-out", _expected_status=405)
    client_request.post("/sign-out", _csrf=False, _expected_status=400)
    client_request.get("/worklist")


@pytest.mark.parametrize(
    ("username", "password"),
    [("sw.north", "not the password"), ("nobody.here", PASSWORD), ("nobody.here", "nope")],
)
def test_wrong_details_get_one_calm_message_that_reveals_nothing(
    client_request, username, password
) -> None:  # noqa: ANN001
    token = client_request.get("/sign-in").csrf_token()
    response = client_request.client.post(
        "/sign-in", data={"username": username, "password": password, "csrf_token": token}
    )
    page = Page(response)
    assert page.status == 200
    assert page.title == "Error: Sign in – cinflow – Example Borough Council"
    assert page.error_summary() == f"There is a problem {WRONG_DETAILS}"
    assert page.xpath('//div[contains(@class,"govuk-error-summary")]//a/@href') == ["#username"]
    assert page.xpath('//input[@id="username"]/@value') == [username]
    assert page.xpath('//input[@id="password"]/@value') in ([], [""])  # never sent back
    assert not page.testid("signed-in-as")


def test_empty_fields_say_what_to_enter(client_request) -> None:  # noqa: ANN001
    token = client_request.get("/sign-in").csrf_token()
    page = Page(client_request.client.post("/sign-in", data={"csrf_token": token}))
    assert page.error_summary() == "There is a problem Enter your username Enter your password"
    hrefs = page.xpath('//div[contains(@class,"govuk-error-summary")]//a/@href')
    assert hrefs == ["#username", "#password"]
    assert "Error: Enter your username" in page.text


def _try(client_request: ClientRequest, username: str, password: str, client: str = "") -> Page:
    """One sign-in attempt from the address `client` (the test client's own by default)."""
    token = client_request.get("/sign-in").csrf_token()
    environ = {"REMOTE_ADDR": client} if client else {}
    return Page(
        client_request.client.post(
            "/sign-in",
            data={"username": username, "password": password, "csrf_token": token},
            environ_base=environ,
        )
    )


def test_five_failures_throttle_that_client_for_that_account_only(
    client_request,
    new_client_request,  # noqa: ANN001
) -> None:
    attacker = "203.0.113.9"
    for _ in range(5):
        assert WRONG_DETAILS in _try(client_request, "admin", "wrong password", attacker).text
    # Throttled: even the right password is refused from there, saying why.
    page = _try(client_request, "admin", PASSWORD, attacker)
    assert page.status == 200 and LOCKED in page.text
    assert not page.testid("signed-in-as")
    # The attacker's five tries did not lock the account: admin signs in from their own desk,
    # and again after the attacker's next five.
    assert _try(new_client_request(), "admin", PASSWORD, "198.51.100.7").status == 302
    for _ in range(5):
        _try(client_request, "admin", "wrong password", attacker)
    assert _try(new_client_request(), "admin", PASSWORD, "198.51.100.7").status == 302
    # After 15 minutes the attacker's address may try again.
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=16)):
        assert _try(client_request, "admin", PASSWORD, attacker).status == 302


def test_one_client_is_throttled_across_usernames(client_request) -> None:  # noqa: ANN001
    for i in range(20):
        assert WRONG_DETAILS in _try(client_request, f"guess{i}", "wrong", "203.0.113.5").text
    assert LOCKED in _try(client_request, "sw.north", PASSWORD, "203.0.113.5").text
    assert _try(client_request, "sw.north", PASSWORD, "203.0.113.6").status == 302


def test_the_per_client_allowance_is_configurable(engine, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("CINFLOW_SIGNIN_FAILURES_PER_CLIENT", "2 per 15 minutes")
    client_request = ClientRequest(create_app({"TESTING": True, "SECRET_KEY": "t"}, engine=engine))
    for i in range(2):
        assert WRONG_DETAILS in _try(client_request, f"guess{i}", "wrong", "203.0.113.5").text
    assert LOCKED in _try(client_request, "sw.north", PASSWORD, "203.0.113.5").text


def test_unknown_and_known_usernames_answer_alike(client_request, engine, monkeypatch) -> None:  # noqa: ANN001
    checks: list[str] = []
    real = passwords.verify_password
    monkeypatch.setattr(passwords, "verify_password", lambda p, h: checks.append(h) or real(p, h))
    monkeypatch.setattr(people, "verify_password", passwords.verify_password)

    def answers(username: str, client: str) -> list[str]:
        before = len(checks)
        texts = [_try(client_request, username, "wrong password", client).error_summary()
                 for _ in range(6)]  # fmt: skip
        # Every refusal before the throttle costs exactly one password check, known or not.
        assert len(checks) - before == 5
        return texts

    assert answers("nobody.here", "192.0.2.1") == answers("sw.north", "192.0.2.2")
    failed = engine.audit_trail(action="sign_in_failed")
    assert [e.actor for e in failed] == ["unknown"] * 5 + ["sw.north"] * 5
    assert {e.detail["client"] for e in failed} == {"192.0.2.1", "192.0.2.2"}
    assert not any("wrong password" in str(e.detail) for e in failed if "password" in e.detail)


def test_failed_sign_ins_are_logged_without_the_name_or_password(client_request, caplog) -> None:  # noqa: ANN001
    with caplog.at_level("WARNING", logger="webui.auth"):
        _try(client_request, "sw.north", "Hunter2Hunter2", "192.0.2.44")
    (record,) = [r for r in caplog.records if r.name == "webui.auth"]
    line = record.getMessage()
    assert "sign-in failed" in line and "192.0.2.44" in line
    assert "sw.north" not in line and "Hunter2" not in line


def test_signing_in_starts_a_fresh_session(client_request) -> None:  # noqa: ANN001
    with client_request.client.session_transaction() as session:
        session["planted"] = "by someone else"
    client_request.sign_in("sw.north")
    with client_request.client.session_transaction() as session:
        assert "planted" not in session
        # The cookie holds a random session token, not who you are.
        assert len(session["_user_id"]) >= 40 and "north" not in session["_user_id"]


def test_sign_in_without_a_csrf_token_is_refused(client_request, engine) -> None:  # noqa: ANN001
    response = client_request.client.post(
        "/sign-in", data={"username": "sw.north", "password": PASSWORD}
    )
    page = Page(response)
    assert page.status == 400
    assert page.h1 == "Sorry, that did not work"
    assert not [e for e in engine.audit_trail(action="signed_in")]


def test_a_posted_form_without_a_csrf_token_changes_nothing(client_request, engine, world) -> None:  # noqa: ANN001
    ben = world.task("Ben Carter")
    client_request.sign_in("sw.north")
    for token in (None, "not-a-token", ""):
        data = {} if token is None else {"csrf_token": token}
        page = client_request.post(
            f"/worklist/tasks/{ben.id}/claim", data, _csrf=False, _expected_status=400
        )
        assert "nothing was changed" in page.text
    assert engine.task(ben.id).claimed_by is None
    assert not [e for e in engine.audit_trail(action="task_claimed") if e.task_id == ben.id]


def test_a_token_from_another_session_is_refused(app, client_request, engine, world) -> None:  # noqa: ANN001
    ben = world.task("Ben Carter")
    other = ClientRequest(app).sign_in("sw2.north")
    stolen = other.csrf_token()
    client_request.sign_in("sw.north")
    client_request.post(
        f"/worklist/tasks/{ben.id}/claim", {"csrf_token": stolen}, _csrf=False, _expected_status=400
    )
    assert engine.task(ben.id).claimed_by is None


def test_session_cookie_is_httponly_and_samesite_lax(client_request) -> None:  # noqa: ANN001
    token = client_request.get("/sign-in").csrf_token()
    response = client_request.client.post(
        "/sign-in", data={"username": "sw.north", "password": PASSWORD, "csrf_token": token}
    )
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("session=")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


@pytest.mark.parametrize(
    ("config", "env", "secure"),
    [
        ({}, None, True),  # production: HTTPS only
        ({"TESTING": True}, None, False),
        ({"DEBUG": True}, None, False),
        ({}, "1", False),  # plain http on purpose
        ({}, "0", True),
        ({"SESSION_COOKIE_SECURE": True, "TESTING": True}, None, True),  # explicit wins
    ],
)
def test_secure_cookie_unless_debug_testing_or_asked(monkeypatch, config, env, secure) -> None:  # noqa: ANN001
    if env is None:
        monkeypatch.delenv("CINFLOW_INSECURE_COOKIES", raising=False)
    else:
        monkeypatch.setenv("CINFLOW_INSECURE_COOKIES", env)
    app = create_app({"SECRET_KEY": "x", **config})
    assert app.config["SESSION_COOKIE_SECURE"] is secure
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_pages_are_not_cached_or_framed(client_request) -> None:  # noqa: ANN001
    client_request.sign_in("sw.north")
    response = client_request.get("/worklist").response
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_health_and_static_files_need_no_sign_in(client) -> None:  # noqa: ANN001
    assert client.get("/health").get_json() == {"status": "ok"}
    response = client.get("/static/favicon.svg")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")


def test_a_changed_role_ends_the_session(client_request, engine) -> None:  # noqa: ANN001
    client_request.sign_in("sw.north")
    client_request.get("/worklist/team", _expected_status=403)
    engine.people.set_role("sw.north", "team_manager", by="test")
    client_request.get("/worklist/team", _expected_status=302)  # to the sign-in page
    client_request.sign_in("sw.north")
    client_request.get("/worklist/team")
