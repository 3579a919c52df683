"""A step of a case (`/tasks/<task_id>`): its guidance, the child, the deadline and the form.

One POST URL, four buttons (the `action` field):

* `save`     keep the answers as a draft for this person and step (not checked), then reload;
* `complete` check the answers and, when they are right, complete the step and say what is next;
* `add-row:<table>` / `remove-row:<table>:<n>` show the form again with a row more or less,
  saving nothing, so the repeating tables work without JavaScript.

A wrong answer re-shows the form with a GOV.UK error summary and the person's answers, nothing
saved. The page carries the case revision it was drawn from; if someone changed the case since,
the engine refuses (Conflict) and the page says to reload.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import (
    Blueprint,
    abort,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user

from engine.errors import (
    CaseClosed,
    Conflict,
    DiagramError,
    InvalidData,
    InvalidInput,
    NotAllowed,
    NotInLane,
    TaskAlreadyCompleted,
    UnknownCase,
    UnknownTask,
    WrongCase,
)
from engine.forms import load_form, validate
from engine.services.task_submit import step_form
from engine.views import CompletedStep

from . import form_render as fr
from .access import MANAGER_ROLES, WORKER_ROLES, allow, my_teams, require_case
from .cases import child_summary, deadline, deadline_on, display_name
from .engine_access import get_casework, get_engine
from .flashes import say

bp = Blueprint("tasks", __name__)

ESCALATION_FORM = "escalation_decision.json"
DONE_KEY = "cinflow_completed"  # session: what the confirmation page shows

# "... the deadline. D3 · Dudley Timescales" or "P2 · Portsmouth 1.2; D5 · Dudley Timescales"
_RULE = re.compile(r"\b[A-Z]{1,2}\d+[a-z]?(?:-[A-Z]{1,2}\d+[a-z]?)?\b")


@dataclass(frozen=True)
class Guidance:
    text: str
    rules: list[str]
    sources: list[str]


def guidance(documentation: str, rule_id: str | None = None) -> Guidance:
    """Split a step's documentation into what to do and its rule references.

    Diagrams end the documentation with references like "D5, D6 · Dudley Timescales"; the ids
    become tags and the rest a "Source" line. Documentation without them is all guidance.
    """
    doc = " ".join((documentation or "").split())
    rules: list[str] = []
    sources: list[str] = []
    text = doc
    marker = doc.find(" · ")
    if marker >= 0:
        start = doc.rfind(". ", 0, marker)
        text = doc[: start + 1] if start >= 0 else ""
        trailer = doc[start + 2 :] if start >= 0 else doc
        for part in trailer.split(";"):
            ids, dot, source = part.partition(" · ")
            if dot:
                rules += [r for r in _RULE.findall(ids) if r not in rules]
                sources.append(source.strip())
            elif part.strip():
                sources.append(part.strip())
    if rule_id and rule_id not in rules:
        rules.append(rule_id)
    return Guidance(text.strip(), rules, sources)


def _user() -> str:
    return current_user.username


def _schema(task: Any) -> dict[str, Any]:
    """The step's form, without the questions the step answers itself (the engine's rule)."""
    return step_form(task, get_engine().forms_dir)


def _int(value: Any) -> int | None:
    """A posted or linked id or revision; None unless it fits a database integer."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 <= number < 2**31 else None


def _already_done(done: CompletedStep | None, status: int) -> tuple[str, int]:
    """'This step has already been completed': by whom and when (the engine's one answer);
    a 404 when it is not the user's teams' to know."""
    if done is None:
        abort(404)
    get_engine().record_view(done.case_id, _user(), "task_done")
    return (
        render_template(
            "tasks/already_done.html",
            step=done.name or "This step",
            by=display_name(done.by),
            at=done.at,
            case_id=done.case_id,
        ),
        status,
    )


def _open_task(task_id: str, status: int, *, record_view: bool) -> Any:
    """The task page's data (engine TaskPage) for one of the user's teams' open tasks, in one
    engine call; a page (str, status) when it was completed already."""
    try:
        return get_engine().task_page(task_id, _user(), my_teams(), record_view=record_view)
    except UnknownTask:
        abort(404)
    except TaskAlreadyCompleted as done:
        return _already_done(done.completed, status)


