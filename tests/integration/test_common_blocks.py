"""The common building blocks (processes/common): they deploy with every council's pack, follow
the diagram conventions, and their journeys (processes/common/scenarios) run green, 26 visits
included.

Journeys here run on a private Runtime: the shared runtime caches specs by version id, and
version ids of different scratch databases collide (see processes/common/README.md).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from engine import clock
from engine.clock import FixedClock
from engine.runtime import Runtime
from engine.scenario import run_file
from engine.services import Engine, NewChild

ROOT = Path(__file__).resolve().parents[2]
COMMON = ROOT / "processes" / "common"
JOURNEYS = sorted((COMMON / "scenarios").glob("*.yaml"))
COUNCILS = ["portsmouth", "dudley", "teeswide", "rochdale", "walthamforest"]
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}


def _engine(url: str) -> Engine:
    eng = Engine(url, runtime=Runtime())
    eng.init_db()
    return eng


@pytest.mark.parametrize("council", COUNCILS)
def test_common_blocks_deploy_for_every_council(council: str, tmp_path: Path) -> None:
    eng = _engine(f"sqlite:///{tmp_path}/c.db")
    try:
        with clock.using(FixedClock(datetime(2026, 11, 23, 9, tzinfo=UTC))):
            deployed = eng.deploy([COMMON], "test", "common blocks", council=council)
        assert {p.process_id for p in deployed} == {p.stem for p in COMMON.glob("*.bpmn")}
    finally:
        eng.dispose()


@pytest.mark.parametrize("path", sorted(COMMON.glob("*.bpmn")), ids=lambda p: p.stem)
def test_blocks_follow_the_conventions(path: Path) -> None:
    root = etree.parse(str(path)).getroot()
    lanes = {
        ref.text: lane.get("name")
        for lane in root.iterfind(".//bpmn:lane", NS)
        for ref in lane.iterfind("bpmn:flowNodeRef", NS)
    }
    tasks = {t.get("id"): t for t in root.iterfind(".//bpmn:userTask", NS)}
    assert tasks, "a block without user tasks"
    for tid, task in tasks.items():
        props = {
            p.get("name"): p.get("value") for p in task.iterfind(".//spiffworkflow:property", NS)
        }
        doc = task.findtext("bpmn:documentation", namespaces=NS) or ""
        assert lanes.get(tid), f"{tid}: no lane"
        assert props.get("formJsonSchemaFilename"), f"{tid}: no form"
        assert props.get("rule"), f"{tid}: no rule property"
        assert " · " in doc[-100:], f"{tid}: documentation must end with rule ids and sections"
    # every deadline timer leads to a Team manager task
    flows = {
        f.get("sourceRef"): f.get("targetRef") for f in root.iterfind(".//bpmn:sequenceFlow", NS)
    }
    for event in root.iterfind(".//bpmn:boundaryEvent", NS):
        kind = {
            p.get("name"): p.get("value") for p in event.iterfind(".//spiffworkflow:property", NS)
        }
        if kind.get("timer") == "deadline":
            target = flows.get(event.get("id"))
            while target and target not in tasks:
                target = flows.get(target)
            assert target and lanes.get(target) == "Team manager", event.get("id")
    assert root.find(".//bpmn:scriptTask", NS) is None


@pytest.mark.parametrize("path", JOURNEYS, ids=lambda p: p.stem)
def test_journey(path: Path, db_url: str) -> None:
    eng = _engine(db_url)
    try:
        report = run_file(path, engine=eng)
    finally:
        eng.dispose()
    failures = [o.line() for o in report.outcomes if not o.ok]
    assert report.outcomes, f"{path} checked nothing"
    assert not failures, "\n".join(failures)


def test_26_visits_stay_fast(tmp_path: Path) -> None:
    path = COMMON / "scenarios" / "visit_cycle_26_visits.yaml"
    eng = _engine(f"sqlite:///{tmp_path}/v.db")
    try:
        began = time.perf_counter()
        report = run_file(path, engine=eng)
        took = time.perf_counter() - began
    finally:
        eng.dispose()
    assert report.ok, "\n".join(o.line() for o in report.outcomes if not o.ok)
    completes = sum(1 for o in report.outcomes if o.label.startswith("complete booked_visit"))
    assert completes == 25
    assert took < 30, f"26 visits took {took:.1f}s"


def test_visit_template_uses_the_councils_interval(tmp_path: Path) -> None:
    """processes/templates/visits.bpmn filled in for Rochdale: each visit due within 20 working
    days of the one before."""
    text = (ROOT / "processes" / "templates" / "visits.bpmn").read_text(encoding="utf-8")
    for placeholder, value in {
        "{{key}}": "visit_interval",
        "{{rule}}": "R10",
        "{{source}}": "Rochdale 6",
        "template_visits": "rochdale_visits_demo",
    }.items():
        text = text.replace(placeholder, value)
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "demo.bpmn").write_text(text, encoding="utf-8")
    eng = _engine(f"sqlite:///{tmp_path}/s.db")
    fixed = FixedClock(datetime(2026, 11, 23, 9, tzinfo=UTC))
    try:
        with clock.using(fixed):
            eng.deploy([folder], "test", "template", council="rochdale")
            case = eng.start_case(
                "rochdale_visits_demo", NewChild("Sam", None), {}, "test", council="rochdale"
            )
            task = eng.tasks(case_id=case.id)[0]
            assert task.element_id == "visit_first"
            assert task.due_at is not None and task.due_at.date().isoformat() == "2026-12-21"
            visit = {
                "visit_date": "2026-11-30",
                "visit_type": "cin_visit",
                "child_seen": True,
                "child_seen_alone": True,
                "childs_views": "Fine.",
                "observations": "Fine.",
                "concerns_raised": False,
                "significant_change": False,
            }
            fixed.set(datetime(2026, 11, 30, 9, tzinfo=UTC))  # the visit is recorded that day
            eng.complete_task(task.id, visit, "test", case_id=case.id)
            task = eng.tasks(case_id=case.id)[0]
            assert task.element_id == "visit_next"
            # 20 working days from Monday 30 November 2026, skipping 25 and 28 December
            assert task.due_at.date().isoformat() == "2026-12-30"
            fixed.set(datetime(2026, 12, 31, 9, tzinfo=UTC))
            eng.fire_due_timers(case_id=case.id)
            ready = {t.element_id: t.lane for t in eng.tasks(case_id=case.id)}
            assert ready == {
                "visit_next": "Social worker",
                "visit_next_overdue_check": "Team manager",
            }
    finally:
        eng.dispose()
