"""A procedure change from edit to migration, on Teeswide's pack (issue "Procedures as data").

A practice manager edits the XML (a task's name and its deadline's timescale key, and a common
block's shape), deploys it as drafts, sees the diff; approval is refused for the author, for a
social worker and for failing journeys; a second practice manager approves, it goes live; a case
started before stays on its version; migration keeps the deadline's original start (the date
is worked out by hand below) and lists the case that cannot move, with the reason.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine import bpmn_diff, clock
from engine.calendar import LONDON
from engine.clock import FixedClock
from engine.errors import NotAllowed
from engine.lifecycle import ApprovalRefused
from engine.scenario import run_file
from engine.services import Engine

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple 7"
WITHDRAWN = """
    <bpmn:boundaryEvent id="consent_withdrawn" name="Consent withdrawn" cancelActivity="false"
        attachedToRef="seek_consent">
      <bpmn:outgoing>flow_consent_withdrawn</bpmn:outgoing>
      <bpmn:messageEventDefinition id="consent_withdrawn_def" messageRef="message_withdrawn" />
    </bpmn:boundaryEvent>
    <bpmn:endEvent id="withdrawal_noted" name="Withdrawal noted">
      <bpmn:incoming>flow_consent_withdrawn</bpmn:incoming>
    </bpmn:endEvent>
    <bpmn:sequenceFlow id="flow_consent_withdrawn" sourceRef="consent_withdrawn"
        targetRef="withdrawal_noted" />
  </bpmn:process>
  <bpmn:message id="message_withdrawn" name="consent_withdrawn" />"""
WITHDRAWN_DI = """
      <bpmndi:BPMNShape id="consent_withdrawn_di" bpmnElement="consent_withdrawn">
        <dc:Bounds x="260" y="160" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="withdrawal_noted_di" bpmnElement="withdrawal_noted">
        <dc:Bounds x="260" y="230" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="flow_consent_withdrawn_di" bpmnElement="flow_consent_withdrawn">
        <di:waypoint x="278" y="196" /><di:waypoint x="278" y="230" /></bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>"""
JOURNEY_A = """name: cancelled planning meeting, waiting to be rearranged
process: teeswide_step_down_cp
council: teeswide
deploy: [{procs}/common, {procs}/teeswide]
child: {{name: Ann Tees, date_of_birth: 2019-02-14}}
start: 2027-04-29T10:00:00Z
steps:
  - complete: agree_outline_plan
    data: {{step_down_route: cp_plan_ended, event_date: $start,
           first_planning_meeting_date: "2027-05-11"}}
  - complete: seek_consent
    data: {{consent_for: information_sharing, consent_date: $start}}
  - complete: arrange_meeting
    data: {{meeting_type: planning, meeting_date: "2027-05-11", cancelled: false}}
  - advance_to: 2027-05-11T08:00:00Z
  - message: meeting_cancelled
    payload: {{reason: The school cannot attend.}}
  - expect: {{tasks: [rearrange_meeting], due: {{rearrange_meeting: 2027-05-25}}}}
"""
JOURNEY_B = """name: waiting for consent
process: teeswide_step_down_cp
council: teeswide
deploy: [{procs}/common, {procs}/teeswide]
child: {{name: Bea Tees, date_of_birth: 2018-03-01}}
start: 2027-05-10T10:00:00Z
steps:
  - complete: agree_outline_plan
    data: {{step_down_route: cp_plan_ended, event_date: $start,
           first_planning_meeting_date: "2027-05-20"}}
  - expect: {{tasks: [seek_consent]}}
