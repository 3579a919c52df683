"""Escalations with teeth: own short deadline, what was missed and by how much, a new date."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from factories import add_team_people, start_sample

from engine.errors import InvalidData, NotAllowed
from engine.services import Engine
from engine.services.casework import Casework

ROOT = Path(__file__).resolve().parents[2]
CONSENT = json.loads((ROOT / "forms" / "examples" / "consent.valid.json").read_text())


@pytest.fixture
def late(engine: Engine, fixed_clock):  # noqa: ANN001, ANN201
    """A sample case whose assessment (due Mon 14 Dec 2026) was missed; now Wed 16 Dec."""
    engine.deploy([ROOT / "processes" / "sample"], "pm", "sample", council="portsmouth")
    add_team_people(engine, "north", "portsmouth", [("sw.a", "social_worker"),
                    ("tm.n", "team_manager")], "long enough password")  # fmt: skip
    case = start_sample(engine, "Ruby Adeyemi", by="tm.n")
    casework = Casework(engine.sessions)
    casework.allocate(case.id, "sw.a", "tm.n", teams=["north"])
    (consent,) = engine.tasks(case_id=case.id)
    engine.complete_task(consent.id, CONSENT, "sw.a")
    fixed_clock.set(datetime(2026, 12, 16, 10, 0, tzinfo=UTC))
    engine.fire_due_timers()
    return engine, casework, case.id


def test_escalation_has_its_own_deadline_and_says_what_was_missed(late):  # noqa: ANN001
    engine, casework, case_id = late
    tasks = {t.element_id: t for t in engine.tasks(case_id=case_id)}
    escalation = tasks["review_overdue_assessment"]
    # 1 working day after the missed deadline (Mon 14 Dec): Tue 15 Dec, already passed.
    assert escalation.due_at == datetime(2026, 12, 15, 23, 59, 59, tzinfo=UTC)
    info = casework.escalation(escalation.id, engine.calendar("portsmouth"), teams=["north"])
    assert info.step == "Complete the assessment"
    assert info.missed_at == datetime(2026, 12, 14, 23, 59, 59, tzinfo=UTC)
    assert info.working_days_late == 2
    assert info.holder == "sw.a"
    assert (
        casework.escalation(tasks["complete_assessment"].id, engine.calendar("portsmouth")) is None
    )


def test_agreed_date_becomes_the_new_deadline_original_kept(late):  # noqa: ANN001
    engine, casework, case_id = late
    tasks = {t.element_id: t for t in engine.tasks(case_id=case_id)}
    escalation_id = tasks["review_overdue_assessment"].id
    calendar = engine.calendar("portsmouth")
    with pytest.raises(NotAllowed, match="only a manager"):
        casework.agree_new_date(
            escalation_id, calendar, agreed=date(2027, 1, 7), reason="r", note="n", by="sw.a",
            teams=["north"],
        )  # fmt: skip
    with pytest.raises(InvalidData) as refused:
        casework.agree_new_date(
            escalation_id, calendar, agreed=date(2026, 12, 1), reason="", note="", by="tm.n",
            teams=["north"],
        )  # fmt: skip
    assert {e.field for e in refused.value.errors} == {
        "delay_reason", "oversight_note", "agreed_date"
    }  # fmt: skip
    assert engine.task(tasks["complete_assessment"].id).due_at == datetime(
        2026, 12, 14, 23, 59, 59, tzinfo=UTC
    )

    info = casework.agree_new_date(
        escalation_id, calendar, agreed=date(2027, 1, 7), by="tm.n", teams=["north"],
        reason="The family were away; the school visit moved.", note="Supervised; agreed.",
    )  # fmt: skip
    assert info.due_at == datetime(2027, 1, 7, 23, 59, 59, tzinfo=UTC)
    assert info.original_due_at == datetime(2026, 12, 14, 23, 59, 59, tzinfo=UTC)
    assert engine.task(tasks["complete_assessment"].id).due_at == info.due_at
    (event,) = engine.audit_trail(case_id, action="escalation_decided")
    assert event.actor == "tm.n" and event.detail["agreed_date"] == "2027-01-07"
    assert event.detail["original_due_at"].startswith("2026-12-14")
    inbox = engine.notifications("sw.a", ["north"], "social_worker")
    assert inbox[0].message.startswith("New date agreed for “Complete the assessment”: Thu 7 Jan")

    # A later save of the case does not put the old deadline back.
    engine.complete_task(escalation_id, {"decision": "approve"}, "tm.n")
    assert engine.task(tasks["complete_assessment"].id).due_at == info.due_at
