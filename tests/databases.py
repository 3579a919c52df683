"""The PostgreSQL server the database tests use, and whether it is here.

Shared by tests/conftest.py (the `db_url` fixture) and tests that build their own databases
from templates (tests/pack_templates.py).
"""

from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine

PG_SERVER = os.environ.get("CINFLOW_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _postgres_available() -> bool:
    try:
        engine = create_engine(PG_SERVER, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001 - any failure means "not here"
        return False


PG_AVAILABLE = _postgres_available()


def require_postgres() -> None:
    """Skip the test when PostgreSQL is not reachable (fail it in CI, where it must be)."""
    if PG_AVAILABLE:
        return
    if os.environ.get("CI"):
        pytest.fail("PostgreSQL at 127.0.0.1:5432 is not reachable in CI")
    pytest.skip("PostgreSQL at 127.0.0.1:5432 is not reachable")
