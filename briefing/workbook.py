"""The one boundary to spreadsheet files: read any .xlsx into raw cells, write a new workbook."""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import warnings
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from copy import copy
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell, MergedCell
from openpyxl.compat import safe_string
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.utils.datetime import to_excel
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet

from briefing import sheetxml
from briefing.archive import (
    DAMAGED_PART_ERRORS,
    damaged,
    dropped_parts,
    formula_cells,
    is_strict_ooxml,
    largest_merges,
)
from briefing.errors import WorkbookNotAppendable, WorkbookUnreadable
from briefing.model import CellValue, RawWorkbook
from briefing.schema import (
    FIELD_HEADER,
    GUIDE_SHEET,
    SCHEMA,
    Column,
    Kind,
    Layout,
    Schema,
    SheetSpec,
    column_help,
    normalize_header,
)
from briefing.text import describe

# openpyxl hands XML to defusedxml where lxml is not installed, and lxml (which python-docx
# needs) refuses entity expansion past its own limits; our own XML reads go through defusedxml.
if not openpyxl.DEFUSEDXML:
    raise ImportError("briefing needs defusedxml installed beside openpyxl")

ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
DIMENSION = re.compile(rb'<dimension ref="[^"]*"/>')
END_ROWS = b"</sheetData>"
NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")
HEADER_FILL = PatternFill("solid", start_color="1F3864", end_color="1F3864")
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_BORDER = Border(bottom=Side(style="thin", color="1F3864"))
WRAP_TOP = Alignment(wrap_text=True, vertical="top")
DATE_FORMAT = "yyyy-mm-dd"
VALIDATED_ROWS = 5000  # dropdowns and input messages reach this far down each sheet
LINE_HEIGHT = 15  # points per line of 11-point text
# Cells merged ranges may cover in a workbook `extract` adds to: openpyxl makes and writes an
# object for each one (a whole column, a million, takes it seconds and hundreds of megabytes).
MAX_REWRITTEN_MERGED_CELLS = 100_000
MAX_CELL_CHARACTERS = 32_767  # Excel's limit, to which openpyxl cuts longer text


# ---------------------------------------------------------------------------- reading


def read_workbook(path: Path, progress: sheetxml.Progress | None = None) -> RawWorkbook:
    """Every sheet of the .xlsx at `path` as raw rows; the file is opened read-only.

    Read in one streaming pass by sheetxml.py (openpyxl's reader would build every cell as an
    object); `progress`, such as a sheetxml.TerminalProgress, is told how far the read is.
    """
    return sheetxml.read_workbook(path, progress)


def _load(path: Path, *, data_only: bool = True) -> Workbook:
    try:
        with path.open("rb") as handle, warnings.catch_warnings():  # closed even on failure
            # openpyxl warns of features it drops (extensions, odd dates); check reports cells.
            warnings.simplefilter("ignore")
            return openpyxl.load_workbook(handle, data_only=data_only, rich_text=False)
    except DAMAGED_PART_ERRORS as err:
        raise WorkbookUnreadable(damaged(path)) from err
    except Exception as err:  # openpyxl raises many types for damaged parts
        raise WorkbookUnreadable(
            f"{path}: the workbook cannot be read ({describe(err)}); open it in Excel or "
            "LibreOffice and save it again"
        ) from err


# ---------------------------------------------------------------------------- writing


