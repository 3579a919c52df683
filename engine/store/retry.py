"""Transient database faults: which errors they are, and trying again with backoff.

A dropped connection (a server restart, `pg_terminate_backend`, a network blip), a serialization
failure or deadlock, or SQLite's "database is locked" say nothing about the case being changed:
the same work, tried again a moment later, succeeds. Such errors are retried here and never
flag a case (only an error in the diagram or its data may). What is retried is only what is safe
to run twice: a read, or a transaction whose body failed before it committed (the server rolled
it back). A failure while committing is never retried: its outcome is unknown.
"""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.exc import DBAPIError

from engine.errors import DatabaseUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

AT_COMMIT = "cinflow_at_commit"  # attribute set on an error raised while committing


def is_transient(exc: BaseException, *, rerunnable: bool = False) -> bool:
    """A connection or operational fault worth trying again (not a fault of the data), raised
    as is or as the cause of another error (a library wrapping it).

    A fault while committing leaves unknown whether the change took effect, so it is not
    transient unless the work is `rerunnable`: it looks again at what is still to do (the timer
    sweep re-reads the due timers, and each case's revision is checked).
    """
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 10:
        if getattr(current, AT_COMMIT, False) and not rerunnable:
            return False
        if isinstance(current, DBAPIError):
            return _transient_dbapi(current)
        current = current.__cause__ or current.__context__
        seen += 1
    return False


def _transient_dbapi(exc: DBAPIError) -> bool:
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    module = type(orig).__module__ if orig is not None else ""
    if module.startswith("psycopg"):
        import psycopg

        return isinstance(orig, psycopg.OperationalError | psycopg.InterfaceError)
    if module.startswith("sqlite3"):
        message = str(orig).lower()
        return "locked" in message or "busy" in message
    return False


def backoff(attempt: int, base: float = 0.05, cap: float = 2.0) -> float:
    """Seconds to wait before try `attempt` (1, 2, ...): doubling, capped, with jitter."""
    return min(cap, base * 2 ** (attempt - 1)) * (0.5 + random.random())


def retrying(
    call: Callable[[], T],
    *,
    attempts: int = 3,
    what: str = "the database",
    rerunnable: bool = False,
) -> T:
    """`call()`, tried again after a transient fault (backoff between tries).

    After the last try the fault becomes DatabaseUnavailable: a clear refusal, nothing changed.
    """
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except DBAPIError as exc:
            if not is_transient(exc, rerunnable=rerunnable):
                raise
            if attempt == attempts:
                raise DatabaseUnavailable(
                    f"{what} could not be reached ({type(exc.orig).__name__}); nothing was "
                    "changed. Try again in a moment."
                ) from exc
            log.warning("transient database fault (try %d of %d): %s", attempt, attempts, exc)
            time.sleep(backoff(attempt))
    raise AssertionError("unreachable")


def retry_transient(attempts: int = 2) -> Callable[[F], F]:
    """Decorate a use case that is safe to run again after a transient fault: a read, or one
    transaction (`unit_of_work`) that failed before committing. Default: one retry."""

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return retrying(
                lambda: function(*args, **kwargs), attempts=attempts, what="the database"
            )

        return wrapper  # type: ignore[return-value]

    return decorate
