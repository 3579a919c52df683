"""The worklist bench's databases (bench/worklist.py): a private schema per size, the benchmarked
team with its real cases driven through the engine, and the synthetic rest bulk-inserted with SQL.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from datetime import time as dtime
from pathlib import Path

from sqlalchemy import create_engine, text

from engine import clock
from engine.clock import FixedClock
from engine.services import Engine, NewChild

ROOT = Path(__file__).resolve().parent.parent

DEFAULT_DATABASE = os.environ.get(
    "CINFLOW_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SAMPLE = ROOT / "processes" / "sample"
CONSENT = json.loads((ROOT / "forms/examples/consent.valid.json").read_text())

TEAM, COUNCIL = "bench-team", "portsmouth"
WORKERS = [f"bench.sw{i:02d}" for i in range(1, 21)]
MANAGER = "bench.tm"
PASSWORD = "bench password, not a secret"
REAL_CASES = 20
TEAMS_PER_COUNCIL = 8
# Cheaper password hashing for the benchmark's own accounts (stored with the hash, checked
# with the same cost): 21 accounts are made and 20 sign in at once; production is unaffected.
BENCH_ARGON2 = {"time_cost": 1, "memory_cost": 4096, "parallelism": 1}

FIRST = ["Amelia", "Ben", "Chloe", "Dylan", "Evie", "Finn", "Grace", "Harry", "Isla", "Jack",
         "Kai", "Leah", "Mo", "Nia", "Oscar", "Priya", "Quinn", "Ruby", "Sam", "Tia"]  # fmt: skip
LAST = ["Hughes", "Carter", "Davies", "Evans", "Foster", "Green", "Hill", "Iqbal", "Jones",
        "Khan", "Lewis", "Morgan", "Nowak", "Owen", "Patel", "Roberts", "Smith", "Taylor",
        "Walker", "Young", "Wilson", "Thompson", "Robinson", "Wright", "Wood"]  # fmt: skip
SUFFIXES = ["", "ley", "ton", "ford", "well", "by", "wick", "ham", "field", "more", "dale", "croft",
            "worth", "ridge", "stead", "hurst", "brook", "combe", "thorpe", "gate"]  # fmt: skip
# A misspelt search for a real case's child ("Amelia Hughesson", the first real case).
MISSPELT = "Amelia Hugheson"
TASK_TYPES = [
    ("complete_assessment", "Complete the assessment", "assessment_outcome.json"),
    ("record_consent", "Record consent", "consent.json"),
    ("review_plan", "Review the child in need plan", "review_outcome.json"),
    ("record_visit", "Record a visit", "visit_record.json"),
]

# The sign-in form's CSRF token: the in-process clients and the load's users both sign in.
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@contextmanager
def private_schema(server: str, keep: bool = False) -> Iterator[tuple[str, str]]:
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in server else "?"
    try:
        yield f"{server}{sep}options=-csearch_path%3D{schema}", schema
    finally:
        if keep:
            print(f"schema {schema} kept: DROP SCHEMA {schema} CASCADE when done")
        else:
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def real_world(engine: Engine) -> list[int]:
    """The benchmarked team, its people and its real cases; returns the real case ids."""
    engine.people.add_team(TEAM, COUNCIL, "Bench CIN team")
    for username in WORKERS:
        name = f"Worker {username[-2:]}"
        engine.people.add_user(username, name, PASSWORD, "social_worker", [TEAM], by="bench")
    engine.people.add_user(MANAGER, "Team Manager", PASSWORD, "team_manager", [TEAM], by="bench")
    engine.deploy([SAMPLE], "bench", "sample for the worklist benchmark", council=COUNCIL)
    calendar = engine.calendar(COUNCIL)
    now = clock.now()
    today = now.date()
    ids = []
    for i in range(REAL_CASES):
        days_ago = (i * 7) % 26  # deadlines from 10 working days late to 15 ahead
        referral = calendar.add_working_days(today, -days_ago)
        started = min(datetime.combine(referral, dtime(9), UTC), now)
        with clock.using(FixedClock(started)):
            case = engine.start_case(
                "sample_referral",
                NewChild(f"{FIRST[i % 20]} {LAST[(i * 3) % 25]}son"),
                {"referral_date": started.isoformat()},
                "bench",
                council=COUNCIL,
                team=TEAM,
            )
            (consent,) = engine.tasks(case_id=case.id)
            done = engine.complete_task(consent.id, CONSENT, WORKERS[i % 4])
            (task,) = done.next_tasks
            if i % 3 == 0:
                engine.claim(task.id, WORKERS[i % 5])
        if i % 2 == 0:
            engine.casework.allocate(case.id, WORKERS[i % 4], MANAGER, teams=[TEAM])
        ids.append(case.id)
    return ids


SYNTHETIC = """
INSERT INTO child (id, council_key, name, date_of_birth, created_at)
SELECT :child0 + i, {council}, {name}, DATE '2010-01-01' + ((g * 37) % 5800),
       :now - make_interval(days => 30 + (g * 13) % 700)
