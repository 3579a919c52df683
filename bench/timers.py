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
   around `Engine._fire_batch` in the worker process counts batches (one transaction each: claim
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
import cProfile
import io
import json
import os
import platform
import pstats
import random
import re
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402
from sqlalchemy import Integer, create_engine, event, func, select, text  # noqa: E402
from sqlalchemy.engine import Connection  # noqa: E402
from sqlalchemy.orm import Session, SessionTransaction  # noqa: E402
from worklist import BENCH_SCRYPT_N, TEAM, real_world  # noqa: E402  (bench/worklist.py)

from engine import clock, people  # noqa: E402
from engine.clock import FixedClock  # noqa: E402
from engine.services import Engine, NewChild  # noqa: E402
from engine.services import deadlines as deadlines_module  # noqa: E402
from engine.store import cases as case_store  # noqa: E402
from engine.store.models import (  # noqa: E402
    AuditEvent,
    Base,
    Case,
    Child,
    ProcessVersion,
    TaskRow,
    TimerRow,
)
from engine.store.projection import Writes  # noqa: E402

DIAGRAM = ROOT / "tests/integration/data/wait_a_day.bpmn"
PROCESS_ID = "wait_a_day"
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
# The engine's "now" at which every worker run starts (a Monday morning); due times hang off it.
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
SLOT_RE = re.compile(r"@@(\w+?)@@")
# What the worker prelude counts in Engine._fire_batch, summed over a run's workers.
WORKLIST_TARGET = 1.2
BATCH_KEYS = ("batches", "empty", "failed", "cases", "fired", "wall_s", "cpu_s", "empty_wall_s")

# The real CLI (`cinflow worker`), on a real-time clock that reads NOW at launch (argv[1] is
# the offset in seconds). The only addition: a counter around Engine._fire_batch (one sweep
# transaction; two clock reads per call): batches, empty ones (no case dealt with), batches that
# raised (their cases are redone one by one), cases dealt with, timers fired, wall and CPU
# seconds, saved to $BENCH_STATS when the bench stops the worker (SIGTERM).
WORKER_CODE = """
import json, os, signal, sys, time
from datetime import timedelta
from engine import clock
from engine.clock import OffsetClock, SystemClock
from engine.services import Engine

clock.set_default(OffsetClock(SystemClock(), timedelta(seconds=float(sys.argv.pop(1)))))
stats = dict.fromkeys(BATCH_KEYS, 0)
fire_batch = Engine._fire_batch

def counted(self, *args, **kwargs):
    wall, cpu = time.perf_counter(), time.process_time()
    fired = cases = None
    try:
        fired, cases = fire_batch(self, *args, **kwargs)
        return fired, cases
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

Engine._fire_batch = counted
signal.signal(signal.SIGTERM, stop)
from webui.cli import main
main()
""".replace("BATCH_KEYS", repr(BATCH_KEYS))


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- schemas -----------------------------------------------------------------------------------


class Schemas:
    """Private PostgreSQL schemas for one bench run; all dropped by `drop_all`."""

    def __init__(self, base_url: str) -> None:
        if not base_url.startswith("postgresql"):
            raise SystemExit("bench/timers.py needs PostgreSQL (several workers lock rows)")
        self.base_url = base_url
        self.prefix = f"bench_timers_{uuid.uuid4().hex[:8]}"
        self.admin = create_engine(base_url)
        self.made: list[str] = []

    def url(self, schema: str) -> str:
        joiner = "&" if "?" in self.base_url else "?"
        return f"{self.base_url}{joiner}options=-csearch_path%3D{schema}"

    def create(self, suffix: str) -> str:
        schema = f"{self.prefix}_{suffix}"
        with self.admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        self.made.append(schema)
        return schema

    def drop(self, schema: str) -> None:
        with self.admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        if schema in self.made:
            self.made.remove(schema)

    def drop_all(self) -> None:
        for schema in list(self.made):
            self.drop(schema)
        self.admin.dispose()

    def fresh_copy(self, seed: str, suffix: str) -> str:
        """A new schema made by the engine (create_all + stamp), filled from the seed in SQL."""
        schema = self.create(suffix)
        engine = Engine(self.url(schema))
        engine.init_db()
        engine.dispose()
        with self.admin.begin() as conn:
            for table in Base.metadata.sorted_tables:
                cols = ", ".join(f'"{c.name}"' for c in table.columns)
                conn.execute(
                    text(
                        f'INSERT INTO "{schema}"."{table.name}" ({cols}) '
                        f'SELECT {cols} FROM "{seed}"."{table.name}"'
                    )
                )
                if "id" in table.columns and isinstance(table.columns["id"].type, Integer):
                    conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence("
                            f"'\"{schema}\".\"{table.name}\"', 'id'), COALESCE(max(id), 0) + 1, "
                            f'false) FROM "{schema}"."{table.name}"'
                        )
                    )
            for table in ("case", "timer", "child", "task", "audit_event"):
                conn.execute(text(f'ANALYZE "{schema}"."{table}"'))
        return schema


