"""Demo seeding: deploy every pack and start synthetic cases part-way along their pathways.

Each journey file with a `demo:` block seeds one case (see engine/scenario.py), so the demo
shows the same routes the tests prove. Running it twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from engine import clock
from engine.demodata import staff_name
from engine.deployment import DeploymentError
from engine.scenario import Cast, ScenarioError, load, run_file
from engine.services import Engine

DEMO_ACTOR = "demo"


@dataclass
class DemoReport:
    deployed: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    cases: list[str] = field(default_factory=list)
    skipped: bool = False
    logins: list[str] = field(default_factory=list)


def pack_folders(processes_dir: Path) -> list[Path]:
    """Council packs (folders with timescales.yaml) and stand-alone folders such as sample/."""
    return sorted(
        p
        for p in processes_dir.iterdir()
        if p.is_dir() and p.name not in ("common", "harness", "templates") and any(p.glob("*.bpmn"))
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


DEMO_PASSWORD = "demo-password-123"  # synthetic demo only; printed by `cinflow demo`
DEMO_ROLES = [
    ("sw", "Social worker", "social_worker"),
    ("sp", "Senior practitioner", "senior_practitioner"),  # chairs meetings (the Chair lane)
    ("iro", "Conference chair / IRO", "iro"),
    ("bs", "Business support", "business_support"),
    ("tm", "Team manager", "team_manager"),
    ("pm", "Practice manager", "practice_manager"),
    ("trainer", "Trainer", "trainer"),
]


def seed_people(engine: Engine, councils: list[str]) -> list[str]:
    """One CIN team per council with someone for every lane of its diagrams (processes/lanes.yaml),
    a practice manager and a trainer."""
    logins = []
    existing = {u.username for u in engine.people.users()}
    for council in councils:
        team = f"{council}-cin"
        engine.people.add_team(team, council, demo_team_name(engine, council))
        for index, (prefix, title, role) in enumerate(DEMO_ROLES):
            username = f"{prefix}.{council}"
            if username not in existing:
                name = staff_name(council, index)
                engine.people.add_user(username, name, DEMO_PASSWORD, role, [team], by=DEMO_ACTOR)
            logins.append(f"{username} / {DEMO_PASSWORD}  ({title}, {team})")
    if "admin" not in existing:
        engine.people.add_user("admin", "Administrator", DEMO_PASSWORD, "admin", by=DEMO_ACTOR)
    logins.append(f"admin / {DEMO_PASSWORD}  (Administrator)")
    return logins


def demo_team_name(engine: Engine, council: str) -> str:
    """ "Children in Need team" under the council's own name, e.g. "Portsmouth CIN team"."""
    place = engine.profile(council).name or council.replace("_", " ").title()
    place = place.split(" (")[0]
    for suffix in (
        " Metropolitan Borough Council",
        " City Council",
        " Borough Council",
        " Council",
    ):
        place = place.removesuffix(suffix)
    place = place.removeprefix("London Borough of ")
    return f"{place} CIN team"


def seed(engine: Engine) -> DemoReport:
    report = DemoReport()
    report.deployed, report.refused = deploy_all(engine)
    councils = sorted({p.split("/")[0] for p in report.deployed})
    report.logins = seed_people(engine, councils)
    if any(c.child.name for c in engine.list_cases(open_only=False)):
        report.skipped = True
        return report
    now = clock.now()
    for path in sorted(engine.processes_dir.glob("*/scenarios/*.yaml")):
        try:
            if "demo" not in load(path):
                continue
            council = path.parent.parent.name
            if council == "sample":
                council = "any"
            cast = Cast(
                f"sw.{council}",
                team=f"{council}-cin",
                by_lane={"Team manager": f"tm.{council}"},
            )
            result = run_file(path, engine=engine, demo_at=now, cast=cast)
        except (ScenarioError, DeploymentError) as exc:
            report.refused.append(f"{path.name}: {exc}")
            continue
        report.cases.append(f"{result.name}")
    for case in engine.list_cases(open_only=False):
        if case.team is None:
            engine.move_case_to_team(case.id, f"{case.council}-cin", DEMO_ACTOR)
    return report
