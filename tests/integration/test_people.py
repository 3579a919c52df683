"""Users and teams: hashed passwords, throttled sign-in, team-limited views of cases and tasks."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import passwords
from engine.clock import FixedClock
from engine.people import MAX_FAILURES, PeopleError
from engine.services import Engine, NewChild
from engine.store.models import User

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"


@pytest.fixture
def people(engine: Engine):  # noqa: ANN201
    engine.people.add_team("north", "portsmouth", "North CIN team")
    engine.people.add_team("south", "portsmouth", "South CIN team")
    engine.people.add_user("sw.north", "Sam North", PASSWORD, "social_worker", ["north"])
    return engine.people


def test_passwords_are_hashed_and_checked(engine: Engine, people) -> None:  # noqa: ANN001
    with engine.sessions() as s:
        stored = s.scalars(select(User.password_hash)).one()
    assert PASSWORD not in stored and stored.startswith("$argon2id$")
    assert people.authenticate("SW.North", PASSWORD).teams == ("north",)
    assert people.authenticate("sw.north", "wrong password!") is None
    assert people.authenticate("nobody", PASSWORD) is None


def test_old_scrypt_hashes_still_sign_in_and_are_rehashed(engine: Engine, people) -> None:  # noqa: ANN001
    with engine.sessions() as s, s.begin():
        s.scalars(select(User)).one().password_hash = passwords.scrypt_hash(PASSWORD)
    assert people.authenticate("sw.north", "wrong password!") is None
    with engine.sessions() as s:
        assert s.scalars(select(User.password_hash)).one().startswith("scrypt$")
    assert people.authenticate("sw.north", PASSWORD) is not None
    with engine.sessions() as s:
        assert s.scalars(select(User.password_hash)).one().startswith("$argon2id$")
    assert people.authenticate("sw.north", PASSWORD) is not None


def test_twenty_failures_in_a_row_lock_the_account_briefly_and_an_admin_unlocks(
    people,
    fixed_clock: FixedClock,  # noqa: ANN001
) -> None:
    for _ in range(MAX_FAILURES - 1):
        assert people.sign_in("sw.north", "wrong password!").locked_for is None
    assert people.sign_in("sw.north", "wrong password!").user is None
    locked = people.sign_in("sw.north", PASSWORD)  # locked, even with the right one
    assert locked.user is None and locked.locked_for == timedelta(minutes=5)
    fixed_clock.advance(timedelta(minutes=6))
    assert people.sign_in("sw.north", PASSWORD).user is not None
    for _ in range(MAX_FAILURES):
        people.sign_in("sw.north", "wrong password!")
    people.unlock("sw.north", by="admin")
    assert people.sign_in("sw.north", PASSWORD).user is not None


def test_bad_users_are_refused_clearly(people) -> None:  # noqa: ANN001
    with pytest.raises(PeopleError, match="already a user"):
        people.add_user("sw.north", "Again", PASSWORD, "social_worker")
    with pytest.raises(PeopleError, match="not a role"):
        people.add_user("x", "X", PASSWORD, "wizard")
    with pytest.raises(PeopleError, match="no such team"):
        people.add_user("y", "Y", PASSWORD, "social_worker", ["east"])


def test_cases_and_tasks_are_seen_only_by_their_team(engine: Engine, people) -> None:  # noqa: ANN001
    engine.deploy([ROOT / "processes" / "sample"], "pm1")
    north = engine.start_case("sample_referral", NewChild("Ada North"), {}, "sw1", team="north")
    engine.start_case("sample_referral", NewChild("Bo South"), {}, "sw1", team="south")
    user = people.get("sw.north")
    assert [c.id for c in engine.list_cases(teams=user.teams)] == [north.id]
    assert {t.case_id for t in engine.tasks(teams=user.teams)} == {north.id}
    assert engine.tasks(teams=[]) == []
