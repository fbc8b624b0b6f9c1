"""One function per command; each calls the stages in order: read, validate, context, render, write."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from briefing.errors import InvalidWorkbook, WorkbookExists
from briefing.model import CellValue, Dossier, Problem
from briefing.output import check_target, write_atomically
from briefing.validate import validate_workbook
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
        raise WorkbookExists(f"{path}: already exists; use --force to replace it")
    records, briefing = example_records() if example else ({}, {})
    return write_atomically(path, workbook_bytes(records, briefing))


def load_dossier(path: Path) -> Dossier:
    """Read and validate a workbook; raises InvalidWorkbook with every problem found."""
    return validate_workbook(read_workbook(path))


def check_workbook(path: Path) -> CheckReport:
    """Every problem in the workbook at `path`; raises only when the file cannot be read."""
    try:
        dossier = load_dossier(path)
    except InvalidWorkbook as err:
        return CheckReport(path, err.problems)
    return CheckReport(path, dossier.warnings)
