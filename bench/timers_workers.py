"""The timer bench's worker runs (step 3 of bench/timers.py): real `cinflow worker` processes on
a fresh copy of the seed schema, what they cost the machine and how late they fire.
"""

import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, exists, func, select, text
from timers_build import NOW, DataSet, Schemas
from worklist import BENCH_ARGON2, TEAM, real_world  # bench/worklist.py

from engine import clock, passwords
from engine.clock import FixedClock
from engine.services import Engine
from engine.store.models import (
    AuditEvent,
    TaskRow,
    TimerRow,
)

ROOT = Path(__file__).resolve().parent.parent

# What the worker prelude counts in Deadlines._fire_batch, summed over a run's workers.
BATCH_KEYS = (
    "batches",
    "empty",
    "stale",
    "failed",
    "cases",
    "fired",
    "wall_s",
    "cpu_s",
    "empty_wall_s",
)


# The real CLI (`cinflow worker`), on a real-time clock that reads NOW at launch (argv[1] is
# the offset in seconds). The only addition: a counter around Deadlines._fire_batch (one sweep
# transaction; two clock reads per call): batches, empty ones (no case dealt with), batches that
# raised (their cases are redone one by one), cases dealt with, timers fired, wall and CPU
# seconds, saved to $BENCH_STATS when the bench stops the worker (SIGTERM).
WORKER_CODE = """
import json, os, signal, sys, time
from datetime import timedelta
from engine import clock
from engine.clock import OffsetClock, SystemClock
from engine.services.deadlines import Deadlines

clock.set_default(OffsetClock(SystemClock(), timedelta(seconds=float(sys.argv.pop(1)))))
stats = dict.fromkeys(BATCH_KEYS, 0)
fire_batch = Deadlines._fire_batch

def counted(self, *args, **kwargs):
    wall, cpu = time.perf_counter(), time.process_time()
    fired = cases = None
    try:
        done = fire_batch(self, *args, **kwargs)
        fired, cases = done.fired, done.progressed
        if done.claimed and not cases:
            stats["stale"] += 1  # claimed only cases another worker had just fired
        return done
    finally:
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        stats["batches"] += 1
        stats["wall_s"] += wall
        stats["cpu_s"] += cpu
        if cases is None:
            stats["failed"] += 1  # raised: rolled back, its cases redone one per transaction
        else:
            stats["cases"] += cases
            stats["fired"] += fired
            if not cases:
                stats["empty"] += 1
                stats["empty_wall_s"] += wall

def stop(signum, frame):
    with open(os.environ["BENCH_STATS"], "w") as out:
        json.dump({**stats, "process_cpu_s": time.process_time()}, out)
    os._exit(0)

Deadlines._fire_batch = counted
signal.signal(signal.SIGTERM, stop)
from webui.cli import main
main()
""".replace("BATCH_KEYS", repr(BATCH_KEYS))


# --- the machine -------------------------------------------------------------------------------


def machine_check(url: str) -> tuple[float, float, float]:
    """Median ms: a durable COMMIT, a SELECT 1 round trip, and the same after 1 ms of client CPU.

    The last one shows scheduler contention: when every core is busy, a client that has been
    computing waits for the server process to be scheduled on every round trip.
    """
    db = create_engine(url)
    commits, idle, busy = [], [], []
    with db.connect() as conn:
        conn.execute(text("CREATE TABLE bench_commit (x int)"))  # logged: COMMIT waits for WAL
        conn.commit()
        for _ in range(100):
            conn.execute(text("INSERT INTO bench_commit VALUES (1)"))
            t0 = time.perf_counter()
            conn.commit()
            commits.append(time.perf_counter() - t0)
        for _ in range(200):
            t0 = time.perf_counter()
            conn.exec_driver_sql("SELECT 1").all()
            idle.append(time.perf_counter() - t0)
            spin = time.perf_counter()
            while time.perf_counter() - spin < 0.001:
                pass
            t0 = time.perf_counter()
            conn.exec_driver_sql("SELECT 1").all()
            busy.append(time.perf_counter() - t0)
        conn.rollback()
        conn.execute(text("DROP TABLE bench_commit"))
        conn.commit()
    db.dispose()
    return tuple(statistics.median(v) * 1000 for v in (commits, idle, busy))  # type: ignore[return-value]


# --- worker runs -------------------------------------------------------------------------------


