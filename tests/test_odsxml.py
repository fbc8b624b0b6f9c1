"""The .ods reader: LibreOffice's spreadsheets read as their .xlsx twins, cell for cell.

Most tests write content.xml by hand, in the forms LibreOffice writes (error cells, formulas,
repeated and covered cells); those marked `office` save workbooks with LibreOffice itself and
compare the two reads.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import zipfile
from collections.abc import Mapping
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import openpyxl
import pytest
from typer.testing import CliRunner

from briefing import archive, odsxml, sheetxml
from briefing.cli import app
from briefing.errors import WorkbookUnreadable
from briefing.model import CellValue, RawCell, RawRow, RawSheet, RawWorkbook
from briefing.pipeline import build_memo, check_workbook, read_raw_workbook
from tests.conftest import (
    SEED_ARTICLE,
    SEED_WORKBOOK,
    memo_text,
    needs_office,
    spoil_part,
)
from tests.test_seed import GOLDEN

NAMESPACES = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
    'xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0"'
)
HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
NO_SAVED_VALUE = sheetxml.NO_SAVED_VALUE


# ---------------------------------------------------------------------------- writing .ods


def content_xml(tables: Mapping[str, str], head: str = HEAD) -> str:
    """content.xml holding each table's rows (XML) under its name."""
    body = "".join(
        f"<table:table table:name={quoteattr(name)}>{rows}</table:table>"
        for name, rows in tables.items()
    )
    return (
        f'{head}<office:document-content {NAMESPACES} office:version="1.3"><office:body>'
        f"<office:spreadsheet>{body}</office:spreadsheet></office:body></office:document-content>"
    )