def workbook_bytes(
    records: Mapping[str, Sequence[Mapping[str, CellValue]]],
    briefing: Mapping[str, CellValue],
    schema: Schema = SCHEMA,
) -> bytes:
    """A new workbook in the schema's layout, holding `records` (by sheet) and `briefing`."""
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    bodies: dict[Worksheet, tuple[int, str]] = {}
    for spec in schema.sheets:
        sheet = book.create_sheet(spec.name)
        if spec.layout is Layout.FIELDS:
            _write_fields_sheet(sheet, spec, briefing)
            continue
        rows = records.get(spec.name, ())
        _write_records_sheet(sheet, spec, len(rows))
        columns = list(enumerate(spec.columns, start=1))
        body = _body_xml(book, sheet, columns, rows)
        if body is None:  # a value the XML writer does not know: openpyxl writes the sheet
            _write_body(sheet, columns, rows, 2)
        elif body:
            bodies[sheet] = (len(rows) + 1, body)
    _write_guide(book.create_sheet(GUIDE_SHEET), schema)
    for sheet in book.worksheets:
        _fit_rows(sheet)
        _set_print_layout(sheet)
    book.active = 0
    book.properties.creator = "briefing"
    book.properties.title = str(briefing.get("Title") or "Briefing workbook")
    buffer = io.BytesIO()
    book.save(buffer)
    return _with_bodies(buffer.getvalue(), bodies)


def appended_workbook_bytes(
    path: Path,
    records: Mapping[str, Sequence[Mapping[str, CellValue]]],
    header_rows: Mapping[str, int],
    briefing: Mapping[str, CellValue] | None = None,
    schema: Schema = SCHEMA,
) -> bytes:
    """The workbook at `path` with `records` added below each sheet's last row.

    Everything already in the workbook is kept as openpyxl reads it; columns the new rows
    need and the sheet lacks are added at the right, inside the sheet's table. `briefing`
    fills Briefing fields that are still empty, never one the analyst wrote. A workbook with
    formulas is refused: openpyxl would save them without their calculated values; so is one
    whose merged ranges cover more than MAX_REWRITTEN_MERGED_CELLS cells.
    """
    if is_strict_ooxml(path):  # openpyxl would find no sheets in it, and save none of them
        raise WorkbookNotAppendable(
            f"{path}: the workbook is saved as Strict Open XML, to which rows cannot be added "
            "without losing its sheets; open it in Excel and save it with File > Save As > "
            "Excel Workbook (.xlsx)"
        )
    formulas = [
        f"{sheet}!{coordinate}"
        for sheet, cells in formula_cells(path).items()
        for coordinate in cells
    ]
    if formulas:
        shown = ", ".join(formulas[:3]) + (", …" if len(formulas) > 3 else "")
        raise WorkbookNotAppendable(
            f"{path}: the workbook has formulas ({shown}), whose saved values would be lost; "
            "extract into a new workbook (-o new.xlsx) and copy the rows across"
        )
    for name, (cells, largest) in largest_merges(path).items():
        if cells > MAX_REWRITTEN_MERGED_CELLS:
            raise WorkbookNotAppendable(
                f"{path}: the sheet '{name}' merges {cells:,} cells ({largest}), more than "
                f"{MAX_REWRITTEN_MERGED_CELLS:,} that adding rows would write again one by one; "
                "unmerge them in Excel or LibreOffice, or extract into a new workbook "
                "(-o new.xlsx) and copy the rows across"
            )
    book = _load(path, data_only=False)
    for name, rows in records.items():
        if not rows:
            continue
        spec = schema.sheet(name)
        sheet = _find_sheet(book, name)
        if sheet is None:
            added = book.create_sheet(name)
            _write_records_sheet(added, spec, len(rows), _free_table_name(book, name))
            _write_body(added, list(enumerate(spec.columns, start=1)), rows, 2)
            continue
        _append_rows(sheet, spec, rows, header_rows.get(name, 1))
    fields = _find_sheet(book, "Briefing")
    if fields is not None and briefing:
        _fill_empty_fields(fields, schema.sheet("Briefing"), briefing)
    buffer = io.BytesIO()
    book.save(buffer)
    lost = dropped_parts(path, buffer.getvalue())
    if lost:
        raise WorkbookNotAppendable(
            f"{path}: adding rows would drop what openpyxl cannot keep ({', '.join(lost)}); "
            "extract into a new workbook (-o new.xlsx) and copy the rows across"
        )
    return buffer.getvalue()


