"""Signing in and out, and the signed-in person (`current_user`).

Passwords are checked by the engine (`engine.people.authenticate`), which also throttles: after
5 wrong passwords an account is locked for 15 minutes. The page never says whether the username
or the password was wrong.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from engine import clock
from engine.errors import NotFound
from engine.people import UserInfo

from .access import allow_public, allow_signed_in
from .engine_access import get_engine
from .security import login_manager

bp = Blueprint("auth", __name__)

WRONG_DETAILS = "Enter a correct username and password"
LOCKED = "Too many attempts to sign in. Wait 15 minutes, then try again"


class User:
    """The signed-in person for Flask-Login: a thin wrapper around the engine's UserInfo."""

    is_anonymous = False

    def __init__(self, info: UserInfo) -> None:
        self.info = info

    # Flask-Login's interface
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.info.active

    def get_id(self) -> str:
        return self.info.username

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
    def is_manager(self) -> bool:
        from .access import MANAGER_ROLES

        return self.role in MANAGER_ROLES

    def __repr__(self) -> str:
        return f"User({self.username!r}, {self.role!r}, teams={self.teams!r})"


@login_manager.user_loader
def load_user(username: str) -> User | None:
    """Read afresh on every request, so a changed role, team or deactivation applies at once."""
    try:
        info = get_engine().people.get(username)
    except NotFound:
        return None
    return User(info) if info.active else None


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


def _locked(username: str) -> bool:
    """Is this account locked for too many failures right now? (Read from the audit trail.)"""
    username = username.strip().lower()
    now = clock.now()
    for event in reversed(get_engine().audit_trail(action="account_locked")):
        if event.actor != username:
            continue
        try:
            until = datetime.fromisoformat(event.detail.get("until", ""))
        except (TypeError, ValueError):
            return False
        return until > now
    return False


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
            info = get_engine().people.authenticate(username, password)
            if info is not None:
                next_page = safe_next(request.form.get("next"))
                session.clear()  # nothing from before signing in carries over
                login_user(User(info))
                return redirect(next_page or url_for("home.index"))
            field_errors["username"] = LOCKED if _locked(username) else WRONG_DETAILS
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
    logout_user()
    session.clear()
    flash({"kind": "success", "heading": "You have signed out"})
    return redirect(url_for("auth.sign_in"))
