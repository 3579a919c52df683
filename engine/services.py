"""Use cases: one function, one transaction. The web app, CLI, worker and scenarios call these.

`Engine` holds what is built once (database, runtime with its spec cache, forms and processes
folders); each method opens a unit of work, changes state and projection and audit together,
and commits, or changes nothing and raises an `engine.errors` type.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from time import monotonic
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from engine import clock, forms
from engine.calendar import LONDON, WorkingCalendar
from engine.clock import FixedClock
from engine.deployment import parse_bundle, read_files
from engine.errors import (
    CaseClosed,
    ClaimConflict,
    Conflict,
    MessageNotExpected,
    NotAllowed,
    NotFound,
    TaskAlreadyCompleted,
    UnknownCase,
    UnknownProcess,
    UnknownTask,
    WrongCase,
)
from engine.functions import diagram_functions
from engine.notify import Mail, Sender, sender_from_config
from engine.people import People
from engine.projection import (
    CASE_BY_ID,
    LOCK_CASE_BY_ID,
    CaseRecord,
    Projection,
    TaskRecord,
    Writes,
    audit_row,
    case_query,
    case_record,
    lock_case_of_task,
    project,
    read_projection,
)
from engine.runtime import (
    SERIALIZER_VERSION,
    Runtime,
    TimerView,
    default_runtime,
    timer_view,
)
from engine.store.db import create_schema, make_engine, session_factory, unit_of_work
from engine.store.models import (
    AuditEvent,
    Case,
    Child,
    ClosureDay,
    Council,
    Draft,
    Membership,
    Notification,
    ProcessVersion,
    TaskRow,
    TimerRow,
    User,
)
from engine.timescales import PROCESSES_DIR, CouncilProfile, profile_for
from engine.views import (
    AuditInfo,
    CaseInfo,
    ChildInfo,
    Completion,
    DiagramInfo,
    NotificationInfo,
    ProcessInfo,
    TaskInfo,
    TimerInfo,
)

ANY_COUNCIL = "any"
CALENDAR_RECHECK_S = 30.0  # how stale a council's closure days may be in a long-lived process
# Which lane of a diagram a role works in: team-wide notifications are addressed by lane.
ROLE_LANES = {"team_manager": "Team manager", "social_worker": "Social worker"}


@dataclass(frozen=True)
class VersionRef:
    process_id: str
    version: int
    spec_key: str


@dataclass(frozen=True)
class Saved:
    """What a save changed: the projection after it, and the task ids open before."""

    projection: Projection
    previous_task_ids: set[str]


class _BatchFailed(Exception):
    """Writing a sweep batch failed (rolled back); its cases are to be fired one by one."""

    def __init__(self, case_ids: list[int], message: str) -> None:
        super().__init__(message)
        self.case_ids, self.message = case_ids, message


@dataclass(frozen=True)
class NewChild:
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


# Soonest deadline first, no deadline last, then the oldest task; the id makes pages stable.
_WORKLIST_ORDER = (TaskRow.due_at.asc().nulls_last(), TaskRow.created_at, TaskRow.id)


class Engine:
    """The engine's public face. Build once per process; safe to share across threads."""

    def __init__(
        self,
        url: str | None = None,
        *,
        forms_dir: Path = forms.FORMS_DIR,
        processes_dir: Path = PROCESSES_DIR,
        runtime: Runtime | None = None,
    ) -> None:
        self.db = make_engine(url)
        self.sessions = session_factory(self.db)
        self.forms_dir = forms_dir
        self.processes_dir = processes_dir
        self.runtime = runtime or default_runtime()
        # council -> (closure days, calendar, when read): see `calendar()`
        self._calendars: dict[str, tuple[tuple[date, ...], WorkingCalendar, float]] = {}
        self._function_sets: dict[str, dict[str, Any]] = {}
        self._versions: dict[int, VersionRef] = {}
        self.people = People(self.sessions)

    # -- set-up -------------------------------------------------------------------------------

    def init_db(self) -> None:
        create_schema(self.db)

    def dispose(self) -> None:
        self.db.dispose()

    def profile(self, council: str) -> CouncilProfile:
        return profile_for(council, self.processes_dir)

    def calendar(self, council: str, session: Session | None = None) -> WorkingCalendar:
        """A council's working-day calendar. Closure days are read again every
        `CALENDAR_RECHECK_S` seconds, so a day added through another process (web app,
        worker) is used here within that time."""
        cached = self._calendars.get(council)
        if cached is not None and monotonic() - cached[2] < CALENDAR_RECHECK_S:
            return cached[1]
        with self.sessions() as own:
            days = tuple(
                sorted(
                    (session or own).scalars(
                        select(ClosureDay.day).where(ClosureDay.council_key == council)
                    )
                )
            )
        if cached is not None and cached[0] == days:
            self._calendars[council] = (days, cached[1], monotonic())
            return cached[1]
        self._function_sets.pop(council, None)
        calendar = WorkingCalendar(list(days))
        self._calendars[council] = (days, calendar, monotonic())
        return calendar

    def add_closure_day(self, council: str, day: date, reason: str, by: str) -> int:
        """Add a council closure day and move the pending working-day deadlines it affects."""
        with unit_of_work(self.sessions) as s:
            self._ensure_council(s, council)
            s.add(ClosureDay(council_key=council, day=day, reason=reason, created_at=clock.now()))
            self._audit(
                s,
                by,
                "closure_day_added",
                detail={"council": council, "day": day.isoformat(), "reason": reason},
            )
        self._calendar_changed(council)
        return self.recompute_deadlines(council, by, f"closure day {day.isoformat()} added")

    def _calendar_changed(self, council: str) -> None:
        """Forget what was built on a council's calendar; it is read again when next needed."""
        self._calendars.pop(council, None)
        self._function_sets.pop(council, None)

    def _functions(self, council: str) -> dict[str, Any]:
        """The diagram functions of a council's cases (built once per calendar: pure closures)."""
        calendar = self.calendar(council)  # first: a changed calendar drops the old set
        functions = self._function_sets.get(council)
        if functions is None:
            functions = self._function_sets[council] = diagram_functions(
                calendar, self.profile(council).timescales
            )
        return functions

    def _ensure_council(self, s: Session, council: str) -> None:
        if s.get(Council, council) is None:
            s.add(Council(key=council, name=self.profile(council).name or council))
            s.flush()

    # -- deployments --------------------------------------------------------------------------

    def deploy(
        self,
        files: Mapping[str, str | bytes] | Iterable[Path],
        deployed_by: str,
        comment: str = "",
        council: str | None = None,
    ) -> list[ProcessInfo]:
        """Validate and store new process versions; identical XML returns the existing version."""
        if not isinstance(files, Mapping):
            files = read_files([Path(p) for p in files])
        council = council or ANY_COUNCIL
        profile = self.profile(council)
        parsed = parse_bundle(files, self.forms_dir, profile.timescales, self.calendar(council))
        result: list[ProcessInfo] = []
        with unit_of_work(self.sessions) as s:
            self._ensure_council(s, council)
            for item in parsed:
                latest = s.scalars(
                    select(ProcessVersion)
                    .where(
                        ProcessVersion.council_key == council,
                        ProcessVersion.process_id == item.process_id,
                    )
                    .order_by(ProcessVersion.version.desc())
                    .limit(1)
                ).first()
                if latest is not None and latest.sha256 == item.sha256:
                    result.append(_process_info(latest))
                    continue
                row = ProcessVersion(
                    council_key=council,
                    process_id=item.process_id,
                    name=item.name,
                    version=(latest.version + 1) if latest else 1,
                    sha256=item.sha256,
                    file_name=item.file_name,
                    xml=item.xml,
                    dependency_xml=item.dependency_xml,
                    spec_json=_spec_json(self.runtime, item),
                    serializer_version=SERIALIZER_VERSION,
                    deployed_by=deployed_by,
                    deployed_at=clock.now(),
                    comment=comment,
                )
                s.add(row)
                s.flush()
                self._audit(
                    s,
                    deployed_by,
                    "process_deployed",
                    detail={
                        "council": council,
                        "process_id": row.process_id,
                        "version": row.version,
                        "sha256": row.sha256,
                        "comment": comment,
                    },
                )
                result.append(_process_info(row))
        return result

    def deploy_pack(self, council: str, deployed_by: str, comment: str = "") -> list[ProcessInfo]:
        """Deploy a council's pack: its own folder plus the common building blocks it calls."""
        folder = self.processes_dir / council
        if not (folder / "timescales.yaml").is_file():
            raise UnknownProcess(
                f'no procedure pack for "{council}" (expected {folder}/timescales.yaml)'
            )
        common = self.processes_dir / "common"
        paths = ([common] if common.is_dir() else []) + [folder]
        return self.deploy(paths, deployed_by, comment or f"{council} pack", council=council)

    def list_processes(
        self, council: str | None = None, all_versions: bool = False
    ) -> list[ProcessInfo]:
        with self.sessions() as s:
            query = select(ProcessVersion).order_by(
                ProcessVersion.council_key, ProcessVersion.process_id, ProcessVersion.version.desc()
            )
            if council:
                query = query.where(ProcessVersion.council_key == council)
            rows = s.scalars(query).all()
        seen: set[tuple[str, str]] = set()
        out = []
        for row in rows:
            key = (row.council_key, row.process_id)
            if all_versions or key not in seen:
                out.append(_process_info(row))
            seen.add(key)
        return out

    # -- cases --------------------------------------------------------------------------------

    def start_case(
        self,
        process_id: str,
        child: NewChild,
        data: Mapping[str, Any] | None,
        started_by: str,
        council: str | None = None,
        training: bool = False,
        team: str | None = None,
    ) -> CaseInfo:
        """Start the newest version of a process for a child; the case stays on that version."""
        with unit_of_work(self.sessions) as s:
            query = select(ProcessVersion).where(ProcessVersion.process_id == process_id)
            if council:
                query = query.where(ProcessVersion.council_key == council)
            version = s.scalars(query.order_by(ProcessVersion.version.desc()).limit(1)).first()
            if version is None:
                where = f" for {council}" if council else ""
                raise UnknownProcess(f'no deployed process "{process_id}"{where}; deploy it first')
            council = version.council_key
            self._ensure_council(s, council)
            now = clock.now()
            child_row = Child(
                council_key=council,
                name=child.name,
                date_of_birth=child.date_of_birth,
                created_at=now,
            )
            s.add(child_row)
            s.flush()
            case = Case(
                child_id=child_row.id,
                process_version_id=version.id,
                council_key=council,
                status="open",
                state_json="{}",
                serializer_version=SERIALIZER_VERSION,
                revision=0,
                training=training,
                started_by=started_by,
                opened_at=now,
                team_key=team,
            )
            s.add(case)
            s.flush()
            initial = {
                **dict(data or {}),
                "case": {
                    "id": case.id,
                    "council": council,
                    "opened": now.isoformat(),
                    **dict((data or {}).get("case", {})),
                },
                "child": {
                    "name": child.name,
                    "date_of_birth": child.date_of_birth.isoformat()
                    if child.date_of_birth
                    else None,
                },
            }
            spec, subs = self.runtime.spec_from_json(_spec_key(version), version.spec_json)
            workflow = self.runtime.new_workflow(spec, subs, initial, self._functions(council))
            fired = self.runtime.run(workflow)
            self._audit(
                s,
                started_by,
                "case_started",
                case.id,
                detail={
                    "process_id": process_id,
                    "version": version.version,
                    "child": child.name,
                    "data": dict(data or {}),
                },
            )
            record = self._case(s, case.id)
            writes = Writes()
            saved = self._save(s, record, workflow, started_by, writes, Projection(), now)
            self._record_fired(record, fired, started_by, saved, writes, now)
            writes.flush(s)
            return self._case_info(s, record, saved.projection)

    def get_case(
        self, case_id: int, with_data: bool = False, teams: Iterable[str] | None = None
    ) -> CaseInfo:
        """One case; with `teams`, a case outside them is UnknownCase (never its data)."""
        with self.sessions() as s:
            case = self._case(s, case_id)
            if teams is not None and case.team_key not in set(teams):
                raise UnknownCase(f"no case {case_id}")
            info = self._case_info(s, case)
            if with_data:
                workflow = self._load(s, case)
                info = _replace_data(info, self.runtime.case_data(workflow))
            return info

    def list_cases(
        self,
        open_only: bool = True,
        include_training: bool = False,
        teams: Iterable[str] | None = None,
    ) -> list[CaseInfo]:
        """Cases, oldest first; `teams` limits them to those teams' cases (a user's view)."""
        with self.sessions() as s:
            query = case_query().order_by(Case.id)
            if teams is not None:
                query = query.where(Case.team_key.in_(list(teams)))
            if open_only:
                query = query.where(Case.status == "open")
            if not include_training:
                query = query.where(Case.training.is_(False))
            cases = [case_record(row) for row in s.execute(query)]
            projections = read_projection(s, [c.id for c in cases])
            return [self._case_info(s, c, projections[c.id]) for c in cases]

    def tasks(
        self,
        *,
        case_id: int | None = None,
        claimed_by: str | None = None,
        lane: str | None = None,
        council: str | None = None,
        include_training: bool = False,
        teams: Iterable[str] | None = None,
    ) -> list[TaskInfo]:
        """Open user tasks from the projection, soonest deadline first (no workflow is loaded).

        Every matching task, unpaged: for one case's tasks or a scenario. Lists people page
        through use `worklist()`.
        """
        with self.sessions() as s:
            query = (
                select(TaskRow, Child.name)
                .join(Case, Case.id == TaskRow.case_id)
                .join(Child, Child.id == Case.child_id)
            )
            query = query.where(
                *self._task_filters(
                    s,
                    case_id=case_id,
                    claimed_by=claimed_by,
                    lane=lane,
                    council=council,
                    include_training=include_training,
                    teams=teams,
                )
            )
            query = query.order_by(*_WORKLIST_ORDER)
            return [_task_info(row, name) for row, name in s.execute(query).all()]

    # -- the worklist: filtered, ordered, paged and counted in SQL ------------------------------
    #
    # Indexes (engine/store/models.py, TaskRow): ix_task_claimed_due for "mine",
    # ix_task_team_claimed_due for unclaimed and the per-claimer counts, ix_task_team_due for
    # the due-soon and overdue ranges. A team's tasks are found by index whatever the size of
    # the whole table; the child's name is matched on those rows only.

    def worklist(
        self,
        *,
        teams: Iterable[str] | None = None,
        claimed_by: str | None = None,
        unclaimed_only: bool = False,
        council: str | None = None,
        lane: str | None = None,
        child_name_contains: str | None = None,
        task: str | None = None,
        due_after: datetime | None = None,
        due_before: datetime | None = None,
        overdue: bool = False,
        due_soon_days: int | None = None,
        include_training: bool = False,
        page: int = 1,
        per_page: int = 25,
    ) -> WorklistPage:
        """One page of open tasks, soonest deadline first (none last), then oldest, then id.

        teams: only these teams' tasks (a user's view); claimed_by: only this person's;
        unclaimed_only: only tasks nobody holds; child_name_contains: case-insensitive part of
        the child's name (SQLite folds ASCII letters only); task: a task name or element id;
        due_after / due_before: due_at >= / < the instant; overdue: deadline passed (due_at <
        now); due_soon_days: due today or within that many working days of the task's council
        and not yet passed (the worklist's "Due soon"). A page outside 1..pages gives the
        nearest page; `total` counts every match.
        """
        per_page = max(1, per_page)
        with self.sessions() as s:
            where = self._task_filters(
                s,
                teams=teams,
                claimed_by=claimed_by,
                unclaimed_only=unclaimed_only,
                council=council,
                lane=lane,
                child_name_contains=child_name_contains,
                task=task,
                due_after=due_after,
                due_before=due_before,
                overdue=overdue,
                due_soon_days=due_soon_days,
                include_training=include_training,
            )
            counted = select(func.count()).select_from(TaskRow)
            if child_name_contains:
                counted = counted.join(Case, Case.id == TaskRow.case_id).join(
                    Child, Child.id == Case.child_id
                )
            total = s.scalar(counted.where(*where)) or 0
            pages = max(1, -(-total // per_page))
            page = min(max(page, 1), pages)
            rows = []
            if total:
                from sqlalchemy.orm import aliased

                # The page is chosen from the task rows alone; only its rows meet case and child.
                chosen = select(TaskRow)
                if child_name_contains:
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
                task = aliased(TaskRow, chosen)
                query = (
                    select(task, Child.name)
                    .join(Case, Case.id == task.case_id)
                    .join(Child, Child.id == Case.child_id)
                    .order_by(task.due_at.asc().nulls_last(), task.created_at, task.id)
                )
                rows = [_task_info(row, name) for row, name in s.execute(query).all()]
            return WorklistPage(rows, total, page, per_page)

    def worklist_teams(self, teams: Iterable[str]) -> list[Any]:
        """These teams (engine.people.TeamInfo) by key, A to Z by name: only the rows asked for,
        where `people.teams()` reads every team of every council."""
        from engine.people import TeamInfo
        from engine.store.models import Team

        with self.sessions() as s:
            rows = s.scalars(select(Team).where(Team.key.in_(list(teams))).order_by(Team.name))
            return [TeamInfo(t.key, t.council_key, t.name) for t in rows]

    def worklist_display_names(self, usernames: Iterable[str]) -> dict[str, str]:
        """Display names of these people in one query (who holds the tasks on a page);
        usernames nobody has are left out."""
        wanted = sorted({u for u in usernames if u})
        if not wanted:
            return {}
        with self.sessions() as s:
            rows = s.execute(
                select(User.username, User.display_name).where(User.username.in_(wanted))
            )
            return {username: name for username, name in rows}

    def worklist_task_names(
        self,
        *,
        teams: Iterable[str] | None = None,
        claimed_by: str | None = None,
        council: str | None = None,
        include_training: bool = False,
    ) -> list[str]:
        """The distinct names of these open tasks, A to Z ignoring case (the Task filter)."""
        with self.sessions() as s:
            where = self._task_filters(
                s,
                teams=teams,
                claimed_by=claimed_by,
                council=council,
                include_training=include_training,
            )
            names = s.scalars(select(TaskRow.name).where(*where).distinct()).all()
        return sorted(names, key=lambda n: (n.casefold(), n))

    def worklist_counts(
        self,
        *,
        teams: Iterable[str] | None = None,
        due_soon_days: int = 2,
        include_training: bool = False,
    ) -> list[ClaimerCounts]:
        """Open tasks per team and claimer (None: not claimed), with how many are due soon
        (as `worklist(due_soon_days=...)`) and overdue: the managers' team overview."""
        with self.sessions() as s:
            now = clock.now()
            where = self._task_filters(s, teams=teams, include_training=include_training)
            soon = self._due_soon_clause(s, due_soon_days, now)
            query = (
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
            rows = s.execute(query).all()
        return sorted(
            (ClaimerCounts(team, who, total, due, late) for team, who, total, due, late in rows),
            key=lambda c: (c.team or "", c.claimed_by is None, c.claimed_by or ""),
        )

    def _task_filters(
        self,
        s: Session,
        *,
        case_id: int | None = None,
        teams: Iterable[str] | None = None,
        claimed_by: str | None = None,
        unclaimed_only: bool = False,
        council: str | None = None,
        lane: str | None = None,
        child_name_contains: str | None = None,
        task: str | None = None,
        due_after: datetime | None = None,
        due_before: datetime | None = None,
        overdue: bool = False,
        due_soon_days: int | None = None,
        include_training: bool = False,
    ) -> list[Any]:
        """WHERE clauses on TaskRow (and Child, for the name) shared by the task queries."""
        where: list[Any] = []
        if case_id is not None:
            where.append(TaskRow.case_id == case_id)
        if teams is not None:
            where.append(TaskRow.team_key.in_(list(teams)))
        if claimed_by is not None:
            where.append(TaskRow.claimed_by == claimed_by)
        if unclaimed_only:
            where.append(TaskRow.claimed_by.is_(None))
        if council is not None:
            where.append(TaskRow.council_key == council)
        if lane is not None:
            where.append(TaskRow.lane == lane)
        if child_name_contains:
            where.append(Child.name.icontains(child_name_contains, autoescape=True))
        if task:
            where.append((TaskRow.name == task) | (TaskRow.element_id == task))
        if due_after is not None:
            where.append(TaskRow.due_at >= due_after)
        if due_before is not None:
            where.append(TaskRow.due_at < due_before)
        if overdue or due_soon_days is not None:
            now = clock.now()
            if overdue:
                where.append(TaskRow.due_at < now)
            if due_soon_days is not None:
                where.append(self._due_soon_clause(s, due_soon_days, now))
        if not include_training and case_id is None:
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
        bounds = {council: bound(self.calendar(council, s)) for council in own}
        default = bound(WorkingCalendar())
        latest = max([default, *bounds.values()])
        soon = TaskRow.due_at < default
        if bounds:
            soon = TaskRow.council_key.not_in(list(bounds)) & soon
        for council, until in bounds.items():
            soon = soon | ((TaskRow.council_key == council) & (TaskRow.due_at < until))
        # The plain range first, so an index on due_at can serve it.
        return (TaskRow.due_at >= now) & (TaskRow.due_at < latest) & soon

    def task(self, task_id: str, teams: Iterable[str] | None = None) -> TaskInfo:
        """One open task with its guidance; with `teams`, another team's task is UnknownTask."""
        with self.sessions() as s:
            row = self._task_row(s, task_id, teams)
            name = s.scalar(
                select(Child.name)
                .join(Case, Case.child_id == Child.id)
                .where(Case.id == row.case_id)
            )
            return _task_info(row, name or "", self._documentation(s, row))

    def timers(
        self, case_id: int | None = None, due_before: datetime | None = None
    ) -> list[TimerInfo]:
        with self.sessions() as s:
            query = select(TimerRow).order_by(TimerRow.due_at, TimerRow.id)
            if case_id is not None:
                query = query.where(TimerRow.case_id == case_id)
            if due_before is not None:
                query = query.where(TimerRow.due_at <= due_before)
            return [_timer_info(t) for t in s.scalars(query).all()]

    # -- changing cases -----------------------------------------------------------------------

    def claim(self, task_id: str, user: str) -> TaskInfo:
        with unit_of_work(self.sessions) as s:
            row = self._task_row(s, task_id)
            if row.claimed_by == user:
                return _task_info(row)
            won = s.execute(
                update(TaskRow)
                .where(TaskRow.id == task_id, TaskRow.claimed_by.is_(None))
                .values(claimed_by=user)
            ).rowcount
            if not won:
                holder = s.scalar(select(TaskRow.claimed_by).where(TaskRow.id == task_id))
                raise ClaimConflict(f'"{row.name}" is already claimed by {holder}', holder)
            self._audit(s, user, "task_claimed", row.case_id, task_id, row.element_id)
            s.refresh(row)
            return _task_info(row)

    def unclaim(self, task_id: str, user: str, *, as_manager: bool = False) -> TaskInfo:
        with unit_of_work(self.sessions) as s:
            row = self._task_row(s, task_id)
            if row.claimed_by is None:
                return _task_info(row)
            if row.claimed_by != user and not as_manager:
                raise NotAllowed(f'"{row.name}" is claimed by {row.claimed_by}, not by you')
            previous = row.claimed_by
            row.claimed_by = None
            self._audit(
                s,
                user,
                "task_unclaimed",
                row.case_id,
                task_id,
                row.element_id,
                detail={"previously": previous},
            )
            return _task_info(row)

    def assign(self, task_id: str, to_user: str, by: str) -> TaskInfo:
        """A manager gives a task to a worker, whoever holds it now."""
        with unit_of_work(self.sessions) as s:
            row = self._task_row(s, task_id)
            previous, row.claimed_by = row.claimed_by, to_user
            self._audit(
                s,
                by,
                "task_assigned",
                row.case_id,
                task_id,
                row.element_id,
                detail={"to": to_user, "previously": previous},
            )
            return _task_info(row)

    def complete_task(
        self,
        task_id: str,
        data: Mapping[str, Any],
        user: str,
        *,
        case_id: int | None = None,
        revision: int | None = None,
    ) -> Completion:
        """Validate the answers against the task's form, run the case on, save, project, audit.

        Two reads (the locked case, its projection) and one statement per kind of row changed.
        """
        with unit_of_work(self.sessions) as s:
            case, before = self._lock_case_of_task(s, task_id)
            row = before.tasks.get(task_id)
            if row is None:
                self._task_row(s, task_id)  # raises why: completed meanwhile, or never open
                raise UnknownTask(f"no open task {task_id}")
            if case_id is not None and row.case_id != case_id:
                raise WrongCase(f"task {task_id} does not belong to case {case_id}")
            if revision is not None and revision != case.revision:
                raise Conflict(
                    f"case {case.id} was changed by someone else (revision {case.revision}, "
                    f"you had {revision}); reload it and try again"
                )
            if row.claimed_by not in (None, user):
                raise NotAllowed(
                    f'"{row.name}" is claimed by {row.claimed_by}; ask them or a manager'
                )
            if row.form:
                forms.validate(row.form, data, self.forms_dir)
            workflow = self._load(s, case)
            task = self.runtime.find_task(workflow, task_id)
            if task is None or task.task_spec.bpmn_id != row.element_id:
                raise UnknownTask(f"task {task_id} is not open in case {case.id}")
            fired = self.runtime.complete_user_task(workflow, task, forms.form_key(row.form), data)
            now = clock.now()
            writes = Writes()
            writes.audit(
                now,
                user,
                "task_completed",
                case.id,
                task_id,
                row.element_id,
                detail={"name": row.name, "form": row.form, "data": _jsonable(data)},
            )
            saved = self._save(s, case, workflow, user, writes, before, now)
            self._record_fired(case, fired, user, saved, writes, now)
            writes.flush(s)  # the task's drafts go with its row (ON DELETE CASCADE)
            info = self._case_info(s, case, saved.projection)
            return Completion(info, [t for t in info.tasks if t.id not in saved.previous_task_ids])

    def send_message(
        self, case_id: int, name: str, payload: Mapping[str, Any], user: str
    ) -> CaseInfo:
        """Something happened outside the diagram (family moved, child turned 18...)."""
        with unit_of_work(self.sessions) as s:
            case = self._open_case(s, case_id)
            workflow = self._load(s, case)
            fired = self.runtime.send_message(workflow, name, payload)
            if fired is None:
                waiting = ", ".join(self.runtime.waiting_messages(workflow)) or "none"
                raise MessageNotExpected(
                    f'case {case_id} is not waiting for "{name}" (waiting for: {waiting})'
                )
            now = clock.now()
            writes = Writes()
            writes.audit(
                now,
                user,
                "message_received",
                case.id,
                detail={"message": name, "payload": _jsonable(payload)},
            )
            saved = self._save(s, case, workflow, user, writes, now=now)
            self._record_fired(case, fired, user, saved, writes, now)
            writes.flush(s)
            return self._case_info(s, case, saved.projection)

    def cancel_case(self, case_id: int, reason: str, user: str) -> CaseInfo:
        if not reason.strip():
            raise NotAllowed("give a reason for cancelling the case")
        with unit_of_work(self.sessions) as s:
            case = self._open_case(s, case_id)
            workflow = self._load(s, case)
            self.runtime.cancel(workflow)
            now = clock.now()
            case.status, case.closed_at, case.close_reason = "cancelled", now, reason
            writes = Writes()
            writes.audit(now, user, "case_cancelled", case.id, detail={"reason": reason})
            saved = self._save(s, case, workflow, user, writes, now=now)
            writes.flush(s)
            return self._case_info(s, case, saved.projection)

    def fire_due_timers(
        self, case_id: int | None = None, actor: str = "scheduler", batch: int = 50
    ) -> int:
        """Fire every timer due by now (one case or all), oldest deadline first.

        Cases are claimed in batches (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so workers sharing
        a database take different batches and never fire a timer twice), and each batch is
        written set-based and committed in one transaction. A worker killed mid-batch loses
        nothing: the batch was not committed and fires on the next sweep. A case whose timer
        raises is marked as needing attention (with the error, for managers) and left out of
        later sweeps; the rest of its batch goes on. Should writing a batch fail, its cases are
        fired again one per transaction, so only the case at fault is flagged.
        """
        if case_id is None:
            self._recompute_after_new_closure_days(actor)
        fired = 0
        while True:
            try:
                count, progressed = self._fire_batch(case_id, actor, batch)
            except _BatchFailed as failed:
                if case_id is not None:
                    with unit_of_work(self.sessions) as s:
                        self._needs_attention(s, case_id, failed.message, actor)
                    return fired
                for one in failed.case_ids:
                    fired += self.fire_due_timers(one, actor)
                continue
            fired += count
            if case_id is not None or not progressed:
                return fired

    def _recompute_after_new_closure_days(self, actor: str) -> int:
        """Recompute the deadlines made just after a closure day was added.

        The process that adds a closure day recomputes every pending deadline at once, but other
        processes keep their calendar for up to `CALENDAR_RECHECK_S` and may make deadlines
        without the day meanwhile. Sweeps in the minute after that window recompute the timers
        started since the day was added (idempotent: a timer already right does not move).
        """
        now = clock.now()
        window = timedelta(seconds=CALENDAR_RECHECK_S)
        with self.sessions() as s:
            recent = s.execute(
                select(ClosureDay.council_key, func.min(ClosureDay.created_at))
                .where(
                    ClosureDay.created_at <= now - window,
                    ClosureDay.created_at > now - 3 * window,
                )
                .group_by(ClosureDay.council_key)
            ).all()
        return sum(
            self.recompute_deadlines(
                council,
                actor,
                "closure day added while this deadline was being set",
                # from a little before: clocks of other machines, and a timer made while the
                # adding process was recomputing
                started_since=added - window,
            )
            for council, added in recent
        )

    def _fire_batch(self, case_id: int | None, actor: str, batch: int) -> tuple[int, int]:
        """One transaction of a sweep: (timers fired, cases dealt with)."""
        with unit_of_work(self.sessions) as s:
            cases = self._claim_due_cases(s, clock.now(), case_id, batch)
            projections = read_projection(s, [c.id for c in cases])
            writes = Writes()
            fired = progressed = 0
            for case in cases:
                now = clock.now()
                before = projections[case.id]
                if not any(t.due_at <= now for t in before.timers.values()):
                    continue  # another worker fired them between our look and our lock
                one = Writes()
                progressed += 1
                try:
                    workflow = self._load(s, case)
                    done = self.runtime.fire_timers(workflow)
                    saved = self._save(s, case, workflow, actor, one, before, now)
                    self._record_fired(case, done, actor, saved, one, now)
                except Exception as exc:  # noqa: BLE001 - isolate the broken case
                    self._needs_attention(s, case.id, f"a timer could not fire: {exc}", actor)
                    continue
                writes.extend(one)
                fired += len(done)
            try:
                writes.flush(s)
            except Exception as exc:  # noqa: BLE001 - rolled back; redone case by case
                raise _BatchFailed([c.id for c in cases], f"a timer could not fire: {exc}") from exc
        return fired, progressed

    def _claim_due_cases(
        self, s: Session, now: datetime, case_id: int | None, batch: int
    ) -> list[CaseRecord]:
        """Up to `batch` open cases with a timer due, soonest first, locked for this transaction.

        Driven from the timer index; the row lock skips cases another worker holds before the
        LIMIT counts, so concurrent workers take disjoint batches.
        """
        query = (
            case_query()
            .join(TimerRow, TimerRow.case_id == Case.id)
            .where(TimerRow.due_at <= now, Case.status == "open", Case.attention.is_(None))
            .order_by(TimerRow.due_at, Case.id)
            .limit(batch)
            .with_for_update(of=Case.__table__, skip_locked=True)
        )
        if case_id is not None:
            query = query.where(Case.id == case_id)
        cases: dict[int, CaseRecord] = {}
        for row in s.execute(query):
            cases.setdefault(row.id, case_record(row))
        return list(cases.values())

    def _record_fired(
        self,
        case: CaseRecord,
        fired: list[Any],
        actor: str,
        saved: Saved,
        writes: Writes,
        now: datetime,
    ) -> None:
        """Audit every timer that fired in this change and tell the people it concerns."""
        profile = self.profile(case.council_key)
        for task in fired:
            timer = timer_view(task, profile.rule_for_key)
            if timer is None:
                continue
            timer = replace(timer, rule_id=profile.own_rules(timer.rule_id))
            note = _timer_notification(case, timer, saved.projection, now)
            if note is not None:
                writes.notifications.append(note)
            writes.audit(
                now,
                actor,
                f"timer_fired:{timer.kind}",
                case.id,
                timer.task_id,
                timer.element_id,
                detail={
                    "name": timer.name,
                    "due_at": timer.due_at.isoformat(),
                    "rule": timer.rule_id,
                    "attached_to": timer.attached_to,
                },
            )

    def notifications(
        self, username: str, teams: Iterable[str], role: str, unread_only: bool = False
    ) -> list[NotificationInfo]:
        """A user's inbox: addressed to them, or to their team's lane for their role."""
        lane = ROLE_LANES.get(role)
        with self.sessions() as s:
            addressed = Notification.username == username
            if lane:
                addressed |= (
                    Notification.username.is_(None)
                    & Notification.team_key.in_(list(teams))
                    & (Notification.lane == lane)
                )
            query = select(Notification).where(addressed).order_by(Notification.id.desc())
            if unread_only:
                query = query.where(Notification.read_at.is_(None))
            return [
                NotificationInfo(n.id, n.case_id, n.kind, n.message, n.created_at, n.read_at)
                for n in s.scalars(query)
            ]

    def mark_notification_read(
        self, notification_id: int, username: str, teams: Iterable[str], role: str
    ) -> None:
        visible = {n.id for n in self.notifications(username, teams, role)}
        if notification_id not in visible:
            raise NotFound(f"no notification {notification_id}")
        with unit_of_work(self.sessions) as s:
            row = s.get(Notification, notification_id)
            if row is not None and row.read_at is None:
                row.read_at = clock.now()

    def send_pending_mail(self, sender: Sender | None = None) -> int:
        """Email notifications not yet emailed, to users with an address; returns the count."""
        sender = sender or sender_from_config()
        sent = 0
        with unit_of_work(self.sessions) as s:
            pending = s.scalars(
                select(Notification)
                .where(Notification.emailed_at.is_(None))
                .with_for_update(skip_locked=True)
            ).all()
            for note in pending:
                for address in self._addresses(s, note):
                    sender.send(Mail(address, f"cinflow: {note.kind}", note.message))
                    sent += 1
                note.emailed_at = clock.now()
        return sent

    @staticmethod
    def _addresses(s: Session, note: Notification) -> list[str]:
        query = select(User.email).where(User.active.is_(True), User.email.is_not(None))
        if note.username:
            query = query.where(User.username == note.username)
        elif note.team_key:
            roles = [r for r, lane in ROLE_LANES.items() if lane == note.lane] or ["social_worker"]
            query = query.join(Membership, Membership.user_id == User.id).where(
                Membership.team_key == note.team_key, User.role.in_(roles)
            )
        else:
            return []
        return [e for e in s.scalars(query) if e]

    def recompute_deadlines(
        self, council: str, by: str, reason: str, started_since: datetime | None = None
    ) -> int:
        """Re-work pending deadlines of a council after its calendar changed; audited per timer.

        `started_since`: only timers started from then on (those another process may have made
        with the old calendar, see `_recompute_after_new_closure_days`).
        """
        self._calendar_changed(council)
        today = datetime.combine(clock.now().date(), time.min, UTC)
        since = started_since or datetime.min.replace(tzinfo=UTC)
        with self.sessions() as s:
            case_ids = sorted(
                set(
                    s.scalars(
                        select(TimerRow.case_id).where(
                            TimerRow.council_key == council,
                            TimerRow.due_at >= today,
                            TimerRow.started_at >= since,
                        )
                    )
                )
            )
        changed = 0
        for case_id in case_ids:
            with unit_of_work(self.sessions) as s:
                case = self._case(s, case_id, lock=True)
                if case.status != "open":
                    continue
                before = read_projection(s, [case_id])[case_id]
                workflow = self._load(s, case)
                moved = []
                for timer_id, row in before.timers.items():
                    if row.due_at < today or (row.started_at or since) < since:
                        continue
                    task = self.runtime.find_task(workflow, timer_id)
                    if task is None or not row.expression or row.started_at is None:
                        continue
                    with clock.using(FixedClock(row.started_at)):
                        value = workflow.script_engine.evaluate(task, row.expression)
                    if value != task.internal_data.get("event_value"):
                        task.internal_data["event_value"] = value
                        moved.append((row, value))
                if not moved:
                    continue
                now = clock.now()
                writes = Writes()
                for row, value in moved:
                    writes.audit(
                        now,
                        by,
                        "deadline_recomputed",
                        case_id,
                        row.id,
                        row.element_id,
                        detail={
                            "from": row.due_at.isoformat(),
                            "to": value,
                            "rule": row.rule_id,
                            "reason": reason,
                        },
                    )
                self._save(s, case, workflow, by, writes, before, now)
                writes.flush(s)
                changed += len(moved)
        return changed

    def _needs_attention(self, s: Session, case_id: int, message: str, actor: str) -> None:
        """Flag a case for managers (in the caller's transaction); sweeps leave it alone."""
        s.execute(update(Case).where(Case.id == case_id).values(attention=message[:2000]))
        self._audit(s, actor, "case_needs_attention", case_id, detail={"error": message[:2000]})

    def clear_attention(self, case_id: int, user: str) -> CaseInfo:
        """A manager has dealt with the problem: let the sweep try the case's timers again."""
        with unit_of_work(self.sessions) as s:
            case = self._case(s, case_id, lock=True)
            previous, case.attention = case.attention, None
            s.execute(update(Case).where(Case.id == case_id).values(attention=None))
            self._audit(s, user, "attention_cleared", case_id, detail={"was": previous})
            return self._case_info(s, case)

    def completed_task(self, task_id: str, teams: Iterable[str] | None = None) -> AuditInfo:
        """Who completed a step and when (for "already completed" pages), team-limited."""
        with self.sessions() as s:
            done = s.scalars(
                select(AuditEvent).where(
                    AuditEvent.task_id == task_id, AuditEvent.action == "task_completed"
                )
            ).first()
            if done is not None and teams is not None:
                team = s.scalar(select(Case.team_key).where(Case.id == done.case_id))
                done = done if team in set(teams) else None
            if done is None:
                raise UnknownTask(f"no completed task {task_id}")
            return AuditInfo(
                done.id,
                done.at,
                done.actor,
                done.case_id,
                done.task_id,
                done.element_id,
                done.action,
                done.detail,
            )

    def case_process_xml(self, case_id: int, teams: Iterable[str] | None = None) -> str:
        """The BPMN of the version a case runs on, without loading the workflow."""
        with self.sessions() as s:
            case = self._case(s, case_id)
            if teams is not None and case.team_key not in set(teams):
                raise UnknownCase(f"no case {case_id}")
            xml = s.scalar(
                select(ProcessVersion.xml).where(ProcessVersion.id == case.process_version_id)
            )
            return xml or ""

    # -- drafts -------------------------------------------------------------------------------

    def save_draft(self, task_id: str, user: str, data: Mapping[str, Any]) -> None:
        """Keep answers typed so far (not validated: a draft may be half done)."""
        with unit_of_work(self.sessions) as s:
            row = self._task_row(s, task_id)
            draft = s.scalars(
                select(Draft).where(Draft.task_id == task_id, Draft.username == user)
            ).first()
            if draft is None:
                s.add(
                    Draft(
                        task_id=task_id, username=user, data=_jsonable(data), saved_at=clock.now()
                    )
                )
            else:
                draft.data, draft.saved_at = _jsonable(data), clock.now()
            self._audit(s, user, "draft_saved", row.case_id, task_id, row.element_id)

    def get_draft(self, task_id: str, user: str) -> dict[str, Any] | None:
        with self.sessions() as s:
            draft = s.scalars(
                select(Draft).where(Draft.task_id == task_id, Draft.username == user)
            ).first()
            return dict(draft.data) if draft else None

    def draft_saved_at(self, task_id: str, user: str) -> datetime | None:
        with self.sessions() as s:
            return s.scalar(
                select(Draft.saved_at).where(Draft.task_id == task_id, Draft.username == user)
            )

    # -- what the diagram shows ---------------------------------------------------------------

    def case_diagram(self, case_id: int, teams: Iterable[str] | None = None) -> DiagramInfo:
        """The case's top-level diagram and which elements are done, current and overdue."""
        with self.sessions() as s:
            case = self._case(s, case_id)
            if teams is not None and case.team_key not in set(teams):
                raise UnknownCase(f"no case {case_id}")
            version = s.get(ProcessVersion, case.process_version_id)
            assert version is not None
            workflow = self._load(s, case)
            marks = self.runtime.element_states(workflow)
            now = clock.now()
            overdue_tasks = [
                t
                for t in s.scalars(select(TaskRow).where(TaskRow.case_id == case_id))
                if t.due_at is not None and t.due_at < now
            ]
            overdue = sorted(
                {marks.top_level_element.get(t.id, t.element_id) for t in overdue_tasks}
            )
            return DiagramInfo(
                process_id=version.process_id,
                version=version.version,
                xml=version.xml,
                completed=marks.completed,
                current=marks.current,
                overdue=overdue,
                names=marks.names,
            )

    def move_case_to_team(self, case_id: int, team: str, by: str) -> CaseInfo:
        """Give a case (and its open tasks) to another team; only that team sees it from now."""
        with unit_of_work(self.sessions) as s:
            case = self._case(s, case_id, lock=True)
            previous, case.team_key = case.team_key, team
            s.execute(update(Case).where(Case.id == case_id).values(team_key=team))
            s.execute(update(TaskRow).where(TaskRow.case_id == case_id).values(team_key=team))
            self._audit(s, by, "case_moved_team", case_id, detail={"from": previous, "to": team})
            return self._case_info(s, case)

    def audit_trail(self, case_id: int | None = None, action: str | None = None) -> list[AuditInfo]:
        with self.sessions() as s:
            query = select(AuditEvent).order_by(AuditEvent.id)
            if case_id is not None:
                query = query.where(AuditEvent.case_id == case_id)
            if action is not None:
                query = query.where(AuditEvent.action == action)
            return [
                AuditInfo(
                    e.id, e.at, e.actor, e.case_id, e.task_id, e.element_id, e.action, e.detail
                )
                for e in s.scalars(query)
            ]

    def record_view(self, case_id: int, user: str, what: str = "case") -> None:
        with unit_of_work(self.sessions) as s:
            self._audit(s, user, "viewed", case_id, detail={"page": what})

    # -- internals ----------------------------------------------------------------------------

    def _case(self, s: Session, case_id: int, lock: bool = False) -> CaseRecord:
        """The case row; locked for this transaction when changing it (PostgreSQL row lock)."""
        query = LOCK_CASE_BY_ID if lock else CASE_BY_ID
        row = s.connection().execute(query, {"case_id": case_id}).first()
        if row is None:
            raise UnknownCase(f"no case {case_id}")
        return case_record(row)

    def _open_case(self, s: Session, case_id: int) -> CaseRecord:
        case = self._case(s, case_id, lock=True)
        if case.status != "open":
            raise CaseClosed(f"case {case_id} is {case.status}")
        return case

    def _lock_case_of_task(self, s: Session, task_id: str) -> tuple[CaseRecord, Projection]:
        """The case an open task belongs to, locked, with its projection; a task not open says
        why (`_task_row`)."""
        found = lock_case_of_task(s, task_id)
        if found is None:
            self._task_row(s, task_id)
            raise UnknownTask(f"no open task {task_id}")
        return found

    def _task_row(self, s: Session, task_id: str, teams: Iterable[str] | None = None) -> TaskRow:
        """An open task; a completed one says who completed it, but only to the case's team."""
        row = s.get(TaskRow, task_id)
        if row is not None:
            if teams is not None and row.team_key not in set(teams):
                raise UnknownTask(f"no open task {task_id}")
            return row
        done = s.scalars(
            select(AuditEvent).where(
                AuditEvent.task_id == task_id, AuditEvent.action == "task_completed"
            )
        ).first()
        if done is not None and teams is not None:
            team = s.scalar(select(Case.team_key).where(Case.id == done.case_id))
            if team not in set(teams):
                done = None
        if done is not None:
            raise TaskAlreadyCompleted(
                f'"{done.detail.get("name", task_id)}" was already completed by {done.actor} '
                f"on {done.at:%d %B %Y at %H:%M} UTC"
            )
        raise UnknownTask(f"no open task {task_id}")

    def _version(self, s: Session, version_id: int) -> VersionRef:
        """A process version's identity, cached per engine (versions never change once stored)."""
        ref = self._versions.get(version_id)
        if ref is None:
            row = s.execute(
                select(
                    ProcessVersion.process_id, ProcessVersion.version, ProcessVersion.sha256
                ).where(ProcessVersion.id == version_id)
            ).one()
            ref = self._versions[version_id] = VersionRef(
                row.process_id, row.version, f"{row.process_id}:{row.sha256}"
            )
        return ref

    def _load(self, s: Session, case: CaseRecord) -> Any:
        ref = self._version(s, case.process_version_id)
        spec_json = (
            ""
            if self.runtime.has_spec(ref.spec_key)
            else s.scalar(
                select(ProcessVersion.spec_json).where(ProcessVersion.id == case.process_version_id)
            )
        )
        spec, subs = self.runtime.spec_from_json(ref.spec_key, spec_json or "")
        return self.runtime.load_state(
            case.state_json, spec, subs, self._functions(case.council_key)
        )

    def _save(
        self,
        s: Session,
        case: CaseRecord,
        workflow: Any,
        actor: str,
        writes: Writes,
        before: Projection | None = None,
        now: datetime | None = None,
    ) -> Saved:
        """Gather the case's new state, revision and projection into `writes`.

        `before` is the projection as read when the case was locked (read here if not given).
        Nothing is sent until `writes.flush`, whose UPDATE checks the revision (optimistic
        locking): a case changed meanwhile by someone else is a Conflict and rolls back.
        """
        now = now or clock.now()
        profile = self.profile(case.council_key)
        snapshot = self.runtime.snapshot(workflow, profile.rule_for_key)
        snapshot = replace(
            snapshot,
            user_tasks=[
                replace(t, rule_id=profile.own_rules(t.rule_id)) for t in snapshot.user_tasks
            ],
            timers=[replace(t, rule_id=profile.own_rules(t.rule_id)) for t in snapshot.timers],
        )
        old_revision = case.revision
        case.state_json = self.runtime.dump_state(workflow)
        case.serializer_version = SERIALIZER_VERSION
        case.revision += 1
        if snapshot.completed and case.status == "open":
            case.status, case.closed_at = "completed", now
            writes.audit(now, actor, "case_completed", case.id)
        writes.save_case(case, old_revision)
        if before is None:
            before = read_projection(s, [case.id])[case.id]
        previous = set(before.tasks)
        after = project(case, before, snapshot, now, writes)
        return Saved(after, previous)

    def _audit(
        self,
        s: Session,
        actor: str,
        action: str,
        case_id: int | None = None,
        task_id: str | None = None,
        element_id: str | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        """One audit event, written now (set-based changes gather theirs in `Writes`)."""
        s.execute(
            insert(AuditEvent),
            [
                audit_row(
                    clock.now(),
                    actor,
                    action,
                    case_id,
                    task_id,
                    element_id,
                    _jsonable(detail or {}),
                )
            ],
        )

    def _case_info(
        self, s: Session, case: CaseRecord, projection: Projection | None = None
    ) -> CaseInfo:
        ref = self._version(s, case.process_version_id)
        if projection is None:
            projection = read_projection(s, [case.id])[case.id]
        tasks = [
            _task_info(t, case.child_name)
            for t in sorted(projection.tasks.values(), key=_task_order)
        ]
        timers = [
            _timer_info(t) for t in sorted(projection.timers.values(), key=lambda t: t.due_at)
        ]
        return CaseInfo(
            id=case.id,
            child=ChildInfo(
                case.child_id, case.child_name, case.child_date_of_birth, case.council_key
            ),
            council=case.council_key,
            process_id=ref.process_id,
            version=ref.version,
            status=case.status,
            revision=case.revision,
            opened_at=case.opened_at,
            closed_at=case.closed_at,
            training=case.training,
            attention=case.attention,
            team=case.team_key,
            tasks=tasks,
            timers=timers,
        )

    def _documentation(self, s: Session, row: TaskRow) -> str:
        case = s.get(Case, row.case_id)
        assert case is not None
        version = s.get(ProcessVersion, case.process_version_id)
        assert version is not None
        spec, subs = self.runtime.spec_from_json(_spec_key(version), version.spec_json)
        for candidate in (spec, *subs.values()):
            task_spec = candidate.task_specs.get(row.element_id)
            if task_spec is not None:
                return task_spec.documentation or ""
        return ""


def _task_order(row: TaskRow | TaskRecord) -> tuple[bool, Any, Any, str]:
    return (row.due_at is None, row.due_at or row.created_at, row.created_at, row.id)


def _spec_json(runtime: Runtime, item: Any) -> str:
    if not item.spec_json:
        item.spec_json = runtime.spec_to_json(item.spec, item.subprocess_specs)
    return item.spec_json


def _spec_key(version: ProcessVersion) -> str:
    return f"{version.process_id}:{version.sha256}"


def _process_info(row: ProcessVersion) -> ProcessInfo:
    return ProcessInfo(
        row.id,
        row.council_key,
        row.process_id,
        row.name,
        row.version,
        row.sha256,
        row.deployed_at,
        row.deployed_by,
        row.comment,
        row.file_name,
    )


def _task_info(
    row: TaskRow | TaskRecord, child_name: str = "", documentation: str = ""
) -> TaskInfo:
    return TaskInfo(
        row.id,
        row.case_id,
        row.element_id,
        row.name,
        row.lane,
        row.form,
        row.due_at,
        row.rule_id,
        row.created_at,
        row.claimed_by,
        child_name,
        row.council_key,
        documentation,
        row.team_key,
    )


def _timer_info(row: Any) -> TimerInfo:
    return TimerInfo(
        row.id,
        row.case_id,
        row.element_id,
        row.name,
        row.kind,
        row.attached_to,
        row.due_at,
        row.rule_id,
    )


def _timer_notification(
    case: CaseRecord, timer: TimerView, projection: Projection, now: datetime
) -> dict[str, Any] | None:
    """Reminders go to whoever holds the task; a passed deadline goes to the team manager."""
    if timer.kind not in ("reminder", "deadline"):
        return None
    task = next((t for t in projection.tasks.values() if t.element_id == timer.attached_to), None)
    step = task.name if task else (timer.attached_to or timer.name)
    due = task.due_at if task and task.due_at else timer.due_at
    rule = f" ({timer.rule_id})" if timer.rule_id else ""
    when = due.astimezone(LONDON).strftime("%-d %B %Y")
    if timer.kind == "reminder":
        message = f"Reminder: “{step}” for {case.child_name} is due by {when}{rule}."
        username = task.claimed_by if task else None
        lane = None if task and task.claimed_by else (task.lane if task else None)
    else:
        message = (
            f"Deadline passed: “{step}” for {case.child_name} was due by {when}{rule}. "
            "It needs a team manager's attention."
        )
        username, lane = None, "Team manager"
    return {
        "team_key": case.team_key,
        "case_id": case.id,
        "kind": timer.kind,
        "message": message,
        "created_at": now,
        "username": username,
        "lane": lane,
        "read_at": None,
        "emailed_at": None,
    }


def _replace_data(info: CaseInfo, data: Mapping[str, Any]) -> CaseInfo:
    return replace(info, data=_jsonable(data))


def _jsonable(value: Any) -> Any:
    return json.loads(
        json.dumps(value, default=lambda v: v.isoformat() if hasattr(v, "isoformat") else str(v))
    )
