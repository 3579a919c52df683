"""The timer bench's data set (step 1 of bench/timers.py): private schemas, and one real case
cloned in bulk, verified, and copied afresh for each worker run.
"""

import json
import random
import re
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Integer, create_engine, func, select, text

from engine import clock
from engine.clock import FixedClock
from engine.services import Engine, NewChild
from engine.store.models import (
    AuditEvent,
    Base,
    Case,
    Child,
    ProcessVersion,
    TaskRow,
    TimerRow,
)

ROOT = Path(__file__).resolve().parent.parent

DIAGRAM = ROOT / "tests/integration/data/wait_a_day.bpmn"
PROCESS_ID = "wait_a_day"
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
# The engine's "now" at which every worker run starts (a Monday morning); due times hang off it.
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
SLOT_RE = re.compile(r"@@(\w+?)@@")
# What the worker prelude counts in Engine._fire_batch, summed over a run's workers.


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
