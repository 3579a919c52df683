"""Testing a draft before approval, for the council's practice managers: the draft's page with
what changed from the live version (on the diagram and as a list), running the council's
journeys against it (one line per expectation, failing steps marked on the diagram), a copy of
a journey changed and saved with the draft, sending it for approval, approving it (another
practice manager) and putting it live. The engine does the work and enforces four eyes
(engine/services/journeys.py, engine/lifecycle.py); journeys run on scratch databases.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_login import current_user

from engine.errors import CinflowError, NotFound
from engine.journey_files import JourneyRefused
from engine.lifecycle import ApprovalRefused

from .access import allow
from .engine_access import get_engine
from .flashes import say
from .processes import ROLES, _council

bp = Blueprint("journeys", __name__, url_prefix="/journeys")
DRAFT = "/<council>/<process_id>/v<int:version>"


def _entry(council: str, process_id: str, version: int) -> tuple[Any, Any]:
    """The process's library entry and the version shown; 404 for another council's or none."""
    entries = {e.process_id: e for e in get_engine().process_library(_council(council))}
    entry = entries.get(process_id)
    shown = next((v for v in entry.versions if v.version == version), None) if entry else None
    if shown is None:
        abort(404)
    return entry, shown


def _page(
    council: str,
    process_id: str,
    version: int,
    *,
    run: Any = None,
    failures: list[str] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    engine = get_engine()
    entry, shown = _entry(council, process_id, version)
    live = entry.live
    diff = None
    if live is not None and live.version != version:
        diff = engine.compare_versions(council, process_id, live.version, version)
    names = engine.journeys.element_names(council, process_id, version)
    failed: list[dict[str, Any]] = []
    if run is not None:
        for result in run.results:
            for o in result.outcomes:
                if not o.ok:
                    failed.append(
                        {"journey": result, "outcome": o, "on_diagram": o.element in names}
                    )
    markers = {
        "cin-added": diff.as_data()["added"] if diff else [],
        "cin-changed": list(diff.as_data()["changed"]) if diff else [],
        "cin-failed": sorted({f["outcome"].element for f in failed if f["on_diagram"]}),
    }
    return (
        render_template(
            "journeys/draft.html",
            council=council,
            entry=entry,
            shown=shown,
            live=live,
            diff=diff,
            names=names,
            journeys=engine.journeys.journeys(council, process_id, version),
            run=run,
            failed=failed,
            markers=markers,
            failures=failures or [],
            me=current_user.username,
        ),
        status,
    )


@bp.get(DRAFT)
@allow(*ROLES)
def draft(council: str, process_id: str, version: int) -> tuple[str, int]:
    return _page(council, process_id, version)


@bp.post(f"{DRAFT}/run")
@allow(*ROLES)
def run(council: str, process_id: str, version: int) -> tuple[str, int]:
    _entry(council, process_id, version)
    try:
        result = get_engine().journeys.run(council, process_id, version, current_user.username)
    except CinflowError as exc:
        return _page(council, process_id, version, failures=[str(exc)], status=409)
    return _page(council, process_id, version, run=result)


@bp.route(f"{DRAFT}/journey/<file>", methods=["GET", "POST"])
@allow(*ROLES)
def journey(council: str, process_id: str, version: int, file: str) -> Response | tuple:
    entry, shown = _entry(council, process_id, version)
    engine = get_engine()
    problems: list[str] = []
    if request.method == "POST":
        name = request.form.get("file_name", "").strip()
        text = request.form.get("journey", "").replace("\r\n", "\n")
        try:
            engine.journeys.save_journey(
                council, process_id, version, name, text, current_user.username
            )
        except JourneyRefused as exc:
            problems = exc.problems
        except CinflowError as exc:
            problems = [str(exc)]
        else:
            say("journey_saved")
            return redirect(
                url_for("journeys.draft", council=council, process_id=process_id, version=version)
                + "#journeys"
            )
    else:
        try:
            name = file
            text = engine.journeys.journey_text(council, process_id, version, file)
        except NotFound:
            abort(404)
    return (
        render_template(
            "journeys/journey.html",
            council=council,
            entry=entry,
            shown=shown,
            file=file,
            file_name=name,
            text=text,
            problems=problems,
        ),
        400 if problems else 200,
    )


@bp.post(f"{DRAFT}/send")
@allow(*ROLES)
def send(council: str, process_id: str, version: int) -> Response | tuple:
    _entry(council, process_id, version)
    try:
        get_engine().journeys.send_for_approval(council, process_id, version, current_user.username)
    except CinflowError as exc:
        return _page(council, process_id, version, failures=[str(exc)], status=409)
    say("sent_for_approval")
    return redirect(_here(council, process_id, version))


@bp.post(f"{DRAFT}/approve")
@allow(*ROLES)
def approve(council: str, process_id: str, version: int) -> Response | tuple:
    _entry(council, process_id, version)
    try:
        done = get_engine().approve_drafts(
            council,
            current_user.username,
            request.form.get("comment", ""),
            versions={process_id: version},
        )
    except ApprovalRefused as exc:
        return _page(council, process_id, version, failures=exc.failures, status=409)
    except CinflowError as exc:
        return _page(council, process_id, version, failures=[str(exc)], status=409)
    say("drafts_approved", count=len(done))
    return redirect(_here(council, process_id, version))


@bp.post(f"{DRAFT}/go-live")
@allow(*ROLES)
def go_live(council: str, process_id: str, version: int) -> Response | tuple:
    _entry(council, process_id, version)
    try:
        done = get_engine().go_live(council, current_user.username, versions={process_id: version})
    except CinflowError as exc:
        return _page(council, process_id, version, failures=[str(exc)], status=409)
    say("versions_live", count=len(done))
    return redirect(_here(council, process_id, version))


def _here(council: str, process_id: str, version: int) -> str:
    return url_for("journeys.draft", council=council, process_id=process_id, version=version)
