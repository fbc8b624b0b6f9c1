"""One function per command, calling the stages in order: read, validate, context, render, write."""

from __future__ import annotations

import datetime as dt
import gc
import json
import os
import signal
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import partial
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from briefing import odsxml, sheetxml
from briefing.archive import document_fonts, is_opendocument
from briefing.articles import read_article, text_copy_path
from briefing.changes import compare_dossiers
from briefing.context import CONTEXT_NAMES, build_context, document_properties
from briefing.edition import select_edition, select_trends
from briefing.errors import (
    BriefingError,
    InvalidEarlierWorkbook,
    InvalidWorkbook,
    OutputError,
    TargetExists,
    TemplateError,
    WorkbookUnreadable,
)
from briefing.lock import exclusive_lock
from briefing.model import (
    CellValue,
    Dossier,
    Edition,
    Problem,
    RawSheet,
    RawWorkbook,
    RowConsumers,
)
from briefing.output import (
    METRIC_TWINS,
    PDF_SECONDS,
    Attachment,
    StagedFiles,
    backup_path,
    email_draft,
    ensure_file_target,
    ensure_output,
    font_substitutions,
    memo_attachments,
    office_program,
    pdf_from_docx,
    write_atomically,
)
from briefing.provenance import openly_within, source_folders, verify_provenance
from briefing.render.child import started_ahead
from briefing.schema import SCHEMA, BriefingFields, Schema, SourceRow
from briefing.sheetxml import Progress
from briefing.text import count, describe, missing_file
from briefing.validate import RecordStreams, locate_header, sort_problems, validate_workbook

if TYPE_CHECKING:
    from briefing.watch import StopSignal

# openpyxl (with numpy) and python-docx cost a quarter of a second to import: the commands
# that write a workbook or render a document import `briefing.workbook` or `briefing.render`
# when they run, so that `check` loads neither.

EXAMPLE = "ceasefire-2024-06-14.json"
# A memo and its PDF together: a template that renders for most of its own time limit and
# then prints millions of characters leaves LibreOffice the rest, so that no template keeps
# a build running longer.
MEMO_AND_PDF_SECONDS = 25
# A workbook file this big takes longer to read (about 0.3 s a megabyte) than matplotlib takes to
# import beside it in the render's process (about 0.36 s); see build_memo.
CHARTS_AHEAD_BYTES = 1 << 20
# The email's formats, and what their templates get beyond the memo's context.
EMAIL_FORMATS = (".txt", ".html")
EMAIL_NAMES = ("attachments",)


@dataclass(frozen=True)
class CheckReport:
    """What `check` found: every problem, errors and warnings alike."""

    path: Path
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> int:
        return sum(1 for problem in self.problems if problem.is_error)

    @property
    def warnings(self) -> int:
        return len(self.problems) - self.errors


def example_records(
    *, with_files: bool = False
) -> tuple[Mapping[str, Sequence[Mapping[str, CellValue]]], Mapping[str, CellValue]]:
    """The seed article's records, by sheet, and its Briefing fields.

    Source files are given relative to the seed workbook's folder, so they are left out of a
    workbook written anywhere else unless `with_files`.
    """
    text = resources.files("briefing.examples").joinpath(EXAMPLE).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    briefing = data.pop("Briefing")
    if not with_files:
        data["Sources"] = [{**row, "File": ""} for row in data["Sources"]]
    return data, briefing


def init_workbook(
    path: Path, *, example: bool = False, force: bool = False, schema: Schema = SCHEMA
) -> Path:
    """Write a new workbook at `path`; refuse to replace a file unless `force`."""
    if path.suffix.casefold() == ".ods":
        raise OutputError(
            f"{path}: init writes .xlsx workbooks only, not OpenDocument (.ods); give "
            f"{path.with_suffix('.xlsx')} instead (LibreOffice opens it, and may save it as .ods)"
        )
    ensure_new_file(path, ".xlsx", force=force)
    records, briefing = example_records() if example else ({}, {})
    from briefing.workbook import workbook_bytes

    return write_atomically(path, workbook_bytes(records, briefing, schema))


