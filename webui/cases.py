"""The case page: the child, what is waiting and by when, the plan, what has happened, and where
the case is in its process (a bpmn-js diagram with a text list of the same states).

Also the small pieces the task pages share: the child's summary and a step's deadline.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import Blueprint, Response, abort, render_template
from flask_login import current_user

from engine import clock
from engine.calendar import LONDON
from engine.errors import NotFound, UnknownCase
from engine.views import DeadlineView
from engine.wording import describe_deadline, rolled_back_from

from .access import WORKER_ROLES, allow, my_teams, require_case
from .engine_access import get_casework, get_engine
from .filters import uk_date, uk_datetime
from .security import call_path, stored_text

bp = Blueprint("cases", __name__)


# --- shared with the task pages -----------------------------------------------------------------


def today() -> date:
    """Today in London, by the engine's clock (tests fix it)."""
    return clock.now().astimezone(LONDON).date()


def age_text(born: date | None, on: date | None = None) -> str:
    """'9 years old', '8 months old', 'Under 1 month old'; '' without a date of birth."""
    if born is None:
        return ""
    on = on or today()
    years = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    if years >= 1:
        return f"{years} year{'s' if years != 1 else ''} old"
    months = (on.year - born.year) * 12 + on.month - born.month - (on.day < born.day)
    if months >= 1:
        return f"{months} month{'s' if months != 1 else ''} old"
    return "Under 1 month old"


@dataclass(frozen=True)
class ChildSummary:
    name: str
    date_of_birth: str  # "4 May 2016", or "" when not recorded
    age: str


def child_summary(case: Any) -> ChildSummary:
    born = case.child.date_of_birth
    return ChildSummary(case.child.name, uk_date(born) if born else "", age_text(born))


def deadline(task: Any, moved_from: date | None = None) -> DeadlineView | None:
    """How a step's deadline reads, as on the worklist; None when it has none. A deadline the
    council's roll_back moved says from where: the task page's task knows (`due_moved_from`),
    the case page reads it from the audit trail it shows (`moved_from`)."""
    moved_from = moved_from or getattr(task, "due_moved_from", None)
    return deadline_on(task, task.due_at, moved_from)


def deadline_on(
    task: Any, due_at: datetime | None, moved_from: date | None = None
) -> DeadlineView | None:
    """Another date of a step read as a deadline (an escalation's missed and agreed dates)."""
    if due_at is None:
        return None
    calendar = get_engine().calendar(task.council)
    return describe_deadline(due_at, clock.now(), calendar, moved_from=moved_from)


def done_by(steps: Iterable[Any]) -> dict[str, str]:
    """Who completed each of `steps` (CompletedStep), username -> the name the service knows."""
    people: dict[str, str] = {}
    return {s.by: display_name(s.by, people) for s in steps}


def display_name(username: str | None, _cache: dict[str, str] | None = None) -> str:
    """A person's name as the service knows it, falling back to their username."""
    if not username:
        return ""
    if _cache is not None and username in _cache:
        return _cache[username]
    if username in ("scheduler", "system", "demo"):
        name = "cinflow (automatic)"
    else:
        try:
            name = get_engine().people.get(username).display_name
        except NotFound:
            name = username
    if _cache is not None:
        _cache[username] = name
    return name


def team_name(key: str | None) -> str:
    """A team's name ("Portsmouth North CIN team"), or its key when it is not known."""
    if not key:
        return ""
    teams = get_engine().worklist_teams([key])
    return next((t.name for t in teams if t.key == key), key)


# --- the chronology -----------------------------------------------------------------------------

VISIT_FORMS = {"visit_record": "visit_date", "visit_done": "visit_date",
               "initial_visit": "visit_date"}  # fmt: skip
MEETING_FORMS = {
    "meeting_record": "meeting_date",
    "family_network_meeting": "meeting_date",
    "strategy_discussion": "discussion_date",
}
MESSAGES = {
    "significant_change": "A significant change in the child's circumstances",
    "meeting_cancelled": "A meeting was cancelled",
    "step_up_requested": "A step up to child protection was asked for",
    "moved_abroad": "The family moved abroad",
    "child_turned_18": "The young person turned 18",
    "child_died": "The child died",
    "became_looked_after": "The child became looked after",
    "family_moving_out": "The family is moving out of the area",
    "cp_plan_made": "A child protection plan was made",
    "assessment_update_needed": "An updated assessment is needed",
}
QUIET = {"viewed", "draft_saved", "task_claimed", "task_unclaimed", "training_snapshot"}


