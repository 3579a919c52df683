"""The worklist: a social worker's tasks, their team's unclaimed ones, what is due soon or late.

Tabs are plain links (no JavaScript needed): /worklist (my tasks), /worklist/unclaimed,
/worklist/due-soon, /worklist/overdue and, for managers, /worklist/team (counts per worker).
Filters are a GET form, so a filtered page can be bookmarked and shared.

Efficiency: every filter (teams, claimed by, unclaimed, council, child's name, task type, due
soon, overdue), the ordering and the paging run in SQL on the task projection table
(`engine.worklist()`); no case is loaded and only the page shown is read. The team overview's
counts are one GROUP BY (`engine.worklist_counts()`), the Task filter's options one DISTINCT.
Deadline words ("Thu 7 Jan 2027, in 3 working days", engine.wording) are worked out for the rows
on the page only.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user

from engine import clock
from engine.errors import (
    ClaimConflict,
    NotAllowed,
    NotFound,
    NotInLane,
    TaskAlreadyCompleted,
    UnknownTask,
)
from engine.views import DeadlineView, TaskInfo
from engine.wording import describe_deadline

from .access import MANAGER_ROLES, WORKER_ROLES, allow, my_teams, require_task
from .auth import safe_next
from .engine_access import get_engine
from .flashes import say

bp = Blueprint("worklist", __name__)

PAGE_SIZE = 25
DEFAULT_DUE_SOON_DAYS = 2
# Who can be given a task by a manager: people who do casework.
ASSIGNABLE_ROLES = WORKER_ROLES


@dataclass(frozen=True)
class Tab:
    key: str
    title: str
    endpoint: str
    args: dict[str, str]


TABS = (
    Tab("mine", "My tasks", "worklist.index", {}),
    Tab("unclaimed", "Team's unclaimed tasks", "worklist.index", {"tab": "unclaimed"}),
    Tab("due-soon", "Due soon", "worklist.index", {"tab": "due-soon"}),
    Tab("overdue", "Overdue", "worklist.index", {"tab": "overdue"}),
)
TEAM_TAB = Tab("team", "Team overview", "worklist.team_overview", {})


def due_soon_days() -> int:
    """Working days ahead that count as "due soon": CINFLOW_DUE_SOON_DAYS, default 2."""
    configured = current_app.config.get("DUE_SOON_DAYS")
    if configured is None:
        configured = os.environ.get("CINFLOW_DUE_SOON_DAYS", DEFAULT_DUE_SOON_DAYS)
    try:
        return max(0, int(configured))
    except (TypeError, ValueError):
        return DEFAULT_DUE_SOON_DAYS


# -- deadlines -----------------------------------------------------------------------------------


# How a deadline reads is engine.wording.describe_deadline (the same on every page and mail);
# here only its colour.
DEADLINE_TAGS = {
    "overdue": "govuk-tag--red",
    "today": "govuk-tag--orange",
    "soon": "govuk-tag--yellow",
}


@dataclass(frozen=True)
class Row:
    task: TaskInfo
    deadline: DeadlineView
    claimed_by_name: str | None

    @property
    def tag_class(self) -> str | None:
        return DEADLINE_TAGS.get(self.deadline.state)

    @property
    def mine(self) -> bool:
        return self.task.claimed_by == current_user.username


class _Calendars:
    """The council calendars one request needs, each asked of the engine once."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.cache: dict[str, Any] = {}

    def __call__(self, council: str) -> Any:
        if council not in self.cache:
            self.cache[council] = self.engine.calendar(council)
        return self.cache[council]


def _deadlines(tasks: Iterable[TaskInfo], engine: Any) -> list[tuple[TaskInfo, DeadlineView]]:
    now = clock.now()
    soon = due_soon_days()
    calendars = _Calendars(engine)
    return [(t, describe_deadline(t.due_at, now, calendars(t.council), soon)) for t in tasks]


# -- people ---------------------------------------------------------------------------------------


