"""What approving a draft checks first: the deploy validation and every journey of the council.

A draft goes live only if the council's pack, with the draft in place of the version it
replaces, passes the engine's validation (engine/deployment.py and the rule set) and every
scenario file in `processes/<council>/scenarios/`. The journeys run on a scratch database, so
checking never touches the council's cases.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from engine.conventions import context_for
from engine.deployment import DeploymentError, parse_bundle
from engine.errors import CinflowError
from engine.scenario import Report, ScenarioError, run_file
from engine.timescales import profile_for


def check_pack(
    files: Mapping[str, str],
    council: str,
    *,
    forms_dir: Path,
    processes_dir: Path,
) -> list[str]:
    """Every reason the pack `files` (file name -> XML) cannot go live; empty when it can."""
    try:
        parse_bundle(
            files,
            forms_dir,
            profile_for(council, processes_dir).timescales,
            rules=context_for(council, processes_dir, forms_dir),
        )
    except DeploymentError as exc:
        return [f"validation: {p}" for p in exc.problems]
    source = processes_dir / council
    journeys = sorted((source / "scenarios").glob("*.yaml"))
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="cinflow-approval-") as tmp:
        pack = Path(tmp) / council
        (pack / "scenarios").mkdir(parents=True)
        for name in ("timescales.yaml", "coverage.yaml"):
            if (source / name).is_file():
                shutil.copy(source / name, pack / name)
        for name, xml in files.items():
            (pack / Path(name).name).write_text(xml, encoding="utf-8")
        for journey in journeys:
            copy = pack / "scenarios" / journey.name
            shutil.copy(journey, copy)
            try:
                report = _run_journey(
                    copy, Path(tmp) / f"{journey.stem}.db", forms_dir, processes_dir
                )
            except (ScenarioError, CinflowError, DeploymentError) as exc:
                failures.append(f"scenario {journey.name}: {exc}")
                continue
            failures.extend(
                f"scenario {journey.name}: {o.line()}" for o in report.outcomes if not o.ok
            )
    return failures


def _run_journey(path: Path, db: Path, forms_dir: Path, processes_dir: Path) -> Report:
    """One journey on its own scratch database, with the council's timescales as installed."""
    from engine.services import Engine

    engine = Engine(f"sqlite:///{db}", forms_dir=forms_dir, processes_dir=processes_dir)
    engine.init_db()
    try:
        return run_file(path, engine=engine)
    finally:
        engine.dispose()
