"""Alembic migrations on SQLite and PostgreSQL: empty to the models, down and up, run twice."""

from __future__ import annotations

import ast
import multiprocessing
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, delete, event, func, inspect, select, text
from sqlalchemy.orm import Session

from engine.store.db import (
    MIGRATIONS_DIR,
    create_schema,
    make_engine,
    migration_connection,
    upgrade_schema,
)
from engine.store.models import Base, Case, Child, Council, Draft, ProcessVersion, TaskRow

# -- tests --------------------------------------------------------------------------------------

HEAD = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
WRITES = ("create", "alter", "drop", "insert", "update", "delete")


@pytest.fixture
def db(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def differences(engine: Engine) -> list:
    """What autogenerate would still change, looking only at the connection's own schema."""
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_schemas": False}
        )
        return compare_metadata(context, Base.metadata)


def revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def tables(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(inspect(conn).get_table_names())


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn, _cursor, statement, _params, _context, _many) -> None:  # noqa: ANN001
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def add_case_with_task(engine: Engine) -> int:
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    with Session(engine) as session, session.begin():
        session.add(Council(key="c1", name="Council One"))
        session.flush()
        child = Child(council_key="c1", name="A Child", created_at=now)
        version = ProcessVersion(
            council_key="c1", process_id="p", name="P", version=1, sha256="0" * 64,
            file_name="p.bpmn", xml="<x/>", spec_json="{}", serializer_version="1",
            deployed_by="pm1", deployed_at=now,
        )  # fmt: skip
        case = Case(
            child=child, process_version=version, council_key="c1", state_json="{}",
            serializer_version="1", started_by="sw1", opened_at=now,
        )  # fmt: skip
        session.add(case)
        session.flush()
        session.add(
            TaskRow(
                id="t1", case_id=case.id, council_key="c1", element_id="e", name="Task",
                created_at=now,
            )
        )  # fmt: skip
        return case.id


def test_upgrade_from_empty_matches_the_models(db: Engine) -> None:
    upgrade_schema(db)

    assert revision(db) == HEAD
    assert differences(db) == []
    assert tables(db) == set(Base.metadata.tables) | {"alembic_version"}
    if db.dialect.name == "postgresql":  # everything went into the test's own schema
        with db.connect() as conn:
            schema = conn.execute(text("SELECT current_schema()")).scalar_one()
            there = conn.execute(
                text("SELECT table_name FROM information_schema.tables "
                     "WHERE table_schema = current_schema()")
            ).scalars().all()  # fmt: skip
        assert schema.startswith("t_")
        assert set(there) == set(Base.metadata.tables) | {"alembic_version"}


def test_reserved_table_name_and_cascade_work_after_migrating(db: Engine) -> None:
    upgrade_schema(db)
    case_id = add_case_with_task(db)

    with Session(db) as session, session.begin():
        session.execute(delete(Case).where(Case.id == case_id))
    with Session(db) as session:
        assert session.scalar(select(func.count()).select_from(TaskRow)) == 0


def test_a_draft_goes_with_its_task_and_the_state_is_lz4_on_postgres(db: Engine) -> None:
    """Migration 0003, and the same from `create_all` (an empty database is made that way)."""
    for make in ("migrations", "create_all"):
        if make == "migrations":
            upgrade_schema(db)
        else:
            with migration_connection(db) as (_conn, config):
                command.downgrade(config, "base")
            create_schema(db)
        case_id = add_case_with_task(db)
        with Session(db) as session, session.begin():
            task_id = session.scalars(select(TaskRow.id).where(TaskRow.case_id == case_id)).one()
            saved = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
            session.add(Draft(task_id=task_id, username="sw1", data={}, saved_at=saved))
        with Session(db) as session, session.begin():
            session.execute(delete(TaskRow).where(TaskRow.id == task_id))
        with Session(db) as session:
            assert session.scalar(select(func.count()).select_from(Draft)) == 0, make
        if db.dialect.name == "postgresql":
            with db.connect() as conn:
                compression = conn.scalar(
                    text(
                        "SELECT attcompression FROM pg_attribute "
                        "WHERE attrelid = 'case'::regclass AND attname = 'state_json'"
                    )
                )
            assert compression == "l", make