def ensure_new_file(path: Path, suffix: str, *, force: bool) -> None:
    """Raise unless `path` can take a new file of this kind; an existing one needs `force`."""
    ensure_output(path, suffix)
    if os.path.exists(path) and not force:
        raise TargetExists(f"{path}: already exists; use --force to replace it")


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Run the block without Python's cyclic collector, as it was before if it was off.

    Loading makes a cell and a record for every row, and none holds a cycle: the collector
    would walk them all again and again, which at 100,000 rows is 60% of validation's time.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def load_dossier(
    path: Path,
    schema: Schema = SCHEMA,
    progress: Progress | None = None,
    sources_dir: Path | None = None,
) -> Dossier:
    """Read and validate a workbook, quotes included; raises InvalidWorkbook on any error.

    `progress` is told how far the read is (the command line shows it on a terminal);
    `sources_dir` is a folder the sources' text copies may be in besides the workbook's own
    and the one above it.
    """
    return with_quotes_checked(read_dossier(path, schema, progress), sources_dir)


def read_dossier(path: Path, schema: Schema = SCHEMA, progress: Progress | None = None) -> Dossier:
    """Read and validate a workbook, its quotes not yet checked against their sources.

    Its problems are in the dossier; nothing is raised for them (see with_quotes_checked).
    """
    if is_owner_file(path):
        raise WorkbookUnreadable(
            f"{path}: is the note an office program keeps beside a workbook open in it, not a "
            "workbook; give the workbook's own name"
        )
    with cyclic_gc_paused():
        # Records sheets are validated row by row as they are read, never held whole.
        streams = RecordStreams(schema)
        return validate_workbook(read_raw_workbook(path, progress, streams), schema, streams)


def with_quotes_checked(dossier: Dossier, sources_dir: Path | None = None) -> Dossier:
    """The dossier read_dossier gave, its quotes checked too; InvalidWorkbook on any error."""
    with cyclic_gc_paused():
        provenance = verify_provenance(dossier, sources_dir)
        problems = sort_problems([*dossier.problems, *provenance], dossier.schema)
    if any(problem.is_error for problem in problems):
        raise InvalidWorkbook(problems)
    return replace(dossier, problems=problems)


def read_raw_workbook(
    path: Path, progress: Progress | None = None, consumers: RowConsumers | None = None
) -> RawWorkbook:
    """The workbook at `path` read by the reader of its format: .ods by name or content, else .xlsx.

    A file named .ods that is none is refused by the .ods reader's guards, which say what it is.
    The .xlsx reader gives the rows of the sheets `consumers` asks for to them as it reads;
    the .ods reader keeps every sheet whole.
    """
    if is_opendocument(path):
        return odsxml.read_workbook(path, progress)
    return sheetxml.read_workbook(path, progress, consumers)


def check_workbook(
    path: Path,
    schema: Schema = SCHEMA,
    progress: Progress | None = None,
    sources_dir: Path | None = None,
) -> CheckReport:
    """Every problem in the workbook at `path`; raises only when the file cannot be read."""
    try:
        dossier = load_dossier(path, schema, progress, sources_dir=sources_dir)
    except InvalidWorkbook as err:
        return CheckReport(path, err.problems)
    return CheckReport(path, dossier.problems)


@dataclass(frozen=True)
class BuildResult:
    """What `build` wrote, and the warnings it went on past."""

    path: Path
    warnings: tuple[Problem, ...]
    pdf: Path | None = None
    email: Path | None = None
    notices: tuple[str, ...] = ()  # one line each, such as a font the PDF had to replace
    cited: tuple[Path, ...] = ()  # the source files the workbook cites (that it may read)


def default_output(source: Path, suffix: str = ".docx") -> Path:
    """The input's name with the output's suffix, in the current folder."""
    return Path(source.with_suffix(suffix).name)


