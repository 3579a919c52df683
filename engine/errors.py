"""Every refusal the engine makes, each a distinct type with a message a person can act on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class CinflowError(Exception):
    """Base: the request was refused and nothing was changed."""


class NotFound(CinflowError):
    pass


class UnknownProcess(NotFound):
    pass


class UnknownCase(NotFound):
    pass


class UnknownTask(NotFound):
    pass


class TaskAlreadyCompleted(CinflowError):
    """The step was completed already; `completed` (engine.views.CompletedStep) says by whom
    and when, or is None when the asker may not know (another team's case)."""

    def __init__(self, message: str, completed: Any = None) -> None:
        super().__init__(message)
        self.completed = completed


class WrongCase(CinflowError):
    """The task exists but belongs to another case: a tampered or mixed-up link."""


class Conflict(CinflowError):
    """Someone else changed the case first (stale revision); reload and try again."""


class ClaimConflict(CinflowError):
    def __init__(self, message: str, claimed_by: str | None) -> None:
        super().__init__(message)
        self.claimed_by = claimed_by


class NotAllowed(CinflowError):
    pass


class CaseClosed(CinflowError):
    pass


class MessageNotExpected(CinflowError):
    pass


@dataclass(frozen=True)
class FieldError:
    field: str  # dotted path, "" for the whole form
    message: str
    kind: str = ""  # the JSON Schema keyword that failed: required, type, format, oneOf...


class InvalidData(CinflowError):
    """Submitted form data failed its JSON Schema; `errors` names each field."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{e.field or 'form'}: {e.message}" for e in errors))


class DiagramError(CinflowError):
    """The case's diagram could not go on: a condition or timer failed on the case's data, or
    the diagram cannot run a construct. The transaction is rolled back, so the step stays as it
    was (and can be completed once the diagram or the data is fixed)."""

    def __init__(
        self,
        problem: str,
        *,
        element_id: str | None = None,
        element_name: str | None = None,
        process_id: str | None = None,
        expression: str | None = None,
    ) -> None:
        self.problem = problem
        self.element_id = element_id
        self.element_name = element_name
        self.process_id = process_id
        self.expression = expression
        where = ""
        if element_id:
            named = f'"{element_name}" ({element_id})' if element_name else element_id
            where = f" at {named}" + (f" in process {process_id}" if process_id else "")
        super().__init__(
            f"the diagram cannot go on{where}: {problem}. Nothing was changed: fix the diagram "
            "(deploy a corrected version) or the case data, then try again"
        )


class NotInLane(NotAllowed):
    """The person's role may not act in the task's lane (lanes are roles, per council)."""


class InvalidInput(CinflowError):
    """An id, user name or payload the engine cannot take (wrong type, bad characters, too
    deep or too big): refused before anything is read or written."""


class TooLarge(InvalidInput):
    """Within the form's rules but over a size budget (answers, a message, a case's data)."""


class DatabaseUnavailable(CinflowError):
    """The database could not be reached after retrying; nothing was changed. Try again."""


class BadTaskId(InvalidInput, UnknownTask):
    """Not a task id at all (task ids are UUIDs): no task has it, so also an UnknownTask."""


class BadCaseId(InvalidInput, UnknownCase):
    """Not a case id at all (case ids are positive whole numbers): also an UnknownCase."""
