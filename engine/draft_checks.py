"""What approving a draft checks first: the deploy validation and every journey of the council.

A draft goes live only if the council's pack, with the draft in place of the version it
replaces, passes the engine's validation (engine/deployment.py and the rule set) and every
scenario file in `processes/<council>/scenarios/`, with the journeys saved with the draft
(engine/journey_files.py) in place of the shipped files of the same name. The journeys run on
scratch databases, so checking never touches the council's cases; the practice manager's "run
the journeys" page and approval run them the same way (`run_journeys`).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from time import monotonic
from typing import TYPE_CHECKING

from engine import clock
from engine.clock import FixedClock
from engine.conventions import context_for
from engine.deployment import DeploymentError, parse_bundle
from engine.errors import CinflowError
from engine.scenario import Outcome, ScenarioError, deployment, load, run_file, start_of
from engine.timescales import profile_for

if TYPE_CHECKING:
    from engine.services import Engine


@dataclass(frozen=True)
class JourneyResult:
    """One journey's run on a pack: one outcome per expectation, or why it could not run."""

    file: str
    name: str
    outcomes: tuple[Outcome, ...] = ()
    error: str = ""
    saved: bool = False  # the copy saved with the draft, not the shipped file

    @property
    def ok(self) -> bool:
        return not self.error and bool(self.outcomes) and all(o.ok for o in self.outcomes)

    def failures(self) -> list[str]:
        if self.error:
            return [f"scenario {self.file}: {self.error}"]
        return [f"scenario {self.file}: {o.line()}" for o in self.outcomes if not o.ok]


def validation_problems(
    files: Mapping[str, str], council: str, forms_dir: Path, processes_dir: Path
) -> list[str]:
    try:
        parse_bundle(
            files,
            forms_dir,
            profile_for(council, processes_dir).timescales,
            rules=context_for(council, processes_dir, forms_dir),
        )
    except DeploymentError as exc:
        return [f"validation: {p}" for p in exc.problems]
    return []


def shipped_journeys(council: str, processes_dir: Path) -> dict[str, str]:
    """The council's journeys as shipped: file name -> YAML text."""
    folder = processes_dir / council / "scenarios"
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.yaml"))}


def run_journeys(
    files: Mapping[str, str],
    council: str,
    *,
    forms_dir: Path,
    processes_dir: Path,
    saved: Mapping[str, str] | None = None,
    time_limit: float | None = None,
) -> list[JourneyResult]:
    """Every journey of the council (the `saved` ones, file name -> YAML, in place of shipped
    ones of the same name, or added) on the pack `files`, each on its own scratch database.
    Past `time_limit` seconds, what is left is reported as not run."""
    deadline = monotonic() + time_limit if time_limit else None
    source = processes_dir / council
    journeys = {**shipped_journeys(council, processes_dir), **(saved or {})}
    results: list[JourneyResult] = []
    with tempfile.TemporaryDirectory(prefix="cinflow-approval-") as tmp:
        pack = Path(tmp) / council
        (pack / "scenarios").mkdir(parents=True)
        for name in ("timescales.yaml", "coverage.yaml"):
            if (source / name).is_file():
                shutil.copy(source / name, pack / name)
        for name, xml in files.items():
            (pack / Path(name).name).write_text(xml, encoding="utf-8")
        paths = {}
        for name, text in sorted(journeys.items()):
            paths[name] = pack / "scenarios" / name
            paths[name].write_text(text, encoding="utf-8")
        templates = _Templates(Path(tmp), forms_dir, processes_dir, paths.values())
        for index, (name, copy) in enumerate(paths.items()):
            is_saved = name in (saved or {})
            if deadline is not None and monotonic() > deadline:
                results.append(
                    JourneyResult(
                        name, name, error="not run: the time limit was reached", saved=is_saved
                    )
                )
                continue
            try:
                engine = templates.engine_for(copy, Path(tmp) / f"journey{index}.db")
                try:
                    report = run_file(copy, engine=engine, deadline=deadline, deployed=True)
                finally:
                    engine.dispose()
            except (ScenarioError, CinflowError, DeploymentError) as exc:
                results.append(JourneyResult(name, name, error=str(exc), saved=is_saved))
                continue
            results.append(JourneyResult(name, report.name, tuple(report.outcomes), saved=is_saved))
    return results


def check_pack(
    files: Mapping[str, str],
    council: str,
    *,
    forms_dir: Path,
    processes_dir: Path,
    saved: Mapping[str, str] | None = None,
) -> list[str]:
    """Every reason the pack `files` (file name -> XML) cannot go live; empty when it can."""
    problems = validation_problems(files, council, forms_dir, processes_dir)
    if problems:
        return problems
    results = run_journeys(
        files, council, forms_dir=forms_dir, processes_dir=processes_dir, saved=saved
    )
    return [failure for result in results for failure in result.failures()]


class _Templates:
    """A scratch database per pack the journeys deploy (usually one), made and deployed once
    and copied for each journey: creating the schema and deploying the pack took about a third
    of a journey's run.

    The pack is deployed at the earliest start of the journeys that use it, as each journey
    deployed it at its own start before; a pack that cannot be deployed fails each of them
    with the same message.
    """

    def __init__(
        self, folder: Path, forms_dir: Path, processes_dir: Path, journeys: Iterable[Path]
    ) -> None:
        self.folder, self.forms_dir, self.processes_dir = folder, forms_dir, processes_dir
        self.starts: dict[tuple, datetime] = {}
        for path in journeys:
            try:
                key, start = self._key(path), start_of(load(path))
            except ScenarioError:
                continue  # reported when that journey runs
            self.starts[key] = min(start, self.starts.get(key, start))
        self.built: dict[tuple, Path | Exception] = {}

    @staticmethod
    def _key(path: Path) -> tuple:
        paths, council = deployment(path)
        return tuple(paths), council

    def _engine(self, db: Path) -> Engine:
        from engine.services import Engine  # builds engines: imported late (engine.services)

        return Engine(f"sqlite:///{db}", forms_dir=self.forms_dir, processes_dir=self.processes_dir)

    def engine_for(self, path: Path, db: Path) -> Engine:
        """An engine on a copy of the deployed pack `path` runs on (raises what deploying did)."""
        key = self._key(path)
        template = self.built.get(key)
        if template is None:
            template = self.folder / f"template{len(self.built)}.db"
            engine = self._engine(template)
            try:
                engine.init_db()
                with clock.using(FixedClock(self.starts.get(key) or start_of(load(path)))):
                    engine.deploy(list(key[0]), "scenario", f"scenario {path.name}", council=key[1])
            except (ScenarioError, CinflowError, DeploymentError) as exc:
                template = exc
            finally:
                engine.dispose()
            self.built[key] = template
        if isinstance(template, Exception):
            raise template
        shutil.copyfile(template, db)
        return self._engine(db)
