"""The worklist read model: open tasks filtered, ordered, paged and counted in SQL.

Indexes (engine/store/models.py, TaskRow): ix_task_claimed_due for "mine",
ix_task_team_claimed_due for unclaimed and the per-claimer counts, ix_task_team_due for the
due-soon and overdue ranges. A team's tasks are found by index whatever the size of the whole
table; the child's name is matched on those rows only. No workflow is ever loaded here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import clock
from engine.calendar import LONDON, WorkingCalendar
from engine.people import TeamInfo
from engine.services.context import Context
from engine.store.cases import task_info
from engine.store.models import Case, Child, ClosureDay, TaskRow, Team, User
from engine.views import ClaimerCounts, TaskInfo, WorklistPage

# Escalations (a missed deadline waiting for a manager) first; then soonest deadline, no
# deadline last, then the oldest task; the id makes pages stable.
_WORKLIST_ORDER = (
    TaskRow.escalates.is_(None),
    TaskRow.due_at.asc().nulls_last(),
    TaskRow.created_at,
    TaskRow.id,
)


@dataclass(frozen=True)
class TaskQuery:
    """Which open tasks: every filter the task lists, the worklist and its counts share.

    teams: only these teams' tasks (a user's view); claimed_by: only this person's;
    unclaimed_only: only tasks nobody holds; child_name_contains: case-insensitive part of the
    child's name (SQLite folds ASCII letters only); task: a task name or element id;
    due_after / due_before: due_at >= / < the instant; overdue: deadline passed (due_at < now);
    due_soon_days: due today or within that many working days of the task's council and not yet
    passed (the worklist's "Due soon"). Training cases' tasks only with include_training (or
    when asking for one case).
    """

    case_id: int | None = None
    teams: tuple[str, ...] | None = None
    claimed_by: str | None = None
    unclaimed_only: bool = False
    council: str | None = None
    lane: str | None = None
    child_name_contains: str | None = None
    task: str | None = None
    due_after: datetime | None = None
    due_before: datetime | None = None
    overdue: bool = False
    due_soon_days: int | None = None
    include_training: bool = False

    def __post_init__(self) -> None:
        if self.teams is not None and not isinstance(self.teams, tuple):
            object.__setattr__(self, "teams", tuple(self.teams))


class Worklist:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def tasks(self, query: TaskQuery) -> list[TaskInfo]:
        """Every matching open task, unpaged, soonest deadline first (one case's, a scenario's);
        lists people page through use `page()`."""
        with self.ctx.reads() as s:
            select_ = (
                select(TaskRow, Child.name)
                .join(Case, Case.id == TaskRow.case_id)
                .join(Child, Child.id == Case.child_id)
                .where(*self.filters(s, query))
                .order_by(*_WORKLIST_ORDER)
            )
            return [task_info(row, name) for row, name in s.execute(select_).all()]

    def page(self, query: TaskQuery, page: int = 1, per_page: int = 25) -> WorklistPage:
        """One page of open tasks, soonest deadline first (none last), then oldest, then id.

        A page outside 1..pages gives the nearest page; `total` counts every match.
        """
        per_page = max(1, per_page)
        by_name = bool(query.child_name_contains)
        with self.ctx.reads() as s:
            where = self.filters(s, query)
            counted = select(func.count()).select_from(TaskRow)
            if by_name:
                counted = counted.join(Case, Case.id == TaskRow.case_id).join(
                    Child, Child.id == Case.child_id
                )
            total = s.scalar(counted.where(*where)) or 0
            pages = max(1, -(-total // per_page))
            page = min(max(page, 1), pages)
            rows = []
            if total:
                # The page is chosen from the task rows alone; only its rows meet case and child.
                chosen = select(TaskRow)
                if by_name:
                    chosen = chosen.join(Case, Case.id == TaskRow.case_id).join(
                        Child, Child.id == Case.child_id
                    )
                chosen = (
                    chosen.where(*where)
                    .order_by(*_WORKLIST_ORDER)
                    .limit(per_page)
                    .offset((page - 1) * per_page)
                    .subquery("page")
                )
                # The page's columns as plain rows: an ORM alias of the subquery would be
                # adapted column by column on every call (a fifth of the call's CPU time).
                task = chosen.c
                select_ = (
                    select(chosen, Child.name.label("child_name"))
                    .join(Case, Case.id == task.case_id)
                    .join(Child, Child.id == Case.child_id)
                    .order_by(
                        task.escalates.is_(None),
                        task.due_at.asc().nulls_last(),
                        task.created_at,
                        task.id,
                    )
                )
                rows = [task_info(row, row.child_name) for row in s.execute(select_).all()]
            return WorklistPage(rows, total, page, per_page)

    def teams(self, teams: Iterable[str]) -> list[TeamInfo]:
        """These teams by key, A to Z by name: only the rows asked for, where `people.teams()`
        reads every team of every council."""
        with self.ctx.reads() as s:
            rows = s.scalars(select(Team).where(Team.key.in_(list(teams))).order_by(Team.name))
            return [TeamInfo(t.key, t.council_key, t.name) for t in rows]

    def display_names(self, usernames: Iterable[str]) -> dict[str, str]:
        """Display names of these people in one query (who holds the tasks on a page);
        usernames nobody has are left out."""
        wanted = sorted({u for u in usernames if u})
        if not wanted:
            return {}
        with self.ctx.reads() as s:
            rows = s.execute(
                select(User.username, User.display_name).where(User.username.in_(wanted))
            )
            return {username: name for username, name in rows}

    def task_names(self, query: TaskQuery) -> list[str]:
        """The distinct names of these open tasks, A to Z ignoring case (the Task filter)."""
        with self.ctx.reads() as s:
            where = self.filters(s, query)
            names = s.scalars(select(TaskRow.name).where(*where).distinct()).all()
        return sorted(names, key=lambda n: (n.casefold(), n))

    def counts(self, query: TaskQuery, due_soon_days: int = 2) -> list[ClaimerCounts]:
        """Open tasks per team and claimer (None: not claimed), with how many are due soon
        (as `TaskQuery.due_soon_days`) and overdue: the managers' team overview."""
        with self.ctx.reads() as s:
            now = clock.now()
            where = self.filters(s, query)
            soon = self._due_soon_clause(s, due_soon_days, now)
            select_ = (
                select(
                    TaskRow.team_key,
                    TaskRow.claimed_by,
                    func.count(),
                    func.count().filter(soon),
                    func.count().filter(TaskRow.due_at < now),
                )
                .where(*where)
                .group_by(TaskRow.team_key, TaskRow.claimed_by)
            )
            rows = s.execute(select_).all()
        return sorted(
            (ClaimerCounts(team, who, total, due, late) for team, who, total, due, late in rows),
            key=lambda c: (c.team or "", c.claimed_by is None, c.claimed_by or ""),
        )

    def filters(self, s: Session, q: TaskQuery) -> list[Any]:
        """WHERE clauses on TaskRow (and Child, for the name) shared by the task queries."""
        where: list[Any] = []
        if q.case_id is not None:
            where.append(TaskRow.case_id == q.case_id)
        if q.teams is not None:
            where.append(TaskRow.team_key.in_(list(q.teams)))
        if q.claimed_by is not None:
            where.append(TaskRow.claimed_by == q.claimed_by)
        if q.unclaimed_only:
            where.append(TaskRow.claimed_by.is_(None))
        if q.council is not None:
            where.append(TaskRow.council_key == q.council)
        if q.lane is not None:
            where.append(TaskRow.lane == q.lane)
        if q.child_name_contains:
            where.append(Child.name.icontains(q.child_name_contains, autoescape=True))
        if q.task:
            where.append((TaskRow.name == q.task) | (TaskRow.element_id == q.task))
        if q.due_after is not None:
            where.append(TaskRow.due_at >= q.due_after)
        if q.due_before is not None:
            where.append(TaskRow.due_at < q.due_before)
        if q.overdue or q.due_soon_days is not None:
            now = clock.now()
            if q.overdue:
                where.append(TaskRow.due_at < now)
            if q.due_soon_days is not None:
                where.append(self._due_soon_clause(s, q.due_soon_days, now))
        if not q.include_training and q.case_id is None:
            where.append(TaskRow.training.is_(False))
        return where

    def _due_soon_clause(self, s: Session, days: int, now: datetime) -> Any:
        """Due today or within `days` working days, not yet passed, in each task's council.

        A deadline is "soon" while its London date comes before the (days + 1)-th working day
        after today, so the clause is `now <= due_at < midnight starting that day`. Councils
        differ only by their closure days: those with any get their own bound, the rest share
        the bank-holiday one.
        """
        today = now.astimezone(LONDON).date()

        def bound(calendar: WorkingCalendar) -> datetime:
            day = calendar.add_working_days(today, max(0, days) + 1)
            return datetime.combine(day, time(0), LONDON).astimezone(UTC)

        own = s.scalars(select(ClosureDay.council_key).distinct()).all()
        bounds = {council: bound(self.ctx.calendar(council, s)) for council in own}
        default = bound(WorkingCalendar())
        latest = max([default, *bounds.values()])
        soon = TaskRow.due_at < default
        if bounds:
            soon = TaskRow.council_key.not_in(list(bounds)) & soon
        for council, until in bounds.items():
            soon = soon | ((TaskRow.council_key == council) & (TaskRow.due_at < until))
        # The plain range first, so an index on due_at can serve it.
        return (TaskRow.due_at >= now) & (TaskRow.due_at < latest) & soon