def write_ods(
    path: Path,
    tables: Mapping[str, str],
    *,
    head: str = HEAD,
    mimetype: str = archive.ODS_MIMETYPE,
    manifest: str = "<manifest:manifest/>",
) -> Path:
    """An .ods package as LibreOffice lays it out: `mimetype` first and stored, then the XML."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("mimetype", mimetype, compress_type=zipfile.ZIP_STORED)
        package.writestr("content.xml", content_xml(tables, head))
        package.writestr("META-INF/manifest.xml", manifest)
    return path


def row(*cells: str, attributes: str = "") -> str:
    return f"<table:table-row{attributes}>{''.join(cells)}</table:table-row>"


def text(value: str, attributes: str = "") -> str:
    """A text cell as LibreOffice writes it: one paragraph a line."""
    paragraphs = "".join(f"<text:p>{escape(line)}</text:p>" for line in value.split("\n"))
    return (
        f'<table:table-cell office:value-type="string" calcext:value-type="string"{attributes}>'
        f"{paragraphs}</table:table-cell>"
    )


def typed(value: CellValue) -> str:
    """The cell LibreOffice writes for a value as sheetxml reads it from an .xlsx."""
    if value is None:
        return "<table:table-cell/>"
    if isinstance(value, bool):
        word = "true" if value else "false"
        return (
            f'<table:table-cell office:value-type="boolean" office:boolean-value="{word}">'
            f"<text:p>{word.upper()}</text:p></table:table-cell>"
        )
    if isinstance(value, int | float):
        return (
            f'<table:table-cell office:value-type="float" office:value="{value!r}">'
            f"<text:p>{value}</text:p></table:table-cell>"
        )
    if isinstance(value, dt.datetime):
        shown = value.isoformat() if value.time() else value.date().isoformat()
        return (
            f'<table:table-cell office:value-type="date" office:date-value="{shown}">'
            f"<text:p>{shown}</text:p></table:table-cell>"
        )
    assert isinstance(value, str), value
    return text(value)


def error(shown: str, formula: str = "of:=NA()") -> str:
    return (
        f'<table:table-cell table:formula="{formula}" office:value-type="string" '
        f'office:string-value="" calcext:value-type="error"><text:p>{shown}</text:p>'
        "</table:table-cell>"
    )


def ods_copy(raw: RawWorkbook, path: Path, changes: Mapping[str, str] | None = None) -> Path:
    """The workbook `raw` (as read from an .xlsx) written as an .ods, as LibreOffice saves it.

    `changes` replaces cells by "Sheet!A1" with cell XML. Gaps are repeated empty rows and
    cells; every row is padded to the last column, as LibreOffice pads them.
    """
    # Sheet name -> row -> column -> the cell's XML.
    cells: dict[str, dict[int, dict[int, str]]] = {}
    for sheet in raw.sheets:
        rows = cells.setdefault(sheet.name, {})
        found = [(r.number, r.cells) for r in sheet.rows]
        if sheet.header_row:
            headers = {letter: RawCell("", header) for letter, header in sheet.headers}
            found.insert(0, (sheet.header_row, headers))
        for number, row_cells in found:
            rows[number] = {
                sheetxml.column_of(letter)[1]: typed(raw_cell.value)
                for letter, raw_cell in row_cells.items()
            }
    for where, replacement in (changes or {}).items():
        name, reference = where.split("!")
        letters, digits = re.fullmatch(r"([A-Z]+)(\d+)", reference).groups()  # type: ignore[union-attr]
        cells[name].setdefault(int(digits), {})[sheetxml.column_of(letters)[1]] = replacement
    tables = {}
    for sheet in raw.sheets:
        xml, last = [], 0
        for number, by_column in sorted(cells[sheet.name].items()):
            if number > last + 1:
                xml.append(row("<table:table-cell/>", attributes=_repeated(number - last - 1)))
            written, column = [], 0
            for place, cell_xml in sorted(by_column.items()):
                if place > column + 1:
                    gap = place - column - 1
                    written.append(f'<table:table-cell table:number-columns-repeated="{gap}"/>')
                written.append(cell_xml)
                column = place
            written.append(f'<table:table-cell table:number-columns-repeated="{16384 - column}"/>')
            hidden = ' table:visibility="collapse"' if number in sheet.hidden_rows else ""
            xml.append(row(*written, attributes=hidden))
            last = number
        xml.append(row("<table:table-cell/>", attributes=_repeated(1048576 - last)))
        tables[sheet.name] = "".join(xml)
    return write_ods(path, tables)


def _repeated(rows: int) -> str:
    return f' table:number-rows-repeated="{rows}"'


def seed_ods(path: Path, changes: Mapping[str, str] | None = None) -> Path:
    """The seed workbook as an .ods at `path`, its source's text copy where its File says."""
    with_sources(path.parent)
    return ods_copy(sheetxml.read_workbook(SEED_WORKBOOK), path, changes)


def with_sources(folder: Path) -> Path:
    """`folder`, made, with the seed's article at ../seeds/, where the seed's Sources look."""
    folder.mkdir(parents=True, exist_ok=True)
    seeds = folder.parent / "seeds"
    seeds.mkdir(exist_ok=True)
    shutil.copy(SEED_ARTICLE, seeds / SEED_ARTICLE.name)
    return folder


def naive(text: str) -> dt.datetime:
    """A date and time as a cell holds it: in no time zone."""
    return dt.datetime.fromisoformat(text)


def first_sheet(path: Path) -> RawSheet:
    return odsxml.read_workbook(path).sheets[0]


def typed_cells(raw: RawWorkbook) -> list[tuple[str, int, str, str, object, str]]:
    """Every cell with its value's type, since True == 1 and 1 == 1.0 in Python."""
    return [
        (sheet.name, r.number, letter, type(c.value).__name__, c.value, c.error)
        for sheet in raw.sheets
        for r in sheet.rows
        for letter, c in r.cells.items()
    ]


# ---------------------------------------------------------------------------- one cell