def _size(path: Path) -> int:
    """The file's size in bytes; 0 where it cannot be told (load_dossier says why)."""
    try:
        return path.stat().st_size
    except OSError:
        return 0


def build_memo(
    workbook: Path,
    output: Path | None = None,
    template: Path | None = None,
    *,
    memo_date: dt.date | None = None,
    days: int = 1,
    since: Path | None = None,
    pdf: bool = False,
    email: bool = False,
    now: dt.datetime | None = None,
    progress: Progress | None = None,
    sources_dir: Path | None = None,
) -> BuildResult:
    """Check the workbook and render the edition's memo; with it a PDF and an email draft.

    The edition is the brief for `memo_date` (the Briefing sheet's Date unless given) and the
    `days` up to it; `since` names an earlier copy of the workbook to say what changed. Every
    file is made under a temporary name first, and the targets are replaced only when all of
    them are made: a failure leaves every earlier file as it was.
    """
    target = output or default_output(workbook)
    pdf_target = target.with_suffix(".pdf") if pdf else None
    email_target = target.with_suffix(".eml") if email else None
    inputs = (workbook, template, since)
    ensure_output(target, ".docx", *inputs)
    if pdf_target:
        ensure_output(pdf_target, ".pdf", *inputs)
        office_program(target)  # before the workbook's read, which may take seconds
    if email_target:
        ensure_output(email_target, ".eml", *inputs)
    # The memo's render process starts now and imports its libraries while the workbook is
    # read: a third of a second off every build. A workbook read for longer than matplotlib
    # takes to import has it imported too, in case its edition has a chart: another third.
    with started_ahead(charts=_size(workbook) >= CHARTS_AHEAD_BYTES):
        dossier = read_dossier(workbook, progress=progress)
        if any(problem.is_error for problem in dossier.problems):
            with_quotes_checked(dossier, sources_dir)  # raises, with the quotes' problems too
        try:
            day = memo_date or dossier.briefing.date
            if email and not dossier.briefing.email_to:
                raise OutputError(
                    f"{workbook}: --email needs the addresses in the Briefing sheet's 'Email to' "
                    "field"
                )
            changes = (
                compare_dossiers(load_earlier(since, sources_dir), dossier, day) if since else None
            )
            dated = dossier.with_rows(BriefingFields, (replace(dossier.briefing, date=day),))
            edition = Edition(day, days)
            trends = select_trends(dated, edition)
            chosen = select_edition(dated, edition, trends)
            context = build_context(chosen, changes, trends).as_dict()
        except Exception:
            with_quotes_checked(dossier, sources_dir)  # the workbook's own errors come first
            raise
        # Word stores times in UTC without a zone; python-docx writes a naive value as given.
        created = now or dt.datetime.now(dt.UTC).replace(microsecond=0, tzinfo=None)
        properties = document_properties(dated, created)
        from briefing.render import document_rendered_beside, render_document

        notices = []
        with StagedFiles() as staged:
            rendering = time.monotonic()
            # The memo renders in its own process while the quotes are checked here: a quote
            # not in its source stops the build (and the render) all the same, and the memo
            # is never written.
            with document_rendered_beside(".docx", template, context, properties) as rendered:
                dossier = replace(with_quotes_checked(dossier, sources_dir), records=dated.records)
                memo = staged.write(target, rendered())
            made = [memo]
            if pdf_target:
                # LibreOffice gets what the render left of their time together, at most its own.
                left = MEMO_AND_PDF_SECONDS - (time.monotonic() - rendering)
                timeout = max(1, min(PDF_SECONDS, int(left)))
                made.append(
                    staged.write(pdf_target, pdf_from_docx(memo, pdf_target, timeout=timeout))
                )
                substituted = font_substitutions(document_fonts(memo))
                if substituted:
                    twins = ", ".join(f"{twin} for {font}" for font, twin in METRIC_TWINS.items())
                    notices.append(
                        f"{pdf_target}: LibreOffice had no {', '.join(substituted)}, so the PDF's "
                        f"layout differs from Word's; install the font or its metric twin ({twins})"
                    )
            if email_target:
                briefing = dossier.briefing
                # Named for the memo, not the workbook; the files on disk keep their names.
                attached = memo_attachments(made, day, briefing.title)
                bodies = email_context(context, attached)
                draft = email_draft(
                    to=", ".join(briefing.email_to),
                    subject=f"[{briefing.handling}] {briefing.subject}",
                    body=render_document(".txt", None, bodies, properties).decode("utf-8"),
                    html=render_document(".html", None, bodies, properties).decode("utf-8"),
                    attachments=attached,
                    date=created.replace(tzinfo=dt.UTC),
                )
                staged.write(email_target, draft)
            staged.commit()
    cited = cited_files(dossier, sources_dir)
    return BuildResult(target, dossier.problems, pdf_target, email_target, tuple(notices), cited)


