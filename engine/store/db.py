"""Engine and session factory; every SQLite/PostgreSQL difference lives here."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from engine.store.models import Base
from engine.store.retry import AT_COMMIT

DEFAULT_URL = "sqlite:///var/cinflow.db"
log = logging.getLogger(__name__)


def database_url() -> str:
    """The configured database: `CINFLOW_DATABASE_URL`, else a SQLite file under var/."""
    return os.environ.get("CINFLOW_DATABASE_URL", DEFAULT_URL)


def make_engine(url: str | None = None, **kwargs: object) -> Engine:
    url = url or database_url()
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    # No pool_pre_ping: it costs a round trip per transaction. After a server restart the
    # first statement on a dead connection fails once; SQLAlchemy then drops the whole pool,
    # the web request answers 500 once and the worker's next sweep starts afresh.
    return create_engine(url, **kwargs)


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
MIGRATION_LOCK_ID = 0x63696E666C6F77  # "cinflow"; same number as migrations/env.py


@contextmanager
def migration_connection(engine: Engine) -> Iterator[tuple[Connection, Config]]:
    """One connection in one transaction, set up for Alembic (see migrations/env.py).

    SQLite: foreign keys are switched off (outside the transaction, the only place the pragma
    works) so batch migrations can copy and drop tables, and switched on again before the
    connection goes back to the pool. PostgreSQL: an advisory lock serialises concurrent upgrades.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        if sqlite:
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()
        try:
            with conn.begin():
                if engine.dialect.name == "postgresql":
                    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_ID})")
                config.attributes["connection"] = conn
                yield conn, config
        finally:
            if sqlite:
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                conn.commit()


def upgrade_schema(engine: Engine) -> None:
    """Bring the database to the newest migration, creating it when empty; safe to run twice.

    A database made by `Base.metadata.create_all` before Alembic (our tables, no alembic_version)
    is stamped at head if it matches the models exactly, and refused otherwise.
    """
    with migration_connection(engine) as (conn, config):
        unversioned = MigrationContext.configure(conn).get_current_revision() is None
        ours = set(inspect(conn).get_table_names()) & set(Base.metadata.tables)
        if unversioned and ours:
            context = MigrationContext.configure(
                conn,
                opts={
                    "compare_type": True,
                    "include_name": lambda name, kind, _parent: (
                        kind != "table" or name in Base.metadata.tables
                    ),
                },
            )
            diff = compare_metadata(context, Base.metadata)
            if diff:
                raise RuntimeError(
                    "the database has cinflow tables but no alembic_version, and they differ "
                    f"from the models; bring it in line by hand, then `alembic stamp`: {diff}"
                )
            command.stamp(config, "head")
        else:
            command.upgrade(config, "head")


def create_schema(engine: Engine) -> None:
    """Create or upgrade the tables. An empty database gets the models' tables directly and is
    stamped at the newest migration (the same schema, tested, in a fraction of the time);
    an existing one is upgraded through the Alembic migrations."""
    with engine.connect() as conn:
        empty = not (set(inspect(conn).get_table_names()) & set(Base.metadata.tables))
    if not empty:
        upgrade_schema(engine)
        return
    with migration_connection(engine) as (conn, config):
        Base.metadata.create_all(conn)
        command.stamp(config, "head")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


_Guarded = TypeVar("_Guarded", Session, sessionmaker[Session])


class ReadOnlySession(RuntimeError):
    """A write through a session meant for reading: a bug in the engine, refused before it runs."""


def read_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions for use cases that only read: the worklist, the inbox, the case and task pages,
    casework's lists, people and the calendar. They refuse to write (ReadOnlySession), on both
    databases, before anything reaches the database.

    On PostgreSQL they run in autocommit: each statement reads its own snapshot, which is what
    READ COMMITTED gives inside a transaction too, without the BEGIN and ROLLBACK round trips.
    And psycopg forgets every statement it has prepared at a ROLLBACK, so while reads ended in
    one, every statement on that connection (the completion's too) was planned afresh on every
    request. Now a statement is prepared on its fifth run on a connection and planned no more.
    (Autocommit is also why a write must never pass: it would be saved at once, alone.)
    Reports read in a transaction instead (`read_transaction`): they stream rows through
    server-side cursors, which PostgreSQL opens only inside one.
    """
    bind = engine.execution_options(isolation_level="AUTOCOMMIT") if is_postgres(engine) else engine
    return _refusing_writes(sessionmaker(bind, expire_on_commit=False))


def _refusing_writes(target: _Guarded) -> _Guarded:
    """`target` (a factory or one session) refuses every write, ORM or Core."""
    event.listen(target, "before_flush", _refuse_flush)
    event.listen(target, "do_orm_execute", _refuse_writes)
    return target


def _refuse_flush(session: Session, *_: object) -> None:
    if session.new or session.deleted or any(session.is_modified(o) for o in session.dirty):
        raise ReadOnlySession("a read session was asked to save changes; use unit_of_work")


def _refuse_writes(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        raise ReadOnlySession("a read session was asked to write; use unit_of_work")


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One use case, one transaction: commit on success, roll back on any error.

    An error raised while committing is marked (`engine.store.retry.AT_COMMIT`): whether the
    transaction took effect is unknown, so it is never retried.
    """
    session = factory()
    try:
        transaction = session.begin()
        try:
            yield session
        except BaseException:
            transaction.rollback()
            raise
        if not transaction.is_active:  # the caller rolled back on purpose (a preview)
            return
        try:
            transaction.commit()
        except DBAPIError as exc:
            setattr(exc, AT_COMMIT, True)
            raise
    finally:
        session.close()


@contextmanager
def read_transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A read that needs a transaction: the reports, which stream a council's events through a
    server-side cursor (PostgreSQL opens one only inside a transaction), so they cannot use the
    autocommit read sessions. It ends in COMMIT, not in the ROLLBACK of a session closed
    unfinished: psycopg forgets every statement it has prepared on the connection at a ROLLBACK,
    and the completions and pages that next use the pooled connection would be planned afresh.
    Writes are refused as in read sessions, so the COMMIT can never save anything.
    """
    session = _refusing_writes(factory())
    try:
        with session.begin():  # COMMIT at the end; ROLLBACK on an error
            yield session
    finally:
        session.close()


# The tables a timer sweep rewrites, and the worklist reads.
SWEPT_TABLES = ('"case"', "task", "timer")


def refresh_planner_statistics(engine: Engine, tables: tuple[str, ...] = SWEPT_TABLES) -> bool:
    """Re-sample the planner's statistics of `tables` now (PostgreSQL; SQLite has no need).

    A big sweep (a midnight boundary, a closure day recomputed) adds and rewrites about a tenth
    of the task and case rows in a minute. Until autovacuum's next ANALYZE the planner keeps
    its old row counts and picks worse worklist plans: at national scale the unclaimed tab went
    from 4.2 ms to 7.4 ms after the sweep, and back to 4.4 ms after an ANALYZE (1 s). ANALYZE
    samples a fixed number of rows, so its cost does not grow with the tables. SKIP_LOCKED:
    when another worker is analysing a table, its statistics are being refreshed already.
    Returns whether it ran: a failure (a dropped connection) is logged and ends nothing, since
    the timers it follows are committed and autovacuum will sample the tables in time anyway.
    """
    if not is_postgres(engine):
        return False
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f"ANALYZE (SKIP_LOCKED) {', '.join(tables)}")
            conn.commit()
    except DBAPIError as error:
        log.warning("planner statistics not refreshed: %s", type(error.orig).__name__)
        return False
    return True
