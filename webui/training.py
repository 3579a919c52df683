"""Training: a trainer starts a training case on a pathway or route of their council and walks it
on the diagram, on the case's own clock (engine.services.training does the work).

Only trainers come here, and a trainer reaches only their own training cases: any other case id
is a 404, so no live child's record can be reached from these pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_login import current_user

from engine.calendar import LONDON
from engine.errors import InvalidData, NotAllowed, UnknownCase, UnknownProcess, UnknownTask
from engine.services.task_submit import step_form
from engine.views import DeadlineView
from engine.wording import describe_deadline

from . import form_render as fr
from .access import allow, allow_public, my_teams
from .cases import done_by
from .engine_access import get_engine
from .security import call_path, stored_text
from .tasks import guidance

bp = Blueprint("training", __name__, url_prefix="/training")
follow_bp = Blueprint("follow", __name__)


@dataclass(frozen=True)
class Step:
    """A current step of the walkthrough, as the page shows it."""

    task: Any
    guidance: Any
    deadline: DeadlineView | None


def _trainer() -> str:
    return current_user.username


def _councils() -> list[str]:
    """The councils of the trainer's teams."""
    teams = get_engine().worklist_teams(my_teams())
    return sorted({t.council for t in teams})


def _view(case_id: int) -> Any:
    try:
        return get_engine().training.view(case_id, _trainer())
    except UnknownCase:
        abort(404)


def _deadline(view: Any, due_at: Any) -> DeadlineView | None:
    """The deadline in the words every page uses, read at the training case's own time."""
    if due_at is None:
        return None
    return describe_deadline(due_at, view.now, get_engine().calendar(view.case.council))


def _back_to(case_id: int) -> Any:
    """Back to the page the trainer came from: the presenter view or the walkthrough."""
    page = "training.present" if request.form.get("to") == "present" else "training.walkthrough"
    return redirect(url_for(page, case_id=case_id))


def _schema(task: Any) -> dict[str, Any]:
    """The step's form as the training case's council asks it (the engine's one rule)."""
    return step_form(task, get_engine().forms_dir)


@bp.get("")
@allow("trainer")
def index() -> str:
    engine = get_engine()
    councils = _councils()
    processes = [p for c in councils for p in engine.list_processes(council=c)]
    names = {(p.council, p.process_id): p.name for p in processes}
    cases = engine.training.list(_trainer())
    return render_template(
        "training/index.html",
        processes=sorted(processes, key=lambda p: (p.council, p.name)),
        cases=cases,
        name_of=lambda c: names.get((c.council, c.process_id), c.process_id),
    )


@bp.post("")
@allow("trainer")
def start() -> Any:
    council, _, process_id = request.form.get("process", "").partition(":")
    if council not in _councils():
        abort(404)
    try:
        case = get_engine().training.start(process_id, council, _trainer())
    except UnknownProcess:
        abort(404)
    return redirect(url_for("training.walkthrough", case_id=case.id))


def _page(
    case_id: int,
    chosen: str | None = None,
    raw: dict | None = None,
    errors: dict | None = None,
    problem: str | None = None,
    status: int = 200,
) -> Any:
    engine = get_engine()
    view = _view(case_id)
    steps = [
        Step(t, guidance(engine.task(t.id).documentation, t.rule_id), _deadline(view, t.due_at))
        for t in view.case.tasks
    ]
    current = next((s for s in steps if s.task.id == chosen), steps[0] if steps else None)
    form = None
    if current is not None:
        schema = _schema(current.task)
        if raw is None:
            raw = fr.raw_from_data(schema, engine.training.example_answers(current.task.form))
        form = fr.build(schema, raw, errors)
    diagram = engine.training.diagram(case_id, _trainer())
    names = {p.process_id: p.name for p in engine.list_processes(council=view.case.council)}
    return render_template(
        "training/walkthrough.html",
        view=view,
        case=view.case,
        process_name=names.get(view.case.process_id, view.case.process_id),
        steps=steps,
        current=current,
        form=form,
        problem=problem,
        diagram=diagram,
        done_by=done_by(diagram.steps_done),
        links=engine.training.links(case_id, _trainer()),
        clock_day=view.now.astimezone(LONDON).date(),
        timers=[(t, _deadline(view, t.due_at)) for t in view.case.timers],
    ), status


@bp.get("/<int:case_id>")
@allow("trainer")
def walkthrough(case_id: int) -> Any:
    return _page(case_id, request.args.get("step"))


@bp.get("/<int:case_id>/diagram.bpmn")
@allow("trainer")
def diagram_xml(case_id: int) -> Response:
    _view(case_id)
    try:
        xml = get_engine().case_process_xml(case_id, call=call_path())
    except UnknownCase:
        abort(404)
    return stored_text(xml, f"training-{case_id}.bpmn")


