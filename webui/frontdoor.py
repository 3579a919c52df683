"""The front door: start a case for a child in one of your teams.

Two pages: choose the route (a referral, a transfer in, a step down: the council's diagrams
decide which exist), then the child's details and the dates the route's statutory clocks
count from, as GOV.UK date inputs checked on the server. The new case lands in your team; a
manager starting it chooses its allocated social worker there (or leaves it to the team's pool).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from engine import clock
from engine.calendar import LONDON
from engine.errors import FieldError, InvalidData, NotAllowed
from engine.services import NewChild
from engine.services.casework import ALLOCATING_ROLES
from engine.services.frontdoor import Route, check_start, start_schema

from . import form_render as fr
from .access import WORKER_ROLES, allow, my_teams
from .engine_access import get_casework, get_engine
from .flashes import say

bp = Blueprint("frontdoor", __name__)


def _team() -> Any:
    """The team a new case goes to: the person's first team (a case belongs to one team)."""
    teams = get_engine().worklist_teams(my_teams())
    if not teams:
        abort(403)
    chosen = request.values.get("team")
    return next((t for t in teams if t.key == chosen), teams[0])


def _routes(team: Any) -> list[Route]:
    return get_casework().entry_routes(team.council)


@bp.get("/cases/new")
@allow(*WORKER_ROLES)
def choose() -> str:
    team = _team()
    error = None
    wanted = request.args.get("route")
    routes = _routes(team)
    if wanted is not None or "chosen" in request.args:
        if any(r.process_id == wanted for r in routes):
            return redirect(url_for("frontdoor.details", process_id=wanted, team=team.key))
        error = "Select how the child's case comes to the team"
    return render_template("cases/new.html", team=team, routes=routes, error=error)


def _route_or_404(team: Any, process_id: str) -> Route:
    route = next((r for r in _routes(team) if r.process_id == process_id), None)
    if route is None:
        abort(404)
    return route


# The field a manager allocates the new case with (their team's social workers, or the pool).
WORKER_FIELD = "allocated_to"
POOL = "pool"


def _schema(team: Any, route: Route) -> dict[str, Any]:
    """The route's start form; for a manager, with the social worker to allocate it to."""
    schema = start_schema(route)
    if current_user.role not in ALLOCATING_ROLES:
        return schema
    workers = get_casework().allocatable(team.key)
    choice = {
        "type": "string",
        "title": "Allocated social worker",
        "description": "Their social worker steps go straight to them, and they are told. "
        "Left unanswered, the case waits in the team's pool.",
        "oneOf": [{"const": name, "title": shown} for name, shown in workers]
        + [{"const": POOL, "title": "Not yet: leave it with the team to allocate later"}],
    }
    return {**schema, "properties": {**schema["properties"], WORKER_FIELD: choice}}


def _details_page(
    team: Any, route: Route, raw: dict, errors: dict | None = None, status: int = 200
):  # noqa: ANN202
    form = fr.build(_schema(team, route), raw, errors)
    return render_template("cases/new_details.html", team=team, route=route, form=form), status


@bp.get("/cases/new/<process_id>")
@allow(*WORKER_ROLES)
def details(process_id: str) -> Any:
    team = _team()
    return _details_page(team, _route_or_404(team, process_id), {})


@bp.post("/cases/new/<process_id>")
@allow(*WORKER_ROLES)
def start(process_id: str) -> Response | Any:
    team = _team()
    route = _route_or_404(team, process_id)
    schema = _schema(team, route)
    raw = fr.raw_from_post(schema, request.form)
    data, problems = fr.parse(schema, raw)
    worker = data.pop(WORKER_FIELD, None)
    today = clock.now().astimezone(LONDON).date()
    found: list[Any] = []
    try:
        start_data = check_start(route, data, today)
    except InvalidData as invalid:
        found = invalid.errors
    if problems or found:
        # Unreadable answers (31/2/2026) are named first, then whatever else is wrong.
        errors = fr.error_map(schema, found, problems)
        return _details_page(team, route, raw, errors, 400)
    name = f"{data['first_name'].strip()} {data['last_name'].strip()}"

    try:
        case = get_engine().start_case(
            route.process_id,
            NewChild(name, date.fromisoformat(data["date_of_birth"])),
            start_data,
            current_user.username,
            council=route.council,
            team=team.key,
            allocate_to=None if worker in (None, POOL) else worker,
        )
    except NotAllowed as refused:  # e.g. the worker left the team meanwhile: nothing started
        found = [FieldError(WORKER_FIELD, str(refused).capitalize(), "allocation")]
        return _details_page(team, route, raw, fr.error_map(schema, found), 400)
    say("case_started")
    return redirect(url_for("cases.show", case_id=case.id))
