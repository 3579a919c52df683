"""The procedure library: each council's deployed pathways and routes, newest version of each,
with their steps (engine.procedures). Read-only."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from engine.errors import UnknownProcess
from engine.procedures import ProcedureStep, procedure_steps
from engine.services.context import Context
from engine.store.models import ProcessVersion


@dataclass(frozen=True)
class Procedure:
    council: str
    process_id: str
    name: str
    version: int
    steps: list[ProcedureStep]


class Library:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def councils(self) -> list[str]:
        with self.ctx.reads() as s:
            return sorted(set(s.scalars(select(ProcessVersion.council_key))))

    def procedures(self, council: str) -> list[tuple[str, str, int]]:
        """(process id, name, newest version) of each deployed process of a council, by name."""
        with self.ctx.reads() as s:
            rows = s.execute(
                select(
                    ProcessVersion.process_id,
                    func.max(ProcessVersion.version),
                )
                .where(ProcessVersion.council_key == council)
                .group_by(ProcessVersion.process_id)
            ).all()
            names = {
                (v.process_id, v.version): v.name
                for v in s.scalars(
                    select(ProcessVersion).where(ProcessVersion.council_key == council)
                )
            }
        # shared building blocks (common_*) are shown inside the routes that call them
        out = [
            (pid, names[(pid, version)], version)
            for pid, version in rows
            if not pid.startswith("common_")
        ]
        return sorted(out, key=lambda p: p[1])

    def procedure(self, council: str, process_id: str) -> Procedure:
        with self.ctx.reads() as s:
            version = s.scalars(
                select(ProcessVersion)
                .where(
                    ProcessVersion.council_key == council, ProcessVersion.process_id == process_id
                )
                .order_by(ProcessVersion.version.desc())
                .limit(1)
            ).first()
            if version is None:
                raise UnknownProcess(f'no deployed process "{process_id}" for {council}')
            steps = procedure_steps(version.xml, self.ctx.profile(council))
            return Procedure(council, process_id, version.name, version.version, steps)

    def xml(self, council: str, process_id: str) -> str:
        with self.ctx.reads() as s:
            xml = s.scalar(
                select(ProcessVersion.xml)
                .where(
                    ProcessVersion.council_key == council, ProcessVersion.process_id == process_id
                )
                .order_by(ProcessVersion.version.desc())
                .limit(1)
            )
        if xml is None:
            raise UnknownProcess(f'no deployed process "{process_id}" for {council}')
        return xml
