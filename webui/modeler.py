"""The practice manager's modeler: open a version of one of their council's processes in
bpmn-js, change it, see the deploy's findings on each element (bpmnlint running the same rule
set as the server), save it as a new DRAFT version (never live; the server validates it again
and refuses with every problem, saving nothing) or download it. Running the journeys against a
draft, its diff on the diagram and approving it live in webui/journeys.py and processes.py.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, jsonify, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from engine.deployment import DeploymentError
from engine.errors import CinflowError, NotFound

from .access import allow
from .engine_access import get_engine
from .processes import ROLES, _council

bp = Blueprint("modeler", __name__, url_prefix="/processes")

#: At most this much XML is read from a save (MAX_CONTENT_LENGTH bounds the request as well).
MAX_XML_CHARS = 900_000


@bp.get("/<council>/<process_id>/v<int:version>/edit")
@allow(*ROLES)
def edit(council: str, process_id: str, version: int) -> str:
    engine = get_engine()
    entries = {e.process_id: e for e in engine.process_library(_council(council))}
    entry = entries.get(process_id)
    if entry is None or not any(v.version == version for v in entry.versions):
        abort(404)
    rules, context = engine.conventions(council)
    data = {
        "xmlUrl": url_for(
            "processes.version_xml", council=council, process_id=process_id, version=version
        ),
        "saveUrl": url_for("modeler.save", council=council, process_id=process_id),
        "fileName": f"{process_id}.bpmn",
        "csrfToken": generate_csrf(),
        "rules": rules,
        "context": context,
        "choices": engine.modeler_choices(council),
    }
    return render_template(
        "modeler/edit.html", council=council, entry=entry, version=version, data=data
    )


@bp.post("/<council>/<process_id>/drafts")
@allow(*ROLES)
def save(council: str, process_id: str) -> tuple[Response, int]:
    """Save the posted diagram as a draft; JSON either way (the modeler shows it)."""
    council = _council(council)
    xml = request.form.get("xml", "")
    comment = request.form.get("comment", "").strip()[:500]
    if not xml.strip():
        return _refused([{"message": "the diagram is empty: nothing was saved"}])
    if len(xml) > MAX_XML_CHARS:
        return _refused([{"message": "the diagram is too large (over 900,000 characters)"}])
    try:
        info, new = get_engine().save_process_draft(
            council, process_id, xml, current_user.username, comment or "saved in the modeler"
        )
    except DeploymentError as exc:
        return _refused(
            [
                {"elementId": p.element_id, "line": p.line, "message": p.message}
                for p in exc.problems
            ]
        )
    except NotFound:
        abort(404)
    except CinflowError as exc:
        return _refused([{"message": str(exc)}])
    message = (
        f"Saved as draft version {info.version}. A second practice manager approves it."
        if new
        else f"No changes: version {info.version} is the same diagram."
    )
    return jsonify(
        {
            "ok": True,
            "version": info.version,
            "status": info.status,
            "message": message,
            "libraryUrl": url_for("processes.library", council=council),
        }
    ), 200


def _refused(problems: list[dict]) -> tuple[Response, int]:
    return jsonify({"ok": False, "problems": problems}), 422
