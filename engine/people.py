"""People: users, their role and teams; sign-in checks and the sessions they start.

A case belongs to a team and only that team's members see it. Passwords are hashed with argon2
(engine/passwords.py). Each sign-in is a server-side session (a `user_session` row keyed by the
SHA-256 of a random token the browser keeps): it ends on sign-out, on a password or role change
or deactivation, after IDLE_TIMEOUT without use, and ABSOLUTE_TIMEOUT after signing in.

Per-account lockout is a last resort shared by every web process: after MAX_FAILURES wrong
passwords in a row (from anywhere) the account waits LOCKOUT. The web layer throttles each
client far earlier (webui/auth.py), so one attacker cannot keep anyone locked out.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from engine import clock
from engine.errors import CinflowError, NotFound
from engine.passwords import _SCRYPT, burn_time, hash_password, needs_rehash, verify_password
from engine.store.audit import record_audit
from engine.store.db import unit_of_work
from engine.store.models import Council, Membership, Team, User, UserSession

__all__ = ["_SCRYPT", "hash_password", "verify_password"]  # kept for older callers and tests

# senior_practitioner stands for senior, consultant and advanced practitioners (who chair
# meetings); iro for conference chairs and independent reviewing officers. Which role may act in
# which lane of a diagram: processes/lanes.yaml (engine/lanes.py).
ROLES = (
    "social_worker",
    "senior_practitioner",
    "iro",
    "business_support",
    "team_manager",
    "practice_manager",
    "trainer",
    "admin",
)
ROLE_NAMES = {
    "social_worker": "Social worker",
    "senior_practitioner": "Senior practitioner",
    "iro": "Conference chair / IRO",
    "business_support": "Business support",
    "team_manager": "Team manager",
    "practice_manager": "Practice manager",
    "trainer": "Trainer",
    "admin": "Administrator",
}
MAX_FAILURES = 20
LOCKOUT = timedelta(minutes=5)
IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_TIMEOUT = timedelta(hours=12)
TOUCH_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often


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
    locked_until: datetime | None = None  # too many wrong passwords: no sign-in until then
    # The council whose teams the person is in ("" for none or several): the page header.
    council_name: str = ""

    @property
    def role_name(self) -> str:
        return ROLE_NAMES.get(self.role, self.role)


@dataclass(frozen=True)
class TeamInfo:
    key: str
    council: str
    name: str


@dataclass(frozen=True)
class SignIn:
    """What a sign-in attempt came to: the user and their session token, or why not."""

    user: UserInfo | None
    token: str | None = None
    locked_for: timedelta | None = None  # the account is locked: wait this long


def _token_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _storable(text: object, longest: int = 100) -> bool:
    """Could this be a username (or password) at all: text, not too long, no NUL, valid
    Unicode? Anything else is nobody: looking it up would only make the driver fail."""
    if not isinstance(text, str) or len(text) > longest or "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_password_strength(password: str) -> None:
    if len(password) < 12:
        raise PeopleError("a password needs at least 12 characters")


class People:
    """User and team administration, and the sign-in check."""

    def __init__(self, sessions: sessionmaker[Session], reads: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self.reads = reads  # engine.store.db.read_session_factory

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
        with self.reads() as s:
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
        username = username.strip().lower() if isinstance(username, str) else ""
        if len(username) > 100:
            raise PeopleError("a username is at most 100 characters")
        if (
            not username
            or not username.isascii()
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
            if previous != role:
                self._end_sessions(s, user, "role_changed")
            record_audit(
                s, by, "role_changed",
                detail={"username": user.username, "from": previous, "to": role},
            )  # fmt: skip
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
        with self.reads() as s:
            query = select(User).order_by(User.username)
            if team:
                query = query.join(Membership, Membership.user_id == User.id).where(
                    Membership.team_key == team
                )
            return [self._info(s, u) for u in s.scalars(query)]

    def get(self, username: str) -> UserInfo:
        with self.reads() as s:
            return self._info(s, self._user(s, username))

    def authenticate(self, username: str, password: str) -> UserInfo | None:
        """The user if the password is right and the account usable; None otherwise."""
        return self.sign_in(username, password, start_session=False).user

    def sign_in(
        self, username: str, password: str, client: str = "", start_session: bool = True
    ) -> SignIn:
        """Check a password and start a session. Every refusal costs one password check, so
        unknown users, wrong passwords, locked and deactivated accounts take the same time.

        Failures are audited ("sign_in_failed", with the client's address); the attempted
        name is recorded only when it is a real account.
        """
        now = clock.now()
        if not _storable(username) or not _storable(password, 1024):
            burn_time("timing-equaliser")  # the same time as any other refusal
            with unit_of_work(self.sessions) as s:
                self._failed(s, now, "unknown", client, "no such user")
            return SignIn(None)
        username = username.strip().lower()
        with unit_of_work(self.sessions) as s:
            user = s.scalars(select(User).where(User.username == username)).first()
            if user is None:
                burn_time(password)
                self._failed(s, now, "unknown", client, "no such user")
                return SignIn(None)
            right = verify_password(password, user.password_hash)
            if user.locked_until and user.locked_until > now:
                self._failed(s, now, user.username, client, "locked")
                return SignIn(None, locked_for=user.locked_until - now)
            if not right or not user.active:
                self._failed(s, now, user.username, client, "wrong password" if not right
                             else "deactivated")  # fmt: skip
                if right:
                    return SignIn(None)
                user.failed_logins += 1
                if user.failed_logins >= MAX_FAILURES:
                    user.locked_until, user.failed_logins = now + LOCKOUT, 0
                    record_audit(
                        s, user.username, "account_locked",
                        detail={"until": user.locked_until.isoformat()}, at=now,
                    )  # fmt: skip
                return SignIn(None)
            if needs_rehash(user.password_hash):
                user.password_hash = hash_password(password)
            user.failed_logins, user.locked_until = 0, None
            token = None
            if start_session:
                token = secrets.token_urlsafe(32)
                s.add(UserSession(id=_token_id(token), user_id=user.id, created_at=now,
                                  last_seen_at=now))  # fmt: skip
            record_audit(s, user.username, "signed_in", detail={}, at=now)
            return SignIn(self._info(s, user), token)

    @staticmethod
    def _failed(s: Session, now: datetime, actor: str, client: str, why: str) -> None:
        record_audit(s, actor, "sign_in_failed", detail={"client": client, "reason": why}, at=now)

    def session_user(self, token: str) -> UserInfo | None:
        """Who a session token belongs to, while the session lasts; None once it has ended.

        Ends it (recording why) when it has been idle for IDLE_TIMEOUT or is older than
        ABSOLUTE_TIMEOUT; notes the use at most once per TOUCH_EVERY.
        """
        if not token:
            return None
        now = clock.now()
        with unit_of_work(self.sessions) as s:
            row = s.get(UserSession, _token_id(token))
            if row is None or row.ended_at is not None:
                return None
            expired = (
                "idle" if now - row.last_seen_at > IDLE_TIMEOUT
                else "expired" if now - row.created_at > ABSOLUTE_TIMEOUT
                else None
            )  # fmt: skip
            user = s.get(User, row.user_id)
            if expired or user is None or not user.active:
                row.ended_at, row.end_reason = now, expired or "deactivated"
                return None
            if now - row.last_seen_at >= TOUCH_EVERY:
                row.last_seen_at = now
            return self._info(s, user)

    def end_session(self, token: str, reason: str = "signed_out") -> None:
        """Sign out: the token opens nothing afterwards, wherever it was copied to."""
        with unit_of_work(self.sessions) as s:
            row = s.get(UserSession, _token_id(token))
            if row is not None and row.ended_at is None:
                row.ended_at, row.end_reason = clock.now(), reason

    @staticmethod
    def _end_sessions(s: Session, user: User, reason: str) -> None:
        s.execute(
            update(UserSession)
            .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
            .values(ended_at=clock.now(), end_reason=reason)
        )

    def set_password(self, username: str, password: str, by: str = "admin") -> UserInfo:
        """A new password; every session of the user ends (sign in again with it)."""
        check_password_strength(password)
        with unit_of_work(self.sessions) as s:
            user = self._user(s, username)
            user.password_hash = hash_password(password)
            user.failed_logins, user.locked_until = 0, None
            self._end_sessions(s, user, "password_changed")
            record_audit(s, by, "password_changed", detail={"username": user.username})
            return self._info(s, user)

    def set_active(self, username: str, active: bool, by: str = "admin") -> UserInfo:
        """Deactivate (sessions end, sign-in refused) or reactivate an account."""
        with unit_of_work(self.sessions) as s:
            user = self._user(s, username)
            user.active = active
            if not active:
                self._end_sessions(s, user, "deactivated")
            action = "user_activated" if active else "user_deactivated"
            record_audit(s, by, action, detail={"username": user.username})
            return self._info(s, user)

    def unlock(self, username: str, by: str = "admin") -> UserInfo:
        """Lift a lockout after too many wrong passwords."""
        with unit_of_work(self.sessions) as s:
            user = self._user(s, username)
            user.failed_logins, user.locked_until = 0, None
            record_audit(s, by, "account_unlocked", detail={"username": user.username})
            return self._info(s, user)

    @staticmethod
    def _user(s: Session, username: str) -> User:
        if not _storable(username):
            raise NotFound(f'no user "{str(username)[:100]!r}"')
        user = s.scalars(select(User).where(User.username == username.strip().lower())).first()
        if user is None:
            raise NotFound(f'no user "{username}"')
        return user

    @staticmethod
    def _info(s: Session, user: User) -> UserInfo:
        teams = tuple(
            sorted(s.scalars(select(Membership.team_key).where(Membership.user_id == user.id)))
        )
        locked = (
            user.locked_until if user.locked_until and user.locked_until > clock.now() else None
        )
        councils = set(
            s.scalars(
                select(Council.name)
                .join(Team, Team.council_key == Council.key)
                .where(Team.key.in_(teams))
            )
        )
        return UserInfo(
            user.id, user.username, user.display_name, user.email, user.role, user.active, teams,
            locked, councils.pop() if len(councils) == 1 else "",
        )  # fmt: skip