# --- the data set: one real case, cloned ---------------------------------------------------------


@dataclass
class Template:
    """The template case's state JSON cut at its slots: literal, slot name, literal, ..."""

    parts: list[str]
    timer_slot: str
    child: dict[str, Any]
    case: dict[str, Any]
    timer: dict[str, Any]

    @property
    def uuid_slots(self) -> list[str]:
        return sorted({p for p in self.parts[1::2] if p.startswith("U")})


def make_template(case: dict[str, Any], child: dict[str, Any], timer: dict[str, Any]) -> Template:
    state = json.loads(case["state_json"])
    timer_task = state["tasks"][timer["id"]]
    assert "event_value" in timer_task["internal_data"], "the timer task has no due instant"
    timer_task["internal_data"]["event_value"] = "@@DUE@@"
    start_data = state["tasks"][state["root"]]["data"]
    start_data["case"]["id"] = "@@CASE_ID@@"
    start_data["child"]["name"] = "@@CHILD@@"
    flat = json.dumps(state).replace('"@@CASE_ID@@"', "@@CASE_ID@@")
    uuids = list(dict.fromkeys(UUID_RE.findall(flat)))
    for n, old in enumerate(uuids):
        flat = flat.replace(old, f"@@U{n}@@")
    assert not UUID_RE.search(flat)
    return Template(
        SLOT_RE.split(flat), f"U{uuids.index(timer['id'])}", dict(child), dict(case), dict(timer)
    )


@dataclass
class DataSet:
    seed: str
    version_id: int
    due: dict[str, datetime]  # timer id -> due instant, for every timer due by NOW
    case_of: dict[str, int]  # timer id -> case id (due timers)
    template_parts: int
    state_bytes: int
    setup_s: float
    clone_s: float
    raw_state: str  # a due clone's state, for the raw step


def insert_clones(
    conn: Any, tpl: Template, n_cases: int, ago: dict[int, float], seed: float
) -> None:
    """Insert clones 1..n_cases in three INSERT ... SELECT statements, generated in PostgreSQL.

    A temporary table holds, per clone, its id, one fresh UUID per UUID of the template state
    (gen_random_uuid) and its due instant: NOW minus `ago[id]` seconds for the due ones, 1 to 30
    days after NOW (random(), seeded) for the others. The state JSON is the template with every
    UUID slot, the due instant, the case id and the child's name filled in (concat), so the
    timer row's id is the timer task's UUID and its due_at the task's event_value.
    """
    slots = tpl.uuid_slots
    conn.execute(text("SELECT setseed(:seed)"), {"seed": seed})
    ids, agos = zip(*sorted(ago.items()), strict=True) if ago else ((), ())
    uuids = ", ".join(f"gen_random_uuid()::text AS {slot.lower()}" for slot in slots)
    conn.execute(
        text(
            f"""CREATE TEMP TABLE clone_src ON COMMIT DROP AS
            SELECT g AS id, {uuids},
                   COALESCE(:now - make_interval(secs => d.ago),
                            :now + make_interval(secs => 86400 + random() * 29 * 86400)) AS due_at
            FROM generate_series(1, :n) AS g
            LEFT JOIN unnest(CAST(:ids AS integer[]), CAST(:agos AS double precision[]))
                 AS d(id, ago) ON d.id = g"""
        ),
        {"now": NOW, "n": n_cases, "ids": list(ids), "agos": list(agos)},
    )
    slot_sql = {slot: slot.lower() for slot in slots}
    slot_sql["DUE"] = (
        "to_char(due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US') || '+00:00'"
    )
    slot_sql["CASE_ID"] = "id::text"
    slot_sql["CHILD"] = "'Bench child ' || id"
    params: dict[str, Any] = {}
    pieces = []
    for n, part in enumerate(tpl.parts):
        if n % 2:
            pieces.append(slot_sql[part])
        else:
            params[f"p{n}"] = part
            pieces.append(f"CAST(:p{n} AS text)")
    state = f"concat({', '.join(pieces)})"
    varying = {
        "child": {"id": "id", "name": slot_sql["CHILD"]},
        "case": {"id": "id", "child_id": "id", "state_json": state},
        "timer": {"id": slot_sql[tpl.timer_slot], "case_id": "id", "due_at": "due_at"},
    }
    for table, template in (
        (Child.__table__, tpl.child),
        (Case.__table__, tpl.case),
        (TimerRow.__table__, tpl.timer),
    ):
        exprs = []
        for col in table.columns:
            if col.name in varying[table.name]:
                exprs.append(varying[table.name][col.name])
            else:
                name = f"{table.name}_{col.name}"
                params[name] = template[col.name]
                exprs.append(f"CAST(:{name} AS {col.type.compile(dialect=conn.dialect)})")
        cols = ", ".join(f'"{c.name}"' for c in table.columns)
        conn.execute(
            text(f'INSERT INTO "{table.name}" ({cols}) SELECT {", ".join(exprs)} FROM clone_src'),
            params,
        )