FROM {rows};

INSERT INTO "case" (id, child_id, process_version_id, council_key, status, state_json,
                    serializer_version, revision, training, started_by, opened_at, team_key,
                    allocated_to)
SELECT :case0 + i, :child0 + i, :version, {council}, 'open', '{{}}', :serializer, 3, false,
       'bench', :now - make_interval(days => 30 + (g * 13) % 700), {team},
       CASE WHEN g % 5 < 3 THEN {claimer} END
FROM {rows};

INSERT INTO task (id, case_id, council_key, element_id, name, lane, form, due_at, rule_id,
                  created_at, claimed_by, training, team_key)
SELECT gen_random_uuid()::text, :case0 + i, {council},
       (ARRAY[{elements}])[1 + g % 4], (ARRAY[{names}])[1 + g % 4], 'Social worker',
       (ARRAY[{forms}])[1 + g % 4],
       CASE WHEN g % 10 = 0 THEN NULL
            ELSE date_trunc('day', :now) + make_interval(days => (g * 79) % 100 - 30,
                                                         hours => 23, mins => 59) END,
       CASE WHEN g % 10 = 0 THEN NULL ELSE 'R' || (1 + g % 9) END,
       :now - make_interval(days => (g * 31) % 200, mins => g % 1440),
       CASE WHEN g % 5 < 3 THEN {claimer} END, false, {team}
FROM {rows};

INSERT INTO timer (id, case_id, element_id, name, attached_to, kind, due_at, rule_id, training,
                   expression, started_at, council_key)
SELECT gen_random_uuid()::text, t.case_id, t.element_id || '_deadline', 'Deadline',
       t.element_id, 'deadline', t.due_at, t.rule_id, false, 'due_in("15 working days")',
       t.created_at, t.council_key
FROM task t WHERE t.case_id BETWEEN :case0 AND :case0 + :n - 1 AND t.due_at IS NOT NULL;

INSERT INTO audit_event (at, actor, case_id, task_id, element_id, action, detail)
SELECT c.opened_at + make_interval(days => k), 'bench', c.id, NULL, NULL,
       (ARRAY['case_started', 'task_completed', 'task_claimed'])[k], '{{}}'
FROM "case" c, generate_series(1, 3) AS k WHERE c.id BETWEEN :case0 AND :case0 + :n - 1;

INSERT INTO notification (username, team_key, lane, case_id, kind, message, created_at)
SELECT NULL, c.team_key, 'Social worker', c.id, 'reminder',
       'Reminder: a deadline is 2 working days away', c.opened_at
