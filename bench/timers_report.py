"""The timer bench's report (bench/timers.py): every measurement printed, each target checked."""

import argparse
import os
import platform
import statistics
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from sqlalchemy import create_engine, text
from timers_build import DataSet
from timers_profile import BATCH_PHASE, RAW_TOO, Profile
from timers_workers import WORKLIST_MEASURES, RunResult, pct

ROOT = Path(__file__).resolve().parent.parent

# The worklist's busy/idle ratio while the workers sweep.
WORKLIST_TARGET = 1.2


# --- report --------------------------------------------------------------------------------------


def batch_line(b: dict[str, float], per_worker: list[int]) -> str:
    """The `_fire_batch` counters of a run, e.g. "_fire_batch: 21 batches (1 empty), ..."."""
    full = b["batches"] - b["empty"] - b["failed"]
    line = (
        f"_fire_batch: {b['batches']:,.0f} batches ({b['empty']:,.0f} empty"
        + (f", {b.get('stale', 0):,.0f} of them stale" if b.get("stale") else "")
        + (f", {b['failed']:,.0f} FAILED" if b["failed"] else "")
        + f"), {b['cases'] / max(full, 1):.1f} cases each non-empty one, "
        f"{b['fired']:,.0f} timers fired; {b['wall_s'] / max(b['batches'], 1) * 1000:.1f} ms "
        f"wall / {b['cpu_s'] / max(b['batches'], 1) * 1000:.1f} ms CPU per batch = "
        f"{b['wall_s'] / max(b['fired'], 1) * 1000:.2f} / "
        f"{b['cpu_s'] / max(b['fired'], 1) * 1000:.2f} ms per timer"
    )
    if b["empty"]:
        line += f"; an empty one {b['empty_wall_s'] / b['empty'] * 1000:.1f} ms wall"
    if per_worker:
        line += "; cases per worker: " + " / ".join(f"{n:,}" for n in per_worker)
    return line


