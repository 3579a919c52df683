"""Census benchmark: how long the DfE CIN census export takes for 10,000 children.

Portsmouth's journey files are run once through the engine for real children (every route, on
time and late); their children, cases and audit trails are then copied with SQL into two
SQLite databases of SMALL and LARGE children (default 1,000 and 10,000). The export
(`Returns.census`: read the cases and their events, build the XML, list the problems) is timed
on both, interleaved, best of `--repeat`. Targets: LARGE in under 30 seconds, and LARGE/SMALL
no worse than linear (<= 1.2 x LARGE/SMALL children). Exit status 1 when a target is missed.

    .venv/bin/python bench/census.py                 # about a minute on 2 cores
    .venv/bin/python bench/census.py --children 500,5000 --repeat 2
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402

from engine import clock  # noqa: E402
from engine.clock import FixedClock  # noqa: E402
from engine.returns.service import Returns  # noqa: E402
from engine.returns.synthetic import journey_files, run_cohort  # noqa: E402
from engine.services import Engine  # noqa: E402
from engine.store.models import Case  # noqa: E402

COUNCIL, YEAR = "portsmouth", "2026-27"
TARGET_SECONDS = 30.0
CASE_COLUMNS = (
    "child_id, process_version_id, council_key, status, state_json, serializer_version, "
    "revision, training, started_by, opened_at, closed_at, close_reason, attention, team_key"
)


def base_cohort(folder: Path) -> tuple[Path, int]:
    db = folder / "base.db"
    engine = Engine(f"sqlite:///{db}")
    engine.init_db()
    files = [p for p in journey_files(ROOT / "processes") if p.parent.parent.name == COUNCIL]
    with clock.using(FixedClock(datetime(2026, 11, 1, tzinfo=UTC))):
        run_cohort(engine, files, copies=1, training_every=10**9)
    with engine.sessions() as s:
        cases = s.scalar(select(func.count(Case.id)))
    engine.dispose()
    return db, cases


def grow(base: Path, target: Path, children: int, base_cases: int) -> None:
    """Copy the base cohort's children, cases and audit events until there are `children`."""
    shutil.copy(base, target)
    engine = Engine(f"sqlite:///{target}")
    copies = -(-children // base_cases) - 1
    with engine.db.begin() as conn:
        top_child = conn.execute(text("SELECT max(id) FROM child")).scalar()
        top_case = conn.execute(text('SELECT max(id) FROM "case"')).scalar()
        step = max(top_child, top_case) + 1
        for k in range(1, copies + 1):
            off = k * step
            conn.execute(
                text(
                    "INSERT INTO child (id, council_key, name, date_of_birth, created_at) "
                    f"SELECT id + {off}, council_key, name, date_of_birth, created_at FROM child "
                    f"WHERE id < {step}"
                )
            )
            conn.execute(
                text(
                    f'INSERT INTO "case" (id, {CASE_COLUMNS}) SELECT id + {off}, '
                    + CASE_COLUMNS.replace("child_id", f"child_id + {off}").replace(
                        "state_json", "'{}'"
                    )
                    + f' FROM "case" WHERE id < {step}'
                )
            )
            conn.execute(
                text(
                    "INSERT INTO audit_event (at, actor, case_id, task_id, element_id, action, "
                    f"detail) SELECT at, actor, case_id + {off}, task_id, element_id, action, "
                    f"detail FROM audit_event WHERE case_id < {step}"
                )
            )
        extra = conn.execute(text('SELECT count(*) FROM "case"')).scalar() - children
        if extra > 0:
            conn.execute(
                text(
                    'DELETE FROM audit_event WHERE case_id IN (SELECT id FROM "case" '
                    f"ORDER BY id DESC LIMIT {extra})"
                )
            )
            conn.execute(
                text(
                    'DELETE FROM "case" WHERE id IN '
                    f'(SELECT id FROM "case" ORDER BY id DESC LIMIT {extra})'
                )
            )
    engine.dispose()


def timed(db: Path) -> tuple[float, int]:
    engine = Engine(f"sqlite:///{db}")
    try:
        started = time.perf_counter()
        census = Returns.for_engine(engine).census(COUNCIL, YEAR)
        return time.perf_counter() - started, census.children
    finally:
        engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", default="1000,10000", help="SMALL,LARGE")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    small, large = (int(n) for n in args.children.split(","))
    with tempfile.TemporaryDirectory(prefix="cinflow-bench-census-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        base, base_cases = base_cohort(folder)
        print(f"base cohort: {base_cases} journeys in {time.perf_counter() - started:.0f} s")
        dbs = {}
        for n in (small, large):
            dbs[n] = folder / f"census-{n}.db"
            grow(base, dbs[n], n, base_cases)
        best: dict[int, float] = {}
        exported: dict[int, int] = {}
        for _ in range(args.repeat):
            for n in (small, large):
                seconds, exported[n] = timed(dbs[n])
                best[n] = min(best.get(n, seconds), seconds)
    for n in (small, large):
        print(f"{n:>7} cases: census of {exported[n]} children in {best[n]:.2f} s (best)")
    ratio = best[large] / best[small]
    allowed = 1.2 * large / small
    print(f"ratio LARGE/SMALL: {ratio:.1f}x (target <= {allowed:.1f}x: linear)")
    print(f"LARGE: {best[large]:.1f} s (target < {TARGET_SECONDS:.0f} s)")
    ok = ratio <= allowed and best[large] < TARGET_SECONDS
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
