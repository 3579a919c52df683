"""Every journey file under processes/ runs green: the packs do what the procedures say."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.scenario import run_file

ROOT = Path(__file__).resolve().parents[2]
JOURNEYS = sorted((ROOT / "processes").glob("*/scenarios/*.yaml"))


# On SQLite every journey runs in tests/integration/test_pruning.py (pruned and unpruned, each
# checked green and compared step by step); here it runs on PostgreSQL.
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
@pytest.mark.parametrize(
    "path", JOURNEYS, ids=[f"{p.parent.parent.name}/{p.stem}" for p in JOURNEYS]
)
def test_journey(path: Path, db_url: str) -> None:
    report = run_file(path, db_url)
    failures = [o.line() for o in report.outcomes if not o.ok]
    assert report.outcomes, f"{path} checked nothing"
    assert not failures, "\n".join(failures)