def cited_files(dossier: Dossier, sources_dir: Path | None = None) -> tuple[Path, ...]:
    """The text copies the Sources sheet names, symlinks resolved, that provenance may read."""
    folders = source_folders(dossier.path, sources_dir)
    found = []
    for source in dossier.rows(SourceRow):
        if source.file:
            path = Path(os.path.realpath(dossier.path.parent / source.file))
            if any(path.is_relative_to(folder) for folder in folders):
                found.append(path)
    return tuple(found)


def email_context(context: Mapping[str, Any], attachments: Sequence[Attachment]) -> dict[str, Any]:
    """The memo's context, and what only the email's templates get: `attachments`.

    Each attachment has its `name` in the email and what it is (`about`: "the memo (Word)").
    """
    listed = [{"name": a.name, "about": a.about} for a in attachments]
    return {**context, "attachments": listed}


def load_earlier(path: Path, sources_dir: Path | None = None) -> Dossier:
    """The earlier copy of a workbook that `--since` names; its own errors are one line."""
    try:
        return load_dossier(path, sources_dir=sources_dir)
    except InvalidWorkbook as err:
        errors = sum(1 for problem in err.problems if problem.is_error)
        raise InvalidEarlierWorkbook(
            f"{path}: the earlier workbook given to --since has {count(errors, 'error')}; "
            f"'briefing check {path}' lists them"
        ) from err


def new_template(path: Path, *, force: bool = False) -> Path:
    """Write a copy of the default template to restyle in Word."""
    ensure_new_file(path, ".docx", force=force)
    from briefing.render import default_template

    return write_atomically(path, default_template(".docx"))


def check_template(template: Path) -> list[str]:
    """Problems in a template, found without a workbook.

    What reading the template cannot show (a misspelt field inside a loop, say) shows when it
    is rendered, so a clean template is also rendered with the seed article's records.
    """
    from briefing.render import lint_template, render_document, template_format

    suffix = template_format(template)
    is_email = suffix in EMAIL_FORMATS
    problems = lint_template(suffix, template, (*CONTEXT_NAMES, *(EMAIL_NAMES if is_email else ())))
    if problems:
        return problems
    dossier = example_dossier()
    properties = document_properties(dossier, dt.datetime(2024, 6, 14, tzinfo=dt.UTC))
    context = build_context(dossier).as_dict()
    if is_email:
        briefing = dossier.briefing
        files = [Path("memo.docx"), Path("memo.pdf")]
        context = email_context(context, memo_attachments(files, briefing.date, briefing.title))
    try:
        render_document(suffix, template, context, properties)
    except TemplateError as err:
        return [str(err)]
    return []


def example_dossier() -> Dossier:
    """The seed article's records, validated as any workbook's would be."""
    records, briefing = example_records()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "example.xlsx"
        from briefing.workbook import workbook_bytes

        path.write_bytes(workbook_bytes(records, briefing))
        return load_dossier(path)


@dataclass(frozen=True)
class ExtractResult:
    """What `extract` wrote: the workbook, the backup of its earlier version, the counts, and
    the text copy its Sources row points at when the article was not a text file."""

    path: Path
    backup: Path | None
    source_id: str
    counts: dict[str, int]
    skipped: int
    text_copy: Path | None = None  # the UTF-8 text read from a page, document or PDF


