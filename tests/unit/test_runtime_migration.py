"""Migrating a running case onto a new version keeps its deadlines' original start.

SpiffWorkflow's migrate_workflow restarts waiting branches; engine/runtime_migration.py puts
each timer's due instant back, and counts a changed rule from the timer's original start. The
expected dates are worked out by hand from the calendar (README "Counting days").
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from SpiffWorkflow.util.task import TaskState

from engine import clock, runtime_migration
from engine.calendar import WorkingCalendar
from engine.clock import FixedClock
from engine.deployment import parse_bundle
from engine.functions import diagram_functions
from engine.runtime import Runtime
from engine.timescales import profile_for

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = (ROOT / "processes" / "templates" / "task_with_deadline.bpmn").read_text()
PROFILE = profile_for("portsmouth")
FUNCTIONS = diagram_functions(WorkingCalendar(), PROFILE.timescales)
STARTED = datetime(2026, 11, 23, 9, tzinfo=UTC)  # Monday 23 November 2026
MIGRATED = datetime(2026, 11, 27, 9, tzinfo=UTC)  # the Friday after


def version(**edits: str) -> str:
    text = TEMPLATE
    for placeholder, value in {
        "{{key}}": "plan_distribution",
        "{{rule}}": "P3",
        "{{source}}": "Portsmouth 2",
        "{{form}}": "distribution.json",
        "{{name}}": "Send the plan",
        "{{duration}}": "5 working days",
        "{{remind_before}}": "2 working days",
    }.items():
        text = text.replace(placeholder, value)
    text = text.replace('id="template_', 'id="portsmouth_')
    text = text.replace('processRef="template_', 'processRef="portsmouth_')
    for old, new in edits.items():
        assert old in text, old
        text = text.replace(old, new)
    return text


def spec(text: str):  # noqa: ANN201
    (parsed,) = parse_bundle({"t.bpmn": text}, ROOT / "forms", PROFILE.timescales)
    return parsed.spec, parsed.subprocess_specs


@pytest.fixture
def running() -> tuple[Runtime, str]:
    runtime = Runtime()
    with clock.using(FixedClock(STARTED)):
        workflow = runtime.new_workflow(*spec(version()), {}, FUNCTIONS)
        runtime.run(workflow)
    return runtime, runtime.dump_state(workflow)


def waiting(workflow) -> dict[str, str]:  # noqa: ANN001
    return {
        t.task_spec.bpmn_id: t.internal_data["event_value"]
        for t in workflow.get_tasks(state=TaskState.WAITING)
        if "event_value" in t.internal_data
    }


def test_deadlines_keep_their_start_and_a_changed_rule_counts_from_it(running) -> None:  # noqa: ANN001
    runtime, state = running
    old_spec, old_subs = spec(version())
    new = version(
        **{
            'deadline("plan_distribution")': 'deadline("initial_plan")',
            'name="Send the plan"': 'name="Send the signed plan"',
        }
    )
    new_spec, new_subs = spec(new)
    with clock.using(FixedClock(MIGRATED)):
        workflow = runtime.load_state(state, old_spec, old_subs, FUNCTIONS)
        before = waiting(workflow)
        # 5 working days from Monday 23 November 2026 is Monday 30 November; reminder 2 before
        assert before == {
            "step_reminder": "2026-11-26T23:59:59+00:00",
            "step_deadline": "2026-11-30T23:59:59+00:00",
        }
        started = {str(t.id): STARTED for t in workflow.get_tasks(state=TaskState.WAITING)}
        result = runtime_migration.migrate(
            runtime.serializer.registry, workflow, new_spec, new_subs, started
        )
        assert result.ok and result.steps == ("step",)
        saved = runtime.dump_state(workflow)
        again = runtime.load_state(saved, new_spec, new_subs, FUNCTIONS)
    # the reminder is untouched (not restarted from Friday 27 November); the deadline is the
    # new rule, initial_plan (15 working days), from Monday 23 November: Monday 14 December
    assert waiting(again) == {
        "step_reminder": "2026-11-26T23:59:59+00:00",
        "step_deadline": "2026-12-14T23:59:59+00:00",
    }
    recomputed = {t.element_id: (t.before, t.after) for t in result.timers if t.recomputed}
    assert recomputed == {
        "step_deadline": ("2026-11-30T23:59:59+00:00", "2026-12-14T23:59:59+00:00")
    }
    (ready,) = [t for t in again.get_tasks(state=TaskState.READY) if t.task_spec.bpmn_id == "step"]
    assert ready.task_spec.bpmn_name == "Send the signed plan"


def test_without_the_adapter_spiffworkflow_restarts_the_timer(running) -> None:  # noqa: ANN001
    """Why the adapter exists: plain migrate_workflow counts the deadline from the migration."""
    from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow

    runtime, state = running
    new_spec, new_subs = spec(version(**{'name="Send the plan"': 'name="Send it"'}))
    with clock.using(FixedClock(MIGRATED)):
        workflow = runtime.load_state(state, *spec(version()), FUNCTIONS)
        top, _ = diff_workflow(runtime.serializer.registry, workflow, new_spec, new_subs)
        migrate_workflow(top, workflow, new_spec)
    # 5 working days from Friday 27 November 2026: Friday 4 December
    assert waiting(workflow)["step_deadline"] == "2026-12-04T23:59:59+00:00"


def test_a_case_whose_current_step_was_removed_is_refused_with_the_reason(running) -> None:  # noqa: ANN001
    runtime, state = running
    renamed = version(**{'"step"': '"step_two"', ">step<": ">step_two<"})
    new_spec, new_subs = spec(renamed)
    with clock.using(FixedClock(MIGRATED)):
        workflow = runtime.load_state(state, *spec(version()), FUNCTIONS)
        result = runtime_migration.migrate(
            runtime.serializer.registry, workflow, new_spec, new_subs, {}
        )
        assert not result.ok
        assert any(
            'its current step "Send the plan" (step) is not in the new version' in r
            for r in result.reasons
        ), result.reasons
        assert runtime.dump_state(workflow) == state  # refused: nothing changed


def test_a_case_at_a_step_that_gained_a_timer_is_refused(running) -> None:  # noqa: ANN001
    """Version 1 without the reminder; the case waits at the step; version 2 adds it back."""
    from lxml import etree

    root = etree.fromstring(version().encode())
    for element_id in ("step_reminder", "step_reminded", "flow_step_reminder_to_step_reminded"):
        for el in root.xpath("//*[@id=$i or @bpmnElement=$i]", i=element_id):
            el.getparent().remove(el)
    for ref in root.xpath("//*[local-name()='flowNodeRef' or local-name()='outgoing']"):
        if ref.text in ("step_reminder", "step_reminded", "flow_step_reminder_to_step_reminded"):
            ref.getparent().remove(ref)
    without = etree.tostring(root, encoding="unicode")
    runtime = Runtime()
    with clock.using(FixedClock(STARTED)):
        workflow = runtime.new_workflow(*spec(without), {}, FUNCTIONS)
        runtime.run(workflow)
    assert set(waiting(workflow)) == {"step_deadline"}
    with clock.using(FixedClock(MIGRATED)):
        result = runtime_migration.migrate(
            runtime.serializer.registry, workflow, *spec(version()), {}
        )
    assert not result.ok
    assert result.reasons == (
        'its current step "Send the plan" (step) has new events in the new version '
        '("Reminder 2 working days before"), which a step already started would not get',
    )
