"""The returns' queries on PostgreSQL too: a few journeys (not the whole cohort) exported."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from engine import clock
from engine.clock import FixedClock
from engine.returns.service import Returns
from engine.returns.synthetic import journey_files, run_cohort
from engine.services import Engine

ROOT = Path(__file__).resolve().parents[2]
PICK = (
    "portsmouth/scenarios/after_assessment.yaml",
    "portsmouth/scenarios/initial_plan_overdue.yaml",
    "portsmouth/scenarios/ceased_child_died.yaml",
    "portsmouth/scenarios/step_down_cp.yaml",
)


@pytest.mark.postgres
def test_census_and_reports_on_postgres(db_url, dfe_validator, tmp_path) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("the cohort test covers SQLite")
    files = [p for p in journey_files(ROOT / "processes") if p.as_posix().endswith(PICK)]
    assert len(files) == len(PICK)
    engine = Engine(db_url)
    engine.init_db()
    try:
        with clock.using(FixedClock(datetime(2026, 11, 1, tzinfo=UTC))):
            journeys = run_cohort(engine, files, copies=1, training_every=2)
        assert all(j.report and j.report.ok for j in journeys)
        returns = Returns.for_engine(engine)
        with clock.using(FixedClock(datetime(2027, 4, 20, 9, tzinfo=UTC))):
            census = returns.census("portsmouth", "2026-27")
            rows = returns.annex_a("portsmouth")
            view = returns.oversight("portsmouth", date(2026, 11, 1), date(2027, 4, 19))
    finally:
        engine.dispose()
    real = [j for j in journeys if not j.training]
    assert census.children == len(real) and not [i for i in census.issues if not i.warning]
    assert len(rows) == len(real)
    assert sum(view.caseload_by_team.values()) <= len(real)
    path = tmp_path / "census.xml"
    path.write_text(census.xml, encoding="utf-8")
    done = subprocess.run(
        [str(dfe_validator), str(ROOT / "scripts" / "cin_validate.py"), str(path), "cin2026_27"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    failed = json.loads(done.stdout)["failed"]
    assert [f for f in failed if f["kind"] == "ERROR"] == []
    assert len(ET.fromstring(census.xml).findall("Children/Child")) == len(real)
