"""The command line: a thin Typer layer that calls one pipeline function per command."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from briefing.errors import BriefingError, InvalidWorkbook
from briefing.model import Problem
from briefing.text import count, describe, parse_date_text, terminal_safe

# Each command imports the pipeline when it runs, so that `--help` loads neither openpyxl nor
# python-docx (half the start-up time).
if TYPE_CHECKING:
    from briefing.pipeline import CheckReport
    from briefing.sheetxml import Progress

app = typer.Typer(
    help="Turn an analyst's Excel workbook into a Word briefing memo.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
_debug = {"on": False}
MAX_PROBLEMS_SHOWN = 200  # problem lines printed before the rest are summarized in a count
BUILD_HINT = "'briefing check --json' lists them all"
INTERRUPTED = 130  # 128 + SIGINT: the exit code of a command stopped by Ctrl-C


SourcesDirOption = Annotated[
    Path | None,
    typer.Option(
        "--sources-dir",
        help="A folder the Sources' text copies (File) may be in, besides the workbook's "
        "folder and the folder above it.",
    ),
]


def _echo(message: str, *, err: bool = False) -> None:
    """Print one message: all output passes here, so that text from a workbook or an article
    cannot retitle the terminal or move its cursor."""
    typer.echo(terminal_safe(message), err=err)


def _progress(workbook: Path) -> Progress:
    """How far a read is, on the terminal once it has taken a second; nothing when piped."""
    from briefing.sheetxml import TerminalProgress

    return TerminalProgress(workbook)


@contextlib.contextmanager
def _user_errors(workbook: Path | None = None, *, as_json: bool = False) -> Iterator[None]:
    """A mistake the user can fix ends the command in one `Error:` line and exit code 1.

    An invalid workbook first lists its problems; with `as_json` the error is one JSON object
    on standard output instead; `--debug` shows the traceback.
    """
    try:
        yield
    except BriefingError as err:
        if _debug["on"]:
            raise
        if as_json:
            _echo(json.dumps({"file": str(workbook), "error": str(err)}, ensure_ascii=False))
            raise typer.Exit(1) from err
        message = str(err)
        if isinstance(err, InvalidWorkbook):
            _print_problems(err.problems, hint=BUILD_HINT, err=True)
            message = f"{workbook}: {err}; nothing was written"
        _echo(f"Error: {message}", err=True)
        raise typer.Exit(1) from err


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
    from briefing import pipeline

    with _user_errors():
        written = pipeline.init_workbook(path, example=example, force=force)
    _echo(f"Wrote {written}")


@app.command()
def check(
    workbook: Annotated[Path, typer.Argument(help="The workbook to check (.xlsx).")],
    strict: Annotated[bool, typer.Option("--strict", help="Fail on warnings too.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the problems as JSON.")] = False,
    sources_dir: SourcesDirOption = None,
) -> None:
    """List every problem in a workbook, each with its Sheet!Cell."""
    from briefing import pipeline

    with _user_errors(workbook, as_json=as_json):
        report = pipeline.check_workbook(
            workbook, progress=_progress(workbook), sources_dir=sources_dir
        )
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
        _echo(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        _print_problems(report.problems, hint="--json lists them all")
        _echo(_summary(report))
    if report.errors or (strict and report.warnings):
        raise typer.Exit(1)


def _print_problems(problems: Sequence[Problem], *, hint: str, err: bool = False) -> None:
    """One line a problem, up to MAX_PROBLEMS_SHOWN, then how many more there are."""
    for problem in problems[:MAX_PROBLEMS_SHOWN]:
        _echo(str(problem), err=err)
    if len(problems) > MAX_PROBLEMS_SHOWN:
        hidden = count(len(problems) - MAX_PROBLEMS_SHOWN, "more problem")
        _echo(f"… and {hidden} ({hint})", err=err)


def _summary(report: CheckReport) -> str:
    if not report.problems:
        return f"{report.path}: no problems found"
    return f"{report.path}: {count(report.errors, 'error')}, {count(report.warnings, 'warning')}"


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
        typer.Option(
            "--date",
            help="The edition's day: the records of that day and those in force on it "
            "(default: the Briefing sheet's Date).",
        ),
    ] = None,
    days: Annotated[
        int,
        typer.Option("--days", min=1, help="Days the edition covers, up to --date (7: weekly)."),
    ] = 1,
    since: Annotated[
        Path | None,
        typer.Option(
            "--since",
            help="An earlier copy of the workbook (yesterday's, or extract's backup): the memo "
            "says what changed since.",
        ),
    ] = None,
    pdf: Annotated[
        bool, typer.Option("--pdf", help="Also write a PDF beside the memo (needs LibreOffice).")
    ] = False,
    email: Annotated[
        bool,
        typer.Option("--email", help="Also write an email draft (.eml) with the memo attached."),
    ] = False,
    sources_dir: SourcesDirOption = None,
) -> None:
    """Check the workbook, then render the memo; errors stop it, warnings do not."""
    from briefing import pipeline

    memo_date = None
    if date is not None:
        memo_date = parse_date_text(date)
        if memo_date is None:
            raise typer.BadParameter(f"{date!r} is not a date; write it as 2024-06-14")
    with _user_errors(workbook):
        result = pipeline.build_memo(
            workbook,
            output,
            template,
            memo_date=memo_date,
            days=days,
            since=since,
            pdf=pdf,
            email=email,
            progress=_progress(workbook),
            sources_dir=sources_dir,
        )
    _print_problems(result.warnings, hint=BUILD_HINT, err=True)
    for notice in result.notices:
        _echo(f"warning: {notice}", err=True)
    for written in (result.path, result.pdf, result.email):
        if written is not None:
            _echo(f"Wrote {written}")


@app.command()
def extract(
    article: Annotated[
        Path, typer.Argument(help="The article: UTF-8 text, or an .html page, a .docx or a .pdf.")
    ],
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
    from briefing import pipeline

    with _user_errors():
        result = pipeline.extract_candidates(article, output, source_id)
    counts = result.counts
    _echo(
        f"Wrote {result.path}: {count(counts['Figures'], 'figure')}, "
        f"{count(counts['Reactions'], 'reaction')} and {count(counts['Demands'], 'demand')} "
        f"from source {result.source_id}, each marked unreviewed"
    )
    if result.backup is not None:
        _echo(f"Kept the earlier workbook as {result.backup}")
    if result.text_copy is not None:
        _echo(f"The article's text, which check compares quotes with, is in {result.text_copy}")
    if result.skipped:
        _echo(f"Passed over {count(result.skipped, 'line')} too long to be a sentence")


template_app = typer.Typer(help="Make and lint memo templates.", no_args_is_help=True)
app.add_typer(template_app, name="template")


@template_app.command("new")
def template_new(
    path: Annotated[Path, typer.Argument(help="Where to write the template copy (.docx).")],
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
) -> None:
    """Write a copy of the default memo template to restyle in Word."""
    from briefing import pipeline

    with _user_errors():
        written = pipeline.new_template(path, force=force)
    _echo(f"Wrote {written}")


@template_app.command("check")
def template_check(
    template: Annotated[Path, typer.Argument(help="The template to lint (.docx).")],
) -> None:
    """Lint a template: Jinja syntax, and variables the memo does not provide."""
    from briefing import pipeline

    with _user_errors():
        problems = pipeline.check_template(template)
    for problem in problems:
        _echo(f"Error: {problem}", err=True)
    if problems:
        raise typer.Exit(1)
    _echo(f"{template}: no problems found")


def run() -> None:
    """The console script: a failure no one foresaw still ends in one line, not a traceback."""
    try:
        app()
    except KeyboardInterrupt:  # Ctrl-C before Typer took over the command
        _interrupted()
    except SystemExit as done:
        if done.code == INTERRUPTED:  # Typer ends a command stopped by Ctrl-C so, silently
            _interrupted()
        raise
    except Exception as err:  # the last line of defence; --debug shows the traceback
        if _debug["on"]:
            raise
        _echo(
            f"Error: unexpected failure ({describe(err)}); run the command again with --debug "
            "and report what it shows",
            err=True,
        )
        sys.exit(1)


def _interrupted() -> None:
    """Ctrl-C: one line, and the exit code a shell gives a command stopped by SIGINT.

    Every file is written to a temporary file and renamed into place, and the temporary
    files and folders are removed as the interruption unwinds, so none is left half-written.
    """
    typer.echo(
        "Error: interrupted (Ctrl-C), and no file was left half-written; run the command again "
        "to finish it",
        err=True,
    )
    sys.exit(INTERRUPTED)
