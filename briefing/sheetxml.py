"""Read every cell of an .xlsx in one streaming pass over its XML, with expat (standard library).

What openpyxl's reader gives (with `data_only=True`), cell for cell, without building a sheet in
memory: each worksheet part is fed to expat a megabyte at a time and only the cells it holds
are kept, as raw cells (`RawWorkbook`). The workbook's parts are read in this order:
`xl/workbook.xml` and its rels (sheet names, order, parts, the 1904 calendar), `xl/styles.xml`
(which cell styles are dates, durations or percentages), `xl/sharedStrings.xml`, then each
worksheet. Every part goes through one expat parser that refuses a DOCTYPE or an entity
declaration wherever it stands, so the archive's guards (archive.py) and this parse together
refuse zip bombs and entity tricks. Transitional and strict OOXML read alike.

openpyxl itself is left to writing (workbook.py): its reader builds every cell as an object,
which at Excel's row limit takes minutes and gigabytes.
"""

from __future__ import annotations

import datetime as dt
import gc
import operator
import posixpath
import re
import sys
import time
import zipfile
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from xml.parsers import expat

from briefing import archive as guards
from briefing.archive import (
    DAMAGED_PART_ERRORS,
    damaged,
    ensure_workbook_archive,
    entities_refused,
    read_too_slow,
    too_many_cells,
)
from briefing.errors import WorkbookUnreadable
from briefing.model import (
    NO_CELL,
    RawCell,
    RawRow,
    RawSheet,
    RawWorkbook,
    RowConsumer,
    RowConsumers,
    RowShape,
)
from briefing.text import describe, terminal_safe

# ---------------------------------------------------------------------------- OOXML names

TRANSITIONAL = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
STRICT = "http://purl.oclc.org/ooxml/spreadsheetml/main"
MAIN_NAMESPACES = (TRANSITIONAL, STRICT)
HIDDEN = ("1", "true")  # a row's hidden="…", as XML Schema spells true
CHUNK = 1 << 20  # bytes of XML fed to expat at a time
# Merged ranges a sheet may hold, counted in cells: openpyxl makes an object for each one.
MAX_MERGED_CELLS = 1 << 20
SHARED_ENTRIES = 1 << 16  # distinct values and texts kept to share among cells
ERROR_VALUE = object()  # a date serial past the calendar: openpyxl's #VALUE!
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
UPPER = LETTERS[:26]

ESCAPED_CHARACTER = re.compile(r"_x([0-9A-Fa-f]{4})_")
COORDINATE = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d+)")
RANGE = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d+)(?::\$?([A-Za-z]{1,3})\$?(\d+))?")

# ---------------------------------------------------------------------------- number formats
# Excel's built-in number formats and the rules openpyxl uses to call a format a date, a
# duration or (for us) a percentage; tests/test_sheetxml.py checks them against openpyxl's.

BUILTIN_FORMATS = {
    0: "General",
    1: "0",
    2: "0.00",
    3: "#,##0",
    4: "#,##0.00",
    5: '"$"#,##0_);("$"#,##0)',
    6: '"$"#,##0_);[Red]("$"#,##0)',
    7: '"$"#,##0.00_);("$"#,##0.00)',
    8: '"$"#,##0.00_);[Red]("$"#,##0.00)',
    9: "0%",
    10: "0.00%",
    11: "0.00E+00",
    12: "# ?/?",
    13: "# ??/??",
    14: "mm-dd-yy",
    15: "d-mmm-yy",
    16: "d-mmm",
    17: "mmm-yy",
    18: "h:mm AM/PM",
    19: "h:mm:ss AM/PM",
    20: "h:mm",
    21: "h:mm:ss",
    22: "m/d/yy h:mm",
    37: "#,##0_);(#,##0)",
    38: "#,##0_);[Red](#,##0)",
    39: "#,##0.00_);(#,##0.00)",
    40: "#,##0.00_);[Red](#,##0.00)",
    41: r'_(* #,##0_);_(* \(#,##0\);_(* "-"_);_(@_)',
    42: r'_("$"* #,##0_);_("$"* \(#,##0\);_("$"* "-"_);_(@_)',
    43: r'_(* #,##0.00_);_(* \(#,##0.00\);_(* "-"??_);_(@_)',
    44: r'_("$"* #,##0.00_)_("$"* \(#,##0.00\)_("$"* "-"??_)_(@_)',
    45: "mm:ss",
    46: "[h]:mm:ss",
    47: "mmss.0",
    48: "##0.0E+0",
    49: "@",
}
FIRST_CUSTOM_FORMAT = 164
FORMAT_LITERALS = re.compile(r'".*?"|\[(?!hh?\]|mm?\]|ss?\])[^\]]*\]')
DATE_PART = re.compile(r"(?<![_\\])[dmhysDMHYS]")
DURATION = re.compile(
    r"\[hh?\](:mm(:ss(\.0*)?)?)?|\[mm?\](:ss(\.0*)?)?|\[ss?\](\.0*)?", re.IGNORECASE
)


def is_date_format(code: str | None) -> bool:
    """Whether Excel shows a number in this format as a date or a time."""
    if code is None:
        return False
    return DATE_PART.search(FORMAT_LITERALS.sub("", code.split(";")[0])) is not None


def is_duration_format(code: str | None) -> bool:
    """Whether the format shows elapsed time ([h]:mm), which reads as a duration."""
    return code is not None and DURATION.search(code.split(";")[0]) is not None


# Each cell style's kind, by the number format it shows.
PLAIN, DATE, DURATION_KIND = 0, 1, 2

# ---------------------------------------------------------------------------- dates

WINDOWS_EPOCH = dt.datetime(1899, 12, 30)  # noqa: DTZ001 - Excel's calendar has no time zone
MAC_EPOCH = dt.datetime(1904, 1, 1)  # noqa: DTZ001 - the Mac calendar has no zone either
ISO_DATE = re.compile(
    r"(?P<date>(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2}))?T?"
    r"(?P<time>(?P<hour>\d{2}):(?P<minute>\d{2})(:(?P<second>\d{2})(?P<microsecond>\.\d{1,3})?)?)?Z?"
)
ISO_DURATION = re.compile(
    r"PT((?P<hours>\d+)H)?((?P<minutes>\d+)M)?((?P<seconds>\d+(\.\d{1,3})?)S)?"
)


def from_excel(serial: float, epoch: dt.datetime, *, duration: bool = False) -> object:
    """Excel's day number as a datetime (a time below 1, a timedelta for a duration)."""
    if duration:
        span = dt.timedelta(days=serial)
        if span.microseconds:
            span = dt.timedelta(
                seconds=span.total_seconds() // 1, microseconds=round(span.microseconds, -3)
            )
        return span
    day, fraction = divmod(serial, 1)
    diff = dt.timedelta(milliseconds=round(fraction * 86400 * 1000))
    if 0 <= serial < 1 and diff.days == 0:
        minutes, seconds = divmod(diff.seconds, 60)
        hours, minutes = divmod(minutes, 60)
        return dt.time(hours, minutes, seconds, diff.microseconds)
    if 0 < serial < 60 and epoch == WINDOWS_EPOCH:
        day += 1  # Excel's 1900 calendar counts a 29 February 1900 that never was
    return epoch + dt.timedelta(days=day) + diff


def from_iso8601(text: str) -> object:
    """A cell of type "d" (ISO 8601 text) as a date, datetime, time or timedelta."""
    if not text:
        return None
    match = ISO_DATE.match(text)
    if match and any(match.groups()):
        parts: dict[str, Any] = match.groupdict(0)
        for key in ("year", "month", "day", "hour", "minute", "second"):
            if parts[key]:
                parts[key] = int(parts[key])
        if parts["microsecond"]:
            parts["microsecond"] = int(float(parts["microsecond"]) * 1_000_000)
        if not parts["date"]:
            return dt.time(parts["hour"], parts["minute"], parts["second"], parts["microsecond"])
        if not parts["time"]:
            return dt.date(parts["year"], parts["month"], parts["day"])
        del parts["time"], parts["date"]
        return dt.datetime(**parts)  # noqa: DTZ001 - a cell's ISO text names no zone
    match = ISO_DURATION.match(text)
    if match and any(match.groups()):
        spans = {key: float(value) for key, value in match.groupdict(0).items() if value}
        return dt.timedelta(**spans)
    raise ValueError(f"Invalid datetime value {text}")


# ---------------------------------------------------------------------------- columns

_LETTERS: dict[str, tuple[str, int]] = {}  # "ab" or "AB" -> ("AB", 28); filled as met


