"""Casework: who holds a case (the allocated social worker), finding a child, a worker's cases.

Each function takes the session of the caller's unit of work (the Engine facade opens it), so
an allocation and everything it moves is one transaction. Only the teams passed in are seen:
another team's case is UnknownCase, exactly like one that does not exist.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, insert, literal, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from engine import clock
from engine.errors import CaseClosed, NotAllowed, UnknownCase
from engine.store.audit import record_audit
from engine.store.db import unit_of_work
from engine.store.models import Case, Child, Membership, Notification, TaskRow, User
from engine.store.projection import ALLOCATED_LANES, new_step_notification

# Who may hold a case, and who may give it to them.
ALLOCATABLE_ROLES = ("social_worker",)
ALLOCATING_ROLES = ("team_manager", "practice_manager")
SEARCH_LIMIT = 25
# SQLite has no trigram index: the fallback scores at most this many of the teams' children.
FALLBACK_CANDIDATES = 20_000
FUZZY_CUTOFF = 0.75
# Up to this many cases in the searcher's teams, their children are scored directly.
TEAM_FIRST_LIMIT = 5_000


@dataclass(frozen=True)
class CaseSummary:
    """One line of a case list: the child, who holds the case, what is next and by when."""

    case_id: int
    child_name: str
    date_of_birth: date | None
    council: str
    team: str | None
    allocated_to: str | None
    status: str
    opened_at: datetime
    current_step: str | None = None
    current_task_id: str | None = None
    current_holder: str | None = None
    next_due: datetime | None = None


@dataclass(frozen=True)
class CasePage:
    cases: list[CaseSummary]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class Allocation:
    case_id: int
    previous: str | None
    allocated_to: str
    moved_steps: list[str]


# --- finding a child -----------------------------------------------------------------------

MONTHS = {
    name: n
    for n, names in enumerate(
        [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
         ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
         ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
         ("dec", "december")],
        start=1,
    )
    for name in names
}  # fmt: skip


def parse_query(text: str) -> tuple[str, int | date | str]:
    """What a search box holds: ("case", 123), ("dob", date) or ("name", "fredie lowe")."""
    text = " ".join(text.split())
    number = re.fullmatch(r"(?i)(?:case\s*(?:number|no\.?)?\s*)?#?\s*(\d{1,9})", text)
    if number:
        return "case", int(number.group(1))
    day = _as_date(text)
    if day is not None:
        return "dob", day
    return "name", text


def _as_date(text: str) -> date | None:
    patterns = (
        (r"(\d{4})-(\d{1,2})-(\d{1,2})", (0, 1, 2)),
        (r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", (2, 1, 0)),
    )
    for pattern, (y, m, d) in patterns:
        found = re.fullmatch(pattern, text)
        if found:
            parts = found.groups()
            try:
                return date(int(parts[y]), int(parts[m]), int(parts[d]))
            except ValueError:
                return None
    words = re.fullmatch(r"(\d{1,2})\s+([A-Za-z]+)\s+(\d{4})", text)
    if words and words.group(2).lower() in MONTHS:
        try:
            return date(int(words.group(3)), MONTHS[words.group(2).lower()], int(words.group(1)))
        except ValueError:
            return None
    return None


def search(
    s: Session, teams: Iterable[str], text: str, limit: int = SEARCH_LIMIT
) -> list[CaseSummary]:
    """Cases of these teams (open or closed, never training) whose child matches `text`: a
    case number, a date of birth, or a name spelt roughly right, best match first."""
    teams = list(teams)
    kind, value = parse_query(text)
    base = _cases_query(teams)
    if kind == "case":
        rows = s.execute(base.where(Case.id == value)).all()
    elif kind == "dob":
        rows = s.execute(base.where(Child.date_of_birth == value).limit(limit)).all()
    elif len(str(value)) < 2:
        return []
    elif s.get_bind().dialect.name == "postgresql":
        rows = s.execute(_trigram(base, str(value), _team_first(s, teams)).limit(limit)).all()
    else:
        rows = _fuzzy_fallback(s, base, str(value), limit)
    return _summaries(s, rows)


def _team_first(s: Session, teams: list[str]) -> bool:
    """Score the teams' own children directly when they are few (time independent of how many
    children every other team has); past TEAM_FIRST_LIMIT, go through the trigram index."""
    count = s.scalar(
        select(func.count())
        .select_from(Case)
        .where(Case.team_key.in_(teams), Case.training.is_(False))
    )
    return (count or 0) <= TEAM_FIRST_LIMIT


def _trigram(base, text: str, team_first: bool):  # noqa: ANN001, ANN202
    """PostgreSQL: the words typed against the name (pg_trgm word similarity), or the text
    anywhere in the name. `team_first`: the name is wrapped (lower()) so the planner starts
    from the teams' cases rather than the index over every council's children."""
    typed = literal(text)
    name = func.lower(Child.name) if team_first else Child.name
    near = typed.op("OPERATOR(public.<%)")(name)
    inside = name.ilike(f"%{_escape_like(text)}%", escape="\\")
    score = func.public.word_similarity(typed, name)
    return base.where(or_(near, inside)).order_by(score.desc(), Case.id)


def _escape_like(text: str) -> str:
    return re.sub(r"([\\%_])", r"\\\1", text)


def _fuzzy_fallback(s: Session, base, text: str, limit: int) -> list:  # noqa: ANN001
    """SQLite: score the teams' children in Python (a small installation's fallback)."""
    typed = text.lower().split()
    scored = []
    for row in s.execute(base.limit(FALLBACK_CANDIDATES)):
        words = row.child_name.lower().split()
        score = sum(
            max((difflib.SequenceMatcher(None, t, w).ratio() for w in words), default=0.0)
            for t in typed
        ) / len(typed)
        if score >= FUZZY_CUTOFF or text.lower() in row.child_name.lower():
            scored.append((-score, row.case_id, row))
    scored.sort(key=lambda item: item[:2])
    return [row for *_key, row in scored[:limit]]


# --- case lists ----------------------------------------------------------------------------


def my_cases(
    s: Session, username: str, teams: Iterable[str], limit: int = 200
) -> list[CaseSummary]:
    """The open cases of these teams allocated to this person, soonest next deadline first
    (a case left behind in a team they moved out of is not theirs to see)."""
    query = (
        _cases_query(list(teams))
        .where(Case.allocated_to == username, Case.status == "open")
        .order_by(Case.id)
        .limit(limit)
    )
    return _by_deadline(_summaries(s, s.execute(query).all()))


def team_cases(s: Session, teams: Iterable[str], page: int = 1, per_page: int = 50) -> CasePage:
    """The teams' open cases, newest first, a page at a time."""
    teams = list(teams)
    where = (Case.team_key.in_(teams), Case.status == "open", Case.training.is_(False))
    total = s.scalar(select(func.count()).select_from(Case).where(*where)) or 0
    query = (
        _cases_query(teams)
        .where(Case.status == "open")
        .order_by(Case.id.desc())
        .offset((max(page, 1) - 1) * per_page)
        .limit(per_page)
    )
    return CasePage(_summaries(s, s.execute(query).all()), total, max(page, 1), per_page)


