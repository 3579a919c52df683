"""Deploying process versions and council packs, listing them, and the version lifecycle.

A changed deploy is a draft (engine/lifecycle.py has the rules); approval (four eyes, after
the council's checks pass), going live and document control happen here, each one use case.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import bpmn_diff, clock, conventions, lanes, lifecycle, modeler_choices
from engine.deployment import DeploymentError, Problem, as_text, parse_bundle, read_files
from engine.errors import UnknownProcess
from engine.runtime import SERIALIZER_VERSION, Runtime
from engine.services.context import ANY_COUNCIL, Context
from engine.store.audit import record_audit
from engine.store.cases import process_info
from engine.store.db import unit_of_work
from engine.store.models import DraftJourney, ProcessVersion
from engine.views import ProcessInfo


class Deployments:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def deploy(
        self,
        files: Mapping[str, str | bytes] | Iterable[Path],
        deployed_by: str,
        comment: str = "",
        council: str | None = None,
    ) -> list[ProcessInfo]:
        """Validate and store new process versions; identical XML returns the existing version."""
        ctx = self.ctx
        if not isinstance(files, Mapping):
            files = read_files([Path(p) for p in files])
        council = council or ANY_COUNCIL
        parsed = self._parse(files, council)
        result: list[ProcessInfo] = []
        with unit_of_work(ctx.sessions) as s:
            ctx.ensure_council(s, council)
            for item in parsed:
                result.append(self._store(s, council, item, deployed_by, comment)[0])
        return result

    def _parse(self, files: Mapping[str, str | bytes], council: str) -> list[Any]:
        """The deploy-time validation: every file parsed with the council's rules and lanes."""
        ctx = self.ctx
        profile = ctx.profile(council)
        parsed = parse_bundle(
            files,
            ctx.forms_dir,
            profile.timescales,
            ctx.calendar(council),
            conventions.context_for(council, ctx.processes_dir, ctx.forms_dir),
        )
        lane_problems = lanes.lane_problems(parsed, profile.lanes)
        if lane_problems:
            raise DeploymentError(lane_problems)
        return parsed

    def _store(
        self, s: Session, council: str, item: Any, by: str, comment: str, draft: bool = False
    ) -> tuple[ProcessInfo, bool]:
        """One parsed process as a new version (identical XML: the latest, unchanged, and
        False). `draft` keeps even a process's first version a draft (the modeler's saves)."""
        latest = s.scalars(
            select(ProcessVersion)
            .where(
                ProcessVersion.council_key == council,
                ProcessVersion.process_id == item.process_id,
            )
            .order_by(ProcessVersion.version.desc())
            .limit(1)
        ).first()
        if latest is not None and latest.sha256 == item.sha256:
            return process_info(latest), False
        row = ProcessVersion(
            council_key=council,
            process_id=item.process_id,
            name=item.name,
            version=(latest.version + 1) if latest else 1,
            sha256=item.sha256,
            file_name=item.file_name,
            xml=item.xml,
            dependency_xml=item.dependency_xml,
            spec_json=_spec_json(self.ctx.runtime, item),
            serializer_version=SERIALIZER_VERSION,
            deployed_by=by,
            deployed_at=clock.now(),
            comment=comment,
        )
        if latest is not None:
            lifecycle.supersede(s, council, item.process_id, record_audit, by)
        lifecycle.start_new_version(row, latest)
        if draft and row.status != "draft":
            row.status, row.live_by, row.live_at = "draft", None, None
        s.add(row)
        s.flush()
        record_audit(
            s,
            by,
            "process_deployed",
            detail={
                "council": council,
                "process_id": row.process_id,
                "version": row.version,
                "sha256": row.sha256,
                "status": row.status,
                "comment": comment,
            },
        )
        return process_info(row), True

    def save_process_draft(
        self, council: str, process_id: str, xml: str | bytes, by: str, comment: str = ""
    ) -> tuple[ProcessInfo, bool]:
        """The modeler's "Save as draft": `xml` replaces `process_id` in the council's live
        pack, the whole pack is validated as at deploy, and the process alone is stored as a
        new DRAFT version (never live, even a new process). Returns the version and whether
        it is new (identical XML keeps the latest). A refusal (DeploymentError, each problem
        naming its element) stores nothing."""
        with self.ctx.reads() as s:
            files = lifecycle.live_files(s, council)
            known = s.scalar(
                select(ProcessVersion.file_name)
                .where(
                    ProcessVersion.council_key == council,
                    ProcessVersion.process_id == process_id,
                )
                .order_by(ProcessVersion.version.desc())
                .limit(1)
            )
        if known is None and not process_id.startswith(f"{council}_"):
            raise DeploymentError(
                [
                    Problem(
                        "(diagram)",
                        None,
                        process_id,
                        f'a new {council} process has an id starting with "{council}_"',
                    )
                ]
            )
        file_name = known or f"{council}/{process_id}.bpmn"
        files[file_name] = xml if isinstance(xml, str) else as_text(xml)
        parsed = self._parse(files, council)
        mine = [item for item in parsed if item.file_name == file_name]
        if not any(item.process_id == process_id for item in mine):
            raise DeploymentError(
                [
                    Problem(
                        file_name,
                        None,
                        process_id,
                        f'the diagram has no executable process with the id "{process_id}": '
                        "keep the process id (and isExecutable) of the version you opened",
                    )
                ]
            )
        with unit_of_work(self.ctx.sessions) as s:
            self.ctx.ensure_council(s, council)
            stored = [self._store(s, council, item, by, comment, draft=True) for item in mine]
        return next(
            info for info, item in zip(stored, mine, strict=True) if item.process_id == process_id
        )

    def deploy_pack(self, council: str, deployed_by: str, comment: str = "") -> list[ProcessInfo]:
        """Deploy a council's pack: its own folder plus the common building blocks it calls."""
        folder = self.ctx.processes_dir / council
        if not (folder / "timescales.yaml").is_file():
            raise UnknownProcess(
                f'no procedure pack for "{council}" (expected {folder}/timescales.yaml)'
            )
        common = self.ctx.processes_dir / "common"
        paths = ([common] if common.is_dir() else []) + [folder]
        return self.deploy(paths, deployed_by, comment or f"{council} pack", council=council)

    # -- the version lifecycle -----------------------------------------------------------------

    def library(self, council: str) -> list[lifecycle.LibraryEntry]:
        """Each process of a council once, with its versions, status and open cases."""
        with self.ctx.reads() as s:
            return lifecycle.library(s, council)

    def approve_drafts(
        self, council: str, by: str, comment: str = "", versions: Mapping[str, int] | None = None
    ) -> list[lifecycle.VersionInfo]:
        """Four eyes: approve someone else's drafts (all the council's, or `versions`: process
        id -> version) after the validation and the council's journeys pass on the live pack
        with the drafts in it; refused with every failure, changing nothing."""
        with unit_of_work(self.ctx.sessions) as s:
            rows = _chosen(s, council, "draft", versions)
            saved = saved_journeys(s, rows)
            lifecycle.approve(
                s,
                rows,
                by,
                lambda files, council: self._draft_failures(files, council, saved),
                record_audit,
                comment,
            )
            return [lifecycle.version_info(r) for r in rows]

    def send_drafts(
        self, council: str, by: str, comment: str = "", versions: Mapping[str, int] | None = None
    ) -> list[lifecycle.VersionInfo]:
        """The author asks for approval of the council's drafts (all, or `versions`); a draft is
        approved only once sent, and never by the person who sent it."""
        with unit_of_work(self.ctx.sessions) as s:
            rows = _chosen(s, council, "draft", versions)
            lifecycle.send_for_approval(s, rows, by, record_audit, comment)
            return [lifecycle.version_info(r) for r in rows]

    def go_live(
        self, council: str, by: str, comment: str = "", versions: Mapping[str, int] | None = None
    ) -> list[lifecycle.VersionInfo]:
        """Approved versions (all, or `versions`) become live; the live ones retire."""
        with unit_of_work(self.ctx.sessions) as s:
            rows = _chosen(s, council, "approved", versions)
            lifecycle.go_live(s, rows, by, record_audit, comment)
            return [lifecycle.version_info(r) for r in rows]

    def set_document_control(
        self, council: str, process_id: str, version: int, by: str, **fields: Any
    ) -> lifecycle.VersionInfo:
        with unit_of_work(self.ctx.sessions) as s:
            row = lifecycle.find_version(s, council, process_id, version)
            lifecycle.set_document_control(s, row, by, record_audit, **fields)
            return lifecycle.version_info(row)

    def _draft_failures(
        self, files: Mapping[str, str], council: str, saved: Mapping[str, str]
    ) -> list[str]:
        from engine import draft_checks  # it runs journeys, which build engines: import late

        return draft_checks.check_pack(
            files,
            council,
            forms_dir=self.ctx.forms_dir,
            processes_dir=self.ctx.processes_dir,
            saved=saved,
        )

    def conventions(self, council: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """The deploy rule set and a council's context, as the browser runner takes them."""
        ctx = self.ctx
        context = conventions.context_for(council, ctx.processes_dir, ctx.forms_dir)
        return conventions.rule_set(), conventions.context_json(context)

    def modeler_choices(self, council: str) -> dict[str, Any]:
        """What the modeler may offer for a council (engine/modeler_choices.py)."""
        ctx = self.ctx
        context = conventions.context_json(
            conventions.context_for(council, ctx.processes_dir, ctx.forms_dir)
        )
        return modeler_choices.choices(ctx.profile(council), ctx.forms_dir, context["ruleIds"])

    def new_process_xml(self, council: str, process_id: str, name: str) -> str:
        """A new process's first diagram: processes/templates/new_process.bpmn (executable,
        the role lanes) with its id and name filled in; nothing is stored until it is saved."""
        template = self.ctx.processes_dir / "templates" / "new_process.bpmn"
        text = template.read_text(encoding="utf-8")
        return text.replace("{{name}}", xml_escape(name, {'"': "&quot;"})).replace(
            "template_new_process", process_id
        )

    def version_xml(self, council: str, process_id: str, version: int) -> str:
        """The XML of one deployed version (for diffs and the viewer)."""
        with self.ctx.reads() as s:
            xml = s.scalar(
                select(ProcessVersion.xml).where(
                    ProcessVersion.council_key == council,
                    ProcessVersion.process_id == process_id,
                    ProcessVersion.version == version,
                )
            )
        if xml is None:
            raise UnknownProcess(f"{council}/{process_id} has no version {version}")
        return xml

    def compare_versions(
        self, council: str, process_id: str, old: int, new: int
    ) -> bpmn_diff.VersionDiff:
        """What changed from version `old` to `new` (engine/bpmn_diff.py: lines and data)."""
        with self.ctx.reads() as s:
            before = lifecycle.find_version(s, council, process_id, old).xml
            after = lifecycle.find_version(s, council, process_id, new).xml
        return bpmn_diff.diff(before, after)

    def export_files(self, council: str) -> dict[str, str]:
        """A council's live version of each process as files (name -> XML), named as they
        were deployed (`common/common_consent.bpmn`), so deploying them again is a no-op."""
        with self.ctx.reads() as s:
            files = lifecycle.live_files(s, council)
        if not files:
            raise UnknownProcess(f'nothing is live for council "{council}"')
        return files

    def list_processes(
        self, council: str | None = None, all_versions: bool = False
    ) -> list[ProcessInfo]:
        with self.ctx.reads() as s:
            query = select(ProcessVersion).order_by(
                ProcessVersion.council_key, ProcessVersion.process_id, ProcessVersion.version.desc()
            )
            if council:
                query = query.where(ProcessVersion.council_key == council)
            rows = s.scalars(query).all()
        seen: set[tuple[str, str]] = set()
        out = []
        for row in rows:
            key = (row.council_key, row.process_id)
            if all_versions or key not in seen:
                out.append(process_info(row))
            seen.add(key)
        return out


def saved_journeys(s: Session, rows: list[ProcessVersion]) -> dict[str, str]:
    """The journeys saved with these drafts, file name -> YAML (the latest saved wins)."""
    found = s.scalars(
        select(DraftJourney)
        .where(DraftJourney.process_version_id.in_([r.id for r in rows]))
        .order_by(DraftJourney.saved_at, DraftJourney.id)
    ).all()
    return {j.file_name: j.text for j in found}


def _chosen(
    s: Session, council: str, status: str, versions: Mapping[str, int] | None
) -> list[ProcessVersion]:
    if versions is None:
        return lifecycle.drafts(s, council, status)
    return [lifecycle.find_version(s, council, p, v) for p, v in versions.items()]


def _spec_json(runtime: Runtime, item: Any) -> str:
    if not item.spec_json:
        item.spec_json = runtime.spec_to_json(item.spec, item.subprocess_specs)
    return item.spec_json
