"""Pausing Python's cyclic garbage collector around work that must not be stopped by it.

A full (generation 2) collection walks every object the process holds. In a long-lived web or
worker process with half a million objects that took 0.4-1.1 s on a 2-core machine, and the
pause falls on whatever allocation happened to trigger it. Two kinds of work pause it:

* a diagram expression (`engine.expressions.evaluate`): its time budget is for the expression's
  own work, and a collection inside it refused a legitimate deadline as "took longer than 0.5
  seconds". An evaluation is bounded in time and size, so the pause is short;
* reading a council's cases and building a return from them (`engine.returns`): hundreds of
  thousands of small objects with no cycles, over which repeated passes made the census grow
  faster than the number of cases.

Pauses from several threads nest: the collector runs again when the last one ends, and only if
it was running when the first began. Refcounting still frees everything without cycles meanwhile;
what is cyclic is collected after.
"""

from __future__ import annotations

import gc
import threading
from types import TracebackType


class _Paused:
    """`with collector_paused:` — reentrant across threads, cheap enough for every evaluation."""

    __slots__ = ("_lock", "_depth", "_resume")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._depth = 0
        self._resume = False

    def __enter__(self) -> None:
        with self._lock:
            if self._depth == 0:
                self._resume = gc.isenabled()
                gc.disable()
            self._depth += 1

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        with self._lock:
            self._depth -= 1
            if self._depth == 0 and self._resume:
                gc.enable()


#: The one pause of this process: use `with collector_paused:`.
collector_paused = _Paused()
