"""The `cinflow` command: the engine's commands plus the web ones (serve, demo).

`cinflow serve` runs the app under gunicorn: WEB_WORKERS processes (CINFLOW_WEB_WORKERS,
default 2) of 4 threads each. The timer sweep runs in exactly one place, however many web
workers there are: one `cinflow worker` process that serve starts beside gunicorn and stops
with it (or none with --no-sweep, when a `cinflow worker` runs elsewhere). Web workers never
sweep. On SQLite keep to one machine; with PostgreSQL more `cinflow worker`s are safe.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from typing import Any

import click

from engine.cli import _engine, cli, run
from engine.demo import seed
from engine.returns import cli as _returns_cli  # noqa: F401 - adds census, annex-a

HOST, PORT = "127.0.0.1", 5000
THREADS = 4


def web_workers() -> int:
    return max(1, int(os.environ.get("CINFLOW_WEB_WORKERS", "2") or 2))


def _sweeper(ctx: click.Context) -> subprocess.Popen:
    """`cinflow worker` as a child process: the one place timers are swept."""
    root = ctx.find_root()
    command = [sys.executable, "-c", "from webui.cli import main; main()"]
    command += ["--database", ctx.obj["url"]]
    if root.params.get("at"):
        command += ["--at", root.params["at"]]
    return subprocess.Popen([*command, "worker"])


def _serve(ctx: click.Context, host: str, port: int, sweep: bool, workers: int) -> None:
    from gunicorn.app.base import BaseApplication

    from engine.services import Engine
    from webui import create_app

    _engine(ctx).dispose()  # the schema is ready; each web worker opens its own connections
    url = ctx.obj["url"]
    # Every worker must sign cookies with the same key, or a session would not survive a
    # request that lands on another worker.
    secret = os.environ.get("SECRET_KEY") or os.environ.get("CINFLOW_SECRET_KEY")
    if not secret:
        click.echo("SECRET_KEY not set: sessions end when the server stops", err=True)
        secret = secrets.token_hex(32)

    class Server(BaseApplication):
        def load_config(self) -> None:
            settings: dict[str, Any] = {
                "bind": f"{host}:{port}",
                "workers": workers,
                "worker_class": "gthread",
                "threads": THREADS,
                "timeout": 60,
                # No access log: worklist filters put a child's name in the query string.
                "accesslog": None,
            }
            for key, value in settings.items():
                self.cfg.set(key, value)

        def load(self) -> Any:  # in each web worker, after the fork
            return create_app({"SECRET_KEY": secret}, engine=Engine(url))

    sweeper = _sweeper(ctx) if sweep else None
    click.echo(
        f"Serving cinflow on http://{host}:{port} with {workers} worker(s)"
        f"{', sweeping timers in one process' if sweep else ''}  (Ctrl-C to stop)"
    )
    try:
        Server().run()
    finally:
        if sweeper is not None:
            sweeper.terminate()
            sweeper.wait(timeout=10)


@cli.command(help="Serve the web app with gunicorn (and sweep timers unless --no-sweep).")
@click.option("--host", default=HOST, show_default=True)
@click.option("--port", default=PORT, show_default=True, type=int)
@click.option(
    "--workers",
    default=None,
    type=int,
    help="Web worker processes (default CINFLOW_WEB_WORKERS or 2), 4 threads each.",
)
@click.option("--no-sweep", is_flag=True, help="Leave timers to a separate `cinflow worker`.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, workers: int | None, no_sweep: bool) -> None:
    _serve(ctx, host, port, not no_sweep, workers or web_workers())


@cli.command(help="Deploy every procedure pack and seed synthetic demo cases; --serve to run.")
@click.option("--serve", "and_serve", is_flag=True, help="Serve the app afterwards.")
@click.option("--port", default=PORT, show_default=True, type=int)
@click.pass_context
def demo(ctx: click.Context, and_serve: bool, port: int) -> None:
    engine = _engine(ctx)
    report = seed(engine)
    click.echo(f"Database: {ctx.obj['url']}")
    click.echo(f"Deployed {len(report.deployed)} process version(s).")
    for problem in report.refused:
        click.echo(f"  Not deployed: {problem}")
    if report.skipped:
        click.echo("Demo cases already seeded; left as they are.")
    for name in report.cases:
        click.echo(f"  Demo case: {name}")
    click.echo("Logins (synthetic demo accounts):")
    for login in report.logins:
        click.echo(f"  {login}")
    if and_serve:
        _serve(ctx, HOST, port, True, web_workers())


def main() -> None:
    run(cli)
