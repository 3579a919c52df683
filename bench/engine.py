"""How much does persistence cost? One task completion through the engine vs raw SpiffWorkflow.

    .venv/bin/python bench/engine.py [--database URL] [--repeat N] [--warmup N] [--profile]

Both sides run the same diagram (bench/visits.bpmn) and the same step: complete "Record a visit"
(no significant change), so the case moves on to the next visit. The step is measured on a fresh
case and on a case with two years of history (26 visits and 17 reviews already completed).

- raw: the state JSON held in memory is deserialized onto the parsed spec (SpiffWorkflow's
  serializer with the engine's state-only workflow converter, `Runtime.load_state`), the form
  data is set, the task runs, `do_engine_steps()`, and the workflow is serialized back to JSON.
- persisted: `Engine.complete_task` (load the task row and the case, validate the form, load,
  step, snapshot, save state, project tasks and timers, audit, commit).

Each repetition starts from the same state: the raw side from the same JSON string, the
persisted side after rewinding the case's row and projection (untimed). The two sides are
interleaved and the median of `--repeat` runs after `--warmup` runs is reported. A vanilla
round trip (spec serialized with the state, SPIFF_CONFIG) is shown for context only.

See bench/README.md. Exit status 1 when a target is missed.

Over 500 lines on purpose: the raw and persisted sides of one measurement must match step for step,
so they stay side by side.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import platform
import pstats
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from copy import deepcopy
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any
from uuid import UUID

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer  # noqa: E402
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402
from sqlalchemy import (  # noqa: E402
    bindparam,
    create_engine,
    delete,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.orm import SessionTransaction  # noqa: E402

from engine import clock, forms  # noqa: E402
from engine.calendar import WorkingCalendar  # noqa: E402
from engine.clock import FixedClock  # noqa: E402
from engine.expressions import script_engine  # noqa: E402
from engine.functions import diagram_functions  # noqa: E402
from engine.runtime import TIMER_DEFINITIONS, Parser, Runtime  # noqa: E402
from engine.services import Engine, NewChild  # noqa: E402
from engine.store import cases as case_store  # noqa: E402
from engine.store.models import AuditEvent, Case, TaskRow, TimerRow  # noqa: E402
from engine.store.projection import Writes  # noqa: E402

DIAGRAM = Path(__file__).resolve().parent / "visits.bpmn"
PROCESS_ID = "bench_visits"
START = datetime(2025, 8, 4, 9, 0, tzinfo=UTC)  # a Monday after the examples' answer dates
STEP = timedelta(days=17)  # 43 completions x 17 days = 731 days: two years of history
# scenario -> visits done (a review follows 2 visits in 3): 26 + 17 reviews = 731 days,
# 65 + 43 = 1,836 days
AGES = {"fresh": 0, "two years": 26, "five years": 65}
FLOOR_TARGET = 1.15  # fresh case: persisted / floor
RAW_TARGET = 1.5  # two years: persisted / raw SpiffWorkflow (whole history)
AGE_TARGET = 1.5  # an old case's step / the fresh case's step
FLAT_TARGET = 1.1  # five years / two years

VISIT = json.loads((ROOT / "forms/examples/visit_record.valid.json").read_text())
REVIEW = json.loads((ROOT / "forms/examples/review_outcome.valid.json").read_text())
QUIET_VISIT = {k: v for k, v in VISIT.items() if k != "significant_change_details"}
QUIET_VISIT["significant_change"] = False  # the measured step: no review, on to the next visit
CHANGE_VISIT = {
    **QUIET_VISIT,
    "significant_change": True,
    "significant_change_details": "Mother's partner has moved into the home.",
}


def history_plan(visits: int) -> list[dict[str, Any]]:
    """`visits` visits, 2 in 3 followed by a review (17 of 26, 43 of 65); it ends on a visit
    with no review, so a visit is next."""
    plan: list[dict[str, Any]] = []
    for n in range(visits):
        review = n % 3 != 1
        plan.append(CHANGE_VISIT if review else QUIET_VISIT)
        if review:
            plan.append(REVIEW)
    assert not plan or plan[-1] is QUIET_VISIT
    return plan


def reviews(visits: int) -> int:
    return sum(1 for n in range(visits) if n % 3 != 1)


def label(scenario: str) -> str:
    visits = AGES[scenario]
    return f"{scenario} ({visits} visits, {reviews(visits)} reviews)" if visits else scenario


# --- timing ------------------------------------------------------------------------------------


def timed(fn: Callable[[], Any]) -> float:
    return timed_cpu(fn)[0]


def timed_cpu(fn: Callable[[], Any]) -> tuple[float, float]:
    """Wall-clock and this thread's CPU time of one call, in ms. On a loaded machine the wall
    clock includes waiting for a core (a longer call is preempted more often), the CPU time
    does not; it leaves out the database server's work (PostgreSQL), not SQLite's."""
    gc.collect()
    c0, t0 = time.thread_time(), time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000.0, (time.thread_time() - c0) * 1000.0


# --- raw SpiffWorkflow -------------------------------------------------------------------------


class Raw:
    """The same diagram on SpiffWorkflow alone: parsed here, held in memory as JSON."""

    def __init__(self) -> None:
        parser = Parser()  # SpiffWorkflow's, with the engine's timer definitions (engine clock)
        parser.add_bpmn_file(str(DIAGRAM))
        self.spec = parser.get_spec(PROCESS_ID)
        self.subs = parser.get_subprocess_specs(PROCESS_ID)
        self.functions = diagram_functions(WorkingCalendar(), {})
        # SpiffWorkflow as it is: the engine's serializer (SPIFF_CONFIG + state-only workflow
        # converter), every completed task kept
        self.runtime = Runtime(prune=False)
        self.pruned = Runtime()  # the same, pruned as the engine saves it (for the floor)
        config = dict(SPIFF_CONFIG)
        for spiffs, ours in TIMER_DEFINITIONS.items():  # the same timers, so the same steps
            config[ours] = config.pop(spiffs)
        self.vanilla = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))

    def new_case(self) -> BpmnWorkflow:
        workflow = BpmnWorkflow(self.spec, dict(self.subs), script_engine=self._engine())
        start = workflow.get_next_task(state=TaskState.READY)
        now = clock.now()
        start.data.update(
            {
                "case": {"id": 1, "council": "any", "opened": now.isoformat()},
                "child": {"name": "Leo", "date_of_birth": None},
            }
        )
        workflow.do_engine_steps()
        return workflow

    def _engine(self) -> Any:
        return script_engine(self.functions)

    @staticmethod
    def ready_task(workflow: BpmnWorkflow) -> Any:
        tasks = workflow.get_tasks(state=TaskState.READY, manual=True)
        assert len(tasks) == 1, tasks
        return tasks[0]

    @staticmethod
    def run(workflow: BpmnWorkflow, task: Any, data: dict[str, Any]) -> None:
        key = forms.form_key(task.task_spec.extensions["properties"]["formJsonSchemaFilename"])
        task.data[key] = deepcopy(data)
        task.run()
        workflow.do_engine_steps()

    def step(
        self, state: str, task_id: str, data: dict[str, Any], runtime: Runtime | None = None
    ) -> str:
        """Deserialize, complete one user task, run on, serialize: the measured raw step."""
        runtime = runtime or self.runtime
        workflow = runtime.load_state(state, self.spec, self.subs, self.functions)
        self.run(workflow, workflow.get_task_from_id(UUID(task_id)), data)
        return runtime.dump_state(workflow)

    def vanilla_step(self, state: str, task_id: str, data: dict[str, Any]) -> str:
        """The same with SpiffWorkflow's stock serializer: the spec travels with the state."""
        workflow = self.vanilla.deserialize_json(state)
        workflow.script_engine = self._engine()
        self.run(workflow, workflow.get_task_from_id(UUID(task_id)), data)
        return self.vanilla.serialize_json(workflow)