def _page(
    task: Any,
    case: Any,
    raw: dict[str, Any],
    *,
    escalation_raw: dict[str, Any] | None = None,
    escalation_errors: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    focus: str | None = None,
    revision: int | None = None,
    problem: dict[str, str] | None = None,
    from_draft: bool = False,
    status: int = 200,
) -> tuple[str, int]:
    schema = _schema(task)
    view = fr.build(schema, raw, errors, focus)
    claimed_by_other = task.claimed_by not in (None, _user())
    escalation = _escalation(task)
    escalation_form = None
    if escalation and escalation.step_task_id and current_user.is_manager:
        escalation_form = fr.build(
            load_form(ESCALATION_FORM), escalation_raw or {}, escalation_errors
        )
    return (
        render_template(
            "tasks/show.html",
            task=task,
            case=case,
            child=child_summary(case),
            deadline=deadline(task),
            guidance=guidance(task.documentation, task.rule_id),
            form=view,
            revision=case.revision if revision is None else revision,
            problem=problem,
            from_draft=from_draft,
            claimed_by=display_name(task.claimed_by) if claimed_by_other else None,
            escalation=escalation,
            escalation_form=escalation_form,
            holder_name=display_name(task.claimed_by) if task.claimed_by else "",
            late_holder=display_name(escalation.holder) if escalation else "",
            missed=deadline_on(task, escalation.missed_at) if escalation else None,
            agreed=deadline_on(task, escalation.due_at) if escalation else None,
            original=deadline_on(task, escalation.original_due_at) if escalation else None,
        ),
        status,
    )


def _escalation(task: Any) -> Any:
    """The missed deadline behind an escalation step; None for any other step (no call)."""
    if not getattr(task, "escalates", None):
        return None
    calendar = get_engine().calendar(task.council)
    return get_casework().escalation(task.id, calendar, teams=my_teams())


@bp.post("/tasks/<task_id>/escalation")
@allow(*MANAGER_ROLES)
def decide_escalation(task_id: str) -> Any:
    """The manager's decision on a missed deadline: reason, agreed new date, oversight note."""
    shown = _open_task(task_id, 409, record_view=False)
    if isinstance(shown, tuple):
        return shown
    task, case = shown.task, shown.case
    schema = load_form(ESCALATION_FORM)
    raw = fr.raw_from_post(schema, request.form)
    data, problems = fr.parse(schema, raw)
    found: list[Any] = []
    try:
        validate(ESCALATION_FORM, data)
    except InvalidData as invalid:
        found = invalid.errors
    if not problems and not found:
        try:
            get_casework().agree_new_date(
                task.id,
                get_engine().calendar(task.council),
                agreed=date.fromisoformat(data["agreed_date"]),
                reason=data["delay_reason"],
                note=data["oversight_note"],
                by=_user(),
                teams=my_teams(),
            )
        except InvalidData as invalid:
            found = invalid.errors
        except NotAllowed as refused:
            problem = {"heading": "The new date was not recorded", "text": str(refused)}
            return _page(task, case, {}, escalation_raw=raw, problem=problem, status=409)
    if problems or found:
        errors = fr.error_map(schema, found, problems)
        return _page(task, case, {}, escalation_raw=raw, escalation_errors=errors, status=400)
    say("new_date_agreed")
    return redirect(url_for("tasks.show", task_id=task.id))


@bp.get("/tasks/<task_id>")
@allow(*WORKER_ROLES)
def show(task_id: str) -> Any:
    shown = _open_task(task_id, 200, record_view=True)
    if isinstance(shown, tuple):
        return shown
    task, case, draft = shown.task, shown.case, shown.draft
    schema = _schema(task)
    if draft is None:  # the census questions open with what the case already knows
        return _page(task, case, fr.raw_from_data(schema, shown.known or None))
    return _page(task, case, fr.raw_from_data(schema, draft), from_draft=True)


@bp.post("/tasks/<task_id>")
@allow(*WORKER_ROLES)
def submit(task_id: str) -> Any:
    """One engine call (`Engine.submit_task`) reads the step, checks and saves or completes."""
    action = request.form.get("action", "")
    revision = _int(request.form.get("revision"))
    posted: dict[str, Any] = {}

    def read_answers(schema: Any) -> tuple[dict[str, Any], bool]:
        posted["raw"] = fr.raw_from_post(schema, request.form)
        data, posted["problems"] = fr.parse(schema, posted["raw"])
        return data, bool(posted["problems"])

    engine_action = "" if fr.row_action(action) else action
    try:
        result = get_engine().submit_task(
            task_id,
            _user(),
            my_teams(),
            engine_action,
            read_answers,
            revision=revision,
            case_id=_int(request.form.get("case_id")),
        )
    except TaskAlreadyCompleted as done:
        return _already_done(done.completed, 409)
    except (WrongCase, UnknownTask, UnknownCase):
        abort(404)  # another team's, a finished or a tampered or mixed-up link
    task, case, schema = result.page.task, result.page.case, result.form
    raw = posted.get("raw") or fr.raw_from_post(schema, request.form)
    if fr.row_action(action):
        raw, focus = fr.apply_row_action(schema, raw, action)
        return _page(task, case, raw, focus=focus, revision=revision)
    if result.refused is not None:
        return _refused(task, case, raw, revision, result.refused)
    if result.saved:
        say("draft_saved")
        return redirect(url_for("tasks.show", task_id=task.id))
    # a draft is kept however its answers read; a completion lists unreadable ones too
    problems = posted.get("problems") if action == "complete" else None
    if result.errors or problems:
        errors = fr.error_map(schema, result.errors, problems or [])
        return _page(task, case, raw, errors=errors, revision=revision, status=400)
    if result.completion is None:  # neither save nor complete: the page again
        return _page(task, case, raw, revision=revision)
    mine = [t for t in result.completion.next_tasks if t.claimed_by == _user()]
    if mine:
        # The allocated worker goes straight on to their next step on the same case.
        say("next_step", task=mine[0].id)
        return redirect(url_for("tasks.show", task_id=mine[0].id))
    session[DONE_KEY] = {  # ids only: the session cookie is signed, not encrypted
        "task_id": task.id,
        "case_id": task.case_id,
        "next": [t.id for t in result.completion.next_tasks],
    }
    return redirect(url_for("tasks.done", task_id=task.id))


