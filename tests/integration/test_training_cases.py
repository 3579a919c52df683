"""Training cases on the real engine, on their own clock (issue 18), as a trainer drives them."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from engine.errors import NotAllowed, UnknownCase, UnknownTask
from engine.services import Engine
from engine.store.models import Notification

OUTLINE = {
    "step_down_route": "cp_plan_ended",
    "event_date": "2026-11-23",
    "first_planning_meeting_date": "2026-12-10",
}
SENT = {"document": "outline_cin_plan", "sent_date": "2026-11-23", "recipients": ["parents"]}


def _task(engine: Engine, case_id: int, element: str) -> str:
    case = engine.get_case(case_id)
    return next(t.id for t in case.tasks if t.element_id == element)


@pytest.fixture
def started(engine: Engine, fixed_clock):  # noqa: ANN001, ANN201
    engine.deploy_pack("portsmouth", "admin")
    case = engine.training.start("portsmouth_step_down_cp", "portsmouth", "trainer1")
    return engine, case


def test_training_case_runs_on_its_own_clock_and_steps_back(started, fixed_clock) -> None:  # noqa: ANN001
    engine, case = started
    training = engine.training
    assert case.training and [t.element_id for t in case.tasks] == ["outline_plan"]
    # never in live lists
    assert engine.tasks() == [] and engine.list_cases() == []
    assert engine.worklist_counts() == []

    outline = {**training.example_answers("chair_agreement.json"), **OUTLINE}
    training.complete(case.id, _task(engine, case.id, "outline_plan"), outline, "trainer1", "a")
    sent = {**training.example_answers("distribution.json"), **SENT}
    training.complete(case.id, _task(engine, case.id, "send_outline_plan"), sent, "trainer1", "b")
    view = training.view(case.id, "trainer1")
    planning = next(t for t in view.case.timers if "planning_deadline" in t.element_id)
    assert training.working_days_until(view.case, view.now, planning.due_at) == 15
    assert view.fired == []

    # the live sweep, however late, never fires a training case
    fixed_clock.advance(timedelta(days=60))
    assert engine.fire_due_timers() == 0
    fixed_clock.advance(timedelta(days=-60))

    training.advance(case.id, "trainer1", working_days=16)
    view = training.view(case.id, "trainer1")
    kinds = {(f.kind, f.name) for f in view.fired}
    assert any(k == "deadline" for k, _ in kinds), kinds
    assert any(k == "reminder" for k, _ in kinds), kinds
    # nobody is told: no inbox rows, no mail
    with engine.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Notification)) == 0
    # the real clock did not move
    assert fixed_clock.now().date().isoformat() == "2026-11-23"

    steps = [p.step for p in view.steps]
    assert steps == [0, 1, 2, 3]
    training.back_to(case.id, 2, "trainer1")
    view = training.view(case.id, "trainer1")
    assert view.fired == [] and [p.step for p in view.steps] == [0, 1, 2]
    assert view.now.date().isoformat() == "2026-11-23"
    assert {t.element_id for t in view.case.tasks} == {"arrange_meeting"}

    training.advance(case.id, "trainer1", to_next_deadline=True)
    assert [f.kind for f in training.view(case.id, "trainer1").fired]

    training.reset(case.id, "trainer1")
    assert [t.element_id for t in engine.get_case(case.id).tasks] == ["outline_plan"]
    assert any(e.action == "training_stepped_back" for e in engine.audit_trail(case.id))


def test_only_the_trainer_reaches_their_training_case(started) -> None:  # noqa: ANN001
    engine, case = started
    with pytest.raises(UnknownCase):
        engine.training.view(case.id, "trainer2")
    with pytest.raises(NotAllowed):
        engine.training.advance(case.id, "trainer1", working_days=0)
    live = engine.start_case(
        "portsmouth_step_down_cp", _child(), {"cin_start_date": "2026-11-23"}, "sw1", "portsmouth"
    )
    with pytest.raises(UnknownCase):  # a live case is never a training case
        engine.training.advance(live.id, "trainer1", working_days=1)
    # the trainer plays every lane of a training case, and no lane of a live one
    live_task = live.tasks[0].id
    with pytest.raises(UnknownCase):
        engine.training.complete(live.id, live_task, {}, "trainer1", "x")
    with pytest.raises(UnknownTask):  # nor a live task through their training case
        engine.training.complete(case.id, live_task, {}, "trainer1", "x")
    assert engine.get_case(live.id).tasks[0].id == live_task
    assert [c.id for c in engine.training.list("trainer1")] == [case.id]
    engine.training.delete(case.id, "trainer1")
    assert engine.training.list("trainer1") == []
    with pytest.raises(UnknownCase):
        engine.get_case(case.id)


def _child():  # noqa: ANN202
    from engine.views import NewChild

    return NewChild("Test Child")


def test_at_a_decision_the_trainer_goes_back_and_takes_the_other_branch(started) -> None:  # noqa: ANN001
    engine, case = started
    training = engine.training

    def step_on(element: str, **answers: object) -> set[str]:
        task = next(t for t in engine.get_case(case.id).tasks if t.element_id == element)
        data = {**training.example_answers(task.form), **answers}
        training.complete(case.id, task.id, data, "trainer1", task.name)
        return {t.element_id for t in engine.get_case(case.id).tasks}

    step_on("outline_plan", **OUTLINE)
    step_on("send_outline_plan", **SENT)
    before = [p.step for p in training.view(case.id, "trainer1").steps][-1]
    # the meeting chaired by the conference chair, or (what if?) by a social worker
    meeting = {"meeting_type": "planning", "meeting_date": "2026-12-10", "cancelled": False}
    by_worker = step_on("arrange_meeting", **meeting, chair_role="social_worker")
    training.back_to(case.id, before, "trainer1")
    assert "arrange_meeting" in {t.element_id for t in engine.get_case(case.id).tasks}
    by_iro = step_on("arrange_meeting", **meeting, chair_role="conference_chair_iro")
    assert by_iro == {"record_by_iro"} and by_worker != by_iro, by_worker
    trail = engine.audit_trail(case.id)
    assert [e.detail.get("to_step") for e in trail if e.action == "training_stepped_back"] == [
        before
    ]


def test_the_diagram_marks_the_real_step_inside_sub_processes_and_calls(started) -> None:  # noqa: ANN001
    """Inside the first planning meeting (an embedded sub-process) the case is in a call to the
    common planning meeting: the case diagram marks the call, not the whole sub-process (which
    only holds it); the called process's own drawing marks the step in it; "done" lists only
    the steps people completed; the called process's file is served for the viewer."""
    engine, case = started
    training = engine.training
    outline = {**training.example_answers("chair_agreement.json"), **OUTLINE}
    training.complete(case.id, _task(engine, case.id, "outline_plan"), outline, "trainer1", "a")
    sent = {**training.example_answers("distribution.json"), **SENT}
    training.complete(case.id, _task(engine, case.id, "send_outline_plan"), sent, "trainer1", "b")

    diagram = training.diagram(case.id, "trainer1")
    assert "planning_meeting" in diagram.current
    assert "step_down_cp_planning" not in diagram.current
    assert "step_down_cp_planning" in diagram.holds
    assert [s.name for s in diagram.steps_done] == [
        "Agree the outline Child in Need plan",
        "Send the outline plan",
    ]
    assert "outline_gw" in diagram.completed  # the drawing still shows the gateway passed
    # what comes next, in words: the meeting's record (whoever chairs), then the plan
    assert diagram.next_steps[0] == ("Chair and record the meeting", "Social worker")
    assert ("Record the agreed plan", "Social worker") in diagram.next_steps
    assert not {"Arrange the meeting", "Send the outline plan"} & {n for n, _ in diagram.next_steps}
    called = diagram.calls["planning_meeting"]  # which calls the common meeting in turn
    assert called.process_id == "common_planning_meeting"
    assert called.current == ["planning_meeting"]
    meeting = diagram.calls["planning_meeting/planning_meeting"]
    assert meeting.process_id == "common_meeting" and meeting.current == ["arrange_meeting"]

    xml = engine.case_process_xml(case.id, call="planning_meeting")
    assert 'id="common_planning_meeting"' in xml
    xml = engine.case_process_xml(case.id, call="planning_meeting/planning_meeting")
    assert 'id="common_meeting"' in xml and 'id="arrange_meeting"' in xml
    with pytest.raises(UnknownCase):
        engine.case_process_xml(case.id, call="no_such_call")


