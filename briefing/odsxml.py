"""Read every cell of an OpenDocument spreadsheet (.ods) in one streaming pass over its XML.

The same raw cells as sheetxml.py gives for the same workbook saved as .xlsx (`RawWorkbook`):
`content.xml` is fed to the standard library's expat a megabyte at a time, and only the cells
holding something are kept. What the XML says is read as it says it: a cell's
`office:value-type` and its value attribute give numbers, dates, times, percentages (as the
number shown, 87 for 87%) and booleans; `calcext:value-type="error"` (LibreOffice's mark), or
a formula whose text result differs from its empty string value, is an error cell named by the
text shown (`#N/A`, `Err:502`); a formula with no value and no text is one never calculated.
Repeated rows and cells (`table:number-rows-repeated`, `…-columns-repeated`) are expanded only
where they hold something, and merged ranges (`table:number-columns-spanned`,
`…-rows-spanned`) give their value to the cells they cover, up to the sheet's rightmost value.
Hidden and filtered rows are noted. Comments and drawings inside a cell are not its text.

python-calamine reads .ods faster, but gives an empty string for an error cell and for a
formula never calculated, and nothing of hidden rows: briefing must tell those from a blank.
"""

from __future__ import annotations

import datetime as dt
import gc
import re
import time
import zipfile
from pathlib import Path
from typing import Any
from xml.parsers import expat

from briefing import archive as guards
from briefing.archive import (
    DAMAGED_PART_ERRORS,
    damaged,
    ensure_opendocument_archive,
    entities_refused,
    read_too_slow,
    too_many_cells,
)
from briefing.errors import WorkbookUnreadable
from briefing.model import CellValue, RawCell, RawSheet, RawWorkbook
from briefing.sheetxml import (
    CHUNK,
    MAX_MERGED_CELLS,
    NO_SAVED_VALUE,
    Progress,
    assemble_sheet,
    letters_of,
)
from briefing.text import describe

CONTENT = "content.xml"
OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
CALCEXT = "urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0"
MAX_COLUMNS = 16384  # as far as LibreOffice and Excel go: XFD
MAX_ROWS = 1 << 20
HIDDEN = ("collapse", "filter")  # a row's table:visibility when LibreOffice hides it
MAX_HIDDEN_RUN = 1 << 16  # hidden empty rows noted one by one; LibreOffice hides whole tails
# A duration as ODF writes a time: PT09H30M00S, P1DT2H, -PT1H.
DURATION = re.compile(r"(-)?P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?")
# Elements inside a cell whose text is not the cell's: comments, drawings, text boxes.
NOT_CELL_TEXT = (
    f"{OFFICE}}}annotation",
    "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0}frame",
    "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0}custom-shape",
)

# Names as expat gives them with "}" between namespace and local name.
SPREADSHEET = f"{OFFICE}}}spreadsheet"
SHEET = f"{TABLE}}}table"
ROW = f"{TABLE}}}table-row"
CELL = f"{TABLE}}}table-cell"
COVERED = f"{TABLE}}}covered-table-cell"
PARAGRAPH = f"{TEXT}}}p"
SPACES = f"{TEXT}}}s"
TAB = f"{TEXT}}}tab"
LINE_BREAK = f"{TEXT}}}line-break"
NAME = f"{TABLE}}}name"
ROWS_REPEATED = f"{TABLE}}}number-rows-repeated"
COLUMNS_REPEATED = f"{TABLE}}}number-columns-repeated"
COLUMNS_SPANNED = f"{TABLE}}}number-columns-spanned"
ROWS_SPANNED = f"{TABLE}}}number-rows-spanned"
VISIBILITY = f"{TABLE}}}visibility"
FORMULA = f"{TABLE}}}formula"
VALUE_TYPE = f"{OFFICE}}}value-type"
ERROR_MARK = f"{CALCEXT}}}value-type"
VALUE = f"{OFFICE}}}value"
DATE_VALUE = f"{OFFICE}}}date-value"
TIME_VALUE = f"{OFFICE}}}time-value"
BOOLEAN_VALUE = f"{OFFICE}}}boolean-value"
STRING_VALUE = f"{OFFICE}}}string-value"
SPACE_COUNT = f"{TEXT}}}c"


class _EntityDeclared(Exception):
    """Raised from inside expat when content.xml declares a DOCTYPE or an entity."""


