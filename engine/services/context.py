"""What every service shares, built once per engine: the database, the runtime with its spec
cache, the case store, and each council's profile, calendar and diagram functions."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from time import monotonic
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import forms
from engine.calendar import WorkingCalendar
from engine.functions import diagram_functions
from engine.runtime import Runtime, default_runtime
from engine.store.cases import CaseStore
from engine.store.db import make_engine, read_session_factory, session_factory
from engine.store.models import ClosureDay, Council
from engine.timescales import PROCESSES_DIR, CouncilProfile, profile_for

ANY_COUNCIL = "any"
CALENDAR_RECHECK_S = 30.0  # how stale a council's closure days may be in a long-lived process


class Context:
    """Shared by the services of one engine; safe to share across threads."""

    def __init__(
        self,
        url: str | None = None,
        *,
        forms_dir: Path = forms.FORMS_DIR,
        processes_dir: Path = PROCESSES_DIR,
        runtime: Runtime | None = None,
    ) -> None:
        self.db = make_engine(url)
        self.sessions = session_factory(self.db)
        self.reads = read_session_factory(self.db)  # read-only use cases: no transaction
        self.forms_dir = forms_dir
        self.processes_dir = processes_dir
        self.runtime = runtime or default_runtime()
        # council -> (closure days, calendar, when read): see `calendar()`
        self._calendars: dict[str, tuple[tuple[date, ...], WorkingCalendar, float]] = {}
        self._function_sets: dict[str, dict[str, Any]] = {}
        self.store = CaseStore(self.sessions, self.runtime, self.profile, self.functions)

    def profile(self, council: str) -> CouncilProfile:
        return profile_for(council, self.processes_dir)

    def calendar(self, council: str, session: Session | None = None) -> WorkingCalendar:
        """A council's working-day calendar. Closure days are read again every
        `CALENDAR_RECHECK_S` seconds, so a day added through another process (web app,
        worker) is used here within that time."""
        cached = self._calendars.get(council)
        if cached is not None and monotonic() - cached[2] < CALENDAR_RECHECK_S:
            return cached[1]
        with self.reads() as own:
            days = tuple(
                sorted(
                    (session or own).scalars(
                        select(ClosureDay.day).where(ClosureDay.council_key == council)
                    )
                )
            )
        if cached is not None and cached[0] == days:
            self._calendars[council] = (days, cached[1], monotonic())
            return cached[1]
        self._forget_functions(council)
        calendar = WorkingCalendar(list(days))
        self._calendars[council] = (days, calendar, monotonic())
        return calendar

    def calendar_changed(self, council: str) -> None:
        """Forget what was built on a council's calendar; it is read again when next needed."""
        self._calendars.pop(council, None)
        self._forget_functions(council)

    def _forget_functions(self, council: str) -> None:
        self._function_sets.pop(council, None)
        self._function_sets.pop(f"{council}\0as written", None)

    def functions(self, council: str, *, as_written: bool = False) -> dict[str, Any]:
        """The diagram functions of a council's cases (built once per calendar: pure closures).

        `as_written`: deadlines exactly as the rules count them, never rolled back from a day
        that is not a working day (to audit the ones the council's setting moved).
        """
        calendar = self.calendar(council)  # first: a changed calendar drops the old set
        key = f"{council}\0as written" if as_written else council
        functions = self._function_sets.get(key)
        if functions is None:
            profile = self.profile(council)
            functions = self._function_sets[key] = diagram_functions(
                calendar,
                profile.timescales,
                profile.settings,
                roll_back=profile.rolls_back and not as_written,
            )
        return functions

    def ensure_council(self, s: Session, council: str) -> None:
        if s.get(Council, council) is None:
            s.add(Council(key=council, name=self.profile(council).name or council))
            s.flush()
