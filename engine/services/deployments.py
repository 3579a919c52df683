"""Deploying process versions and council packs, and listing what is deployed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import select

from engine import clock, lanes
from engine.deployment import DeploymentError, parse_bundle, read_files
from engine.errors import UnknownProcess
from engine.runtime import SERIALIZER_VERSION, Runtime
from engine.services.context import ANY_COUNCIL, Context
from engine.store.audit import record_audit
from engine.store.cases import process_info
from engine.store.db import unit_of_work
from engine.store.models import ProcessVersion
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
        profile = ctx.profile(council)
        parsed = parse_bundle(files, ctx.forms_dir, profile.timescales, ctx.calendar(council))
        lane_problems = lanes.lane_problems(parsed, profile.lanes)
        if lane_problems:
            raise DeploymentError(lane_problems)
        result: list[ProcessInfo] = []
        with unit_of_work(ctx.sessions) as s:
            ctx.ensure_council(s, council)
            for item in parsed:
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
                    result.append(process_info(latest))
                    continue
                row = ProcessVersion(
                    council_key=council,
                    process_id=item.process_id,
                    name=item.name,
                    version=(latest.version + 1) if latest else 1,
                    sha256=item.sha256,
                    file_name=item.file_name,
                    xml=item.xml,
                    dependency_xml=item.dependency_xml,
                    spec_json=_spec_json(ctx.runtime, item),
                    serializer_version=SERIALIZER_VERSION,
                    deployed_by=deployed_by,
                    deployed_at=clock.now(),
                    comment=comment,
                )
                s.add(row)
                s.flush()
                record_audit(
                    s,
                    deployed_by,
                    "process_deployed",
                    detail={
                        "council": council,
                        "process_id": row.process_id,
                        "version": row.version,
                        "sha256": row.sha256,
                        "comment": comment,
                    },
                )
                result.append(process_info(row))
        return result

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

    def list_processes(
        self, council: str | None = None, all_versions: bool = False
    ) -> list[ProcessInfo]:
        with self.ctx.sessions() as s:
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


def _spec_json(runtime: Runtime, item: Any) -> str:
    if not item.spec_json:
        item.spec_json = runtime.spec_to_json(item.spec, item.subprocess_specs)
    return item.spec_json
