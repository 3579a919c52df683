"""`cinflow` commands for the version lifecycle: library, send-for-approval, approve, go-live,
migrate, document control. (Deploying makes the draft; `cinflow diff` and `cinflow export` are
in engine.cli.)"""

from __future__ import annotations

import sys
from datetime import date

import click

from engine import clock
from engine.cli import _engine, _fail, cli, uk
from engine.errors import CinflowError
from engine.lifecycle import ApprovalRefused


def _day(value: date | None) -> str:
    return f"{value.day} {value:%B %Y}" if value else "-"


@cli.command(help="A council's processes: each version's status, open cases and review date.")
@click.argument("council")
@click.pass_context
def library(ctx: click.Context, council: str) -> None:
    entries = _engine(ctx).process_library(council)
    if not entries:
        _fail(f'nothing is deployed for council "{council}"')
    today = clock.now().date()
    for entry in entries:
        live = entry.live
        review = _day(live.next_review_date) if live else "-"
        flag = "  REVIEW OVERDUE" if entry.review_overdue(today) else ""
        click.echo(f"{entry.process_id}  ({entry.name})  next review {review}{flag}")
        for v in entry.versions:
            who = f"approved by {v.approved_by} {uk(v.approved_at)}" if v.approved_by else ""
            click.echo(
                f"  v{v.version:<3} {v.status:8} deployed by {v.deployed_by} {uk(v.deployed_at)}"
                f"  {who}  open cases {v.open_cases}"
            )


@cli.command(
    "send-for-approval",
    help="Send a council's drafts for approval (a draft is approved only once sent).",
)
@click.argument("council")
@click.option("--by", "by", required=True, help="The practice manager sending them (the author).")
@click.option("--comment", default="")
@click.pass_context
def send_for_approval(ctx: click.Context, council: str, by: str, comment: str) -> None:
    try:
        done = _engine(ctx).send_drafts(council, by, comment)
    except CinflowError as exc:
        _fail(str(exc))
    for v in done:
        click.echo(f"{v.council}/{v.process_id} version {v.version} sent for approval by {by}")


@cli.command(
    help="Approve a council's drafts once sent for approval (four eyes: not your own); runs "
    "every journey."
)
@click.argument("council")
@click.option("--by", "by", required=True, help="The approving practice manager.")
@click.option("--comment", default="")
@click.pass_context
def approve(ctx: click.Context, council: str, by: str, comment: str) -> None:
    try:
        done = _engine(ctx).approve_drafts(council, by, comment)
    except ApprovalRefused as exc:
        click.echo(f"Refused: {len(exc.failures)} check(s) failed; nothing was approved.", err=True)
        for failure in exc.failures:
            click.echo(f"  {failure}", err=True)
        sys.exit(1)
    except CinflowError as exc:
        _fail(str(exc))
    for v in done:
        click.echo(f"{v.council}/{v.process_id} version {v.version} approved by {by}")


@cli.command("go-live", help="Put a council's approved versions live (new cases start on them).")
@click.argument("council")
@click.option("--by", "by", required=True)
@click.option("--comment", default="")
@click.pass_context
def go_live(ctx: click.Context, council: str, by: str, comment: str) -> None:
    try:
        done = _engine(ctx).go_live(council, by, comment)
    except CinflowError as exc:
        _fail(str(exc))
    for v in done:
        click.echo(f"{v.council}/{v.process_id} version {v.version} is live")


@cli.command(help="Move open cases onto the live version, keeping their deadlines' start.")
@click.argument("council")
@click.argument("process_id")
@click.option("--case", "case_ids", type=int, multiple=True, help="Only these cases.")
@click.option("--preview", is_flag=True, help="Say what would happen; change nothing.")
@click.option("--by", "by", default="cli", show_default=True)
@click.pass_context
def migrate(
    ctx: click.Context,
    council: str,
    process_id: str,
    case_ids: tuple[int, ...],
    preview: bool,
    by: str,
) -> None:
    try:
        results = _engine(ctx).migrate_cases(
            council, process_id, by, case_ids=case_ids or None, preview=preview
        )
    except CinflowError as exc:
        _fail(str(exc))
    if not results:
        click.echo("No open case is on another version.")
    for result in results:
        click.echo(result.line())
    if any(not r.ok for r in results):
        sys.exit(1)


@cli.command("document-control", help="Set a version's owner, author, approver or review date.")
@click.argument("council")
@click.argument("process_id")
@click.argument("version", type=int)
@click.option("--owner")
@click.option("--author")
@click.option("--approver")
@click.option("--approval-date", type=click.DateTime(["%Y-%m-%d"]))
@click.option("--next-review", type=click.DateTime(["%Y-%m-%d"]))
@click.option("--by", "by", default="cli", show_default=True)
@click.pass_context
def document_control(ctx: click.Context, council: str, process_id: str, version: int, **opts):  # noqa: ANN201, ANN003
    by = opts.pop("by")
    names = {
        "owner": "doc_owner",
        "author": "doc_author",
        "approver": "doc_approver",
        "approval_date": "approval_date",
        "next_review": "next_review_date",
    }
    fields = {
        names[k]: (v.date() if hasattr(v, "date") else v) for k, v in opts.items() if v is not None
    }
    if not fields:
        raise click.UsageError(
            "give at least one of --owner, --author, --approver, --approval-date, --next-review"
        )
    try:
        v = _engine(ctx).set_document_control(council, process_id, version, by, **fields)
    except CinflowError as exc:
        _fail(str(exc))
    click.echo(
        f"{council}/{process_id} v{version}: owner {v.doc_owner or '-'}, author "
        f"{v.doc_author or '-'}, approver {v.doc_approver or '-'}, approved "
        f"{_day(v.approval_date)}, next review {_day(v.next_review_date)}"
    )
