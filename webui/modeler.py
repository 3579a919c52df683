"""The practice manager's modeler: open a version of one of their council's processes in
bpmn-js, change it, see the deploy's findings on each element (bpmnlint running the same rule
set as the server), save it as a new DRAFT version (never live; the server validates it again
and refuses with every problem, saving nothing) or download it. Running the journeys against a
draft, its diff on the diagram and approving it live in webui/journeys.py and processes.py.
"""

from __future__ import annotations

import re

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
    xml_url = url_for(
        "processes.version_xml", council=council, process_id=process_id, version=version
    )
    return render_template(
        "modeler/edit.html",
        council=council,
        title=f"Change {entry.name}",
        caption=f"Starting from version {version}.",
        name=entry.name,
        back=(
            url_for("processes.version", council=council, process_id=process_id, version=version),
            f"Back to version {version}",
        ),
        data=_page_data(council, process_id, xmlUrl=xml_url),
    )


@bp.get("/<council>/new")
@allow(*ROLES)
def new(council: str) -> str | tuple[str, int]:
    """A new process starts from the council template (processes/templates/new_process.bpmn):
    the practice manager names it first; its id is the council's prefix and the name."""
    council = _council(council)
    name = " ".join(request.args.get("name", "").split())[:120]
    if "name" not in request.args:
        return render_template("modeler/new.html", council=council, name="", error=None)
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:60]
    known = {e.process_id for e in get_engine().process_library(council)}
    process_id = f"{council}_{slug}"
    error = None
    if not slug:
        error = "Enter a name for the process, with at least one letter or number"
    elif process_id in known:
        error = f"There is already a process {process_id}: change it from the procedures page"
    if error:
        return render_template("modeler/new.html", council=council, name=name, error=error), 400
    xml = get_engine().new_process_xml(council, process_id, name)
    return render_template(
        "modeler/edit.html",
        council=council,
        title=f"New process: {name}",
        caption=f"Its id will be {process_id}.",
        name=name,
        back=(url_for("processes.library", council=council), "Back to the procedures"),
        data=_page_data(council, process_id, xml=xml),
    )


def _page_data(council: str, process_id: str, **source: str) -> dict:
    """What the modeler's script reads (JSON in the page): where the diagram and the save are,
    the deploy rule set with the council's context, and the panel's choices."""
    engine = get_engine()
    rules, context = engine.conventions(council)
    return {
        **source,
        "saveUrl": url_for("modeler.save", council=council, process_id=process_id),
        "fileName": f"{process_id}.bpmn",
        "csrfToken": generate_csrf(),
        "rules": rules,
        "context": context,
        "choices": engine.modeler_choices(council),
    }


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
        f"Saved as draft version {info.version}. Run the journeys against it and send it for "
        "approval; a second practice manager approves it."
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
            "draftUrl": url_for(
                "journeys.draft", council=council, process_id=process_id, version=info.version
            )
            if info.status == "draft"
            else None,
        }
    ), 200


def _refused(problems: list[dict]) -> tuple[Response, int]:
    return jsonify({"ok": False, "problems": problems}), 422