CELLS = {
    "text": (text("Russia"), RawCell("A2", "Russia")),
    "two paragraphs": (text("first\nsecond"), RawCell("A2", "first\nsecond")),
    "spaces and a tab": (
        '<table:table-cell office:value-type="string"><text:p>a<text:s text:c="3"/>b<text:tab/>'
        "c<text:line-break/>d<text:span>e</text:span></text:p></table:table-cell>",
        RawCell("A2", "a   b\tc\nde"),
    ),
    "string value over the text shown": (
        '<table:table-cell office:value-type="string" office:string-value="12x">'
        "<text:p>shown</text:p></table:table-cell>",
        RawCell("A2", "12x"),
    ),
    "a comment is not the cell's text": (
        '<table:table-cell office:value-type="string"><office:annotation><text:p>note to self'
        "</text:p></office:annotation><text:p>Kyiv</text:p></table:table-cell>",
        RawCell("A2", "Kyiv"),
    ),
    "integer": (typed(87), RawCell("A2", 87)),
    "real": (typed(3.5), RawCell("A2", 3.5)),
    "currency": (
        '<table:table-cell office:value-type="currency" office:currency="USD" '
        'office:value="1500"><text:p>$1,500</text:p></table:table-cell>',
        RawCell("A2", 1500),
    ),
    "percentage as shown": (
        '<table:table-cell office:value-type="percentage" office:value="0.87">'
        "<text:p>87%</text:p></table:table-cell>",
        RawCell("A2", 87.0),
    ),
    "date": (typed(naive("2024-06-14")), RawCell("A2", naive("2024-06-14"))),
    "date and time": (
        typed(naive("2024-06-14T09:30")),
        RawCell("A2", naive("2024-06-14T09:30")),
    ),
    "time of day": (
        '<table:table-cell office:value-type="time" office:time-value="PT09H30M00S">'
        "<text:p>09:30</text:p></table:table-cell>",
        RawCell("A2", dt.time(9, 30)),
    ),
    "negative duration": (
        '<table:table-cell office:value-type="time" office:time-value="-PT01H30M00S">'
        "<text:p>-01:30</text:p></table:table-cell>",
        RawCell("A2", "-1 day, 22:30:00"),
    ),
    "duration past a day": (
        '<table:table-cell office:value-type="time" office:time-value="PT36H00M00S">'
        "<text:p>36:00</text:p></table:table-cell>",
        RawCell("A2", "1 day, 12:00:00"),
    ),
    "boolean": (typed(True), RawCell("A2", True)),
    "error #N/A": (error("#N/A"), RawCell("A2", None, "the cell holds the error #N/A")),
    "error Err:502": (
        error("Err:502", "of:=SQRT(-1)"),
        RawCell("A2", None, "the cell holds the error Err:502"),
    ),
    "error #DIV/0!": (
        error("#DIV/0!", "of:=1/0"),
        RawCell("A2", None, "the cell holds the error #DIV/0!"),
    ),
    "error without LibreOffice's mark": (
        '<table:table-cell table:formula="of:=1/0" office:value-type="string" '
        'office:string-value=""><text:p>#DIV/0!</text:p></table:table-cell>',
        RawCell("A2", None, "the cell holds the error #DIV/0!"),
    ),
    "formula never calculated": (
        '<table:table-cell table:formula="of:=[.B2]*2"/>',
        RawCell("A2", None, NO_SAVED_VALUE),
    ),
    "formula with a number": (
        '<table:table-cell table:formula="of:=2+3" office:value-type="float" office:value="5">'
        "<text:p>5</text:p></table:table-cell>",
        RawCell("A2", 5),
    ),
    "date past the calendar": (
        '<table:table-cell office:value-type="date" office:date-value="99999-01-01">'
        "<text:p>?</text:p></table:table-cell>",
        RawCell("A2", None, "the cell holds the error #VALUE!"),
    ),
}