def column_of(letters: str) -> tuple[str, int]:
    """A column's letters (any case) -> its canonical letters and number; ValueError past ZZZ."""
    known = _LETTERS.get(letters)
    if known is not None:
        return known
    upper = letters.upper()
    if not upper.isascii() or not upper.isalpha() or not 1 <= len(upper) <= 3:
        raise ValueError(f"{letters} is not a valid column name")
    number = 0
    for letter in upper:
        number = number * 26 + ord(letter) - 64
    if number > 18278:  # ZZZ, as far as openpyxl reads
        raise ValueError(f"{letters} is not a valid column name")
    upper = sys.intern(upper)
    _LETTERS[letters] = (upper, number)
    return upper, number


def letters_of(number: int) -> str:
    """A column's number -> its letters: 1 -> A, 28 -> AB."""
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return column_of(letters)[0]


# ---------------------------------------------------------------------------- progress


Progress = Callable[[int, int], None]  # (bytes of XML read, bytes of XML in all)


def assemble_sheet(
    name: str, rows: dict[int, dict[str, RawCell]], hidden: set[int], *, ordered: bool
) -> RawSheet:
    """A sheet's cells by row as a RawSheet: its first non-empty row is the header, the rest
    its rows in order (each row's cells sorted by column unless the file gave them in order),
    and which of them are hidden."""
    body: list[RawRow] = []
    header_row = 0
    headers: tuple[tuple[str, str], ...] = ()
    for number in rows if ordered else sorted(rows):
        cells = rows[number]
        if not cells:
            continue
        if not ordered:
            cells = dict(sorted(cells.items(), key=lambda item: (len(item[0]), item[0])))
        if not header_row:
            header_row = number
            headers = tuple(
                (letter, "" if raw.value is None else str(raw.value))
                for letter, raw in cells.items()
            )
            continue
        body.append(RawRow(number=number, cells=cells))
    return RawSheet(
        name=name,
        header_row=header_row,
        headers=headers,
        rows=tuple(body),
        hidden_rows=tuple(row.number for row in body if row.number in hidden),
    )


