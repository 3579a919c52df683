"""The only source of "now" in cinflow.

Every deadline depends on the time, and tests, training cases and the scenario runner all need
to move it. So code asks `clock.now()` and never calls `datetime.now()` itself; SpiffWorkflow's
timer module is pointed at the same clock in `engine.runtime`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """Real UTC time."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that only moves when told to: tests, scenarios, demo seeding."""

    def __init__(self, at: datetime) -> None:
        self._at = _aware(at)

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = _aware(at)

    def advance(self, delta: timedelta) -> None:
        self._at += delta


class OffsetClock:
    """Another clock shifted by an offset: a training case's time runs ahead of real time."""

    def __init__(self, base: Clock, offset: timedelta) -> None:
        self.base = base
        self.offset = offset

    def now(self) -> datetime:
        return self.base.now() + self.offset


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError(f"clock times must carry a time zone, got {at.isoformat()}")
    return at.astimezone(UTC)


_default: Clock = SystemClock()
_current: ContextVar[Clock | None] = ContextVar("cinflow_clock", default=None)


def now() -> datetime:
    """The current instant (UTC, offset-aware) by the clock in force."""
    return (_current.get() or _default).now()


def current() -> Clock:
    return _current.get() or _default


def set_default(clock: Clock) -> None:
    """Replace the process-wide clock (the CLI's `--at`, test fixtures)."""
    global _default
    _default = clock


@contextmanager
def using(clock: Clock) -> Iterator[Clock]:
    """Run a block under another clock, e.g. a training case's offset clock."""
    token = _current.set(clock)
    try:
        yield clock
    finally:
        _current.reset(token)