@dataclass
class RawPoint:
    state: str
    vanilla_state: str
    pruned_state: str
    task_id: str
    tasks_in_tree: int


def raw_point(raw: Raw, history: list[dict[str, Any]], at: FixedClock) -> RawPoint:
    workflow = raw.new_case()
    for data in history:
        raw.run(workflow, raw.ready_task(workflow), data)
        at.advance(STEP)
    task = raw.ready_task(workflow)
    assert task.task_spec.bpmn_id == "record_visit"
    state, vanilla, tasks = (
        raw.runtime.dump_state(workflow),
        raw.vanilla.serialize_json(workflow),
        len(workflow.tasks),
    )
    return RawPoint(state, vanilla, raw.pruned.dump_state(workflow), str(task.id), tasks)


# --- the engine --------------------------------------------------------------------------------


@dataclass
class CasePoint:
    case_id: int
    task_id: str
    case: dict[str, Any]
    tasks: list[dict[str, Any]]
    timers: list[dict[str, Any]]

    @property
    def state_bytes(self) -> int:
        return len(self.case["state_json"])


CASE_COLUMNS = ("state_json", "revision", "status", "closed_at", "serializer_version")


def case_point(engine: Engine, history: list[dict[str, Any]], at: FixedClock) -> CasePoint:
    info = engine.start_case(PROCESS_ID, NewChild("Leo"), {}, "bench")
    for data in history:
        (task,) = info.tasks
        info = engine.complete_task(task.id, data, "bench").case
        at.advance(STEP)
    (task,) = info.tasks
    assert task.element_id == "record_visit", task
    case_t, task_t, timer_t = Case.__table__, TaskRow.__table__, TimerRow.__table__
    with engine.db.connect() as conn:
        row = conn.execute(
            select(*(case_t.c[c] for c in CASE_COLUMNS)).where(case_t.c.id == info.id)
        ).one()
        tasks = conn.execute(select(task_t).where(task_t.c.case_id == info.id)).mappings()
        tasks = [dict(r) for r in tasks]
        timers = conn.execute(select(timer_t).where(timer_t.c.case_id == info.id)).mappings()
        timers = [dict(r) for r in timers]
    return CasePoint(info.id, task.id, dict(row._mapping), tasks, timers)


