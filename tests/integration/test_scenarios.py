"""Every journey file under processes/ runs green: the packs do what the procedures say.

On SQLite a journey of a council's pack runs on a copy of a template database holding that pack,
built once per session (a schema and a deployed pack cost more than most journeys); deploying
the same pack again in the journey is then a no-op. PostgreSQL journeys build their own schema.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.scenario import default_deploy, load, run_file
from engine.services import Engine

ROOT = Path(__file__).resolve().parents[2]
JOURNEYS = sorted((ROOT / "processes").glob("*/scenarios/*.yaml"))


@pytest.fixture(scope="session")
def pack_template(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Path], Path | None]:
    """The template database of a journey's default pack (None: the journey names its own)."""
    built: dict[tuple[tuple[Path, ...], str | None], Path] = {}

    def template(journey: Path) -> Path | None:
        if "deploy" in load(journey):
            return None
        paths, council = default_deploy(journey)
        key = (tuple(paths), council)
        if key not in built:
            path = tmp_path_factory.mktemp("pack") / "template.db"
            engine = Engine(f"sqlite:///{path}")
            try:
                engine.init_db()
                engine.deploy(paths, "scenario", "template", council=council)
            finally:
                engine.dispose()
            built[key] = path
        return built[key]

    return template


@pytest.mark.parametrize(
    "path", JOURNEYS, ids=[f"{p.parent.parent.name}/{p.stem}" for p in JOURNEYS]
)
def test_journey(
    path: Path, db_url: str, tmp_path: Path, pack_template: Callable[[Path], Path | None]
) -> None:
    template = pack_template(path) if db_url.startswith("sqlite") else None
    if template is None:
        report = run_file(path, db_url)
    else:
        shutil.copy(template, tmp_path / "journey.db")
        engine = Engine(f"sqlite:///{tmp_path / 'journey.db'}")
        try:
            report = run_file(path, engine=engine)
        finally:
            engine.dispose()
    failures = [o.line() for o in report.outcomes if not o.ok]
    assert report.outcomes, f"{path} checked nothing"
    assert not failures, "\n".join(failures)
