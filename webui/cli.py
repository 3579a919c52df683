"""The `cinflow` command: the engine's commands plus the web ones (serve, demo)."""

from __future__ import annotations

import click

from engine.cli import _engine, cli
from engine.demo import seed
from engine.returns import cli as _returns_cli  # noqa: F401 - adds census, annex-a

HOST, PORT = "127.0.0.1", 5000


def _serve(ctx: click.Context, host: str, port: int, sweep: bool) -> None:
    from engine.scheduler import start_background
    from webui import create_app

    engine = _engine(ctx)
    if sweep:
        start_background(engine)
    app = create_app(engine=engine)
    click.echo(f"Serving cinflow on http://{host}:{port}  (Ctrl-C to stop)")
    app.run(host=host, port=port, debug=False, use_reloader=False, threaded=True)


@cli.command(help="Serve the web app (and sweep timers in-process unless --no-sweep).")
@click.option("--host", default=HOST, show_default=True)
@click.option("--port", default=PORT, show_default=True, type=int)
@click.option("--no-sweep", is_flag=True, help="Leave timers to a separate `cinflow worker`.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, no_sweep: bool) -> None:
    _serve(ctx, host, port, not no_sweep)


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
        _serve(ctx, HOST, port, True)


def main() -> None:
    cli(obj={})
