"""Cases through the public services: what a worker does, what is refused, what is recorded."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.clock import FixedClock
from engine.errors import (
    CaseClosed,
    ClaimConflict,
    Conflict,
    InvalidData,
    MessageNotExpected,
    NotAllowed,
    TaskAlreadyCompleted,
    UnknownTask,
    WrongCase,
)
from engine.services import Engine, NewChild
from engine.store import cases as case_store
from engine.store.models import Case, TaskRow, TimerRow

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "forms" / "examples"


def example(form: str, **changes: object) -> dict:
    data = json.loads((EXAMPLES / f"{form}.valid.json").read_text())
    data.update(changes)
    return data


@pytest.fixture
def deployed(engine: Engine) -> Engine:
    engine.deploy([ROOT / "processes" / "sample"], "pm1", "sample")
    return engine


def start(engine: Engine, name: str = "Ada Example") -> int:
    case = engine.start_case(
        "sample_referral", NewChild(name), {"referral_date": "2026-11-23"}, "sw1"
    )
    return case.id


def state(engine: Engine, case_id: int) -> tuple[int, str, list, list]:
    """Everything stored for a case, to prove a refusal changed nothing."""
    with engine.sessions() as s:
        case = s.get(Case, case_id)
        tasks = sorted(
            (t.id, t.claimed_by, t.due_at)
            for t in s.scalars(select(TaskRow).where(TaskRow.case_id == case_id))
        )
        timers = sorted(
            (t.id, t.due_at) for t in s.scalars(select(TimerRow).where(TimerRow.case_id == case_id))
        )
        return case.revision, case.state_json, tasks, timers


def test_start_pins_version_projects_tasks_and_audits(deployed: Engine) -> None:
    case = deployed.get_case(start(deployed))
    assert case.status == "open" and case.version == 1 and case.revision == 1
    assert [(t.element_id, t.lane, t.form) for t in case.tasks] == [
        ("record_consent", "Social worker", "consent.json")
    ]
    assert [e.action for e in deployed.audit_trail(case.id)] == ["case_started"]


def test_complete_runs_on_to_the_next_step_with_its_working_day_deadline(deployed: Engine) -> None:
    case_id = start(deployed)
    task = deployed.tasks(case_id=case_id)[0]
    done = deployed.complete_task(task.id, example("consent"), "sw1", case_id=case_id)
    assert [t.element_id for t in done.next_tasks] == ["complete_assessment"]
    # 15 working days from Monday 23 November 2026: Monday 14 December, end of the day in London.
    assert done.next_tasks[0].due_at.isoformat() == "2026-12-14T23:59:59+00:00"
    assert done.case.revision == 2
    kinds = sorted((t.element_id, t.kind) for t in done.case.timers)
    assert kinds == [("assessment_deadline", "deadline"), ("assessment_reminder", "reminder")]
    audit = deployed.audit_trail(case_id, action="task_completed")[0]
    assert audit.actor == "sw1" and audit.detail["data"]["consent_given"] is True


def test_projection_matches_the_restored_workflow(deployed: Engine) -> None:
    case_id = start(deployed)
    deployed.complete_task(deployed.tasks(case_id=case_id)[0].id, example("consent"), "sw1")
    with deployed.sessions() as s:
        case = s.get(Case, case_id)
        workflow = deployed.store.load(s, case)
    snapshot = deployed.runtime.snapshot(workflow, lambda key: None)
    assert {t.task_id for t in snapshot.user_tasks} == {
        t.id for t in deployed.tasks(case_id=case_id)
    }
    assert {t.task_id for t in snapshot.timers} == {t.id for t in deployed.timers(case_id=case_id)}
    # Saving again what was restored changes nothing.
    assert deployed.runtime.dump_state(workflow) == deployed.runtime.dump_state(
        deployed.runtime.load_state(
            deployed.runtime.dump_state(workflow), workflow.spec, workflow.subprocess_specs, {}
        )
    )


def test_invalid_answers_are_refused_with_every_field_named_and_nothing_saved(
    deployed: Engine,
) -> None:
    case_id = start(deployed)
    task = deployed.tasks(case_id=case_id)[0]
    before = state(deployed, case_id)
    bad = example("consent", consent_date="31/02/2026", consent_method="telepathy")
    del bad["given_by_name"]
    with pytest.raises(InvalidData) as caught:
        deployed.complete_task(task.id, bad, "sw1")
    fields = {e.field for e in caught.value.errors}
    assert {"given_by_name", "consent_date", "consent_method"} <= fields
    assert state(deployed, case_id) == before
    assert deployed.audit_trail(case_id, action="task_completed") == []


def test_unknown_completed_and_other_case_tasks_are_distinct_refusals(deployed: Engine) -> None:
    first, second = start(deployed, "Ada"), start(deployed, "Bo")
    task = deployed.tasks(case_id=first)[0]
    with pytest.raises(UnknownTask):
        deployed.complete_task("00000000-0000-0000-0000-000000000000", {}, "sw1")
    with pytest.raises(WrongCase):
        deployed.complete_task(task.id, example("consent"), "sw1", case_id=second)
    deployed.complete_task(task.id, example("consent"), "sw1", case_id=first)
    before = state(deployed, first)
    with pytest.raises(TaskAlreadyCompleted, match="already completed by sw1"):
        deployed.complete_task(task.id, example("consent"), "sw2")
    assert state(deployed, first) == before


def test_a_completion_based_on_a_stale_revision_is_a_conflict(deployed: Engine) -> None:
    case_id = start(deployed)
    task = deployed.tasks(case_id=case_id)[0]
    seen = deployed.get_case(case_id).revision
    deployed.send_message  # noqa: B018 - (no message waits here; bump the revision another way)
    deployed.claim(task.id, "sw1")
    deployed.complete_task(task.id, example("consent"), "sw1", revision=seen)
    next_task = deployed.tasks(case_id=case_id)[0]
    before = state(deployed, case_id)
    with pytest.raises(Conflict, match="changed by someone else"):
        deployed.complete_task(next_task.id, example("assessment_outcome"), "sw1", revision=seen)
    assert state(deployed, case_id) == before


def test_claims_one_winner_and_the_loser_is_told_who(deployed: Engine) -> None:
    task = deployed.tasks(case_id=start(deployed))[0]
    assert deployed.claim(task.id, "sw1").claimed_by == "sw1"
    with pytest.raises(ClaimConflict) as caught:
        deployed.claim(task.id, "sw2")
    assert caught.value.claimed_by == "sw1"
    with pytest.raises(NotAllowed):
        deployed.complete_task(task.id, example("consent"), "sw2")
    with pytest.raises(NotAllowed):
        deployed.unclaim(task.id, "sw2")
    deployed.unclaim(task.id, "sw1")
    assert deployed.claim(task.id, "sw2").claimed_by == "sw2"
    assert deployed.assign(task.id, "sw3", by="tm1").claimed_by == "sw3"
    assert [t.element_id for t in deployed.tasks(claimed_by="sw3")] == ["record_consent"]
    actions = [e.action for e in deployed.audit_trail(task.case_id)]
    assert actions.count("task_claimed") == 2 and "task_assigned" in actions


def test_timer_fires_at_its_due_instant_not_a_second_before(
    deployed: Engine, fixed_clock: FixedClock
) -> None:
    case_id = start(deployed)
    deployed.complete_task(deployed.tasks(case_id=case_id)[0].id, example("consent"), "sw1")
    deadline = next(t for t in deployed.timers(case_id=case_id) if t.kind == "deadline")
    fixed_clock.set(deadline.due_at - timedelta(seconds=1))
    deployed.fire_due_timers()
    assert deadline.id in {t.id for t in deployed.timers(case_id=case_id)}
    assert "review_overdue_assessment" not in {
        t.element_id for t in deployed.tasks(case_id=case_id)
    }
    fixed_clock.set(deadline.due_at)
    assert deployed.fire_due_timers() == 1
    tasks = {t.element_id: t for t in deployed.tasks(case_id=case_id)}
    assert tasks["review_overdue_assessment"].lane == "Team manager"
    assert "complete_assessment" in tasks  # non-interrupting: the worker's task stays open
    assert tasks["complete_assessment"].due_at == deadline.due_at  # and is overdue, not undated
    assert deployed.fire_due_timers() == 0  # exactly once
    assert len(deployed.audit_trail(case_id, action="timer_fired:deadline")) == 1


def test_cancel_closes_the_case_and_refuses_further_changes(deployed: Engine) -> None:
    case_id = start(deployed)
    task = deployed.tasks(case_id=case_id)[0]
    with pytest.raises(NotAllowed):
        deployed.cancel_case(case_id, "  ", "tm1")
    case = deployed.cancel_case(case_id, "Referred in error", "tm1")
    assert case.status == "cancelled" and case.tasks == [] and case.timers == []
    with pytest.raises(CaseClosed):
        deployed.send_message(case_id, "anything", {}, "sw1")
    with pytest.raises((UnknownTask, TaskAlreadyCompleted)):
        deployed.complete_task(task.id, example("consent"), "sw1")
    assert deployed.list_cases() == []


def test_a_message_nobody_waits_for_is_refused_by_name(deployed: Engine) -> None:
    case_id = start(deployed)
    with pytest.raises(MessageNotExpected, match="family_moved"):
        deployed.send_message(case_id, "family_moved", {}, "sw1")


MESSAGES = (Path(__file__).parent / "data" / "messages.bpmn").read_text()


def test_messages_reach_data_and_an_interrupting_one_ends_the_plan(engine: Engine) -> None:
    engine.deploy({"messages.bpmn": MESSAGES}, "pm1")
    case = engine.start_case("messages", NewChild("Cy Example"), {}, "sw1")
    case = engine.send_message(case.id, "significant_change", {"what": "Family moved"}, "sw1")
    assert sorted(t.element_id for t in case.tasks) == ["early", "visit"]
    assert engine.get_case(case.id, with_data=True).data["change"] == {"what": "Family moved"}
    case = engine.send_message(case.id, "child_turned_18", {}, "sw1")
    assert [t.element_id for t in case.tasks] == ["ceased"]
    assert [
        e.detail["message"] for e in engine.audit_trail(case.id, action="message_received")
    ] == ["significant_change", "child_turned_18"]


def test_a_timer_that_raises_flags_the_case_and_the_sweep_carries_on(
    deployed: Engine, fixed_clock: FixedClock
) -> None:
    deployed.deploy([Path(__file__).parent / "data" / "broken_after_timer.bpmn"], "pm1")
    broken = deployed.start_case("broken_after_timer", NewChild("Di Example"), {}, "sw1")
    healthy = start(deployed)
    deployed.complete_task(deployed.tasks(case_id=healthy)[0].id, example("consent"), "sw1")
    fixed_clock.advance(timedelta(days=40))
    assert deployed.fire_due_timers() == 2  # the healthy case's reminder and deadline
    flagged = deployed.get_case(broken.id)
    assert flagged.attention and "missing" in flagged.attention
    assert [t.element_id for t in flagged.timers] == ["wait"]  # nothing half-changed
    assert deployed.fire_due_timers() == 0  # skipped until a manager clears it
    assert len(deployed.audit_trail(broken.id, action="case_needs_attention")) == 1
    assert deployed.clear_attention(broken.id, "tm1").attention is None


def test_a_batch_whose_writes_fail_is_redone_case_by_case_and_only_the_culprit_flagged(
    deployed: Engine, fixed_clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    cases = [start(deployed, name) for name in ("Ann Example", "Ben Example", "Cal Example")]
    for case_id in cases:
        deployed.complete_task(deployed.tasks(case_id=case_id)[0].id, example("consent"), "sw1")
    culprit = cases[1]
    taken = deployed.tasks(case_id=cases[0])[0].id  # an id the culprit's writes will reuse
    real_project = case_store.project

    def clashing(case, before, snapshot, now, writes):  # noqa: ANN001, ANN202
        after = real_project(case, before, snapshot, now, writes)
        if case.id == culprit:  # a row the database refuses: its primary key is taken
            writes.new_tasks.append({**asdict(next(iter(after.tasks.values()))), "id": taken})
        return after

    monkeypatch.setattr(case_store, "project", clashing)
    fixed_clock.advance(timedelta(days=40))
    before = {c: state(deployed, c) for c in cases}
    assert deployed.fire_due_timers() == 4  # reminder and deadline of the two healthy cases
    flagged = deployed.get_case(culprit)
    assert flagged.attention and "could not fire" in flagged.attention
    assert state(deployed, culprit) == before[culprit]  # nothing half-changed
    for healthy in (cases[0], cases[2]):
        assert state(deployed, healthy)[0] == before[healthy][0] + 1
        assert len(deployed.audit_trail(healthy, action="timer_fired:deadline")) == 1
    assert len(deployed.audit_trail(culprit, action="case_needs_attention")) == 1


def test_diagram_marks_done_current_and_overdue_steps(
    deployed: Engine, fixed_clock: FixedClock
) -> None:
    case_id = start(deployed)
    diagram = deployed.case_diagram(case_id)
    assert diagram.current == ["seek_consent"]  # the consent task runs inside the call activity
    deployed.complete_task(deployed.tasks(case_id=case_id)[0].id, example("consent"), "sw1")
    diagram = deployed.case_diagram(case_id)
    assert {"referral_received", "seek_consent"} <= set(diagram.completed)
    assert diagram.current == ["complete_assessment"] and diagram.overdue == []
    assert 'id="complete_assessment"' in diagram.xml
    fixed_clock.advance(timedelta(days=30))
    assert deployed.case_diagram(case_id).overdue == ["complete_assessment"]


def test_drafts_are_kept_per_user_and_dropped_on_completion(deployed: Engine) -> None:
    case_id = start(deployed)
    task = deployed.tasks(case_id=case_id)[0]
    deployed.save_draft(task.id, "sw1", {"given_by_name": "Half done"})
    assert deployed.get_draft(task.id, "sw1") == {"given_by_name": "Half done"}
    assert deployed.get_draft(task.id, "sw2") is None
    deployed.complete_task(task.id, example("consent"), "sw1")
    assert deployed.get_draft(task.id, "sw1") is None


def test_a_deadline_on_a_call_activity_is_the_due_date_of_the_step_inside(engine: Engine) -> None:
    folder = ROOT / "processes" / "sample"
    files = {p.name: p.read_text() for p in folder.glob("*.bpmn")}
    boundary = (
        '<bpmn:boundaryEvent id="consent_deadline" cancelActivity="false" '
        'attachedToRef="seek_consent"><bpmn:outgoing>flow_cd</bpmn:outgoing>'
        '<bpmn:timerEventDefinition id="consent_deadline_timer">'
        '<bpmn:timeDate xsi:type="bpmn:tFormalExpression">due_in("5 working days")'
        "</bpmn:timeDate></bpmn:timerEventDefinition></bpmn:boundaryEvent>"
        '<bpmn:endEvent id="consent_late"><bpmn:incoming>flow_cd</bpmn:incoming>'
        "</bpmn:endEvent>"
        '<bpmn:sequenceFlow id="flow_cd" sourceRef="consent_deadline" targetRef="consent_late" />'
    )
    anchor = '<bpmn:boundaryEvent id="assessment_reminder"'
    lane = "<bpmn:flowNodeRef>referral_received</bpmn:flowNodeRef>"
    extra = (
        "<bpmn:flowNodeRef>consent_deadline</bpmn:flowNodeRef>"
        "<bpmn:flowNodeRef>consent_late</bpmn:flowNodeRef>"
    )
    timed = files["sample_referral.bpmn"].replace(anchor, boundary + anchor, 1)
    timed = timed.replace(lane, lane + extra)
    files["sample_referral.bpmn"] = timed
    engine.deploy(files, "pm1")
    case = engine.start_case("sample_referral", NewChild("Ed Example"), {}, "sw1")
    # Monday 23 November 2026 + 5 working days = Monday 30 November, end of the day.
    assert case.tasks[0].element_id == "record_consent"
    assert case.tasks[0].due_at.isoformat() == "2026-11-30T23:59:59+00:00"


def test_a_deadline_already_past_when_its_step_starts_fires_and_is_recorded(
    deployed: Engine,
) -> None:
    case = deployed.start_case(
        "sample_referral", NewChild("Flo Example"), {"referral_date": "2026-09-01"}, "sw1"
    )
    done = deployed.complete_task(case.tasks[0].id, example("consent"), "sw1")
    assert {t.element_id for t in done.case.tasks} == {
        "complete_assessment",
        "review_overdue_assessment",
    }
    fired = {e.element_id for e in deployed.audit_trail(case.id) if e.action.startswith("timer")}
    assert fired == {"assessment_deadline", "assessment_reminder"}


def test_the_case_page_reads_the_state_once_per_revision_and_never_a_stale_one(
    deployed: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A case page asks for the data and the diagram; the state is restored once for both, and
    a step (a new revision) is seen at once."""
    case_id = start(deployed)
    loads = []
    original = deployed.store.load
    monkeypatch.setattr(
        deployed.store, "load", lambda s, case: loads.append(1) or original(s, case)
    )
    before = deployed.get_case(case_id, with_data=True)
    first = deployed.case_diagram(case_id)
    assert len(loads) == 1
    task = deployed.tasks(case_id=case_id)[0]
    deployed.complete_task(task.id, example("consent"), "sw1", case_id=case_id)
    after = deployed.get_case(case_id, with_data=True)
    assert after.data != before.data
    second = deployed.case_diagram(case_id)
    assert "seek_consent" not in first.completed and "seek_consent" in second.completed
    assert len(loads) == 3  # the completion, and one reading of the new revision
