"""Worklist benchmark: does the worklist (and the case page) stay fast as the database grows?

Two measurements on PostgreSQL, in a private schema created and dropped by this script:

1. **Server time by size.** The worklist tabs, the team overview and the case page, timed in
   process (Flask test client, so only the server's work: routing, engine queries, rendering)
   on two databases built side by side, `--cases SMALL,LARGE` (default 1,000 and 400,000 open
   cases), requests to the two interleaved. The benchmarked team holds the same tasks in both;
   the rest of the database is what grows. Printed as the ratio LARGE / SMALL (target <= 1.2x),
   with the engine calls behind the pages timed the same way.
2. **Under load.** gunicorn with 4 sync workers serves each database in turn; 20 signed-in
   users (threads, one session each, signed in through the real /sign-in form with its CSRF
   token) request pages back to back for a fixed time; p50/p95 of the worklist and the case
   page are compared with /health on the same server.

The benchmarked team ("bench-team", council "portsmouth", 20 social workers and a team manager)
has 20 **real** cases (started and driven through the engine, so the case page loads a real
workflow) and synthetic task rows up to `--team-size`. Everything else is **synthetic**:
children, open cases, one open task each (60% claimed), deadline timers, three audit events per
case and a team reminder for every fifth case, bulk-inserted with SQL (`generate_series`) into
teams of `--team-size` tasks, 8 teams per council. Synthetic cases hold no workflow state and
are never opened; only the worklist's tables see them.

    .venv/bin/python bench/worklist.py                      # about 4 minutes on 2 cores
    .venv/bin/python bench/worklist.py --cases 1000,20000 --load-seconds 5   # quick look

See bench/README.md ("Worklist benchmark"). Exit status 1 when a target is missed.

Over 700 lines, to be split (issue 9): building the two databases, the in-process timings and the
load run.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from datetime import time as dtime
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from engine import clock, passwords  # noqa: E402
from engine.clock import FixedClock  # noqa: E402
from engine.services import Engine, NewChild  # noqa: E402
from engine.services.casework import Casework  # noqa: E402

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
TARGET_RATIO = 1.2
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


# -- the database ---------------------------------------------------------------------------


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
            Casework(engine.sessions).allocate(case.id, WORKERS[i % 4], MANAGER, teams=[TEAM])
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


# -- server time, in process ---------------------------------------------------------------


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def pages() -> list[tuple[str, str, str]]:
    """(label, who, path) of every page timed; the case page rotates over the real cases."""
    sw = WORKERS[0]
    return [
        ("worklist: my tasks", sw, "/worklist"),
        ("worklist: unclaimed", sw, "/worklist/unclaimed"),
        ("worklist: unclaimed, page 3", sw, "/worklist/unclaimed?page=3"),
        ("worklist: due soon", sw, "/worklist/due-soon"),
        ("worklist: overdue", sw, "/worklist/overdue"),
        ("worklist: child name filter", sw, "/worklist/unclaimed?" + urlencode({"child": "son"})),
        ("worklist: team overview", MANAGER, "/worklist/team"),
        ("case page", sw, "/cases/{case}"),
        ("cases: my cases", sw, "/cases"),
        ("cases: team's cases", sw, "/cases/team"),
        ("cases: find a child, misspelt", sw, "/cases/search?" + urlencode({"q": MISSPELT})),
        ("cases: find by date of birth", sw, "/cases/search?q=2016-05-04"),
    ]


def test_clients(engine: Engine) -> dict[str, Any]:
    from webui import create_app

    app = create_app(
        {"SECRET_KEY": "bench", "SESSION_COOKIE_SECURE": False, "DUE_SOON_DAYS": 2},
        engine=engine,
    )
    clients = {}
    for who in (WORKERS[0], MANAGER):
        client = app.test_client()
        token = CSRF.search(client.get("/sign-in").get_data(as_text=True)).group(1)
        signed = client.post(
            "/sign-in", data={"username": who, "password": PASSWORD, "csrf_token": token}
        )
        assert signed.status_code == 302, signed.status_code
        clients[who] = client
    return clients


def server_times(
    sides: list[tuple[dict[str, Any], list[int]]], repeat: int, warmup: int
) -> list[dict[str, list[float]]]:
    """Milliseconds per page on each side (database size): pages interleaved, the sides taking
    turns to go first, so background noise on the machine hits every page and size alike."""
    labels = [label for label, _, _ in pages()]
    timed: list[dict[str, list[float]]] = [{label: [] for label in labels} for _ in sides]
    for run in range(warmup + repeat):
        for label, who, path in pages():
            order = list(range(len(sides)))
            if run % 2:
                order.reverse()
            for side in order:
                clients, case_ids = sides[side]
                url = path.format(case=case_ids[run % len(case_ids)])
                start = time.perf_counter()
                response = clients[who].get(url)
                elapsed = (time.perf_counter() - start) * 1000
                if response.status_code != 200:
                    raise RuntimeError(f"{url}: HTTP {response.status_code}")
                if run >= warmup:
                    timed[side][label].append(elapsed)
    return timed


def engine_calls(engine: Engine, case_ids: list[int]) -> list[tuple[str, Callable[[], Any]]]:
    """What the pages ask of the engine, one call at a time (for the breakdown table)."""
    team = [TEAM]
    user = engine.people.get(WORKERS[0])
    casework = Casework(engine.sessions)
    return [
        ("Engine.worklist: unclaimed", lambda: engine.worklist(teams=team, unclaimed_only=True)),
        ("Engine.worklist: due soon", lambda: engine.worklist(teams=team, due_soon_days=2)),
        (
            "Engine.worklist: child name",
            lambda: engine.worklist(teams=team, unclaimed_only=True, child_name_contains="son"),
        ),
        ("Engine.worklist_counts", lambda: engine.worklist_counts(teams=team)),
        ("Engine.worklist_task_names", lambda: engine.worklist_task_names(teams=team)),
        ("Engine.worklist_teams", lambda: engine.worklist_teams(team)),
        ("people.teams() (every team)", lambda: engine.people.teams()),
        ("Engine.get_case(with_data)", lambda: engine.get_case(case_ids[0], with_data=True)),
        ("Engine.case_diagram", lambda: engine.case_diagram(case_ids[0])),
        ("Engine.audit_trail(case)", lambda: engine.audit_trail(case_ids[0])),
        ("casework.my_cases", lambda: casework.my_cases(WORKERS[0], team)),
        ("casework.search (misspelt)", lambda: casework.search(team, MISSPELT)),
        (
            "Engine.notifications (header)",
            lambda: engine.notifications(user.username, user.teams, user.role, unread_only=True),
        ),
    ]


def call_times(engines: list[Engine], case_ids: list[list[int]], repeat: int, warmup: int):  # noqa: ANN201
    calls = [engine_calls(e, ids) for e, ids in zip(engines, case_ids, strict=True)]
    timed: list[dict[str, list[float]]] = [{label: [] for label, _ in c} for c in calls]
    for run in range(warmup + repeat):
        for index in range(len(calls[0])):
            order = list(range(len(engines)))
            if run % 2:
                order.reverse()
            for side in order:
                label, call = calls[side][index]
                start = time.perf_counter()
                call()
                if run >= warmup:
                    timed[side][label].append((time.perf_counter() - start) * 1000)
    return timed


# -- under load: gunicorn and 20 users -----------------------------------------------------


def wsgi() -> Any:
    """gunicorn's entry point: `bench.worklist:wsgi()` with CINFLOW_BENCH_URL set."""
    from webui import create_app

    return create_app(
        {"SECRET_KEY": os.environ["CINFLOW_BENCH_SECRET"], "DUE_SOON_DAYS": 2},
        engine=Engine(os.environ["CINFLOW_BENCH_URL"]),
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(url: str, workers: int) -> Iterator[int]:
    port = free_port()
    env = {
        **os.environ,
        "CINFLOW_BENCH_URL": url,
        "CINFLOW_BENCH_SECRET": uuid.uuid4().hex,
        "CINFLOW_INSECURE_COOKIES": "1",  # plain http on loopback
    }
    binary = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen(
        [str(binary), "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
         "--chdir", str(ROOT), "--log-level", "warning", "--timeout", "120",
         "bench.worklist:wsgi()"],
        env=env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if Http(port).request("GET", "/health")[0] == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.2)
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Http:
    """One user's browser, reduced: a session cookie and one request at a time (loopback)."""

    port: int
    cookie: str | None = None
    signed_in: bool = False

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"User-Agent": "cinflow-bench"}
        body = None
        if self.cookie:
            headers["Cookie"] = self.cookie
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body, headers)
            response = conn.getresponse()
            data = response.read()
            for name, value in response.getheaders():
                if name.lower() == "set-cookie" and value.startswith("session="):
                    self.cookie = value.split(";", 1)[0]
            return response.status, data
        finally:
            conn.close()

    def sign_in(self, username: str) -> None:
        status, page = self.request("GET", "/sign-in")
        token = CSRF.search(page.decode()).group(1)
        status, _ = self.request(
            "POST", "/sign-in", {"username": username, "password": PASSWORD, "csrf_token": token}
        )
        if status != 302:
            raise RuntimeError(f"sign-in of {username}: HTTP {status}")
        self.signed_in = True


