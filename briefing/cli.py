"""The command line: a thin Typer layer that calls one pipeline function per command."""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from typer._click import Context, HelpFormatter
from typer.core import TyperArgument, TyperCommand, TyperGroup

from briefing.errors import BriefingError, InvalidWorkbook
from briefing.text import count, describe, parse_date_text, terminal_safe

# Each command imports the pipeline when it runs, so that `--help` loads neither openpyxl nor
# python-docx (half the start-up time), nor the schema behind Problem.
if TYPE_CHECKING:
    from briefing.model import Problem
    from briefing.pipeline import BuildOptions, BuildResult, CheckReport, Outcome
    from briefing.sheetxml import Progress

Function = TypeVar("Function", bound=Callable[..., Any])


class BriefingArgument(TyperArgument):
    """An argument listed by its name alone (`WORKBOOKS`), without Typer's Python type beside
    it (`<list[Path]>`): its help says what it takes."""

    def display_type_rich(self, ctx: Context) -> str | None:
        return None


class BriefingCommand(TyperCommand):
    """A command whose help reads as Unix manuals do: `build [OPTIONS] WORKBOOK`.

    Typer names an argument by its parameter, in braces when it is required (`{workbook}`);
    here it is named in capitals, bare when required, in brackets when not.
    """

    def __init__(self, name: str | None, **settings: Any) -> None:
        super().__init__(name, **settings)
        for param in self.params:
            if isinstance(param, TyperArgument):
                param.__class__ = BriefingArgument
                if param.metavar is None and param.name:
                    param.metavar = param.name.upper()

    def collect_usage_pieces(self, ctx: Context) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                name = param.display_name_raw + ("..." if param.nargs != 1 else "")
                pieces.append(name if param.required else f"[{name}]")
            else:
                pieces.extend(param.get_usage_pieces(ctx))
        return pieces


class BriefingGroup(TyperGroup):
    """A group whose list of commands gives each command's whole first line, wrapped."""

    def format_commands(self, ctx: Context, formatter: HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=sys.maxsize)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


class BriefingTyper(typer.Typer):
    """Typer, its commands made as BriefingCommand and its groups as BriefingGroup."""

    def __init__(self, **settings: Any) -> None:
        # Plain help, not Rich's panels: Rich gives every flag a type (`--pdf <bool>`, though
        # `--pdf true` is an error), and importing it doubles the time `--help` takes.
        super().__init__(cls=BriefingGroup, rich_markup_mode=None, **settings)

    def command(self, *args: Any, **settings: Any) -> Callable[[Function], Function]:
        settings.setdefault("cls", BriefingCommand)
        decorator: Callable[[Function], Function] = super().command(*args, **settings)
        return decorator


app = BriefingTyper(
    help="Turn an analyst's Excel workbook into a Word briefing memo.",
    epilog="Example: briefing build desk.xlsx --date 2024-06-14 --pdf",
    no_args_is_help=True,
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
        metavar="FOLDER",
        help="A folder the Sources' text copies (File) may be in, besides the workbook's "
        "folder and the folder above it.",
    ),
]


def _echo(message: str, *, err: bool = False) -> None:
    """Print one message: all output passes here, so that text from a workbook or an article
    cannot retitle the terminal or move its cursor."""
    typer.echo(terminal_safe(message), err=err)


def _echo_error(message: str) -> None:
    """Print one `Error:` line: a line break in what a file named (a part, a cell) is a space."""
    _echo("Error: " + " ".join(message.splitlines()), err=True)


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
        _echo_error(message)
        raise typer.Exit(1) from err


def _print_version(wanted: bool) -> None:
    """`--version`: the installed package's version, then exit."""
    if not wanted:
        return
    # Imported here: importlib.metadata adds a hundredth of a second to every `--help`.
    from importlib.metadata import PackageNotFoundError, version

    try:
        _echo(f"briefing {version('briefing')}")
    except PackageNotFoundError as err:
        _echo(
            "Error: briefing is not installed, so it has no version; install it with "
            "pip install . from its folder",
            err=True,
        )
        raise typer.Exit(1) from err
    raise typer.Exit()


@app.callback()
def main(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the traceback behind an error.")
    ] = False,
    _version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print briefing's version and exit.",
            callback=_print_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """Turn an analyst's Excel workbook into a Word briefing memo."""
    _debug["on"] = debug


