"""The cohort: every council journey run three times for new synthetic children (>= 300 cases),
in a SQLite template database built once per session.

Building it takes about a minute on two cores, so the template is also kept between sessions
in .pytest_cache/, named by a hash of everything that shapes it (processes/, forms/, engine/
but the returns code it is there to check, and `_build`): a change to any of them builds a new
one.
"""

from __future__ import annotations

import fcntl
import hashlib
import inspect
import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine import clock
from engine.clock import FixedClock
from engine.returns.synthetic import journey_files, run_cohort
from engine.services import Engine
from engine.store.models import AuditEvent

ROOT = Path(__file__).resolve().parents[2]
COPIES = 3
CACHE = ROOT / ".pytest_cache" / "cinflow-cohort"


@dataclass(frozen=True)
class Member:
    """One journey of the cohort as the tests know it (independently of the returns code)."""

    path: str
    council: str
    team: str
    worker: str
    training: bool
    case_id: int
    ok: bool
    stopped: bool
    start: dict


@dataclass(frozen=True)
class Cohort:
    template: Path
    members: list[Member]
    last_event: datetime


def _fingerprint() -> str:
    digest = hashlib.sha256(f"copies={COPIES}".encode())
    for folder, pattern in (("processes", "**/*"), ("forms", "**/*.json"), ("engine", "**/*.py")):
        for path in sorted((ROOT / folder).glob(pattern)):
            returns = path.parent.name == "returns" and path.name not in (
                "synthetic.py",
                "codes.py",
            )
            if path.is_file() and "__pycache__" not in path.parts and not returns:
                digest.update(str(path.relative_to(ROOT)).encode())
                digest.update(path.read_bytes())
    digest.update(inspect.getsource(_build).encode())
    return digest.hexdigest()[:16]


def _build(db: Path) -> list[Member]:
    engine = Engine(f"sqlite:///{db}")
    engine.init_db()
    try:
        with clock.using(FixedClock(datetime(2026, 11, 1, tzinfo=UTC))):
            journeys = run_cohort(engine, journey_files(ROOT / "processes"), copies=COPIES)
    finally:
        engine.dispose()
    return [
        Member(
            str(j.path.relative_to(ROOT)),
            j.council or "",
            j.team,
            j.worker,
            j.training,
            j.case_id,
            j.stopped or bool(j.report and j.report.ok),
            j.stopped,
            j.start,
        )
        for j in journeys
    ]


@pytest.fixture(scope="session")
def cohort() -> Cohort:
    key = _fingerprint()
    db, meta = CACHE / f"{key}.db", CACHE / f"{key}.json"
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    # One builder at a time (two xdist workers, or two runs): the others wait, then reuse it.
    with open(CACHE.parent / "cinflow-cohort.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (db.is_file() and meta.is_file()):
            CACHE.mkdir(parents=True, exist_ok=True)
            for old in CACHE.iterdir():
                old.unlink()
            building = CACHE / f"{key}.building.db"
            members = _build(building)
            meta.write_text(json.dumps([m.__dict__ for m in members]), encoding="utf-8")
            building.rename(db)
    members = [Member(**m) for m in json.loads(meta.read_text(encoding="utf-8"))]
    engine = Engine(f"sqlite:///{db}")
    with engine.sessions() as s:
        last = s.scalar(select(func.max(AuditEvent.at)))
    engine.dispose()
    return Cohort(db, members, last)


@pytest.fixture
def cohort_engine(cohort: Cohort, tmp_path: Path) -> Iterator[Engine]:
    """A real engine on this test's own copy of the cohort."""
    db = tmp_path / "cohort.db"
    shutil.copy(cohort.template, db)
    engine = Engine(f"sqlite:///{db}")
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def dfe_validator() -> Path:
    """The DfE's validator (csc-validator-be-cin), installed once into .venv-cin-validator."""
    done = subprocess.run(
        [str(ROOT / "scripts" / "cin-validator.sh")], capture_output=True, text=True
    )
    assert done.returncode == 0, f"cannot install the DfE validator:\n{done.stderr[-3000:]}"
    return ROOT / ".venv-cin-validator" / "bin" / "python"
