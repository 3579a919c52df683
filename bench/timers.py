"""Timer sweep at scale: how fast do workers fire a burst of due timers, how late, exactly once?

    .venv/bin/python bench/timers.py [--cases 100000] [--due 10000] [--database URL]
    .venv/bin/python bench/timers.py --cases 5000 --due 1000          # quick run (under a minute)

PostgreSQL only (several workers need row locks). Everything happens in private schemas
(`bench_timers_<random>_*`, selected with `?options=-csearch_path%3D<schema>`), dropped at the end.

1. Set-up. ONE case of tests/integration/data/wait_a_day.bpmn is started through the engine.
   Its child, case and timer rows are cloned in bulk into a seed schema by three
   INSERT ... SELECT statements: each clone gets a new case id and fresh UUIDs for every task
   UUID of the template state (one mapping per clone, applied to every occurrence: the UUIDs in
   the state JSON are also the timer/task primary keys), and one due instant written both to
   `timer.due_at` and to the timer task's `internal_data.event_value`. `--due` clones (random
   case ids) are due in the `--interval` seconds before the bench's engine "now" (NOW), evenly
   spread; the rest 1 to 30 days later. Sampled clones are checked against their rows through
   the engine; one extra clone is fired through `Engine.fire_due_timers`, checked and removed.
2. Raw step. SpiffWorkflow alone on a due clone's state, no database: `Runtime.load_state`
   (json + state-only deserialize) + `refresh_timers` + `do_engine_steps` + `Runtime.dump_state`.
3. Worker runs. For 1 and then 3 workers, a fresh copy of the seed schema is made and real
   `cinflow worker --interval 15` processes are started (`python -c "...; from webui.cli import
   main; main()" --database URL worker --interval 15`). Instead of a frozen `--at` clock they run
   on a real-time `OffsetClock` that reads NOW at the instant they are launched, so every audit
   event carries its real firing instant on the engine's time line. Lateness = audit `at` minus
   the timer's due instant. The run ends when no timer due by NOW is left (or at --timeout).
   Measured besides: CPU of the workers and of their PostgreSQL backends (/proc), what those
   backends wait on (pg_stat_activity, sampled), and the sweep's transactions: a counter wrapped
   around `Deadlines._fire_batch` in the worker process counts batches (one transaction each: claim
   up to 50 due cases FOR UPDATE SKIP LOCKED, fire, write set-based, commit), the empty ones
   (nothing claimed, or only cases another worker had fired: every sweep ends with one), cases
   dealt with, timers fired, and wall and CPU seconds in `_fire_batch`.
4. Exactly once: `timer_fired:*` audit events == due count, one per due timer, none other.
5. Profile. A third copy, one sweep in this process: a phase table (light wrappers around the
   sweep's call graph, `_fire_batch` -> `claim_due_cases`, `read_projection`, `load`,
   SpiffWorkflow, `_save`, `project`, `_record_fired`, `Writes.flush`, SQLAlchemy's
   `Connection.execute` and commit; exclusive time per phase; every SQL statement timed and
   counted by its cursor execute, an executemany being one), what an empty batch costs, and
   cProfile of another sweep.

See bench/README.md ("Timer sweep benchmark"). Exit status 1 when a check or target fails.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from SpiffWorkflow.util.task import TaskState  # noqa: E402
from timers_build import DEFAULT_URL, NOW, Schemas, build_data_set, log  # noqa: E402
from timers_profile import profile_sweep  # noqa: E402
from timers_report import report  # noqa: E402
from timers_workers import pct, run_workers  # noqa: E402

from engine import clock  # noqa: E402
from engine.clock import FixedClock  # noqa: E402
from engine.services import Engine  # noqa: E402
from engine.store.models import (  # noqa: E402
    ProcessVersion,
)

# --- raw step ----------------------------------------------------------------------------------


def raw_step_ms(engine: Engine, state: str, version_id: int, repeat: int) -> tuple[float, float]:
    """SpiffWorkflow alone on a due state: deserialize, refresh timers, step, serialize.

    Returns (median wall ms per step, mean CPU ms per step).
    """
    rt = engine.runtime
    with engine.sessions() as s:
        version = s.get(ProcessVersion, version_id)
        spec, subs = rt.spec_from_json(f"bench-raw:{version.id}", version.spec_json)
    functions = engine.context.functions("any")
    times = []
    cpu = 0.0
    with clock.using(FixedClock(NOW)):
        # Garbage collection stays on and is not forced between steps: a worker fires timers in
        # a loop with the collector on (a gc.collect() before each step would make the step
        # over twice as slow, with cold caches).
        for i in range(repeat + 20):
            if i == 20:
                cpu = time.process_time()
            t0 = time.perf_counter()
            workflow = rt.load_state(state, spec, subs, functions)
            workflow.refresh_timers()
            workflow.do_engine_steps()
            out = rt.dump_state(workflow)
            elapsed = time.perf_counter() - t0
            if i == 0:
                ready = [t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.READY)]
                assert ready == ["after"], f"the raw step did not fire the timer: {ready}"
                assert len(out) > 0
            if i >= 20:
                times.append(elapsed)
        cpu = time.process_time() - cpu
    return statistics.median(times) * 1000, cpu / repeat * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000, help="waiting timers")
    parser.add_argument("--due", type=int, default=100_000, help="of them due at once")
    parser.add_argument(
        "--within", type=float, default=60.0, help="target: all fired within (s of the launch)"
    )
    parser.add_argument("--database", default=os.environ.get("CINFLOW_BENCH_PG", DEFAULT_URL))
    parser.add_argument("--interval", type=float, default=15.0, help="worker sweep interval")
    parser.add_argument("--workers", default="3", help="worker counts to run, e.g. 1,3")
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="give up a worker run after this (seconds)"
    )
    parser.add_argument("--raw-repeat", type=int, default=300)
    parser.add_argument(
        "--profile-timers",
        type=int,
        default=750,
        help="timers fired in the phase-table sweep, and as many under cProfile (0: skip)",
    )
    args = parser.parse_args()
    if not 0 < args.due <= args.cases:
        parser.error("need 0 < --due <= --cases")
    started = time.perf_counter()
    args.load_at_start = os.getloadavg()[0]
    schemas = Schemas(args.database)
    try:
        log(f"set-up: {args.cases:,} cases, {args.due:,} due (schemas {schemas.prefix}_*)")
        data = build_data_set(schemas, args.cases, args.due, args.interval)
        engine = Engine(schemas.url(data.seed))
        raw_ms, raw_cpu_ms = raw_step_ms(engine, data.raw_state, data.version_id, args.raw_repeat)
        engine.dispose()
        log(f"raw step {raw_ms:.2f} ms")
        runs = []
        for n in [int(w) for w in args.workers.split(",") if w.strip()]:
            log(f"{n} worker(s) on a fresh copy ...")
            runs.append(run_workers(schemas, data, n, args.interval, args.timeout))
            r = runs[-1]
            log(f"{n} worker(s): {r.fired:,} fired, {r.rate:.0f}/s, p99 {pct(r.lateness, 99):.1f}s")
        prof = None
        if args.profile_timers > 0:
            log("profiling one sweep in-process ...")
            prof = profile_sweep(schemas, data, args.profile_timers, args.profile_timers)
        ok = report(args, data, (raw_ms, raw_cpu_ms), runs, prof, started)
    finally:
        schemas.drop_all()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
