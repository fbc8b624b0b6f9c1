"""One function per command, calling the stages in order: read, validate, context, render, write."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

from briefing.context import CONTEXT_NAMES, build_context, document_properties
from briefing.errors import (
    ExtractError,
    InvalidWorkbook,
    OutputError,
    TargetExists,
    TemplateError,
)
from briefing.extract import Article, extract_article
from briefing.model import CellValue, Dossier, Problem, RawSheet, RawWorkbook
from briefing.output import (
    check_output,
    email_draft,
    pdf_from_docx,
    write_atomically,
)
from briefing.provenance import verify_provenance
from briefing.render import default_template_bytes, lint_template, render_memo
from briefing.schema import SHEETS, normalize_header
from briefing.validate import locate_header, sort_problems, validate_workbook
from briefing.workbook import appended_workbook_bytes, read_workbook, workbook_bytes

EXAMPLE = "ceasefire-2024-06-14.json"
MAX_ARTICLE_BYTES = 20 * 1024 * 1024
# A source ID is cited in cells and split on commas and spaces: keep it one plain word.
SOURCE_ID = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*")


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


def init_workbook(path: Path, *, example: bool = False, force: bool = False) -> Path:
    """Write a new workbook at `path`; refuse to replace a file unless `force`."""
    check_new_file(path, ".xlsx", force=force)
    records, briefing = example_records() if example else ({}, {})
    return write_atomically(path, workbook_bytes(records, briefing))


def check_new_file(path: Path, suffix: str, *, force: bool) -> None:
    """Raise unless `path` can take a new file of this kind; an existing one needs `force`."""
    check_output(path, suffix)
    if os.path.exists(path) and not force:
        raise TargetExists(f"{path}: already exists; use --force to replace it")


def load_dossier(path: Path) -> Dossier:
    """Read and validate a workbook, quotes included; raises InvalidWorkbook on any error."""
    dossier = validate_workbook(read_workbook(path))
    problems = sort_problems([*dossier.problems, *verify_provenance(dossier)])
    if any(problem.is_error for problem in problems):
        raise InvalidWorkbook(problems)
    return replace(dossier, problems=problems)


def check_workbook(path: Path) -> CheckReport:
    """Every problem in the workbook at `path`; raises only when the file cannot be read."""
    try:
        dossier = load_dossier(path)
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


def default_output(source: Path, suffix: str = ".docx") -> Path:
    """The input's name with the output's suffix, in the current folder."""
    return Path(source.with_suffix(suffix).name)


def build_memo(
    workbook: Path,
    output: Path | None = None,
    template: Path | None = None,
    *,
    memo_date: dt.date | None = None,
    pdf: bool = False,
    email: bool = False,
    now: dt.datetime | None = None,
) -> BuildResult:
    """Check the workbook, render the memo and write it atomically; then a PDF and an email."""
    target = output or default_output(workbook)
    check_output(target, ".docx", workbook, template)
    if pdf:
        check_output(target.with_suffix(".pdf"), ".pdf", workbook, template)
    if email:
        check_output(target.with_suffix(".eml"), ".eml", workbook, template)
    dossier = load_dossier(workbook)
    if memo_date is not None:
        dossier = replace(dossier, briefing=replace(dossier.briefing, date=memo_date))
    if email and not dossier.briefing.email_to:
        raise OutputError(
            f"{workbook}: --email needs the addresses in the Briefing sheet's 'Email to' field"
        )
    context = build_context(dossier)
    created = now or dt.datetime.now(dt.UTC).replace(microsecond=0, tzinfo=None)
    data = render_memo(template, context.as_dict(), document_properties(dossier, created))
    memo = write_atomically(target, data)
    made_pdf = pdf_from_docx(memo) if pdf else None
    draft = None
    if email:
        briefing = dossier.briefing
        draft = email_draft(
            memo,
            to=briefing.email_to,
            subject=f"[{briefing.handling}] {briefing.subject}",
            body=f"{briefing.bluf}\n\nThe memo is attached ({briefing.handling}).\n",
            attachments=[memo, *([made_pdf] if made_pdf else [])],
            date=created.replace(tzinfo=dt.UTC),
        )
    return BuildResult(memo, dossier.problems, made_pdf, draft)


def new_template(path: Path, *, force: bool = False) -> Path:
    """Write a copy of the default template to restyle in Word."""
    check_new_file(path, ".docx", force=force)
    return write_atomically(path, default_template_bytes())


def check_template(template: Path) -> list[str]:
    """Problems in a template, found without a workbook.

    What reading the template cannot show (a misspelt field inside a loop, say) shows when it
    is rendered, so a clean template is also rendered with the seed article's records.
    """
    problems = lint_template(template, CONTEXT_NAMES)
    if problems:
        return problems
    dossier = example_dossier()
    properties = document_properties(dossier, dt.datetime(2024, 6, 14))
    try:
        render_memo(template, build_context(dossier).as_dict(), properties)
    except TemplateError as err:
        return [str(err)]
    return []


def example_dossier() -> Dossier:
    """The seed article's records, validated as any workbook's would be."""
    records, briefing = example_records()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "example.xlsx"
        path.write_bytes(workbook_bytes(records, briefing))
        return load_dossier(path)


@dataclass(frozen=True)
class ExtractResult:
    """What `extract` wrote: the workbook, the backup of its earlier version, the counts."""

    path: Path
    backup: Path | None
    source_id: str
    counts: dict[str, int]
    skipped: int


def extract_candidates(
    article: Path,
    output: Path | None = None,
    source_id: str | None = None,
    *,
    now: dt.datetime | None = None,
) -> ExtractResult:
    """Add the article's candidate records, marked unreviewed, to a new or existing workbook."""
    text = read_article(article)
    target = output or default_output(article, ".xlsx")
    check_output(target, ".xlsx", article)
    found = extract_article(text)
    if not found.title:
        raise ExtractError(f"{article}: the article has no text; give the article's text")
    existing = located_sheets(read_workbook(target)) if os.path.exists(target) else {}
    ids = existing_ids(existing)
    file = relative_path(article, target)
    if source_id is None:
        source_id = next_id("S", ids)
    elif not SOURCE_ID.fullmatch(source_id):
        raise ExtractError(
            f"{source_id!r}: not a usable source ID; use letters and digits, such as S2"
        )
    elif source_id in ids:
        raise ExtractError(
            f"{target}: the ID {source_id} is taken already; choose another --source-id"
        )
    already = source_with_file(existing.get("Sources"), file)
    if already:
        raise ExtractError(
            f"{target}: the article is already a source ({already}); delete that row and its "
            "candidates to extract it again"
        )
    records = candidate_records(found, source_id, ids, file)
    stamp = now or dt.datetime.now()
    backup = None
    briefing: dict[str, CellValue] = {"Title": found.title, "Subject": found.title}
    if found.published:
        briefing["Date"] = found.published.isoformat()
    if not os.path.exists(target):
        data = workbook_bytes(records, briefing)
    else:
        header_rows = {name: sheet.header_row or 1 for name, sheet in existing.items()}
        data = appended_workbook_bytes(target, records, header_rows, briefing)
        backup = backup_path(target, stamp)
        write_atomically(backup, target.read_bytes())
    write_atomically(target, data)
    counts = {sheet: len(rows) for sheet, rows in records.items() if sheet != "Sources"}
    return ExtractResult(target, backup, source_id, counts, found.skipped)