def cpu_ticks(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def system_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all cores, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return sum(values) - idle, sum(values)


class WaitSampler(threading.Thread):
    """Samples pg_stat_activity for the workers' connections every 50 ms during a run."""

    def __init__(self, db: Any, app: str) -> None:
        super().__init__(daemon=True)
        self.db, self.app = db, app
        self.seen: Counter[str] = Counter()
        self.pids: set[int] = set()
        self.idle = 0
        self.halt = threading.Event()

    def run(self) -> None:
        query = text(
            "SELECT pid, state, wait_event_type, wait_event FROM pg_stat_activity "
            "WHERE application_name = :app"
        )
        with self.db.connect() as conn:
            while not self.halt.wait(0.05):
                for pid, state, kind, name in conn.execute(query, {"app": self.app}):
                    self.pids.add(pid)
                    if state == "idle":
                        self.idle += 1  # between transactions (a pooled connection at rest)
                    elif state == "idle in transaction" or name == "ClientRead":
                        self.seen["waiting for the worker's next statement (ClientRead)"] += 1
                    elif kind is None:
                        self.seen["executing (on a core or waiting for one)"] += 1
                    else:
                        self.seen[f"waiting on {kind}:{name}"] += 1
                conn.rollback()

    def stop(self) -> None:
        self.halt.set()
        self.join(timeout=5)

    def shares(self) -> list[tuple[str, float]]:
        """Shares of the samples taken while a worker's transaction was open."""
        total = sum(self.seen.values()) or 1
        return [(k, v / total) for k, v in self.seen.most_common()]


# What the bench measures beside each timed worklist call, and how the report names it.
WORKLIST_MEASURES = {
    "cpu": "worklist, this process's CPU time (the rest of a call waited for PostgreSQL or a core)",
    "sql": "the worklist's statements per call (driver execute: round trips, PostgreSQL's work)",
    "trip": "a SELECT 1 round trip beside each call",
}


@dataclass
class RunResult:
    workers: int
    fired: int
    first_s: float  # launch -> first fire (engine time minus NOW)
    last_s: float  # launch -> last fire
    lateness: list[float]  # fired timers, then lower bounds for timers still waiting at the stop
    censored: int  # timers still waiting when the run was stopped (timeout)
    stop_s: float  # launch -> the bench saw no due timer left (or gave up)
    duplicates: int
    missing: int
    unexpected: int
    left_due: int
    tasks: int
    worker_cpu_s: list[float]  # per worker process, start-up included
    pg_cpu_s: float  # the workers' PostgreSQL backends, together
    machine_busy: float  # share of all cores busy during the run
    timed_out: bool
    machine: tuple[float, float, float]  # machine_check() just before the launch
    load: float  # 1-minute load average at the launch
    waits: list[tuple[str, float]]  # what the workers' PostgreSQL backends were doing
    backends: int  # how many connections the workers opened
    batches: dict[str, float]  # Deadlines._fire_batch counters (BATCH_KEYS), all workers together
    cases_per_worker: list[int]  # cases each worker dealt with in _fire_batch
    worklist_idle: list[float] = field(default_factory=list)  # ms, before the launch
    worklist_busy: list[float] = field(default_factory=list)  # ms, while due timers were left
    worklist_busy_at: list[float] = field(default_factory=list)  # s after the launch, each call
    # beside each timed worklist call, median ms per measure (WORKLIST_MEASURES) and phase:
    # {"cpu": {"idle": .., "busy": .., "after": ..}, "sql": {...}, "trip": {...}}
    worklist_measures: dict[str, dict[str, float]] = field(default_factory=dict)
    worklist_after: list[float] = field(default_factory=list)  # ms, once the workers stopped
    # median ms after each maintenance step, e.g. {"ANALYZE (2 s)": 4.1}
    worklist_after_maintenance: dict[str, float] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def worklist_ratio(self) -> float:
        if not self.worklist_idle or not self.worklist_busy:
            return float("nan")
        return statistics.median(self.worklist_busy) / statistics.median(self.worklist_idle)

    def worklist_busy_by_part(self, parts: int = 5) -> list[float]:
        """Median worklist time in each of `parts` equal stretches of the sweep: slow at the start
        only points at the planner's statistics (stale until a refresh), slow throughout at
        competition for the machine."""
        if not self.worklist_busy_at:
            return []
        end = max(self.worklist_busy_at)
        groups: list[list[float]] = [[] for _ in range(parts)]
        for at, ms in zip(self.worklist_busy_at, self.worklist_busy, strict=True):
            groups[min(int(at / end * parts), parts - 1)].append(ms)
        return [statistics.median(g) if g else float("nan") for g in groups]

    @property
    def span_s(self) -> float:
        return self.last_s - self.first_s

    @property
    def rate(self) -> float:
        return self.fired / self.span_s if self.span_s > 0 else float("nan")

    @property
    def complete(self) -> bool:
        return self.left_due == 0 and self.missing == 0

    @property
    def exactly_once(self) -> bool:
        """No timer fired twice, none that was not due, every due one fired or still waiting."""
        return (
            self.duplicates == 0
            and self.unexpected == 0
            and self.missing == self.left_due
            and self.tasks == self.fired
        )

    @property
    def window_s(self) -> float:
        return self.last_s if self.complete else self.stop_s


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def run_workers(
    schemas: Schemas, data: DataSet, n_workers: int, interval: float, timeout: float
) -> RunResult:
    schema = schemas.fresh_copy(data.seed, f"w{n_workers}")
    url = schemas.url(schema)
    db = create_engine(url)
    env = {**os.environ, "CINFLOW_MAIL": "console", "PYTHONPATH": str(ROOT)}
    errs: list[Any] = []
    logs = [Path(f"/tmp/{schema}_{n}.log") for n in range(n_workers)]
    stat_files = [Path(f"/tmp/{schema}_{n}.json") for n in range(n_workers)]
    machine = machine_check(url)
    # a team at work elsewhere in the council: its worklist is timed before and during the sweep
    # (its cases start a year after NOW, so none of their timers is due in this run)
    people_engine = Engine(url)
    passwords.ARGON2.update(BENCH_ARGON2)
    with clock.using(FixedClock(NOW + timedelta(days=400))):
        real_world(people_engine)

    # per measure (WORKLIST_MEASURES), per phase: the samples taken beside each timed call
    measured: dict[str, dict[str, list[float]]] = {
        name: {"idle": [], "busy": [], "after": []} for name in WORKLIST_MEASURES
    }
    # a SELECT 1 after each timed worklist call: how long one round trip waits meanwhile
    # (autocommit, so no snapshot is held open against the sweep)
    trip_conn = people_engine.db.connect().execution_options(isolation_level="AUTOCOMMIT")
    # the worklist's statements as the driver sees them: round trip and PostgreSQL's work
    in_sql = [0.0, 0.0]  # [started, total] of the call being timed

    @event.listens_for(people_engine.db, "before_cursor_execute")
    def _sql_start(*_: Any) -> None:
        in_sql[0] = time.perf_counter()

    @event.listens_for(people_engine.db, "after_cursor_execute")
    def _sql_end(*_: Any) -> None:
        in_sql[1] += time.perf_counter() - in_sql[0]

    def worklist_ms(phase: str = "") -> float:
        in_sql[1] = 0.0
        c0, t0 = time.thread_time(), time.perf_counter()
        people_engine.worklist(teams=[TEAM], unclaimed_only=True)
        took = (time.perf_counter() - t0) * 1000
        if phase:
            cpu = (time.thread_time() - c0) * 1000
            t1 = time.perf_counter()
            trip_conn.exec_driver_sql("SELECT 1").all()
            trip = (time.perf_counter() - t1) * 1000
            for name, ms in (("cpu", cpu), ("sql", in_sql[1] * 1000), ("trip", trip)):
                measured[name][phase].append(ms)
        return took

    for _ in range(5):
        worklist_ms()
    idle = []
    for _ in range(40):
        idle.append(worklist_ms("idle"))
        time.sleep(0.02)
    busy: list[float] = []
    busy_at: list[float] = []
    load = os.getloadavg()[0]
    app = f"{schema}_worker"  # tags the workers' connections in pg_stat_activity
    worker_url = f"{url}&application_name={app}"
    sampler = WaitSampler(db, app)
    busy0, total0 = system_busy()
    launch = time.time()
    offset = NOW.timestamp() - launch  # worker clock = real time + offset: NOW at launch
    procs = []
    for path, stat_file in zip(logs, stat_files, strict=True):
        errs.append(path.open("wb"))
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    WORKER_CODE,
                    repr(offset),
                    "--database",
                    worker_url,
                    "worker",
                    "--interval",
                    f"{interval:g}",
                    "--nice",
                    "10",
                ],
                cwd=ROOT,
                env={**env, "BENCH_STATS": str(stat_file)},
                stdout=subprocess.DEVNULL,
                stderr=errs[-1],
            )
        )
    left = len(data.due)
    timed_out = False
    sampler.start()
    try:
        while left:
            polled = time.time()
            while time.time() - polled < 0.25:  # a person at the worklist meanwhile
                busy.append(worklist_ms("busy"))
                busy_at.append(time.time() - launch)
                time.sleep(0.03)
            # EXISTS stops at the first due timer: a count(*) of the due range took 115 ms at
            # national scale, held a snapshot open (so the workers' claims kept visiting the
            # index entries of timers already fired) and took CPU from the sweep it measures
            with db.connect() as conn:
                left = conn.scalar(select(exists().where(TimerRow.due_at <= NOW)))
            if time.time() - launch > timeout:
                timed_out = True
                break
            if all(p.poll() is not None for p in procs):
                break
        stop_s = time.time() - launch
        sampler.stop()
        busy1, total1 = system_busy()
        cpu = [cpu_ticks(p.pid) for p in procs]
        pg_cpu = sum(c for c in map(cpu_ticks, sampler.pids) if c == c)  # alive ones
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for f in errs:
            f.close()
    # The same worklist once the workers have stopped: slow still means the sweep's writes
    # (the data), back to idle means the sweep itself (contention while it ran).
    after = []
    for _ in range(40):
        after.append(worklist_ms("after"))
        time.sleep(0.02)
    trip_conn.close()
    # And again after ANALYZE (fresh planner statistics), then after VACUUM (dead row versions
    # gone, visibility map set): which of the two autovacuum's work would give back.
    after_maintenance: dict[str, float] = {}
    tables = '"case", task, timer, child, audit_event'
    for step in ("ANALYZE", "VACUUM"):
        with db.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            t0 = time.perf_counter()
            conn.exec_driver_sql(f"{step} {tables}")
            took = time.perf_counter() - t0
        timings = []
        for _ in range(40):
            timings.append(worklist_ms())
            time.sleep(0.02)
        after_maintenance[f"{step} ({took:.0f} s)"] = statistics.median(timings)
    problems = []
    batches: dict[str, float] = dict.fromkeys(BATCH_KEYS, 0)
    cases_per_worker = []
    for stat_file in stat_files:
        if stat_file.exists():
            saved = json.loads(stat_file.read_text())
            stat_file.unlink()
            for key in BATCH_KEYS:
                batches[key] += saved[key]
            cases_per_worker.append(saved["cases"])
        else:
            problems.append(f"{stat_file}: the worker saved no statistics")
    for path in logs:
        body = path.read_text(errors="replace")
        if "Traceback" in body or "sweep failed" in body:
            problems.append(f"{path}: {body[-2000:]}")
        else:
            path.unlink()

    with db.connect() as conn:
        events = conn.execute(
            select(AuditEvent.task_id, AuditEvent.at, AuditEvent.detail).where(
                AuditEvent.action.like("timer_fired:%")
            )
        ).all()
        waiting = conn.scalars(select(TimerRow.id).where(TimerRow.due_at <= NOW)).all()
        left_due = len(waiting)
        tasks = conn.scalar(
            select(func.count()).select_from(TaskRow).where(TaskRow.team_key.is_distinct_from(TEAM))
        )
    db.dispose()
    people_engine.dispose()
    schemas.drop(schema)

    counts = Counter(e.task_id for e in events)
    if not problems and batches["fired"] != len(events):
        problems.append(
            f"_fire_batch counted {batches['fired']:,} timers fired, the audit log has "
            f"{len(events):,} timer_fired events"
        )
    lateness, fired_at = [], []
    for e in events:
        if e.task_id in data.due:
            expected = data.due[e.task_id]
            if e.detail.get("due_at") != expected.isoformat():
                problems.append(f"audit due_at {e.detail.get('due_at')} != {expected.isoformat()}")
            lateness.append((e.at - expected).total_seconds())
        fired_at.append((e.at - NOW).total_seconds())
    stopped = NOW + timedelta(seconds=stop_s)
    lateness += [(stopped - data.due[tid]).total_seconds() for tid in waiting if tid in data.due]
    return RunResult(
        workers=n_workers,
        fired=len(events),
        first_s=min(fired_at, default=float("nan")),
        last_s=max(fired_at, default=float("nan")),
        lateness=lateness,
        censored=left_due,
        stop_s=stop_s,
        duplicates=sum(n - 1 for n in counts.values() if n > 1),
        missing=len(set(data.due) - set(counts)),
        unexpected=len(set(counts) - set(data.due)),
        left_due=left_due,
        tasks=tasks,
        worker_cpu_s=cpu,
        pg_cpu_s=pg_cpu,
        machine_busy=(busy1 - busy0) / max(total1 - total0, 1),
        timed_out=timed_out,
        machine=machine,
        load=load,
        waits=sampler.shares(),
        backends=len(sampler.pids),
        batches=batches,
        cases_per_worker=cases_per_worker,
        worklist_idle=idle,
        worklist_busy=busy,
        worklist_busy_at=busy_at,
        worklist_measures={
            name: {phase: statistics.median(v) for phase, v in phases.items() if v}
            for name, phases in measured.items()
        },
        worklist_after=after,
        worklist_after_maintenance=after_maintenance,
        errors=problems[:5],
    )