def _find_sheet(book: Workbook, name: str) -> Worksheet | None:
    """The sheet called `name`, matched as reading matches it (case, outer spaces ignored)."""
    wanted = name.strip().casefold()
    return next((s for s in book.worksheets if s.title.strip().casefold() == wanted), None)


def _free_table_name(book: Workbook, name: str) -> str:
    """A table name no sheet of the workbook uses yet: FiguresTable, else FiguresTable2, …"""
    taken = {table for sheet in book.worksheets for table in sheet.tables}
    candidate, number = f"{name}Table", 1
    while candidate in taken:
        number += 1
        candidate = f"{name}Table{number}"
    return candidate


def _fill_empty_fields(sheet: Worksheet, spec: SheetSpec, values: Mapping[str, CellValue]) -> None:
    """Write values into a field sheet's empty Value cells (column B), by field name."""
    columns = {normalize_header(column.header): column for column in spec.columns}
    stored = sheet._cells  # noqa: SLF001 (the cells the file holds; see _read_sheet)
    for (row, column), cell in list(stored.items()):
        if column != 1 or cell.value is None:
            continue
        key = normalize_header(str(cell.value))
        wanted = next((v for k, v in values.items() if normalize_header(k) == key), None)
        target = sheet.cell(row=row, column=2)
        if wanted not in (None, "") and key in columns and target.value in (None, ""):
            _set(target, wanted, columns[key])


def _append_rows(
    sheet: Worksheet, spec: SheetSpec, rows: Sequence[Mapping[str, CellValue]], header_row: int
) -> None:
    stored = sheet._cells  # noqa: SLF001 (the cells the file holds; see _read_sheet)
    used = [key for key, cell in stored.items() if cell.value is not None]
    last_row = max((row for row, _ in used), default=header_row)
    columns = {
        normalize_header(str(cell.value)): column
        for (row, column), cell in stored.items()
        if row == header_row and cell.value is not None
    }
    for column in spec.columns:
        key = normalize_header(column.header)
        if key not in columns and any(column.header in row for row in rows):
            columns[key] = max(columns.values(), default=0) + 1
            _style_header([sheet.cell(row=header_row, column=columns[key], value=column.header)])
            sheet.column_dimensions[get_column_letter(columns[key])].width = column.width
    placed = [
        (columns[normalize_header(column.header)], column)
        for column in spec.columns
        if any(column.header in row for row in rows)
    ]
    _write_body(sheet, placed, rows, last_row + 1, only_given=True)
    _grow_tables(sheet, header_row, last_row + len(rows), max(columns.values()))
    _fit_rows(sheet, first_row=last_row + 1)


def _grow_tables(sheet: Worksheet, header_row: int, last_row: int, last_column: int) -> None:
    """Stretch the table that starts at the header row over the new rows and columns."""
    for table in sheet.tables.values():
        min_col, min_row, max_col, max_row = (int(v or 1) for v in range_boundaries(table.ref))
        if min_row != header_row:
            continue
        for column in range(max_col + 1, last_column + 1):
            name = str(sheet.cell(row=header_row, column=column).value or f"Column{column}")
            table.tableColumns.append(TableColumn(id=len(table.tableColumns) + 1, name=name))
        table.ref = (
            f"{get_column_letter(min_col)}{min_row}:"
            f"{get_column_letter(max(max_col, last_column))}{max(max_row, last_row)}"
        )
        if table.autoFilter is not None:
            table.autoFilter.ref = table.ref