@pytest.mark.parametrize(("xml", "expected"), CELLS.values(), ids=CELLS.keys())
def test_each_kind_of_cell_reads_as_its_xlsx_twin(
    tmp_path: Path, xml: str, expected: RawCell
) -> None:
    path = write_ods(tmp_path / "desk.ods", {"Figures": row(text("ID")) + row(xml)})
    assert first_sheet(path).rows == (RawRow(2, {"A": expected}),)


BLANKS = {
    "empty cell": "<table:table-cell/>",
    "only spaces": text("   "),
    "formula whose text result is empty": (
        '<table:table-cell table:formula="of:=IF(1;&quot;&quot;;1)"><text:p/></table:table-cell>'
    ),
    "covered cell with no range": "<table:covered-table-cell/>",
}


@pytest.mark.parametrize("xml", BLANKS.values(), ids=BLANKS.keys())
def test_blank_cells_give_nothing(tmp_path: Path, xml: str) -> None:
    path = write_ods(tmp_path / "desk.ods", {"Figures": row(text("ID")) + row(xml, text("x"))})
    assert first_sheet(path).rows == (RawRow(2, {"B": RawCell("B2", "x")}),)


# ---------------------------------------------------------------------------- sheets and rows


def test_every_sheet_is_read_in_order_with_its_header_row(tmp_path: Path) -> None:
    path = write_ods(
        tmp_path / "desk.ods",
        {
            "Briefing": row(text("Field"), text("Value")) + row(text("Title"), text("Ceasefire")),
            "Figures": row("<table:table-cell/>", attributes=_repeated(2))
            + row('<table:table-cell table:number-columns-repeated="2"/>', text("ID")),
        },
    )
    raw = odsxml.read_workbook(path)
    assert [(s.name, s.header_row, s.headers) for s in raw.sheets] == [
        ("Briefing", 1, (("A", "Field"), ("B", "Value"))),
        ("Figures", 3, (("C", "ID"),)),
    ]
    assert raw.sheets[0].rows == (
        RawRow(2, {"A": RawCell("A2", "Title"), "B": RawCell("B2", "Ceasefire")}),
    )


def test_repeated_rows_and_cells_holding_values_are_expanded(tmp_path: Path) -> None:
    repeated = (
        '<table:table-cell table:number-columns-repeated="2" office:value-type="float" '
        'office:value="7"><text:p>7</text:p></table:table-cell>'
        '<table:table-cell table:number-columns-repeated="16382"/>'
    )
    path = write_ods(
        tmp_path / "desk.ods",
        {"Figures": row(text("A"), text("B")) + row(repeated, attributes=_repeated(2))},
    )
    seven = {"A": 7, "B": 7}
    assert first_sheet(path).rows == tuple(
        RawRow(n, {k: RawCell(f"{k}{n}", v) for k, v in seven.items()}) for n in (2, 3)
    )


def test_hidden_and_filtered_rows_are_noted(tmp_path: Path) -> None:
    path = write_ods(
        tmp_path / "desk.ods",
        {
            "Figures": row(text("ID"))
            + row(text("F1"), attributes=' table:visibility="collapse"')
            + row(text("F2"))
            + row(text("F3"), attributes=' table:visibility="filter"')
            + row("<table:table-cell/>", attributes=' table:visibility="collapse"' + _repeated(9))
        },
    )
    assert first_sheet(path).hidden_rows == (2, 4)


def test_a_hidden_row_is_warned_of_as_in_an_xlsx(tmp_path: Path) -> None:
    path = seed_ods(tmp_path / "workbooks" / "desk.ods")
    raw = odsxml.read_workbook(path)
    figures = raw.sheet("Figures")
    assert figures is not None
    copy = RawWorkbook(
        raw.path,
        tuple(
            RawSheet(s.name, s.header_row, s.headers, s.rows, (3,) if s is figures else ())
            for s in raw.sheets
        ),
    )
    path = ods_copy(copy, tmp_path / "workbooks" / "hidden.ods")
    assert [str(p) for p in check_workbook(path).problems] == [
        "Figures: warning: row 3 is hidden (by hand or by a filter) but still goes into the "
        "memo; unhide it or delete it"
    ]


