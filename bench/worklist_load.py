"""The worklist bench under load (bench/worklist.py): gunicorn serving one database, signed-in
users (threads) requesting pages back to back, latencies as the client sees them.
"""

from __future__ import annotations

import argparse
import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from worklist_build import CSRF, PASSWORD, WORKERS

from engine.services import Engine

ROOT = Path(__file__).resolve().parent.parent


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
