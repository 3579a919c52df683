"""Every rule of the five procedures is implemented by something that runs, and says so.

`processes/<council>/coverage.yaml` maps each rule id to BPMN elements (`process_id:element_id`)
and/or checks (`forms/<form>.json#/properties/<field>`); this test fails when a rule of
shared/spec/procedures.md is missing or points at something that does not exist.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from lxml import etree

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT.parent / "shared" / "spec" / "procedures.md"
COUNCILS = {
    "portsmouth": "P",
    "dudley": "D",
    "teeswide": "T",
    "rochdale": "R",
    "walthamforest": "W",
}
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"


def spec_rules() -> dict[str, set[str]]:
    text = SPEC.read_text(encoding="utf-8")
    ids = set(re.findall(r"^\| ([PDTRW]\d+) \|", text, re.M))
    return {c: {i for i in ids if i[0] == prefix} for c, prefix in COUNCILS.items()}


def elements(folder: Path) -> dict[str, set[str]]:
    """process id -> element ids, for the council's files and the common blocks."""
    found: dict[str, set[str]] = {}
    for path in [*folder.glob("*.bpmn"), *(ROOT / "processes" / "common").glob("*.bpmn")]:
        root = etree.parse(str(path)).getroot()
        for process in root.iter(f"{BPMN}process"):
            found[process.get("id")] = {el.get("id") for el in process.iter() if el.get("id")}
    return found


def check_exists(ref: str) -> bool:
    path, _, pointer = ref.partition("#")
    target = ROOT / path
    if not target.is_file():
        return False
    if not pointer:
        return True
    node = json.loads(target.read_text()) if target.suffix == ".json" else None
    for part in pointer.strip("/").split("/"):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


@pytest.mark.skipif(not SPEC.is_file(), reason="shared/spec is not beside the repo")
@pytest.mark.parametrize("council", sorted(COUNCILS))
def test_every_rule_is_covered_by_real_elements(council: str) -> None:
    folder = ROOT / "processes" / council
    coverage_file = folder / "coverage.yaml"
    assert coverage_file.is_file(), f"{coverage_file} is missing"
    coverage = yaml.safe_load(coverage_file.read_text(encoding="utf-8"))["rules"]
    wanted = spec_rules()[council]
    assert not wanted - set(coverage), f"rules not covered: {sorted(wanted - set(coverage))}"
    assert not set(coverage) - wanted, f"unknown rule ids: {sorted(set(coverage) - wanted)}"
    known = elements(folder)
    for rule, entry in coverage.items():
        refs = entry.get("elements", []) + entry.get("checks", [])
        assert refs, f"{rule} names no element or check"
        for ref in entry.get("elements", []):
            process, _, element = ref.partition(":")
            assert process in known, f"{rule}: no process {process}"
            assert element in known[process], f"{rule}: no element {element} in {process}"
        for ref in entry.get("checks", []):
            assert check_exists(ref), f"{rule}: check {ref} does not exist"


def test_coverage_totals_58_rules() -> None:
    if not SPEC.is_file():
        pytest.skip("shared/spec is not beside the repo")
    assert sum(len(v) for v in spec_rules().values()) == 58


PACK_FILES = sorted(
    p for p in (ROOT / "processes").glob("*/*.bpmn") if p.parent.name in {*COUNCILS, "common"}
)


@pytest.mark.parametrize("path", PACK_FILES, ids=[f"{p.parent.name}/{p.stem}" for p in PACK_FILES])
def test_every_step_tells_the_worker_its_rule_and_source(path: Path) -> None:
    """A user task's guidance ends with its rule ids and source, e.g. "P3 · Portsmouth 2"."""
    root = etree.parse(str(path)).getroot()
    for task in root.iter(f"{BPMN}userTask"):
        doc = (task.findtext(f"{BPMN}documentation") or "").strip()
        last = doc.splitlines()[-1] if doc else ""
        assert re.search(r"\b[PDTRW]\d+\b.*·", last), f"{task.get('id')}: {last!r}"
        assert task.get("name"), f"{task.get('id')} has no name"


@pytest.mark.parametrize("council", sorted(COUNCILS))
def test_every_rule_says_the_seeds_words_and_its_journeys(council: str) -> None:
    """Each rule quotes its seed, says how the pack implements it, and names the journeys that
    would fail if it were wrong (files that exist: the council's own or the common ones)."""
    folder = ROOT / "processes" / council
    coverage = yaml.safe_load((folder / "coverage.yaml").read_text(encoding="utf-8"))["rules"]
    for rule, entry in coverage.items():
        for key in ("seed", "implementation"):
            assert isinstance(entry.get(key), str) and entry[key].strip(), f"{rule}: no {key}"
        journeys = entry.get("journeys")
        assert journeys, f"{rule}: no journey"
        for journey in journeys:
            assert isinstance(journey, str), f"{rule}: journey {journey!r} is not one line of text"
            name = journey.split(" ", 1)[0]
            found = (folder / "scenarios" / name).is_file() or (ROOT / "processes" / name).is_file()
            assert found, f"{rule}: no journey file {name}"
