"""The DfE CIN census of a synthetic cohort (every council route, on-time and late steps) passes
the DfE's own validation rules, run by their open-source validator in its own environment."""

from __future__ import annotations

import gc
import json
import subprocess
from collections import Counter
from datetime import date
from pathlib import Path
from xml.etree import ElementTree as ET

from click.testing import CliRunner
from sqlalchemy import select

from engine.cli import cli
from engine.returns import census
from engine.returns import cli as _returns_cli  # noqa: F401 - registers the commands
from engine.returns.census import la_child_id
from engine.returns.codes import LA_CODES
from engine.returns.service import Returns
from engine.services import Engine, NewChild
from engine.store.models import AuditEvent, Case

ROOT = Path(__file__).resolve().parents[2]
YEAR, RULESET, REFERENCE = "2026-27", "cin2026_27", date(2027, 3, 31)
LA = {"teeswide": "808"}


def run_cli(engine: Engine, *args: str) -> tuple[int, str, str]:
    url = str(engine.db.url.render_as_string(hide_password=False))
    result = CliRunner().invoke(cli, ["--database", url, *args], obj={})
    return result.exit_code, result.stdout, result.stderr


def validate(validator: Path, xml: Path) -> list[dict]:
    done = subprocess.run(
        [str(validator), str(ROOT / "scripts" / "cin_validate.py"), str(xml), RULESET],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert report["rules"] > 100  # the whole ruleset ran
    return report["failed"]


def test_the_cohort_runs_every_route_on_time_and_late(cohort, cohort_engine) -> None:
    members = cohort.members
    assert len(members) >= 300
    assert all(m.ok for m in members), [m.path for m in members if not m.ok]
    files = {p.relative_to(ROOT).as_posix() for p in (ROOT / "processes").glob("*/scenarios/*")}
    ran = {m.path for m in members}
    assert {f for f in files if not f.startswith(("processes/common", "processes/sample"))} <= ran
    with cohort_engine.sessions() as s:
        late = s.scalars(
            select(AuditEvent.case_id).where(AuditEvent.action == "timer_fired:deadline")
        ).all()
    assert len(set(late)) >= 30  # many children had a step done late...
    assert len(members) - len(set(late)) >= 100  # ...and many had none late


def test_census_export_passes_the_dfe_validation_rules(
    cohort, cohort_engine, dfe_validator, tmp_path
) -> None:
    councils = sorted({m.council for m in cohort.members})
    assert len(councils) == 5
    for council in councils:
        extra = ["--la-code", LA[council]] if council in LA else []
        code, xml, err = run_cli(
            cohort_engine, "census", "--year", YEAR, "--council", council, *extra
        )
        assert code == 0, err
        path = tmp_path / f"{council}.xml"
        path.write_text(xml, encoding="utf-8")
        failed = validate(dfe_validator, path)
        errors = [f for f in failed if f["kind"] == "ERROR"]
        assert errors == [], f"{council}: {errors}"

        # The children are exactly the real ones referred by the reference date.
        root = ET.fromstring(xml)
        exported = {e.text for e in root.iter("LAchildID")}
        with cohort_engine.sessions() as s:
            cases = {c.id: c for c in s.scalars(select(Case).where(Case.council_key == council))}
        expected = {
            la_child_id(cases[m.case_id].child_id)
            for m in cohort.members
            if m.council == council
            and not m.training
            and date.fromisoformat(m.start["referral_date"]) <= REFERENCE
            and cases[m.case_id].status != "cancelled"
        }
        training = {
            la_child_id(cases[m.case_id].child_id)
            for m in cohort.members
            if m.council == council and m.training
        }
        assert exported == expected
        assert not exported & training
        assert root.findtext("Header/Source/LEA") == {**LA_CODES, **LA}[council]
        # Each child's characteristics are the ones recorded for them.
        by_child = {
            la_child_id(cases[m.case_id].child_id): m for m in cohort.members if m.case_id in cases
        }
        for child in root.iter("Child"):
            member = by_child[child.findtext("ChildIdentifiers/LAchildID")]
            assert child.findtext("ChildIdentifiers/Sex") == member.start["sex"]
            assert child.findtext("ChildCharacteristics/Ethnicity") == member.start["ethnicity"]
            assert child.findtext("CINdetails/CINreferralDate") == member.start["referral_date"]


def test_missing_census_facts_are_listed_per_child_with_the_step(cohort_engine) -> None:
    case = cohort_engine.start_case(
        "portsmouth_after_assessment",
        NewChild("Ada Example", date(2015, 2, 3)),
        {"transfer_date": "2027-01-04", "cin_start_date": "2027-01-04",
         "referral_date": "2027-01-04"},
        "sw.test",
        council="portsmouth",
    )  # fmt: skip
    code, xml, err = run_cli(cohort_engine, "census", "--year", YEAR, "--council", "portsmouth")
    assert code == 1 and xml == ""
    assert "no XML was written" in err
    with cohort_engine.sessions() as s:
        child = la_child_id(s.get(Case, case.id).child_id)
    mine = [line for line in err.splitlines() if line.startswith(child)]
    said = Counter(line.split(": ")[1] for line in mine)
    assert {"Sex", "Ethnicity", "Disabilities", "Source of referral", "Primary need",
            "Unique pupil number"} <= set(said)  # fmt: skip
    assert all('recorded at step "the referral the case was opened with"' in m for m in mine)
    # Nothing is dropped: with --allow-incomplete the child is there, without the facts.
    code, xml, _ = run_cli(
        cohort_engine, "census", "--year", YEAR, "--council", "portsmouth", "--allow-incomplete"
    )
    assert code == 0 and child in xml


def test_a_year_written_wrongly_is_refused(cohort_engine) -> None:
    code, out, err = run_cli(cohort_engine, "census", "--year", "2025", "--council", "dudley")
    assert code == 2 and out == "" and "2025-26" in err
    code, out, err = run_cli(cohort_engine, "census", "--year", YEAR, "--council", "teeswide")
    assert code == 2 and "--la-code" in err


def test_the_census_is_read_and_built_with_the_garbage_collector_paused(
    cohort_engine, monkeypatch
) -> None:
    """Its passes over a council's cases made a 10,000-child census 13x a 1,000-child one."""
    built_with: list[bool] = []
    build = census.build

    def watched(*args: object, **kwargs: object) -> census.Census:
        built_with.append(gc.isenabled())
        return build(*args, **kwargs)

    monkeypatch.setattr(census, "build", watched)
    assert gc.isenabled()
    made = Returns.for_engine(cohort_engine).census("portsmouth", YEAR)
    assert built_with == [False]
    assert gc.isenabled()  # and on again after
    assert made.children > 0