def extract_candidates(
    article: Path,
    output: Path | None = None,
    source_id: str | None = None,
    *,
    now: dt.datetime | None = None,
) -> ExtractResult:
    """Add the article's candidate records, marked unreviewed, to a new or existing workbook."""
    from briefing.extract import (  # its patterns cost every other command 20 ms to compile
        candidate_records,
        choose_source_id,
        ensure_not_extracted,
        existing_ids,
        extract_article,
        relative_path,
    )
    from briefing.workbook import appended_workbook_bytes, workbook_bytes

    read = read_article(article)
    target = output or default_output(article, ".xlsx")
    if target.suffix.casefold() == ".ods":
        raise OutputError(
            f"{target}: extract writes .xlsx workbooks only, not OpenDocument (.ods); give "
            f"-o {target.with_suffix('.xlsx')} instead (LibreOffice opens and saves it)"
        )
    ensure_output(target, ".xlsx", article)
    found = extract_article(read.text, article)
    # Read, add and write under one lock: two extracts at once would each write the workbook
    # as they read it, and the first one's rows would vanish.
    with exclusive_lock(target):
        existing = located_sheets(sheetxml.read_workbook(target)) if os.path.exists(target) else {}
        ids = existing_ids(existing)
        # A page, document or PDF is checked through a UTF-8 copy of the text read from it;
        # so is a text file that `check` would not read from where it is (outside the
        # workbook's folder and the one above it, or in a hidden folder).
        reachable = openly_within(Path(os.path.realpath(article)), source_folders(target))
        copy, saved = (
            text_copy_path(article, target.parent, read.text)
            if read.converted or not reachable
            else (None, False)
        )
        file = relative_path(copy or article, target)
        source_id = choose_source_id(source_id, ids, target)
        ensure_not_extracted(existing, file, target)
        records = candidate_records(found, source_id, ids, file)
        briefing: dict[str, CellValue] = {"Title": found.title, "Subject": found.title}
        if found.published:
            briefing["Date"] = found.published.isoformat()
        backup = None
        if not os.path.exists(target):
            data = workbook_bytes(records, briefing)
        else:
            header_rows = {name: sheet.header_row or 1 for name, sheet in existing.items()}
            data = appended_workbook_bytes(target, records, header_rows, briefing)
            # Named in the analyst's local time, as the file manager shows times.
            backup = backup_path(target, now or dt.datetime.now().astimezone())
            write_atomically(backup, target.read_bytes())
        # The text copy and the workbook that points at it are put in place together.
        with StagedFiles() as staged:
            if copy is not None and not saved:
                staged.write(copy, read.text.encode("utf-8"))
            staged.write(target, data)
            staged.commit()
    counts = {sheet: len(rows) for sheet, rows in records.items() if sheet != "Sources"}
    return ExtractResult(target, backup, source_id, counts, found.skipped, copy)


def located_sheets(raw: RawWorkbook, schema: Schema = SCHEMA) -> dict[str, RawSheet]:
    """The schema's sheets that the workbook has, each read from its header row."""
    return {
        spec.name: locate_header(sheet, spec)
        for spec in schema.sheets
        if (sheet := raw.sheet(spec.name)) is not None
    }


# ---------------------------------------------------------------------------- many workbooks

# The suffixes of the files in a folder that `check` and `build` read as workbooks: those the
# reader reads.
WORKBOOK_SUFFIXES = (".xlsx", ".ods")
# From this many workbooks on, they are read in worker processes, one a core.
MIN_PARALLEL = 4
ResultT = TypeVar("ResultT")


def is_owner_file(path: Path) -> bool:
    """Whether `path` is an office program's note that a workbook is open, not a workbook:
    Excel's `~$desk.xlsx`, LibreOffice's `.~lock.desk.xlsx#`."""
    name = path.name
    return name.startswith("~$") or (name.startswith(".~lock.") and name.endswith("#"))


