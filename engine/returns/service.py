"""The returns and oversight use cases, given the engine's session factory and calendars.

`Returns.for_engine(engine)` is how the CLI and the web app reach them; each call reads the
store afresh (nothing cached) and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from engine import clock
from engine.calendar import WorkingCalendar
from engine.collector import collector_paused
from engine.errors import NotFound
from engine.returns import annex_a, census, oversight
from engine.returns.records import read_cases, read_open_tasks, read_versions
from engine.store.db import read_transaction
from engine.store.models import Case, ProcessVersion, Team


@dataclass(frozen=True)
class VersionInfo:
    id: int
    process_id: str
    name: str
    version: int
    cases: int


@dataclass
class Heatmap:
    version: VersionInfo
    xml: str
    steps: list[oversight.StepHeat]


class Returns:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        calendar: Callable[[str], WorkingCalendar],
    ) -> None:
        self.sessions = sessions
        self.calendar = calendar

    @classmethod
    def for_engine(cls, engine: Any) -> Returns:
        return cls(engine.sessions, engine.calendar)

    def census(self, council: str, year: str, la_code: str | None = None) -> census.Census:
        """The DfE CIN census of a council for a collection year such as 2025-26."""
        parsed = census.CensusYear.parse(year)
        code = census.la_code_for(council, la_code)
        with collector_paused:  # the build as well as the read: see engine.collector
            return census.build(
                read_cases(self.sessions, council),
                parsed,
                code,
                self.calendar(council),
                clock.now(),
            )

    def team_names(self, council: str) -> dict[str, str]:
        with read_transaction(self.sessions) as s:
            return dict(
                s.execute(select(Team.key, Team.name).where(Team.council_key == council)).all()
            )

    def annex_a(self, council: str) -> list[annex_a.AnnexRow]:
        """Ofsted's list 6 for a council as it stands now."""
        with collector_paused:
            return annex_a.rows(
                read_cases(self.sessions, council), clock.now(), self.team_names(council)
            )

    def oversight(
        self, council: str, start: date, end: date, teams: Iterable[str] | None = None
    ) -> oversight.Oversight:
        """The figures for a period, for a council or only some of its teams."""
        with collector_paused:
            records = read_cases(self.sessions, council, teams=teams)
            versions = read_versions(self.sessions, {r.process_version_id for r in records})
            tasks = read_open_tasks(self.sessions, council, teams)
            return oversight.build(records, versions, tasks, start, end, clock.now())

    def versions(self, council: str) -> list[VersionInfo]:
        """A council's process versions that have real cases, for choosing a heatmap."""
        with read_transaction(self.sessions) as s:
            rows = s.execute(
                select(
                    ProcessVersion.id,
                    ProcessVersion.process_id,
                    ProcessVersion.name,
                    ProcessVersion.version,
                    func.count(Case.id),
                )
                .join(Case, Case.process_version_id == ProcessVersion.id)
                .where(ProcessVersion.council_key == council, Case.training.is_(False))
                .group_by(ProcessVersion.id)
                .order_by(ProcessVersion.process_id, ProcessVersion.version)
            ).all()
        return [VersionInfo(*row) for row in rows]

    def heatmap(self, council: str, version_id: int, teams: Iterable[str] | None = None) -> Heatmap:
        info = next((v for v in self.versions(council) if v.id == version_id), None)
        if info is None:
            raise NotFound(f"no process version {version_id} with cases in {council}")
        steps = read_versions(self.sessions, [version_id])[version_id]
        with collector_paused:
            records = [
                r
                for r in read_cases(self.sessions, council, teams=teams)
                if r.process_version_id == version_id
            ]
            tasks = read_open_tasks(self.sessions, council, teams)
            return Heatmap(info, steps.xml, oversight.heatmap(steps, records, tasks))