def test_merged_ranges_fill_their_cells_up_to_the_sheets_last_value(tmp_path: Path) -> None:
    origin = (
        '<table:table-cell office:value-type="string" table:number-columns-spanned="3" '
        'table:number-rows-spanned="2"><text:p>m</text:p></table:table-cell>'
        '<table:covered-table-cell table:number-columns-repeated="2"/>'
    )
    banner = (
        '<table:table-cell office:value-type="string" table:number-columns-spanned="16384">'
        "<text:p>Desk</text:p></table:table-cell>"
        '<table:covered-table-cell table:number-columns-repeated="16383"/>'
    )
    path = write_ods(
        tmp_path / "desk.ods",
        {
            "Figures": row(banner)
            + row(text("A"), text("B"), text("C"), text("D"))
            + row(text("x"), origin)
            + row(text("y"), '<table:covered-table-cell table:number-columns-repeated="3"/>')
        },
    )
    sheet = first_sheet(path)
    assert sheet.headers == tuple((letter, "Desk") for letter in "ABCD")
    assert [{k: c.value for k, c in r.cells.items()} for r in sheet.rows] == [
        {"A": "A", "B": "B", "C": "C", "D": "D"},
        {"A": "x", "B": "m", "C": "m", "D": "m"},
        {"A": "y", "B": "m", "C": "m", "D": "m"},
    ]


def test_merged_ranges_past_the_limit_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(odsxml, "MAX_MERGED_CELLS", 10)
    origin = (
        '<table:table-cell office:value-type="string" table:number-rows-spanned="20">'
        "<text:p>m</text:p></table:table-cell>"
    )
    path = write_ods(tmp_path / "desk.ods", {"Figures": row(text("A")) + row(origin)})
    with pytest.raises(WorkbookUnreadable) as caught:
        odsxml.read_workbook(path)
    assert str(caught.value) == (
        f"{path}: the sheet 'Figures' merges more than 10 of the cells it holds (A2:A21); "
        "unmerge them in LibreOffice and save it again"
    )


def test_cells_repeated_past_the_limit_are_refused_before_they_are_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(archive, "MAX_CELLS", 1000)
    everywhere = (
        '<table:table-cell table:number-columns-repeated="16384" office:value-type="float" '
        'office:value="1"><text:p>1</text:p></table:table-cell>'
    )
    path = write_ods(
        tmp_path / "desk.ods", {"Figures": row(everywhere, attributes=_repeated(1 << 20))}
    )
    with pytest.raises(WorkbookUnreadable) as caught:
        odsxml.read_workbook(path)
    assert str(caught.value) == archive.too_many_cells(path)


# ---------------------------------------------------------------------------- refused files

DOCTYPE = '<!DOCTYPE x [<!ENTITY big "big">]>'


@pytest.mark.parametrize(
    "head",
    [
        pytest.param(HEAD + DOCTYPE, id="at-the-start"),
        pytest.param(HEAD + f"<!-- {'x' * 8192} -->" + DOCTYPE, id="after-4KB-of-comment"),
    ],
)
def test_an_entity_declaration_is_refused(tmp_path: Path, head: str) -> None:
    path = write_ods(tmp_path / "desk.ods", {"Figures": row(text("ID"))}, head=head)
    with pytest.raises(WorkbookUnreadable) as caught:
        odsxml.read_workbook(path)
    assert str(caught.value) == (
        f"{path}: content.xml declares XML entities, which office programs never write; the "
        "workbook is refused as unsafe"
    )


def test_an_ods_named_xlsx_is_read_for_what_it_is(tmp_path: Path) -> None:
    path = seed_ods(tmp_path / "workbooks" / "desk.xlsx")
    assert check_workbook(path).problems == ()


