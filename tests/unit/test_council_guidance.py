"""Each council sees its own procedure only: no other council's rule id, name or rule text.

Every step of a council's pack (its own diagrams and the shared blocks in processes/common/) is
read as the council's worker reads it: the guidance through `CouncilProfile.own_guidance` (the
council's guidance.yaml words for a shared step, else the diagram's text with other councils'
citations removed) and the rule id through `own_rules`, as the engine shows them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree

from engine.timescales import profile_for

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
COUNCILS = {
    "portsmouth": ("P", "Portsmouth"),
    "dudley": ("D", "Dudley"),
    "teeswide": ("T", "Teeswide"),
    "rochdale": ("R", "Rochdale"),
    "walthamforest": ("W", "Waltham Forest"),
}
RULE_ID = re.compile(r"\b([PDTRW])\d{1,2}\b")


def steps(council: str):
    """(process id, element id, guidance, rule) of every user task the council's pack holds."""
    for folder in (PROCESSES / "common", PROCESSES / council):
        for path in sorted(folder.glob("*.bpmn")):
            root = etree.parse(str(path)).getroot()
            for process in root.iterfind("bpmn:process", NS):
                for task in process.iterfind(".//bpmn:userTask", NS):
                    owner = task.getparent()
                    while (
                        owner.tag != f"{{{NS['bpmn']}}}process"
                        and owner.get("triggeredByEvent") != "true"
                        and owner.tag != f"{{{NS['bpmn']}}}subProcess"
                    ):
                        owner = owner.getparent()
                    doc = task.findtext("bpmn:documentation", "", NS)
                    rule = task.find(".//spiffworkflow:property[@name='rule']", NS)
                    yield (
                        owner.get("id") if owner.tag.endswith("subProcess") else process.get("id"),
                        task.get("id"),
                        doc,
                        rule.get("value") if rule is not None else None,
                    )


@pytest.mark.parametrize("council", sorted(COUNCILS))
def test_no_step_shows_another_councils_rules(council: str) -> None:
    profile = profile_for(council)
    prefix, _ = COUNCILS[council]
    others = {name for key, (_, name) in COUNCILS.items() if key != council}
    problems = []
    for process_id, element_id, doc, rule in steps(council):
        text = profile.own_guidance(process_id, element_id, doc)
        shown_rule = profile.own_rules(rule) or ""
        foreign_ids = {m.group(0) for m in RULE_ID.finditer(f"{text} {shown_rule}")}
        foreign_ids = {i for i in foreign_ids if i[0] != prefix}
        names = {n for n in others if n in text}
        if foreign_ids or names:
            problems.append(f"{process_id}:{element_id}: {sorted(foreign_ids | names)}")
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("council", sorted(COUNCILS))
def test_guidance_overrides_name_real_steps(council: str) -> None:
    known = {f"{p}:{e}" for p, e, _, _ in steps(council)}
    assert set(profile_for(council).guidance) <= known


def guidance(council: str, process_id: str, element_id: str) -> str:
    for p, e, doc, _ in steps(council):
        if (p, e) == (process_id, element_id):
            return profile_for(council).own_guidance(p, e, doc)
    raise AssertionError(f"{process_id}:{element_id} not in {council}'s pack")


def test_each_council_reads_its_own_rule_text() -> None:
    # T7's "within 10 working days" for a cancelled meeting is Teeswide's alone.
    assert "10 working days" in guidance("teeswide", "common_meeting", "rearrange_meeting")
    for council in ("portsmouth", "dudley", "rochdale", "walthamforest"):
        assert "10 working days" not in guidance(council, "common_meeting", "rearrange_meeting")
        assert "financial assistance" not in guidance(
            council, "common_closure", "approve_closure_without_review"
        )
    # Writing a visit up within 2 working days is Rochdale's rule (R10).
    assert "2 working days" in guidance("rochdale", "common_visit_cycle", "visit")
    for council in ("portsmouth", "dudley", "teeswide", "walthamforest"):
        assert "2 working days" not in guidance(council, "common_visit_cycle", "visit")
    # Portsmouth's CAF rule (P12) is spelt out for Portsmouth only.
    assert "over 6 months old" in guidance("portsmouth", "common_step_down_early_help", "hand_over")
    assert "6 months" not in guidance("rochdale", "common_step_down_early_help", "hand_over")


def test_shared_blocks_name_no_council() -> None:
    """A shared block's conditions and scripts ask the council's settings, never its name."""
    names = set(COUNCILS) | {name.lower() for _, name in COUNCILS.values()}
    problems = []
    for path in sorted((PROCESSES / "common").glob("*.bpmn")):
        root = etree.parse(str(path)).getroot()
        for el in root.iter(
            f"{{{NS['bpmn']}}}conditionExpression",
            f"{{{NS['bpmn']}}}script",
            f"{{{NS['bpmn']}}}timeDate",
            f"{{{NS['bpmn']}}}timeDuration",
        ):
            text = (el.text or "").lower()
            problems += [f"{path.name}:{el.sourceline}: {n}" for n in names if n in text]
    assert problems == []


def test_closing_without_review_needs_approval_is_a_council_setting(tmp_path: Path) -> None:
    from engine.calendar import WorkingCalendar
    from engine.functions import diagram_functions
    from engine.timescales import load_profile

    assert profile_for("teeswide").settings == {"closing_without_review_needs_approval": True}
    for council in ("portsmouth", "dudley", "rochdale", "walthamforest"):
        profile = profile_for(council)
        ask = diagram_functions(WorkingCalendar(), profile.timescales, profile.settings)
        assert ask["council_setting"]("closing_without_review_needs_approval") is False
    with pytest.raises(ValueError, match="no council setting"):
        diagram_functions(WorkingCalendar())["council_setting"]("closing_without_reveiw")
    (tmp_path / "x").mkdir()
    bad = tmp_path / "x" / "timescales.yaml"
    bad.write_text("council: x\nsettings:\n  closing_without_reveiw: true\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown setting closing_without_reveiw"):
        load_profile(bad, PROCESSES)
    bad.write_text("council: x\nsettings:\n  closing_without_review_needs_approval: yes please\n")
    with pytest.raises(ValueError, match="must be true or false"):
        load_profile(bad, PROCESSES)