def is_workbook_file(path: Path) -> bool:
    """Whether a file found in a folder given to `check` or `build` is one to read."""
    return path.suffix.casefold() in WORKBOOK_SUFFIXES and not is_owner_file(path)


def is_batch(inputs: Sequence[Path]) -> bool:
    """Whether the inputs are many workbooks (or a folder of them) rather than one workbook."""
    return len(inputs) != 1 or os.path.isdir(inputs[0])


@dataclass(frozen=True)
class Outcome(Generic[ResultT]):
    """What a command made of one workbook among many: its result, or the one line that says
    why it failed; and the workbook's problems either way."""

    workbook: Path
    result: ResultT | None
    problems: tuple[Problem, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class BuildOptions:
    """The options of `build` that apply to every workbook of a batch alike."""

    template: Path | None = None
    memo_date: dt.date | None = None
    days: int = 1
    pdf: bool = False
    email: bool = False
    sources_dir: Path | None = None


@dataclass(frozen=True)
class Job:
    """One workbook's share of a batch: what a worker process needs, and nothing it cannot
    be sent (a worker gets a pickled copy)."""

    workbook: Path
    output: Path | None = None
    options: BuildOptions = BuildOptions()


def workbooks_in(inputs: Sequence[Path]) -> tuple[list[Path], list[str]]:
    """The workbooks the inputs name, in order, and one line for each folder holding none;
    raises WorkbookUnreadable when they name no workbook at all.

    A folder gives the workbooks directly in it, by name; an owner file is passed over
    wherever it comes from (a shell's `*.xlsx` matches Excel's `~$desk.xlsx`); any other
    file is given to the reader, which says what is wrong with it.
    """
    found: list[Path] = []
    empty: list[str] = []
    for given in inputs:
        if not os.path.isdir(given):
            if not is_owner_file(given):
                found.append(given)
            continue
        inside = sorted(
            path for path in given.iterdir() if is_workbook_file(path) and path.is_file()
        )
        if not inside:
            kinds = ", ".join(WORKBOOK_SUFFIXES)
            empty.append(
                f"{given}: the folder holds no workbook ({kinds}); give a workbook, or a "
                "folder that holds them"
            )
        found.extend(inside)
    if not found:
        named = ", ".join(str(path) for path in inputs)
        raise WorkbookUnreadable(
            empty[0]
            if len(empty) == 1
            else f"{named}: no workbook ({', '.join(WORKBOOK_SUFFIXES)}) among them; name "
            "workbooks, or folders that hold them"
        )
    return found, empty


def check_many(
    workbooks: Sequence[Path], sources_dir: Path | None = None, *, workers: int | None = None
) -> Iterator[Outcome[CheckReport]]:
    """`check` each workbook, past any that cannot be read, in the order given."""
    jobs = [Job(path, options=BuildOptions(sources_dir=sources_dir)) for path in workbooks]
    return _run_jobs(_check_one, jobs, workers)


def build_many(
    workbooks: Sequence[Path],
    output_folder: Path | None = None,
    options: BuildOptions = BuildOptions(),
    *,
    workers: int | None = None,
) -> Iterator[Outcome[BuildResult]]:
    """`build` each workbook's memo, past any that fails, in the order given.

    Each memo is named for its workbook, in `output_folder` (by default the current folder).
    Every target is checked before any memo is built: two workbooks that would write the
    same memo, or a folder that cannot be written in, stop the whole batch in one line.
    """
    if output_folder is not None:
        ensure_output_folder(output_folder, workbooks)
    jobs = []
    claimed: dict[Path, Path] = {}
    for workbook in workbooks:
        target = default_output(workbook)
        if output_folder is not None:
            target = output_folder / target
        key = Path(os.path.normcase(os.path.realpath(target)))
        if key in claimed:
            raise OutputError(
                f"{claimed[key]} and {workbook}: both would write {target}; rename one, or "
                "build them separately with -o"
            )
        claimed[key] = workbook
        jobs.append(Job(workbook, target, options))
    return _run_jobs(_build_one, jobs, workers)


def ensure_output_folder(folder: Path, workbooks: Sequence[Path] = ()) -> None:
    """Raise OutputError unless `folder` is a folder that memos can be written in.

    A memo's name (`-o memo.docx`) where `workbooks` are several names them: one may be a word
    taken for a workbook (`--pdf true`).
    """
    if folder.suffix.casefold() == ".docx" and not os.path.isdir(folder) and workbooks:
        named = ", ".join(str(path) for path in workbooks[:3])
        more = f" and {len(workbooks) - 3} more" if len(workbooks) > 3 else ""
        given = f"{len(workbooks)} workbooks were given ({named}{more})"
        if len(workbooks) == 1:  # one workbook is a batch only when a folder held it
            given = f"a folder of workbooks was given ({named})"
        raise OutputError(
            f"{folder}: -o names one memo, but {given}; give one workbook, or -o a folder for "
            "their memos"
        )
    if not os.path.isdir(folder):
        found = "is a file" if os.path.exists(folder) else "does not exist"
        raise OutputError(
            f"{folder}: {found}; with several workbooks, -o names the folder to write their "
            "memos in, so create it or choose another"
        )
    ensure_file_target(folder / "memo.docx")


def parallel_workers(jobs: int) -> int:
    """How many worker processes a batch of `jobs` workbooks uses: one a core, none for few."""
    if jobs < MIN_PARALLEL:
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(jobs, cores or 1))