FROM "case" c WHERE c.id BETWEEN :case0 AND :case0 + :n - 1 AND c.id % 5 = 0;
"""


def _sql_list(values: list[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def add_synthetic(url: str, *, g0: int, n: int, own_team: bool, team_size: int) -> None:
    """n synthetic open cases (child, case, task, timer, audit, notification rows).

    own_team: all in the benchmarked team; else background row g (from g0) is in team
    g // team_size, council team // TEAMS_PER_COUNCIL.
    """
    if n <= 0:
        return
    if own_team:
        team, council = f"'{TEAM}'", f"'{COUNCIL}'"
        claimer = f"(ARRAY[{_sql_list(WORKERS)}])[1 + g % {len(WORKERS)}]"
    else:
        team = f"'bg-' || lpad((g / {team_size})::text, 5, '0')"
        council = f"'bgc-' || lpad((g / {team_size * TEAMS_PER_COUNCIL})::text, 4, '0')"
        claimer = f"{team} || '.sw' || (g % 8)"
    # Names as varied as a real council's: 500 first/last pairs, each surname with one of
    # SUFFIXES**2 endings (a trigram search meets a realistic number of near misses).
    pairs, k = len(FIRST) * len(LAST), len(SUFFIXES)
    name = (
        f"(ARRAY[{_sql_list(FIRST)}])[1 + g % {len(FIRST)}] || ' ' || "
        f"(ARRAY[{_sql_list(LAST)}])[1 + (g / {len(FIRST)}) % {len(LAST)}] || "
        f"(ARRAY[{_sql_list(SUFFIXES)}])[1 + (g / {pairs}) % {k}] || "
        f"(ARRAY[{_sql_list(SUFFIXES)}])[1 + (g / {pairs * k}) % {k}]"
    )
    script = SYNTHETIC.format(
        rows="generate_series(0, CAST(:n AS integer) - 1) AS i, "
        "LATERAL (SELECT CAST(:g0 AS integer) + i AS g) AS x",
        team=team,
        council=council,
        claimer=claimer,
        name=name,
        elements=_sql_list([t[0] for t in TASK_TYPES]),
        names=_sql_list([t[1] for t in TASK_TYPES]),
        forms=_sql_list([t[2] for t in TASK_TYPES]),
    )
    db = create_engine(url)
    try:
        with db.begin() as conn:
            version_id, serializer = conn.execute(
                text(
                    "SELECT id, serializer_version FROM process_version "
                    "WHERE process_id = 'sample_referral' AND council_key = :c"
                ),
                {"c": COUNCIL},
            ).one()
            if not own_team:
                first_team, last_team = g0 // team_size, (g0 + n - 1) // team_size
                conn.execute(
                    text(
                        "INSERT INTO council (key, name) "
                        "SELECT 'bgc-' || lpad(c::text, 4, '0'), 'Background council ' || c "
                        "FROM generate_series(CAST(:a AS integer), CAST(:b AS integer)) c "
                        "ON CONFLICT DO NOTHING"
                    ),
                    {"a": first_team // TEAMS_PER_COUNCIL, "b": last_team // TEAMS_PER_COUNCIL},
                )
                conn.execute(
                    text(
                        "INSERT INTO team (key, council_key, name) "
                        "SELECT 'bg-' || lpad(t::text, 5, '0'), "
                        f"'bgc-' || lpad((t / {TEAMS_PER_COUNCIL})::text, 4, '0'), "
                        "'Background team ' || t "
                        "FROM generate_series(CAST(:a AS integer), CAST(:b AS integer)) t "
                        "ON CONFLICT DO NOTHING"
                    ),
                    {"a": first_team, "b": last_team},
                )
            child0 = conn.execute(text("SELECT coalesce(max(id), 0) + 1 FROM child")).scalar()
            case0 = conn.execute(text('SELECT coalesce(max(id), 0) + 1 FROM "case"')).scalar()
            params = {
                "child0": child0,
                "case0": case0,
                "g0": g0,
                "n": n,
                "now": clock.now(),
                "version": version_id,
                "serializer": serializer,
            }
            for statement in script.split(";\n"):
                if statement.strip():
                    conn.execute(text(statement), params)
            for table in ("child", "case"):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                        f'(SELECT max(id) FROM "{table}"))'
                    )
                )
        with db.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    finally:
        db.dispose()


def count_open(url: str) -> dict[str, int]:
    db = create_engine(url)
    try:
        with db.connect() as conn:
            return {
                "open cases": conn.execute(
                    text("SELECT count(*) FROM \"case\" WHERE status = 'open'")
                ).scalar_one(),
                "tasks": conn.execute(text("SELECT count(*) FROM task")).scalar_one(),
                "team tasks": conn.execute(
                    text("SELECT count(*) FROM task WHERE team_key = :t"), {"t": TEAM}
                ).scalar_one(),
                "teams": conn.execute(text("SELECT count(*) FROM team")).scalar_one(),
                "audit rows": conn.execute(text("SELECT count(*) FROM audit_event")).scalar_one(),
            }
    finally:
        db.dispose()


def forget_views(url: str) -> None:
    """Each case page view is audited; start every round with the same case history."""
    db = create_engine(url)
    try:
        with db.begin() as conn:
            conn.execute(text("DELETE FROM audit_event WHERE action = 'viewed'"))
    finally:
        db.dispose()