def test_downgrade_to_base_then_upgrade_to_head(db: Engine) -> None:
    upgrade_schema(db)
    with migration_connection(db) as (_conn, config):
        command.downgrade(config, "base")

    assert tables(db) <= {"alembic_version"}
    assert revision(db) is None

    upgrade_schema(db)
    assert revision(db) == HEAD
    assert differences(db) == []


def test_upgrading_twice_changes_nothing(db: Engine) -> None:
    upgrade_schema(db)
    case_id = add_case_with_task(db)

    with statements(db) as seen:
        upgrade_schema(db)

    assert [s for s in seen if s.lstrip().lower().startswith(WRITES)] == []
    assert revision(db) == HEAD
    with Session(db) as session:
        assert session.get(Case, case_id) is not None
        assert session.scalar(select(func.count()).select_from(TaskRow)) == 1


def test_database_made_by_create_all_is_stamped_not_migrated(db: Engine) -> None:
    Base.metadata.create_all(db)
    case_id = add_case_with_task(db)

    upgrade_schema(db)

    assert revision(db) == HEAD
    assert differences(db) == []
    with Session(db) as session:
        assert session.get(Case, case_id) is not None
    upgrade_schema(db)
    assert revision(db) == HEAD


def test_unversioned_database_that_differs_from_the_models_is_refused(db: Engine) -> None:
    Base.metadata.tables["council"].create(db)

    with pytest.raises(RuntimeError, match="no alembic_version"):
        upgrade_schema(db)

    assert tables(db) == {"council"}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_sqlite_foreign_keys_are_on_again_afterwards(db: Engine) -> None:
    upgrade_schema(db)

    with db.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def _upgrade_in_another_process(url: str, start: Any) -> None:
    engine = make_engine(url)
    start.wait()
    upgrade_schema(engine)
    engine.dispose()


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_concurrent_upgrades_of_an_empty_postgres_database(db: Engine) -> None:
    """The web app and the worker starting together: one migrates, the others wait and see it."""
    url = db.url.render_as_string(hide_password=False)
    fork = multiprocessing.get_context("fork")  # the children open their own connections
    start = fork.Barrier(4)
    processes = [
        fork.Process(target=_upgrade_in_another_process, args=(url, start)) for _ in range(4)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
        if process.is_alive():
            process.kill()

    assert [process.exitcode for process in processes] == [0, 0, 0, 0]
    assert revision(db) == HEAD
    assert differences(db) == []


def test_migrations_do_not_import_engine_code() -> None:
    for script in (MIGRATIONS_DIR / "versions").glob("*.py"):
        modules = set()
        for node in ast.walk(ast.parse(script.read_text())):
            if isinstance(node, ast.Import):
                modules |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                modules.add(node.module or "")
        assert modules <= {"collections.abc", "sqlalchemy", "alembic"}, script.name


def test_0005_keeps_the_newest_version_live_and_retires_the_older(db: Engine) -> None:
    """Before the lifecycle, new cases started on the newest version: that one becomes live."""
    with migration_connection(db) as (_conn, config):
        command.upgrade(config, "0004_closure_day_created_at")
    with db.begin() as conn:
        conn.execute(text("INSERT INTO council (key, name) VALUES ('c1', 'Council One')"))
        for pid, version in (("p", 1), ("p", 2), ("q", 1)):
            conn.execute(
                text(
                    "INSERT INTO process_version (council_key, process_id, name, version, sha256,"
                    " file_name, xml, dependency_xml, spec_json, serializer_version, deployed_by,"
                    " deployed_at, comment) VALUES ('c1', :pid, 'P', :v, :sha, 'p.bpmn', '<x/>',"
                    " '{}', '{}', '1', 'pm1', :at, '')"
                ),
                {
                    "pid": pid,
                    "v": version,
                    "sha": str(version) * 64,
                    "at": datetime(2026, 11, 23, tzinfo=UTC),
                },
            )
    upgrade_schema(db)
    with db.connect() as conn:
        rows = conn.execute(
            text("SELECT process_id, version, status, live_by FROM process_version ORDER BY 1, 2")
        ).all()
    assert [tuple(r) for r in rows] == [
        ("p", 1, "retired", "pm1"),
        ("p", 2, "live", "pm1"),
        ("q", 1, "live", "pm1"),
    ]
    assert differences(db) == []
