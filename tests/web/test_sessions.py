"""Sessions end on the server: sign-out, timeouts, password and role changes, deactivation.

Each test copies the signed-in cookie into a second client, as someone who took it from a
shared computer or a proxy log would, and checks what that copy can still open.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from factories import PASSWORD
from web_client import ClientRequest


@pytest.fixture
def signed_in(client_request, world):  # noqa: ANN001, ANN201
    client_request.sign_in("sw.north")
    case_id = world.task("Amelia Hughes").case_id
    client_request.get(f"/cases/{case_id}")
    return client_request, f"/cases/{case_id}"


def copy_of(app, original: ClientRequest) -> ClientRequest:  # noqa: ANN001
    thief = ClientRequest(app)
    cookie = original.client.get_cookie("session")
    thief.client.set_cookie("session", cookie.value)
    return thief


def opens(client: ClientRequest, path: str) -> bool:
    response = client.client.get(path)
    assert response.status_code in (200, 302), response.status_code
    if response.status_code == 302:
        assert response.location.startswith("/sign-in")
    return response.status_code == 200


def test_a_copied_cookie_stops_working_after_sign_out(app, signed_in) -> None:  # noqa: ANN001
    person, case = signed_in
    thief = copy_of(app, person)
    assert opens(thief, case)
    person.post("/sign-out")
    assert not opens(thief, case)
    assert not opens(person, case)


def test_idle_for_30_minutes_ends_the_session(app, signed_in, fixed_clock) -> None:  # noqa: ANN001
    person, case = signed_in
    fixed_clock.advance(timedelta(minutes=29))
    assert opens(person, case)  # in use: the idle time starts again
    fixed_clock.advance(timedelta(minutes=29))
    assert opens(person, case)
    thief = copy_of(app, person)
    fixed_clock.advance(timedelta(minutes=31))
    assert not opens(thief, case)
    assert not opens(person, case)


def test_twelve_hours_after_signing_in_the_session_ends_however_busy(
    signed_in, fixed_clock
) -> None:  # noqa: ANN001
    person, case = signed_in
    for _ in range(11 * 3):
        fixed_clock.advance(timedelta(minutes=20))
        assert opens(person, case)
    fixed_clock.advance(timedelta(hours=1, minutes=1))
    assert not opens(person, case)


@pytest.mark.parametrize(
    "change",
    [
        lambda people: people.set_password("sw.north", "a brand new passphrase", by="admin"),
        lambda people: people.set_active("sw.north", False, by="admin"),
        lambda people: people.set_role("sw.north", "team_manager", by="admin"),
    ],
    ids=["password changed", "deactivated", "role changed"],
)
def test_changes_to_the_account_end_its_sessions(app, engine, signed_in, change) -> None:  # noqa: ANN001
    person, case = signed_in
    thief = copy_of(app, person)
    change(engine.people)
    assert not opens(thief, case)
    assert not opens(person, case)


def test_a_deactivated_user_cannot_sign_in_and_is_told_nothing_more(client_request, engine) -> None:  # noqa: ANN001
    engine.people.set_active("sw.north", False, by="admin")
    token = client_request.get("/sign-in").csrf_token()
    response = client_request.client.post(
        "/sign-in",
        data={"username": "sw.north", "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 200
    assert "Enter a correct username and password" in response.get_data(as_text=True)