def _write_body(
    sheet: Worksheet,
    columns: Sequence[tuple[int, Column]],
    rows: Sequence[Mapping[str, CellValue]],
    first_row: int,
    *,
    only_given: bool = False,
) -> None:
    """Write `rows` from `first_row` down, each cell wrapped at the top as `init` styles them.

    Each cell gets a copy of one style made once (openpyxl would otherwise look every font,
    fill and alignment up again per cell). A column a row lacks gets an empty styled cell, or
    with `only_given` no cell at all: rows added to a workbook hold only their values, which
    keeps the file, and every later read and save of it, a third smaller.
    """
    wrapped, dated = _body_styles(sheet)
    stored = sheet._cells  # noqa: SLF001 (the cells the file holds; see _read_sheet)
    for number, row in enumerate(rows, start=first_row):
        for index, column in columns:
            if only_given and column.header not in row:
                continue
            existing = stored.get((number, index))
            if existing is not None:  # formatted by the analyst below the rows: keep its style
                _set(existing, row.get(column.header), column)
                existing.alignment = WRAP_TOP
                continue
            value = _converted(row.get(column.header), column)
            if isinstance(value, str):  # most cells: bound as openpyxl binds text, minus its checks
                cell = Cell(sheet, number, index, None, wrapped)
                cell._value = value[:MAX_CELL_CHARACTERS]  # type: ignore[attr-defined]  # noqa: SLF001
                cell.data_type = "s"  # text stays text, even when it starts with '='
            else:
                is_date = isinstance(value, dt.date)
                cell = Cell(sheet, number, index, value, dated if is_date else wrapped)
            stored[(number, index)] = cell


def _body_styles(sheet: Worksheet) -> tuple[StyleArray, StyleArray]:
    """The styles of a records cell: wrapped at the top, and the same showing a date."""
    template = Cell(sheet, 1, 1)  # never placed in the sheet: it only makes the two styles
    template.alignment = WRAP_TOP
    wrapped = copy(template._style)  # type: ignore[attr-defined]  # noqa: SLF001
    template.number_format = DATE_FORMAT
    dated = copy(template._style)  # type: ignore[attr-defined]  # noqa: SLF001
    return wrapped, dated