@bp.post("/<int:case_id>/steps/<task_id>")
@allow("trainer")
def complete(case_id: int, task_id: str) -> Any:
    engine = get_engine()
    view = _view(case_id)
    task = next((t for t in view.case.tasks if t.id == task_id), None)
    if task is None:
        return redirect(url_for("training.walkthrough", case_id=case_id))
    schema = _schema(task)
    raw = fr.raw_from_post(schema, request.form)
    data, problems = fr.parse(schema, raw)
    try:
        if problems:
            raise InvalidData([])
        engine.training.complete(case_id, task_id, data, _trainer(), task.name)
    except InvalidData as invalid:
        errors = fr.error_map(schema, invalid.errors, problems)
        return _page(case_id, task_id, raw, errors, status=400)
    except (UnknownTask, UnknownCase):
        abort(404)
    return redirect(url_for("training.walkthrough", case_id=case_id))


@bp.post("/<int:case_id>/clock")
@allow("trainer")
def advance(case_id: int) -> Any:
    _view(case_id)
    training = get_engine().training
    try:
        if request.form.get("action") == "next":
            training.advance(case_id, _trainer(), to_next_deadline=True)
        else:
            try:
                days = int(request.form.get("working_days", ""))
            except ValueError:
                raise NotAllowed("Enter the number of working days as a number, like 5") from None
            training.advance(case_id, _trainer(), working_days=days)
    except NotAllowed as refused:
        return _page(case_id, problem=str(refused).capitalize(), status=400)
    return _back_to(case_id)


@bp.post("/<int:case_id>/back")
@allow("trainer")
def back(case_id: int) -> Any:
    _view(case_id)
    try:
        step = int(request.form.get("step", ""))
        get_engine().training.back_to(case_id, step, _trainer())
    except (ValueError, NotAllowed):
        return _page(case_id, problem="Choose a step to go back to", status=400)
    return _back_to(case_id)


@bp.post("/<int:case_id>/restart")
@allow("trainer")
def restart(case_id: int) -> Any:
    _view(case_id)
    get_engine().training.reset(case_id, _trainer())
    return redirect(url_for("training.walkthrough", case_id=case_id))


@bp.get("/<int:case_id>/present")
@allow("trainer")
def present(case_id: int) -> Any:
    """The presenter view: large text, high contrast, keyboard shortcuts (presenter.mjs)."""
    engine = get_engine()
    view = _view(case_id)
    steps = [
        Step(t, guidance(engine.task(t.id).documentation, t.rule_id), _deadline(view, t.due_at))
        for t in view.case.tasks
    ]
    names = {p.process_id: p.name for p in engine.list_processes(council=view.case.council)}
    return render_template(
        "training/present.html",
        view=view,
        case=view.case,
        steps=steps,
        process_name=names.get(view.case.process_id, view.case.process_id),
        clock_day=view.now.astimezone(LONDON).date(),
    )


@bp.post("/<int:case_id>/next")
@allow("trainer")
def next_step(case_id: int) -> Any:
    """Complete the first current step with its form's example answers; if they do not fit
    (a decision the trainer must make), open the step on the walkthrough to answer it."""
    engine = get_engine()
    view = _view(case_id)
    if not view.case.tasks:
        return _back_to(case_id)
    task = view.case.tasks[0]
    try:
        engine.training.complete(
            case_id, task.id, engine.training.example_answers(task.form), _trainer(), task.name
        )
    except InvalidData:
        return redirect(url_for("training.walkthrough", case_id=case_id, step=task.id))
    return _back_to(case_id)


@bp.post("/<int:case_id>/share")
@allow("trainer")
def share(case_id: int) -> Any:
    _view(case_id)
    get_engine().training.share(case_id, _trainer())
    return redirect(url_for("training.walkthrough", case_id=case_id) + "#follow-heading")


# -- following along: no sign-in, the random token is the only key, nothing live is reachable ---


def _followed(token: str) -> Any:
    try:
        return get_engine().training.followed(token)
    except UnknownCase:
        abort(404)


def signature(view: Any) -> str:
    """Changes whenever the trainer moves the case: a step, the clock, going back."""
    return f"{view.case.revision}:{len(view.steps)}"


@follow_bp.get("/follow/<token>")
@allow_public
def follow(token: str) -> Any:
    view = _followed(token)
    engine = get_engine()
    names = {p.process_id: p.name for p in engine.list_processes(council=view.case.council)}
    diagram = engine.training.diagram(view.case.id, view.trainer)
    steps = [
        Step(t, guidance(engine.task(t.id).documentation, t.rule_id), _deadline(view, t.due_at))
        for t in view.case.tasks
    ]
    return render_template(
        "training/follow.html",
        view=view,
        token=token,
        case=view.case,
        steps=steps,
        diagram=diagram,
        signature=signature(view),
        process_name=names.get(view.case.process_id, view.case.process_id),
        clock_day=view.now.astimezone(LONDON).date(),
    )


@follow_bp.get("/follow/<token>/state")
@allow_public
def follow_state(token: str) -> Any:
    return {"signature": signature(_followed(token))}


@follow_bp.get("/follow/<token>/diagram.bpmn")
@allow_public
def follow_diagram(token: str) -> Response:
    view = _followed(token)
    try:
        xml = get_engine().case_process_xml(view.case.id, call=call_path())
    except UnknownCase:
        abort(404)
    return stored_text(xml, "training.bpmn")


@bp.post("/<int:case_id>/delete")
@allow("trainer")
def delete(case_id: int) -> Any:
    _view(case_id)
    get_engine().training.delete(case_id, _trainer())
    return redirect(url_for("training.index"))