class TerminalProgress:
    """Shows "Reading desk.xlsx: 42%" on a terminal once a read has taken a second.

    Pass an instance as `progress` to read_workbook. It writes nothing unless `stream` is a
    terminal (so nothing in CI or when piped), nothing during the first `after` seconds, and
    clears its line when the read ends.
    """

    def __init__(self, path: Path, stream: IO[str] | None = None, after: float = 1.0) -> None:
        self.label = f"Reading {terminal_safe(path.name)}"  # a name in a folder may hold ESC
        self.stream = stream if stream is not None else sys.stderr
        self.started = time.monotonic()
        self.after = after
        self.shown = -1
        self.interactive = bool(getattr(self.stream, "isatty", lambda: False)())

    def __call__(self, done: int, total: int) -> None:
        if not self.interactive or time.monotonic() - self.started < self.after:
            return
        percent = min(100, done * 100 // max(total, 1))
        if done >= total:
            if self.shown >= 0:
                self.stream.write("\r" + " " * (len(self.label) + 6) + "\r")
                self.stream.flush()
            return
        if percent != self.shown:
            self.shown = percent
            self.stream.write(f"\r{self.label}: {percent}%")
            self.stream.flush()


# ---------------------------------------------------------------------------- reading


class _EntityDeclared(Exception):
    """Raised from inside expat when a part declares a DOCTYPE or an entity."""


def read_workbook(
    path: Path, progress: Progress | None = None, consumers: RowConsumers | None = None
) -> RawWorkbook:
    """Every worksheet of the .xlsx at `path` as raw rows, read in one streaming pass.

    The same raw cells as openpyxl's reader gives: error cells and formulas never calculated
    marked, merged ranges filled, `_xHHHH_` escapes decoded, dates as datetimes (in either
    calendar), percentages as the number shown. `progress`, if given, is called as the XML is
    read with (bytes read, bytes in all). A sheet that `consumers` gives a consumer for hands
    its rows to it as they are read, and keeps none (its RawSheet is marked `streamed`).
    """
    ensure_workbook_archive(path)
    reader = _Reader(path, progress, consumers)
    # Every cell kept is an object that lives to the end: the cyclic collector would walk them
    # all again and again (a third of the read's time), and they hold no cycles.
    collecting = gc.isenabled()
    gc.disable()
    try:
        with zipfile.ZipFile(path) as archive:
            return reader.read(archive)
    except _EntityDeclared as err:
        raise WorkbookUnreadable(entities_refused(path, str(err))) from None
    except WorkbookUnreadable:
        raise
    except DAMAGED_PART_ERRORS as err:
        raise WorkbookUnreadable(damaged(path, reader.part)) from err
    except (expat.ExpatError, zipfile.BadZipFile, KeyError, ValueError, IndexError,
            OverflowError, EOFError, OSError) as err:  # fmt: skip
        raise WorkbookUnreadable(
            f"{path}: the workbook cannot be read ({describe(err)}); open it in Excel or "
            "LibreOffice and save it again"
        ) from err
    finally:
        if collecting:
            gc.enable()


def _local(name: str) -> str:
    """An expat name ("namespace}local" with our separator) without its namespace."""
    return name.rsplit("}", 1)[-1]


def _namespace(name: str) -> str:
    return name.rsplit("}", 1)[0] if "}" in name else ""


class _Unordered(Exception):
    """Raised inside a streamed sheet's read when its cells stop coming in reading order."""


class _Reader:
    def __init__(
        self, path: Path, progress: Progress | None, consumers: RowConsumers | None = None
    ) -> None:
        self.path = path
        self.progress = progress
        self.consumers = consumers
        self.started = time.monotonic()
        self.done = 0
        self.total = 0
        self.epoch = WINDOWS_EPOCH
        self.kinds: list[int] = []  # per cell style: PLAIN, DATE or DURATION_KIND
        self.percent: list[bool] = []  # per cell style: its format shows a percentage
        self.strings: list[str | None] = []  # shared strings as read (None: blank)
        self.cells_before = 0  # cells kept from the sheets already read
        self.counting: Callable[[], int] = lambda: 0  # cells kept from the sheet being read
        self.part = ""  # the part being unpacked, to name if it is damaged

    # -- feeding expat

    def _parser(self, part: str) -> Any:
        parser = expat.ParserCreate(namespace_separator="}")
        parser.buffer_text = True
        parser.buffer_size = 1 << 16

        def refuse(*_: object) -> Any:  # every handler of a declaration
            raise _EntityDeclared(part)

        parser.StartDoctypeDeclHandler = refuse
        parser.EntityDeclHandler = refuse
        parser.UnparsedEntityDeclHandler = refuse
        parser.ExternalEntityRefHandler = refuse
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        return parser

    def _feed(self, archive: zipfile.ZipFile, part: str, parser: Any) -> None:
        self.part = part
        with archive.open(part) as stream:
            while chunk := stream.read(CHUNK):
                parser.Parse(chunk, False)
                self.done += len(chunk)
                self._tick()
            parser.Parse(b"", True)

    def _feed_sheet(
        self, archive: zipfile.ZipFile, part: str, parser: Any, sheet: _SheetParser
    ) -> None:
        """Feed a worksheet to expat, but let `sheet.fast_rows` read the rows it can.

        expat reads the head up to <sheetData> (so a DOCTYPE, the namespaces and the root are
        its to judge), then the rows in the plain form Excel, LibreOffice and openpyxl write
        are read by regular expressions, row by row; from </sheetData>, or from the first row
        in any other form, expat reads the rest. The two share one set of handlers' state.
        """
        self.part = part
        with archive.open(part) as stream:
            pending = b""
            fast: Callable[[bytes, bool], tuple[int, bool]] | None = None
            head = True
            while True:
                chunk = stream.read(CHUNK)
                self.done += len(chunk)
                pending += chunk
                if head:
                    at = pending.find(b"<sheetData>")
                    if at < 0 and chunk and len(pending) < CHUNK * 4:
                        self._tick()
                        continue
                    head = False
                    if at >= 0 and _declares_utf8(pending):
                        parser.Parse(pending[: at + 11], False)
                        pending = pending[at + 11 :]
                        if sheet.in_sheet_data and sheet.fast_rows is not None:
                            fast = sheet.fast_rows
                if fast is not None:
                    used, going_on = fast(pending, not chunk)
                    pending = pending[used:]
                    if not going_on:
                        fast = None
                if fast is None and pending:
                    parser.Parse(pending, False)
                    pending = b""
                self._tick()
                if not chunk:
                    break
            parser.Parse(b"", True)

    def _tick(self) -> None:
        if time.monotonic() - self.started > guards.MAX_READ_SECONDS:
            raise WorkbookUnreadable(read_too_slow(self.path))
        if self.cells_before + self.counting() > guards.MAX_CELLS:
            raise WorkbookUnreadable(too_many_cells(self.path))
        if self.progress is not None:
            self.progress(self.done, self.total)

    # -- the workbook

    def read(self, archive: zipfile.ZipFile) -> RawWorkbook:
        names = {info.filename: info for info in archive.infolist()}
        rels = self._rels(archive, names)
        sheets = self._sheets(archive, names, rels)
        styles = "xl/styles.xml" if "xl/styles.xml" in names else None
        strings = next(
            (part for part, kind in rels.values() if kind.endswith("/sharedStrings")),
            "xl/sharedStrings.xml",
        )
        strings_part = strings if strings in names else None
        parts = [p for p in (styles, strings_part) if p] + [part for _, part in sheets]
        self.total = sum(names[part].file_size for part in parts)
        self.done = 0
        if styles:
            self._read_styles(archive, styles)
        else:
            self.kinds, self.percent = [PLAIN], [False]
        if strings_part:
            self._read_strings(archive, strings_part)
        read = tuple(self._read_sheet(archive, name, part) for name, part in sheets)
        if self.progress is not None:
            self.progress(self.total, self.total)
        return RawWorkbook(path=self.path, sheets=read)

    def _rels(self, archive: zipfile.ZipFile, names: dict[str, Any]) -> dict[str, tuple[str, str]]:
        """The workbook's relationships: Id -> (part in the archive, type)."""
        rels: dict[str, tuple[str, str]] = {}
        part = "xl/_rels/workbook.xml.rels"
        if part not in names:
            return rels

        def start(name: str, attrs: dict[str, str]) -> None:
            if _local(name) != "Relationship" or attrs.get("TargetMode") == "External":
                return
            target = attrs.get("Target", "")
            if target.startswith("/"):
                resolved = target.lstrip("/")
            else:
                resolved = posixpath.normpath(posixpath.join("xl", target))
            rels[attrs.get("Id", "")] = (resolved, attrs.get("Type", ""))

        parser = self._parser(part)
        parser.StartElementHandler = start
        self._feed(archive, part, parser)
        return rels

    def _sheets(
        self, archive: zipfile.ZipFile, names: dict[str, Any], rels: dict[str, tuple[str, str]]
    ) -> list[tuple[str, str]]:
        """(sheet name, worksheet part) in workbook order; chart sheets left out."""
        found: list[tuple[str, str]] = []
        listed: list[tuple[str, str]] = []

        def start(name: str, attrs: dict[str, str]) -> None:
            local = _local(name)
            if _namespace(name) not in MAIN_NAMESPACES:
                return
            if local == "sheet":
                relation = next((v for k, v in attrs.items() if _local(k) == "id" and "}" in k), "")
                listed.append((attrs.get("name", ""), relation))
            elif local == "workbookPr" and attrs.get("date1904", "") not in ("", "false", "f", "0"):
                self.epoch = MAC_EPOCH

        parser = self._parser("xl/workbook.xml")
        parser.StartElementHandler = start
        self._feed(archive, "xl/workbook.xml", parser)
        for sheet, relation in listed:
            if not relation:
                continue  # openpyxl drops a sheet with no relationship, with a warning
            if relation not in rels:
                raise KeyError(f"the workbook names a sheet part '{relation}' it does not have")
            part, kind = rels[relation]
            if part in names and "chartsheet" not in kind:
                found.append((sheet, part))
        return found

    # -- styles and shared strings

    def _read_styles(self, archive: zipfile.ZipFile, part: str) -> None:
        custom: dict[int, str] = {}
        formats: list[int] = []
        stack: list[str] = []

        def start(name: str, attrs: dict[str, str]) -> None:
            local = _local(name)
            if local == "numFmt" and "numFmts" in stack:
                custom[int(attrs["numFmtId"])] = attrs.get("formatCode", "")
            elif local == "xf" and stack and stack[-1] == "cellXfs":
                formats.append(int(attrs.get("numFmtId", 0)))
            stack.append(local)

        def end(name: str) -> None:
            stack.pop()

        parser = self._parser(part)
        parser.StartElementHandler = start
        parser.EndElementHandler = end
        self._feed(archive, part, parser)
        self.kinds, self.percent = [], []
        for number in formats or [0]:
            code = custom[number] if number in custom else BUILTIN_FORMATS.get(number)
            kind = PLAIN
            if is_date_format(code):
                kind = DURATION_KIND if is_duration_format(code) else DATE
            self.kinds.append(kind)
            shown = code if code is not None or number >= FIRST_CUSTOM_FORMAT else "General"
            self.percent.append("%" in (shown or "General"))

    def _read_strings(self, archive: zipfile.ZipFile, part: str) -> None:
        strings = self.strings
        texts = _TextCollector()
        depth = 0

        def start(name: str, attrs: dict[str, str]) -> None:
            nonlocal depth
            depth += 1
            if depth == 2:
                texts.begin()
            elif depth > 2:
                texts.start(_local(name), depth - 2)

        def end(name: str) -> None:
            nonlocal depth
            if depth == 2:
                text = texts.content().replace("x005F_", "")
                strings.append(_clean_text(text))
            elif depth > 2:
                texts.end(depth - 2)
            depth -= 1

        parser = self._parser(part)
        parser.StartElementHandler = start
        parser.EndElementHandler = end
        parser.CharacterDataHandler = texts.data
        self._feed(archive, part, parser)

    # -- one worksheet

    def _read_sheet(self, archive: zipfile.ZipFile, name: str, part: str) -> RawSheet:
        """The sheet's rows, or, where a consumer takes them, what is left of the sheet.

        Rows out of order and merged ranges need the whole sheet before any row can be given
        out: such a sheet's consumer is told to start again, and the sheet is read again, kept.
        """
        consumer = self.consumers(name) if self.consumers is not None else None
        if consumer is not None:
            done, cells_before = self.done, self.cells_before
            try:
                sheet = self._parse_sheet(archive, part, consumer)
                if sheet.end_stream():
                    return sheet.result(name)
            except _Unordered:
                pass
            consumer.restart()
            self.done, self.cells_before = done, cells_before
            self.counting = lambda: 0
        return self._parse_sheet(archive, part, None).result(name)

    def _parse_sheet(
        self, archive: zipfile.ZipFile, part: str, consumer: RowConsumer | None
    ) -> _SheetParser:
        sheet = _SheetParser(self, consumer)
        parser = self._parser(part)
        parser.StartElementHandler = sheet.start_root
        sheet.parser = parser
        self._feed_sheet(archive, part, parser, sheet)
        self.cells_before += self.counting()
        self.counting = lambda: 0
        return sheet


# The plain form of a row and its cells, as Excel, LibreOffice and openpyxl write them: one
# attribute form (name="value", no entity or line break in a value), cells with at most an
# <f>, a <v> and a plain inline <is><t>, in that order, text without markup characters other
# than the five predefined entities and character references. Anything else is left to expat.
_ATTRIBUTE = rb'\s+[A-Za-z_][\w.:-]*="[^"<&\t\n\r]*"'
_TEXT = rb"[^<\x00-\x08\x0b-\x1f]*"
FAST_SPACE = re.compile(rb"[ \t\n]*")
FAST_PENDING = 4 * CHUNK  # XML held back waiting for a row's end; past it, expat reads on
FAST_ROW = re.compile(
    rb'[ \t\n]*<row(?: r="([1-9][0-9]{0,6})")?((?:' + _ATTRIBUTE + rb")*)[ \t\n]*(/?)>"
)
FAST_ROW_END = re.compile(rb"[ \t\n]*</row>")
FAST_CELL = re.compile(
    rb'[ \t\n]*<c(?: r="(([A-Z]{1,3})([1-9][0-9]{0,6}))")?'
    rb'(?: s="([0-9]{1,9})")?(?: t="([A-Za-z]{1,9})")?'
    rb"((?:" + _ATTRIBUTE + rb")*)[ \t\n]*(?:/>|>"
    rb"(<f(?:" + _ATTRIBUTE + rb")*[ \t\n]*(?:/>|>" + _TEXT + rb"</f>))?"
    rb"(?:<v>(" + _TEXT + rb")</v>|(<v/>))?"
    rb'(?:<is><t(?: xml:space="preserve")?>(' + _TEXT + rb")</t></is>)?"
    rb"</c>)"
)
# A row's cells when all are plain (see plain_row): one match checks the whole row, then
# findall gives (letters, row, style, type, empty, <v> text, inline text) for each cell.
# Empty: the cell holds nothing (<c …/> or <c …></c>), as Excel keeps a formatted cell.
_PLAIN_CHARACTER = rb"[^<&\r\x00-\x08\x0b\x0c\x0e-\x1f]"
_PLAIN_TEXT = _PLAIN_CHARACTER + rb"*"
_PLAIN_CELL = (
    rb'<c r="([A-Z]{1,3})([1-9][0-9]{0,6})"(?: s="([0-9]{1,9})")?(?: t="(n|s|inlineStr)")?'
    rb"(?:(/>|></c>)|>(?:<v>("
    + _PLAIN_TEXT
    + rb')</v>|<is><t(?: xml:space="preserve")?>('
    + _PLAIN_TEXT
    + rb")</t></is>)</c>)"
)
PLAIN_CELLS = re.compile(_PLAIN_CELL)
PLAIN_ROW_CELLS = re.compile(rb"(?:" + _PLAIN_CELL + rb")*")
# A row shape's pattern (see _row_slots, _shape_pattern): this start tag, then each column's
# forms, made of a cell's own bytes with the row number and its value left open; a value is
# never empty (an empty <v> or inline text is a blank, store's to judge).
_SHAPE_ROW = rb'[ \t\n]*<row r="(?P<n>[1-9][0-9]{0,6})"((?:' + _ATTRIBUTE + rb")*)[ \t\n]*>"
_SHAPE_VALUE = rb"(" + _PLAIN_CHARACTER + rb"+)"
MAX_SHAPES = 16  # row shapes a sheet learns; rows of any other shape are read one by one
MAX_SHAPES_MADE = 64  # shapes made or grown for a sheet, each a regular expression compiled
MAX_FORMS = 8  # forms a column of a shape takes, with a value or empty
NEW_FORMS_MERGED = 2  # columns a row may add a value form to, and still grow a shape
SHAPES_TRIED = 4  # the shapes a row is matched against, the most recently met first
MAX_BATCH = 1024  # rows of one shape matched before they are given out together
# A shape remembers the values of each of its cells up to these limits: past them, they are
# mostly each row's own (IDs, quotes).
SHAPE_KEY_BYTES = 128
SHAPE_ENTRIES = 4096
POOR_RUN = 4  # a batch of fewer rows, cut short by a row no shape fits, pauses the shapes
MAX_PAUSE = 64  # rows read one by one, at most, before the shapes are tried again
FAST_ATTRIBUTES = re.compile(rb'\s+([A-Za-z_][\w.:-]*)="([^"]*)"')
FAST_REFERENCE = re.compile(rb"&(?:(amp|lt|gt|quot|apos)|#([0-9]{1,7})|#x([0-9A-Fa-f]{1,6}));")
ENTITIES = {b"amp": "&", b"lt": "<", b"gt": ">", b"quot": '"', b"apos": "'"}
UTF8_DECLARATION = re.compile(
    rb"""(?:\xef\xbb\xbf)?(?:<\?xml\s[^>]*?encoding\s*=\s*["'](?i:utf-?8)["'][^>]*\?>|(?!<\?xml))"""
)


def _declares_utf8(head: bytes) -> bool:
    """Whether a part is UTF-8: no XML declaration, or one that says UTF-8."""
    if head.startswith((b"<?xml", b"\xef\xbb\xbf<?xml")):
        declaration = head[: head.find(b"?>") + 2]
        return b"encoding" not in declaration or UTF8_DECLARATION.match(declaration) is not None
    return UTF8_DECLARATION.match(head) is not None


def _fast_attributes(text: bytes) -> dict[str, str] | None:
    """A plain start tag's attributes; None where expat must judge (xmlns, a name twice)."""
    found = {name.decode(): value.decode() for name, value in FAST_ATTRIBUTES.findall(text)}
    if len(found) != text.count(b'="') or any(name.startswith("xmlns") for name in found):
        return None
    return found


def _fast_text(raw: bytes) -> str | None:
    """Text between tags; None for a reference expat must judge (or refuse)."""
    if b"\r" in raw:
        return None  # expat turns line ends into \n
    if b"&" not in raw:
        return raw.decode()
    pieces, position = [], 0
    for match in FAST_REFERENCE.finditer(raw):
        pieces.append(raw[position : match.start()].decode())
        if match[1]:
            pieces.append(ENTITIES[match[1]])
        else:
            code = int(match[2]) if match[2] else int(match[3], 16)
            if not (code in (9, 10, 13) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0x10FFFF):
                return None
            if code in (0xFFFE, 0xFFFF):
                return None
            pieces.append(chr(code))
        position = match.end()
    rest = raw[position:]
    if b"&" in rest:
        return None
    pieces.append(rest.decode())
    return "".join(pieces)


FastCell = tuple[str | None, tuple[str, int] | None, str, str | None, str | None, str | None, bool]


def _fast_cell(
    found: re.Match[bytes], row: bytes | None, columns: dict[bytes, tuple[str, int]]
) -> FastCell | None:
    """(reference, (letters, column) when in the row's own row, type, style, <v> text, inline
    text, has a formula), or None for expat."""
    reference, letters, digits, style, kind, extra, formula, value, empty_value, inline = (
        found.groups()
    )
    column = None
    if reference is not None and digits == row:
        column = columns.get(letters)
        if column is None:
            column = columns[letters] = column_of(letters.decode())
    text = None if inline is None else _fast_text(inline)
    if inline is not None and text is None:
        return None
    value_text = None
    if value is not None:
        value_text = _fast_text(value)
        if value_text is None:
            return None
    elif empty_value is not None:
        value_text = ""
    cell = (
        None if reference is None else reference.decode(),
        column,
        "n" if kind is None else kind.decode(),
        None if style is None else style.decode(),
        value_text,
        text,
        formula is not None,
    )
    if extra:
        attributes = _fast_attributes(extra)
        if attributes is None or {"r", "s", "t"} & attributes.keys():
            return None  # another order, or a name twice: expat's to read
    return cell


def _clean_text(text: str) -> str | None:
    """Text as typed (Excel's _xHHHH_ escapes decoded); None when it is only spaces."""
    if "_x" in text:
        text = ESCAPED_CHARACTER.sub(lambda match: chr(int(match[1], 16)), text)
    return text if text.strip() else None


class _TextCollector:
    """The text of a shared or inline string: its plain <t> then each rich-text run's <t>.

    Depths are counted from the string element's children (1) down.
    """

    def __init__(self) -> None:
        self.begin()

    def begin(self) -> None:
        self.plain: str | None = None
        self.runs: list[str] = []
        self.run: str | None = None
        self.collecting = 0  # 1: the plain text, 2: a run's text
        self.parts: list[str] = []
        self.in_run = False

    def start(self, local: str, depth: int) -> None:
        if depth == 1 and local == "t":
            self.collecting, self.parts = 1, []
        elif depth == 1 and local == "r":
            self.in_run, self.run = True, None
        elif depth == 2 and self.in_run and local == "t":
            self.collecting, self.parts = 2, []
        else:
            self.collecting = 0

    def end(self, depth: int) -> None:
        if self.collecting == 1 and depth == 1:
            self.plain = "".join(self.parts) if self.parts else None
        elif self.collecting == 2 and depth == 2:
            self.run = "".join(self.parts) if self.parts else None
        elif depth == 1 and self.in_run:
            if self.run is not None:
                self.runs.append(self.run)
            self.in_run = False
        self.collecting = 0

    def data(self, text: str) -> None:
        if self.collecting:
            self.parts.append(text)

    def content(self) -> str:
        return "".join(([self.plain] if self.plain is not None else []) + self.runs)


CellForm = tuple[bytes, bytes, bool]  # a value cell's (style, type, inline or <v>)


@dataclass(frozen=True)
class _Slot:
    """A column of a row shape: the patterns of its cell holding a value, and of it empty.

    A column may hold its values in more than one form (another style where a cell was
    highlighted, text where a number was typed as text): each is an alternative of its own.
    """

    letter: str
    values: tuple[bytes, ...]  # each with one group, the value's text
    forms: tuple[CellForm, ...]  # each value's (style, type, inline)
    empties: tuple[bytes, ...]  # the forms an empty cell took, each its pattern


@dataclass(eq=False)
class _Shape:
    """A row shape as the reader matches it: one regular expression for the whole row.

    Each of its columns is optional: a row matches if each of its cells, in column order,
    takes one of the forms its column took in the rows the shape was learned from. Rows that
    leave different optional cells empty, or hold a value in another style, share a shape.
    """

    public: RowShape  # what the consumer is given
    pattern: re.Pattern[bytes]  # groups: the row number, its attributes, then each value form
    slots: dict[int, _Slot]  # by column number
    forms: tuple[CellForm, ...]  # each value form's, in the groups' order
    # Each value form's bytes met -> its value; None (no such cell) -> NO_CELL.
    caches: tuple[dict[bytes | None, object], ...]
    last: int  # the column number of its last slot


def _row_slots(data: bytes, start: int, close: int) -> dict[int, _Slot]:
    """The cells of the plain row in data[start:close] (see plain_row) as slots, by column."""
    slots: dict[int, _Slot] = {}
    for cell in PLAIN_CELLS.finditer(data, start, close):
        letter, column = column_of(cell[1].decode())
        head = re.escape(data[cell.start() : cell.start(2)]) + rb"(?P=n)"
        if cell.start(5) >= 0:  # empty
            empty = head + re.escape(data[cell.end(2) : cell.end()])
            slots[column] = _Slot(letter, (), (), (empty,))
            continue
        text = 6 if cell.start(6) >= 0 else 7
        value = (
            head
            + re.escape(data[cell.end(2) : cell.start(text)])
            + _SHAPE_VALUE
            + re.escape(data[cell.end(text) : cell.end()])
        )
        form = (cell[3] or b"", cell[4] or b"", text == 7)
        slots[column] = _Slot(letter, (value,), (form,), ())
    return slots


def _merged_slots(old: dict[int, _Slot], new: dict[int, _Slot]) -> dict[int, _Slot] | None:
    """The columns of both shapes, each in the forms of both.

    None, for a shape of its own, past MAX_FORMS forms in a column, or where the new row
    holds a value in a new form in more than NEW_FORMS_MERGED columns: a header row, or a
    row unlike the others, would make every row try its forms first.
    """
    merged = dict(old)
    grown = 0
    for column, slot in new.items():
        have = merged.get(column)
        if have is None:
            merged[column] = slot
            continue
        added = [index for index, value in enumerate(slot.values) if value not in have.values]
        empties = have.empties + tuple(empty for empty in slot.empties if empty not in have.empties)
        grown += bool(added and have.values)
        if len(have.values) + len(added) + len(empties) > MAX_FORMS or grown > NEW_FORMS_MERGED:
            return None
        merged[column] = _Slot(
            have.letter,
            have.values + tuple(slot.values[index] for index in added),
            have.forms + tuple(slot.forms[index] for index in added),
            empties,
        )
    return merged


def _value_places(slots: dict[int, _Slot]) -> list[tuple[int, bytes]]:
    """Each value form as (column, pattern), in order: the shape's groups after the row's."""
    return [(column, value) for column in sorted(slots) for value in slots[column].values]


def _shape_pattern(slots: dict[int, _Slot]) -> bytes:
    """The start tag, then each column in order, optional, in each of its forms."""
    pieces = [_SHAPE_ROW]
    for column in sorted(slots):
        slot = slots[column]
        pieces.append(rb"(?:" + rb"|".join(slot.values + slot.empties) + rb")?")
    pieces.append(rb"</row>")
    return b"".join(pieces)


def _plain_inline(inline: bytes) -> str | None:
    """A plain cell's inline text; None where store must read it (a blank, an escape).

    Raises UnicodeDecodeError for bytes that are not UTF-8, for store to say so.
    """
    if not inline or b"_x" in inline:
        return None
    text = inline.decode()
    return text if text.strip() else None


def _rising(last: int, numbers: list[int]) -> int:
    """How many of the row numbers, from the first, each come after the one before (and `last`)."""
    if all(map(operator.lt, [last, *numbers[:-1]], numbers)):
        return len(numbers)
    before = last
    for index, number in enumerate(numbers):
        if number <= before:
            return index
        before = number
    return len(numbers)


def _next_none(values: list[object], start: int, stop: int) -> int:
    """Where the next None stands in values[start:stop]; `stop` if nowhere."""
    try:
        return values.index(None, start, stop)
    except ValueError:
        return stop


NO_SAVED_VALUE = (
    "the formula has no saved value; open the workbook in Excel or LibreOffice, let it "
    "calculate, and save it"
)


class _SheetParser:
    """Expat handlers for one worksheet part; keeps the cells it holds, row by row."""

    def __init__(self, reader: _Reader, consumer: RowConsumer | None = None) -> None:
        self.reader = reader
        self.consumer = consumer
        self.parser: Any = None
        self.rows: dict[int, dict[str, RawCell]] = {}
        self.ordered = True  # cells came in reading order, each place once
        self.merges: list[str] = []
        self.hidden: set[int] = set()  # rows Excel hides, by hand or by a filter
        # Rows holding a cell with no value, and the rightmost such cell: with the cells that
        # hold values, they bound where merged ranges fill (see _fill_merged).
        self.blank_rows: set[int] = set()
        self.blank_width = 0
        self.formulas: set[tuple[int, int]] = set()  # formulas never calculated, by place
        # Once expat has read up to <sheetData>, the rows may be read by `fast_rows`.
        self.in_sheet_data = False
        self.fast_rows: Callable[[bytes, bool], tuple[int, bool]] | None = None
        # Gives the consumer the row still held; whether the stream stood (see end_stream).
        self.flush: Callable[[], None] = lambda: None

    def end_stream(self) -> bool:
        """After the last cell: give out the last row, unless the sheet must be read whole.

        Merged ranges (listed after the rows) fill cells of rows already given out, so a sheet
        that has any is read again and kept.
        """
        if self.merges or not self.ordered:
            return False
        self.flush()
        return True

    def start_root(self, name: str, attrs: dict[str, str]) -> None:
        """The root element names the namespace; a part that is no worksheet gives no cells."""
        namespace = _namespace(name)
        if _local(name) == "worksheet" and namespace in MAIN_NAMESPACES:
            self._bind(namespace)
        else:
            self.parser.StartElementHandler = None

    def _bind(self, ns: str) -> None:
        row_tag, cell_tag, value_tag, formula_tag = f"{ns}}}row", f"{ns}}}c", f"{ns}}}v", f"{ns}}}f"
        inline_tag, text_tag, run_tag = f"{ns}}}is", f"{ns}}}t", f"{ns}}}r"
        merge_tag, sheet_data_tag = f"{ns}}}mergeCell", f"{ns}}}sheetData"
        reader, rows, formulas = self.reader, self.rows, self.formulas
        hidden, blank_rows, consumer = self.hidden, self.blank_rows, self.consumer
        given = 0  # the row whose cells the consumer gets next, when a cell of a later one comes
        strings, kinds, percent, epoch = reader.strings, reader.kinds, reader.percent, reader.epoch
        columns = _LETTERS
        values: dict[str, object] = {}  # converted numbers and dates, bounded, to share them
        texts: dict[str, str] = {}  # repeated inline text, bounded, to share it
        # Where the parse stands: row and column counters (for cells without a reference),
        # depth inside the current <c> (1 at the <c> itself), and what the cell holds.
        row_number = column_number = depth = kept = 0
        last_place = (0, 0)
        last_digits, last_row = "", 0
        reference: str | None = None
        kind = "n"
        style: str | None = None
        value_text: str | None = None
        # Text being collected: 0 none, 1 the <v>, 2 an inline string's <t>, 3 a run's <t>.
        collecting = 0
        parts: list[str] = []
        plain = run = ""
        runs: list[str] = []
        has_inline = has_formula = in_run = False

        def start(name: str, attrs: dict[str, str]) -> None:
            nonlocal depth, reference, kind, style, value_text, collecting, has_inline
            nonlocal has_formula, row_number, column_number, plain, run, in_run
            if depth:
                depth += 1
                collecting = 0
                if depth == 2:
                    if name == value_tag:
                        collecting = 1
                        parts.clear()
                    elif name == formula_tag:
                        has_formula = True
                    elif name == inline_tag:
                        has_inline, plain, in_run = True, "", False
                        runs.clear()
                elif has_inline:
                    if depth == 3:
                        if name == text_tag:
                            collecting = 2
                            parts.clear()
                        elif name == run_tag:
                            in_run, run = True, ""
                    elif depth == 4 and in_run and name == text_tag:
                        collecting = 3
                        parts.clear()
                return
            if name == cell_tag:
                depth = 1
                reference, kind, style = attrs.get("r"), attrs.get("t", "n"), attrs.get("s")
                value_text = None
                collecting = 0
                has_inline = has_formula = False
            elif name == row_tag:
                number = attrs.get("r")
                if number is None:
                    row_number += 1
                else:
                    try:
                        row_number = int(number)
                    except ValueError:
                        real = float(number)
                        if not real.is_integer():
                            raise ValueError(f"{number} is not a valid row number") from None
                        row_number = int(real)
                if attrs.get("hidden", "").strip() in HIDDEN:
                    hidden.add(row_number)
                column_number = 0
            elif name == merge_tag:
                self.merges.append(attrs.get("ref", ""))
            elif name == sheet_data_tag:
                self.in_sheet_data = True

        def data(text: str) -> None:
            if collecting:
                parts.append(text)

        def end(name: str) -> None:
            nonlocal depth, value_text, collecting, plain, run, in_run
            if not depth:
                return
            if depth == 1:
                depth = 0
                finish()
                return
            if collecting:
                if collecting == 1:
                    if value_text is None:  # openpyxl takes the first <v>
                        value_text = "".join(parts)
                elif collecting == 2:
                    plain = "".join(parts)  # the last <t> counts, as in openpyxl
                else:
                    run = "".join(parts)
                collecting = 0
            elif depth == 3 and in_run:
                runs.append(run)
                in_run = False
            depth -= 1

        def finish() -> None:
            nonlocal last_digits, last_row
            # Where the cell stands: its own reference, or the next column of its row.
            if reference:
                digits = reference.lstrip(LETTERS)
                if digits == last_digits:
                    number = last_row
                else:
                    if not digits.isascii() or not digits.isdigit():
                        raise ValueError(f"Invalid cell coordinates ({reference})")
                    number = int(digits)
                    last_digits, last_row = digits, number
                letters = reference[: len(reference) - len(digits)]
                known = columns.get(letters)
                letter, column = known if known is not None else column_of(letters)
                coordinate = reference
                if letter != letters or digits[0] == "0":
                    coordinate = f"{letter}{number}"
            else:
                number, column = row_number, column_number + 1
                letter = letters_of(column)
                coordinate = f"{letter}{number}"
            store(coordinate, letter, number, column)

        def number_cell(text: str, shown: int) -> object:
            """A number cell's value as its style shows it: a number, a date, a duration's text."""
            key = text if shown == PLAIN else f"{shown}:{text}"
            value = values.get(key)
            if value is None:
                number_value = (
                    float(text) if "." in text or "E" in text or "e" in text else int(text)
                )
                value = number_value
                if shown != PLAIN:
                    try:
                        value = from_excel(number_value, epoch, duration=shown == DURATION_KIND)
                    except (OverflowError, ValueError):
                        value = ERROR_VALUE
                    if isinstance(value, dt.timedelta):
                        value = str(value)  # a duration prints as text, as openpyxl's does
                if len(values) < SHARED_ENTRIES:
                    values[key] = value
            return value

        def store(coordinate: str, letter: str, number: int, column: int) -> None:
            """The cell at its place, as openpyxl's reader and briefing's rules give it."""
            nonlocal last_place, column_number, kept, given
            column_number = column
            place = (number, column)
            if place <= last_place:
                self.ordered = False
                if consumer is not None:
                    raise _Unordered
            last_place = place
            if consumer is not None and number != given:
                flush()
                given = number
            # What it holds, as openpyxl's reader and briefing's rules for raw cells give it.
            index = int(style) if style else 0
            shown = kinds[index]  # an unknown style is a damaged workbook, as openpyxl finds
            raw: RawCell | None = None
            value: object = None
            text = value_text
            if kind == "inlineStr" and has_inline:
                text = plain + "".join(runs) if runs else plain
                if "_x" in text or not text.strip():
                    text = _clean_text(text)
                if text is not None:
                    shared = texts.get(text)
                    if shared is None:
                        if len(texts) < SHARED_ENTRIES:
                            texts[text] = text
                        shared = text
                    raw = RawCell(coordinate, shared)
            elif kind == "inlineStr" or not text:
                if kind == "e":
                    raw = RawCell(coordinate, None, error="the cell holds the error None")
                elif has_formula and kind != "str":  # an empty text result is a blank
                    formulas.add(place)
                    raw = RawCell(coordinate, None, error=NO_SAVED_VALUE)
            elif kind == "n":
                value = number_cell(text, shown)
                if value is ERROR_VALUE:
                    raw = RawCell(coordinate, None, error="the cell holds the error #VALUE!")
                elif percent[index] and isinstance(value, int | float):
                    raw = RawCell(coordinate, round(value * 100, 9))  # 87% was typed as 87
                else:
                    raw = RawCell(coordinate, value)  # type: ignore[arg-type]
            elif kind == "s":
                shared_text = strings[int(text)]
                if shared_text is not None:
                    raw = RawCell(coordinate, shared_text)
            elif kind == "e":
                raw = RawCell(coordinate, None, error=f"the cell holds the error {text}")
            elif kind == "b" or kind == "d":
                value = bool(int(text)) if kind == "b" else from_iso8601(text)
                if isinstance(value, dt.timedelta):
                    value = str(value)
                if percent[index] and isinstance(value, int | float):
                    value = round(value * 100, 9)
                raw = RawCell(coordinate, value)  # type: ignore[arg-type]
            else:  # "str", a formula's text result, and any other type, as text
                cleaned = _clean_text(text)
                if cleaned is not None:
                    raw = RawCell(coordinate, cleaned)
            found = rows.get(number)
            if raw is not None:
                kept += 1
                if found is None:
                    rows[number] = {letter: raw}
                else:
                    found[letter] = raw
            else:
                blank_rows.add(number)
                if column > self.blank_width:
                    self.blank_width = column
                if found is not None and not self.ordered:
                    found.pop(letter, None)  # a later copy of a cell replaces the earlier one

        def flush() -> None:
            """Give the consumer the row held, now that no more of its cells can come."""
            cells = rows.pop(given, None)
            if cells:
                consumer.take(RawRow(given, cells), given in hidden)  # type: ignore[union-attr]

        self.flush = flush
        fast_columns: dict[bytes, tuple[str, int]] = {}  # b"AB" -> ("AB", 28), as met
        # Rows that the shapes take poorly (none of the shapes tried fits, or two take turns,
        # a row each) pause them: the next `paused` rows are read one by one, not matched,
        # and only the last of them is learned from, so that a form met meanwhile (a
        # highlighted cell) is learned and the next batch may take it. Each time it happens
        # again, the pause is twice as long (`pause`, up to MAX_PAUSE), until a batch of
        # POOR_RUN rows or more is taken. Matching rows that miss, and batches of a row each,
        # cost more than reading the rows one by one.
        pause = paused = 0
        # Rows given to a consumer may be matched whole against the shapes of earlier rows.
        shaping = consumer is not None and MAX_SHAPES > 0

        def fast_rows(data: bytes, final: bool) -> tuple[int, bool]:
            """Read whole rows written in the plain form, without expat; see FAST_CELL.

            Returns how many bytes it read, and whether to go on: it stops at </sheetData>, and
            at anything not in the plain form, at the start of that row, for expat to read on.
            """
            nonlocal reference, kind, style, value_text, has_inline, has_formula, plain
            nonlocal row_number, column_number, pause, paused
            # Only whole rows are read: up to the last </row> until the part's last chunk.
            end = len(data) if final else max(data.rfind(b"</row>") + 6, 0)
            position = 0
            while True:
                missed = False
                if paused:
                    paused -= 1
                elif recent and self.ordered:
                    after = shaped_rows(data, position, end)
                    if after is not None:
                        position = after
                        continue
                    missed = True
                row = FAST_ROW.match(data, position, end)
                if row is None:
                    closing = FAST_SPACE.match(data, position).end()  # type: ignore[union-attr]
                    if data.startswith(b"</sheetData>", closing):
                        return closing, False
                    waiting = FAST_SPACE.match(data, position, end).end() == end  # type: ignore[union-attr]
                    return position, not final and waiting and len(data) - position < FAST_PENDING
                attributes = _fast_attributes(row[2]) if row[2] else {}
                if attributes is None or "r" in attributes:
                    return position, False
                read = plain_row(data, row, end) if not row[3] else None
                if read is not None:
                    # A row of empty cells teaches nothing; nor does a row in a pause (but
                    # its last), whose shapes are known but take it poorly.
                    if shaping and read[3] and not paused:
                        learn_shape(data, position, row.end(), read[0] - 6)
                    if missed:  # read after this one, learned from: the shapes wait
                        pause = paused = min(pause * 2 or 1, MAX_PAUSE)
                    position, number, last, kept_cells = read
                    row_number = number
                    if attributes and attributes.get("hidden", "").strip() in HIDDEN:
                        hidden.add(number)
                    keep_row(number, last, kept_cells)
                    continue
                cells: list[FastCell] = []
                at = row.end()
                if not row[3]:  # not <row/>: its cells, then </row>
                    while True:
                        found = FAST_CELL.match(data, at, end)
                        if found is None:
                            break
                        try:
                            cell = _fast_cell(found, row[1], fast_columns)
                        except (UnicodeDecodeError, ValueError):
                            return position, False
                        if cell is None:
                            return position, False
                        cells.append(cell)
                        at = found.end()
                    closing_row = FAST_ROW_END.match(data, at, end)
                    if closing_row is None:
                        return position, False
                    at = closing_row.end()
                row_number = row_number + 1 if row[1] is None else int(row[1])
                if attributes and attributes.get("hidden", "").strip() in HIDDEN:
                    hidden.add(row_number)
                column_number = 0
                for cell in cells:
                    # The handlers' own state (nonlocal), which finish() and store() read.
                    reference, column, kind, style, value_text, text, has_formula = cell
                    has_inline = text is not None
                    plain = text or ""
                    if runs:
                        runs.clear()
                    if column is None:
                        finish()
                    else:
                        store(reference, column[0], row_number, column[1])  # type: ignore[arg-type]
                position = at

        plain_values: dict[tuple[bytes | None, bytes], object] = {}  # (style, <v>) -> value
        plain_styles: set[bytes] = set()  # the style indexes a plain row's cells have had

        def check_style(style: bytes) -> None:
            """Raise IndexError for a style the workbook lacks, as store refuses it."""
            if style not in plain_styles:
                kinds[int(style) if style else 0]
                plain_styles.add(style)

        def plain_value(style: bytes, kind: bytes, value: bytes, inline: bytes) -> object:
            """A plain cell's value, from its <v> text or its inline text (see plain_row).

            None when the cell is not plain after all (a blank, an escape, a date past the
            calendar): store must read it. Raises UnicodeDecodeError, ValueError, IndexError
            or OverflowError where store says what is wrong.
            """
            # findall gives b"" for a group that took no part: an empty <v> or inline text (a
            # blank) is store's to judge.
            check_style(style)
            cell_value: object
            if kind in (b"", b"n"):
                if not value:
                    return None
                cell_value = plain_values.get((style, value))
                if cell_value is None:
                    index = int(style) if style else 0
                    cell_value = number_cell(value.decode(), kinds[index])
                    if cell_value is ERROR_VALUE:
                        return None
                    if percent[index] and isinstance(cell_value, int | float):
                        cell_value = round(cell_value * 100, 9)
                    if len(plain_values) < SHARED_ENTRIES:
                        plain_values[(style, value)] = cell_value
                return cell_value
            if kind == b"inlineStr":
                text = _plain_inline(inline) if not value else None
                if text is None:
                    return None
                cell_value = texts.get(text)
                if cell_value is None:
                    if len(texts) < SHARED_ENTRIES:
                        texts[text] = text
                    cell_value = text
                return cell_value
            # a shared string; None for one that is blank
            return strings[int(value)] if value else None

        def plain_row(
            data: bytes, row: re.Match[bytes], end: int
        ) -> tuple[int, int, int, dict[str, RawCell]] | None:
            """A row of plain values read at once: (where it ends, its number, its last
            column, its cells by column letter).

            Plain: numbered later than every row before it, and each cell in its own row, in
            column order, holding a number, a shared string or an inline string that is not
            blank, without a formula, a reference or an escape, or holding nothing at all.
            Its cells are made here, and none of store's checks apply to them. None for any
            other row, which store reads.
            """
            digits = row[1]
            # Once cells came out of order, a row may already hold cells read earlier: store
            # reads the rest of the sheet.
            if digits is None or not self.ordered or int(digits) <= last_place[0]:
                return None
            start = row.end()
            close = data.find(b"</row>", start, end)
            if close < 0 or PLAIN_ROW_CELLS.fullmatch(data, start, close) is None:
                return None
            kept_cells: dict[str, RawCell] = {}
            previous = 0
            number = int(digits)
            row_text = digits.decode()  # the row number as a coordinate writes it
            try:
                for letters, cell_digits, style, kind, empty, value, inline in PLAIN_CELLS.findall(
                    data, start, close
                ):
                    if cell_digits != digits:
                        return None
                    column = fast_columns.get(letters)
                    if column is None:
                        column = fast_columns[letters] = column_of(letters.decode())
                    if column[1] <= previous:
                        return None
                    previous = column[1]
                    if empty:  # as store notes an empty cell, for merged ranges to fill
                        check_style(style)
                        blank_rows.add(number)
                        self.blank_width = max(self.blank_width, previous)
                        continue
                    cell_value = plain_value(style, kind, value, inline)
                    if cell_value is None:
                        return None
                    letter = column[0]
                    kept_cells[letter] = RawCell(letter + row_text, cell_value)  # type: ignore[arg-type]
            except (UnicodeDecodeError, ValueError, IndexError, OverflowError):
                return None  # store reads the row, and says what is wrong with it
            return close + 6, number, previous, kept_cells

        recent: list[_Shape] = []  # the shapes learned, the most recently met first
        compiled = 0  # shapes made, new or grown: each is a regular expression compiled
        shaped_room = SHARED_ENTRIES  # values the shapes' caches may still keep, together
        batch = 1  # rows matched at most before they are taken together; see shaped_rows
        row_hides: dict[bytes, bool | None] = {}  # a row's attributes -> hidden; None: not plain
        # Rows no shape could take nor be made for: learning waits as many rows as the last
        # wait, doubled, so that rows unlike any cost at most a few rows' learning in all.
        idle = waiting = 0

        def learn_shape(data: bytes, position: int, start: int, close: int) -> None:
            """Learn from the plain row just read (see plain_row), for the rows after it: bring
            forward the shape it has among those not tried, or grow the most recent shape its
            values fit, or start a new one."""
            nonlocal compiled, idle, waiting
            if compiled >= MAX_SHAPES_MADE:
                return
            if waiting:
                waiting -= 1
                return
            # Rows cycling among more shapes than are tried: a match costs less than the slots.
            for index in range(SHAPES_TRIED, len(recent)):
                if recent[index].pattern.match(data, position, close + 6) is not None:
                    recent.insert(0, recent.pop(index))
                    return
            slots = _row_slots(data, start, close)
            if not any(slot.values for slot in slots.values()):
                return  # a row without values is given to no consumer
            for index, shape in enumerate(recent):
                merged = _merged_slots(shape.slots, slots)
                if merged is not None:
                    del recent[index]
                    recent.insert(0, shape if merged == shape.slots else make_shape(merged, shape))
                    idle = 0
                    return
            if len(recent) < MAX_SHAPES:
                recent.insert(0, make_shape(slots, None))
                idle = 0
                return
            idle = waiting = min(idle * 2 or 1, MAX_BATCH)

        def make_shape(slots: dict[int, _Slot], grown: _Shape | None) -> _Shape:
            """The shape of these slots; one grown from another keeps the values it met."""
            nonlocal compiled
            compiled += 1
            places = _value_places(slots)
            caches = {}
            if grown is not None:
                caches = dict(zip(_value_places(grown.slots), grown.caches, strict=True))
            return _Shape(
                RowShape(tuple(slots[column].letter for column, _ in places)),
                re.compile(_shape_pattern(slots)),
                slots,
                tuple(form for column in sorted(slots) for form in slots[column].forms),
                tuple(caches.get(place) or {None: NO_CELL} for place in places),
                max(slots),
            )

        def shaped_rows(data: bytes, position: int, end: int) -> int | None:
            """The plain rows from `position` on in a shape met before, given to the consumer
            together, cell by cell; see plain_row.

            Returns where the last of them ends; None when no recent shape fits the first or it
            is not plain after all, for plain_row and store to read it.
            """
            nonlocal row_number, last_place, column_number, kept, given, shaped_room, batch
            nonlocal pause, paused
            for shape in recent[:SHAPES_TRIED]:
                match = shape.pattern.match
                found = match(data, position, end)
                if found is not None:
                    break
            else:
                return None
            ends: list[int] = []
            matched: list[tuple[bytes, ...]] = []
            width = len(shape.forms)
            while found is not None:
                groups = found.groups()
                if groups.count(None) == width:
                    break  # no value, no row to give: store reads it
                matched.append(groups)
                ends.append(found.end())
                if len(matched) == batch:
                    break
                found = match(data, ends[-1], end)
            if not matched:
                return None
            # Column by column: the row numbers, the rows' attributes, then each cell's text.
            columns = list(zip(*matched, strict=True))
            numbers = list(map(int, columns[0]))
            taken = _rising(last_place[0], numbers)  # the rows up to the first that is not plain
            hidden_rows: set[int] = set()
            if any(columns[1]):
                for index, text in enumerate(columns[1][:taken]):
                    if text:
                        hides = row_hides.get(text, -1)
                        if hides == -1:
                            attributes = _fast_attributes(text)
                            hides = (
                                None
                                if attributes is None or "r" in attributes
                                else attributes.get("hidden", "").strip() in HIDDEN
                            )
                            if len(row_hides) < SHARED_ENTRIES:
                                row_hides[text] = hides
                        if hides is None:
                            taken = index
                            break
                        if hides:
                            hidden_rows.add(numbers[index])
            cells: list[list[object]] = []
            for keys, cache, (style, kind, inline) in zip(
                columns[2:], shape.caches, shape.forms, strict=True
            ):
                values: list[object] = list(map(cache.get, keys))
                # Values not met before (None is no plain cell's value); the first that is not
                # plain ends the rows taken.
                index = _next_none(values, 0, taken)
                while index < taken:
                    key = keys[index]
                    value = cache.get(key)  # met earlier in these rows
                    if value is not None:
                        values[index] = value
                        index = _next_none(values, index + 1, taken)
                        continue
                    try:
                        # Inline text here is mostly each row's own (IDs, quotes): not shared.
                        value = _plain_inline(key) if inline else plain_value(style, kind, key, b"")
                    except (UnicodeDecodeError, ValueError, IndexError, OverflowError):
                        value = None  # store reads the row, and says what is wrong with it
                    if value is None:
                        taken = index
                        break
                    values[index] = value
                    if shaped_room and len(key) <= SHAPE_KEY_BYTES and len(cache) < SHAPE_ENTRIES:
                        cache[key] = value
                        shaped_room -= 1
                    index = _next_none(values, index + 1, taken)
                cells.append(values)
            # A batch cut short makes the next one a single row, and each one taken whole doubles
            # the next: rows matched in vain (past the cut, to be read again) cost no more than
            # the rows taken before them.
            asked, batch = batch, min(batch * 2, MAX_BATCH) if taken == len(matched) else 1
            if not taken:
                return None  # for fast_rows to read, as a row no shape fits
            if taken >= POOR_RUN:
                pause = 0
            elif taken < len(matched) or (
                len(matched) < asked and data.find(b"</row>", ends[-1], end) >= 0
            ):  # cut short by a row of the chunk, not by its end
                pause = paused = min(pause * 2 or 1, MAX_PAUSE)
            if shape is not recent[0]:
                recent.remove(shape)
                recent.insert(0, shape)
            if taken < len(numbers):
                del numbers[taken:]
                columns = [column[:taken] for column in columns]
                cells = [values[:taken] for values in cells]
                hidden_rows.intersection_update(numbers)
            hidden.update(hidden_rows)
            row_number = numbers[-1]
            flush()
            given = row_number
            # The rows are given: a cell of the last one met later (a row written twice, a
            # cell of another row) comes out of order, past any column, for the sheet to be
            # read again whole, where keep_row's rows would still take it.
            last_place = (row_number, sys.maxsize)
            column_number = shape.last
            kept += sum(len(values) - values.count(NO_CELL) for values in cells)
            consumer.take_shaped(shape.public, numbers, hidden_rows, columns[2:], cells)  # type: ignore[union-attr, arg-type]
            return ends[taken - 1]

        def keep_row(number: int, last: int, kept_cells: dict[str, RawCell]) -> None:
            """Keep a plain row's cells (see plain_row), or give them to the consumer."""
            nonlocal last_place, column_number, kept, given
            if last:  # where its last cell stands, empty or not
                last_place = (number, last)
                column_number = last
            if not kept_cells:
                return
            kept += len(kept_cells)
            if consumer is not None:
                flush()
                given = number
            rows.setdefault(number, {}).update(kept_cells)

        self.fast_rows = fast_rows
        self.parser.StartElementHandler = start
        self.parser.CharacterDataHandler = data
        self.parser.EndElementHandler = end
        reader.counting = lambda: kept

    # -- after the last cell

    def result(self, name: str) -> RawSheet:
        if self.consumer is not None:
            return RawSheet(name=name, header_row=0, headers=(), rows=(), streamed=True)
        rows = self.rows
        if self.merges:
            self._fill_merged(name)
        return assemble_sheet(name, rows, self.hidden, ordered=self.ordered)

    def _fill_merged(self, name: str) -> None:
        """Give each merged range's value (or error) to the cells it covers that the sheet holds.

        openpyxl fills every cell a range covers, and `H1:XFD1048576` covers 17 billion. Here a
        covered cell is filled only in a row where the sheet holds a cell (with a value or not),
        and no further right than the sheet's rightmost cell. LibreOffice and openpyxl write a
        range's covered cells (empty), so what they save reads as openpyxl reads it, while a
        range reaching past the sheet's cells fills nothing there. The cells filled are counted
        before any is made, and more than MAX_MERGED_CELLS of them are refused.

        A covered cell loses what it held; a range whose top-left cell is itself covered by
        another range gives nothing but that cell's formula check.
        """
        rows = self.rows
        held = sorted(rows.keys() | self.blank_rows)
        letters = {letter for cells in rows.values() for letter in cells}
        width = max([self.blank_width, *(column_of(letter)[1] for letter in letters)])
        # Each range as (top, left, the held rows it covers, its right edge within the sheet).
        ranges: list[tuple[int, int, list[int], int]] = []
        filled = 0
        for ref in self.merges:
            match = RANGE.fullmatch(ref)
            if match is None:
                raise ValueError(f"{ref} is not a valid merged range")
            first_letter, first_row, last_letter, last_row = match.groups()
            top, left = int(first_row), column_of(first_letter)[1]
            bottom = int(last_row) if last_row else top
            right = column_of(last_letter)[1] if last_letter else left
            bottom, right = max(top, bottom), min(max(left, right), width)
            covered = held[bisect_left(held, top) : bisect_right(held, bottom)]
            filled += len(covered) * max(0, right - left + 1)
            if filled > MAX_MERGED_CELLS:
                raise WorkbookUnreadable(
                    f"{self.reader.path}: the sheet '{name}' merges more than "
                    f"{MAX_MERGED_CELLS:,} of the cells it holds ({ref}); unmerge them in Excel "
                    "or LibreOffice and save it again"
                )
            ranges.append((top, left, covered, right))
        # Which top-left cells another range covers: looked up by row, then by column.
        tops: dict[int, list[int]] = {}
        for top, left, _, _ in ranges:
            tops.setdefault(top, []).append(left)
        for lefts in tops.values():
            lefts.sort()
        covered_tops: set[tuple[int, int]] = set()
        for top, left, covered, right in ranges:
            for row in covered:
                columns = tops.get(row, [])
                for column in columns[bisect_left(columns, left) : bisect_right(columns, right)]:
                    if (row, column) != (top, left):
                        covered_tops.add((row, column))
        origins: dict[tuple[int, int], RawCell | None] = {}
        for top, left, _, _ in ranges:
            letter = letters_of(left)
            if (top, left) in covered_tops:
                origin = (
                    RawCell(f"{letter}{top}", None, error=NO_SAVED_VALUE)
                    if (top, left) in self.formulas
                    else None
                )
            else:
                origin = rows.get(top, {}).get(letter)
            origins[(top, left)] = origin
        # In the ranges' order, so that where ranges overlap the last one's value stays.
        for top, left, covered, right in ranges:
            origin = origins[(top, left)]
            spanned = [letters_of(column) for column in range(left, right + 1)]
            for row in covered:
                if origin is None:
                    found = rows.get(row)
                    if found is not None:
                        for letter in spanned:
                            found.pop(letter, None)
                    continue
                cells = rows.setdefault(row, {})
                for letter in spanned:
                    cells[letter] = RawCell(f"{letter}{row}", origin.value, origin.error)
        self.ordered = False
