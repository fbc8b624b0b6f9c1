"""The one boundary to spreadsheet files: read any .xlsx into raw cells, write a new workbook."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import warnings
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import IO, Any
from xml.etree import ElementTree

import openpyxl
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as DefusedElementTree
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell, MergedCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet

from briefing.errors import ExtractError, WorkbookUnreadable, describe
from briefing.model import CellValue, RawCell, RawRow, RawSheet, RawWorkbook
from briefing.schema import (
    FIELD_HEADER,
    GUIDE_SHEET,
    SHEETS,
    Column,
    Kind,
    Layout,
    SheetSpec,
    normalize_header,
    sheet_named,
)

# openpyxl hands XML to defusedxml where lxml is not installed, and lxml (which python-docx
# needs) refuses entity expansion past its own limits; our own XML reads go through defusedxml.
if not openpyxl.DEFUSEDXML:
    raise ImportError("briefing needs defusedxml installed beside openpyxl")

# A desk workbook unpacks to a few megabytes; openpyxl needs about 25 times the unpacked size
# in memory, so past this an archive is refused before parsing.
MAX_UNPACKED_BYTES = 16 * 1024 * 1024
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
ESCAPED_CHARACTER = re.compile(r"_x([0-9A-Fa-f]{4})_")
# Parts of a workbook that openpyxl may not write back, by what an analyst would call them.
KEPT_PARTS = (
    ("xl/drawings/", "drawings or text boxes"),
    ("xl/media/", "pictures"),
    ("xl/charts/", "charts"),
    ("xl/comments", "comments"),
    ("xl/threadedComments/", "threaded comments"),
    ("xl/vbaProject.bin", "macros"),
    ("xl/pivotTables/", "pivot tables"),
    ("xl/slicers/", "slicers"),
    ("xl/externalLinks/", "links to other workbooks"),
    ("xl/embeddings/", "embedded objects"),
    ("customXml/", "custom XML"),
)
HEADER_FILL = PatternFill("solid", start_color="1F3864", end_color="1F3864")
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_BORDER = Border(bottom=Side(style="thin", color="1F3864"))
WRAP_TOP = Alignment(wrap_text=True, vertical="top")
DATE_FORMAT = "yyyy-mm-dd"
VALIDATED_ROWS = 5000  # dropdowns and input messages reach this far down each sheet
LINE_HEIGHT = 15  # points per line of 11-point text


# ---------------------------------------------------------------------------- reading


def read_workbook(path: Path) -> RawWorkbook:
    """Every sheet of the .xlsx at `path` as raw rows; the file is opened read-only."""
    _refuse_non_workbook(path)
    # openpyxl gives a formula's saved value, and None both for "never calculated" and for
    # an empty text result; the sheet XML tells the two apart.
    formulas = _formula_cells(path)
    book = _load(path)
    sheets = tuple(_read_sheet(sheet, formulas.get(sheet.title, {})) for sheet in book.worksheets)
    return RawWorkbook(path=path, sheets=sheets)


def _refuse_non_workbook(path: Path) -> None:
    name = str(path)
    if not os.path.exists(path):
        raise WorkbookUnreadable(f"{name}: no such file; check the path and try again")
    if os.path.isdir(path):
        raise WorkbookUnreadable(f"{name}: is a folder, not a workbook; give the .xlsx file")
    if not os.path.isfile(path):  # a pipe or a device would block the read
        raise WorkbookUnreadable(f"{name}: not a regular file; give the .xlsx file")
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError as err:
        raise WorkbookUnreadable(f"{name}: cannot be read ({err.strerror})") from err
    if not head:
        raise WorkbookUnreadable(f"{name}: the file is empty (0 bytes); it is not a workbook")
    if head == OLE2_MAGIC:
        if _is_encrypted_ooxml(path):
            raise WorkbookUnreadable(
                f"{name}: the workbook is password-protected; remove the password in Excel "
                "(File > Info > Protect Workbook) and save it again"
            )
        raise WorkbookUnreadable(
            f"{name}: this is an old Excel 97-2003 (.xls) file; open it in Excel or "
            "LibreOffice and save it as an .xlsx workbook"
        )
    if not head.startswith(ZIP_MAGIC):
        raise WorkbookUnreadable(
            f"{name}: not an Excel workbook (it looks like a text or CSV file); open it in "
            "Excel or LibreOffice and save it as an .xlsx workbook"
        )
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as err:
        raise WorkbookUnreadable(
            f"{name}: the file is damaged (not a complete .xlsx archive); save it again "
            "from Excel or use a backup"
        ) from err
    names = {member.filename for member in members}
    if "word/document.xml" in names:
        raise WorkbookUnreadable(f"{name}: this is a Word document, not a workbook")
    if "xl/workbook.bin" in names:
        raise WorkbookUnreadable(
            f"{name}: this is a binary workbook (.xlsb); save it as an .xlsx workbook"
        )
    if "xl/workbook.xml" not in names:
        raise WorkbookUnreadable(f"{name}: a zip archive, but not an Excel workbook")
    unpacked = sum(member.file_size for member in members)
    if unpacked > MAX_UNPACKED_BYTES:
        raise WorkbookUnreadable(
            f"{name}: the workbook unpacks to {unpacked / 2**20:,.0f} MB, more than the "
            f"{MAX_UNPACKED_BYTES // 2**20} MB a briefing workbook can be; it is refused"
        )
    declaring = _parts_declaring_entities(path, members)
    if declaring:
        raise WorkbookUnreadable(
            f"{name}: {declaring[0]} declares XML entities, which Excel never writes; the "
            "workbook is refused as unsafe"
        )


def _parts_declaring_entities(path: Path, members: Iterable[zipfile.ZipInfo]) -> list[str]:
    """XML parts that open with a DOCTYPE: the way in for entity-expansion attacks."""
    found = []
    with zipfile.ZipFile(path) as archive:
        for member in members:
            if member.filename.endswith((".xml", ".rels")):
                with archive.open(member) as part:
                    head = part.read(4096)
                if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                    found.append(member.filename)
    return found


def _is_encrypted_ooxml(path: Path) -> bool:
    # Excel stores a password-protected .xlsx inside an OLE2 container with this stream.
    marker = "EncryptionInfo".encode("utf-16-le")
    with path.open("rb") as handle:
        return marker in handle.read(64 * 1024)


def _load(path: Path, *, data_only: bool = True) -> Workbook:
    try:
        with path.open("rb") as handle, warnings.catch_warnings():  # closed even on failure
            # openpyxl warns of features it drops (extensions, odd dates); check reports cells.
            warnings.simplefilter("ignore")
            return openpyxl.load_workbook(handle, data_only=data_only, rich_text=False)
    except Exception as err:  # openpyxl raises many types for damaged parts
        raise WorkbookUnreadable(
            f"{path}: the workbook cannot be read ({describe(err)}); open it in Excel or "
            "LibreOffice and save it again"
        ) from err


def _local(tag: str) -> str:
    """An XML tag without its namespace, so transitional and strict OOXML read alike."""
    return tag.rsplit("}", 1)[-1]


def _formula_cells(path: Path) -> dict[str, dict[str, bool]]:
    """Sheet name -> {coordinate of each formula cell: whether its saved value is text}."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            targets = {
                rel.get("Id"): rel.get("Target", "")
                for rel in DefusedElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
            }
            found: dict[str, dict[str, bool]] = {}
            for sheet in DefusedElementTree.fromstring(archive.read("xl/workbook.xml")).iter():
                if _local(sheet.tag) != "sheet":
                    continue
                relation = next((v for k, v in sheet.attrib.items() if _local(k) == "id"), "")
                target = targets.get(relation, "")
                part = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
                if part not in names:
                    continue
                with archive.open(part) as stream:
                    if not _part_has_formula(stream):
                        continue
                with archive.open(part) as stream:
                    found[sheet.get("name", "")] = _formulas_in(stream)
            return found
    except (KeyError, zipfile.BadZipFile, DefusedXmlException, ElementTree.ParseError) as err:
        raise WorkbookUnreadable(
            f"{path}: the workbook is damaged ({type(err).__name__}); open it in Excel or "
            "LibreOffice and save it again"
        ) from err