def _body_xml(
    book: Workbook,
    sheet: Worksheet,
    columns: Sequence[tuple[int, Column]],
    rows: Sequence[Mapping[str, CellValue]],
) -> str | None:
    """The <row> elements openpyxl would write for `rows` from row 2, made by _write_body and
    sized by _fit_rows; None if a value is of a kind only openpyxl writes (a time, a NaN).

    Making a cell object for each value and writing it through lxml took most of the time of
    writing a long article's candidates; tests compare this text with openpyxl's, byte for byte.
    """
    wrapped, dated = _body_styles(sheet)
    styles = book._cell_styles  # type: ignore[attr-defined]  # noqa: SLF001 (ids for the XML)
    text_style, date_style = styles.add(wrapped), styles.add(dated)
    widths = {letter: size.width or 10 for letter, size in sheet.column_dimensions.items()}
    placed = [
        (
            get_column_letter(index),
            column,
            max(1, int(widths.get(get_column_letter(index), 10) * 1.15)),
        )
        for index, column in columns
    ]
    lines: list[str] = []
    for number, row in enumerate(rows, start=2):
        cells: list[str] = []
        height = 1  # in lines, as _fit_rows counts them
        for letter, column, chars_per_line in placed:
            value = _converted(row.get(column.header), column)
            where = f'<c r="{letter}{number}" s="{text_style}"'
            if value is None:
                cells.append(f'{where} t="n"></c>')
            elif type(value) is str:
                text = value[:MAX_CELL_CHARACTERS]
                if not text:
                    cells.append(f'{where} t="inlineStr"></c>')
                    continue
                space = ' xml:space="preserve"' if text != text.strip() else ""
                cells.append(f'{where} t="inlineStr"><is><t{space}>{_escaped(text)}</t></is></c>')
                needed = sum(-(-len(part) // chars_per_line) or 1 for part in text.split("\n"))
                height = max(height, needed)
            elif type(value) in (int, float) and math.isfinite(value):  # type: ignore[arg-type]
                cells.append(f'{where} t="n"><v>{safe_string(value)}</v></c>')
            elif type(value) is dt.date:
                serial = safe_string(to_excel(value, book.epoch))  # type: ignore[no-untyped-call]
                cells.append(f'<c r="{letter}{number}" s="{date_style}" t="n"><v>{serial}</v></c>')
            else:
                return None
        row_height = min(409, height * LINE_HEIGHT)
        lines.append(f'<row r="{number}" ht="{row_height}" customHeight="1">{"".join(cells)}</row>')
    body = "".join(lines)
    # Characters XML cannot hold: the caller removes them, and openpyxl refuses any left.
    return None if NOT_XML.search(body) else body


def _escaped(text: str) -> str:
    """Text as lxml writes it in an element."""
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def _with_bodies(package: bytes, bodies: Mapping[Worksheet, tuple[int, str]]) -> bytes:
    """openpyxl's saved `package` with each sheet's rows from _body_xml, down to the last row
    given, put below its header."""
    if not bodies:
        return package
    parts = {sheet.path.lstrip("/"): (sheet, *body) for sheet, body in bodies.items()}
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(package)) as source,
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            content = source.read(info)
            if info.filename in parts:
                sheet, last_row, body = parts[info.filename]
                dimension = f'<dimension ref="A1:{get_column_letter(sheet.max_column)}{last_row}"/>'
                head, tail = DIMENSION.sub(dimension.encode(), content, count=1).split(END_ROWS, 1)
                # As openpyxl writes XML: ASCII, each other character as a reference.
                rows = body.encode("ascii", "xmlcharrefreplace")
                content = b"".join((head, rows, END_ROWS, tail))
            target.writestr(info, content)
    return buffer.getvalue()


def _converted(value: CellValue, column: Column | None) -> CellValue:
    """The value as the cell holds it: ISO days in date columns as dates, numbers as numbers."""
    if not isinstance(value, str):
        return value
    text = ILLEGAL_CHARACTERS_RE.sub("", value)
    # A month or year stays text: Excel would turn "2022-02" into 1 February 2022.
    dates = (Kind.DATE, Kind.PARTIAL_DATE)
    if column is not None and column.kind in dates and ISO_DAY.fullmatch(text):
        return dt.date.fromisoformat(text)
    if column is not None and column.kind is Kind.NUMBER and text:
        return float(text) if "." in text else int(text)
    return text


def _set(cell: Cell | MergedCell, value: CellValue, column: Column | None = None) -> None:
    """Write a value; text always stays text, even when it starts with '='."""
    value = _converted(value, column)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
    elif isinstance(value, dt.date):
        cell.number_format = DATE_FORMAT


def _fit_rows(sheet: Worksheet, first_row: int = 2) -> None:
    """Give each row the height its wrapped text needs; Excel does not do it for a new file."""
    widths = {
        letter: dimension.width or 10 for letter, dimension in sheet.column_dimensions.items()
    }
    for row in sheet.iter_rows(min_row=first_row):
        lines = 1
        for cell in row:
            if isinstance(cell.value, str) and cell.value:
                chars_per_line = max(1, int(widths.get(cell.column_letter, 10) * 1.15))
                needed = sum(
                    -(-len(part) // chars_per_line) or 1 for part in cell.value.split("\n")
                )
                lines = max(lines, needed)
        sheet.row_dimensions[row[0].row or 1].height = min(409, lines * LINE_HEIGHT)


def _set_print_layout(sheet: Worksheet) -> None:
    """Print landscape, every column on one page width, the header row on every page."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.print_title_rows = "1:1"


def _style_header(cells: Iterable[Cell | MergedCell]) -> None:
    for cell in cells:
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.border = HEADER_BORDER
        cell.alignment = Alignment(vertical="center")


def _input_message(column: Column) -> DataValidation:
    prompt = column.help
    if column.vocabulary is not None:
        prompt += f" One of: {column.allowed}."
    if column.example:
        prompt += f" Example: {column.example}"
    kwargs: dict[str, Any] = {
        "showInputMessage": True,
        "promptTitle": (column.header + (" (required)" if column.required else ""))[:32],
        "prompt": prompt[:255],
        "allow_blank": not column.required,
    }
    if column.vocabulary is not None:
        kwargs.update(
            type="list",
            formula1=f'"{",".join(column.vocabulary.codes)}"',
            showErrorMessage=True,
            errorStyle="stop",
            errorTitle=f"Not a {column.vocabulary.name}"[:32],
            error=f"Choose one of: {column.allowed}"[:225],
        )
    return DataValidation(**kwargs)


def _write_records_sheet(
    sheet: Worksheet, spec: SheetSpec, row_count: int, table_name: str = ""
) -> None:
    """The header, dropdowns and table of a records sheet whose `row_count` rows follow."""
    columns = spec.columns
    for index, column in enumerate(columns, start=1):
        sheet.cell(row=1, column=index, value=column.header)
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = column.width
        validation = _input_message(column)
        validation.add(f"{letter}2:{letter}{VALIDATED_ROWS}")
        sheet.add_data_validation(validation)
    _style_header(sheet[1])
    last_row = max(2, row_count + 1)  # an Excel Table needs at least one body row
    ref = f"A1:{get_column_letter(len(columns))}{last_row}"
    # The table's columns named here, as openpyxl's writer would name them from the header
    # row: it reads them through the table's whole range, making an empty cell for every
    # cell of every row (85,000 for a megabyte of news).
    table = Table(
        displayName=table_name or f"{spec.name}Table",
        ref=ref,
        tableStyleInfo=TableStyleInfo(name="TableStyleMedium2", showRowStripes=True),
        autoFilter=AutoFilter(ref=ref),
        tableColumns=[
            TableColumn(id=index, name=column.header) for index, column in enumerate(columns, 1)
        ],
    )
    sheet.add_table(table)
    sheet.freeze_panes = "A2"


def _write_fields_sheet(sheet: Worksheet, spec: SheetSpec, values: Mapping[str, CellValue]) -> None:
    for index, header in enumerate(FIELD_HEADER, start=1):
        sheet.cell(row=1, column=index, value=header)
    _style_header(sheet[1])
    for number, column in enumerate(spec.columns, start=2):
        name = sheet.cell(row=number, column=1, value=column.header)
        name.font = Font(bold=True)
        name.alignment = WRAP_TOP
        value = sheet.cell(row=number, column=2)
        _set(value, values.get(column.header), column)
        value.alignment = WRAP_TOP
        about = sheet.cell(row=number, column=3, value=column.help)
        about.alignment = WRAP_TOP
        about.font = Font(italic=True, color="595959")
        validation = _input_message(column)
        validation.add(f"B{number}")
        sheet.add_data_validation(validation)
    sheet.column_dimensions["A"].width = 12
    sheet.column_dimensions["B"].width = 70
    sheet.column_dimensions["C"].width = 50
    sheet.freeze_panes = "A2"


def _write_guide(sheet: Worksheet, schema: Schema) -> None:
    header = ("Sheet", "Column", "Required", "Holds", "Allowed values", "What it is", "Example")
    widths = (12, 14, 10, 11, 36, 60, 36)
    for index, (text, width) in enumerate(zip(header, widths, strict=True), start=1):
        sheet.cell(row=1, column=index, value=text)
        sheet.column_dimensions[get_column_letter(index)].width = width
    _style_header(sheet[1])
    number = 1
    for spec in schema.sheets:
        for column in spec.columns:
            number += 1
            line = (
                spec.name,
                column.header,
                "yes" if column.required else "",
                str(column.kind),
                schema.accepts(column),
                column_help(column),
                column.example,
            )
            for index, text in enumerate(line, start=1):
                cell = sheet.cell(row=number, column=index)
                _set(cell, text)
                cell.alignment = WRAP_TOP
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:G{number}"
