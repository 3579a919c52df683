"""Web tests: the real Engine on a temporary SQLite database holding the factories' world.

The world (teams, people, cases, tasks) is built once per session into a template database;
each test gets its own copy, so tests can claim and reassign freely. The clock is fixed at
Monday 23 November 2026, 09:00 UTC (tests/conftest.py's `fixed_clock`).

`client_request` signs in and returns parsed pages, checking the status on the way:

    def test_something(client_request, world):
        client_request.sign_in("sw.north")
        page = client_request.get("/worklist")               # asserts 200
        page.rows()                                          # the worklist's rows as dicts
        client_request.post(f"/worklist/tasks/{id}/claim")  # adds the CSRF token; asserts 302
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest
from factories import NOW, World, build_world
from web_client import ClientRequest

from engine import clock, passwords
from engine.clock import FixedClock
from engine.services import Engine
from webui import create_app

# The template world is hashed as cheaply as tests/conftest.py's fast_password_hashing does.
FAST_ARGON2 = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}


@pytest.fixture(scope="session")
def world_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, World]:
    path = tmp_path_factory.mktemp("world") / "template.db"
    with clock.using(FixedClock(NOW)), mock.patch.dict(passwords.ARGON2, FAST_ARGON2):
        eng = Engine(f"sqlite:///{path}")
        eng.init_db()
        world = build_world(eng)
        eng.dispose()
    return path, world


@pytest.fixture
def world(world_db: tuple[Path, World]) -> World:
    return world_db[1]


@pytest.fixture
def engine(world_db: tuple[Path, World], tmp_path: Path, fixed_clock) -> Iterator[Engine]:  # noqa: ANN001
    """A real engine on this test's own copy of the world, clock fixed at NOW."""
    template, _ = world_db
    db = tmp_path / "cinflow.db"
    shutil.copy(template, db)
    eng = Engine(f"sqlite:///{db}")
    yield eng
    eng.dispose()


@pytest.fixture
def app(engine: Engine):  # noqa: ANN201
    return create_app({"TESTING": True, "SECRET_KEY": "test"}, engine=engine)


@pytest.fixture
def client(app):  # noqa: ANN001, ANN201
    return app.test_client()


@pytest.fixture
def client_request(app) -> ClientRequest:  # noqa: ANN001
    return ClientRequest(app)


@pytest.fixture
def new_client_request(app):  # noqa: ANN001, ANN201
    """Make more signed-in clients on the same app (two people racing for a task)."""
    return lambda: ClientRequest(app)
