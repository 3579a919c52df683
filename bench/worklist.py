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

The modules: worklist_build.py (the databases), worklist_timing.py (server time, in process),
worklist_load.py (gunicorn under load), worklist_report.py (the tables and targets).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
# Run as a script, bench/ is on the path already; imported as `bench.worklist` (gunicorn's
# entry point), it is added so the sibling modules import the same way. Last, not first:
# bench/engine.py must not hide the engine package.
if str(HERE) not in sys.path:
    sys.path.append(str(HERE))

from sqlalchemy import text  # noqa: E402
from worklist_build import (  # noqa: E402
    BENCH_ARGON2,
    DEFAULT_DATABASE,
    REAL_CASES,
    TEAM,
    WORKERS,
    add_synthetic,
    count_open,
    forget_views,
    private_schema,
    real_world,
)
from worklist_load import load_test, wsgi  # noqa: E402
from worklist_report import (  # noqa: E402
    report_calls,
    report_heading,
    report_load,
    report_server_times,
    report_size,
)
from worklist_timing import call_times, server_times, test_clients  # noqa: E402

from engine import passwords  # noqa: E402
from engine.services import Engine  # noqa: E402

# What others use from here: gunicorn's `bench.worklist:wsgi()`, and bench/timers_workers.py
# (the same team, people and real cases beside its timers).
__all__ = ["BENCH_ARGON2", "TEAM", "main", "real_world", "wsgi"]


def options() -> tuple[argparse.Namespace, list[int]]:
    """The command line, checked; also the two sizes, SMALL and LARGE."""
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
    return args, sizes


def build(url: str, size: int, team_size: int) -> tuple[Engine, list[int]]:
    """One database of `size` open cases, the benchmarked team holding `team_size` of them."""
    engine = Engine(url)
    engine.init_db()
    case_ids = real_world(engine)
    add_synthetic(url, g0=0, n=team_size - REAL_CASES, own_team=True, team_size=team_size)
    add_synthetic(url, g0=0, n=size - team_size, own_team=False, team_size=team_size)
    forget_views(url)
    return engine, case_ids


def main() -> int:
    args, sizes = options()
    team_size = min(args.team_size, sizes[0])
    began = time.monotonic()
    passwords.ARGON2.update(BENCH_ARGON2)
    report_heading()
    small, large = sizes
    with (
        private_schema(args.database, args.keep_schema) as (small_url, small_schema),
        private_schema(args.database, args.keep_schema) as (url, schema),
    ):
        sides = []
        for size, side_url in ((small, small_url), (large, url)):
            engine, case_ids = build(side_url, size, team_size)
            report_size(count_open(side_url), time.monotonic() - began)
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
        status = report_server_times(timed, sizes, args, team_size)
        report_calls(calls, sizes)

        # Under load: gunicorn on each database in turn, the same users and routes.
        runs = []
        for size, side_url, (_, _, case_ids) in (
            (small, small_url, sides[0]),
            (large, url, sides[1]),
        ):
            forget_views(side_url)
            runs.append((size, load_test(side_url, case_ids, args)))
        status |= report_load(runs, args)
    print(f"\ndone in {time.monotonic() - began:.0f} s")
    return status


if __name__ == "__main__":
    sys.exit(main())
