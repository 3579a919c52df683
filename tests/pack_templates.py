"""Template databases of deployed packs: built once per pack and database, copied per test.

Deploying a pack (parsing and checking every diagram of a council) costs more than most journeys
that run on it, so each pack is deployed once per test session (per pytest-xdist worker) into
a template, and each test gets a copy:

    templates = PackTemplates(tmp_dir, pg_server)
    url = templates.sqlite_copy(key, tmp_path / "a.db")     # a copy of the SQLite file
    with templates.postgres_copy(key) as url:               # a fresh schema, dropped after
        ...
    templates.close()                                       # drops the template schemas

A key is what `engine.scenario.deployment` returns: the folders deployed and the council.
PostgreSQL copies are schemas: the models' tables are created in a new schema (as `init_db`
does for an empty database) and every table's rows are copied from the template schema with
INSERT ... SELECT in foreign-key order, each id sequence set past the highest id copied.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine as SqlEngine
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from engine import clock
from engine.clock import FixedClock
from engine.runtime import Runtime
from engine.services import Engine
from engine.store.models import Base

Key = tuple[tuple[Path, ...], str | None]
# Packs are deployed before the earliest journey starts (2026-11-02).
DEPLOYED_AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _name(key: Key) -> str:
    paths, council = key
    last = paths[-1].name
    return last if council in (None, last) else f"{last}_{council}"


def _schema_url(server: str, schema: str) -> str:
    return f"{server}?options=-csearch_path%3D{schema}"


class PackTemplates:
    """One SQLite template file and one PostgreSQL template schema per pack, built lazily."""

    def __init__(self, folder: Path, pg_server: str) -> None:
        self.folder = folder
        self.server = pg_server
        self.worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        self._files: dict[Key, Path] = {}
        self._schemas: dict[Key, str] = {}
        self._copy_sql: str | None = None
        self._admin: SqlEngine | None = None

    @property
    def admin(self) -> SqlEngine:
        if self._admin is None:
            self._admin = create_engine(self.server, isolation_level="AUTOCOMMIT")
        return self._admin

    @staticmethod
    def _deploy(url: str, key: Key, prune: bool, before: Callable[[], None]) -> None:
        before()
        engine = Engine(url, runtime=Runtime(prune=prune))
        try:
            engine.init_db()
            with clock.using(FixedClock(DEPLOYED_AT)):
                paths, council = key
                engine.deploy(list(paths), "scenario", f"{_name(key)} template", council=council)
        finally:
            engine.dispose()

    def sqlite_copy(self, key: Key, target: Path) -> str:
        """A copy of the pack's SQLite template at `target`; returns its URL."""
        template = self._files.get(key)
        if template is None:
            template = self.folder / f"{_name(key)}.db"
            self._deploy(f"sqlite:///{template}", key, False, lambda: None)
            self._files[key] = template
        shutil.copyfile(template, target)
        return f"sqlite:///{target}"

    def _template_schema(self, key: Key) -> str:
        schema = self._schemas.get(key)
        if schema is None:
            schema = f"tmpl_{_name(key)}_{self.worker}_{uuid.uuid4().hex[:6]}"

            def create() -> None:
                with self.admin.connect() as conn:
                    conn.execute(text(f'CREATE SCHEMA "{schema}"'))

            self._schemas[key] = schema
            self._deploy(_schema_url(self.server, schema), key, True, create)
        return schema

    def _copy_statements(self, template: str) -> str:
        """INSERT ... SELECT per table (parents first), then each id sequence past its max."""
        statements = [
            # As Alembic creates it (the constraint's name too).
            "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
            "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))",
            f'INSERT INTO alembic_version SELECT * FROM "{template}".alembic_version',
        ]
        for table in Base.metadata.sorted_tables:
            name = table.name
            statements.append(f'INSERT INTO "{name}" SELECT * FROM "{template}"."{name}"')
        for table in Base.metadata.sorted_tables:
            column = table.autoincrement_column
            if column is not None:
                statements.append(
                    f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', '{column.name}'), "
                    f'coalesce(max("{column.name}"), 0) + 1, false) FROM "{table.name}"'
                )
        return ";\n".join(statements)

    @contextmanager
    def postgres_copy(self, key: Key) -> Iterator[str]:
        """A fresh schema holding a copy of the pack's template schema; dropped afterwards."""
        template = self._template_schema(key)
        schema = f"t_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = _schema_url(self.server, schema)
        try:
            copier = create_engine(url, poolclass=NullPool)
            try:
                with copier.begin() as conn:
                    Base.metadata.create_all(conn, checkfirst=False)
                    conn.exec_driver_sql(self._copy_statements(template))
            finally:
                copier.dispose()
            yield url
        finally:
            with self.admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))

    def close(self) -> None:
        """Drop the template schemas (the SQLite files go with the session's tmp folder)."""
        if self._admin is None:
            return
        with self._admin.connect() as conn:
            for schema in self._schemas.values():
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        self._admin.dispose()
