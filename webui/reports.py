"""Reports for managers: oversight (timeliness, overdue, caseloads, drift) with SVG charts and
tables, the diagram heatmap per process version, the DfE CIN census and Ofsted's Annex A.

Team managers see their own teams' figures; practice managers see their council's, and only
they download the census and Annex A (returns are council-wide). The engine reads the figures
(engine.returns); this module only chooses what to ask for and draws it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_login import current_user

from engine.errors import NotFound
from engine.returns import annex_a
from engine.returns.census import CensusError, CensusYear, Issue
from engine.returns.oversight import DRIFT_MONTHS, Rate
from engine.returns.service import Returns

from .access import MANAGER_ROLES, allow, my_teams
from .cases import today as get_today
from .charts import Bar, bar_chart
from .engine_access import get_engine

bp = Blueprint("reports", __name__, url_prefix="/reports")


def _returns() -> Returns:
    return Returns.for_engine(get_engine())


def _council() -> tuple[str, list[str], dict[str, str]]:
    """The council asked for (one of the user's teams' councils) and the teams shown."""
    teams = {t.key: t for t in get_engine().people.teams()}
    mine = [teams[k] for k in my_teams() if k in teams]
    councils = sorted({t.council for t in mine})
    if not councils:
        abort(403)
    council = request.args.get("council", councils[0])
    if council not in councils:
        abort(404)
    if current_user.role == "practice_manager":
        shown = [t for t in teams.values() if t.council == council]
    else:
        shown = [t for t in mine if t.council == council]
    return council, councils, {t.key: t.name for t in shown}


def _day(name: str, default: date) -> date:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return default


def _rate_bars(rates: list[Rate], names: dict[str, str]) -> list[Bar]:
    return [
        Bar(names.get(r.key, r.key), r.percent, f"{r.percent}% ({r.met} of {r.total})")
        for r in rates
    ]


def _count_bars(counts: dict[str, int], names: dict[str, str]) -> list[Bar]:
    return [Bar(names.get(k, k), v, str(v)) for k, v in counts.items()]


@bp.get("")
@allow(*MANAGER_ROLES)
def oversight() -> str:
    council, councils, team_names = _council()
    today = get_today()
    end = _day("to", today)
    start = _day("from", end - timedelta(days=91))
    if start > end:
        start, end = end, start
    view = _returns().oversight(council, start, end, teams=list(team_names))
    charts = {
        "rule": bar_chart(
            "chart-rule", "Deadlines met, by rule", _rate_bars(view.by_rule, {}), 100
        ),
        "team": bar_chart(
            "chart-team", "Deadlines met, by team", _rate_bars(view.by_team, team_names), 100
        ),
        "overdue": bar_chart(
            "chart-overdue",
            "Steps overdue now, by team",
            _count_bars(view.overdue_by_team, team_names),
        ),
        "caseload": bar_chart(
            "chart-caseload",
            "Open cases, by team",
            _count_bars(view.caseload_by_team, team_names),
        ),
    }
    return render_template(
        "reports/oversight.html",
        view=view,
        charts=charts,
        council=council,
        councils=councils,
        team_names=team_names,
        drift_months=DRIFT_MONTHS,
        start=start,
        end=end,
        versions=_returns().versions(council),
    )


@bp.get("/heatmap/<int:version_id>")
@allow(*MANAGER_ROLES)
def heatmap(version_id: int) -> str:
    council, _, team_names = _council()
    try:
        heat = _returns().heatmap(council, version_id, teams=list(team_names))
    except NotFound:
        abort(404)
    top = max([1, *(max(s.waiting, s.missed) for s in heat.steps)])
    levels = {
        s.element_id: {
            "waiting": s.waiting,
            "missed": s.missed,
            "level": min(4, -(-4 * max(s.waiting, s.missed) // top)),
        }
        for s in heat.steps
    }
    return render_template("reports/heatmap.html", heat=heat, levels=levels, council=council)


@bp.get("/heatmap/<int:version_id>/diagram.bpmn")
@allow(*MANAGER_ROLES)
def heatmap_xml(version_id: int) -> Response:
    council, _, team_names = _council()
    try:
        heat = _returns().heatmap(council, version_id, teams=list(team_names))
    except NotFound:
        abort(404)
    return Response(heat.xml, mimetype="application/xml")


def _year() -> CensusYear:
    today = get_today()
    first = today.year if today.month >= 4 else today.year - 1
    text = request.args.get("year", f"{first}-{str(first + 1)[2:]}")
    try:
        return CensusYear.parse(text)
    except CensusError:
        abort(404)


@dataclass(frozen=True)
class IssueView:
    issue: Issue
    link: str
    step: str


def _issue_view(issue: Issue) -> IssueView:
    where = issue.where
    if where.task_id:
        link = url_for("tasks.show", task_id=where.task_id)
    else:
        link = url_for("cases.show", case_id=where.case_id)
    return IssueView(issue, link, where.step)


@bp.get("/census")
@allow("practice_manager")
def census() -> str:
    council, councils, _ = _council()
    year = _year()
    try:
        result = _returns().census(council, year.label, request.args.get("la_code") or None)
    except CensusError as exc:
        return render_template(
            "reports/census.html", problem=str(exc), council=council, year=year, result=None
        )
    issues = [_issue_view(i) for i in result.issues]
    children: dict[str, list[IssueView]] = {}
    for view in issues:
        children.setdefault(view.issue.child, []).append(view)
    return render_template(
        "reports/census.html",
        result=result,
        children=children,
        blocking=sum(1 for i in result.issues if not i.warning),
        council=council,
        councils=councils,
        year=year,
        years=_recent_years(),
        problem=None,
    )


def _recent_years() -> list[str]:
    today = get_today()
    first = today.year if today.month >= 4 else today.year - 1
    return [f"{y}-{str(y + 1)[2:]}" for y in range(first, first - 3, -1)]


@bp.get("/census.xml")
@allow("practice_manager")
def census_xml() -> Any:
    council, _, _ = _council()
    year = _year()
    try:
        result = _returns().census(council, year.label, request.args.get("la_code") or None)
    except CensusError:
        abort(404)
    if any(not i.warning for i in result.issues):
        return render_template(
            "reports/census_refused.html", council=council, year=year, result=result
        ), 409
    name = f"cin-census-{result.la_code}-{year.label}.xml"
    return Response(
        result.xml,
        mimetype="application/xml",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.get("/annex-a.<any(csv, xlsx):fmt>")
@allow("practice_manager")
def annex(fmt: str) -> Response:
    council, _, _ = _council()
    table = _returns().annex_a(council)
    name = f"annex-a-list-6-{council}-{get_today().isoformat()}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if fmt == "csv":
        return Response(annex_a.to_csv(table), mimetype="text/csv", headers=headers)
    return Response(
        annex_a.to_xlsx(table),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers=headers,
    )