def _refused(
    task: Any, case: Any, raw: dict[str, Any], revision: int | None, refused: Exception
) -> tuple[str, int]:
    """The engine refused and saved nothing: the page again, saying why and what to do."""
    if isinstance(refused, NotInLane):
        return _not_your_lane(task, case, raw, revision, refused)
    if isinstance(refused, NotAllowed):
        return _claimed(task, case, raw, revision)
    if isinstance(refused, InvalidInput):
        problem = {"heading": "These answers cannot be saved", "text": str(refused)}
        return _page(task, case, raw, revision=revision, problem=problem, status=400)
    if isinstance(refused, Conflict):
        problem = {
            "heading": "Someone else changed this case while you were working on it",
            "text": "Your answers have not been saved. Save them as a draft, then reload this "
            "page to see the case as it is now.",
        }
    elif isinstance(refused, CaseClosed):
        problem = {
            "heading": "This case is closed",
            "text": "Steps of a closed case cannot be completed. Nothing has been saved.",
        }
    else:
        stuck = refused.problem if isinstance(refused, DiagramError) else str(refused)
        problem = {
            "heading": "The procedure cannot go on from this step",
            "text": f"Nothing has been saved: save your answers as a draft and tell your "
            f"practice manager, who can fix the diagram. What went wrong: {stuck}",
        }
    return _page(task, case, raw, revision=revision, problem=problem, status=409)


def _not_your_lane(
    task: Any, case: Any, raw: dict[str, Any], revision: int | None, refused: Exception
) -> tuple[str, int]:
    """The engine refused: the person's role may not act in the step's lane."""
    problem = {
        "heading": f"This step is for the {task.lane or 'another'} lane",
        "text": str(refused),
    }
    return _page(task, case, raw, revision=revision, problem=problem, status=403)


def _claimed(task: Any, case: Any, raw: dict[str, Any], revision: int | None) -> tuple[str, int]:
    who = display_name(task.claimed_by)
    problem = {
        "heading": f"{who} is working on this step",
        "text": f"Only {who} can complete it. Ask them, or a manager, to give it to you. "
        "Nothing has been saved.",
    }
    return _page(task, case, raw, revision=revision, problem=problem, status=403)


@bp.get("/tasks/<task_id>/done")
@allow(*WORKER_ROLES)
def done(task_id: str) -> Any:
    """After completing a step: what became ready next, with links."""
    record = session.get(DONE_KEY)
    if not record or record.get("task_id") != task_id:
        try:
            done = get_engine().completed_step(
                task_id, teams=my_teams(), case_id=_int(request.args.get("case"))
            )
        except UnknownTask:
            abort(404)
        return _already_done(done, 200)
    case = require_case(_int(record.get("case_id")) or 0, page="done")
    try:
        step = get_engine().completed_step(task_id, teams=my_teams(), case_id=case.id)
    except UnknownTask:
        step = None
    wanted = set(record.get("next", []))
    next_tasks = [(t, deadline(t)) for t in case.tasks if t.id in wanted]
    return render_template(
        "tasks/done.html",
        step=step.name if step else None,
        case=case,
        next_tasks=next_tasks,
        other_tasks=[(t, deadline(t)) for t in case.tasks if t.id not in wanted],
    )


def register(app: Any) -> None:
    """Add the task and case pages to the app (called once by create_app)."""
    from . import caselist, cases, frontdoor

    app.register_blueprint(cases.bp)
    app.register_blueprint(caselist.bp)
    app.register_blueprint(frontdoor.bp)
    app.register_blueprint(bp)