def _cases_query(teams: list[str] | None):  # noqa: ANN202
    query = (
        select(
            Case.id.label("case_id"),
            Child.name.label("child_name"),
            Child.date_of_birth,
            Case.council_key,
            Case.team_key,
            Case.allocated_to,
            Case.status,
            Case.opened_at,
        )
        .join(Child, Child.id == Case.child_id)
        .where(Case.training.is_(False))
    )
    if teams is not None:
        query = query.where(Case.team_key.in_(teams))
    return query


def _summaries(s: Session, rows: list) -> list[CaseSummary]:
    """Rows of `_cases_query` with each case's soonest open step, in one more query."""
    ids = [row.case_id for row in rows]
    first: dict[int, tuple] = {}
    if ids:
        tasks = s.execute(
            select(TaskRow.case_id, TaskRow.id, TaskRow.name, TaskRow.claimed_by, TaskRow.due_at)
            .where(TaskRow.case_id.in_(ids))
            .order_by(TaskRow.due_at.asc().nulls_last(), TaskRow.created_at, TaskRow.id)
        )
        for task in tasks:
            first.setdefault(task.case_id, task)
    out = []
    for row in rows:
        task = first.get(row.case_id)
        out.append(
            CaseSummary(
                row.case_id,
                row.child_name,
                row.date_of_birth,
                row.council_key,
                row.team_key,
                row.allocated_to,
                row.status,
                row.opened_at,
                task.name if task else None,
                task.id if task else None,
                task.claimed_by if task else None,
                task.due_at if task else None,
            )
        )
    return out


def _by_deadline(cases: list[CaseSummary]) -> list[CaseSummary]:
    return sorted(cases, key=lambda c: (c.next_due is None, c.next_due or c.opened_at, c.case_id))


# --- allocation ----------------------------------------------------------------------------


