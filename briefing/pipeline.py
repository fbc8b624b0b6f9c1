"""One function per command, calling the stages in order: read, validate, context, render, write."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

from briefing.context import CONTEXT_NAMES, build_context, document_properties
from briefing.errors import InvalidWorkbook, TargetExists
from briefing.model import CellValue, Dossier, Problem
from briefing.output import check_target, write_atomically
from briefing.provenance import verify_provenance
from briefing.render import default_template_bytes, lint_template, render_memo
from briefing.validate import sort_problems, validate_workbook
from briefing.workbook import read_workbook, workbook_bytes

EXAMPLE = "ceasefire-2024-06-14.json"


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
    check_target(path)
    if path.exists() and not force:
        raise TargetExists(f"{path}: already exists; use --force to replace it")
    records, briefing = example_records() if example else ({}, {})
    return write_atomically(path, workbook_bytes(records, briefing))


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


def default_output(workbook: Path) -> Path:
    """The workbook's name with .docx, in the current folder."""
    return Path(workbook.with_suffix(".docx").name)


def build_memo(
    workbook: Path,
    output: Path | None = None,
    template: Path | None = None,
    *,
    now: dt.datetime | None = None,
) -> BuildResult:
    """Check the workbook, render the memo and write it atomically."""
    target = output or default_output(workbook)
    check_target(target)
    dossier = load_dossier(workbook)
    context = build_context(dossier)
    created = now or dt.datetime.now(dt.UTC).replace(microsecond=0, tzinfo=None)
    data = render_memo(template, context.as_dict(), document_properties(dossier, created))
    return BuildResult(write_atomically(target, data), dossier.problems)


def new_template(path: Path, *, force: bool = False) -> Path:
    """Write a copy of the default template to restyle in Word."""
    check_target(path)
    if path.exists() and not force:
        raise TargetExists(f"{path}: already exists; use --force to replace it")
    return write_atomically(path, default_template_bytes())


def check_template(template: Path) -> list[str]:
    """Problems in a template, found without a workbook."""
    return lint_template(template, CONTEXT_NAMES)