@app.command(epilog="Example: briefing init desk.xlsx --example")
def init(
    workbook: Annotated[Path, typer.Argument(help="Where to write the new workbook (.xlsx).")],
    example: Annotated[
        bool, typer.Option("--example", help="Fill it with the seed article's records.")
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
) -> None:
    """Write a new workbook with every sheet, dropdown and a Guide."""
    from briefing import pipeline

    with _user_errors():
        written = pipeline.init_workbook(workbook, example=example, force=force)
    _echo(f"Wrote {written}")


@app.command(
    epilog="Example: briefing check desk.xlsx --strict  (or several: briefing check desks/)"
)
def check(
    workbooks: Annotated[
        list[Path],
        typer.Argument(help="The workbooks to check (.xlsx or .ods), or folders of them."),
    ],
    strict: Annotated[bool, typer.Option("--strict", help="Fail on warnings too.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the problems as JSON.")] = False,
    sources_dir: SourcesDirOption = None,
) -> None:
    """List every problem in a workbook, each with its Sheet!Cell."""
    from briefing import pipeline

    if pipeline.is_batch(workbooks):
        _check_many(workbooks, strict=strict, as_json=as_json, sources_dir=sources_dir)
        return
    [workbook] = workbooks
    with _user_errors(workbook, as_json=as_json):
        report = pipeline.check_workbook(
            workbook, progress=_progress(workbook), sources_dir=sources_dir
        )
    if as_json:
        _echo(json.dumps(_report_json(report), ensure_ascii=False, indent=2))
    else:
        _print_problems(report.problems, hint="--json lists them all")
        _echo(_summary(report))
    if report.errors or (strict and report.warnings):
        raise typer.Exit(1)


def _report_json(report: CheckReport) -> dict[str, object]:
    return {
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


def _check_many(
    inputs: Sequence[Path], *, strict: bool, as_json: bool, sources_dir: Path | None
) -> None:
    """`check` on many workbooks: each one's problems and summary, then every failure."""
    from briefing import pipeline

    with _user_errors(inputs[0], as_json=as_json):
        workbooks, failures = pipeline.workbooks_in(inputs)
    listed: list[dict[str, object]] = []
    for outcome in pipeline.check_many(workbooks, sources_dir):
        report = outcome.result
        if report is None:
            failures.append(outcome.error or f"{outcome.workbook}: not checked")
            listed.append({"file": str(outcome.workbook), "error": outcome.error})
            continue
        if as_json:
            listed.append(_report_json(report))
        else:
            _print_problems(report.problems, hint="--json lists them all", source=report.path)
            _echo(_summary(report))
        if report.errors:
            failures.append(f"{report.path}: the workbook has {count(report.errors, 'error')}")
        elif strict and report.warnings:
            failures.append(
                f"{report.path}: the workbook has {count(report.warnings, 'warning')}, "
                "and --strict fails on warnings"
            )
    if as_json:
        _echo(json.dumps(listed, ensure_ascii=False, indent=2))
    _fail_if_any(failures)


def _fail_if_any(failures: Sequence[str]) -> None:
    """Every failure of a batch, one `Error:` line each, and exit code 1 if there is one."""
    for failure in failures:
        _echo(f"Error: {failure}", err=True)
    if failures:
        raise typer.Exit(1)


def _print_problems(
    problems: Sequence[Problem], *, hint: str, err: bool = False, source: Path | None = None
) -> None:
    """One line a problem, up to MAX_PROBLEMS_SHOWN, then how many more there are; with
    `source`, each line starts with the workbook it is in."""
    prefix = "" if source is None else f"{source}: "
    for problem in problems[:MAX_PROBLEMS_SHOWN]:
        _echo(f"{prefix}{problem}", err=err)
    if len(problems) > MAX_PROBLEMS_SHOWN:
        hidden = count(len(problems) - MAX_PROBLEMS_SHOWN, "more problem")
        _echo(f"{prefix}… and {hidden} ({hint})", err=err)


def _summary(report: CheckReport) -> str:
    if not report.problems:
        return f"{report.path}: no problems found"
    return f"{report.path}: {count(report.errors, 'error')}, {count(report.warnings, 'warning')}"


@app.command(epilog="Example: briefing build desk.xlsx --date 2024-06-14 --pdf")
def build(
    workbooks: Annotated[
        list[Path],
        typer.Argument(
            help="The workbook to build from (.xlsx or .ods); or several, or folders of them."
        ),
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="PATH",
            help="Where to write the memo (default: WORKBOOK.docx here); with several "
            "workbooks, the folder to write their memos in.",
        ),
    ] = None,
    template: Annotated[
        Path | None,
        typer.Option(
            "--template", "-t", metavar="FILE", help="A Word template with Jinja tags (.docx)."
        ),
    ] = None,
    date: Annotated[
        str | None,
        typer.Option(
            "--date",
            metavar="DATE",
            help="The edition's day: the records of that day and those in force on it "
            "(default: the Briefing sheet's Date).",
        ),
    ] = None,
    days: Annotated[
        int,
        typer.Option(
            "--days",
            min=1,
            metavar="DAYS",
            help="Days the edition covers, up to --date (7: weekly).",
        ),
    ] = 1,
    since: Annotated[
        Path | None,
        typer.Option(
            "--since",
            metavar="WORKBOOK",
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
    if pipeline.is_batch(workbooks):
        if since is not None:
            raise typer.BadParameter("--since compares one workbook with its earlier copy")
        options = pipeline.BuildOptions(template, memo_date, days, pdf, email, sources_dir)
        _build_many(workbooks, output, options)
        return
    [workbook] = workbooks
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
    _print_written(result)


def _print_written(result: BuildResult) -> None:
    for written in (result.path, result.pdf, result.email):
        if written is not None:
            _echo(f"Wrote {written}")


def _build_many(inputs: Sequence[Path], output: Path | None, options: BuildOptions) -> None:
    """`build` on many workbooks: what each one wrote and its warnings, then every failure."""
    from briefing import pipeline

    with _user_errors():
        workbooks, failures = pipeline.workbooks_in(inputs)
        outcomes = pipeline.build_many(workbooks, output, options)
    for outcome in outcomes:
        _print_problems(outcome.problems, hint=BUILD_HINT, err=True, source=outcome.workbook)
        if outcome.result is None:
            failures.append(outcome.error or f"{outcome.workbook}: not built")
            continue
        for notice in outcome.result.notices:
            _echo(f"warning: {notice}", err=True)
        _print_written(outcome.result)
    _fail_if_any(failures)


@app.command(epilog="Example: briefing watch desk.xlsx -o memo.docx --pdf")
def watch(
    workbook: Annotated[Path, typer.Argument(help="The workbook to build from (.xlsx or .ods).")],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Where to write the memo (default: WORKBOOK.docx here).",
        ),
    ] = None,
    template: Annotated[
        Path | None,
        typer.Option(
            "--template", "-t", metavar="FILE", help="A Word template with Jinja tags (.docx)."
        ),
    ] = None,
    pdf: Annotated[
        bool, typer.Option("--pdf", help="Also write a PDF beside the memo (needs LibreOffice).")
    ] = False,
    sources_dir: SourcesDirOption = None,
) -> None:
    """Build the memo, then again each time the workbook, its template or sources are saved."""
    from briefing import pipeline

    with _user_errors(workbook):
        rebuilds = pipeline.watch_memo(workbook, output, template, pdf=pdf, sources_dir=sources_dir)
    _echo(f"Watching {workbook}: the memo is built again each time it is saved; Ctrl-C stops")
    memo = output or pipeline.default_output(workbook)
    try:
        for outcome in rebuilds:
            _print_problems(outcome.problems, hint=BUILD_HINT)
            _echo(f"{time.strftime('%H:%M:%S')} {_rebuilt(outcome, memo)}")
    except KeyboardInterrupt:
        _echo(f"Stopped watching {workbook}")


def _rebuilt(outcome: Outcome[BuildResult], memo: Path) -> str:
    """One line for one build of `watch`: what it wrote, or why the last memo is kept (or
    that there is none yet)."""
    result = outcome.result
    if result is None:
        if not memo.exists():
            return f"Error: {outcome.error}; the memo is made at the first save without errors"
        return f"Error: {outcome.error}, and the last good memo stays"
    written = " and ".join(str(path) for path in (result.path, result.pdf) if path is not None)
    found = count(len(result.warnings), "warning") if result.warnings else "no problems"
    notices = "".join(f"; warning: {notice}" for notice in result.notices)
    return f"Wrote {written}: {found}{notices}"


@app.command(epilog="Example: briefing extract article.txt -o desk.xlsx")
def extract(
    article: Annotated[
        Path, typer.Argument(help="The article: UTF-8 text, or an .html page, a .docx or a .pdf.")
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="The workbook to add to or create (default: ARTICLE.xlsx here).",
        ),
    ] = None,
    source_id: Annotated[
        str | None,
        typer.Option("--source-id", metavar="ID", help="The ID for the article's Sources row."),
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


template_app = BriefingTyper(
    help="Make and lint memo templates.",
    epilog="Example: briefing template new house.docx",
    no_args_is_help=True,
)
app.add_typer(template_app, name="template")


@template_app.command("new", epilog="Example: briefing template new house.docx")
def template_new(
    template: Annotated[Path, typer.Argument(help="Where to write the template copy (.docx).")],
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
) -> None:
    """Write a copy of the default memo template to restyle in Word."""
    from briefing import pipeline

    with _user_errors():
        written = pipeline.new_template(template, force=force)
    _echo(f"Wrote {written}")


@template_app.command("check", epilog="Example: briefing template check house.docx")
def template_check(
    template: Annotated[Path, typer.Argument(help="The template to lint (.docx).")],
) -> None:
    """Lint a template: Jinja syntax, and variables the memo does not provide."""
    from briefing import pipeline

    with _user_errors():
        problems = pipeline.check_template(template)
    for problem in problems:
        _echo_error(problem)
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
