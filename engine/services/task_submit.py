"""The task page's POST in one engine call: read the step, check the answers, then save a draft
or complete the step, and hand back everything the page needs to say what happened.

The web layer parses posted fields into answers, which needs the step's form; it passes a
`ReadAnswers` that the engine calls with that form once it has found the step. A refusal the
page re-shows (a wrong answer, another lane, someone else's step, a changed, closed or stuck
case) comes back in `TaskSubmission` with nothing saved; an unknown or finished step raises
(UnknownTask, WrongCase, TaskAlreadyCompleted) as `Engine.task_page` does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine import forms
from engine.errors import (
    CaseClosed,
    Conflict,
    DiagramError,
    InvalidData,
    InvalidInput,
    NotAllowed,
    NotInLane,
    WrongCase,
)
from engine.views import TaskInfo, TaskSubmission

if TYPE_CHECKING:
    from engine.services import Engine

# Given the step's form (without the questions it answers itself): the answers as read from the
# post, and whether any could not be read at all (such answers are never completed).
ReadAnswers = Callable[[Mapping[str, Any]], tuple[dict[str, Any], bool]]
NO_FORM: dict[str, Any] = {"type": "object", "properties": {}}
# Refusals that leave the page up, with the person's answers, and nothing saved.
REFUSALS = (InvalidInput, NotAllowed, Conflict, CaseClosed, DiagramError)


def step_form(task: TaskInfo, forms_dir: Path) -> dict[str, Any]:
    """The step's form as the case's council asks it (`forms.for_council`), without the
    questions the step answers itself (`task.preset`)."""
    if not task.form:
        return NO_FORM
    form = forms.load_form(task.form, forms_dir, task.council)
    if not task.preset:
        return form
    return {
        **form,
        "required": [name for name in form.get("required", []) if name not in task.preset],
        "properties": {k: v for k, v in form["properties"].items() if k not in task.preset},
    }


def submit_task(
    engine: Engine,
    task_id: str,
    user: str,
    teams: Iterable[str],
    action: str,
    read_answers: ReadAnswers,
    *,
    revision: int | None = None,
    case_id: int | None = None,
) -> TaskSubmission:
    """`action` "save" keeps the answers as this person's draft (not checked); "complete"
    checks them and completes the step; anything else only reads the page (e.g. a form row
    added or removed, which the web layer draws)."""
    teams = tuple(teams)
    page = engine.task_page(task_id, user, teams, record_view=False)  # a POST is no new view
    task = page.task
    if case_id is not None and case_id != task.case_id:
        raise WrongCase(f"task {task_id} is not on case {case_id}")  # a tampered link
    schema = step_form(task, engine.forms_dir)
    shown = TaskSubmission(page, schema)
    if action not in ("save", "complete"):
        return shown
    data, unreadable = read_answers(schema)
    if action == "save":
        try:
            engine.save_draft(task.id, user, data)
        except NotInLane as refused:
            return replace(shown, refused=refused)
        except InvalidData as invalid:
            return replace(shown, errors=list(invalid.errors))
        return replace(shown, saved=True)
    if task.claimed_by not in (None, user):
        refused = NotAllowed(f"{task.claimed_by} is working on this step")
        return replace(shown, refused=refused)
    if unreadable:
        # Unreadable answers are never completed; list the form's other problems with them
        # (the engine's one check, dates in the future included).
        found: list[Any] = []
        try:
            if task.form:
                forms.validate(task.form, {**data, **task.preset}, engine.forms_dir, task.council)
        except InvalidData as invalid:
            found += invalid.errors
        return replace(shown, errors=found)
    try:
        done = engine.complete_task(
            task.id,
            data,
            user,
            case_id=task.case_id,
            revision=revision if revision is not None else -1,
        )
    except InvalidData as invalid:
        return replace(shown, errors=list(invalid.errors))
    except NotAllowed as refused:
        if isinstance(refused, NotInLane):
            return replace(shown, refused=refused)
        # someone took the step meanwhile: show who holds it now (or that it is done)
        fresh = engine.task_page(task_id, user, teams, record_view=False)
        return replace(shown, page=replace(page, task=fresh.task), refused=refused)
    except REFUSALS as refused:
        return replace(shown, refused=refused)
    return replace(shown, completion=done)