def rewind(engine: Engine, point: CasePoint) -> None:
    """Put the case, its tasks and its timers back as they were before the measured step."""
    case_t, task_t, timer_t = Case.__table__, TaskRow.__table__, TimerRow.__table__
    with engine.db.begin() as conn:
        conn.execute(update(case_t).where(case_t.c.id == point.case_id).values(**point.case))
        conn.execute(delete(task_t).where(task_t.c.case_id == point.case_id))
        conn.execute(delete(timer_t).where(timer_t.c.case_id == point.case_id))
        if point.tasks:
            conn.execute(insert(task_t), point.tasks)
        if point.timers:
            conn.execute(insert(timer_t), point.timers)


# --- the floor: the least any persisted completion must do --------------------------------------


_FLOOR_LOCK = (
    select(Case.__table__.c.state_json, Case.__table__.c.revision)
    .where(Case.__table__.c.id == bindparam("case_id"))
    .with_for_update()
)
_FLOOR_SAVE = (
    update(Case.__table__)
    .where(Case.__table__.c.id == bindparam("case_id"))
    .values(state_json=bindparam("state"), revision=Case.__table__.c.revision + 1)
)


def floor_step(engine: Engine, raw: Raw, cp: CasePoint, rp: RawPoint) -> None:
    """The raw step (on the pruned state, as the engine runs it) plus the least any persisted
    completion must add: one transaction that locks the case row, writes the new state and one
    audit row, and commits. Prebuilt Core statements; no form check, no projection, no ORM (so
    it is a floor, not a design)."""
    with engine.db.begin() as conn:
        conn.execute(_FLOOR_LOCK, {"case_id": cp.case_id}).one()
        state = raw.step(rp.pruned_state, rp.task_id, QUIET_VISIT, raw.pruned)
        conn.execute(_FLOOR_SAVE, {"case_id": cp.case_id, "state": state})
        conn.execute(
            insert(AuditEvent.__table__),
            [
                {
                    "at": START,
                    "actor": "bench",
                    "case_id": cp.case_id,
                    "action": "floor",
                    "detail": {},
                }
            ],
        )


# --- databases ---------------------------------------------------------------------------------


