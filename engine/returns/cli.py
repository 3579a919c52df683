"""`cinflow census` and `cinflow annex-a`: the returns from the command line.

    cinflow census --year 2025-26 --council portsmouth > census.xml
    cinflow census --year 2025-26 --council portsmouth --check     # only list the problems
    cinflow annex-a --council portsmouth --format xlsx --output list6.xlsx

Problems go to stderr, one per line with the child, the case and the step where the fact is
recorded. With problems that would fail the DfE's validation, nothing is written and the exit
status is 1, unless --allow-incomplete.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from engine.cli import _engine, cli
from engine.returns import annex_a
from engine.returns.census import CensusError, Issue
from engine.returns.service import Returns


def issue_line(issue: Issue) -> str:
    where = issue.where
    step = f'step "{where.step}"' + (f" ({where.element_id})" if where.element_id else "")
    kind = "warning" if issue.warning else "missing or wrong"
    return (
        f"{issue.child} case {issue.case_id}: {issue.what}: {issue.problem} [{kind}; "
        f"recorded at {step}]"
    )


@cli.command(help="The DfE Child in Need census XML for a collection year (to stdout).")
@click.option("--year", required=True, help="Collection year, e.g. 2025-26.")
@click.option("--council", required=True, help="Council key, e.g. portsmouth.")
@click.option("--la-code", default=None, help="DfE local authority code (3 digits).")
@click.option("--check", is_flag=True, help="Only list what is missing or wrong.")
@click.option(
    "--allow-incomplete", is_flag=True, help="Write the XML even with problems (it will fail)."
)
@click.pass_context
def census(
    ctx: click.Context,
    year: str,
    council: str,
    la_code: str | None,
    check: bool,
    allow_incomplete: bool,
) -> None:
    try:
        result = Returns.for_engine(_engine(ctx)).census(council, year, la_code)
    except CensusError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    blocking = [i for i in result.issues if not i.warning]
    for issue in result.issues:
        click.echo(issue_line(issue), err=True)
    for case_id, why in result.excluded:
        click.echo(f"case {case_id} left out: {why}", err=True)
    click.echo(
        f"{result.children} children, {result.episodes} episodes; "
        f"{len(blocking)} problem(s), {len(result.issues) - len(blocking)} warning(s)",
        err=True,
    )
    if check:
        sys.exit(1 if blocking else 0)
    if blocking and not allow_incomplete:
        click.echo(
            "Refused: put these right at the steps named (or use --allow-incomplete); "
            "no XML was written.",
            err=True,
        )
        sys.exit(1)
    click.echo(result.xml)


@cli.command("annex-a", help="Ofsted Annex A list 6 (children in need) as CSV or XLSX.")
@click.option("--council", required=True)
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.pass_context
def annex(ctx: click.Context, council: str, fmt: str, output: Path | None) -> None:
    table = Returns.for_engine(_engine(ctx)).annex_a(council)
    if fmt == "xlsx":
        if output is None:
            raise click.UsageError("XLSX needs --output FILE")
        output.write_bytes(annex_a.to_xlsx(table))
        click.echo(f"{len(table)} children written to {output}", err=True)
        return
    text = annex_a.to_csv(table)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"{len(table)} children written to {output}", err=True)
