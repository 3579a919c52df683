"""Alembic environment for cinflow.

The database is the connection a caller passes in `config.attributes["connection"]`
(`engine.store.db.upgrade_schema`, tests), else `CINFLOW_DATABASE_URL` (default
`sqlite:///var/cinflow.db`), exactly as the application resolves it.

SQLite: migrations are rendered in batch mode (copy the table, drop the old one, rename), and
must run with `PRAGMA foreign_keys=OFF`: with foreign keys on, dropping the old `case` table
would cascade-delete every `task` and `timer` row. The pragma cannot change inside a
transaction, so a caller passing a connection must switch it off first (upgrade_schema does);
here we refuse to run otherwise, and check the foreign keys once the migrations are done.
"""

from __future__ import annotations

from logging.config import fileConfig
from typing import Any

from alembic import context
from sqlalchemy import Connection, make_url, pool

from engine.store.db import database_url, make_engine
from engine.store.models import Base, UTCDateTime

# Serialises concurrent upgrades (web app and worker starting together) on PostgreSQL.
# Keep in step with engine.store.db.MIGRATION_LOCK_ID.
MIGRATION_LOCK_ID = 0x63696E666C6F77  # "cinflow"

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Migration scripts never import engine code: a UTCDateTime is stored as DateTime(tz)."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _options(dialect_name: str) -> dict[str, Any]:
    return {
        "target_metadata": target_metadata,
        "compare_type": True,
        "render_as_batch": dialect_name == "sqlite",
        "render_item": render_item,
    }


def _foreign_keys_on(connection: Connection) -> bool:
    return bool(connection.exec_driver_sql("PRAGMA foreign_keys").scalar())


def _migrate(connection: Connection) -> None:
    dialect = connection.dialect.name
    if dialect == "sqlite" and _foreign_keys_on(connection):
        raise RuntimeError(
            "SQLite migrations need PRAGMA foreign_keys=OFF (set outside a transaction); "
            "use engine.store.db.upgrade_schema"
        )
    context.configure(connection=connection, **_options(dialect))
    with context.begin_transaction():
        if dialect == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_ID})")
        context.run_migrations()
        if dialect == "sqlite":
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"foreign keys broken by the migration: {broken[:10]}")


def run_migrations_offline() -> None:
    """`alembic upgrade --sql`: print the SQL instead of running it."""
    url = database_url()
    context.configure(
        url=url,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        **_options(make_url(url).get_backend_name()),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    engine = make_engine(database_url(), poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            sqlite = connection.dialect.name == "sqlite"
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
                connection.commit()
            _migrate(connection)
            connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
