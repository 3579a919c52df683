"""The shapes in processes/templates/, filled in for a council, pass the deploy rule set and
parse as executable processes: inserting one never produces a diagram the deploy refuses."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from engine.conventions import check, context_for
from engine.deployment import parse_bundle
from engine.timescales import profile_for

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted((ROOT / "processes" / "templates").glob("*.bpmn"))
FORMS = ROOT / "forms"
FILL = {
    "{{key}}": "plan_distribution",
    "{{rule}}": "P3",
    "{{source}}": "Portsmouth 2",
    "{{form}}": "distribution.json",
    "{{name}}": "Send the plan",
    "{{duration}}": "5 working days",
    "{{remind_before}}": "2 working days",
}


def fill(text: str, process_prefix: str = "portsmouth_") -> str:
    for placeholder, value in FILL.items():
        text = text.replace(placeholder, value)
    return text.replace('id="template_', f'id="{process_prefix}').replace(
        'processRef="template_', f'processRef="{process_prefix}'
    )


def test_there_are_the_four_patterns_and_the_new_process() -> None:
    assert [p.stem for p in TEMPLATES] == [
        "ceasing_event",
        "meeting_with_minutes",
        "new_process",  # where the modeler's "New process" starts
        "task_with_deadline",
        "visits",
    ]


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.stem)
def test_a_filled_in_template_passes_the_rule_set_and_parses(path: Path) -> None:
    raw = path.read_text(encoding="utf-8")
    assert "{{" in raw, "a template with nothing to fill in"
    text = fill(raw)
    assert "{{" not in text
    ctx = context_for("portsmouth", ROOT / "processes", FORMS)
    root = etree.fromstring(text.encode("utf-8"))
    assert (
        root.find("{http://www.omg.org/spec/BPMN/20100524/MODEL}process")
        .get("id")
        .startswith("portsmouth_")
    ), "the pack rules must apply"
    assert check(root, ctx) == []
    parsed = parse_bundle({path.name: text}, FORMS, profile_for("portsmouth").timescales, rules=ctx)
    assert [p.process_id for p in parsed] == [f"portsmouth_{path.stem}"]


def test_a_template_left_unfilled_is_refused_by_name() -> None:
    """The placeholders are not valid values, so a forgotten one is caught at deploy."""
    text = fill((ROOT / "processes" / "templates" / "task_with_deadline.bpmn").read_text())
    text = text.replace('deadline("plan_distribution")', 'deadline("{{key}}")')
    found = check(
        etree.fromstring(text.encode()), context_for("portsmouth", ROOT / "processes", FORMS)
    )
    assert [(f.rule, f.element_id) for f in found] == [("timer-key", "step_deadline")]
    assert 'names timescale "{{key}}"' in found[0].message
