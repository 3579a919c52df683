"""Two changes to one case at once (PostgreSQL row locks): the second sees the first's rows."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from engine.services import Engine, NewChild
from engine.store.models import TaskRow
from engine.store.projection import Writes

MESSAGES = Path(__file__).parent / "data" / "messages.bpmn"


def test_a_completion_waiting_on_the_case_lock_sees_the_rows_the_holder_wrote(
    db_url: str, fixed_clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A message opens "Early review" while a worker completes "Visit" of the same case.

    The completion's statement starts while the message's transaction holds the case row, so
    PostgreSQL hands it the case row as committed after the wait; the task rows it then uses
    must be as fresh (not from before the wait), or it would insert "Early review" again.
    """
    if not db_url.startswith("postgresql"):
        pytest.skip("row locks and waits: PostgreSQL (SQLite runs one writer at a time)")
    engine = Engine(db_url)
    engine.init_db()
    try:
        engine.deploy([MESSAGES], "pm1")
        case = engine.start_case("messages", NewChild("Cy Example"), {}, "sw1")
        (visit,) = case.tasks
        wrote, release = threading.Event(), threading.Event()
        real_flush = Writes.flush

        def held_flush(self: Writes, s: Any) -> None:
            real_flush(self, s)
            if threading.current_thread().name == "message":
                wrote.set()
                release.wait(10)  # keep the case row locked until the completion waits on it

        monkeypatch.setattr(Writes, "flush", held_flush)
        errors: list[BaseException] = []

        def send() -> None:
            try:
                engine.send_message(case.id, "significant_change", {"what": "moved"}, "sw1")
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        message = threading.Thread(target=send, name="message")
        message.start()
        assert wrote.wait(10)
        result: list[Any] = []
        completion = threading.Thread(
            target=lambda: result.append(engine.complete_task(visit.id, {}, "sw1")),
            name="completion",
        )
        completion.start()
        waiting_on_lock(engine)
        release.set()
        message.join(10)
        completion.join(10)
        assert not errors and result, errors
        assert [t.element_id for t in result[0].case.tasks] == ["early"]
        with engine.sessions() as s:
            rows = s.scalars(select(TaskRow.element_id).where(TaskRow.case_id == case.id)).all()
        assert rows == ["early"]
    finally:
        release.set()
        engine.dispose()


def waiting_on_lock(engine: Engine, timeout: float = 10.0) -> None:
    """Until some backend of this database waits for a row lock."""
    deadline = time.monotonic() + timeout
    # autocommit: each poll a fresh pg_stat_activity (a transaction keeps its first snapshot)
    with engine.db.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        while time.monotonic() < deadline:
            waiting = conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
            if waiting:
                return
            time.sleep(0.02)
    raise AssertionError("the completion never waited for the case lock")