def allocate(
    s: Session, case_id: int, to_user: str, by: str, teams: Iterable[str] | None = None
) -> Allocation:
    """Make `to_user` the case's allocated social worker. Their lane's open steps move to them
    (unless someone other than the previous worker holds one); audited; they are told."""
    case = s.scalars(select(Case).where(Case.id == case_id).with_for_update(of=Case)).first()
    if case is None or (teams is not None and case.team_key not in set(teams)):
        raise UnknownCase(f"no case {case_id}")
    if case.status != "open":
        raise CaseClosed(f"case {case_id} is {case.status}: it cannot be allocated")
    manager = _member(s, by, case.team_key)
    if manager is None or manager.role not in ALLOCATING_ROLES:
        raise NotAllowed("only a manager of the case's team can allocate it")
    worker = _member(s, to_user, case.team_key)
    if worker is None or worker.role not in ALLOCATABLE_ROLES or not worker.active:
        raise NotAllowed(
            "the person chosen is not a social worker in this case's team: choose one who is"
        )
    previous = case.allocated_to
    if previous == to_user:
        return Allocation(case_id, previous, to_user, [])
    now = clock.now()
    case.allocated_to = to_user
    holders = [TaskRow.claimed_by.is_(None)]
    if previous:
        holders.append(TaskRow.claimed_by == previous)
    moving = s.execute(
        select(TaskRow.id, TaskRow.name, TaskRow.element_id).where(
            TaskRow.case_id == case_id, TaskRow.lane.in_(ALLOCATED_LANES), or_(*holders)
        )
    ).all()
    if moving:
        s.execute(
            update(TaskRow).where(TaskRow.id.in_([t.id for t in moving])).values(claimed_by=to_user)
        )
    child = s.get(Child, case.child_id)
    child_name = child.name if child else ""
    steps = [t.name for t in moving]
    record_audit(
        s, by, "case_allocated", case_id, detail={"from": previous, "to": to_user, "steps": steps},
        at=now,
    )  # fmt: skip
    for t in moving:
        record_audit(
            s, by, "task_assigned", case_id, t.id, t.element_id,
            detail={"to": to_user, "why": "case allocated"}, at=now,
        )  # fmt: skip
    notes = [
        {
            **new_step_notification(case_id, child_name, case.team_key, "", to_user, now),
            "kind": "allocated",
            "message": f"{child_name}'s case is now allocated to you by {manager.display_name}.",
        }
    ] + [
        new_step_notification(case_id, child_name, case.team_key, t.name, to_user, now)
        for t in moving
    ]
    s.execute(insert(Notification), notes)
    return Allocation(case_id, previous, to_user, [t.name for t in moving])


def allocatable(s: Session, team: str) -> list[tuple[str, str]]:
    """(username, name) of the team's active social workers, A to Z by name."""
    rows = s.execute(
        select(User.username, User.display_name)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.team_key == team,
            User.role.in_(ALLOCATABLE_ROLES),
            User.active.is_(True),
        )
        .order_by(User.display_name)
    )
    return [(r.username, r.display_name) for r in rows]


def _member(s: Session, username: str, team: str | None) -> User | None:
    if not team:
        return None
    return s.scalars(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(User.username == username, Membership.team_key == team)
    ).first()


class Casework:
    """The use cases above, one unit of work each (the Engine facade hands this out)."""

    def __init__(
        self, sessions: sessionmaker[Session], reads: sessionmaker[Session] | None = None
    ) -> None:
        self.sessions = sessions
        self.reads = reads or sessions  # engine.store.db.read_session_factory

    def search(
        self, teams: Iterable[str], text: str, limit: int = SEARCH_LIMIT
    ) -> list[CaseSummary]:
        with self.reads() as s:
            return search(s, teams, text, limit)

    def my_cases(self, username: str, teams: Iterable[str]) -> list[CaseSummary]:
        with self.reads() as s:
            return my_cases(s, username, teams)

    def team_cases(self, teams: Iterable[str], page: int = 1, per_page: int = 50) -> CasePage:
        with self.reads() as s:
            return team_cases(s, teams, page, per_page)

    def allocate(
        self, case_id: int, to_user: str, by: str, teams: Iterable[str] | None = None
    ) -> Allocation:
        with unit_of_work(self.sessions) as s:
            return allocate(s, case_id, to_user, by, teams)

    def allocatable(self, team: str) -> list[tuple[str, str]]:
        with self.reads() as s:
            return allocatable(s, team)

    def allocated_to(self, case_id: int) -> str | None:
        with self.reads() as s:
            return s.scalar(select(Case.allocated_to).where(Case.id == case_id))

    def entry_routes(self, council: str) -> list[Any]:
        """The council's routes into a case (engine/services/frontdoor.py)."""
        from engine.services.frontdoor import entry_routes

        with self.reads() as s:
            return entry_routes(s, council)

    def escalation(self, task_id: str, calendar: Any, teams: Iterable[str] | None = None) -> Any:
        """The missed deadline behind an escalation step (services/escalation.py), or None."""
        from engine.services.escalation import escalation

        with self.reads() as s:
            return escalation(s, task_id, calendar, teams)

    def agree_new_date(self, task_id: str, calendar: Any, **decision: Any) -> Any:
        from engine.services.escalation import agree_new_date

        with unit_of_work(self.sessions) as s:
            return agree_new_date(s, task_id, calendar=calendar, **decision)
