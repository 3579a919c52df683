"""Pruning loses nothing a running case needs: every journey, pruned after every step, shows
people exactly what the same journey shows with SpiffWorkflow's whole history kept."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine import scenario
from engine.runtime import Runtime
from engine.services import Engine
from engine.store.models import Case

ROOT = Path(__file__).resolve().parents[2]
JOURNEYS = sorted((ROOT / "processes").glob("*/scenarios/*.yaml"))


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


def _state_size(engine: Engine, case_id: int) -> int:
    with engine.db.connect() as conn:
        state = conn.execute(select(Case.state_json).where(Case.id == case_id)).scalar_one()
    return len(state)


@contextmanager
def _engine(url: str, prune: bool) -> Iterator[Engine]:
    engine = Engine(url, runtime=Runtime(prune=prune))
    engine.init_db()
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
        sizes.append(_state_size(runner.engine, runner.case_id))

    with monkeypatch.context() as m, _engine(url, prune) as engine:
        m.setattr(scenario._Runner, "step", observed)
        report = scenario.run_file(path, engine=engine)
    return report, seen, sizes


@pytest.mark.parametrize(
    "path", JOURNEYS, ids=[f"{p.parent.parent.name}/{p.stem}" for p in JOURNEYS]
)
def test_journey_pruned_after_every_step_matches_unpruned(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pruned, seen_pruned, size_pruned = _run(
        path, f"sqlite:///{tmp_path}/pruned.db", True, monkeypatch
    )
    whole, seen_whole, size_whole = _run(path, f"sqlite:///{tmp_path}/whole.db", False, monkeypatch)
    assert [o.line() for o in pruned.outcomes] == [o.line() for o in whole.outcomes]
    assert all(o.ok for o in pruned.outcomes), [o.line() for o in pruned.outcomes if not o.ok]
    assert len(seen_pruned) == len(seen_whole) == len(scenario.load(path)["steps"])
    for number, (a, b) in enumerate(zip(seen_pruned, seen_whole, strict=True), start=1):
        for key in a:
            assert a[key] == b[key], f"step {number}: {key} differs after pruning"
    assert size_pruned[-1] <= size_whole[-1]