def _run_jobs(
    work: Callable[[Job], Outcome[ResultT]], jobs: Sequence[Job], workers: int | None
) -> Iterator[Outcome[ResultT]]:
    """Each job's outcome in the jobs' order, from worker processes when there are many."""
    count = parallel_workers(len(jobs)) if workers is None else workers
    if count <= 1:
        yield from map(work, jobs)
        return
    # Imported here: only a batch has workers, and these cost every command 25 ms.
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # A fresh interpreter a worker, not a fork: the parent may hold threads (a progress
    # display, a file watcher) that a fork would copy half-way.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(count, mp_context=context, initializer=_worker_started) as pool:
        try:
            yield from pool.map(partial(_unless_interrupted, work), jobs)
        finally:
            pool.shutdown(cancel_futures=True)


# In a batch's worker process: whether Ctrl-C was pressed, and whether a workbook is in hand.
_worker = {"interrupted": False, "working": False}


def _worker_started() -> None:
    """A batch's worker notes Ctrl-C, and stops the workbook in hand as a lone command does.

    Noted, because the pool has handed each worker its next workbooks already: without the
    note, a worker would go on to build them after Ctrl-C, and the command would end only when
    they were. Raised only in a workbook, because a worker that Ctrl-C stops while it waits for
    one dies with a traceback, and the pool then kills the others half-way through theirs.
    A worker started with Ctrl-C ignored (a command run in the background) keeps ignoring it.
    """
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        return

    def interrupted(signum: int, frame: object) -> None:
        _worker["interrupted"] = True
        if _worker["working"]:
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupted)


def _unless_interrupted(work: Callable[[Job], ResultT], job: Job) -> ResultT:
    """`work` on `job`, unless Ctrl-C was pressed in this worker since it began."""
    if _worker["interrupted"]:
        raise KeyboardInterrupt
    _worker["working"] = True
    try:
        return work(job)
    finally:
        _worker["working"] = False


def _check_one(job: Job) -> Outcome[CheckReport]:
    try:
        report = check_workbook(job.workbook, sources_dir=job.options.sources_dir)
    except BriefingError as err:
        return Outcome(job.workbook, None, error=str(err))
    except Exception as err:  # one workbook's surprise must not end the batch
        return Outcome(job.workbook, None, error=_unexpected(job.workbook, "check", err))
    return Outcome(job.workbook, report, report.problems)


