"""The command line: a thin Typer layer that calls one pipeline function per command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from briefing import pipeline
from briefing.errors import BriefingError

app = typer.Typer(
    help="Turn an analyst's Excel workbook into a Word briefing memo.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
_debug = {"on": False}


def _fail(err: BriefingError) -> typer.Exit:
    if _debug["on"]:
        raise err
    typer.echo(f"Error: {err}", err=True)
    return typer.Exit(1)


@app.callback()
def main(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the traceback behind an error.")
    ] = False,
) -> None:
    """Turn an analyst's Excel workbook into a Word briefing memo."""
    _debug["on"] = debug


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="Where to write the new workbook (.xlsx).")],
    example: Annotated[
        bool, typer.Option("--example", help="Fill it with the seed article's records.")
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
) -> None:
    """Write a new workbook with every sheet, dropdown and a Guide."""
    try:
        written = pipeline.init_workbook(path, example=example, force=force)
    except BriefingError as err:
        raise _fail(err) from err
    typer.echo(f"Wrote {written}")


@app.command()
def check(
    workbook: Annotated[Path, typer.Argument(help="The workbook to check (.xlsx).")],
    strict: Annotated[bool, typer.Option("--strict", help="Fail on warnings too.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the problems as JSON.")] = False,
) -> None:
    """List every problem in a workbook, each with its Sheet!Cell."""
    try:
        report = pipeline.check_workbook(workbook)
    except BriefingError as err:
        raise _fail(err) from err
    if as_json:
        payload = {
            "file": str(report.path),
            "errors": report.errors,
            "warnings": report.warnings,
            "problems": [
                {
                    "sheet": p.sheet,
                    "cell": p.cell,
                    "severity": str(p.severity),
                    "message": p.message,
                }
                for p in report.problems
            ],
        }
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        for problem in report.problems:
            typer.echo(str(problem))
        typer.echo(_summary(report))
    if report.errors or (strict and report.warnings):
        raise typer.Exit(1)


def _summary(report: pipeline.CheckReport) -> str:
    if not report.problems:
        return f"{report.path}: no problems found"
    return f"{report.path}: {_count(report.errors, 'error')}, {_count(report.warnings, 'warning')}"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
