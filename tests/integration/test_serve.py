"""`cinflow serve` as an operator runs it: gunicorn workers, one timer sweeper, safe headers."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

PASSWORD = "correct horse battery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[tuple[int, str]]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except FileNotFoundError:
        return []
    out = []
    for child in map(int, text.split()):
        with contextlib.suppress(FileNotFoundError):  # it ended meanwhile
            command = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
            out.append((child, command.decode()))
    return out


def _cinflow(*args: str, db: str) -> list[str]:
    return [sys.executable, "-c", "from webui.cli import main; main()", "--database", db, *args]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    if not Path("/proc/self/task").exists():
        pytest.skip("needs /proc to see the process tree")
    db = f"sqlite:///{tmp_path_factory.mktemp('serve') / 'cinflow.db'}"
    env = {**os.environ, "CINFLOW_MAIL": "console", "SECRET_KEY": "", "CINFLOW_SECRET_KEY": ""}
    for step in (
        ["users", "add-team", "north", "--council", "portsmouth", "--name", "North"],
        ["users", "add", "sw.north", "--name", "Sam North", "--role", "social_worker",
         "--team", "north", "--password", PASSWORD],
    ):  # fmt: skip
        subprocess.run(_cinflow(*step, db=db), check=True, env=env, capture_output=True)
    port = _free_port()
    process = subprocess.Popen(
        _cinflow("serve", "--port", str(port), "--workers", "3", db=db),
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{base}/health", timeout=2)
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail(f"cinflow serve did not start: {process.stdout.read().decode()}")
            time.sleep(0.3)
    try:
        yield SimpleNamespace(base=base, process=process)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        return None


def _request(url: str, data: dict | None = None, cookie: str = "") -> tuple[int, dict, str]:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, headers={"Cookie": cookie} if cookie else {})
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        response = opener.open(request, timeout=10)
    except urllib.error.HTTPError as error:
        response = error
    return response.status, dict(response.headers), response.read().decode()


def test_gunicorn_serves_with_safe_headers_and_no_version(served) -> None:  # noqa: ANN001
    status, headers, _ = _request(f"{served.base}/sign-in")
    assert status == 200
    assert headers["Server"] == "gunicorn"  # no version announced
    assert not re.search(r"\d", headers["Server"])
    assert "Werkzeug" not in str(headers)
    assert "script-src 'self' 'nonce-" in headers["Content-Security-Policy"]
    assert headers["Strict-Transport-Security"].startswith("max-age=")


def test_three_web_workers_and_exactly_one_sweeper(served) -> None:  # noqa: ANN001
    children = _children(served.process.pid)
    sweepers = [c for c in children if c[1].rstrip().endswith(" worker")]
    assert len(sweepers) == 1, children
    assert len(children) == 1 + 3, children  # the sweeper and three gunicorn workers


def test_a_session_works_on_every_worker(served) -> None:  # noqa: ANN001
    status, headers, page = _request(f"{served.base}/sign-in")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    cookie = headers["Set-Cookie"].split(";")[0]
    status, headers, _ = _request(
        f"{served.base}/sign-in",
        {"username": "sw.north", "password": PASSWORD, "csrf_token": token},
        cookie,
    )
    assert status == 302, "sign-in failed"
    cookie = headers["Set-Cookie"].split(";")[0]
    for _ in range(9):  # three workers share the load: each must know the session
        assert _request(f"{served.base}/inbox", cookie=cookie)[0] == 200


def test_a_300_mb_sign_in_post_is_refused_at_once(served) -> None:  # noqa: ANN001
    port = int(served.base.rsplit(":", 1)[1])
    began = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(
            b"POST /sign-in HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            + f"Content-Length: {300 * 1024 * 1024}\r\n\r\n".encode()
            + b"username=a&password=" + b"x" * 65536
        )  # fmt: skip
        reply = b""
        while b"</html>" not in reply:
            part = conn.recv(65536)
            if not part:
                break
            reply += part
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    assert b"What you sent is too large" in reply
    assert time.monotonic() - began < 5  # answered without waiting for 300 MB


def test_stopping_serve_stops_the_sweeper(served) -> None:  # noqa: ANN001
    (sweeper,) = [c for c in _children(served.process.pid) if c[1].rstrip().endswith(" worker")]
    served.process.send_signal(signal.SIGTERM)
    served.process.wait(timeout=30)
    deadline = time.monotonic() + 10
    while Path(f"/proc/{sweeper[0]}").exists() and time.monotonic() < deadline:
        state = Path(f"/proc/{sweeper[0]}/stat").read_text().split()[2]
        if state == "Z":
            break
        time.sleep(0.2)
    assert not Path(f"/proc/{sweeper[0]}").exists() or state == "Z"
