"""Every journey file under processes/ runs green, and pruning loses nothing a running case needs.

Each journey runs once on PostgreSQL as deployed (SpiffWorkflow's history pruned after every
step) and once on SQLite with the whole history kept; both must pass, and after every step
people must see the same of the case on both (tasks, timers, data, diagram, audit trail). One
pair of runs checks the journey on both databases and the pruning with it. Each run starts on a
copy of its pack's template database (tests/pack_templates.py), so no journey deploys its pack.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from databases import PG_SERVER, require_postgres
from factories import stored_state_size
from pack_templates import PackTemplates

from engine import scenario
from engine.runtime import Runtime
from engine.services import Engine

ROOT = Path(__file__).resolve().parents[2]
JOURNEYS = sorted((ROOT / "processes").glob("*/scenarios/*.yaml"))


@pytest.fixture(scope="session")
def pack_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PackTemplates]:
    templates = PackTemplates(tmp_path_factory.mktemp("packs"), PG_SERVER)
    yield templates
    templates.close()


def _seen(engine: Engine, case_id: int) -> dict[str, Any]:
    """What people see of a case, without ids that differ from run to run."""
    case = engine.get_case(case_id, with_data=True)
    diagram = engine.case_diagram(case_id)
    return {
        "status": (case.status, case.closed_at, case.attention),
        "tasks": sorted(
            (t.element_id, t.name, t.lane or "", t.form or "", str(t.due_at), t.rule_id or "")
            for t in case.tasks
        ),
        "timers": sorted(
            (t.element_id, t.kind, t.attached_to or "", str(t.due_at), t.rule_id or "")
            for t in case.timers
        ),
        "data": json.loads(json.dumps(case.data, sort_keys=True, default=str)),
        "diagram": (diagram.completed, diagram.current, diagram.overdue),
        "audit": [(a.action, a.element_id) for a in engine.audit_trail(case_id)],
    }


@contextmanager
def _engine(url: str, prune: bool) -> Iterator[Engine]:
    engine = Engine(url, runtime=Runtime(prune=prune))
    try:
        yield engine
    finally:
        engine.dispose()


def _run(path: Path, url: str, prune: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, ...]:
    seen: list[dict[str, Any]] = []
    sizes: list[int] = []
    step = scenario._Runner.step

    def observed(runner: Any, number: int, spec: dict[str, Any]) -> None:
        step(runner, number, spec)
        seen.append(_seen(runner.engine, runner.case_id))
        sizes.append(stored_state_size(runner.engine, runner.case_id))

    with monkeypatch.context() as m, _engine(url, prune) as engine:
        m.setattr(scenario._Runner, "step", observed)
        report = scenario.run_file(path, engine=engine, deployed=True)
    return report, seen, sizes


@pytest.mark.parametrize(
    "path", JOURNEYS, ids=[f"{p.parent.parent.name}/{p.stem}" for p in JOURNEYS]
)
def test_journey(
    path: Path,
    pack_templates: PackTemplates,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    require_postgres()
    paths, council = scenario.deployment(path)
    key = (tuple(paths), council)
    with pack_templates.postgres_copy(key) as url:
        pruned, seen_pruned, size_pruned = _run(path, url, True, monkeypatch)
    whole_url = pack_templates.sqlite_copy(key, tmp_path / "whole.db")
    whole, seen_whole, size_whole = _run(path, whole_url, False, monkeypatch)
    assert pruned.outcomes, f"{path} checked nothing"
    assert all(o.ok for o in pruned.outcomes), [o.line() for o in pruned.outcomes if not o.ok]
    assert [o.line() for o in pruned.outcomes] == [o.line() for o in whole.outcomes]
    assert len(seen_pruned) == len(seen_whole) == len(scenario.load(path)["steps"])
    for number, (a, b) in enumerate(zip(seen_pruned, seen_whole, strict=True), start=1):
        for key in a:
            assert a[key] == b[key], f"step {number}: {key} differs after pruning"
    assert size_pruned[-1] <= size_whole[-1]
