"""Several workers on one PostgreSQL: every due timer fires exactly once, even if one is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.clock import FixedClock
from engine.services import Engine, NewChild
from engine.store.models import AuditEvent, TimerRow

DATA = Path(__file__).parent / "data"
CASES = 2000


def worker(url: str, at: str) -> subprocess.Popen:
    command = [
        sys.executable,
        "-c",
        "from webui.cli import main; main()",
        "--database",
        url,
        "--at",
        at,
        "worker",
        "--interval",
        "0.2",
    ]
    env = {**os.environ, "CINFLOW_MAIL": "console"}
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_three_workers_one_killed_fire_every_timer_exactly_once(
    db_url: str, fixed_clock: FixedClock
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("several workers need PostgreSQL; SQLite runs one sweeper (documented)")
    engine = Engine(db_url)
    engine.init_db()
    engine.deploy([DATA / "wait_a_day.bpmn"], "pm1")
    for n in range(CASES):
        engine.start_case("wait_a_day", NewChild(f"Child {n}"), {}, "loader")
    at = (fixed_clock.now() + timedelta(days=2)).isoformat()
    workers = [worker(db_url, at) for _ in range(3)]
    try:
        time.sleep(1.5)
        workers[0].send_signal(signal.SIGKILL)  # mid-sweep: it never gets to clean up
        deadline = time.monotonic() + 240
        with engine.sessions() as s:
            while (
                s.scalar(select(func.count()).select_from(TimerRow)) and time.monotonic() < deadline
            ):
                time.sleep(0.5)
                s.rollback()
    finally:
        for proc in workers:
            if proc.poll() is None:
                proc.terminate()
        for proc in workers:
            proc.wait(timeout=30)
    with engine.sessions() as s:
        left = s.scalar(select(func.count()).select_from(TimerRow))
        fired = Counter(
            s.scalars(select(AuditEvent.task_id).where(AuditEvent.action == "timer_fired:timer"))
        )
    assert left == 0
    assert len(fired) == CASES
    assert set(fired.values()) == {1}, [t for t, n in fired.items() if n > 1][:5]
    assert len(engine.tasks()) == CASES
    engine.dispose()