def report(
    args: argparse.Namespace,
    data: DataSet,
    raw: tuple[float, float],
    runs: list[RunResult],
    prof: Profile | None,
    started: float,
) -> bool:
    within = args.within
    raw_ms, raw_cpu_ms = raw
    with create_engine(args.database).connect() as conn:
        pg = conn.scalar(text("SHOW server_version")).split(" ")[0]
    print(
        f"Timer sweep benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: {os.cpu_count()} cores, "
        f"load average {args.load_at_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end; "
        f"Python {platform.python_version()}, "
        f"SpiffWorkflow {version('SpiffWorkflow')}, SQLAlchemy {version('SQLAlchemy')}, "
        f"psycopg {version('psycopg')}, PostgreSQL {pg}"
    )
    print(
        f"Data set: {args.cases:,} cases of wait_a_day.bpmn waiting on a timer "
        f"({data.state_bytes:,} B of state each), {len(data.due):,} due, spread over the "
        f"{args.interval:g} s before the start; cloned in {data.clone_s:.1f} s "
        f"(set-up {data.setup_s:.1f} s). Workers: `cinflow worker --interval {args.interval:g}`."
    )
    print()
    head = (
        f"{'run':10} {'fired':>7} {'fired/s':>8} {'1st fire':>9} {'all fired':>10} "
        f"{'late p50':>9} {'p90':>7} {'p99':>7} {'max':>7} {f'<={within:g}s':>7} "
        f"{'once':>5} {'worklist idle/busy ms':>21} {f'<={WORKLIST_TARGET}x':>11} "
        f"{'CPU ms/fire':>11} {'machine':>8}"
    )
    print(head)
    print("-" * len(head))
    ok = True
    for r in runs:
        late = r.lateness
        p99 = pct(late, 99)
        meets = r.complete and r.last_s <= within
        wl_ok = r.worklist_ratio <= WORKLIST_TARGET
        ok &= meets and r.exactly_once and wl_ok
        wl = (
            f"{statistics.median(r.worklist_idle):.1f} / {statistics.median(r.worklist_busy):.1f}"
            if r.worklist_idle and r.worklist_busy
            else "-"
        )
        per_fire = 1000 / max(r.fired, 1)
        cpu = f"{sum(r.worker_cpu_s) * per_fire:.1f}+{r.pg_cpu_s * per_fire:.1f}"
        name = f"{r.workers} worker{'s' if r.workers > 1 else ''}"
        share = r.censored / max(len(late), 1)

        def lat(p: float, value: float, share: float = share) -> str:
            return (">" if share > (100 - p) / 100 else "") + f"{value:.1f}s"

        done = f"{r.last_s:.1f}s" if r.complete else f"not {r.stop_s:.0f}s"
        print(
            f"{name:10} {r.fired:>7,} {r.rate:>8.0f} {r.first_s:>8.1f}s {done:>10} "
            f"{lat(50, pct(late, 50)):>9} {lat(90, pct(late, 90)):>7} {lat(99, p99):>7} "
            f"{lat(100, max(late)):>7} {'yes' if meets else 'NO':>7} "
            f"{'yes' if r.exactly_once else 'NO':>5} {wl:>21} "
            f"{f'{r.worklist_ratio:.2f}x ' + ('yes' if wl_ok else 'NO'):>11} "
            f"{cpu:>11} {r.machine_busy:>8.0%}"
        )
    print()
    print(
        "fired/s: fired / (last fire - first fire). 1st fire, all fired: after launch (process "
        "start, imports, init_db included). late: audit time - due time. once: every due timer "
        "has exactly one timer_fired audit event, none left, one user task each. CPU ms/fire: "
        "CPU time of the worker processes (start-up included) + of their PostgreSQL backends, "
        "per fired timer. machine: share of all cores busy (anyone's), launch -> all fired. "
        "'not N s': stopped by --timeout with timers still waiting; their lateness counts as "
        "(stop - due), a lower bound, marked '>'. _fire_batch: the sweep's transactions, "
        "counted in the worker processes (claim up to 50 due cases FOR UPDATE SKIP LOCKED, fire "
        "them, write set-based, COMMIT); empty: no case dealt with (nothing left to claim, or "
        "only cases another worker had fired meanwhile: stale, after which the sweep goes on); "
        "every sweep ends with one that claims nothing, but the bench stops the workers as soon "
        "as no due timer is left, so a last one still running then is not counted."
    )
    for r in runs:
        print(
            f"  {r.workers} worker(s), just before the launch: load average {r.load:.1f}; "
            f"median durable COMMIT {r.machine[0]:.2f} ms, SELECT 1 round trip "
            f"{r.machine[1]:.2f} ms, {r.machine[2]:.2f} ms right after 1 ms of client CPU"
        )
        if r.worklist_after:
            print(
                f"    worklist (medians): {statistics.median(r.worklist_idle):.1f} ms before the "
                f"launch, {statistics.median(r.worklist_busy):.1f} ms while sweeping, "
                f"{statistics.median(r.worklist_after):.1f} ms once the workers had stopped"
            )
        if r.worklist_after_maintenance:
            print(
                "    worklist (medians) then: "
                + ", ".join(
                    f"{ms:.1f} ms after {step}" for step, ms in r.worklist_after_maintenance.items()
                )
            )
        parts = r.worklist_busy_by_part()
        if parts:
            print(
                "    worklist while sweeping, median in each fifth of the sweep: "
                + " / ".join(f"{ms:.1f}" for ms in parts)
                + " ms"
            )
        for name, label in WORKLIST_MEASURES.items():
            by_phase = r.worklist_measures.get(name)
            if by_phase:
                medians = ", ".join(f"{ms:.2f} ms {phase}" for phase, ms in by_phase.items())
                print(f"    {label}, medians: {medians}")
        print("    " + batch_line(r.batches, r.cases_per_worker if r.workers > 1 else []))
        waits = ", ".join(f"{share:.0%} {what}" for what, share in r.waits[:4])
        print(
            f"    their {r.backends} PostgreSQL connection(s), sampled every 50 ms while in a "
            f"transaction: {waits}"
        )
        if not r.exactly_once:
            print(
                f"  {r.workers} worker(s): duplicates {r.duplicates}, missing {r.missing}, "
                f"unexpected {r.unexpected}, left due {r.left_due}, tasks {r.tasks}"
            )
        for err in r.errors:
            print(f"  {r.workers} worker(s) error: {err}")
        if r.timed_out:
            print(
                f"  {r.workers} worker(s): stopped by --timeout {args.timeout:g} s with "
                f"{r.left_due:,} due timer(s) still waiting"
            )
    print()
    print(
        f"Raw engine step (load_state + refresh_timers + do_engine_steps + dump_state, "
        f"no database), {args.raw_repeat} runs: median {raw_ms:.2f} ms wall, mean "
        f"{raw_cpu_ms:.2f} ms CPU"
    )
    for r in runs:
        per = 1000 / r.rate
        agg = "" if r.workers == 1 else " (all workers together)"
        cpu, pg = sum(r.worker_cpu_s) / max(r.fired, 1) * 1000, r.pg_cpu_s / max(r.fired, 1) * 1000
        print(
            f"Cost per fired timer, {r.workers} worker(s){agg}: {per:.2f} ms wall = "
            f"{per / raw_ms:.0f}x raw; CPU {cpu:.2f} ms worker + {pg:.2f} ms PostgreSQL = "
            f"{(cpu + pg) / raw_cpu_ms:.0f}x raw CPU"
        )
    if prof:
        per = prof.phases_s / max(prof.fired_phases, 1) * 1000
        print(
            f"Cost per fired timer, one sweep in-process (no profiler): {per:.2f} ms = "
            f"{per / raw_ms:.1f}x raw ({prof.fired_phases:,} timers)"
        )
        print()
        n = max(prof.fired_phases, 1)
        batches = prof.calls.get(BATCH_PHASE, 0)
        per_batch = max(batches, 1)
        width = max(62, *(len(label) for label, _ in prof.phases))
        print(
            f"One sweep by phase, exclusive time ({prof.fired_phases:,} timers fired in "
            f"{batches:,} _fire_batch transactions; a sweep ends with an empty one):"
        )
        columns = f"{'calls/timer':>11} {'calls/batch':>11} {'ms/timer':>9} {'share':>6}"
        print(f"  {'phase':{width}} {columns}")
        for label, secs in prof.phases:
            count = prof.calls.get(label, 0)
            print(
                f"  {label:{width}} {count / n:>11.3f} {count / per_batch:>11.2f} "
                f"{secs / n * 1000:>9.3f} {secs / prof.phases_s:>6.1%}"
            )
        db = sum(s for label, s in prof.phases if label.startswith("DB ")) / prof.phases_s
        raw_share = sum(s for label, s in prof.phases if label.endswith(RAW_TOO)) / prof.phases_s
        trips = sum(v for k, v in prof.calls.items() if k.startswith("DB "))
        print(
            f"  {'total':{width}} {'':>11} {'':>11} {per:>9.3f} {1:>6.1%}\n"
            "  calls: a DB row counts cursor executes (an executemany is one, however many rows "
            "it sends) or COMMITs; psycopg sends BEGIN with a transaction's first statement\n"
            f"  DB calls: {trips / n:.3f} per timer, {trips / per_batch:.1f} per batch; in psycopg "
            f"and PostgreSQL (DB rows): {db:.0%}; SpiffWorkflow work the raw step also does "
            f"([raw too]): {raw_share:.0%}\n"
            f"  an empty _fire_batch (a sweep's last) costs {prof.empty_ms[0]:.2f} ms with "
            f"nothing due (BEGIN + claim query, COMMIT), {prof.empty_ms[1]:.2f} ms when the "
            f"{prof.locked} next due cases are locked by another worker's batch (skipped)"
        )
        print()
        print(
            f"cProfile of another sweep ({prof.fired_cprofile:,} timers, "
            f"{prof.cprofile_s / max(prof.fired_cprofile, 1) * 1000:.2f} ms/timer under the "
            "profiler); own time by library:"
        )
        print("  " + ", ".join(f"{name} {share:.0%}" for name, share in prof.by_library))
        print(prof.top)
    print()
    print(
        f"Whole run: {time.perf_counter() - started:.0f} s. Targets: every due timer fired "
        f"within {within:g} s of the launch, exactly once; a team's worklist (Engine.worklist, "
        f"unclaimed tab) while the workers sweep within {WORKLIST_TARGET}x of "
        "its time before the launch (worklist idle/busy: medians, in this process)."
    )
    return ok