def read_workbook(path: Path, progress: Progress | None = None) -> RawWorkbook:
    """Every sheet of the .ods at `path` as raw rows, read in one streaming pass.

    `progress`, if given, is called as the XML is read with (bytes read, bytes in all).
    """
    ensure_opendocument_archive(path)
    reader = _Reader(path, progress)
    collecting = gc.isenabled()
    gc.disable()  # as in sheetxml: the cells kept hold no cycles for the collector to find
    try:
        with zipfile.ZipFile(path) as archive:
            return reader.read(archive)
    except _EntityDeclared:
        raise WorkbookUnreadable(entities_refused(path, CONTENT)) from None
    except WorkbookUnreadable:
        raise
    except DAMAGED_PART_ERRORS as err:
        raise WorkbookUnreadable(damaged(path, CONTENT)) from err
    except (expat.ExpatError, zipfile.BadZipFile, KeyError, ValueError, OverflowError,
            OSError) as err:  # fmt: skip
        raise WorkbookUnreadable(
            f"{path}: the spreadsheet cannot be read ({describe(err)}); open it in "
            "LibreOffice and save it again"
        ) from err
    finally:
        if collecting:
            gc.enable()


def _count(attrs: dict[str, str], name: str, limit: int) -> int:
    """A repeat or span count: 1 when absent, never past `limit`."""
    text = attrs.get(name)
    if text is None:
        return 1
    number = int(text)
    if number < 1:
        raise ValueError(f"{name.rsplit('}', 1)[-1]}={text} is not a count")
    return min(number, limit)


def _number(text: str) -> int | float:
    # As sheetxml reads a number: an integer unless it has a point or an exponent.
    return float(text) if "." in text or "e" in text or "E" in text else int(text)


