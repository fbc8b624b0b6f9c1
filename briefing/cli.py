"""The command line: a thin Typer layer that calls one pipeline function per command."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from briefing import pipeline
from briefing.errors import BriefingError, InvalidWorkbook, describe
from briefing.model import Problem
from briefing.validate import parse_date_text

app = typer.Typer(
    help="Turn an analyst's Excel workbook into a Word briefing memo.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
_debug = {"on": False}
MAX_PRINTED = 200  # problems `check` prints before it summarizes the rest


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
        if as_json and not _debug["on"]:
            typer.echo(json.dumps({"file": str(workbook), "error": str(err)}, ensure_ascii=False))
            raise typer.Exit(1) from err
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
        _print_problems(report.problems, hint="--json lists them all")
        typer.echo(_summary(report))
    if report.errors or (strict and report.warnings):
        raise typer.Exit(1)


def _print_problems(problems: Sequence[Problem], *, hint: str, err: bool = False) -> None:
    """One line a problem, up to MAX_PRINTED, then how many more there are."""
    for problem in problems[:MAX_PRINTED]:
        typer.echo(str(problem), err=err)
    if len(problems) > MAX_PRINTED:
        hidden = _count(len(problems) - MAX_PRINTED, "more problem")
        typer.echo(f"… and {hidden} ({hint})", err=err)


def _summary(report: pipeline.CheckReport) -> str:
    if not report.problems:
        return f"{report.path}: no problems found"
    return f"{report.path}: {_count(report.errors, 'error')}, {_count(report.warnings, 'warning')}"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


@app.command()
def build(
    workbook: Annotated[Path, typer.Argument(help="The workbook to build from (.xlsx).")],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Where to write the memo (default: WORKBOOK.docx here)."
        ),
    ] = None,
    template: Annotated[
        Path | None,
        typer.Option("--template", "-t", help="A Word template with Jinja tags (.docx)."),
    ] = None,
    date: Annotated[
        str | None,
        typer.Option("--date", help="The memo's date, instead of the Briefing sheet's."),
    ] = None,
    pdf: Annotated[
        bool, typer.Option("--pdf", help="Also write a PDF beside the memo (needs LibreOffice).")
    ] = False,
    email: Annotated[
        bool,
        typer.Option("--email", help="Also write an email draft (.eml) with the memo attached."),
    ] = False,
) -> None:
    """Check the workbook, then render the memo; errors stop it, warnings do not."""
    memo_date = None
    if date is not None:
        memo_date = parse_date_text(date)
        if memo_date is None:
            raise typer.BadParameter(f"{date!r} is not a date; write it as 2024-06-14")
    try:
        result = pipeline.build_memo(
            workbook, output, template, memo_date=memo_date, pdf=pdf, email=email
        )
    except InvalidWorkbook as err:
        _print_problems(err.problems, hint="'briefing check --json' lists them all", err=True)
        if _debug["on"]:
            raise
        typer.echo(f"Error: {workbook}: {err}; nothing was written", err=True)
        raise typer.Exit(1) from err
    except BriefingError as err:
        raise _fail(err) from err
    _print_problems(result.warnings, hint="'briefing check --json' lists them all", err=True)
    for written in (result.path, result.pdf, result.email):
        if written is not None:
            typer.echo(f"Wrote {written}")


@app.command()
def extract(
    article: Annotated[Path, typer.Argument(help="The article's text (UTF-8 .txt).")],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="The workbook to add to or create (default: ARTICLE.xlsx here)."
        ),
    ] = None,
    source_id: Annotated[
        str | None, typer.Option("--source-id", help="The ID for the article's Sources row.")
    ] = None,
) -> None:
    """Add candidate figures, reactions and demands from an article, marked unreviewed."""
    try:
        result = pipeline.extract_candidates(article, output, source_id)
    except BriefingError as err:
        raise _fail(err) from err
    counts = result.counts
    typer.echo(
        f"Wrote {result.path}: {_count(counts['Figures'], 'figure')}, "
        f"{_count(counts['Reactions'], 'reaction')} and {_count(counts['Demands'], 'demand')} "
        f"from source {result.source_id}, each marked unreviewed"
    )
    if result.backup is not None:
        typer.echo(f"Kept the earlier workbook as {result.backup}")
    if result.skipped:
        typer.echo(f"Passed over {_count(result.skipped, 'line')} too long to be a sentence")


template_app = typer.Typer(help="Make and lint memo templates.", no_args_is_help=True)
app.add_typer(template_app, name="template")


@template_app.command("new")
def template_new(
    path: Annotated[Path, typer.Argument(help="Where to write the template copy (.docx).")],
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
) -> None:
    """Write a copy of the default memo template to restyle in Word."""
    try:
        written = pipeline.new_template(path, force=force)
    except BriefingError as err:
        raise _fail(err) from err
    typer.echo(f"Wrote {written}")


@template_app.command("check")
def template_check(
    template: Annotated[Path, typer.Argument(help="The template to lint (.docx).")],
) -> None:
    """Lint a template: Jinja syntax, and variables the memo does not provide."""
    try:
        problems = pipeline.check_template(template)
    except BriefingError as err:
        raise _fail(err) from err
    for problem in problems:
        typer.echo(f"Error: {problem}", err=True)
    if problems:
        raise typer.Exit(1)
    typer.echo(f"{template}: no problems found")


def run() -> None:
    """The console script: a failure no one foresaw still ends in one line, not a traceback."""
    try:
        app()
    except Exception as err:  # the last line of defence; --debug shows the traceback
        if _debug["on"]:
            raise
        typer.echo(
            f"Error: unexpected failure ({describe(err)}); run the command again with --debug "
            "and report what it shows",
            err=True,
        )
        sys.exit(1)
