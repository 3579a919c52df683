"""The timer sweep: fire every due timer on a schedule (APScheduler), in a worker or in-process.

`cinflow serve` starts exactly one sweeper process (`cinflow worker`) beside its gunicorn web
workers, which never sweep. SQLite: keep to that one. Several workers sharing one PostgreSQL
are safe against double firing because each case is locked and its revision checked while its
timers fire.
"""

from __future__ import annotations

import logging

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from engine.services import Engine

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 15.0


def sweep(engine: Engine) -> int:
    """One pass: fire everything due by the engine clock; never let one failure stop the loop."""
    try:
        fired = engine.fire_due_timers()
        engine.send_pending_mail()
    except Exception:  # noqa: BLE001 - a sweep must survive to try again next time
        log.exception("timer sweep failed")
        return 0
    if fired:
        log.info("fired %d timer(s)", fired)
    return fired


def _schedule(scheduler: BaseScheduler, engine: Engine, interval: float) -> BaseScheduler:
    """The sweep job: one at a time, missed runs coalesced."""
    scheduler.add_job(
        sweep,
        "interval",
        seconds=interval,
        args=[engine],
        max_instances=1,
        coalesce=True,
        id="timer-sweep",
    )
    return scheduler


def run_blocking(engine: Engine, interval: float = DEFAULT_INTERVAL) -> None:
    """Sweep in the foreground until interrupted (`cinflow worker`)."""
    scheduler = _schedule(BlockingScheduler(), engine, interval)
    sweep(engine)
    scheduler.start()
