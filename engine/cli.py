"""`cinflow` engine commands: database, deployments, cases, tasks, scenarios, the timer worker.

The web commands (`serve`, `demo`) are added by `webui.cli`, so the engine stays Flask-free.
Every command prints plain text for people and exits 0 on success, 1 on a refusal, 2 on misuse.
"""

from __future__ import annotations

import json
import os
import re
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click
from lxml import etree

from engine import bpmn_diff, clock
from engine.calendar import LONDON
from engine.clock import FixedClock
from engine.deployment import DeploymentError
from engine.errors import CinflowError, InvalidData
from engine.people import ROLES
from engine.scenario import ScenarioError, run_file
from engine.services import Engine, NewChild
from engine.store.db import database_url


def _engine(ctx: click.Context) -> Engine:
    obj = ctx.ensure_object(dict)
    if "engine" not in obj:
        obj["engine"] = Engine(obj.get("url"))
        obj["engine"].init_db()
    return obj["engine"]


def uk(at: datetime | None) -> str:
    return at.astimezone(LONDON).strftime("%d/%m/%Y %H:%M") if at else "-"


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


def _json_data(text: str) -> dict[str, Any]:
    """`--data`: a JSON object. Deep, badly encoded or non-object input is a usage error that
    says so (exit 2), never a traceback."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise click.BadParameter(
            "--data is not valid UTF-8 text; check the shell's encoding", param_hint="--data"
        ) from None
    try:
        value = json.loads(text)
    except RecursionError:
        raise click.BadParameter(
            "--data is nested too deeply to read", param_hint="--data"
        ) from None
    except ValueError as exc:
        raise click.BadParameter(f"--data is not JSON: {exc}", param_hint="--data") from None
    if not isinstance(value, dict):
        raise click.BadParameter(
            f'--data must be a JSON object like {{"field": "value"}}, not {type(value).__name__}',
            param_hint="--data",
        )
    return value


@click.group(help="cinflow: Child in Need procedures as BPMN.")
@click.option(
    "--database",
    "url",
    envvar="CINFLOW_DATABASE_URL",
    default=None,
    help="SQLAlchemy URL (default sqlite:///var/cinflow.db).",
)
@click.option("--at", "at", default=None, help="Pretend it is this UTC time (ISO 8601), for demos.")
@click.pass_context
def cli(ctx: click.Context, url: str | None, at: str | None) -> None:
    ctx.ensure_object(dict)["url"] = url or database_url()
    if at:
        try:
            moment = datetime.fromisoformat(at.replace("Z", "+00:00"))
        except ValueError:
            raise click.BadParameter(f'"{at}" is not an ISO 8601 time', param_hint="--at") from None
        clock.set_default(FixedClock(moment if moment.tzinfo else moment.replace(tzinfo=LONDON)))


@cli.command("init-db", help="Create the database tables (safe to run twice).")
@click.pass_context
def init_db(ctx: click.Context) -> None:
    _engine(ctx)
    click.echo(f"Database ready: {ctx.obj['url']}")


@cli.command(help="Validate and deploy BPMN files or folders as new process versions.")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--council", default=None, help="Council key (default: the folder's, if it has timescales)."
)
@click.option("--by", "by", default="cli", show_default=True, help="Who is deploying.")
@click.option("--comment", default="", help="Why this version.")
@click.pass_context
def deploy(
    ctx: click.Context, paths: tuple[Path, ...], council: str | None, by: str, comment: str
) -> None:
    engine = _engine(ctx)
    try:
        if council is None and len(paths) == 1 and (paths[0] / "timescales.yaml").is_file():
            versions = engine.deploy_pack(paths[0].name, by, comment)
        else:
            versions = engine.deploy(list(paths), by, comment, council=council)
    except DeploymentError as exc:
        click.echo(f"Refused: {len(exc.problems)} problem(s); nothing was deployed.", err=True)
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(1)
    for v in versions:
        click.echo(
            f"{v.council}/{v.process_id} version {v.version} {v.status}  sha256 {v.sha256[:12]}"
            f"  ({v.name})"
        )
    if any(v.status == "draft" for v in versions):
        click.echo(
            "Drafts: new cases stay on the live versions until a second practice manager runs "
            "`cinflow approve` and `cinflow go-live`."
        )


@cli.command(help="List deployed processes (newest version of each).")
@click.option("--all-versions", is_flag=True)
@click.pass_context
def processes(ctx: click.Context, all_versions: bool) -> None:
    rows = _engine(ctx).list_processes(all_versions=all_versions)
    if not rows:
        click.echo("No processes deployed. Try: cinflow deploy processes/sample")
    for v in rows:
        line = f"{v.council:14} {v.process_id:34} v{v.version:<3} {v.status:8} {uk(v.deployed_at)}"
        click.echo(f"{line} by {v.deployed_by}")


@cli.command(help="Write a council's live versions out as BPMN files, to keep and diff.")
@click.argument("council")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.pass_context
def export(ctx: click.Context, council: str, folder: Path) -> None:
    try:
        files = _engine(ctx).export_files(council)
    except CinflowError as exc:
        _fail(str(exc))
    for name, xml in files.items():
        if Path(name).is_absolute() or ".." in Path(name).parts:
            _fail(f"refusing to write {name}: not a plain relative file name")
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(xml, encoding="utf-8")
        click.echo(str(target))
    click.echo(f"Deploy them again with: cinflow deploy {folder}/* --council {council}", err=True)


@cli.command(
    help="What changed between two versions: each is a .bpmn file or COUNCIL/PROCESS@VERSION."
)
@click.argument("old")
@click.argument("new")
@click.option("--json", "as_json", is_flag=True, help="Print the diff as data (for tools).")
@click.pass_context
def diff(ctx: click.Context, old: str, new: str, as_json: bool) -> None:
    texts = []
    for ref in (old, new):
        if Path(ref).is_file():
            texts.append(Path(ref).read_text(encoding="utf-8"))
            continue
        match = re.fullmatch(r"([\w-]+)/([\w.-]+)@(\d+)", ref)
        if not match:
            _fail(f'"{ref}" is neither a file nor COUNCIL/PROCESS@VERSION')
        try:
            texts.append(_engine(ctx).version_xml(match[1], match[2], int(match[3])))
        except CinflowError as exc:
            _fail(str(exc))
    try:
        result = bpmn_diff.diff(*texts)
    except etree.XMLSyntaxError as exc:
        _fail(f"not well-formed XML: {exc}")
    if as_json:
        click.echo(json.dumps(result.as_data(), indent=2))
    else:
        for line in result.lines():
            click.echo(line)


@cli.command(help="Start a case for a child on the live version of a process.")
@click.argument("process_id")
@click.option("--child", "child_name", required=True, help="The child's name (synthetic in demos).")
@click.option("--dob", default=None, help="Date of birth, YYYY-MM-DD.")
@click.option("--council", default=None)
@click.option(
    "--data",
    default="{}",
    help='Initial case data as JSON, e.g. \'{"referral_date": "2026-11-23"}\'.',
)
@click.option("--by", "by", default="cli", show_default=True)
@click.pass_context
def start(
    ctx: click.Context,
    process_id: str,
    child_name: str,
    dob: str | None,
    council: str | None,
    data: str,
    by: str,
) -> None:
    payload = _json_data(data)
    try:
        birth = date.fromisoformat(dob) if dob else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--dob") from None
    try:
        case = _engine(ctx).start_case(
            process_id, NewChild(child_name, birth), payload, by, council=council
        )
    except CinflowError as exc:
        _fail(str(exc))
    click.echo(f"Case {case.id} started for {case.child.name} on {case.process_id} v{case.version}")
    _print_tasks(case.tasks)


def _print_tasks(tasks: list[Any]) -> None:
    if not tasks:
        click.echo("No open tasks.")
    for t in tasks:
        due = f"due {uk(t.due_at)}" if t.due_at else "no deadline"
        rule = f" [{t.rule_id}]" if t.rule_id else ""
        who = f" claimed by {t.claimed_by}" if t.claimed_by else ""
        click.echo(
            f"{t.id}  case {t.case_id}  {t.element_id}: {t.name} ({t.lane}) {due}{rule}{who}"
        )


@cli.command(help="List open tasks, soonest deadline first.")
@click.option("--case", "case_id", type=int, default=None)
@click.option("--mine", "user", default=None, help="Only tasks claimed by this user.")
@click.pass_context
def tasks(ctx: click.Context, case_id: int | None, user: str | None) -> None:
    _print_tasks(_engine(ctx).tasks(case_id=case_id, claimed_by=user))


@cli.command(help="Complete a task with form answers as JSON (validated against its form).")
@click.argument("task_id")
@click.option("--data", default="{}", help="Answers as JSON.")
@click.option("--by", "by", default="cli", show_default=True)
@click.pass_context
def complete(ctx: click.Context, task_id: str, data: str, by: str) -> None:
    payload = _json_data(data)
    try:
        result = _engine(ctx).complete_task(task_id, payload, by)
    except InvalidData as exc:
        click.echo("Refused: the answers do not fit the form; nothing was saved.", err=True)
        for error in exc.errors:
            click.echo(f"  {error.field or 'form'}: {error.message}", err=True)
        sys.exit(1)
    except CinflowError as exc:
        _fail(str(exc))
    click.echo(f"Completed. Case {result.case.id} is {result.case.status}.")
    if result.next_tasks:
        click.echo("Now ready:")
        _print_tasks(result.next_tasks)


@cli.command(help="Run journey files; one line per expectation; exit 1 on any failure.")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--database", "url", default=None, help="Run against this database instead of a scratch one."
)
def scenario(files: tuple[Path, ...], url: str | None) -> None:
    failed = 0
    for path in files:
        try:
            report = run_file(path, url)
        except (ScenarioError, DeploymentError) as exc:
            click.echo(f"ERROR {path}: {exc}")
            failed += 1
            continue
        click.echo(f"== {report.name} ({path})")
        for outcome in report.outcomes:
            click.echo(outcome.line())
        failed += 0 if report.ok else 1
    click.echo(f"{len(files) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


@cli.command(help="Fire due timers on a schedule (Ctrl-C to stop).")
@click.option("--interval", default=15.0, show_default=True, help="Seconds between sweeps.")
@click.option("--once", is_flag=True, help="One sweep, then exit.")
@click.option(
    "--nice",
    default=0,
    show_default=True,
    help="Lower the worker's CPU priority by this much (e.g. 10), so people's pages come first "
    "when a sweep has a lot to fire on a machine the web app shares.",
)
@click.pass_context
def worker(ctx: click.Context, interval: float, once: bool, nice: int) -> None:
    from engine.scheduler import run_blocking, sweep

    if nice > 0 and hasattr(os, "nice"):
        os.nice(nice)
    engine = _engine(ctx)
    if once:
        click.echo(f"{uk(clock.now())} fired {sweep(engine)} timer(s)")
        return
    click.echo(f"Sweeping for due timers every {interval:g} s (Ctrl-C to stop)")
    try:
        run_blocking(engine, interval)
    except (KeyboardInterrupt, SystemExit):
        click.echo("Stopped.")


@cli.command("closure-day", help="Add a council closure day; pending deadlines move with it.")
@click.argument("council")
@click.argument("day")
@click.option("--reason", default="Council closure day", show_default=True)
@click.option("--by", "by", default="cli", show_default=True)
@click.pass_context
def closure_day(ctx: click.Context, council: str, day: str, reason: str, by: str) -> None:
    try:
        when = date.fromisoformat(day)
    except ValueError:
        raise click.BadParameter(f'"{day}" is not a date (YYYY-MM-DD)', param_hint="DAY") from None
    moved = _engine(ctx).add_closure_day(council, when, reason, by)
    click.echo(
        f"{when:%d %B %Y} is a closure day for {council}; {moved} pending deadline(s) moved."
    )


@cli.command("recompute-deadlines", help="Re-work pending deadlines (after a bank holiday change).")
@click.argument("council")
@click.option("--reason", default="bank holidays updated", show_default=True)
@click.option("--by", "by", default="cli", show_default=True)
@click.pass_context
def recompute_deadlines(ctx: click.Context, council: str, reason: str, by: str) -> None:
    moved = _engine(ctx).recompute_deadlines(council, by, reason)
    click.echo(f"{moved} pending deadline(s) moved for {council}.")


@cli.group(
    help="Manage users (admins): add, list, set-role, add-team, set-password, deactivate, "
    "activate, unlock."
)
def users() -> None:
    pass


@users.command("add", help="Add a user; the password is asked for unless --password is given.")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="Full name shown in the app.")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--team", "teams", multiple=True, help="Team key (repeat for several).")
@click.option("--email", default=None)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.pass_context
def users_add(
    ctx: click.Context,
    username: str,
    display_name: str,
    role: str,
    teams: tuple[str, ...],
    email: str | None,
    password: str,
) -> None:
    try:
        user = _engine(ctx).people.add_user(username, display_name, password, role, teams, email)
    except CinflowError as exc:
        _fail(str(exc))
    click.echo(f"Added {user.username} ({user.role_name}) in {', '.join(user.teams) or 'no team'}")


@users.command("list", help="List users with their role and teams.")
@click.pass_context
def users_list(ctx: click.Context) -> None:
    for user in _engine(ctx).people.users():
        state = " (locked)" if user.locked_until else ""
        state = state if user.active else " (disabled)"
        click.echo(f"{user.username:20} {user.role_name:18} {','.join(user.teams) or '-'}{state}")


@users.command("set-role", help="Change a user's role.")
@click.argument("username")
@click.argument("role", type=click.Choice(ROLES))
@click.pass_context
def users_set_role(ctx: click.Context, username: str, role: str) -> None:
    try:
        user = _engine(ctx).people.set_role(username, role)
    except CinflowError as exc:
        _fail(str(exc))
    click.echo(f"{user.username} is now {user.role_name}")


def _change_user(ctx: click.Context, change: str, username: str, *args: Any) -> Any:
    try:
        return getattr(_engine(ctx).people, change)(username, *args)
    except CinflowError as exc:
        _fail(str(exc))


@users.command("set-password", help="Give a user a new password; their sessions end.")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.pass_context
def users_set_password(ctx: click.Context, username: str, password: str) -> None:
    user = _change_user(ctx, "set_password", username, password)
    click.echo(f"New password set for {user.username}; they are signed out everywhere")


@users.command("deactivate", help="Stop a user signing in; their sessions end at once.")
@click.argument("username")
@click.pass_context
def users_deactivate(ctx: click.Context, username: str) -> None:
    user = _change_user(ctx, "set_active", username, False)
    click.echo(f"{user.username} is deactivated and signed out everywhere")


@users.command("activate", help="Let a deactivated user sign in again.")
@click.argument("username")
@click.pass_context
def users_activate(ctx: click.Context, username: str) -> None:
    user = _change_user(ctx, "set_active", username, True)
    click.echo(f"{user.username} can sign in again")


@users.command("unlock", help="Lift the lock after too many wrong passwords.")
@click.argument("username")
@click.pass_context
def users_unlock(ctx: click.Context, username: str) -> None:
    user = _change_user(ctx, "unlock", username)
    click.echo(f"{user.username} is unlocked")


@users.command("add-team", help="Create a team in a council (or put a user in one with --user).")
@click.argument("team")
@click.option("--council", default=None, help="Council key, when creating the team.")
@click.option("--name", default=None, help="Team name, when creating the team.")
@click.option("--user", "username", default=None, help="Add this user to the team.")
@click.pass_context
def users_add_team(
    ctx: click.Context, team: str, council: str | None, name: str | None, username: str | None
) -> None:
    people = _engine(ctx).people
    try:
        if council:
            people.add_team(team, council, name or team)
            click.echo(f"Team {team} in {council}")
        if username:
            people.add_to_team(username, team)
            click.echo(f"{username} is in {team}")
    except CinflowError as exc:
        _fail(str(exc))
    if not council and not username:
        raise click.UsageError("give --council (to create the team) and/or --user")


def run(group: click.Group) -> None:
    """Run a command; a database that cannot be reached is a one-line error, not a traceback."""
    from sqlalchemy.exc import OperationalError

    try:
        group(obj={})
    except OperationalError as exc:
        click.echo(f"Error: the database could not be reached ({exc.orig}); try again.", err=True)
        sys.exit(1)


def main() -> None:
    run(cli)


from engine import cli_versions  # noqa: E402, F401  (registers the lifecycle commands)