class _People:
    """Display names and team members for one request (the engine is asked once per team)."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.members: dict[str, list[Any]] = {}
        self.names: dict[str, str] = {}

    def team(self, team: str | None) -> list[Any]:
        if team is None:
            return []
        if team not in self.members:
            users = [u for u in self.engine.people.users(team=team) if u.active]
            self.members[team] = users
            self.names.update({u.username: u.display_name for u in users})
        return self.members[team]

    def prefetch(self, usernames: Iterable[str | None]) -> None:
        """Look up the names of everyone holding a task on the page at once."""
        wanted = {u for u in usernames if u and u not in self.names}
        if wanted:
            found = self.engine.worklist_display_names(wanted)
            self.names.update({u: found.get(u, u) for u in wanted})

    def name(self, username: str | None) -> str | None:
        if username is None:
            return None
        if username not in self.names:
            try:
                self.names[username] = self.engine.people.get(username).display_name
            except NotFound:
                self.names[username] = username
        return self.names[username]

    def assignable(self, team: str | None, task: TaskInfo | None = None) -> list[Any]:
        """Who in the team does casework; for a task, only those whose role may act in its
        lane (the engine refuses anyone else: processes/lanes.yaml)."""
        people = [u for u in self.team(team) if u.role in ASSIGNABLE_ROLES]
        if task is None:
            return people
        lane = self.engine.profile(task.council).lanes.get(task.lane or "", frozenset())
        return [u for u in people if u.role in lane]


# -- filters --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    child: str = ""
    task: str = ""
    council: str = ""
    team: str = ""

    @classmethod
    def from_args(cls, args: Any, councils: Sequence[str], teams: Sequence[str]) -> Filters:
        council = args.get("council", "").strip()
        team = args.get("team", "").strip()
        return cls(
            child=args.get("child", "").strip()[:200],
            task=args.get("task", "").strip()[:300],
            council=council if council in councils else "",
            team=team if team in teams else "",
        )

    @property
    def active(self) -> bool:
        return any((self.child, self.task, self.council, self.team))

    def query(self, **extra: Any) -> dict[str, Any]:
        values = {
            "child": self.child,
            "task": self.task,
            "council": self.council,
            "team": self.team,
            **extra,
        }
        return {k: v for k, v in values.items() if v not in ("", None)}


def _team_infos() -> dict[str, Any]:
    """The signed-in person's teams as engine TeamInfo, by key (only those rows are read)."""
    return {t.key: t for t in get_engine().worklist_teams(my_teams())}


def council_label(key: str) -> str:
    return key.replace("_", " ").replace("-", " ").title()


# -- pages ---------------------------------------------------------------------------------------


def _tabs() -> list[Tab]:
    tabs = list(TABS)
    if current_user.role in MANAGER_ROLES:
        tabs.append(TEAM_TAB)
    return tabs


def _tab_counts(engine: Any, scope: dict[str, Any]) -> dict[str, int]:
    """How many tasks each tab holds (before the child and task filters), in one query."""
    counts = engine.worklist_counts(
        teams=scope["teams"], council=scope["council"], due_soon_days=due_soon_days()
    )
    me = current_user.username
    return {
        "mine": sum(c.total for c in counts if c.claimed_by == me),
        "unclaimed": sum(c.total for c in counts if c.claimed_by is None),
        "due-soon": sum(c.due_soon for c in counts),
        "overdue": sum(c.overdue for c in counts),
    }