def build_data_set(schemas: Schemas, n_cases: int, n_due: int, interval: float) -> DataSet:
    t_setup = time.perf_counter()
    seed = schemas.create("seed")
    url = schemas.url(seed)
    engine = Engine(url)
    engine.init_db()
    opened = NOW - timedelta(days=1)
    with clock.using(FixedClock(opened)):
        engine.deploy([DIAGRAM], "bench")
        started = engine.start_case(PROCESS_ID, NewChild("Template child"), {}, "bench")
    with engine.db.begin() as conn:
        query = select(Case.__table__).where(Case.id == started.id)
        case = dict(conn.execute(query).one()._mapping)
        child = dict(conn.execute(select(Child.__table__)).one()._mapping)
        timer = dict(conn.execute(select(TimerRow.__table__)).one()._mapping)
        assert conn.scalar(select(func.count()).select_from(TaskRow)) == 0
        # The template is only a template: its rows go, clones take ids 1..n.
        conn.execute(Case.__table__.delete())
        conn.execute(Child.__table__.delete())
        conn.execute(AuditEvent.__table__.delete().where(AuditEvent.case_id.is_not(None)))
    tpl = make_template(case, child, timer)

    # Due instants evenly spread over the sweep interval before NOW, shuffled over random cases.
    rng = random.Random(20261123)
    due_ids = sorted(rng.sample(range(1, n_cases + 1), n_due))
    spread = [interval * (k + 0.5) / n_due for k in range(n_due)]
    rng.shuffle(spread)
    ago = dict(zip(due_ids, spread, strict=True))
    probe = n_cases + 1  # one more clone, due, to fire through the engine and then remove
    ago[probe] = interval / 2

    t_clone = time.perf_counter()
    with engine.db.begin() as conn:
        insert_clones(conn, tpl, n_cases + 1, ago, 0.42)
        for table in ("child", "case"):
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                    f'COALESCE(max(id), 0) + 1, false) FROM "{table}"'
                )
            )
    with engine.db.begin() as conn:
        for table in ("case", "timer", "child"):
            conn.execute(text(f'ANALYZE "{table}"'))
    clone_s = time.perf_counter() - t_clone
    log(f"cloned {n_cases:,} cases in {clone_s:.1f} s")

    raw_state = verify_clones(engine, n_cases, probe, len(due_ids))
    with engine.db.connect() as conn:
        rows = conn.execute(
            select(TimerRow.id, TimerRow.case_id, TimerRow.due_at).where(TimerRow.due_at <= NOW)
        ).all()
        version_id = conn.execute(select(ProcessVersion.id)).scalar_one()
    engine.dispose()
    due = {r.id: r.due_at for r in rows}
    case_of = {r.id: r.case_id for r in rows}
    assert sorted(case_of.values()) == due_ids
    return DataSet(
        seed,
        version_id,
        due,
        case_of,
        len(tpl.parts),
        len(case["state_json"]),
        time.perf_counter() - t_setup,
        clone_s,
        raw_state,
    )


