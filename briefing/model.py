"""The values that flow between stages: raw cells, problems, the validated dossier."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar, cast

from briefing.schema import SCHEMA, BriefingFields, Schema

RecordT = TypeVar("RecordT")

CellValue = str | int | float | bool | dt.datetime | dt.date | dt.time | None


@dataclass(frozen=True)
class RawCell:
    """A cell as the file holds it; `error` is set when it holds no usable value."""

    coordinate: str  # such as "I7"
    value: CellValue
    error: str = ""  # such as "#N/A", or a formula whose value was never saved


@dataclass(frozen=True)
class RawRow:
    """One non-blank row below the header, its cells keyed by column letter."""

    number: int
    cells: dict[str, RawCell]


@dataclass(frozen=True)
class RawSheet:
    """A sheet as read: its header row and the rows below it, nothing checked yet."""

    name: str
    header_row: int
    headers: tuple[tuple[str, str], ...]  # (column letter, header text) in sheet order
    rows: tuple[RawRow, ...]


@dataclass(frozen=True)
class RawWorkbook:
    """Every sheet of a workbook file, by name, in file order."""

    path: Path
    sheets: tuple[RawSheet, ...]

    def sheet(self, name: str) -> RawSheet | None:
        """The sheet called `name`, ignoring case and surrounding spaces."""
        wanted = name.strip().casefold()
        for sheet in self.sheets:
            if sheet.name.strip().casefold() == wanted:
                return sheet
        return None


class Severity(StrEnum):
    """Errors stop a build; warnings are printed and the build goes on."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """Something wrong in the workbook, at a sheet and cell when there is one."""

    sheet: str
    cell: str
    message: str
    severity: Severity = Severity.ERROR

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    @property
    def where(self) -> str:
        if self.sheet and self.cell:
            return f"{self.sheet}!{self.cell}"
        return self.sheet

    def __str__(self) -> str:
        prefix = "" if self.is_error else "warning: "
        return f"{self.where}: {prefix}{self.message}" if self.where else prefix + self.message


@dataclass(frozen=True)
class Dossier:
    """A workbook's records by sheet and the problems found in them.

    Every sheet the schema declares has its records here, by sheet name, in row order (an
    optional sheet the workbook lacks has none). Only a dossier without errors is built.
    """

    path: Path
    records: Mapping[str, tuple[Any, ...]]
    problems: tuple[Problem, ...] = field(default=())
    schema: Schema = SCHEMA

    def rows(self, record: type[RecordT]) -> tuple[RecordT, ...]:
        """The records of the sheet whose rows are of this class: `rows(FigureRow)`."""
        return cast(tuple[RecordT, ...], self.records.get(self.schema.sheet_of(record).name, ()))

    def with_rows(self, record: type[RecordT], rows: tuple[RecordT, ...]) -> Dossier:
        """A copy whose sheet of these records holds `rows` instead."""
        name = self.schema.sheet_of(record).name
        return replace(self, records={**self.records, name: rows})

    @property
    def briefing(self) -> BriefingFields:
        return self.rows(BriefingFields)[0]


@dataclass(frozen=True)
class DocumentProperties:
    """What the memo's File > Properties show."""

    title: str
    subject: str
    author: str
    keywords: str
    created: dt.datetime
