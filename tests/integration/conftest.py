from __future__ import annotations

from collections.abc import Iterator

import pytest

from engine.services import Engine


@pytest.fixture
def engine(db_url: str, fixed_clock) -> Iterator[Engine]:  # noqa: ANN001
    """A real engine on a fresh database (SQLite and PostgreSQL), clock fixed."""
    eng = Engine(db_url)
    eng.init_db()
    yield eng
    eng.dispose()