class Database:
    """A throw-away database: a temporary SQLite file, or a private PostgreSQL schema."""

    def __init__(self, url: str | None) -> None:
        self.base = url
        self.schema: str | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if url is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="cinflow-bench-")
            self.url = f"sqlite:///{self._tmp.name}/bench.db"
        elif url.startswith("postgresql"):
            self.schema = f"bench_{uuid.uuid4().hex[:12]}"
            admin = create_engine(url)
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{self.schema}"'))
            admin.dispose()
            joiner = "&" if "?" in url else "?"
            self.url = f"{url}{joiner}options=-csearch_path%3D{self.schema}"
        else:
            self.url = url

    @property
    def label(self) -> str:
        if self._tmp is not None:
            return "SQLite (temporary file)"
        if self.schema:
            return f"PostgreSQL (schema {self.schema}, dropped afterwards)"
        return self.url

    def drop(self) -> None:
        if self.schema and self.base:
            admin = create_engine(self.base)
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
            admin.dispose()
        if self._tmp is not None:
            self._tmp.cleanup()


# --- phases of the persisted step (a separate pass; wrappers cost a little) ----------------


OTHER = "other: session, connection checkout, the rest"


def phase_breakdown(
    engine: Engine, point: CasePoint, data: dict[str, Any], repeat: int
) -> list[tuple[str, float]]:
    """Exclusive time per phase of `complete_task` (a nested phase is not counted twice)."""
    spent: dict[str, list[float]] = {}
    current: dict[str, float] = {}
    stack: list[float] = []  # time spent in nested wrapped calls, per open call

    def wrap(owner: Any, name: str, label: str) -> Callable[[], None]:
        original = getattr(owner, name)
        own = name in vars(owner)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            stack.append(0.0)
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                elapsed = (time.perf_counter() - t0) * 1000
                nested = stack.pop()
                current[label] = current.get(label, 0.0) + elapsed - nested
                if stack:
                    stack[-1] += elapsed

        setattr(owner, name, wrapper)
        return lambda: setattr(owner, name, original) if own else delattr(owner, name)

    phases = [
        (engine.store, "lock_case_of_task", "lock case, read task + timer rows, role (SQL)"),
        (forms, "validate", "validate form (jsonschema)"),
        (engine.store, "load", "find the cached spec"),
        (engine.runtime, "load_state", "load state: json + from_dict [raw too]"),
        (engine.runtime, "complete_user_task", "step: run + engine steps [raw too]"),
        (engine.runtime, "snapshot", "snapshot: walk task tree"),
        (engine.runtime, "dump_state", "dump state: prune, to_dict, json [raw too]"),
        (case_store, "project", "projection diff (Python)"),
        (Writes, "flush", "write: UPDATE case, task/timer/audit rows (SQL)"),
        (engine.store, "case_info", "case info (from memory)"),
        (SessionTransaction, "commit", "commit"),
    ]
    labels = [label for _, _, label in phases]
    undo = [wrap(owner, name, label) for owner, name, label in phases]
    try:
        for i in range(repeat + 3):
            rewind(engine, point)
            current.clear()
            total = timed(lambda: engine.complete_task(point.task_id, data, "bench"))
            current[OTHER] = total - sum(current.values())
            current["total"] = total
            if i >= 3:
                for label, ms in current.items():
                    spent.setdefault(label, []).append(ms)
    finally:
        for restore in reversed(undo):
            restore()
        rewind(engine, point)
    order = [*(label for label in labels if label in spent), OTHER, "total"]
    return [(label, statistics.median(spent[label])) for label in order]


# --- main --------------------------------------------------------------------------------------


@dataclass
class Result:
    scenario: str
    raw_ms: float
    vanilla_ms: float
    persisted_ms: float
    floor_ms: float
    raw_state: int
    db_state: int
    tasks_in_tree: int
    db_tasks: int
    persisted_cpu_ms: float  # medians of this thread's CPU time (diagnostic, not a target)
    floor_cpu_ms: float


SIDES = ("raw", "vanilla", "persisted", "floor")