@bp.get("/worklist", defaults={"tab": "mine"})
@bp.get("/worklist/<any(unclaimed, 'due-soon', overdue):tab>")
@allow(*WORKER_ROLES)
def index(tab: str) -> str:
    engine = get_engine()
    teams = _team_infos()
    team_keys = sorted(teams) or list(my_teams())
    councils = sorted({t.council for t in teams.values()})
    filters = Filters.from_args(request.args, councils, team_keys)

    # The tab's scope: the Task filter offers the task names found in it.
    scope: dict[str, Any] = {
        "teams": [filters.team] if filters.team else list(my_teams()),
        "claimed_by": current_user.username if tab == "mine" else None,
        "council": filters.council or None,
    }
    tab_scope = {
        "unclaimed_only": tab == "unclaimed",
        "overdue": tab == "overdue",
        "due_soon_days": due_soon_days() if tab == "due-soon" else None,
    }
    # The Task filter offers only the steps found in this tab.
    task_names = engine.worklist_task_names(**scope, **tab_scope)
    # All filtering, ordering and paging in SQL; a page out of range gives the nearest one.
    result = engine.worklist(
        **scope,
        **tab_scope,
        child_name_contains=filters.child or None,
        task=filters.task or None,
        page=request.args.get("page", 1, type=int) or 1,
        per_page=PAGE_SIZE,
    )
    total, page, pages = result.total, result.page, result.pages

    people = _People(engine)
    people.prefetch(t.claimed_by for t in result.tasks)
    rows = [Row(t, d, people.name(t.claimed_by)) for t, d in _deadlines(result.tasks, engine)]
    current = next(t for t in TABS if t.key == tab)
    return render_template(
        "worklist/index.html",
        tabs=_tabs(),
        tab_counts=_tab_counts(engine, scope),
        current_tab=current,
        rows=rows,
        people=people,
        filters=filters,
        task_names=task_names,
        councils=councils,
        teams=teams,
        team_keys=team_keys,
        council_label=council_label,
        total=total,
        page=page,
        pages=pages,
        first=(page - 1) * PAGE_SIZE + 1,
        last=(page - 1) * PAGE_SIZE + len(rows),
        pagination=_pagination(current, filters, page, pages),
        due_soon_days=due_soon_days(),
        is_manager=current_user.role in MANAGER_ROLES,
        here=request.full_path.rstrip("?"),
    )


def _page_href(tab: Tab, filters: Filters, page: int) -> str:
    query = filters.query(page=page if page > 1 else None)
    base = url_for(tab.endpoint, **tab.args)
    return f"{base}?{urlencode(query)}" if query else base


def _pagination(tab: Tab, filters: Filters, page: int, pages: int) -> dict[str, Any] | None:
    """GOV.UK pagination: first, last, current and its neighbours, with ellipses between."""
    if pages <= 1:
        return None
    wanted = sorted({1, pages, page - 1, page, page + 1} & set(range(1, pages + 1)))
    items: list[dict[str, Any]] = []
    previous = 0
    for number in wanted:
        if number - previous > 1:
            items.append({"ellipsis": True})
        items.append(
            {
                "number": number,
                "href": _page_href(tab, filters, number),
                "current": number == page,
            }
        )
        previous = number
    result: dict[str, Any] = {"items": items}
    if page > 1:
        result["previous"] = {"href": _page_href(tab, filters, page - 1)}
    if page < pages:
        result["next"] = {"href": _page_href(tab, filters, page + 1)}
    return result


@dataclass
class WorkerCounts:
    name: str
    username: str | None
    role_name: str
    claimed: int = 0
    due_soon: int = 0
    overdue: int = 0


@bp.get("/worklist/team")
@allow(*MANAGER_ROLES)
def team_overview() -> str:
    """For managers: per team, how many tasks each worker holds, and how many are due or late."""
    engine = get_engine()
    teams = _team_infos()
    people = _People(engine)
    # One GROUP BY over all the teams: (team, claimer) -> open, due soon, overdue.
    counted: dict[str | None, list[Any]] = {}
    for c in engine.worklist_counts(teams=sorted(teams), due_soon_days=due_soon_days()):
        counted.setdefault(c.team, []).append(c)
    overview = []
    for key in sorted(teams, key=lambda k: teams[k].name):
        by_user: dict[str | None, WorkerCounts] = {
            u.username: WorkerCounts(u.display_name, u.username, u.role_name)
            for u in people.assignable(key)
        }
        for c in counted.get(key, []):
            holder = c.claimed_by
            if holder not in by_user:
                if holder is None:
                    by_user[None] = WorkerCounts("Not claimed", None, "")
                else:
                    by_user[holder] = WorkerCounts(people.name(holder) or holder, holder, "")
            counts = by_user[holder]
            counts.claimed += c.total
            counts.due_soon += c.due_soon
            counts.overdue += c.overdue
        workers = sorted(
            (c for k, c in by_user.items() if k is not None), key=lambda c: c.name.casefold()
        )
        unclaimed = by_user.get(None) or WorkerCounts("Not claimed", None, "")
        overview.append(
            {
                "team": teams[key],
                "workers": workers,
                "unclaimed": unclaimed,
                "total": sum(c.claimed for c in by_user.values()),
                "due_soon": sum(c.due_soon for c in by_user.values()),
                "overdue": sum(c.overdue for c in by_user.values()),
            }
        )
    return render_template(
        "worklist/team.html",
        tabs=_tabs(),
        current_tab=TEAM_TAB,
        overview=overview,
        due_soon_days=due_soon_days(),
        council_label=council_label,
    )