def verify_clones(engine: Engine, n_cases: int, probe: int, n_due: int) -> str:
    """Check a sample of clones against their rows, then fire the probe clone for real.

    Returns the probe's state as it was before firing (a due state, for the raw step).
    """
    rng = random.Random(7)
    with engine.sessions() as s:
        assert s.scalar(select(func.count()).select_from(TimerRow)) == n_cases + 1
        due_count = select(func.count()).select_from(TimerRow).where(TimerRow.due_at <= NOW)
        assert s.scalar(due_count) == n_due + 1
        assert s.scalar(select(func.count(func.distinct(TimerRow.id)))) == n_cases + 1
        sample = [*rng.sample(range(1, n_cases + 1), min(200, n_cases)), probe]
        for cid in sample:
            case = engine.store.case(s, cid)  # the CaseRecord the sweep works on (child joined)
            (timer,) = s.scalars(select(TimerRow).where(TimerRow.case_id == cid)).all()
            snap = engine.runtime.snapshot(engine.store.load(s, case), lambda _k: None)
            (view,) = snap.timers
            assert view.task_id == timer.id and view.due_at == timer.due_at, (cid, view, timer)
            state = json.loads(case.state_json)
            assert state["tasks"][state["root"]]["data"]["case"]["id"] == cid
            assert state["tasks"][state["root"]]["data"]["child"]["name"] == case.child_name
            assert len(set(state["tasks"])) == len(state["tasks"])
        probe_state = engine.store.case(s, probe).state_json
        probe_timer = s.scalars(select(TimerRow).where(TimerRow.case_id == probe)).one()
        not_due = s.scalars(select(TimerRow.case_id).where(TimerRow.due_at > NOW).limit(1)).one()
    with clock.using(FixedClock(NOW)):
        assert engine.fire_due_timers(case_id=not_due) == 0, "a clone fired before its time"
        assert engine.fire_due_timers(case_id=probe) == 1, "the probe clone did not fire"
    info = engine.get_case(probe)
    assert info.timers == [] and [t.element_id for t in info.tasks] == ["after"], info
    assert info.revision == 2
    with engine.sessions() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.case_id == probe)).all()
        assert [e.action for e in events] == ["timer_fired:timer"], events
        assert events[0].task_id == probe_timer.id
        assert events[0].detail["due_at"] == probe_timer.due_at.isoformat()
    with engine.db.begin() as conn:
        conn.execute(AuditEvent.__table__.delete().where(AuditEvent.case_id == probe))
        conn.execute(Case.__table__.delete().where(Case.id == probe))  # cascades task, timer
        conn.execute(Child.__table__.delete().where(Child.id == probe))
    log(
        f"clones verified: {len(sample)} sampled states match their rows; "
        "a probe clone fired through the engine and was removed"
    )
    return probe_state


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
    batches: dict[str, float]  # Engine._fire_batch counters (BATCH_KEYS), all workers together
    cases_per_worker: list[int]  # cases each worker dealt with in _fire_batch
    worklist_idle: list[float] = field(default_factory=list)  # ms, before the launch
    worklist_busy: list[float] = field(default_factory=list)  # ms, while due timers were left
    errors: list[str] = field(default_factory=list)

    @property
    def worklist_ratio(self) -> float:
        if not self.worklist_idle or not self.worklist_busy:
            return float("nan")
        return statistics.median(self.worklist_busy) / statistics.median(self.worklist_idle)

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
    people._SCRYPT["n"] = BENCH_SCRYPT_N
    with clock.using(FixedClock(NOW + timedelta(days=400))):
        real_world(people_engine)

    def worklist_ms() -> float:
        t0 = time.perf_counter()
        people_engine.worklist(teams=[TEAM], unclaimed_only=True)
        return (time.perf_counter() - t0) * 1000

    for _ in range(5):
        worklist_ms()
    idle = []
    for _ in range(40):
        idle.append(worklist_ms())
        time.sleep(0.02)
    busy: list[float] = []
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
                busy.append(worklist_ms())
                time.sleep(0.03)
            with db.connect() as conn:
                left = conn.scalar(
                    select(func.count()).select_from(TimerRow).where(TimerRow.due_at <= NOW)
                )
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
        errors=problems[:5],
    )


