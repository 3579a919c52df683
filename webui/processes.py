"""Practice managers' procedure pages: the library of a council's processes and their versions,
a version's diagram with what changed from the live one, approving drafts, going live, and a
preview of moving running cases. Changing a diagram happens in a modeler and `cinflow deploy`.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from engine import clock
from engine.calendar import LONDON
from engine.errors import CinflowError, NotFound
from engine.lifecycle import ApprovalRefused

from .access import allow
from .engine_access import get_engine
from .flashes import say

bp = Blueprint("processes", __name__, url_prefix="/processes")
ROLES = ("practice_manager",)


def _councils() -> list[str]:
    """The councils of the signed-in practice manager's teams."""
    teams = get_engine().worklist_teams(current_user.teams)
    return sorted({t.council for t in teams})


def _council(council: str) -> str:
    if council not in _councils():
        abort(404)
    return council


@bp.get("")
@allow(*ROLES)
def index() -> Response:
    councils = _councils()
    if not councils:
        abort(404)
    return redirect(url_for("processes.library", council=councils[0]))


@bp.get("/<council>")
@allow(*ROLES)
def library(council: str, failures: list[str] | None = None, status: int = 200) -> tuple:
    entries = get_engine().process_library(_council(council))
    today = clock.now().astimezone(LONDON).date()
    return (
        render_template(
            "processes/library.html",
            council=council,
            entries=entries,
            today=today,
            drafts=sum(len([v for v in e.versions if v.status == "draft"]) for e in entries),
            unsent=sum(
                len([v for v in e.versions if v.status == "draft" and not v.sent_by])
                for e in entries
            ),
            approved=sum(len([v for v in e.versions if v.status == "approved"]) for e in entries),
            failures=failures or [],
        ),
        status,
    )


@bp.get("/<council>/<process_id>/v<int:version>")
@allow(*ROLES)
def version(council: str, process_id: str, version: int) -> str:
    engine = get_engine()
    entries = {e.process_id: e for e in engine.process_library(_council(council))}
    entry = entries.get(process_id)
    shown = next((v for v in entry.versions if v.version == version), None) if entry else None
    if shown is None:
        abort(404)
    live = entry.live
    compared = request.args.get("against", type=int) or (live.version if live else None)
    diff = None
    if compared and compared != version:
        try:
            diff = engine.compare_versions(council, process_id, compared, version)
        except NotFound:
            abort(404)
    return render_template(
        "processes/version.html",
        council=council,
        entry=entry,
        shown=shown,
        compared=compared if diff is not None else None,
        diff=diff,
    )


@bp.get("/<council>/<process_id>/v<int:version>.bpmn")
@allow(*ROLES)
def version_xml(council: str, process_id: str, version: int) -> Response:
    try:
        xml = get_engine().version_xml(_council(council), process_id, version)
    except NotFound:
        abort(404)
    return Response(xml, mimetype="application/xml")


@bp.get("/<council>/conventions.json")
@allow(*ROLES)
def conventions(council: str) -> Response:
    """The deploy rule set and this council's context, for the browser runner
    (static/js/conventions.mjs) the modeler uses to show findings before a deploy."""
    rules, context = get_engine().conventions(_council(council))
    return jsonify({"rules": rules, "context": context})


@bp.get("/<council>/<process_id>/migration")
@allow(*ROLES)
def migration(council: str, process_id: str) -> str:
    try:
        results = get_engine().migrate_cases(
            _council(council), process_id, current_user.username, preview=True
        )
    except NotFound:
        abort(404)
    return render_template(
        "processes/migration.html", council=council, process_id=process_id, results=results
    )


@bp.post("/<council>/send")
@allow(*ROLES)
def send(council: str) -> Response | tuple:
    """Send the council's drafts for approval (the same rule as `cinflow send-for-approval`)."""
    try:
        get_engine().send_drafts(
            _council(council), current_user.username, request.form.get("comment", "")
        )
    except CinflowError as exc:
        return library(council, failures=[str(exc)], status=409)
    say("sent_for_approval")
    return redirect(url_for("processes.library", council=council))


@bp.post("/<council>/approve")
@allow(*ROLES)
def approve(council: str) -> Response | tuple:
    try:
        done = get_engine().approve_drafts(
            _council(council), current_user.username, request.form.get("comment", "")
        )
    except ApprovalRefused as exc:
        return library(council, failures=exc.failures, status=409)
    except CinflowError as exc:
        return library(council, failures=[str(exc)], status=409)
    say("drafts_approved", count=len(done))
    return redirect(url_for("processes.library", council=council))


@bp.post("/<council>/go-live")
@allow(*ROLES)
def go_live(council: str) -> Response | tuple:
    try:
        done = get_engine().go_live(_council(council), current_user.username)
    except CinflowError as exc:
        return library(council, failures=[str(exc)], status=409)
    say("versions_live", count=len(done))
    return redirect(url_for("processes.library", council=council))
