"""People: users, their role and teams; sign-in checks with throttling.

A case belongs to a team and only that team's members see it. Passwords are hashed with
scrypt from the standard library (no Flask here); repeated failures lock the account briefly.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine import clock
from engine.errors import CinflowError, NotFound
from engine.store.audit import record_audit
from engine.store.db import unit_of_work
from engine.store.models import Council, Membership, Team, User

ROLES = ("social_worker", "team_manager", "practice_manager", "trainer", "admin")
ROLE_NAMES = {
    "social_worker": "Social worker",
    "team_manager": "Team manager",
    "practice_manager": "Practice manager",
    "trainer": "Trainer",
    "admin": "Administrator",
}
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


class PeopleError(CinflowError):
    pass


@dataclass(frozen=True)
class UserInfo:
    id: int
    username: str
    display_name: str
    email: str | None
    role: str
    active: bool
    teams: tuple[str, ...]

    @property
    def role_name(self) -> str:
        return ROLE_NAMES.get(self.role, self.role)


@dataclass(frozen=True)
class TeamInfo:
    key: str
    council: str
    name: str


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    encode = base64.b64encode
    return f"scrypt${_SCRYPT['n']}${encode(salt).decode()}${encode(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    actual = hashlib.scrypt(
        password.encode(),
        salt=base64.b64decode(salt),
        dklen=32,
        n=int(n),
        r=_SCRYPT["r"],
        p=_SCRYPT["p"],
    )
    return hmac.compare_digest(actual, base64.b64decode(digest))


def check_password_strength(password: str) -> None:
    if len(password) < 12:
        raise PeopleError("a password needs at least 12 characters")


class People:
    """User and team administration, and the sign-in check."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def add_team(self, key: str, council: str, name: str) -> TeamInfo:
        with unit_of_work(self.sessions) as s:
            if s.get(Council, council) is None:
                s.add(Council(key=council, name=council.replace("_", " ").title()))
                s.flush()
            team = s.get(Team, key)
            if team is None:
                team = Team(key=key, council_key=council, name=name)
                s.add(team)
            return TeamInfo(team.key, team.council_key, team.name)

    def teams(self) -> list[TeamInfo]:
        with self.sessions() as s:
            return [
                TeamInfo(t.key, t.council_key, t.name)
                for t in s.scalars(select(Team).order_by(Team.council_key, Team.name))
            ]

    def add_user(
        self,
        username: str,
        display_name: str,
        password: str,
        role: str,
        teams: list[str] | tuple[str, ...] = (),
        email: str | None = None,
        by: str = "admin",
    ) -> UserInfo:
        username = username.strip().lower()
        if (
            not username
            or not username.replace(".", "").replace("-", "").replace("_", "").isalnum()
        ):
            raise PeopleError("a username is letters, numbers, dots, hyphens or underscores")
        if role not in ROLES:
            raise PeopleError(f'"{role}" is not a role; choose one of {", ".join(ROLES)}')
        check_password_strength(password)
        with unit_of_work(self.sessions) as s:
            if s.scalars(select(User).where(User.username == username)).first():
                raise PeopleError(f'there is already a user "{username}"')
            unknown = [t for t in teams if s.get(Team, t) is None]
            if unknown:
                raise PeopleError(f"no such team: {', '.join(unknown)}")
            user = User(
                username=username,
                display_name=display_name,
                email=email,
                password_hash=hash_password(password),
                role=role,
                active=True,
                created_at=clock.now(),
                failed_logins=0,
            )
            s.add(user)
            s.flush()
            for team in teams:
                s.add(Membership(user_id=user.id, team_key=team))
            record_audit(
                s,
                by,
                "user_added",
                detail={"username": username, "role": role, "teams": list(teams)},
            )
            s.flush()
            return self._info(s, user)

    def set_role(self, username: str, role: str, by: str = "admin") -> UserInfo:
        if role not in ROLES:
            raise PeopleError(f'"{role}" is not a role; choose one of {", ".join(ROLES)}')
        with unit_of_work(self.sessions) as s:
            user = self._user(s, username)
            previous, user.role = user.role, role
            record_audit(
                s,
                by,
                "role_changed",
                detail={"username": user.username, "from": previous, "to": role},
            )
            return self._info(s, user)

    def add_to_team(self, username: str, team: str, by: str = "admin") -> UserInfo:
        with unit_of_work(self.sessions) as s:
            user = self._user(s, username)
            if s.get(Team, team) is None:
                raise PeopleError(f"no such team: {team}")
            exists = s.scalars(
                select(Membership).where(Membership.user_id == user.id, Membership.team_key == team)
            ).first()
            if not exists:
                s.add(Membership(user_id=user.id, team_key=team))
                record_audit(
                    s,
                    by,
                    "team_joined",
                    detail={"username": user.username, "team": team},
                )
                s.flush()
            return self._info(s, user)

    def users(self, team: str | None = None) -> list[UserInfo]:
        with self.sessions() as s:
            query = select(User).order_by(User.username)
            if team:
                query = query.join(Membership, Membership.user_id == User.id).where(
                    Membership.team_key == team
                )
            return [self._info(s, u) for u in s.scalars(query)]

    def get(self, username: str) -> UserInfo:
        with self.sessions() as s:
            return self._info(s, self._user(s, username))

    def authenticate(self, username: str, password: str) -> UserInfo | None:
        """The user if the password is right and the account usable; None otherwise.

        After MAX_FAILURES wrong passwords the account is locked for LOCKOUT, whatever is typed.
        """
        now = clock.now()
        with unit_of_work(self.sessions) as s:
            user = s.scalars(select(User).where(User.username == username.strip().lower())).first()
            if user is None:
                verify_password(password, hash_password("timing-equaliser"))
                return None
            if not user.active or (user.locked_until and user.locked_until > now):
                return None
            if not verify_password(password, user.password_hash):
                user.failed_logins += 1
                if user.failed_logins >= MAX_FAILURES:
                    user.locked_until, user.failed_logins = now + LOCKOUT, 0
                    record_audit(
                        s,
                        user.username,
                        "account_locked",
                        detail={"until": user.locked_until.isoformat()},
                        at=now,
                    )
                return None
            user.failed_logins, user.locked_until = 0, None
            record_audit(s, user.username, "signed_in", detail={}, at=now)
            return self._info(s, user)

    @staticmethod
    def _user(s: Session, username: str) -> User:
        user = s.scalars(select(User).where(User.username == username.strip().lower())).first()
        if user is None:
            raise NotFound(f'no user "{username}"')
        return user

    @staticmethod
    def _info(s: Session, user: User) -> UserInfo:
        teams = tuple(
            sorted(s.scalars(select(Membership.team_key).where(Membership.user_id == user.id)))
        )
        return UserInfo(
            user.id, user.username, user.display_name, user.email, user.role, user.active, teams
        )
