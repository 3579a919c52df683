"""The modeler's "Save as draft" (Engine.save_process_draft) on SQLite and PostgreSQL: a changed
diagram becomes a draft validated with the council's live pack, never live, even a process's
first version; identical XML makes no version; a refusal names its element and stores nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.deployment import DeploymentError
from engine.services import Engine

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "processes" / "sample"
REFERRAL = (SAMPLE / "sample_referral.bpmn").read_text()
NEW = (ROOT / "processes" / "templates" / "new_process.bpmn").read_text()


def _versions(engine: Engine) -> list[tuple[str, int, str]]:
    return sorted(
        (e.process_id, v.version, v.status)
        for e in engine.process_library("portsmouth")
        for v in e.versions
    )


@pytest.fixture
def deployed(engine: Engine) -> Engine:
    engine.deploy([SAMPLE], "factory", "sample", council="portsmouth")
    return engine


def test_a_saved_change_is_a_draft_and_the_same_xml_is_no_version(deployed: Engine) -> None:
    changed = REFERRAL.replace('name="Complete the assessment"', 'name="Assess the child"')
    info, new = deployed.save_process_draft("portsmouth", "sample_referral", changed, "pm.a")
    assert (info.version, info.status, new) == (2, "draft", True)
    again, new = deployed.save_process_draft("portsmouth", "sample_referral", changed, "pm.a")
    assert (again.version, new) == (2, False)
    assert ("sample_referral", 1, "live") in _versions(deployed)
    assert "Assess the child" in deployed.version_xml("portsmouth", "sample_referral", 2)


def test_a_new_process_starts_as_a_draft(deployed: Engine) -> None:
    xml = deployed.new_process_xml("portsmouth", "portsmouth_family_time", "Family <time>")
    assert 'name="Family &lt;time&gt;"' in xml
    info, _ = deployed.save_process_draft("portsmouth", "portsmouth_family_time", xml, "pm.a")
    assert (info.version, info.status) == (1, "draft")
    with pytest.raises(DeploymentError) as refused:
        deployed.save_process_draft(
            "portsmouth", "family_time", xml.replace("portsmouth_family_time", "family_time"), "a"
        )
    assert 'starting with "portsmouth_"' in str(refused.value)


@pytest.mark.parametrize(
    ("broken", "element", "words"),
    [
        ("<bpmn:definitions", None, "not well-formed XML"),
        (
            REFERRAL.replace(
                '<bpmn:userTask id="complete_assessment"',
                '<bpmn:task id="x" />\n    <bpmn:userTask id="complete_assessment"',
            ),
            "x",
            "",
        ),
        (REFERRAL.replace('id="sample_referral"', 'id="other"'), "sample_referral", "keep"),
    ],
)
def test_a_refusal_names_the_element_and_stores_nothing(
    deployed: Engine, broken: str, element: str | None, words: str
) -> None:
    before = _versions(deployed)
    with pytest.raises(DeploymentError) as refused:
        deployed.save_process_draft("portsmouth", "sample_referral", broken, "pm.a")
    problems = refused.value.problems
    assert any(p.element_id == element and words in p.message for p in problems), problems
    assert _versions(deployed) == before