def _build_one(job: Job) -> Outcome[BuildResult]:
    options = job.options
    try:
        result = build_memo(
            job.workbook,
            job.output,
            options.template,
            memo_date=options.memo_date,
            days=options.days,
            pdf=options.pdf,
            email=options.email,
            sources_dir=options.sources_dir,
        )
    except InvalidWorkbook as err:
        return Outcome(
            job.workbook, None, err.problems, f"{job.workbook}: {err}; nothing was written"
        )
    except BriefingError as err:
        return Outcome(job.workbook, None, error=str(err))
    except Exception as err:  # one workbook's surprise must not end the batch
        return Outcome(job.workbook, None, error=_unexpected(job.workbook, "build", err))
    return Outcome(job.workbook, result, result.warnings)


def _unexpected(workbook: Path, command: str, err: Exception) -> str:
    return (
        f"{workbook}: unexpected failure ({describe(err)}); run 'briefing --debug {command} "
        f"{workbook}' and report what it shows"
    )


# ---------------------------------------------------------------------------- live preview


def watch_memo(
    workbook: Path,
    output: Path | None = None,
    template: Path | None = None,
    *,
    pdf: bool = False,
    sources_dir: Path | None = None,
    stop: StopSignal | None = None,
) -> Iterator[Outcome[BuildResult]]:
    """Build the memo now, then again each time the workbook, the template or a source file
    the workbook cites is saved: each build's outcome, until `stop` is set.

    A build that fails leaves the last good memo as it was. What cannot change between saves
    is checked first, in one line: the workbook is missing, the memo cannot be written there.
    """
    if os.path.isdir(workbook):
        raise WorkbookUnreadable(
            f"{workbook}: is a folder; watch takes one workbook, such as {workbook / 'desk.xlsx'} "
            f"(briefing build {workbook} builds every workbook in it once)"
        )
    if not os.path.isfile(workbook):
        reason = missing_file(workbook) if os.path.lexists(workbook) else "no such file"
        raise WorkbookUnreadable(
            f"{workbook}: {reason}; name the workbook to watch, as saved by Excel"
        )
    target = output or default_output(workbook)
    ensure_output(target, ".docx", workbook, template)
    if pdf:
        ensure_output(target.with_suffix(".pdf"), ".pdf", workbook, template)
        office_program(target)
    options = BuildOptions(template, pdf=pdf, sources_dir=sources_dir)
    return _rebuilds(Job(workbook, target, options), stop)


def _rebuilds(job: Job, stop: StopSignal | None) -> Iterator[Outcome[BuildResult]]:
    from briefing.watch import saves  # watchfiles (and anyio) only for `watch`

    inputs = {_resolved(job.workbook)}
    if job.options.template is not None:
        inputs.add(_resolved(job.options.template))
    watched = set(inputs)  # changed in place: the watch asks it about each change
    outcome: Outcome[BuildResult] | None = None
    waiting = False  # a build's outcome is held back until a new watch has begun
    while True:
        folders = _folders(watched)
        # One watch for as long as the folders stay the same; it begins with no change, and
        # the first memo is built then, so that no save made during a build is missed.
        for changed in saves(folders, watched.__contains__, stop):
            if outcome is not None and not changed:
                if waiting:
                    waiting = False
                    yield outcome
                continue
            # Between an office program's renames the workbook is briefly missing.
            if not os.path.isfile(job.workbook):
                continue
            outcome = _build_one(job)
            _follow_sources(watched, inputs, outcome)
            if _folders(watched) != folders:
                waiting = True
                break  # a source in another folder: watch it too, then say what was built
            yield outcome
        else:
            return  # stopped


def _folders(files: set[Path]) -> set[Path]:
    return {path.parent for path in files if os.path.isdir(path.parent)}


def _follow_sources(watched: set[Path], inputs: set[Path], outcome: Outcome[BuildResult]) -> None:
    """Watch the inputs and the source files a good build cited; a save with errors may not
    say which files it cites, so the last good list stays."""
    if outcome.result is not None:
        watched.clear()
        watched.update(inputs, outcome.result.cited)


def _resolved(path: Path) -> Path:
    return Path(os.path.realpath(path))
