"""Signing in and out, and the signed-in person (`current_user`).

Passwords are checked by the engine (`engine.people.People.sign_in`), which starts a server-side
session: the cookie holds only its random token, and the engine ends it on sign-out, password
or role change, deactivation, 30 minutes idle or 12 hours after signing in.

Wrong passwords are throttled here with Flask-Limiter's rate limiting (the `limits` library
under it), counting failures only, in moving windows (DEFAULT_LIMITS, configurable):
  - per client address: 20 failures in 15 minutes, whatever the usernames;
  - per account and client: 5 failures in 15 minutes, so one attacker cannot lock `admin` for
    everyone, only themselves (the engine's own account lock needs 20 in a row from anywhere,
    and lasts 5 minutes).
The counts live in memory (one process; each gunicorn worker counts on its own) unless
CINFLOW_RATELIMIT_STORAGE names a shared store such as redis://host:6379. Usernames are kept
there only as a hash. A refusal never says whether the username or the password was wrong, and
costs the same time either way; when throttled the page says "Too many attempts".
"""

from __future__ import annotations

import hashlib
import logging
import os
from datetime import timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from limits import RateLimitItem, parse

from engine.people import UserInfo

from .access import allow_public, allow_signed_in
from .engine_access import get_engine
from .flashes import say
from .security import login_manager

log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__)

WRONG_DETAILS = "Enter a correct username and password"
LOCKED = "Too many attempts to sign in. Wait 15 minutes, then try again"
# Failed sign-ins allowed (app config, e.g. "20 per 15 minutes", or the same names prefixed
# CINFLOW_ in the environment). A council whose staff all reach the app from one address (a
# proxy without CINFLOW_PROXY_HOPS, one NAT address) fixes the address or raises the first.
DEFAULT_LIMITS = {
    "SIGNIN_FAILURES_PER_CLIENT": "20 per 15 minutes",
    "SIGNIN_FAILURES_PER_ACCOUNT_AND_CLIENT": "5 per 15 minutes",
}


def too_many(wait: timedelta) -> str:
    minutes = max(1, -(-int(wait.total_seconds()) // 60))
    plural = "s" if minutes != 1 else ""
    return f"Too many attempts to sign in. Wait {minutes} minute{plural}, then try again"


def _account_key(username: str) -> str:
    """A username as the throttle and the log know it: a short hash, not the name."""
    return hashlib.sha256(username.strip().lower().encode()).hexdigest()[:16]


def _limit(name: str) -> RateLimitItem:
    configured = current_app.config.get(name) or os.environ.get(f"CINFLOW_{name}")
    return parse(configured or DEFAULT_LIMITS[name])


def _throttles(username: str, client: str) -> list[tuple[RateLimitItem, tuple[str, ...]]]:
    account = _account_key(username)
    return [
        (_limit("SIGNIN_FAILURES_PER_CLIENT"), ("sign-in", "client", client)),
        (
            _limit("SIGNIN_FAILURES_PER_ACCOUNT_AND_CLIENT"),
            ("sign-in", "account-client", account, client),
        ),
    ]


def _limiter():  # noqa: ANN202 - the `limits` strategy Flask-Limiter built for this app
    return current_app.extensions["cinflow_limiter"].limiter


def _throttled(username: str, client: str) -> bool:
    strategy = _limiter()
    return any(not strategy.test(item, *keys) for item, keys in _throttles(username, client))


def _count_failure(username: str, client: str) -> None:
    strategy = _limiter()
    for item, keys in _throttles(username, client):
        strategy.hit(item, *keys)


def _forget_failures(username: str, client: str) -> None:
    item, keys = _throttles(username, client)[1]
    _limiter().clear(item, *keys)


class User:
    """The signed-in person for Flask-Login: the engine's UserInfo and the session's token."""

    is_anonymous = False

    def __init__(self, info: UserInfo, token: str) -> None:
        self.info = info
        self.token = token

    # Flask-Login's interface
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.info.active

    def get_id(self) -> str:
        """What the cookie keeps: the session's random token, never the username."""
        return self.token

    # What pages use
    @property
    def username(self) -> str:
        return self.info.username

    @property
    def display_name(self) -> str:
        return self.info.display_name

    @property
    def role(self) -> str:
        return self.info.role

    @property
    def role_name(self) -> str:
        return self.info.role_name

    @property
    def teams(self) -> tuple[str, ...]:
        return self.info.teams

    @property
    def council_name(self) -> str:
        return self.info.council_name

    @property
    def is_manager(self) -> bool:
        from .access import MANAGER_ROLES

        return self.role in MANAGER_ROLES

    def __repr__(self) -> str:
        return f"User({self.username!r}, {self.role!r}, teams={self.teams!r})"


@login_manager.user_loader
def load_user(token: str) -> User | None:
    """Read afresh on every request: an ended session, a changed role or a deactivation applies
    at once."""
    info = get_engine().people.session_user(token)
    return User(info, token) if info is not None and info.active else None


@login_manager.unauthorized_handler
def unauthorized():  # noqa: ANN201 - a redirect response
    """Signed out: go to the sign-in page, coming back to the page asked for (GET only)."""
    target = None
    if request.method == "GET" and request.path != "/":
        target = request.full_path.rstrip("?")
    return redirect(url_for("auth.sign_in", next=target))


def safe_next(value: str | None) -> str | None:
    """A same-site path to go to after signing in, or None (never another site)."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    return value


@bp.route("/sign-in", methods=["GET", "POST"])
@allow_public
def sign_in():  # noqa: ANN201 - a page or a redirect
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")) or url_for("home.index"))
    field_errors: dict[str, str] = {}
    username = ""
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        if not username:
            field_errors["username"] = "Enter your username"
        if not password:
            field_errors["password"] = "Enter your password"
        if not field_errors:
            client = request.remote_addr or "unknown"
            if _throttled(username, client):
                log.warning("sign-in throttled: account %s from %s", _account_key(username), client)
                field_errors["username"] = LOCKED
            else:
                result = get_engine().people.sign_in(username, password, client)
                if result.user is not None and result.token is not None:
                    _forget_failures(username, client)
                    next_page = safe_next(request.form.get("next"))
                    session.clear()  # nothing from before signing in carries over
                    login_user(User(result.user, result.token))
                    return redirect(next_page or url_for("home.index"))
                _count_failure(username, client)
                log.warning("sign-in failed: account %s from %s", _account_key(username), client)
                field_errors["username"] = (
                    too_many(result.locked_for) if result.locked_for else WRONG_DETAILS
                )
        errors = [{"text": text, "href": f"#{name}"} for name, text in field_errors.items()]
    else:
        errors = []
    return render_template(
        "auth/sign_in.html",
        errors=errors,
        field_errors=field_errors,
        username=username,
        next_page=safe_next(request.values.get("next")) or "",
    )


@bp.post("/sign-out")
@allow_signed_in
def sign_out():  # noqa: ANN201 - a redirect
    get_engine().people.end_session(current_user.token)
    logout_user()
    session.clear()
    say("signed_out")
    return redirect(url_for("auth.sign_in"))
