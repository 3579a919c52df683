"""A small stand-in for the cinflow engine façade, shared by the web and browser tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace


@dataclass(frozen=True)
class FakeProcess:
    process_id: str
    name: str
    version: int
    council: str
    deployed_at: datetime
    deployed_by: str


@dataclass(frozen=True)
class FakeCase:
    id: str
    child_name: str
    process_id: str
    version: int
    status: str
    opened_at: datetime
    current_steps: list[str] = field(default_factory=list)


PROCESSES = [
    FakeProcess(
        process_id="cin_assessment",
        name="Child in Need assessment",
        version=3,
        council="Example Borough Council",
        # 15:05 UTC in November is 3:05pm in London.
        deployed_at=datetime(2026, 11, 23, 15, 5, tzinfo=UTC),
        deployed_by="a.patel",
    ),
    FakeProcess(
        process_id="cin_plan_review",
        name="Child in Need plan review",
        version=1,
        council="Example Borough Council",
        # 23:30 UTC on 30 June is 00:30 on 1 July in London (BST).
        deployed_at=datetime(2026, 6, 30, 23, 30, tzinfo=UTC),
        deployed_by="j.okafor",
    ),
]

CASES = [
    FakeCase(
        id="case-1",
        child_name="Amelia Hughes",
        process_id="cin_assessment",
        version=3,
        status="open",
        opened_at=datetime(2026, 11, 2, 9, 0, tzinfo=UTC),
        current_steps=["Visit the child", "Record the assessment"],
    ),
    FakeCase(
        id="case-2",
        child_name="<script>alert('x')</script> Bobby",
        process_id="cin_plan_review",
        version=1,
        status="open",
        opened_at=datetime(2026, 7, 1, 10, 0, tzinfo=UTC),
        current_steps=[],
    ),
]


def fake_engine(processes=None, cases=None) -> SimpleNamespace:
    processes = PROCESSES if processes is None else processes
    cases = CASES if cases is None else cases
    return SimpleNamespace(
        list_processes=lambda: list(processes),
        list_cases=lambda teams=None: list(cases),
        audit_trail=lambda case_id=None, action=None: [],
        notifications=lambda username, teams, role, unread_only=False: [],
        people=FakePeople(),
    )


# -- people: enough for signing in to pages that use the fake engine ------------------------------

FAKE_PASSWORD = "fake password for tests"


def fake_user(username: str = "pm.fake", role: str = "practice_manager"):
    from engine.people import UserInfo

    return UserInfo(1, username, "Pat Fake", None, role, True, ("fake-team",))


class FakePeople:
    def __init__(self, users=None) -> None:
        self._users = {u.username: u for u in (users or [fake_user()])}

    def get(self, username: str):
        from engine.errors import NotFound

        try:
            return self._users[username]
        except KeyError:
            raise NotFound(username) from None

    def authenticate(self, username: str, password: str):
        user = self._users.get(username)
        return user if user is not None and password == FAKE_PASSWORD else None

    def sign_in(self, username: str, password: str, client: str = ""):
        from engine.people import SignIn

        user = self.authenticate(username, password)
        return SignIn(user, f"token-for-{username}" if user else None)

    def session_user(self, token: str):
        return self._users.get(token.removeprefix("token-for-"))

    def end_session(self, token: str, reason: str = "signed_out") -> None:
        pass

    def teams(self):
        return []

    def users(self, team=None):
        return list(self._users.values())
