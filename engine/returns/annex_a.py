"""Ofsted's Annex A list 6 (children in need): cases open now or closed in the last six months.

The columns are the ones Ofsted's inspection framework asks for; the values come from the same
case records and census facts as the DfE census (one reading of each fact), in plain words.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import astuple, dataclass
from datetime import date, datetime, timedelta

from engine.calendar import LONDON
from engine.returns import codes
from engine.returns.census import Facts, la_child_id
from engine.returns.records import CaseRecord

COLUMNS = (
    "Child Unique ID",
    "Gender",
    "Ethnicity",
    "Date of Birth",
    "Age of Child (Years)",
    "Does the Child have a Disability",
    "CIN Start Date",
    "Primary Need Code",
    "Date Child Was Last Seen",
    "CIN Closure Date",
    "Reason for Closure",
    "Case Status",
    "Allocated Team",
    "Allocated Worker",
)
VISIT_DATES = ("visit_date", "child_seen_alone_date")
LOOK_BACK_DAYS = 183  # six months


@dataclass(frozen=True)
class AnnexRow:
    child_id: str
    gender: str
    ethnicity: str
    date_of_birth: str
    age: str
    disability: str
    cin_start: str
    primary_need: str
    last_seen: str
    closure_date: str
    closure_reason: str
    status: str
    team: str
    worker: str


def _uk(day: date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else ""


def _age(born: date | None, on: date) -> str:
    if born is None:
        return ""
    return str(on.year - born.year - ((on.month, on.day) < (born.month, born.day)))


def _last_seen(facts: Facts) -> date | None:
    seen = [
        day
        for event in facts.events
        for key in VISIT_DATES
        if event.action == "task_completed"
        and (day := facts_day(event.data.get(key))) is not None
        and event.data.get("child_seen", True) is not False
    ]
    return max(seen, default=None)


def facts_day(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def rows(
    records: Iterable[CaseRecord], now: datetime, team_names: dict[str, str] | None = None
) -> list[AnnexRow]:
    """One row per case open now, or closed within the last six months, oldest child first."""
    today = now.astimezone(LONDON).date()
    since = today - timedelta(days=LOOK_BACK_DAYS)
    out: list[AnnexRow] = []
    for record in records:
        facts = Facts(record, today)
        closed = facts.day("closure_date")
        if closed is None and record.status != "open" and record.closed_at is not None:
            closed = record.closed_at.astimezone(LONDON).date()
        if record.status == "open" and (closed is None or closed > today):
            status, closed = "Open", None
        elif closed is not None and closed >= since:
            status = "Closed"
        else:
            continue
        if record.status == "cancelled" and facts.get("closure_date") is None:
            continue  # opened in error: not a child in need
        disabilities = facts.get("disabilities") or []
        reason = facts.get("reason_code") if status == "Closed" else None
        need = facts.get("primary_need_code")
        out.append(
            AnnexRow(
                la_child_id(record.child_id),
                codes.SEX.get(str(facts.get("sex")), "Not recorded").split(" (")[0],
                codes.ETHNICITY.get(str(facts.get("ethnicity")), "Not recorded"),
                _uk(record.date_of_birth),
                _age(record.date_of_birth, today),
                "Not recorded"
                if not disabilities
                else ("No" if disabilities == ["NONE"] else "Yes"),
                _uk(facts.day("referral_date") or record.opened_at.astimezone(LONDON).date()),
                f"{need} {codes.PRIMARY_NEED[need]}" if need in codes.PRIMARY_NEED else "",
                _uk(_last_seen(facts)),
                _uk(closed),
                f"{reason} {codes.CLOSURE_REASON[reason]}"
                if reason in codes.CLOSURE_REASON
                else "",
                status,
                (team_names or {}).get(record.team or "", record.team or ""),
                record.worker() or "",
            )
        )
    return out


def to_csv(table: list[AnnexRow]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(astuple(row) for row in table)
    return buffer.getvalue()


def to_xlsx(table: list[AnnexRow]) -> bytes:
    """The same list as an Excel workbook, one sheet, headings in bold, columns sized."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "List 6 Children in need"
    sheet.append(COLUMNS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in table:
        sheet.append(astuple(row))
    for i, name in enumerate(COLUMNS, start=1):
        width = max([len(name)] + [len(str(astuple(r)[i - 1])) for r in table[:500]])
        sheet.column_dimensions[sheet.cell(1, i).column_letter].width = min(width + 2, 60)
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
