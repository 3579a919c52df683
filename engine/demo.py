"""Demo seeding: deploy every pack and start synthetic cases part-way along their pathways.

Each journey file with a `demo:` block seeds one case (see engine/scenario.py), so the demo
shows the same routes the tests prove. Running it twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from engine import clock
from engine.deployment import DeploymentError
from engine.scenario import ScenarioError, load, run_file
from engine.services import Engine

DEMO_ACTOR = "demo"


@dataclass
class DemoReport:
    deployed: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    cases: list[str] = field(default_factory=list)
    skipped: bool = False


def pack_folders(processes_dir: Path) -> list[Path]:
    """Council packs (folders with timescales.yaml) and stand-alone folders such as sample/."""
    return sorted(
        p
        for p in processes_dir.iterdir()
        if p.is_dir() and p.name not in ("common", "authoring") and any(p.glob("*.bpmn"))
    )


def deploy_all(engine: Engine, by: str = DEMO_ACTOR) -> tuple[list[str], list[str]]:
    deployed, refused = [], []
    for folder in pack_folders(engine.processes_dir):
        try:
            if (folder / "timescales.yaml").is_file():
                versions = engine.deploy_pack(folder.name, by)
            else:
                versions = engine.deploy([folder], by, f"{folder.name} pack")
        except DeploymentError as exc:
            refused.append(f"{folder.name}: " + "; ".join(str(p) for p in exc.problems[:3]))
            continue
        deployed += [f"{v.council}/{v.process_id} v{v.version}" for v in versions]
    return deployed, refused


def seed(engine: Engine) -> DemoReport:
    report = DemoReport()
    report.deployed, report.refused = deploy_all(engine)
    if any(c.child.name for c in engine.list_cases(open_only=False)):
        report.skipped = True
        return report
    now = clock.now()
    for path in sorted(engine.processes_dir.glob("*/scenarios/*.yaml")):
        try:
            if "demo" not in load(path):
                continue
            result = run_file(path, engine=engine, demo_at=now)
        except (ScenarioError, DeploymentError) as exc:
            report.refused.append(f"{path.name}: {exc}")
            continue
        report.cases.append(f"{result.name}")
    return report
