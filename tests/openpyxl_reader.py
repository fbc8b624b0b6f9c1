"""The reader briefing had before sheetxml.py: openpyxl's full load, kept as the tests' oracle.

tests/test_sheetxml.py reads every workbook the test suite builds with both readers and
expects the same raw cells, so this is what "the same as openpyxl" means, cell for cell.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

import openpyxl
from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from briefing.archive import formula_cells
from briefing.model import CellValue, RawCell, RawRow, RawSheet, RawWorkbook
from briefing.sheetxml import ESCAPED_CHARACTER


def read_with_openpyxl(path: Path) -> RawWorkbook:
    """Every sheet of the .xlsx at `path` as raw rows, read by openpyxl's full load."""
    formulas = formula_cells(path)
    book = _load(path)
    sheets = tuple(_read_sheet(sheet, formulas.get(sheet.title, {})) for sheet in book.worksheets)
    return RawWorkbook(path=path, sheets=sheets)


def _load(path: Path) -> Workbook:
    with path.open("rb") as handle, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return openpyxl.load_workbook(handle, data_only=True, rich_text=False)


def _read_sheet(sheet: Worksheet, formulas: Mapping[str, bool]) -> RawSheet:
    merged = _merged_origins(sheet)
    by_row: dict[int, dict[str, RawCell]] = {}
    for (number, column), cell in sorted(sheet._cells.items()):  # noqa: SLF001
        raw = _raw_cell(cell, merged.get(cell.coordinate, cell), formulas)
        if raw is not None:
            by_row.setdefault(number, {})[get_column_letter(column)] = raw
    if not by_row:
        return RawSheet(name=sheet.title, header_row=0, headers=(), rows=())
    header_row, *body = by_row
    headers = tuple(
        (letter, "" if raw.value is None else str(raw.value))
        for letter, raw in by_row[header_row].items()
    )
    rows = tuple(RawRow(number=number, cells=by_row[number]) for number in body)
    dimensions = sheet.row_dimensions
    hidden = tuple(n for n in body if n in dimensions and dimensions[n].hidden)
    return RawSheet(
        name=sheet.title, header_row=header_row, headers=headers, rows=rows, hidden_rows=hidden
    )


def _plain(value: object) -> CellValue:
    if isinstance(value, str):
        return ESCAPED_CHARACTER.sub(lambda match: chr(int(match[1], 16)), value)
    if value is None or isinstance(value, int | float | dt.date | dt.time):
        return value
    if isinstance(value, Decimal):
        return float(value)
    return str(value)


def _merged_origins(sheet: Worksheet) -> dict[str, Cell | MergedCell]:
    origins: dict[str, Cell | MergedCell] = {}
    for merged in sheet.merged_cells.ranges:
        top_left = sheet.cell(row=merged.min_row, column=merged.min_col)
        for row in range(merged.min_row, merged.max_row + 1):
            for col in range(merged.min_col, merged.max_col + 1):
                origins[f"{get_column_letter(col)}{row}"] = top_left
    return origins


def _raw_cell(
    cell: Cell | MergedCell, origin: Cell | MergedCell, formulas: Mapping[str, bool]
) -> RawCell | None:
    coordinate = cell.coordinate
    if isinstance(origin, Cell) and origin.data_type == "e":
        return RawCell(coordinate, None, error=f"the cell holds the error {origin.value}")
    value = _plain(origin.value)
    if isinstance(value, int | float) and "%" in str(origin.number_format):
        value = round(value * 100, 9)
    if value is None:
        if formulas.get(origin.coordinate) is False:
            return RawCell(
                coordinate,
                None,
                error="the formula has no saved value; open the workbook in Excel or "
                "LibreOffice, let it calculate, and save it",
            )
        return None
    if isinstance(value, str) and not value.strip():
        return None
    return RawCell(coordinate, value)
