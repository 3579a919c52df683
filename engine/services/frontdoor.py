"""The front door: start a case in the browser (a referral, a transfer in, or a step down).

A council's entry routes are its newest processes that no other process calls (the diagrams
decide; nothing is listed by hand). Each route asks for the child and for the dates its
diagrams' clocks count from: every bare `from_=<name>` in the route's XML (and the parts it
calls) that forms/start_case.json describes. Dates of things that have happened cannot be in
the future.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.errors import FieldError, InvalidData
from engine.forms import FORMS_DIR, load_form, validate_schema
from engine.store.models import ProcessVersion

START_FORM = "start_case.json"
CHILD_FIELDS = ("first_name", "last_name", "date_of_birth")
# A clock that counts from a name in case data, not from a form's answer or a function call.
BARE_FROM = re.compile(r"from_=([A-Za-z_]\w*)\b(?![.(])")
CALLED = re.compile(r'calledElement="([^"]+)"')
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
# An expected date of birth (a pre-birth referral) may be up to this far ahead.
UNBORN_AHEAD = timedelta(weeks=42)


@dataclass(frozen=True)
class Route:
    process_id: str
    council: str
    name: str
    starts_with: str  # the start event's name, e.g. "CP conference ends the CP plan"
    dates: tuple[str, ...]  # start_case.json fields the clocks count from


def entry_routes(s: Session, council: str, forms_dir: Path = FORMS_DIR) -> list[Route]:
    """The council's routes into a case, A to Z by name."""
    newest = (
        select(ProcessVersion.process_id, func.max(ProcessVersion.version).label("version"))
        .where(ProcessVersion.council_key == council)
        .group_by(ProcessVersion.process_id)
        .subquery()
    )
    rows = s.scalars(
        select(ProcessVersion)
        .join(
            newest,
            (newest.c.process_id == ProcessVersion.process_id)
            & (newest.c.version == ProcessVersion.version),
        )
        .where(ProcessVersion.council_key == council)
    ).all()
    called = {target for row in rows for target in CALLED.findall(row.xml)}
    known = set(load_form(START_FORM, forms_dir, council)["properties"]) - set(CHILD_FIELDS)
    routes = []
    for row in rows:
        if row.process_id in called or row.process_id.startswith("common_"):
            continue
        text = row.xml + "".join((row.dependency_xml or {}).values())
        dates = tuple(sorted({name for name in BARE_FROM.findall(text) if name in known}))
        routes.append(Route(row.process_id, council, row.name, _start_name(row), dates))
    return sorted(routes, key=lambda r: r.name)


def _start_name(row: ProcessVersion) -> str:
    try:
        root = ET.fromstring(row.xml)
    except ET.ParseError:
        return ""
    for process in root.iter(f"{BPMN}process"):
        if process.get("id") != row.process_id:
            continue
        for start in process.findall(f"{BPMN}startEvent"):
            if not any(child.tag.endswith("EventDefinition") for child in start):
                return start.get("name") or ""
    return ""


def start_schema(route: Route, forms_dir: Path = FORMS_DIR) -> dict[str, Any]:
    """forms/start_case.json cut down to the child and this route's dates, all required."""
    form = load_form(START_FORM, forms_dir, route.council)
    fields = (*CHILD_FIELDS, *route.dates)
    return {
        **form,
        "required": list(fields),
        "properties": {name: form["properties"][name] for name in fields},
    }


def check_start(route: Route, data: Mapping[str, Any], today: date) -> dict[str, Any]:
    """The case data to start with, or InvalidData naming every field that is wrong."""
    schema = start_schema(route)
    problems: list[FieldError] = []
    try:
        validate_schema(schema, data)
    except InvalidData as invalid:
        problems += invalid.errors
    born = _date(data.get("date_of_birth"))
    if born and born > today + UNBORN_AHEAD:
        problems.append(
            FieldError("date_of_birth", "Child's date of birth must be in the past, "
                       "or the expected date of birth of an unborn child", "maximum")
        )  # fmt: skip
    for name in route.dates:
        day = _date(data.get(name))
        if day and day > today:
            title = schema["properties"][name]["title"]
            problems.append(FieldError(name, f"{title} must be today or in the past", "maximum"))
    if problems:
        raise InvalidData(problems)
    return {name: data[name] for name in route.dates}


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None