def read_article(path: Path) -> str:
    """An article's text; anything but a readable UTF-8 text file is a clear error."""
    if not os.path.isfile(path):
        what = "is a folder" if os.path.isdir(path) else "does not exist"
        raise ExtractError(f"{path}: the article {what}; give a text file")
    if path.stat().st_size > MAX_ARTICLE_BYTES:
        raise ExtractError(f"{path}: larger than 20 MB; give the article's text alone")
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ExtractError(f"{path}: not UTF-8 text; save the article as UTF-8 text") from err
    except OSError as err:
        raise ExtractError(f"{path}: cannot be read ({err.strerror})") from err


def located_sheets(raw: RawWorkbook) -> dict[str, RawSheet]:
    """The schema's sheets that the workbook has, each read from its header row."""
    return {
        spec.name: locate_header(sheet, spec)
        for spec in SHEETS
        if (sheet := raw.sheet(spec.name)) is not None
    }


def source_with_file(sources: RawSheet | None, file: str) -> str:
    """Where a Sources row already points at `file`, as "S1 at Sources!F2"; else ""."""
    if sources is None:
        return ""
    letters = {normalize_header(text): letter for letter, text in sources.headers}
    for row in sources.rows:
        cell = row.cells.get(letters.get("file", ""))
        if cell is not None and str(cell.value).strip() == file:
            found = row.cells.get(letters.get("id", ""))
            return f"{found.value if found else 'a source'} at Sources!{cell.coordinate}"
    return ""