def measure(
    engine: Engine,
    raw: Raw,
    points: dict[str, tuple[CasePoint, RawPoint]],
    at: FixedClock,
    repeat: int,
    warmup: int,
) -> list[Result]:
    """Every side of every scenario in one rotating order, so background load hits all."""
    samples: dict[tuple[str, str], list[float]] = {}

    def runs(scenario: str, cp: CasePoint, rp: RawPoint) -> dict[str, Callable[[], Any]]:
        return {
            "raw": lambda: raw.step(rp.state, rp.task_id, QUIET_VISIT),
            "vanilla": lambda: raw.vanilla_step(rp.vanilla_state, rp.task_id, QUIET_VISIT),
            "persisted": lambda: engine.complete_task(cp.task_id, QUIET_VISIT, "bench"),
            "floor": lambda: floor_step(engine, raw, cp, rp),
        }

    work = [
        (scenario, side, fn, cp)
        for scenario, (cp, rp) in points.items()
        for side, fn in runs(scenario, cp, rp).items()
    ]
    for i in range(warmup + repeat):
        work = work[1:] + work[:1]  # rotate, so no side always runs first
        for scenario, side, fn, cp in work:
            at.set(moment(scenario))
            if side in ("persisted", "floor"):
                rewind(engine, cp)
            ms, cpu = timed_cpu(fn)
            if i >= warmup:
                samples.setdefault((scenario, side), []).append(ms)
                samples.setdefault((scenario, f"{side} cpu"), []).append(cpu)
    results = []
    for scenario, (cp, rp) in points.items():
        rewind(engine, cp)
        med = {side: statistics.median(samples[(scenario, side)]) for side in SIDES}
        cpu = {side: statistics.median(samples[(scenario, f"{side} cpu")]) for side in SIDES}
        results.append(
            Result(
                scenario,
                med["raw"],
                med["vanilla"],
                med["persisted"],
                med["floor"],
                len(rp.state),
                cp.state_bytes,
                rp.tasks_in_tree,
                len(json.loads(cp.case["state_json"])["tasks"]),
                cpu["persisted"],
                cpu["floor"],
            )
        )
    return results


def moment(scenario: str) -> datetime:
    visits = AGES[scenario]
    return START + STEP * (visits + reviews(visits))


def targets(results: list[Result]) -> list[tuple[str, float, float]]:
    """(what, ratio, target) for each target of issue 17."""
    r = {x.scenario: x for x in results}
    fresh, two, five = r["fresh"], r["two years"], r["five years"]
    return [
        ("fresh case: persisted / floor", fresh.persisted_ms / fresh.floor_ms, FLOOR_TARGET),
        ("two years: persisted / raw SpiffWorkflow", two.persisted_ms / two.raw_ms, RAW_TARGET),
        ("two years: step / fresh step", two.persisted_ms / fresh.persisted_ms, AGE_TARGET),
        ("five years: step / fresh step", five.persisted_ms / fresh.persisted_ms, AGE_TARGET),
        ("flat: five years / two years", five.persisted_ms / two.persisted_ms, FLAT_TARGET),
    ]