@dataclass
class LoadResult:
    label: str
    times: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0


def run_load(
    users: list[Http], label: str, paths: Callable[[int, int], str], seconds: float, cap: int
) -> LoadResult:
    """Every user requests paths(user, n) back to back until `seconds` pass or `cap` each."""
    result = LoadResult(label)
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    start_line = threading.Barrier(len(users))

    def user(index: int, http: Http) -> None:
        mine: list[float] = []
        errors = 0
        start_line.wait()
        for n in range(cap):
            if time.monotonic() >= stop_at:
                break
            start = time.perf_counter()
            try:
                status, _ = http.request("GET", paths(index, n))
            except OSError:
                status = 0
            mine.append((time.perf_counter() - start) * 1000)
            errors += status != 200
        with lock:
            result.times.extend(mine)
            result.errors += errors

    threads = [threading.Thread(target=user, args=(i, u)) for i, u in enumerate(users)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.seconds = time.monotonic() - began
    return result


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def load_test(url: str, case_ids: list[int], args: argparse.Namespace) -> list[LoadResult]:
    """/health, the worklist tabs and the case page, each for args.load_seconds."""
    tabs = [
        "/worklist",
        "/worklist/unclaimed",
        "/worklist/due-soon",
        "/worklist/overdue",
        "/worklist/unclaimed?page=2",
    ]
    with gunicorn(url, args.workers) as port:
        users = [Http(port) for _ in range(args.users)]
        threads = [
            threading.Thread(target=u.sign_in, args=(WORKERS[i],)) for i, u in enumerate(users)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if not all(u.signed_in for u in users):
            raise RuntimeError("not every user signed in")
        return [
            run_load(users, "/health", lambda i, n: "/health", args.load_seconds, args.load_cap),
            run_load(users, "worklist (5 tabs in turn)",
                     lambda i, n: tabs[(i + n) % len(tabs)], args.load_seconds, args.load_cap),
            run_load(users, "case page",
                     lambda i, n: f"/cases/{case_ids[(i + n) % len(case_ids)]}",
                     args.load_seconds, args.load_cap),
        ]  # fmt: skip


# -- report ----------------------------------------------------------------------------------


def table(header: list[str], rows: list[list[str]], right: set[int]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return " | ".join(
            str(c).rjust(w) if i in right else str(c).ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    return "\n".join(
        ["  " + line(header), "  " + "-+-".join("-" * w for w in widths)]
        + ["  " + line(r) for r in rows]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=DEFAULT_DATABASE, help="PostgreSQL server URL")
    parser.add_argument("--cases", default="1000,400000", help="open cases: SMALL,LARGE")
    parser.add_argument("--team-size", type=int, default=300, help="open tasks per team")
    parser.add_argument("--repeat", type=int, default=40, help="timed requests per page")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--load-seconds", type=float, default=20.0, help="per route")
    parser.add_argument("--keep-schema", action="store_true", help="do not drop it (EXPLAIN)")
    parser.add_argument("--load-cap", type=int, default=2000, help="requests per user and route")
    args = parser.parse_args()
    sizes = sorted({int(s) for s in args.cases.split(",")})
    if len(sizes) != 2:
        parser.error("--cases: two sizes, SMALL,LARGE")
    if sizes[0] < REAL_CASES + 1:
        parser.error(f"--cases: at least {REAL_CASES + 1}")
    if args.users > len(WORKERS):
        parser.error(f"--users: at most {len(WORKERS)}")
    team_size = min(args.team_size, sizes[0])
    began = time.monotonic()
    passwords.ARGON2.update(BENCH_ARGON2)

    print("cinflow worklist benchmark: PostgreSQL, synthetic open cases around one real team")
    print(
        f"run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, SQLAlchemy {version('SQLAlchemy')}, "
        f"Flask {version('Flask')}, gunicorn {version('gunicorn')}"
    )
    status = 0
    small, large = sizes
    with (
        private_schema(args.database, args.keep_schema) as (small_url, small_schema),
        private_schema(args.database, args.keep_schema) as (url, schema),
    ):
        sides = []
        for size, side_url in ((small, small_url), (large, url)):
            engine = Engine(side_url)
            engine.init_db()
            case_ids = real_world(engine)
            own = team_size - REAL_CASES
            add_synthetic(side_url, g0=0, n=own, own_team=True, team_size=team_size)
            add_synthetic(side_url, g0=0, n=size - team_size, own_team=False, team_size=team_size)
            forget_views(side_url)
            counts = count_open(side_url)
            print(
                f"{counts.pop('open cases'):,} open cases: "
                + ", ".join(f"{k} {v:,}" for k, v in counts.items())
                + f" (built at {time.monotonic() - began:.0f} s)"
            )
            sides.append((engine, test_clients(engine), case_ids))
        with sides[0][0].db.connect() as conn:
            server = conn.execute(text("SHOW server_version")).scalar()
        fate = "kept" if args.keep_schema else "dropped afterwards"
        print(f"PostgreSQL {server}; schemas {small_schema}, {schema} ({fate})")

        timed = server_times([(c, ids) for _, c, ids in sides], args.repeat, args.warmup)
        calls = call_times([e for e, _, _ in sides], [ids for _, _, ids in sides],
                           args.repeat, args.warmup)  # fmt: skip
        for engine, _, _ in sides:
            engine.dispose()

        print(
            f"\nserver time per page (in process: Flask test client), median of {args.repeat} "
            f"after {args.warmup} warm-up, pages and sizes interleaved; the team has "
            f"{team_size} open tasks at both sizes"
        )
        rows = []
        for label in timed[0]:
            a, b = statistics.median(timed[0][label]), statistics.median(timed[1][label])
            ok = b / a <= TARGET_RATIO
            status |= not ok
            rows.append(
                [label, f"{a:.1f}", f"{b:.1f}", f"{b / a:.2f}x", f"<= {TARGET_RATIO}x",
                 "yes" if ok else "NO"]
            )  # fmt: skip
        header = ["page", f"{small:,} ms", f"{large:,} ms", "ratio", "target", "OK?"]
        print(table(header, rows, {1, 2, 3}))

        print("\nwhat the pages ask of the engine (median ms per call, same interleaving)")
        rows = []
        for label in calls[0]:
            a, b = statistics.median(calls[0][label]), statistics.median(calls[1][label])
            rows.append([label, f"{a:.2f}", f"{b:.2f}", f"{b / a:.2f}x"])
        print(table(["call", f"{small:,} ms", f"{large:,} ms", "ratio"], rows, {1, 2, 3}))

        # Under load: gunicorn on each database in turn, the same users and routes.
        rows = []
        for size, side_url, (_, _, case_ids) in (
            (small, small_url, sides[0]),
            (large, url, sides[1]),
        ):
            forget_views(side_url)
            loads = load_test(side_url, case_ids, args)
            health_p95 = percentile(loads[0].times, 95)
            for load in loads:
                p95 = percentile(load.times, 95)
                rows.append(
                    [f"{size:,}", load.label, f"{len(load.times):,}",
                     f"{len(load.times) / load.seconds:.0f}",
                     f"{percentile(load.times, 50):.1f}", f"{p95:.1f}",
                     f"{max(load.times):.1f}", f"{p95 / health_p95:.1f}x", str(load.errors)]
                )  # fmt: skip
                if load.errors:
                    status = 1
        print(
            f"\nunder load: gunicorn, {args.workers} sync workers; {args.users} signed-in users "
            f"request back to back for {args.load_seconds:.0f} s per route (latency seen by the "
            "client over loopback, ms)"
        )
        header = ["open cases", "route", "requests", "req/s", "p50", "p95", "max",
                  "p95 / health", "errors"]  # fmt: skip
        print(table(header, rows, {0, 2, 3, 4, 5, 6, 7, 8}))
    print(f"\ndone in {time.monotonic() - began:.0f} s")
    return status


if __name__ == "__main__":
    sys.exit(main())