def _time(text: str) -> CellValue:
    """An ODF time value: a time of day under 24 hours, else the duration as text."""
    match = DURATION.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text} is not a time")
    negative, days, hours, minutes, seconds = match.groups()
    span = dt.timedelta(
        days=int(days or 0),
        hours=int(hours or 0),
        minutes=int(minutes or 0),
        seconds=float(seconds or 0),
    )
    span = dt.timedelta(seconds=span.total_seconds() // 1, microseconds=span.microseconds)
    if negative:
        return str(-span)
    if span.days == 0:
        rest = span.seconds
        return dt.time(rest // 3600, rest // 60 % 60, rest % 60, span.microseconds)
    return str(span)


def _date(text: str) -> CellValue:
    """An ODF date value (2024-06-14 or 2024-06-14T09:30:00) as a datetime, as .xlsx gives."""
    value = dt.datetime.fromisoformat(text.strip().removesuffix("Z"))
    return value.replace(tzinfo=None)


def cell_value(attrs: dict[str, str], text: str | None) -> tuple[CellValue, str]:
    """(value, error) of a table cell from its attributes and the text it shows.

    `text` is None when the cell holds no paragraph at all. A cell holding nothing gives
    (None, "").
    """
    kind = attrs.get(VALUE_TYPE)
    formula = FORMULA in attrs
    if attrs.get(ERROR_MARK) == "error":
        return None, f"the cell holds the error {(text or '').strip() or '#VALUE!'}"
    if kind is None:
        if formula and text is None:
            return None, NO_SAVED_VALUE
        return _plain(text), ""
    try:
        if kind in ("float", "currency"):
            return _number(attrs[VALUE]), ""
        if kind == "percentage":
            return round(_number(attrs[VALUE]) * 100, 9), ""  # 87% was typed as 87
        if kind == "date":
            return _date(attrs[DATE_VALUE]), ""
        if kind == "time":
            return _time(attrs[TIME_VALUE]), ""
        if kind == "boolean":
            return attrs[BOOLEAN_VALUE].strip() in ("true", "1"), ""
    except (KeyError, ValueError, OverflowError):
        return None, "the cell holds the error #VALUE!"
    value = attrs.get(STRING_VALUE)
    if formula and value == "" and text:
        # A formula's text result is shown as it is; shown text with an empty value is an
        # error, as writers without LibreOffice's calcext mark save one (Err:502, #N/A).
        return None, f"the cell holds the error {text.strip()}"
    return _plain(text if value is None else value), ""


def _plain(text: str | None) -> str | None:
    """Text as typed; None when it is only spaces, as sheetxml reads a blank."""
    return text if text and text.strip() else None


class _Reader:
    def __init__(self, path: Path, progress: Progress | None) -> None:
        self.path = path
        self.progress = progress
        self.started = time.monotonic()
        self.kept = 0  # cells kept in all sheets

    def _parser(self) -> Any:
        parser = expat.ParserCreate(namespace_separator="}")
        parser.buffer_text = True
        parser.buffer_size = 1 << 16

        def refuse(*_: object) -> Any:  # every handler of a declaration
            raise _EntityDeclared(CONTENT)

        parser.StartDoctypeDeclHandler = refuse
        parser.EntityDeclHandler = refuse
        parser.UnparsedEntityDeclHandler = refuse
        parser.ExternalEntityRefHandler = refuse
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        return parser

    def _tick(self, done: int, total: int) -> None:
        if time.monotonic() - self.started > guards.MAX_READ_SECONDS:
            raise WorkbookUnreadable(read_too_slow(self.path))
        if self.progress is not None:
            self.progress(done, total)

    def keep(self, cells: int) -> None:
        """Count cells about to be kept; refuse before making them past the limit."""
        self.kept += cells
        if self.kept > guards.MAX_CELLS:
            raise WorkbookUnreadable(too_many_cells(self.path))

    def read(self, archive: zipfile.ZipFile) -> RawWorkbook:
        total = archive.getinfo(CONTENT).file_size
        handlers = _Handlers(self)
        parser = self._parser()
        parser.StartElementHandler = handlers.start
        parser.EndElementHandler = handlers.end
        parser.CharacterDataHandler = handlers.data
        done = 0
        with archive.open(CONTENT) as stream:
            while chunk := stream.read(CHUNK):
                parser.Parse(chunk, False)
                done += len(chunk)
                self._tick(done, total)
            parser.Parse(b"", True)
        if self.progress is not None:
            self.progress(total, total)
        return RawWorkbook(path=self.path, sheets=tuple(handlers.sheets))


class _Handlers:
    """Expat handlers for content.xml: the sheets of office:spreadsheet, row by row."""

    def __init__(self, reader: _Reader) -> None:
        self.reader = reader
        self.sheets: list[RawSheet] = []
        self.in_spreadsheet = False
        self.sheet_name: str | None = None  # the sheet being read
        self.rows: dict[int, dict[str, RawCell]] = {}
        self.hidden: set[int] = set()
        # Merged ranges whose top-left cell holds something: (top, left, bottom, right, cell).
        self.merges: list[tuple[int, int, int, int, RawCell]] = []
        self.row = 0  # rows before the current one
        self.row_repeat = 1
        self.row_hidden = False
        # The current row's cells holding something: (column, repeat, value, error, spans).
        self.row_cells: list[tuple[int, int, CellValue, str, tuple[int, int] | None]] = []
        self.column = 0  # columns before the current cell
        self.depth = 0  # inside a table cell: 1 at the cell itself
        self.skip_depth = 0  # inside a comment or drawing within the cell: its depth
        self.cell_attrs: dict[str, str] = {}
        self.parts: list[str] | None = None  # the cell's text, paragraphs parted by "\n"
        self.covered = False

    def start(self, name: str, attrs: dict[str, str]) -> None:
        depth = self.depth
        if depth:
            self.depth = depth = depth + 1
            if self.skip_depth or self.covered:
                return
            if name == PARAGRAPH:
                if self.parts is None:
                    self.parts = []
                else:
                    self.parts.append("\n")
            elif name in NOT_CELL_TEXT:
                self.skip_depth = depth
            elif self.parts is not None:
                if name == SPACES:
                    self.parts.append(" " * _count(attrs, SPACE_COUNT, 1 << 16))
                elif name == TAB:
                    self.parts.append("\t")
                elif name == LINE_BREAK:
                    self.parts.append("\n")
            return
        if name in (CELL, COVERED):
            if self.sheet_name is None:
                return
            self.depth = 1
            self.covered = name == COVERED
            self.cell_attrs = attrs
            self.parts = None
        elif self.sheet_name is None:
            if name == SHEET and self.in_spreadsheet:
                self.sheet_name = attrs.get(NAME, f"Sheet{len(self.sheets) + 1}")
                self.rows, self.hidden, self.merges, self.row = {}, set(), [], 0
            elif name == SPREADSHEET:
                self.in_spreadsheet = True
        elif name == ROW:
            self.row_repeat = _count(attrs, ROWS_REPEATED, MAX_ROWS) if attrs else 1
            self.row_hidden = attrs.get(VISIBILITY, "visible") in HIDDEN
            self.row_cells = []
            self.column = 0
        elif name == SHEET:
            raise ValueError("a sheet inside a sheet")

    def data(self, text: str) -> None:
        if self.parts is not None and not self.skip_depth:
            self.parts.append(text)

    def end(self, name: str) -> None:
        depth = self.depth
        if depth:
            if self.skip_depth == depth:
                self.skip_depth = 0
            self.depth = depth - 1
            if depth == 1:
                self._cell_end()
            return
        if self.sheet_name is None:
            if name == SPREADSHEET:
                self.in_spreadsheet = False
            return
        if name == ROW:
            self._row_end()
        elif name == SHEET:
            self.sheets.append(self._sheet_end(self.sheet_name))
            self.sheet_name = None

    def _cell_end(self) -> None:
        attrs = self.cell_attrs
        column = self.column
        repeat = _count(attrs, COLUMNS_REPEATED, MAX_COLUMNS) if COLUMNS_REPEATED in attrs else 1
        self.column = column + repeat
        if self.covered or column >= MAX_COLUMNS:
            return
        parts, self.parts = self.parts, None
        text = None if parts is None else parts[0] if len(parts) == 1 else "".join(parts)
        if attrs.get(VALUE_TYPE) == "string" and FORMULA not in attrs:
            # The common cell, read without cell_value's questions.
            value: CellValue = attrs.get(STRING_VALUE, text)
            if not value or not value.strip():  # type: ignore[union-attr]
                return
            error = ""
        else:
            value, error = cell_value(attrs, text)
            if value is None and not error:
                return
        spans = None
        if COLUMNS_SPANNED in attrs or ROWS_SPANNED in attrs:
            spans = (
                _count(attrs, ROWS_SPANNED, MAX_ROWS),
                _count(attrs, COLUMNS_SPANNED, MAX_COLUMNS),
            )
        self.row_cells.append((column, min(repeat, MAX_COLUMNS - column), value, error, spans))

    def _row_end(self) -> None:
        first = self.row + 1
        repeat = min(self.row_repeat, MAX_ROWS - self.row)
        self.row += self.row_repeat
        if self.row_hidden and repeat <= MAX_HIDDEN_RUN:
            self.hidden.update(range(first, first + repeat))  # a merged range may fill them
        row_cells = self.row_cells
        if not row_cells or repeat <= 0:
            return
        self.reader.keep(repeat * sum(cell[1] for cell in row_cells))
        letters = _letters
        for number in range(first, first + repeat):
            cells: dict[str, RawCell] = {}
            digits = str(number)
            for column, columns, value, error, spans in row_cells:
                for place in range(column + 1, column + columns + 1):
                    letter = letters[place] if place < len(letters) else _more_letters(place)
                    raw = RawCell(letter + digits, value, error)
                    cells[letter] = raw
                    if spans is not None and (spans[0] > 1 or spans[1] > 1):
                        bottom = min(number + spans[0] - 1, MAX_ROWS)
                        right = min(place + spans[1] - 1, MAX_COLUMNS)
                        self.merges.append((number, place, bottom, right, raw))
            self.rows[number] = cells

    def _sheet_end(self, name: str) -> RawSheet:
        rows = self.rows
        if self.merges:
            self._fill_merged(name)
        return assemble_sheet(name, rows, self.hidden, ordered=False)

    def _fill_merged(self, name: str) -> None:
        """Give each merged range's value (or error) to the cells it covers.

        As sheetxml fills them, up to the sheet's rightmost cell holding something (a range
        across a whole row fills no further), and more than MAX_MERGED_CELLS filled is refused.
        """
        rows = self.rows
        width = max(
            (_column_number(letter) for cells in rows.values() for letter in cells), default=0
        )
        filled = 0
        for top, left, bottom, right, _ in self.merges:
            filled += (bottom - top + 1) * max(0, min(right, width) - left + 1) - 1
            if filled > MAX_MERGED_CELLS:
                raise WorkbookUnreadable(
                    f"{self.reader.path}: the sheet '{name}' merges more than "
                    f"{MAX_MERGED_CELLS:,} of the cells it holds ({letters_of(left)}{top}:"
                    f"{letters_of(right)}{bottom}); unmerge them in LibreOffice and save it again"
                )
        self.reader.keep(filled)
        for top, left, bottom, right, origin in self.merges:
            spanned = [letters_of(column) for column in range(left, min(right, width) + 1)]
            for number in range(top, bottom + 1):
                cells = rows.setdefault(number, {})
                for letter in spanned:
                    cells[letter] = RawCell(f"{letter}{number}", origin.value, origin.error)


_COLUMNS: dict[str, int] = {}
_letters: list[str] = [""]  # a column's letters by its number, as far as met: _letters[1] == "A"


def _more_letters(column: int) -> str:
    """A column's letters, extending _letters up to it."""
    _letters.extend(letters_of(number) for number in range(len(_letters), column + 1))
    return _letters[column]


def _column_number(letters: str) -> int:
    known = _COLUMNS.get(letters)
    if known is None:
        known = 0
        for letter in letters:
            known = known * 26 + ord(letter) - 64
        _COLUMNS[letters] = known
    return known