def test_steps_done_forget_what_came_after_the_point_gone_back_to(started) -> None:  # noqa: ANN001
    """ "Steps done" come from the audit, which is append-only: going back (with the clock
    where it was, so times cannot tell) drops the later steps from the list, and doing them
    again lists them once, with who and when."""
    engine, case = started
    training = engine.training
    outline = {**training.example_answers("chair_agreement.json"), **OUTLINE}
    training.complete(case.id, _task(engine, case.id, "outline_plan"), outline, "trainer1", "a")
    sent = {**training.example_answers("distribution.json"), **SENT}
    training.complete(case.id, _task(engine, case.id, "send_outline_plan"), sent, "trainer1", "b")

    def done() -> list[str]:
        return [s.name for s in training.diagram(case.id, "trainer1").steps_done]

    assert done() == ["Agree the outline Child in Need plan", "Send the outline plan"]
    training.back_to(case.id, 1, "trainer1")
    assert done() == ["Agree the outline Child in Need plan"]
    training.complete(case.id, _task(engine, case.id, "send_outline_plan"), sent, "trainer1", "b")
    steps = training.diagram(case.id, "trainer1").steps_done
    assert [(s.name, s.by) for s in steps] == [
        ("Agree the outline Child in Need plan", "trainer1"),
        ("Send the outline plan", "trainer1"),
    ]
    training.reset(case.id, "trainer1")
    assert done() == []


def test_a_closure_day_never_moves_a_training_case_deadline(started) -> None:  # noqa: ANN001
    """Closure days and bank-holiday recomputes are for live cases: a training case keeps the
    deadlines its own clock gave it, and nothing is written to its audit trail."""
    engine, case = started
    training = engine.training
    outline = {**training.example_answers("chair_agreement.json"), **OUTLINE}
    training.complete(case.id, _task(engine, case.id, "outline_plan"), outline, "trainer1", "a")
    sent = {**training.example_answers("distribution.json"), **SENT}
    training.complete(case.id, _task(engine, case.id, "send_outline_plan"), sent, "trainer1", "b")
    before = {t.element_id: t.due_at for t in training.view(case.id, "trainer1").case.timers}
    assert before

    # a closure day inside the 15 working days: a live case's deadline would move a day
    moved = engine.add_closure_day("portsmouth", date(2026, 12, 2), "Training day", "admin")
    assert moved == 0
    assert engine.recompute_deadlines("portsmouth", "admin", "bank holiday change") == 0
    after = {t.element_id: t.due_at for t in training.view(case.id, "trainer1").case.timers}
    assert after == before
    assert not [e for e in engine.audit_trail(case.id) if e.action == "deadline_recomputed"]
