"""Shared fixtures: the two databases every database test runs on, and a fixed clock.

`make test` runs the suite on two pytest-xdist workers (`-n 2 --dist loadgroup`): every
database and file is the test's own (a PostgreSQL schema or a tmp_path file per test), and tests
that share an expensive fixture are kept on one worker (`pytest_collection_modifyitems`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from databases import PG_SERVER, require_postgres
from sqlalchemy import create_engine, text

from engine import clock, passwords
from engine.clock import FixedClock

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh empty database: a SQLite file, or a private schema in PostgreSQL's `test`."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/cinflow.db"
        return
    require_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_SERVER}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def fixed_clock() -> Iterator[FixedClock]:
    """Monday 23 November 2026, 09:00 UTC, moved only by the test."""
    fixed = FixedClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    with clock.using(fixed):
        yield fixed


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Passwords are hashed with argon2 at a cost meant to slow attackers (64 MiB, 3 passes);
    tests hash cheaply (a stored hash records its own cost, so checking is quick too)."""
    for key, value in {"time_cost": 1, "memory_cost": 8, "parallelism": 1}.items():
        monkeypatch.setitem(passwords.ARGON2, key, value)


def _xdist_group(item: pytest.Item) -> str | None:
    """Which tests must share a worker: a browser module's tests, the
    cohort's (built once, about a minute), and a module's tests that share a module fixture."""
    if "browser" in item.path.parts[-2:-1]:
        # a module's browser tests stay together (their module fixtures); each worker starts
        # its own Chromium and live world once, so the two long browser modules run side by side
        return item.nodeid.split("::", 1)[0]
    if "cohort" in getattr(item, "fixturenames", ()):
        return "cohort"
    info = getattr(item, "_fixtureinfo", None)
    defs = info.name2fixturedefs.values() if info is not None else ()
    if any(d.scope == "module" for chain in defs for d in chain):
        return item.nodeid.split("::", 1)[0]
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Group tests for pytest-xdist's `--dist loadgroup` (a no-op in a plain run).

    First of the hooks: pytest-xdist reads the groups in its own hook of this name (it adds
    "@group" to each test's id), which otherwise ran before this one and found none, so each
    group's tests were spread over the workers (tests/unit/test_suite_groups.py)."""
    for item in items:
        group = _xdist_group(item)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))