def print_table(rows: list[list[str]], right: set[int]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        cells = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        print("  " + " | ".join(cells))
        if n == 0:
            print("  " + "-+-".join("-" * w for w in widths))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--database", help="SQLAlchemy URL (default: a temporary SQLite file)")
    ap.add_argument("--repeat", type=int, default=120, help="measured runs per side (median)")
    ap.add_argument("--warmup", type=int, default=10, help="unmeasured runs first")
    ap.add_argument("--breakdown", type=int, default=40, help="runs for the phase table (0: skip)")
    ap.add_argument(
        "--profile", action="store_true", help="also print cProfile of the persisted step"
    )
    args = ap.parse_args(argv)

    db = Database(args.database)
    t_start = time.perf_counter()
    load_before = os.getloadavg()[0]
    at = FixedClock(START)
    engine: Engine | None = None
    try:
        with clock.using(at):
            engine = Engine(db.url)
            engine.init_db()
            engine.deploy([DIAGRAM], "bench", "benchmark diagram")
            raw = Raw()
            points = {}
            for scenario, visits in AGES.items():
                history = history_plan(visits)
                at.set(START)
                cp = case_point(engine, history, at)
                at.set(START)
                rp = raw_point(raw, history, at)
                points[scenario] = (cp, rp)
            results = measure(engine, raw, points, at, args.repeat, args.warmup)
            breakdown: dict[str, list[tuple[str, float]]] = {}
            if args.breakdown:
                for scenario, (cp, _rp) in points.items():
                    at.set(moment(scenario))
                    breakdown[scenario] = phase_breakdown(engine, cp, QUIET_VISIT, args.breakdown)
            profile_text = ""
            if args.profile:
                for scenario, (cp, _rp) in points.items():
                    at.set(moment(scenario))
                    profile_text += f"--- cProfile, {scenario} ---\n" + profile(engine, cp)
    finally:
        if engine is not None:
            engine.dispose()
        db.drop()

    print(f"cinflow engine benchmark: {DIAGRAM.relative_to(ROOT)}, {db.label}")
    print(
        f"run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, SpiffWorkflow {version('SpiffWorkflow')}, "
        f"SQLAlchemy {version('SQLAlchemy')}"
    )
    print(
        f"step: complete 'Record a visit' (no significant change); median of {args.repeat} runs "
        f"after {args.warmup} warm-up, every side of every scenario interleaved"
    )
    print()
    rows = [
        [
            "scenario",
            "raw ms",
            "persisted ms",
            "floor ms",
            "vanilla ms",
            "tasks raw/engine",
            "state raw/engine",
        ]
    ]
    for r in results:
        rows.append(
            [
                label(r.scenario),
                f"{r.raw_ms:.2f}",
                f"{r.persisted_ms:.2f}",
                f"{r.floor_ms:.2f}",
                f"{r.vanilla_ms:.2f}",
                f"{r.tasks_in_tree} / {r.db_tasks}",
                f"{r.raw_state / 1024:.0f} / {r.db_state / 1024:.0f} KiB",
            ]
        )
    print_table(rows, {1, 2, 3, 4, 5, 6})
    print(
        "  raw: SpiffWorkflow alone, state in memory, every completed task kept (as SpiffWorkflow"
        " does);\n  persisted: Engine.complete_task (the state pruned on save, engine/pruning.py);"
        "\n  floor: the raw step on the pruned state + one transaction (lock the case row, write"
        " the state\n  and one audit row, commit) in prebuilt Core statements: less than any"
        " persisted completion can do;\n  vanilla: SpiffWorkflow's stock serializer (the spec"
        " saved with the state), context only."
    )
    print()
    ok = True
    rows = [["target", "ratio", "target", "OK?"]]
    for what, ratio, target in targets(results):
        passed = ratio <= target
        ok &= passed
        rows.append([what, f"{ratio:.2f}x", f"<= {target}x", "yes" if passed else "NO"])
    print_table(rows, {1, 2})
    fresh = next(r for r in results if r.scenario == "fresh")
    server = "with" if db.schema is None else "without"
    print(
        f"  CPU time of this process (no waiting for a core; {server}"
        f" the database's own work),\n  fresh case: persisted {fresh.persisted_cpu_ms:.2f} ms,"
        f" floor {fresh.floor_cpu_ms:.2f} ms, {fresh.persisted_cpu_ms / fresh.floor_cpu_ms:.2f}x"
        " (diagnostic, not the target)"
    )
    if breakdown:
        print()
        print(
            f"persisted step by phase (separate pass, exclusive time, median of {args.breakdown} "
            "per phase, ms; medians need not add up to the total):"
        )
        names = list(breakdown)
        rows = [["phase", *(x for n in names for x in (n, "share"))]]
        tables = {n: dict(breakdown[n]) for n in names}
        for phase in tables[names[0]]:
            row = [phase]
            for n in names:
                phases = tables[n]
                share = f"{100 * phases[phase] / phases['total']:.0f}%" if phase != "total" else ""
                row += [f"{phases[phase]:.2f}", share]
            rows.append(row)
        print_table(rows, set(range(1, 1 + 2 * len(names))))
    if profile_text:
        print()
        print(profile_text)
    print()
    print(
        f"done in {time.perf_counter() - t_start:.0f} s; 1-minute load average "
        f"{load_before:.1f} at start, {os.getloadavg()[0]:.1f} at end "
        f"(above {os.cpu_count()}, other work is competing and the numbers are noisy)"
    )
    return 0 if ok else 1


def profile(engine: Engine, point: CasePoint, runs: int = 60) -> str:
    prof = cProfile.Profile()
    for _ in range(runs):
        rewind(engine, point)
        prof.enable()
        engine.complete_task(point.task_id, QUIET_VISIT, "bench")
        prof.disable()
    rewind(engine, point)
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("cumulative").print_stats(35)
    stats.sort_stats("tottime").print_stats(20)
    return out.getvalue()


if __name__ == "__main__":
    sys.exit(main())
