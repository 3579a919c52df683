"""The timer bench's profile (step 5 of bench/timers.py): one sweep in this process, timed by
phase and by SQL statement, what an empty batch costs, and cProfile of another sweep.
"""

import cProfile
import io
import pstats
import random
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from sqlalchemy import event, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, SessionTransaction
from timers_build import NOW, DataSet, Schemas

from engine import clock
from engine.clock import FixedClock
from engine.services import Engine
from engine.services import deadlines as deadlines_module
from engine.store import cases as case_store
from engine.store.models import (
    Case,
)
from engine.store.projection import Writes

ROOT = Path(__file__).resolve().parent.parent

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
