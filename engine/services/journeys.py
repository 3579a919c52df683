"""Testing a draft before approval: its journeys, run on a scratch copy, and sending it on.

A practice manager runs the council's journeys against one draft (the live pack with the draft
in its place, engine/draft_checks.py, on scratch databases: live cases and the council's
database are never touched), copies a journey, changes its answers and dates and saves it with
the draft (checked first, engine/journey_files.py), and sends the draft for approval. Approval
(engine/services/deployments.py) runs the same journeys, saved copies included.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import bpmn_diff, clock, lifecycle
from engine.errors import NotAllowed, NotFound
from engine.services.context import Context
from engine.services.deployments import saved_journeys
from engine.store.audit import record_audit
from engine.store.db import unit_of_work
from engine.store.models import DraftJourney, ProcessVersion

if TYPE_CHECKING:  # draft_checks runs journeys, which build engines: imported late below
    from engine.draft_checks import JourneyResult

TIME_LIMIT_S = 180.0  # a run of every journey answers within this (the rest: "not run")


@dataclass(frozen=True)
class JourneyFile:
    file: str
    name: str
    saved_by: str | None = None  # set when the draft has its own copy
    saved_at: datetime | None = None


@dataclass(frozen=True)
class JourneyRun:
    """The draft's journeys, run: validation problems (then nothing ran), or each result."""

    problems: tuple[str, ...]
    results: tuple[JourneyResult, ...]

    @property
    def ok(self) -> bool:
        return not self.problems and all(r.ok for r in self.results)

    @property
    def failed(self) -> int:
        return sum(1 for r in self.results if not r.ok)


class Journeys:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def journeys(self, council: str, process_id: str, version: int) -> list[JourneyFile]:
        """The council's journeys, each marked when the draft has its own copy."""
        from engine import draft_checks

        shipped = draft_checks.shipped_journeys(council, self.ctx.processes_dir)
        with self.ctx.reads() as s:
            row = lifecycle.find_version(s, council, process_id, version)
            saved = {j.file_name: j for j in _saved_rows(s, row)}
        out = []
        for name in sorted({*shipped, *saved}):
            copy = saved.get(name)
            text = copy.text if copy else shipped[name]
            out.append(
                JourneyFile(
                    name,
                    _title(text, name),
                    copy.saved_by if copy else None,
                    copy.saved_at if copy else None,
                )
            )
        return out

    def element_names(self, council: str, process_id: str, version: int) -> dict[str, str]:
        """Element id -> name (or id) of every step drawn in this version's diagram."""
        with self.ctx.reads() as s:
            xml = lifecycle.find_version(s, council, process_id, version).xml
        found, _ = bpmn_diff.elements(xml)
        return {eid: fields.get("name") or eid for (_, eid), fields in found.items()}

    def journey_text(self, council: str, process_id: str, version: int, file: str) -> str:
        """The draft's copy of a journey, else the shipped one."""
        with self.ctx.reads() as s:
            row = lifecycle.find_version(s, council, process_id, version)
            copy = next((j for j in _saved_rows(s, row) if j.file_name == file), None)
        if copy is not None:
            return copy.text
        from engine import draft_checks

        shipped = draft_checks.shipped_journeys(council, self.ctx.processes_dir)
        if file not in shipped:
            raise NotFound(f"{council} has no journey {file}")
        return shipped[file]

    def save_journey(
        self, council: str, process_id: str, version: int, file: str, text: str, by: str
    ) -> None:
        """Keep a journey with the draft, after checking it runs on the draft's pack
        (journey_files.JourneyRefused names every problem; nothing is saved then)."""
        from engine import journey_files

        with unit_of_work(self.ctx.sessions) as s:
            row = _draft(s, council, process_id, version, by)
            journey_files.check_journey(file, text, council, lifecycle.pack_with(s, [row]))
            copy = next((j for j in _saved_rows(s, row) if j.file_name == file), None)
            if copy is None:
                copy = DraftJourney(process_version_id=row.id, file_name=file)
                s.add(copy)
            copy.text, copy.saved_by, copy.saved_at = text, by, clock.now()
            record_audit(
                s,
                by,
                "journey_saved",
                detail={
                    "council": council,
                    "process_id": process_id,
                    "version": version,
                    "file": file,
                },
            )

    def run(
        self,
        council: str,
        process_id: str,
        version: int,
        by: str,
        time_limit: float = TIME_LIMIT_S,
    ) -> JourneyRun:
        """Every journey of the council on the live pack with this draft in it (its saved
        journeys in place of the shipped ones), on scratch databases, within `time_limit`."""
        from engine import draft_checks

        with self.ctx.reads() as s:
            row = lifecycle.find_version(s, council, process_id, version)
            if row.status not in ("draft", "approved"):
                raise NotAllowed(
                    f"{process_id} version {version} is {row.status}: journeys run on drafts"
                )
            _approver(s, by, "run the journeys")
            files = lifecycle.pack_with(s, [row])
            saved = saved_journeys(s, [row])
        ctx = self.ctx
        problems = draft_checks.validation_problems(
            files, council, ctx.forms_dir, ctx.processes_dir
        )
        if problems:
            return JourneyRun(tuple(problems), ())
        results = draft_checks.run_journeys(
            files,
            council,
            forms_dir=ctx.forms_dir,
            processes_dir=ctx.processes_dir,
            saved=saved,
            time_limit=time_limit,
        )
        return JourneyRun((), tuple(results))

    def send_for_approval(
        self, council: str, process_id: str, version: int, by: str, comment: str = ""
    ) -> lifecycle.VersionInfo:
        with unit_of_work(self.ctx.sessions) as s:
            row = lifecycle.find_version(s, council, process_id, version)
            lifecycle.send_for_approval(s, [row], by, record_audit, comment)
            return lifecycle.version_info(row)


def _saved_rows(s: Session, row: ProcessVersion) -> list[DraftJourney]:
    return list(
        s.scalars(
            select(DraftJourney)
            .where(DraftJourney.process_version_id == row.id)
            .order_by(DraftJourney.file_name)
        ).all()
    )


def _approver(s: Session, by: str, doing: str) -> None:
    if not lifecycle.is_approver(s, by):
        raise NotAllowed(f'"{by}" cannot {doing}: practice managers (or admin) can')


def _draft(s: Session, council: str, process_id: str, version: int, by: str) -> ProcessVersion:
    row = lifecycle.find_version(s, council, process_id, version)
    if row.status != "draft":
        raise NotAllowed(
            f"{process_id} version {version} is {row.status}: journeys are saved with drafts only"
        )
    _approver(s, by, "save journeys")
    return row


def _title(text: str, file: str) -> str:
    """The journey's `name:` line, without parsing the whole file."""
    for line in text.splitlines():
        if line.startswith("name:"):
            return line[5:].strip().strip("\"'") or file
    return file
