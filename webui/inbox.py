"""The inbox: reminders before a deadline and escalations after it, for the signed-in person."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from engine.errors import NotFound

from .access import allow_signed_in
from .engine_access import get_engine
from .flashes import say

bp = Blueprint("inbox", __name__, url_prefix="/inbox")


def _mine(unread_only: bool = False) -> list:
    return get_engine().notifications(
        current_user.username, current_user.teams, current_user.role, unread_only=unread_only
    )


@bp.get("")
@allow_signed_in
def index() -> str:
    return render_template("inbox/index.html", notifications=_mine())


@bp.post("/<int:notification_id>/read")
@allow_signed_in
def mark_read(notification_id: int) -> Response:
    try:
        get_engine().mark_notification_read(
            notification_id, current_user.username, current_user.teams, current_user.role
        )
    except NotFound:
        abort(404)
    say("marked_read")
    return redirect(url_for("inbox.index"))


def unread_count() -> int:
    """For the header link; 0 when nobody is signed in."""
    if not current_user.is_authenticated:
        return 0
    return len(_mine(unread_only=True))