"""


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.fixture
def council(tmp_path: Path) -> tuple[Engine, Path]:
    procs = tmp_path / "processes"
    for folder in ("common", "teeswide"):
        shutil.copytree(ROOT / "processes" / folder, procs / folder)
    # the council already defines the key the edit will use (same 10 working days as T7)
    with (procs / "teeswide" / "timescales.yaml").open("a", encoding="utf-8") as out:
        out.write(
            "  rearrangement_within_ten:\n    rule: T7\n    duration: 10 working days\n"
            '    from: the cancellation\n    section: "10.1"\n    remind_before: 3 working days\n'
        )
    engine = Engine(f"sqlite:///{tmp_path}/lifecycle.db", processes_dir=procs)
    engine.init_db()
    with clock.using(FixedClock(datetime(2027, 4, 29, 9, tzinfo=UTC))):
        engine.deploy_pack("teeswide", "installer")
        for user, role in (
            ("pm.author", "practice_manager"),
            ("pm.second", "practice_manager"),
            ("sw.one", "social_worker"),
        ):
            engine.people.add_user(user, user.title(), PASSWORD, role)
    yield engine, procs
    engine.dispose()


def journey(engine: Engine, tmp_path: Path, procs: Path, text: str, name: str) -> int:
    path = tmp_path / name
    path.write_text(text.format(procs=procs), encoding="utf-8")
    report = run_file(path, engine=engine)
    assert report.ok, [o.line() for o in report.outcomes if not o.ok]
    return max(c.id for c in engine.list_cases())


def versions(engine: Engine, process_id: str) -> dict[int, str]:
    (entry,) = [e for e in engine.process_library("teeswide") if e.process_id == process_id]
    return {v.version: v.status for v in entry.versions}


def test_edit_draft_diff_four_eyes_live_and_migration(council, tmp_path: Path) -> None:  # noqa: ANN001
    engine, procs = council
    case_a = journey(engine, tmp_path, procs, JOURNEY_A, "a.yaml")
    case_b = journey(engine, tmp_path, procs, JOURNEY_B, "b.yaml")
    meeting = procs / "teeswide" / "teeswide_meeting.bpmn"
    consent = procs / "common" / "common_consent.bpmn"

    # 1. the author's first edit: a new name and a longer timescale (20 working days)
    edit(meeting, 'name="Rearrange the cancelled meeting"', 'name="Rearrange the meeting"')
    edit(meeting, 'deadline("meeting_rearrangement")', 'deadline("review_record")')
    edit(consent, "\n  </bpmn:process>", WITHDRAWN)
    edit(consent, "\n    </bpmndi:BPMNPlane>", WITHDRAWN_DI)
    with clock.using(FixedClock(datetime(2027, 5, 12, 9, tzinfo=UTC))):
        drafts = engine.deploy_pack("teeswide", "pm.author", "rearrangement wording and T7")
    assert {v.process_id for v in drafts if v.version == 2} >= {
        "teeswide_meeting",
        "common_consent",
        "teeswide_step_down_cp",  # calls both: its version carries the new call targets
    }
    assert versions(engine, "teeswide_meeting") == {2: "draft", 1: "live"}

    # 2. the diff, as the CLI and the viewer get it
    change = bpmn_diff.diff(
        engine.version_xml("teeswide", "teeswide_meeting", 1),
        engine.version_xml("teeswide", "teeswide_meeting", 2),
    )
    assert change.as_data()["changed"] == {
        "rearrange_meeting": {
            "name": {"before": "Rearrange the cancelled meeting", "after": "Rearrange the meeting"}
        },
        "rearrange_meeting_deadline": {
            "timer": {
                "before": 'deadline: deadline("meeting_rearrangement")',
                "after": 'deadline: deadline("review_record")',
            }
        },
    }

    # 3. four eyes: sent for approval first (one rule for web, CLI and engine), not by the
    # author, not by a social worker; then the journeys must pass
    with pytest.raises(NotAllowed, match="version 2 has not been sent for approval"):
        engine.approve_drafts("teeswide", "pm.second")
    assert versions(engine, "teeswide_meeting") == {2: "draft", 1: "live"}
    with pytest.raises(NotAllowed, match="cannot send procedures for approval"):
        engine.send_drafts("teeswide", "sw.one")
    sent = engine.send_drafts("teeswide", "pm.author", "T7 wording")
    assert {(v.status, v.sent_by) for v in sent} == {("draft", "pm.author")}
    with pytest.raises(NotAllowed, match="pm.author made the draft .* cannot approve"):
        engine.approve_drafts("teeswide", "pm.author")
    with pytest.raises(NotAllowed, match="cannot approve procedures"):
        engine.approve_drafts("teeswide", "sw.one")
    with pytest.raises(ApprovalRefused) as refused:
        engine.approve_drafts("teeswide", "pm.second")
    assert any(
        "step_down_cp_cancelled_meeting_step_up.yaml" in f and "rearrange_meeting due" in f
        for f in refused.value.failures
    ), refused.value.failures
    assert versions(engine, "teeswide_meeting") == {2: "draft", 1: "live"}

    # 4. fixed: the council's own 10-working-day key; a new draft replaces the refused one
    edit(meeting, 'deadline("review_record")', 'deadline("rearrangement_within_ten")')
    with clock.using(FixedClock(datetime(2027, 5, 13, 9, tzinfo=UTC))):
        engine.deploy_pack("teeswide", "pm.author", "T7 key")
        engine.send_drafts("teeswide", "pm.author")
        approved = engine.approve_drafts("teeswide", "pm.second", "checked with the IRO")
        assert {v.status for v in approved} == {"approved"}
        live = engine.go_live("teeswide", "pm.second")
    assert versions(engine, "teeswide_meeting") == {3: "live", 2: "retired", 1: "retired"}
    step_down = {v.process_id: v.version for v in live}["teeswide_step_down_cp"]
    assert engine.get_case(case_a).version == 1  # running cases stay on theirs
    with clock.using(FixedClock(datetime(2027, 5, 13, 10, tzinfo=UTC))):
        report = run_file(tmp_path / "b.yaml", engine=engine)
    assert (
        report.ok and engine.get_case(max(c.id for c in engine.list_cases())).version == step_down
    )

    # 5. migration: preview, then migrate; the deadline keeps its start (Tue 11 May 2027:
    # 10 working days, 12-14 (3), 17-21 (8), 24, 25 (10) -> Tue 25 May; restarted on Fri
    # 14 May it would be Fri 28 May), the case inside the changed consent block stays
    moved_on = datetime(2027, 5, 14, 9, tzinfo=UTC)
    with clock.using(FixedClock(moved_on)):
        preview = {
            m.case_id: m
            for m in engine.migrate_cases(
                "teeswide", "teeswide_step_down_cp", "pm.second", case_ids=[case_a, case_b],
                preview=True,
            )
        }  # fmt: skip
        assert preview[case_a].ok and not preview[case_a].done
        assert preview[case_a].steps == ("rearrange_meeting",)
        kept = {t.element_id: t for t in preview[case_a].timers}
        assert kept["rearrange_meeting_deadline"].recomputed
        assert not kept["rearrange_meeting_reminder"].recomputed
        assert not preview[case_b].ok
        assert (
            'subprocess "common_consent" that the case is in changed shape'
            in (preview[case_b].reasons[0])
        )
        assert engine.get_case(case_a).version == 1  # a preview changes nothing

        done = {
            m.case_id: m
            for m in engine.migrate_cases(
                "teeswide", "teeswide_step_down_cp", "pm.second", case_ids=[case_a, case_b]
            )
        }
    assert done[case_a].done and not done[case_b].done
    assert "cannot migrate" in done[case_b].line()
    migrated = engine.get_case(case_a)
    assert migrated.version == step_down
    assert engine.get_case(case_b).version == 1
    (task,) = migrated.tasks
    assert task.name == "Rearrange the meeting"
    due = {t.element_id: t.due_at.astimezone(LONDON) for t in engine.timers(case_id=case_a)}
    assert due["rearrange_meeting_deadline"].date().isoformat() == "2027-05-25"
    assert due["rearrange_meeting_reminder"].date().isoformat() == "2027-05-20"
    actions = [a.action for a in engine.audit_trail(case_a)]
    assert "case_migrated" in actions and "deadline_recomputed" in actions

    # 6. the kept deadline still escalates when it passes (and T8: the meeting the conference
    # set for Tue 11 May was not recorded, so the team manager is asked to check it)
    with clock.using(FixedClock(datetime(2027, 5, 26, 8, tzinfo=UTC))):
        engine.fire_due_timers(case_id=case_a)
    assert {t.element_id for t in engine.get_case(case_a).tasks} == {
        "rearrange_meeting",
        "chase_rearrangement",
        "check_planning_date",
    }
