"""The procedure library: each pathway and route of the user's councils once, with its diagram
and its steps in order (guidance, who, rule ids and seed section, timescales in words and in
working days), and a printable A4 handout of each."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, render_template

from engine.errors import UnknownProcess

from .access import allow, my_teams
from .engine_access import get_engine
from .security import stored_text
from .tasks import guidance

bp = Blueprint("library", __name__, url_prefix="/library")

LIBRARY_ROLES = ("social_worker", "team_manager", "practice_manager", "trainer")


def _councils() -> list[str]:
    return sorted({t.council for t in get_engine().worklist_teams(my_teams())})


def _procedure(council: str, process_id: str) -> Any:
    if council not in _councils():
        abort(404)
    try:
        return get_engine().library.procedure(council, process_id)
    except UnknownProcess:
        abort(404)


@bp.get("")
@allow(*LIBRARY_ROLES)
def index() -> str:
    engine = get_engine()
    councils = [(c, engine.profile(c).name or c, engine.library.procedures(c)) for c in _councils()]
    return render_template("library/index.html", councils=councils)


def _render(template: str, council: str, process_id: str) -> str:
    procedure = _procedure(council, process_id)
    steps = [(s, guidance(s.documentation)) for s in procedure.steps]
    return render_template(
        template,
        procedure=procedure,
        council_title=get_engine().profile(council).name or council,
        steps=steps,
    )


@bp.get("/<council>/<process_id>")
@allow(*LIBRARY_ROLES)
def show(council: str, process_id: str) -> str:
    return _render("library/show.html", council, process_id)


@bp.get("/<council>/<process_id>/handout")
@allow(*LIBRARY_ROLES)
def handout(council: str, process_id: str) -> str:
    return _render("library/handout.html", council, process_id)


@bp.get("/<council>/<process_id>/diagram.bpmn")
@allow(*LIBRARY_ROLES)
def diagram_xml(council: str, process_id: str) -> Response:
    _procedure(council, process_id)
    xml = get_engine().library.xml(council, process_id)
    return stored_text(xml, f"{process_id}.bpmn")
