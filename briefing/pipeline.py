"""One function per command, calling the stages in order: read, validate, context, render, write."""

from __future__ import annotations

import datetime as dt
import gc
import json
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

from briefing import sheetxml
from briefing.archive import document_fonts
from briefing.articles import read_article, text_copy_path
from briefing.changes import compare_dossiers
from briefing.context import CONTEXT_NAMES, build_context, document_properties
from briefing.edition import select_edition, select_trends
from briefing.errors import (
    InvalidEarlierWorkbook,
    InvalidWorkbook,
    OutputError,
    TargetExists,
    TemplateError,
)
from briefing.extract import (
    candidate_records,
    choose_source_id,
    ensure_not_extracted,
    existing_ids,
    extract_article,
    relative_path,
)
from briefing.lock import exclusive_lock
from briefing.model import CellValue, Dossier, Edition, Problem, RawSheet, RawWorkbook
from briefing.output import (
    METRIC_TWINS,
    Attachment,
    StagedFiles,
    backup_path,
    email_draft,
    ensure_output,
    font_substitutions,
    memo_attachments,
    office_program,
    pdf_from_docx,
    write_atomically,
)
from briefing.provenance import verify_provenance
from briefing.schema import SCHEMA, BriefingFields, Schema
from briefing.sheetxml import Progress
from briefing.text import count
from briefing.validate import locate_header, sort_problems, validate_workbook

# openpyxl (with numpy) and python-docx cost a quarter of a second to import: the commands
# that write a workbook or render a document import `briefing.workbook` or `briefing.render`
# when they run, so that `check` loads neither.

EXAMPLE = "ceasefire-2024-06-14.json"
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
    with cyclic_gc_paused():
        dossier = validate_workbook(sheetxml.read_workbook(path, progress), schema)
        provenance = verify_provenance(dossier, sources_dir)
        problems = sort_problems([*dossier.problems, *provenance], schema)
    if any(problem.is_error for problem in problems):
        raise InvalidWorkbook(problems)
    return replace(dossier, problems=problems)


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


def default_output(source: Path, suffix: str = ".docx") -> Path:
    """The input's name with the output's suffix, in the current folder."""
    return Path(source.with_suffix(suffix).name)


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
    dossier = load_dossier(workbook, progress=progress, sources_dir=sources_dir)
    day = memo_date or dossier.briefing.date
    if email and not dossier.briefing.email_to:
        raise OutputError(
            f"{workbook}: --email needs the addresses in the Briefing sheet's 'Email to' field"
        )
    changes = compare_dossiers(load_earlier(since, sources_dir), dossier, day) if since else None
    dossier = dossier.with_rows(BriefingFields, (replace(dossier.briefing, date=day),))
    edition = Edition(day, days)
    trends = select_trends(dossier, edition)
    chosen = select_edition(dossier, edition, trends)
    context = build_context(chosen, changes, trends).as_dict()
    # Word stores times in UTC without a zone; python-docx writes a naive value as given.
    created = now or dt.datetime.now(dt.UTC).replace(microsecond=0, tzinfo=None)
    properties = document_properties(dossier, created)
    from briefing.render import render_document

    notices = []
    with StagedFiles() as staged:
        memo = staged.write(target, render_document(".docx", template, context, properties))
        made = [memo]
        if pdf_target:
            made.append(staged.write(pdf_target, pdf_from_docx(memo, pdf_target)))
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
    return BuildResult(target, dossier.problems, pdf_target, email_target, tuple(notices))


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
    from briefing.workbook import appended_workbook_bytes, workbook_bytes

    read = read_article(article)
    target = output or default_output(article, ".xlsx")
    ensure_output(target, ".xlsx", article)
    found = extract_article(read.text, article)
    # Read, add and write under one lock: two extracts at once would each write the workbook
    # as they read it, and the first one's rows would vanish.
    with exclusive_lock(target):
        existing = located_sheets(sheetxml.read_workbook(target)) if os.path.exists(target) else {}
        ids = existing_ids(existing)
        # A page, document or PDF is checked through a UTF-8 copy of the text read from it.
        copy, saved = (
            text_copy_path(article, target.parent, read.text) if read.converted else (None, False)
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
