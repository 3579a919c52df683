"""The worklist bench's report (bench/worklist.py): every measurement printed, each target checked.

Each `report_*` prints its table and returns 1 when a target is missed (0 otherwise), so main()
can exit 1 after printing everything.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
from datetime import UTC, datetime
from importlib.metadata import version

from worklist_load import LoadResult, percentile

# Server time at the large size over the small, per page.
TARGET_RATIO = 1.2


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


def report_heading() -> None:
    print("cinflow worklist benchmark: PostgreSQL, synthetic open cases around one real team")
    print(
        f"run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, SQLAlchemy {version('SQLAlchemy')}, "
        f"Flask {version('Flask')}, gunicorn {version('gunicorn')}"
    )


def report_size(counts: dict[str, int], built_at: float) -> None:
    """One database's row counts, as built."""
    counts = dict(counts)
    print(
        f"{counts.pop('open cases'):,} open cases: "
        + ", ".join(f"{k} {v:,}" for k, v in counts.items())
        + f" (built at {built_at:.0f} s)"
    )


def report_server_times(
    timed: list[dict[str, list[float]]], sizes: list[int], args: argparse.Namespace, team_size: int
) -> int:
    small, large = sizes
    print(
        f"\nserver time per page (in process: Flask test client), median of {args.repeat} "
        f"after {args.warmup} warm-up, pages and sizes interleaved; the team has "
        f"{team_size} open tasks at both sizes"
    )
    status = 0
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
    return status


def report_calls(calls: list[dict[str, list[float]]], sizes: list[int]) -> None:
    """The engine calls behind the pages: no target, the breakdown that explains a miss."""
    small, large = sizes
    print("\nwhat the pages ask of the engine (median ms per call, same interleaving)")
    rows = []
    for label in calls[0]:
        a, b = statistics.median(calls[0][label]), statistics.median(calls[1][label])
        rows.append([label, f"{a:.2f}", f"{b:.2f}", f"{b / a:.2f}x"])
    print(table(["call", f"{small:,} ms", f"{large:,} ms", "ratio"], rows, {1, 2, 3}))


def report_load(runs: list[tuple[int, list[LoadResult]]], args: argparse.Namespace) -> int:
    """Each size's load results (the first of each is /health, the yardstick); 1 on any error."""
    status = 0
    rows = []
    for size, loads in runs:
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
    return status
