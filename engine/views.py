"""Plain values the engine hands out: the web app, CLI and scenarios read these, never rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True)
class ProcessInfo:
    id: int
    council: str
    process_id: str
    name: str
    version: int
    sha256: str
    deployed_at: datetime
    deployed_by: str
    comment: str
    file_name: str
    status: str = "live"  # draft, approved, live or retired (engine/lifecycle.py)


@dataclass(frozen=True)
class ChildInfo:
    id: int
    name: str
    date_of_birth: date | None
    council: str


@dataclass(frozen=True)
class TaskInfo:
    id: str
    case_id: int
    element_id: str
    name: str
    lane: str | None
    form: str | None
    due_at: datetime | None
    rule_id: str | None
    created_at: datetime
    claimed_by: str | None
    child_name: str = ""
    council: str = ""
    documentation: str = ""
    team: str | None = None
    # An escalation step: the step whose deadline was missed, and that deadline.
    escalates: str | None = None
    missed_at: datetime | None = None
    # Set once a manager agreed a new date for this step: the deadline it had before.
    original_due_at: datetime | None = None
    # Answers the step gives itself (its diagram's `answers` property): the form skips them.
    preset: dict[str, Any] = field(default_factory=dict)
    # The day the council's roll_back moved this deadline from (read from the audit where it is
    # cheap: the task page); None when not moved or not read.
    due_moved_from: date | None = None


@dataclass(frozen=True)
class TimerInfo:
    id: str
    case_id: int
    element_id: str
    name: str
    kind: str
    attached_to: str | None
    due_at: datetime
    rule_id: str | None


@dataclass(frozen=True)
class CaseInfo:
    id: int
    child: ChildInfo
    council: str
    process_id: str
    version: int
    status: str
    revision: int
    opened_at: datetime
    closed_at: datetime | None
    training: bool
    attention: str | None = None
    team: str | None = None
    tasks: list[TaskInfo] = field(default_factory=list)
    timers: list[TimerInfo] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def child_name(self) -> str:
        return self.child.name

    @property
    def current_steps(self) -> list[str]:
        return [t.name for t in self.tasks]


@dataclass(frozen=True)
class AuditInfo:
    id: int
    at: datetime
    actor: str
    case_id: int | None
    task_id: str | None
    element_id: str | None
    action: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class Completion:
    """What a person sees after completing a step: the case and what became ready."""

    case: CaseInfo
    next_tasks: list[TaskInfo]


@dataclass(frozen=True)
class DiagramInfo:
    """What the case page highlights: element ids of the top-level diagram by state."""

    process_id: str
    version: int
    xml: str
    completed: list[str]
    current: list[str]
    overdue: list[str]
    names: dict[str, str] = field(default_factory=dict)
    holds: list[str] = field(default_factory=list)  # sub-processes and calls holding a step
    steps_done: list[CompletedStep] = field(default_factory=list)  # from the audit, in order
    calls: dict[str, CalledDiagram] = field(default_factory=dict)  # "call/call" -> its marks
    next_steps: list[tuple[str, str]] = field(default_factory=list)  # (name, lane), nearest first


@dataclass(frozen=True)
class CalledDiagram:
    """A called process the case is inside, as its own drawing (keyed by the call ids)."""

    process_id: str
    name: str
    completed: list[str]
    current: list[str]
    overdue: list[str]
    holds: list[str]
    names: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class NotificationInfo:
    id: int
    case_id: int | None
    kind: str
    message: str
    created_at: datetime
    read_at: datetime | None


@dataclass(frozen=True)
class NewChild:
    """The child a new case is for (`Engine.start_case`)."""

    name: str
    date_of_birth: date | None = None


@dataclass(frozen=True)
class WorklistPage:
    """One page of `Engine.worklist()`: the tasks shown and how many match in all."""

    tasks: list[TaskInfo]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class ClaimerCounts:
    """Open tasks one person (None: nobody) holds in one team: `Engine.worklist_counts()`."""

    team: str | None
    claimed_by: str | None
    total: int
    due_soon: int
    overdue: int


@dataclass(frozen=True)
class DeadlineView:
    """How a step's deadline reads (`engine.wording.describe_deadline`): the same words on the
    worklist, the case, task and escalation pages, in training, the inbox and mail. Pages show
    `text` (and `note` beside it) and never word a deadline themselves."""

    due: date | None
    state: str  # none | overdue | today | soon | later
    days: int | None  # working days left (negative once overdue)
    # "Thu 7 Jan 2027, in 3 working days", "Fri 8 Jan 2027, today", "Sat 9 Jan 2027, tomorrow",
    # "Mon 4 Jan 2027, overdue by 2 working days"; "No deadline"
    text: str
    due_short: str = ""  # "Thu 7 Jan 2027"
    # On a day that is not a working day: "not a working day: last working day before it is
    # Fri 8 Jan 2027"; moved there by the council's roll_back: "moved from Sun 10 Jan 2027, not
    # a working day"; "" otherwise
    note: str = ""

    @property
    def summary(self) -> str:
        """The deadline in one line, for lists and mail: "Thu 7 Jan 2027, in 3 working days", or
        "Sun 10 Jan 2027, in 4 working days (not a working day: last working day before it is
        Fri 8 Jan 2027)"."""
        return self.text + (f" ({self.note})" if self.note else "")

    @property
    def note_sentence(self) -> str:
        """The note on a line of its own: "Not a working day: last working day before it is
        Fri 8 Jan 2027"."""
        return self.note[:1].upper() + self.note[1:]

    @property
    def overdue(self) -> bool:
        return self.state == "overdue"


@dataclass(frozen=True)
class CompletedStep:
    """Who completed a step and when: the one answer every page gives (from the audit)."""

    task_id: str
    case_id: int
    name: str
    by: str
    at: datetime
    element_id: str = ""
    view: str = ""  # the drawing it is in: "" the case's own, else call activity ids with "/"


@dataclass(frozen=True)
class TaskPage:
    """Everything the task page shows, read in one engine call (`Engine.task_page`)."""

    task: TaskInfo
    case: CaseInfo
    draft: dict[str, Any] | None
    # Without a draft: the census questions' answers the case already knows (pre-filled).
    known: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TaskSubmission:
    """What the task page's POST did (`Engine.submit_task`): nothing (the page as it is), a
    draft saved, a step completed, or nothing saved because of wrong answers or a refusal."""

    page: TaskPage  # the step and case as the person saw them (re-shown after a refusal)
    form: dict[str, Any]  # the step's form, without the questions it answers itself
    errors: list[Any] = field(default_factory=list)  # wrong answers (FieldError)
    refused: Exception | None = None  # the engine's refusal (an engine.errors type)
    saved: bool = False  # the answers were kept as a draft
    completion: Completion | None = None  # the step was completed
