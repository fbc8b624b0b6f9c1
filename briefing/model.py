"""The values that flow between stages: raw cells, problems, the validated dossier."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from briefing.schema import (
    BriefingFields,
    DemandRow,
    FigureRow,
    JudgmentRow,
    ReactionRow,
    SourceRow,
    TimelineRow,
)

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
    """A workbook's records and the problems found in them; only one without errors is built."""

    path: Path
    briefing: BriefingFields
    sources: tuple[SourceRow, ...] = ()
    demands: tuple[DemandRow, ...] = ()
    reactions: tuple[ReactionRow, ...] = ()
    figures: tuple[FigureRow, ...] = ()
    judgments: tuple[JudgmentRow, ...] = ()
    timeline: tuple[TimelineRow, ...] = ()
    problems: tuple[Problem, ...] = field(default=())
