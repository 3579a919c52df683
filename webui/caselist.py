"""Cases as a case system lists them: "My cases" (allocated to me), the team's cases, finding a
child (by a name spelt roughly right, a date of birth or a case number), and allocating a case.

Each list shows the child, the step the case is at and its next deadline, in the worklist's
wording; every lookup is limited to the signed-in person's teams.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from engine import clock
from engine.errors import CaseClosed, NotAllowed, UnknownCase
from engine.services.casework import CaseSummary, parse_query
from engine.views import DeadlineView
from engine.wording import describe_deadline

from .access import MANAGER_ROLES, WORKER_ROLES, allow, my_teams
from .engine_access import get_casework, get_engine
from .flashes import say
from .worklist import DEADLINE_TAGS, _Calendars, due_soon_days

bp = Blueprint("caselist", __name__)

PER_PAGE = 50


@dataclass(frozen=True)
class CaseTab:
    key: str
    title: str
    endpoint: str
    args: dict[str, Any]


TABS = (
    CaseTab("mine", "My cases", "caselist.mine", {}),
    CaseTab("team", "Team's cases", "caselist.team", {}),
    CaseTab("search", "Find a child", "caselist.search", {}),
)


@dataclass(frozen=True)
class CaseRow:
    case: CaseSummary
    deadline: DeadlineView
    allocated_name: str
    holder_name: str

    @property
    def tag_class(self) -> str | None:
        return DEADLINE_TAGS.get(self.deadline.state)


def _rows(cases: list[CaseSummary]) -> list[CaseRow]:
    engine = get_engine()
    names = engine.worklist_display_names(
        [c.allocated_to for c in cases] + [c.current_holder for c in cases]
    )
    calendars = _Calendars(engine)
    now, soon = clock.now(), due_soon_days()
    return [
        CaseRow(
            c,
            describe_deadline(c.next_due, now, calendars(c.council), soon),
            names.get(c.allocated_to or "", c.allocated_to or ""),
            names.get(c.current_holder or "", c.current_holder or ""),
        )
        for c in cases
    ]


def _render(tab_key: str, **context: Any) -> str:
    tab = next(t for t in TABS if t.key == tab_key)
    return render_template(
        "cases/list.html", tabs=TABS, current_tab=tab, query=context.pop("query", ""), **context
    )


@bp.get("/cases")
@allow(*WORKER_ROLES)
def mine() -> str:
    cases = get_casework().my_cases(current_user.username, my_teams())
    return _render("mine", rows=_rows(cases), total=len(cases))


@bp.get("/cases/team")
@allow(*WORKER_ROLES)
def team() -> str:
    page = request.args.get("page", "1")
    number = int(page) if page.isdigit() and int(page) > 0 else 1
    found = get_casework().team_cases(my_teams(), number, PER_PAGE)
    if number > found.pages:
        abort(404)
    pagination = None
    if found.pages > 1:
        pagination = {
            "previous": {"href": url_for("caselist.team", page=number - 1)} if number > 1 else None,
            "next": {"href": url_for("caselist.team", page=number + 1)}
            if number < found.pages
            else None,
            "items": [
                {"number": n, "href": url_for("caselist.team", page=n), "current": n == number}
                for n in range(1, found.pages + 1)
            ],
        }
    return _render("team", rows=_rows(found.cases), total=found.total, pagination=pagination)


@bp.get("/cases/search")
@allow(*WORKER_ROLES)
def search() -> str:
    query = " ".join(request.args.get("q", "").split())[:100]
    error = None
    rows: list[CaseRow] | None = None
    if "q" in request.args:
        if len(query) < 2 and parse_query(query)[0] != "case":
            error = "Enter at least 2 letters of the child's name, a date of birth or a case number"
        else:
            rows = _rows(get_casework().search(my_teams(), query))
    return _render("search", rows=rows, total=len(rows or []), query=query, error=error)


@bp.post("/cases/<int:case_id>/allocate")
@allow(*MANAGER_ROLES)
def allocate(case_id: int) -> Response:
    to = request.form.get("to", "").strip()
    back = url_for("cases.show", case_id=case_id)
    if not to:
        say("choose_social_worker")
        return redirect(back + "#allocation")
    try:
        done = get_casework().allocate(case_id, to, current_user.username, teams=my_teams())
    except UnknownCase:
        abort(404)
    except (NotAllowed, CaseClosed) as exc:
        say("not_allocated", why="closed" if isinstance(exc, CaseClosed) else "not_in_team")
        return redirect(back + "#allocation")
    say("allocated", to=done.allocated_to, moved=len(done.moved_steps))
    return redirect(back)