# ---------------------------------------------------------------------------- whole workbooks


def test_the_seed_as_ods_reads_as_the_seed(tmp_path: Path) -> None:
    expected = sheetxml.read_workbook(SEED_WORKBOOK)
    raw = read_raw_workbook(seed_ods(tmp_path / "workbooks" / "seed.ods"))
    assert typed_cells(raw) == typed_cells(expected)
    assert [(s.name, s.header_row, s.headers) for s in raw.sheets] == [
        (s.name, s.header_row, s.headers) for s in expected.sheets
    ]


def test_the_seed_as_ods_builds_the_golden_memo(tmp_path: Path) -> None:
    memo = tmp_path / "memo.docx"
    build_memo(
        seed_ods(tmp_path / "workbooks" / SEED_WORKBOOK.with_suffix(".ods").name),
        memo,
        now=dt.datetime(2024, 6, 15, 9, tzinfo=dt.UTC),
    )
    assert memo_text(memo) == GOLDEN.read_text(encoding="utf-8")


# ---------------------------------------------------------------------------- LibreOffice's own


@pytest.fixture(scope="module")
def saved_by_libreoffice(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The seed and a workbook of hostile cells, each with its .ods saved by LibreOffice."""
    from tests.test_office import soffice_convert

    folder = tmp_path_factory.mktemp("ods")
    hostile = hostile_workbook(folder / "hostile.xlsx")
    converted = {}
    for source in (SEED_WORKBOOK, hostile):
        converted[source.name] = (
            source,
            soffice_convert(source, "ods", with_sources(folder / "workbooks"), folder / "profile"),
        )
    return {name: pair[1] for name, pair in converted.items()} | {
        f"{name}:xlsx": pair[0] for name, pair in converted.items()
    }


def hostile_workbook(path: Path) -> Path:
    """Error cells (saved as constants and as formulas), dates, a percentage, merged cells and
    a hidden row, on the Figures sheet."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Figures"
    sheet.append(["ID", "Date", "Value", "Note", "Extra"])
    sheet.append(["F1", naive("2024-06-14"), 87, "plain", naive("2024-06-14T09:30")])
    sheet.append(["F2", naive("2024-06-13"), 0.87, "two\nlines", 3.5])
    sheet["C3"].number_format = "0%"
    sheet.append(["F3", "#N/A", "#REF!", "=1/0", "=NA()"])
    sheet.append(["F4", "merged", None, None, "after"])
    sheet.merge_cells("B5:D6")
    sheet.append(["F5", None, None, None, "below"])
    sheet.append(["F6", "hidden", 1, 2, 3])
    sheet.row_dimensions[7].hidden = True
    sheet.append(["F7", "=2+3", "=B2", "x", "y"])
    book.save(path)
    # Error constants and saved formula results, as Excel writes them (openpyxl saves none).
    cells = {
        "B4": '<c r="B4" t="e"><v>#N/A</v></c>',
        "C4": '<c r="C4" t="e"><v>#REF!</v></c>',
        "D4": '<c r="D4" t="e"><f>1/0</f><v>#DIV/0!</v></c>',
        "E4": '<c r="E4" t="e"><f>NA()</f><v>#N/A</v></c>',
        "B8": '<c r="B8"><f>2+3</f><v>5</v></c>',
        "C8": '<c r="C8" s="1"><f>B2</f><v>45457</v></c>',
    }
    with zipfile.ZipFile(path) as package:
        items = [(info.filename, package.read(info)) for info in package.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        for name, data in items:
            if name == "xl/worksheets/sheet1.xml":
                xml = data.decode()
                for place, replacement in cells.items():
                    xml, found = re.subn(f'<c r="{place}"[^>]*?(?:/>|>.*?</c>)', replacement, xml)
                    assert found == 1, place
                data = xml.encode()
            package.writestr(name, data)
    return path


@pytest.mark.office
@needs_office
@pytest.mark.parametrize("name", ["ceasefire-2024-06-14.xlsx", "hostile.xlsx"])
def test_libreoffices_ods_reads_as_the_xlsx_it_was_saved_from(
    saved_by_libreoffice: dict[str, Path], name: str
) -> None:
    xlsx = sheetxml.read_workbook(saved_by_libreoffice[f"{name}:xlsx"])
    ods = odsxml.read_workbook(saved_by_libreoffice[name])
    assert typed_cells(ods) == typed_cells(xlsx)
    assert [(s.name, s.header_row, s.headers, s.hidden_rows) for s in ods.sheets] == [
        (s.name, s.header_row, s.headers, s.hidden_rows) for s in xlsx.sheets
    ]


@pytest.mark.office
@needs_office
def test_libreoffices_hostile_ods_holds_what_it_should(
    saved_by_libreoffice: dict[str, Path],
) -> None:
    sheet = odsxml.read_workbook(saved_by_libreoffice["hostile.xlsx"]).sheets[0]
    cells = {c.coordinate: (c.value, c.error) for r in sheet.rows for c in r.cells.values()}
    assert cells["B4"] == (None, "the cell holds the error #N/A")
    assert cells["D4"] == (None, "the cell holds the error #DIV/0!")
    assert cells["C3"] == (87.0, "")
    assert [cells[f"{c}6"] for c in "BCD"] == [("merged", "")] * 3
    assert sheet.hidden_rows == (7,)


@pytest.mark.office
@needs_office
def test_libreoffices_seed_ods_builds_the_golden_memo(
    saved_by_libreoffice: dict[str, Path], tmp_path: Path, runner: CliRunner
) -> None:
    memo = tmp_path / "memo.docx"
    seed = saved_by_libreoffice["ceasefire-2024-06-14.xlsx"]
    result = runner.invoke(app, ["build", str(seed), "-o", str(memo)])
    assert result.exit_code == 0, result.output
    build_memo(seed, memo, now=dt.datetime(2024, 6, 15, 9, tzinfo=dt.UTC))
    assert memo_text(memo) == GOLDEN.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("rows", "why"),
    [
        pytest.param(
            row('<table:table-cell table:number-columns-repeated="0"/>'),
            "ValueError: number-columns-repeated=0 is not a count",
            id="repeated-no-times",
        ),
        pytest.param(
            '<table:table table:name="inner"/>',
            "ValueError: a sheet inside a sheet",
            id="sheet-in-a-sheet",
        ),
        pytest.param(
            "<table:table-row>",
            "ExpatError: mismatched tag: line 2, column 466",
            id="broken-xml",
        ),
    ],
)
def test_content_no_writer_makes_is_one_line(tmp_path: Path, rows: str, why: str) -> None:
    path = write_ods(tmp_path / "desk.ods", {"Figures": rows})
    with pytest.raises(WorkbookUnreadable) as caught:
        odsxml.read_workbook(path)
    assert str(caught.value) == (
        f"{path}: the spreadsheet cannot be read ({why}); open it in LibreOffice and save it again"
    )


def test_a_damaged_content_part_is_named(tmp_path: Path) -> None:
    path = write_ods(tmp_path / "desk.ods", {"Figures": row(text("ID")) * 200})
    spoil_part(path, "content.xml", stored=True)
    with pytest.raises(WorkbookUnreadable) as caught:
        odsxml.read_workbook(path)
    assert str(caught.value) == archive.damaged(path, "content.xml")


def test_a_read_past_the_time_bound_is_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(archive, "MAX_READ_SECONDS", -1)
    path = write_ods(tmp_path / "desk.ods", {"Figures": row(text("ID"))})
    with pytest.raises(WorkbookUnreadable) as caught:
        odsxml.read_workbook(path)
    assert str(caught.value) == archive.read_too_slow(path)
