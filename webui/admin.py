"""People administration for admins: who can sign in, unlock after too many wrong passwords,
deactivate (every session ends at once) and reactivate. The engine does the work and audits it;
the same is on the command line (`cinflow users ...`)."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from engine.errors import NotFound

from .access import allow
from .engine_access import get_engine
from .flashes import say

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/users")
@allow("admin")
def users() -> str:
    return render_template("admin/users.html", users=get_engine().people.users())


def _change(username: str, message: str, change: str, *args: object) -> Response:
    """Apply one People change to `username` as the signed-in admin, then back to the list."""
    people = get_engine().people
    try:
        people.get(username)
    except NotFound:
        abort(404)
    if change == "set_active" and username == current_user.username:
        say("not_yourself")
    else:
        getattr(people, change)(username, *args, by=current_user.username)
        say(message, who=username)
    return redirect(url_for("admin.users"))


@bp.post("/users/<username>/unlock")
@allow("admin")
def unlock(username: str) -> Response:
    return _change(username, "user_unlocked", "unlock")


@bp.post("/users/<username>/deactivate")
@allow("admin")
def deactivate(username: str) -> Response:
    return _change(username, "user_deactivated", "set_active", False)


@bp.post("/users/<username>/activate")
@allow("admin")
def activate(username: str) -> Response:
    return _change(username, "user_activated", "set_active", True)