def _formulas_in(stream: IO[bytes]) -> dict[str, bool]:
    cells: dict[str, bool] = {}
    for _, element in DefusedElementTree.iterparse(stream):
        if _local(element.tag) == "c":
            if any(_local(child.tag) == "f" for child in element):
                cells[element.get("r", "")] = element.get("t") == "str"
            element.clear()
    return cells


def _part_has_formula(part: IO[bytes]) -> bool:
    tail = b""
    while chunk := part.read(1 << 20):
        window = tail + chunk
        if b"<f>" in window or b"<f " in window or b":f>" in window or b":f " in window:
            return True
        tail = window[-8:]
    return False


def _read_sheet(sheet: Worksheet, formulas: Mapping[str, bool]) -> RawSheet:
    merged = _merged_origins(sheet)
    by_row: dict[int, dict[str, RawCell]] = {}
    # Only the cells the file holds: iter_rows() would make one for every coordinate up to
    # the farthest used cell, and a stray value at XFD1048576 would never finish.
    for (number, column), cell in sorted(sheet._cells.items()):
        raw = _raw_cell(cell, merged.get(cell.coordinate, cell), formulas)
        if raw is not None:
            by_row.setdefault(number, {})[get_column_letter(column)] = raw
    if not by_row:
        return RawSheet(name=sheet.title, header_row=0, headers=(), rows=())
    header_row, *body = by_row
    headers = tuple((letter, _header_text(raw.value)) for letter, raw in by_row[header_row].items())
    rows = tuple(RawRow(number=number, cells=by_row[number]) for number in body)
    return RawSheet(name=sheet.title, header_row=header_row, headers=headers, rows=rows)