def humanise(code: str) -> str:
    words = re.sub(r"[_\-:]+", " ", code or "").strip()
    return words[:1].upper() + words[1:]


def _iso_day(value: Any) -> str:
    try:
        return uk_date(date.fromisoformat(str(value)))
    except ValueError:
        return ""


@dataclass(frozen=True)
class Entry:
    at: datetime
    when: str
    what: str
    detail: str
    who: str


def describe(event: Any, names: Mapping[str, str]) -> tuple[str, str] | None:
    """(what happened, more detail) in plain English; None for events the chronology skips."""
    action, detail = event.action, event.detail or {}
    if action in QUIET:
        return None
    if action == "case_started":
        return "Case opened", ""
    if action == "task_completed":
        step = detail.get("name") or names.get(event.element_id or "", "a step")
        form = str(detail.get("form") or "").removesuffix(".json")
        answers = detail.get("data") or {}
        if form in VISIT_FORMS:
            day = _iso_day(answers.get(VISIT_FORMS[form]))
            return "Visit recorded", f"{step}{f' – visit on {day}' if day else ''}"
        if form in MEETING_FORMS:
            day = _iso_day(answers.get(MEETING_FORMS[form]))
            return "Meeting recorded", f"{step}{f' – held on {day}' if day else ''}"
        return "Step completed", step
    if action == "message_received":
        name = str(detail.get("message", ""))
        return "News received", MESSAGES.get(name, humanise(name))
    if action.startswith("timer_fired"):
        kind = action.partition(":")[2]
        step = names.get(detail.get("attached_to") or "", "")
        timer = detail.get("name") or ""
        if kind == "deadline":
            about = f"‘{step}’ was not done in time" if step else "A deadline passed"
            return "Deadline missed – escalated", f"{about}{f' ({timer})' if timer else ''}"
        if kind == "reminder":
            about = f"‘{step}’ is due soon" if step else "A deadline is near"
            return "Reminder sent", f"{about}{f' ({timer})' if timer else ''}"
        return "Time passed", timer or "A timer in the process went off"
    if action == "task_assigned":
        step = names.get(event.element_id or "", "A step")
        return "Step given to someone", f"‘{step}’ given to {display_name(detail.get('to'))}"
    if action == "deadline_rolled_back":
        step = names.get(event.element_id or "", "A step")
        to = uk_date(datetime.fromisoformat(str(detail.get("to"))))
        return "Deadline moved to a working day", f"‘{step}’ now due {to}: {detail.get('reason')}"
    if action == "case_completed":
        return "Case finished", "Every step of the process is complete"
    if action == "case_cancelled":
        return "Case cancelled", str(detail.get("reason") or "")
    if action == "case_moved_team":
        return (
            "Case moved to another team",
            f"Now with {team_name(detail.get('to')) or 'another team'}",
        )
    if action == "case_needs_attention":
        return "Needs a manager's attention", "A timer in this case could not run"
    if action == "attention_cleared":
        return "Problem dealt with", "A manager cleared the problem with this case's timers"
    return humanise(action), ""


def chronology(events: Iterable[Any], names: Mapping[str, str]) -> list[Entry]:
    """What happened in the case, newest first."""
    people: dict[str, str] = {}
    entries = []
    for event in reversed(list(events)):  # newest first, also among events of one instant
        described = describe(event, names)
        if described is None:
            continue
        what, detail = described
        entries.append(
            Entry(event.at, uk_datetime(event.at), what, detail, display_name(event.actor, people))
        )
    entries.sort(key=lambda e: e.at, reverse=True)  # stable: ties keep newest first
    return entries


# --- the plan -----------------------------------------------------------------------------------

ACHIEVED = {"yes": "Yes", "partly": "Partly", "no": "No"}


