"""Census questions answered before the practitioner sees them: what the case already knows.

A form's census group (`x-section` fields) opens with the answers the case has recorded (the
child's details from the referral or an earlier assessment) and the dates of steps the engine
saw happen (the referral as the assessment's start, the strategy discussion as the section 47
enquiry's). The practitioner can change any of them; nothing is saved until they submit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from engine import clock
from engine.calendar import LONDON
from engine.returns.census import Facts
from engine.returns.records import CaseRecord, read_cases

PER_EVENT = frozenset({"assessment_start_date", "assessment_factors", "s47_start_date"})


def known_answers(
    record: CaseRecord, fields: Iterable[str], today: date, step_opened: date | None = None
) -> dict[str, Any]:
    """Answers for `fields`; `step_opened` is the day the step being answered became ready."""
    facts = Facts(record, today)
    derived: dict[str, Any] = {}
    assessed = any(
        e.data.get("assessment_completed_date") for e in facts.steps("assessment_outcome.json")
    ) or record.start.get("assessment_completed_date")
    if not assessed and facts.get("referral_date"):
        derived["assessment_start_date"] = facts.get("referral_date")
    elif step_opened is not None:  # a later assessment starts when its step opened
        derived["assessment_start_date"] = step_opened.isoformat()
    decided = [
        e for e in facts.steps("strategy_discussion.json") if e.data.get("outcome_s47") is True
    ]
    if decided:
        derived["s47_start_date"] = (
            decided[-1].data.get("discussion_date")
            or decided[-1].at.astimezone(LONDON).date().isoformat()
        )
    if facts.get("icpc_date"):
        derived["cp_plan_start_date"] = facts.get("icpc_date")
    out: dict[str, Any] = {}
    for name in fields:
        # An assessment's or enquiry's own facts are never carried over from an earlier one.
        value = derived.get(name) if name in PER_EVENT else facts.get(name) or derived.get(name)
        if value not in (None, "", []):
            out[name] = value
    return out


def answers_for_step(
    s: Session, case_id: int, fields: Iterable[str], step_opened: datetime | None = None
) -> dict[str, Any]:
    """What a case already knows for a step's census questions, read in the session `s`."""
    fields = list(fields)
    if not fields:
        return {}
    records = read_cases(s, case_ids=[case_id])
    if not records:  # a training case: no census, nothing to pre-fill
        return {}
    today = clock.now().astimezone(LONDON).date()
    opened = step_opened.astimezone(LONDON).date() if step_opened else None
    return known_answers(records[0], fields, today, opened)


def census_fields(schema: Mapping[str, Any]) -> list[str]:
    """The fields of a form's census groups."""
    return [k for k, v in schema.get("properties", {}).items() if v.get("x-section")]
