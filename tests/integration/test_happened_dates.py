"""Dates of things that have happened: one rule in the engine, at the case's own "now".

Whoever completes a step (the web page, the CLI, a script, a journey), a meeting held, a visit
done or consent given cannot be dated after the case's today; a training case's today is its own
clock's. The refusal names the field and changes nothing.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.errors import InvalidData
from engine.services import Engine, NewChild
from engine.store.models import AuditEvent

ROOT = Path(__file__).resolve().parents[2]
CONSENT = json.loads((ROOT / "forms" / "examples" / "consent.valid.json").read_text())


def _audit_count(engine: Engine) -> int:
    with engine.sessions() as s:
        return s.scalar(select(func.count()).select_from(AuditEvent)) or 0


def test_a_live_step_refuses_a_consent_dated_after_today_and_changes_nothing(engine: Engine):
    engine.deploy([ROOT / "processes" / "sample"], "pm1")
    case = engine.start_case(
        "sample_referral", NewChild("Ada Example"), {"referral_date": "2026-11-23"}, "sw1"
    )
    task = case.tasks[0]
    audits = _audit_count(engine)

    with pytest.raises(InvalidData) as refused:  # the clock says Monday 23 November 2026
        engine.complete_task(task.id, {**CONSENT, "consent_date": "2026-11-24"}, "sw1")
    [error] = refused.value.errors
    assert error.field == "consent_date"
    assert error.message == "Date consent was given or refused must be today or in the past"

    after = engine.get_case(case.id)
    assert after.revision == case.revision
    assert [t.id for t in after.tasks] == [task.id] and after.tasks[0].claimed_by is None
    assert _audit_count(engine) == audits

    # today is fine, and so is the schema's own word about an impossible date (named once)
    with pytest.raises(InvalidData) as impossible:
        engine.complete_task(task.id, {**CONSENT, "consent_date": "2026-02-30"}, "sw1")
    assert [e.field for e in impossible.value.errors] == ["consent_date"]
    engine.complete_task(task.id, {**CONSENT, "consent_date": "2026-11-23"}, "sw1")


def test_a_training_case_counts_from_its_own_clock(engine: Engine, fixed_clock):  # noqa: ANN001
    engine.deploy_pack("portsmouth", "admin")
    training = engine.training
    case = training.start("portsmouth_step_down_cp", "portsmouth", "trainer1")
    outline = {
        **training.example_answers("chair_agreement.json"),
        "step_down_route": "cp_plan_ended",
        "event_date": "2026-11-23",
        "first_planning_meeting_date": "2026-12-10",
    }
    task = next(t.id for t in case.tasks if t.element_id == "outline_plan")
    training.complete(case.id, task, outline, "trainer1", "outline")
    training.advance(case.id, "trainer1", working_days=3)  # the case's clock: Thu 26 Nov 2026
    send = next(t.id for t in engine.get_case(case.id).tasks if t.element_id == "send_outline_plan")
    sent = {**training.example_answers("distribution.json"), "recipients": ["parents"]}

    with pytest.raises(InvalidData) as refused:  # a day after the case's today
        training.complete(case.id, send, {**sent, "sent_date": "2026-11-27"}, "trainer1", "x")
    assert [e.field for e in refused.value.errors] == ["sent_date"]
    # after the real today (Mon 23 Nov), but not after the training case's
    training.complete(case.id, send, {**sent, "sent_date": "2026-11-26"}, "trainer1", "sent")
    assert fixed_clock.now().date().isoformat() == "2026-11-23"
    assert send not in {t.id for t in engine.get_case(case.id).tasks}


def test_the_live_clock_moving_on_lets_the_same_date_through(engine: Engine, fixed_clock):  # noqa: ANN001
    engine.deploy([ROOT / "processes" / "sample"], "pm1")
    case = engine.start_case(
        "sample_referral", NewChild("Bo Example"), {"referral_date": "2026-11-23"}, "sw1"
    )
    answers = {**CONSENT, "consent_date": "2026-11-25"}
    with pytest.raises(InvalidData):
        engine.complete_task(case.tasks[0].id, answers, "sw1")
    fixed_clock.advance(timedelta(days=2))
    engine.complete_task(case.tasks[0].id, answers, "sw1")
