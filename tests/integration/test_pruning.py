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
from engine.services import Engine, NewChild
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
    assert pruned.outcomes, f"{path} checked nothing"
    assert all(o.ok for o in pruned.outcomes), [o.line() for o in pruned.outcomes if not o.ok]
    assert [o.line() for o in pruned.outcomes] == [o.line() for o in whole.outcomes]
    assert len(seen_pruned) == len(seen_whole) == len(scenario.load(path)["steps"])
    for number, (a, b) in enumerate(zip(seen_pruned, seen_whole, strict=True), start=1):
        for key in a:
            assert a[key] == b[key], f"step {number}: {key} differs after pruning"
    assert size_pruned[-1] <= size_whole[-1]


def test_stored_state_does_not_multiply_a_large_answer(tmp_path: Path, fixed_clock: Any) -> None:
    """A long invitee list entered in a call activity, carried into a nested one and out again,
    and a long meeting record entered two levels down: each is stored once, step after step."""
    engine = Engine(f"sqlite:///{tmp_path}/big.db")
    engine.init_db()
    try:
        engine.deploy([ROOT / "processes/common"], "test", "test")
        case = engine.start_case("common_planning_meeting", NewChild("Sam Sample"), {}, "sw")
        base = _state_size(engine, case.id)
        # as long as the forms allow: 50 people (maxItems), names of 200 characters (maxLength)
        people = [{"name": f"Person {i:03d} " + "x" * 189, "role": "Agency"} for i in range(50)]
        arrangement = {
            "meeting_type": "planning",
            "meeting_date": "2026-12-03",
            "venue": "Family centre",
            "invitees": people,
            "cancelled": False,
        }
        record = {
            "meeting_type": "planning",
            "meeting_date": "2026-12-03",
            "chair_name": "Ruth Okafor",
            "chair_role": "senior_practitioner",
            "attendees": people[::-1],
            "child_attended": False,
            "childs_views": "Sam said mornings are calmer.",
            "parents_views": "Karen agrees with the plan.",
            "decisions": "Plan agreed.",
        }
        plan = json.loads((ROOT / "forms/examples/cin_plan.valid.json").read_text())
        entered = 0
        for answer in (arrangement, record, plan):
            (task,) = engine.get_case(case.id).tasks
            case = engine.complete_task(task.id, answer, "sw").case
            entered += len(json.dumps(answer))
            assert entered > 20_000 or answer is arrangement
            assert _state_size(engine, case.id) - base <= 1.1 * entered + 16_000
        assert case.status == "completed"
        assert engine.get_case(case.id, with_data=True).data["meeting_record"] == record
    finally:
        engine.dispose()
