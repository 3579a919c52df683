"""The front door (`/`), the health check, and Home: what is deployed and which cases are open."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from .access import OVERVIEW_ROLES, allow, allow_public, allow_signed_in, can_access, my_teams
from .engine_access import get_engine

bp = Blueprint("home", __name__)


@bp.get("/")
@allow_signed_in
def index():  # noqa: ANN201 - a redirect
    """Signed in: straight to the worklist, or Home for people without one (admin, trainer)."""
    if can_access("worklist.index"):
        return redirect(url_for("worklist.index"))
    return redirect(url_for("home.dashboard"))


@bp.get("/home")
@allow(*OVERVIEW_ROLES)
def dashboard() -> str:
    engine = get_engine()
    processes = list(engine.list_processes())
    # A trainer sees no live cases at all: their cases are training cases (webui/training.py).
    live = current_user.role != "trainer"
    cases = list(engine.list_cases(teams=my_teams())) if live else []
    names = {(p.process_id, p.version): p.name for p in processes}
    latest_names = {p.process_id: p.name for p in processes}

    def process_name(case) -> str:
        return names.get((case.process_id, case.version)) or latest_names.get(
            case.process_id, case.process_id
        )

    return render_template(
        "home/index.html",
        processes=processes,
        cases=cases,
        process_name=process_name,
        live=live,
    )


@bp.get("/health")
@allow_public
def health() -> tuple[dict[str, str], int]:
    """For load balancers and uptime checks: says only that the app answers."""
    return {"status": "ok"}, 200