def plan_rows(data: Mapping[str, Any]) -> list[dict[str, str]]:
    """The current CIN plan's SMART rows, ready to show; [] when there is no plan yet."""
    plan = data.get("cin_plan") if isinstance(data, Mapping) else None
    items = plan.get("items") if isinstance(plan, Mapping) else None
    if not isinstance(items, list):
        return []
    rows = []
    for item in items:
        if not isinstance(item, Mapping):
            continue
        rows.append(
            {
                "assessed_need": str(item.get("assessed_need", "")),
                "outcome": str(item.get("outcome", "")),
                "actions": str(item.get("actions", "")),
                "who": str(item.get("who", "")),
                "by_when": _iso_day(item.get("by_when")) or str(item.get("by_when", "")),
                "achieved": ACHIEVED.get(str(item.get("achieved", "")), "Not yet reviewed"),
            }
        )
    return rows


def plan_facts(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    plan = data.get("cin_plan") if isinstance(data, Mapping) else None
    if not isinstance(plan, Mapping):
        return []
    stages = {"outline": "Outline plan", "initial": "Initial plan", "amended": "Amended plan"}
    facts = []
    if plan.get("plan_stage"):
        facts.append(("Plan", stages.get(plan["plan_stage"], humanise(plan["plan_stage"]))))
    if plan.get("lead_professional_name"):
        facts.append(("Lead professional", str(plan["lead_professional_name"])))
    if plan.get("visiting_frequency_weeks"):
        weeks = plan["visiting_frequency_weeks"]
        facts.append(("Visits", f"At least every {weeks} week{'s' if weeks != 1 else ''}"))
    if plan.get("next_review_date"):
        facts.append(("Next review", _iso_day(plan["next_review_date"])))
    return facts


# --- the diagram --------------------------------------------------------------------------------


def _named(ids: Iterable[str], names: Mapping[str, str]) -> list[str]:
    """Names for the text list; elements without a name (plain gateways) are left out."""
    seen, out = set(), []
    for element in ids:
        name = names.get(element, "")
        if name and name != element and name not in seen:
            seen.add(name)
            out.append(name)
    return out


# --- views --------------------------------------------------------------------------------------


@bp.get("/cases/<int:case_id>")
@allow(*WORKER_ROLES)
def show(case_id: int) -> str:
    case = require_case(case_id, with_data=True)
    engine = get_engine()
    diagram = engine.case_diagram(case.id, teams=my_teams())
    names = diagram.names
    trail = engine.audit_trail(case.id)
    tasks = [(t, deadline(t, moved_from=rolled_back_from(trail, t.due_at))) for t in case.tasks]
    process_names = {
        (p.process_id, p.version): p.name for p in engine.list_processes(all_versions=True)
    }
    overdue_named = _named(diagram.overdue, names)
    casework = get_casework()
    allocated = casework.allocated_to(case.id)
    return render_template(
        "cases/show.html",
        case=case,
        child=child_summary(case),
        process_name=process_names.get((case.process_id, case.version), case.process_id),
        tasks=tasks,
        people={t.claimed_by: display_name(t.claimed_by) for t in case.tasks if t.claimed_by},
        plan=plan_rows(case.data),
        plan_facts=plan_facts(case.data),
        handed_on=engine.handed_on(case.council, case.data or {}),
        entries=chronology(trail, names),
        diagram=diagram,
        states={
            "current": [n for n in _named(diagram.current, names) if n not in overdue_named],
            "overdue": overdue_named,
        },
        done_by=done_by(diagram.steps_done),
        team=team_name(case.team),
        allocated=allocated,
        allocated_name=display_name(allocated) if allocated else "",
        allocatable=casework.allocatable(case.team)
        if case.team and case.status == "open" and current_user.is_manager
        else [],
    )


@bp.get("/cases/<int:case_id>/diagram.bpmn")
@allow(*WORKER_ROLES)
def diagram_xml(case_id: int) -> Response:
    """The BPMN XML of the version the case runs on, for the viewer; another team's is a 404.

    Stored XML is data a practice manager wrote, never a page: it goes out as plain text, as a
    download, in a sandbox with nothing allowed, so a browser cannot run anything a diagram
    carries (an XHTML <script> element, say) in our origin. The viewer reads it with fetch().
    `?call=` names a call activity (ids from the top, joined with "/"): that called process's
    file, as deployed with the case's version.
    """
    engine = get_engine()
    try:
        xml = engine.case_process_xml(case_id, teams=my_teams(), call=call_path())
    except UnknownCase:
        abort(404)
    engine.record_view(case_id, current_user.username, "diagram")
    return stored_text(xml, f"case-{case_id}.bpmn")