def existing_ids(sheets: Mapping[str, RawSheet]) -> set[str]:
    """Every value in a column headed ID, on the schema's sheets."""
    ids = set()
    for sheet in sheets.values():
        letters = [letter for letter, text in sheet.headers if normalize_header(text) == "id"]
        for row in sheet.rows:
            for letter in letters:
                cell = row.cells.get(letter)
                if cell is not None and cell.value is not None:
                    ids.add(str(cell.value).strip())
    return ids


def next_id(prefix: str, taken: set[str]) -> str:
    """The first prefix-and-number ID above every one already taken: S3 after S1 and S2."""
    numbers = [
        int(found[len(prefix) :])
        for found in taken
        if found.startswith(prefix) and found[len(prefix) :].isdigit()
    ]
    return f"{prefix}{max(numbers, default=0) + 1}"


def relative_path(article: Path, workbook: Path) -> str:
    """The article's path as the Sources File column holds it: relative to the workbook."""
    return Path(os.path.relpath(article.resolve(), workbook.resolve().parent)).as_posix()


def candidate_records(
    found: Article, source_id: str, taken: set[str], file: str
) -> dict[str, list[dict[str, CellValue]]]:
    """The Sources row and the candidate rows, each with a fresh ID and the source's ID."""
    taken = set(taken) | {source_id}
    records: dict[str, list[dict[str, CellValue]]] = {
        "Sources": [
            {
                "ID": source_id,
                "Title": found.title,
                "Published": found.published.isoformat() if found.published else "",
                "File": file,
                # Ungraded until an analyst grades it: "cannot be judged" on both scales.
                "Reliability": "F",
                "Credibility": "6",
                "AI-generated": "yes" if found.ai_generated else "",
                "Notes": "Added by briefing extract; grade it before relying on it.",
            }
        ]
    }
    for sheet, prefix, rows in (
        ("Demands", "D", found.demands),
        ("Reactions", "R", found.reactions),
        ("Figures", "F", found.figures),
    ):
        records[sheet] = []
        for row in rows:
            record_id = next_id(prefix, taken)
            taken.add(record_id)
            records[sheet].append({"ID": record_id, **row, "Source": source_id})
    return records


def backup_path(target: Path, stamp: dt.datetime) -> Path:
    """desk.xlsx -> desk.backup-20240614-093000.xlsx, beside it, never an existing file."""
    base = f"{target.stem}.backup-{stamp:%Y%m%d-%H%M%S}"
    candidate = target.with_name(base + target.suffix)
    counter = 1
    while os.path.exists(candidate):
        counter += 1
        candidate = target.with_name(f"{base}-{counter}{target.suffix}")
    return candidate