# --- profile: one sweep in this process ---------------------------------------------------------


RAW_TOO = " [raw too]"
BATCH_PHASE = "_fire_batch: one transaction (Python)"


def classify(statement: str, executemany: bool = False) -> str:
    """A short name for one SQL statement of the sweep, e.g. "claim a batch: SELECT case ..."."""
    sql = " ".join(statement.split())
    verb = sql.split(" ", 1)[0]
    match = re.search(r'(?:FROM|INTO|UPDATE) "?(\w+)"?', sql)
    table = match.group(1) if match else "?"
    many = " (executemany)" if executemany else ""
    if verb == "WITH" and re.search(r'\) UPDATE "?case"?', sql):
        return "UPDATE case + row changes as CTEs (one-case flush)"
    if verb == "SELECT" and "SKIP LOCKED" in sql:
        return "claim a batch: SELECT case JOIN child JOIN timer ... SKIP LOCKED"
    if verb == "SELECT" and "FOR UPDATE" in sql:
        return f"SELECT {table} FOR UPDATE (lock one case)"
    if verb == "SELECT" and table in ("timer", "task"):
        scope = "of the batch (case_id IN ...)" if " IN (" in sql else "of one case"
        if " UNION ALL " in sql:
            return f"SELECT task + timer rows {scope}, UNION ALL"
        return f"SELECT {table} rows {scope}"
    if verb == "SELECT" and table == "process_version":
        return "SELECT process_version (first case of a version)"
    if verb == "SELECT" and table == "closure_day":
        return "SELECT closure_day (calendar, first case of a council)"
    if verb == "UPDATE":
        head, _, where = sql.partition(" WHERE ")
        columns = re.findall(r"(\w+)=", head)
        shown = ", ".join(columns[:2]) + (", ..." if len(columns) > 2 else "")
        notes = ["executemany"] if executemany else []
        notes += ["revision check"] if re.search(r"\brevision = ", where) else []
        return f"UPDATE {table} SET {shown}" + (f" ({', '.join(notes)})" if notes else "")
    if verb == "DELETE":
        return f"DELETE {table}" + (" WHERE id IN (...)" if " IN (" in sql else " WHERE id = ?")
    if verb == "INSERT":
        rows = " (multi-row VALUES)" if "), (" in sql.partition(" VALUES ")[2] else ""
        return f"INSERT {table}{rows}{many}"
    return f"{verb} {table}{many}"