# -- actions --------------------------------------------------------------------------------------


def _back(task_id: str | None = None) -> str:
    """Where to return after an action: the worklist page, or the step's own page."""
    target = safe_next(request.form.get("next"))
    if target and (
        target == "/worklist"
        or target.startswith(("/worklist/", "/worklist?"))
        or (task_id is not None and target == f"/tasks/{task_id}")
    ):
        return target
    return url_for("worklist.index")


def _task_or_404(task_id: str) -> TaskInfo | None:
    """The open task of one of my teams; None (after flashing why) if it was completed."""
    try:
        return require_task(task_id)
    except TaskAlreadyCompleted:
        _flash_completed()
        return None


def _flash_completed() -> None:
    say("already_completed")


@bp.post("/worklist/tasks/<task_id>/claim")
@allow(*WORKER_ROLES)
def claim(task_id: str):  # noqa: ANN201 - a redirect
    task = _task_or_404(task_id)
    if task is None:
        return redirect(_back(task_id))
    engine = get_engine()
    try:
        engine.claim(task_id, current_user.username)
    except ClaimConflict as conflict:
        say("claimed_by_other", task=task.id, who=conflict.claimed_by)
    except NotInLane:
        say("not_your_lane", task=task.id)
    except TaskAlreadyCompleted:
        _flash_completed()
    except UnknownTask:
        abort(404)
    else:
        say("claimed", task=task.id)
    return redirect(_back(task_id))


@bp.post("/worklist/tasks/<task_id>/unclaim")
@allow(*WORKER_ROLES)
def unclaim(task_id: str):  # noqa: ANN201 - a redirect
    task = _task_or_404(task_id)
    if task is None:
        return redirect(_back(task_id))
    engine = get_engine()
    try:
        engine.unclaim(
            task_id, current_user.username, as_manager=current_user.role in MANAGER_ROLES
        )
    except NotAllowed:
        say("not_your_claim", task=task.id, who=task.claimed_by)
    except TaskAlreadyCompleted:
        _flash_completed()
    except UnknownTask:
        abort(404)
    else:
        say("unclaimed", task=task.id)
    return redirect(_back(task_id))


@bp.post("/worklist/tasks/<task_id>/reassign")
@allow(*MANAGER_ROLES)
def reassign(task_id: str):  # noqa: ANN201 - a redirect
    task = _task_or_404(task_id)
    if task is None:
        return redirect(_back())
    engine = get_engine()
    people = _People(engine)
    to = request.form.get("to", "").strip()
    worker = next((u for u in people.assignable(task.team, task) if u.username == to), None)
    if worker is None:
        say("choose_assignee", task=task.id)
        return redirect(_back())
    try:
        engine.assign(task_id, worker.username, current_user.username)
    except NotInLane:  # only the lane's people are offered; someone changed role meanwhile
        say("choose_assignee", task=task.id)
    except TaskAlreadyCompleted:
        _flash_completed()
    except UnknownTask:
        abort(404)
    else:
        say("reassigned", task=task.id, who=worker.username)
    return redirect(_back())