def _plain(value: object) -> CellValue:
    """A cell value as one of the few types later stages handle."""
    if isinstance(value, str):
        # Excel stores characters XML cannot hold as _xHHHH_; give back what was typed.
        return ESCAPED_CHARACTER.sub(lambda match: chr(int(match[1], 16)), value)
    if value is None or isinstance(value, int | float | dt.date | dt.time):
        return value
    if isinstance(value, Decimal):
        return float(value)
    return str(value)  # rich text, durations and array formulas print as text


def _header_text(value: CellValue) -> str:
    return "" if value is None else str(value)


def _merged_origins(sheet: Worksheet) -> dict[str, Cell | MergedCell]:
    """Each covered cell of a merged range -> the range's top-left cell, which holds the value."""
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
    """The cell's value, taken from `origin` (itself, or the top-left of its merged range)."""
    coordinate = cell.coordinate
    if isinstance(origin, Cell) and origin.data_type == "e":
        return RawCell(coordinate, None, error=f"the cell holds the error {origin.value}")
    value = _plain(origin.value)
    if isinstance(value, int | float) and "%" in str(origin.number_format):
        # A cell formatted as a percentage shows 87% for 0.87; the analyst typed 87.
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


# ---------------------------------------------------------------------------- writing


def workbook_bytes(
    records: Mapping[str, Sequence[Mapping[str, CellValue]]],
    briefing: Mapping[str, CellValue],
) -> bytes:
    """A new workbook in the schema's layout, holding `records` (by sheet) and `briefing`."""
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for spec in SHEETS:
        sheet = book.create_sheet(spec.name)
        if spec.layout is Layout.FIELDS:
            _write_fields_sheet(sheet, spec, briefing)
        else:
            _write_records_sheet(sheet, spec, records.get(spec.name, ()))
    _write_guide(book.create_sheet(GUIDE_SHEET))
    for sheet in book.worksheets:
        _fit_rows(sheet)
        _set_print_layout(sheet)
    book.active = 0
    book.properties.creator = "briefing"
    book.properties.title = str(briefing.get("Title") or "Briefing workbook")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def appended_workbook_bytes(
    path: Path,
    records: Mapping[str, Sequence[Mapping[str, CellValue]]],
    header_rows: Mapping[str, int],
    briefing: Mapping[str, CellValue] | None = None,
) -> bytes:
    """The workbook at `path` with `records` added below each sheet's last row.

    Everything already in the workbook is kept as openpyxl reads it; columns the new rows
    need and the sheet lacks are added at the right, inside the sheet's table. `briefing`
    fills Briefing fields that are still empty, never one the analyst wrote. A workbook with
    formulas is refused: openpyxl would save them without their calculated values.
    """
    formulas = [
        f"{sheet}!{coordinate}"
        for sheet, cells in _formula_cells(path).items()
        for coordinate in cells
    ]
    if formulas:
        shown = ", ".join(formulas[:3]) + (", …" if len(formulas) > 3 else "")
        raise ExtractError(
            f"{path}: the workbook has formulas ({shown}), whose saved values would be lost; "
            "extract into a new workbook (-o new.xlsx) and copy the rows across"
        )
    book = _load(path, data_only=False)
    for name, rows in records.items():
        if not rows:
            continue
        spec = sheet_named(name)
        sheet = _find_sheet(book, name)
        if sheet is None:
            _write_records_sheet(book.create_sheet(name), spec, rows, _free_table_name(book, name))
            continue
        _append_rows(sheet, spec, rows, header_rows.get(name, 1))
    fields = _find_sheet(book, "Briefing")
    if fields is not None and briefing:
        _fill_empty_fields(fields, briefing)
    buffer = io.BytesIO()
    book.save(buffer)
    lost = _dropped_parts(path, buffer.getvalue())
    if lost:
        raise ExtractError(
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


def _fill_empty_fields(sheet: Worksheet, values: Mapping[str, CellValue]) -> None:
    """Write values into the Briefing sheet's empty Value cells (column B), by field name."""
    spec = sheet_named("Briefing")
    columns = {normalize_header(column.header): column for column in spec.columns}
    for (row, column), cell in list(sheet._cells.items()):
        if column != 1 or cell.value is None:
            continue
        key = normalize_header(str(cell.value))
        wanted = next((v for k, v in values.items() if normalize_header(k) == key), None)
        target = sheet.cell(row=row, column=2)
        if wanted not in (None, "") and key in columns and target.value in (None, ""):
            _set(target, wanted, columns[key])


def _dropped_parts(path: Path, rewritten: bytes) -> list[str]:
    """Kinds of content (drawings, comments, macros, …) the rewritten workbook has fewer of."""
    with zipfile.ZipFile(path) as before, zipfile.ZipFile(io.BytesIO(rewritten)) as after:
        old, new = before.namelist(), after.namelist()
    return [
        what
        for prefix, what in KEPT_PARTS
        if sum(n.startswith(prefix) for n in new) < sum(n.startswith(prefix) for n in old)
    ]


def _append_rows(
    sheet: Worksheet, spec: SheetSpec, rows: Sequence[Mapping[str, CellValue]], header_row: int
) -> None:
    used = [key for key, cell in sheet._cells.items() if cell.value is not None]
    last_row = max((row for row, _ in used), default=header_row)
    columns = {
        normalize_header(str(cell.value)): column
        for (row, column), cell in sheet._cells.items()
        if row == header_row and cell.value is not None
    }
    for column in spec.columns:
        key = normalize_header(column.header)
        if key not in columns and any(column.header in row for row in rows):
            columns[key] = max(columns.values(), default=0) + 1
            _style_header([sheet.cell(row=header_row, column=columns[key], value=column.header)])
            sheet.column_dimensions[get_column_letter(columns[key])].width = column.width
    by_header = {column.header: column for column in spec.columns}
    for offset, row in enumerate(rows, start=1):
        for name, value in row.items():
            cell = sheet.cell(row=last_row + offset, column=columns[normalize_header(name)])
            _set(cell, value, by_header[name])
            cell.alignment = WRAP_TOP
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


def _set(cell: Cell | MergedCell, value: CellValue, column: Column | None = None) -> None:
    """Write a value; text always stays text, even when it starts with '='."""
    if isinstance(value, str):
        text = ILLEGAL_CHARACTERS_RE.sub("", value)
        if column is not None and column.kind is Kind.DATE and text:
            cell.value = dt.date.fromisoformat(text)
            cell.number_format = DATE_FORMAT
            return
        if column is not None and column.kind is Kind.NUMBER and text:
            cell.value = float(text) if "." in text else int(text)
            return
        cell.value = text
        cell.data_type = "s"
        return
    cell.value = value
    if isinstance(value, dt.date):
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
    sheet: Worksheet,
    spec: SheetSpec,
    rows: Sequence[Mapping[str, CellValue]],
    table_name: str = "",
) -> None:
    columns = spec.columns
    for index, column in enumerate(columns, start=1):
        sheet.cell(row=1, column=index, value=column.header)
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = column.width
        validation = _input_message(column)
        validation.add(f"{letter}2:{letter}{VALIDATED_ROWS}")
        sheet.add_data_validation(validation)
    _style_header(sheet[1])
    for number, row in enumerate(rows, start=2):
        for index, column in enumerate(columns, start=1):
            cell = sheet.cell(row=number, column=index)
            _set(cell, row.get(column.header), column)
            cell.alignment = WRAP_TOP
    last_row = max(2, len(rows) + 1)  # an Excel Table needs at least one body row
    table = Table(
        displayName=table_name or f"{spec.name}Table",
        ref=f"A1:{get_column_letter(len(columns))}{last_row}",
        tableStyleInfo=TableStyleInfo(name="TableStyleMedium2", showRowStripes=True),
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


def _write_guide(sheet: Worksheet) -> None:
    header = ("Sheet", "Column", "Required", "Holds", "Allowed values", "What it is", "Example")
    widths = (12, 14, 10, 11, 36, 60, 36)
    for index, (text, width) in enumerate(zip(header, widths, strict=True), start=1):
        sheet.cell(row=1, column=index, value=text)
        sheet.column_dimensions[get_column_letter(index)].width = width
    _style_header(sheet[1])
    number = 1
    for spec in SHEETS:
        for column in spec.columns:
            number += 1
            line = (
                spec.name,
                column.header,
                "yes" if column.required else "",
                str(column.kind),
                column.accepts,
                column.help,
                column.example,
            )
            for index, text in enumerate(line, start=1):
                cell = sheet.cell(row=number, column=index)
                _set(cell, text)
                cell.alignment = WRAP_TOP
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:G{number}"