@contextmanager
def phase_wrappers(engine: Engine) -> Iterator[tuple[dict[str, float], Counter[str]]]:
    """Exclusive time per phase (a nested phase is not counted twice) and calls per phase.

    Engine, projection and library functions on the sweep's call graph are wrapped; a row holds
    the function's own Python, which includes turning result rows into records as they are
    read (`claim_due_cases`, `read_projection`). SQLAlchemy's `Connection.execute` row is
    statement execution (compile or compiled-cache lookup, parameter processing, the result
    object); `Session._execute_internal` is the ORM layer around it for statements run through
    the Session. Each SQL statement is timed from SQLAlchemy's before_cursor_execute to
    after_cursor_execute events: the DBAPI execute or executemany, i.e. psycopg's client side
    (query conversion, parameter adaptation: not negligible for a 50-row VALUES list), the round
    trip and the server's work, with the BEGIN psycopg sends before a transaction's first
    statement; an executemany is one call however many rows it sends (psycopg pipelines them).
    The dialect's do_commit is wrapped too. So "DB ..." rows are psycopg + PostgreSQL, the
    other rows Python above the DBAPI in this process.
    """
    spent: dict[str, float] = defaultdict(float)
    calls: Counter[str] = Counter()
    stack: list[float] = []
    undo: list[Callable[[], None]] = []

    def enter() -> float:
        stack.append(0.0)
        return time.perf_counter()

    def leave(label: str, t0: float) -> None:
        elapsed = time.perf_counter() - t0
        spent[label] += elapsed - stack.pop()
        calls[label] += 1
        if stack:
            stack[-1] += elapsed

    def wrap(owner: Any, name: str, label: str) -> None:
        original = getattr(owner, name)  # AttributeError: the call graph changed, update this
        own = name in vars(owner)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t0 = enter()
            try:
                return original(*args, **kwargs)
            finally:
                leave(label, t0)

        setattr(owner, name, wrapper)
        undo.append(lambda: setattr(owner, name, original) if own else delattr(owner, name))

    rt = engine.runtime
    for owner, name, label in [
        (engine.deadlines, "fire_due_timers", "fire_due_timers: sweep loop"),
        (engine.deadlines, "_fire_batch", BATCH_PHASE),
        (engine.store, "claim_due_cases", "claim_due_cases: rows -> CaseRecord"),
        (deadlines_module, "read_projection", "read_projection: rows -> task/timer records"),
        (engine.store, "load", "_load: version and spec lookup"),
        (engine.store, "functions", "functions: diagram functions per case"),
        (rt, "load_state", "load_state: json + deserialize" + RAW_TOO),
        (BpmnWorkflow, "refresh_timers", "refresh_timers" + RAW_TOO),
        (BpmnWorkflow, "do_engine_steps", "do_engine_steps" + RAW_TOO),
        (engine.store, "save", "_save (Python)"),
        (rt, "snapshot", "snapshot: walk the task tree"),
        (rt, "dump_state", "dump_state: serialize + json" + RAW_TOO),
        (case_store, "project", "project: diff the projection (Python)"),
        (deadlines_module, "record_fired", "_record_fired: audit and inbox rows (Python)"),
        (Writes, "flush", "Writes.flush: the batch's statements (Python)"),
        (engine.deadlines, "_needs_attention", "_needs_attention (a case could not fire)"),
        (Connection, "execute", "SQLAlchemy Connection.execute (compile, cache, result)"),
        (Session, "_execute_internal", "SQLAlchemy Session execution (ORM layer)"),
        (SessionTransaction, "commit", "SQLAlchemy commit bookkeeping"),
        (Session, "close", "SQLAlchemy session close (connection back to the pool)"),
        (engine.db.dialect, "do_commit", "DB COMMIT (WAL flush, synchronous_commit)"),
    ]:
        wrap(owner, name, label)

    started: list[float] = []

    def before(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        started.append(enter())

    def after(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        leave("DB " + classify(statement, executemany), started.pop())

    event.listen(engine.db, "before_cursor_execute", before)
    event.listen(engine.db, "after_cursor_execute", after)
    try:
        yield spent, calls
    finally:
        event.remove(engine.db, "before_cursor_execute", before)
        event.remove(engine.db, "after_cursor_execute", after)
        for restore in reversed(undo):
            restore()


@dataclass
class Profile:
    fired_phases: int
    phases_s: float
    phases: list[tuple[str, float]]
    calls: Counter[str]
    empty_ms: tuple[float, float]  # an empty _fire_batch: nothing due / the due cases locked
    locked: int  # due cases another connection held for the second of those
    fired_cprofile: int
    cprofile_s: float
    top: str
    by_library: list[tuple[str, float]]


def library_of(filename: str) -> str:
    for marker, name in [
        ("SpiffWorkflow", "SpiffWorkflow"),
        ("sqlalchemy", "SQLAlchemy"),
        ("psycopg", "psycopg"),
        ("/json/", "json (stdlib)"),
        ("simpleeval", "simpleeval"),
        ("apscheduler", "APScheduler"),
        (str(ROOT / "engine"), "cinflow engine/"),
    ]:
        if marker in filename:
            return name
    if filename.startswith("~") or filename == "{built-in}":
        return "builtins / C (socket, uuid, ...)"
    return "other Python (stdlib: datetime, uuid, copy, ...)"


def empty_batch_ms(
    engine: Engine, idle_at: datetime, locked: list[int], locked_at: datetime, repeat: int = 50
) -> tuple[float, float]:
    """Median ms of a sweep whose one `_fire_batch` deals with no case (every sweep ends so).

    First with nothing due by `idle_at` (BEGIN + claim query, nothing found, COMMIT), then with
    the cases due by `locked_at` row-locked by another connection, as when another worker holds
    them in its batch: the claim skips them (SKIP LOCKED) and finds nothing either.
    """

    def median_ms(at: datetime) -> float:
        times = []
        with clock.using(FixedClock(at)):
            for _ in range(repeat):
                t0 = time.perf_counter()
                assert engine.fire_due_timers(actor="bench") == 0, "an empty sweep fired"
                times.append(time.perf_counter() - t0)
        return statistics.median(times) * 1000

    idle = median_ms(idle_at)
    if not locked:
        return idle, float("nan")
    with engine.db.connect() as holder:
        holder.execute(select(Case.id).where(Case.id.in_(locked)).with_for_update()).all()
        skipped = median_ms(locked_at)
        holder.rollback()
    return idle, skipped


def profile_sweep(schemas: Schemas, data: DataSet, k_phases: int, k_cprofile: int) -> Profile:
    schema = schemas.fresh_copy(data.seed, "prof")
    engine = Engine(schemas.url(schema))
    rng = random.Random(3)
    keep = rng.sample(sorted(data.due), min(len(data.due), k_phases + k_cprofile))
    keep.sort(key=lambda tid: data.due[tid])
    k_phases = min(k_phases, len(keep) // 2 or 1)
    drop = [data.case_of[tid] for tid in set(data.due) - set(keep)]
    with engine.db.begin() as conn:
        for i in range(0, len(drop), 20_000):  # PostgreSQL takes at most 65,535 parameters
            conn.execute(Case.__table__.delete().where(Case.id.in_(drop[i : i + 20_000])))
        conn.execute(text('ANALYZE "case"'))
        conn.execute(text("ANALYZE timer"))
    engine.fire_due_timers(case_id=-1)  # warm the pool and the statement caches
    cut = data.due[keep[k_phases - 1]]
    with clock.using(FixedClock(cut)), phase_wrappers(engine) as (spent, calls):
        t0 = time.perf_counter()
        fired_phases = engine.fire_due_timers()
        phases_s = time.perf_counter() - t0
    order = sorted(spent.items(), key=lambda kv: -kv[1])
    phases = [*order, ("not wrapped", phases_s - sum(spent.values()))]
    # One batch's worth of the next due cases, held as another worker's batch would hold them.
    held = keep[k_phases : k_phases + 50]
    empty_ms = empty_batch_ms(
        engine, cut, [data.case_of[tid] for tid in held], data.due[held[-1]] if held else cut
    )

    profiler = cProfile.Profile()
    with clock.using(FixedClock(NOW)):
        t0 = time.perf_counter()
        fired_cprofile = profiler.runcall(engine.fire_due_timers)
        cprofile_s = time.perf_counter() - t0
    stats = pstats.Stats(profiler)
    by_lib: dict[str, float] = defaultdict(float)
    for (filename, _line, _name), (_cc, _nc, tt, _ct, _callers) in stats.stats.items():
        by_lib[library_of(filename)] += tt
    buf = io.StringIO()
    stats.stream = buf
    stats.sort_stats("tottime").print_stats(14)
    top = "\n".join(
        line.replace(str(ROOT) + "/", "").replace(
            str(Path(sys.prefix) / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}"),
            "",
        )
        for line in buf.getvalue().splitlines()
        if line.strip() and not line.lstrip().startswith(("Ordered by", "List reduced"))
    )
    engine.dispose()
    schemas.drop(schema)
    total_tt = sum(by_lib.values())
    libs = sorted(((k, v / total_tt) for k, v in by_lib.items()), key=lambda kv: -kv[1])
    return Profile(
        fired_phases,
        phases_s,
        phases,
        calls,
        empty_ms,
        len(held),
        fired_cprofile,
        cprofile_s,
        top,
        libs,
    )


# --- report --------------------------------------------------------------------------------------


def batch_line(b: dict[str, float], per_worker: list[int]) -> str:
    """The `_fire_batch` counters of a run, e.g. "_fire_batch: 21 batches (1 empty), ..."."""
    full = b["batches"] - b["empty"] - b["failed"]
    line = (
        f"_fire_batch: {b['batches']:,.0f} batches ({b['empty']:,.0f} empty"
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
        "only cases another worker had fired meanwhile); every sweep ends with one, but the "
        "bench stops the workers as soon as no due timer is left, so a last one still running "
        "then is not counted."
    )
    for r in runs:
        print(
            f"  {r.workers} worker(s), just before the launch: load average {r.load:.1f}; "
            f"median durable COMMIT {r.machine[0]:.2f} ms, SELECT 1 round trip "
            f"{r.machine[1]:.2f} ms, {r.machine[2]:.2f} ms right after 1 ms of client CPU"
        )
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
