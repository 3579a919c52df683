"""A case with a long history stays quick: a loop of visits and reviews driven 333 times (over
1,000 of SpiffWorkflow's tasks had the history been kept) and the last steps take about as long
as the first. SpiffWorkflow walks the tasks it keeps on each step (its task iterator, joins'
`is_descendant_of` up the whole chain, the serializer). Measured when this test was written: with
pruning (engine/pruning.py, on every save) the state keeps 13 tasks and a step takes about 11 ms
early and 15 ms at the end; with `Runtime(prune=False)` the same case does not even get to the
end: a join's walk up the chain passes Python's recursion limit (a DiagramError, "loops too
deeply")."""

from __future__ import annotations

import json
import statistics
from datetime import timedelta
from pathlib import Path
from time import perf_counter

from sqlalchemy import select

from engine.clock import FixedClock
from engine.runtime import Runtime
from engine.services import Engine, NewChild
from engine.store.models import Case

ROOT = Path(__file__).resolve().parents[2]
VISITS = ROOT / "bench" / "visits.bpmn"
VISIT = json.loads((ROOT / "forms/examples/visit_record.valid.json").read_text())
REVIEW = json.loads((ROOT / "forms/examples/review_outcome.valid.json").read_text())
QUIET = {k: v for k, v in VISIT.items() if k != "significant_change_details"}
QUIET["significant_change"] = False
CHANGE = {**QUIET, "significant_change": True, "significant_change_details": "A new partner."}
PASSES = 200  # visits; 2 in 3 followed by a review: 333 completions


def _state(engine: Engine, case_id: int) -> str:
    with engine.db.connect() as conn:
        return conn.execute(select(Case.state_json).where(Case.id == case_id)).scalar_one()


def test_a_step_stays_bounded_in_time_after_a_thousand_tasks_of_history(
    engine: Engine, fixed_clock: FixedClock, tmp_path: Path
) -> None:
    engine.deploy([VISITS], "pm1", "a loop of visits and reviews")
    case = engine.start_case("bench_visits", NewChild("Leo Long"), {}, "sw1")
    times: list[float] = []
    sizes: list[int] = []
    for n in range(PASSES):
        for answers in (CHANGE, REVIEW) if n % 3 != 1 else (QUIET,):
            (task,) = engine.get_case(case.id).tasks
            began = perf_counter()
            engine.complete_task(task.id, answers, "sw1")
            times.append(perf_counter() - began)
            sizes.append(len(_state(engine, case.id)))
            fixed_clock.advance(timedelta(days=3))
    assert len(times) > 330

    # How much history SpiffWorkflow alone would carry by now: over 1,000 tasks.
    assert _history_per_completion(tmp_path) * len(times) > 1_000

    early = statistics.median(times[10:40])
    late = statistics.median(times[-30:])
    assert late < 2.5 * early + 0.05, (early, late)
    assert max(times[-30:]) < 5.0
    assert sizes[-1] < 2 * sizes[20], (sizes[20], sizes[-1])
    assert _tasks(_state(engine, case.id)) < 100


def _tasks(state: str) -> int:
    """Tasks in a stored state: the workflow's and its subprocesses'."""
    data = json.loads(state)
    return len(data["tasks"]) + sum(len(s["tasks"]) for s in data.get("subprocesses", {}).values())


def _history_per_completion(tmp_path: Path) -> float:
    """Tasks SpiffWorkflow keeps per completion of this loop when nothing is pruned."""
    whole = Engine(f"sqlite:///{tmp_path}/whole.db", runtime=Runtime(prune=False))
    whole.init_db()
    try:
        whole.deploy([VISITS], "pm1")
        case = whole.start_case("bench_visits", NewChild("Leo Long"), {}, "sw1")
        done = 0
        for n in range(12):
            for answers in (CHANGE, REVIEW) if n % 3 != 1 else (QUIET,):
                (task,) = whole.get_case(case.id).tasks
                whole.complete_task(task.id, answers, "sw1")
                done += 1
        return _tasks(_state(whole, case.id)) / done
    finally:
        whole.dispose()
