"""briefing/sheetxml.py: the streaming reader gives what openpyxl's reader gave, cell for cell.

conftest compares the two readers on every workbook any test reads; here the cells are odd on
purpose, written as raw XML the way Excel, LibreOffice or a careless script would write them,
and the guards of the streaming parse (entities anywhere, time, cells, merged ranges) are tried.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable, Collection, Sequence
from pathlib import Path

import pytest
from openpyxl.styles import numbers as openpyxl_numbers

from briefing import archive, sheetxml
from briefing.errors import WorkbookUnreadable
from briefing.model import CellValue, NoCell, RawCell, RawRow, RawWorkbook, RowShape
from briefing.sheetxml import TerminalProgress, _row_slots, _Slot, read_workbook
from tests.conftest import SEED_WORKBOOK, needs_office, raw_cell, write_example
from tests.openpyxl_reader import read_with_openpyxl

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
STRICT = "http://purl.oclc.org/ooxml/spreadsheetml/main"
DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
STRICT_RELS = "http://purl.oclc.org/ooxml/officeDocument/relationships"
PKG_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
CONTENT_TYPES = (
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.styles+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sharedStrings+xml"/>'
    "{sheets}</Types>"
)
# Cell styles: 0 General, 1 a date, 2 0%, 3 a custom date, 4 0.0%, 5 a duration, 6 a time,
# 7 a date and time, 8 text (@), 9 a custom format that shows "%" literally.
STYLES = (
    f'<styleSheet xmlns="{MAIN}"><numFmts count="5">'
    '<numFmt numFmtId="164" formatCode="d mmmm yyyy"/>'
    '<numFmt numFmtId="165" formatCode="0.0%"/>'
    '<numFmt numFmtId="166" formatCode="[h]:mm"/>'
    '<numFmt numFmtId="167" formatCode="yyyy-mm-dd h:mm"/>'
    '<numFmt numFmtId="168" formatCode="0&quot; %&quot;"/></numFmts>'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="10">'
    + "".join(
        f'<xf numFmtId="{number}" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        for number in (0, 14, 9, 164, 165, 166, 21, 167, 49, 168)
    )
    + '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
    "</cellStyles></styleSheet>"
)
SHARED = (
    f'<sst xmlns="{MAIN}" count="6" uniqueCount="6">'
    "<si><t>Russia</t></si>"
    '<si><t xml:space="preserve">  </t></si>'
    "<si><r><rPr><b/></rPr><t>Kharkiv </t></r><r><t>region</t></r></si>"
    "<si><t>line_x000D_break</t></si>"
    "<si><t>kept _x005F_x000D_ as typed</t></si>"
    '<si><t>plain</t><rPh sb="0" eb="5"><t>phonetic</t></rPh></si>'
    "</sst>"
)


def xlsx(
    path: Path,
    sheets: dict[str, str],
    *,
    namespace: str = MAIN,
    relations: str = DOC_RELS,
    workbook_pr: str = "",
    states: dict[str, str] | None = None,
    strings: str = SHARED,
    styles: str = STYLES,
) -> Path:
    """A workbook written part by part: each sheet's <sheetData> (and what follows it) as given."""
    states = states or {}
    entries = "".join(
        f'<sheet name="{name}" sheetId="{index}" r:id="rId{index}"'
        + (f' state="{states[name]}"' if name in states else "")
        + "/>"
        for index, name in enumerate(sheets, start=1)
    )
    rels = "".join(
        f'<Relationship Id="rId{index}" Type="{DOC_RELS}/worksheet" '
        f'Target="worksheets/sheet{index}.xml"/>'
        for index in range(1, len(sheets) + 1)
    )
    rels += (
        f'<Relationship Id="rIdS" Type="{DOC_RELS}/styles" Target="styles.xml"/>'
        f'<Relationship Id="rIdT" Type="{DOC_RELS}/sharedStrings" Target="sharedStrings.xml"/>'
    )
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{index}.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for index in range(1, len(sheets) + 1)
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", CONTENT_TYPES.format(sheets=overrides))
        package.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{PKG_RELS}"><Relationship Id="rId1" '
            f'Type="{DOC_RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        package.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{namespace}" xmlns:r="{relations}">{workbook_pr}'
            f"<sheets>{entries}</sheets></workbook>",
        )
        package.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="{PKG_RELS}">{rels}</Relationships>',
        )
        package.writestr("xl/styles.xml", styles.replace(MAIN, namespace))
        package.writestr("xl/sharedStrings.xml", strings.replace(MAIN, namespace))
        for index, body in enumerate(sheets.values(), start=1):
            package.writestr(
                f"xl/worksheets/sheet{index}.xml",
                f'<worksheet xmlns="{namespace}">{body}</worksheet>',
            )
    return path


def data(rows: str, after: str = "") -> str:
    return f"<sheetData>{rows}</sheetData>{after}"


def same_as_openpyxl(path: Path) -> RawWorkbook:
    raw = read_workbook(path)
    assert raw == read_with_openpyxl(path)
    return raw


def cells(raw: RawWorkbook, sheet: str = "Data") -> dict[str, RawCell]:
    found = raw.sheet(sheet)
    assert found is not None
    return {c.coordinate: c for row in found.rows for c in row.cells.values()}


HEADER = '<row r="1"><c r="A1" t="inlineStr"><is><t>Header</t></is></c></row>'

# One row of odd cells each: (cell XML in row 2, what it reads as).
ODD_CELLS: dict[str, tuple[str, RawCell | None]] = {
    "integer": ('<c r="A2"><v>87</v></c>', RawCell("A2", 87)),
    "float": ('<c r="A2" t="n"><v>1.5</v></c>', RawCell("A2", 1.5)),
    "exponent": ('<c r="A2"><v>1E3</v></c>', RawCell("A2", 1000.0)),
    "shared string": ('<c r="A2" t="s"><v>0</v></c>', RawCell("A2", "Russia")),
    "shared blank": ('<c r="A2" t="s"><v>1</v></c>', None),
    "shared rich runs": ('<c r="A2" t="s"><v>2</v></c>', RawCell("A2", "Kharkiv region")),
    "shared escape": ('<c r="A2" t="s"><v>3</v></c>', RawCell("A2", "line\rbreak")),
    "shared escaped escape": (
        '<c r="A2" t="s"><v>4</v></c>',
        RawCell("A2", "kept \r as typed"),  # openpyxl drops x005F_ first, then we decode
    ),
    "shared phonetic left out": ('<c r="A2" t="s"><v>5</v></c>', RawCell("A2", "plain")),
    "inline": ('<c r="A2" t="inlineStr"><is><t>Kyiv</t></is></c>', RawCell("A2", "Kyiv")),
    "inline runs": (
        '<c r="A2" t="inlineStr"><is><r><t>Kyiv </t></r><r><rPr/><t>city</t></r></is></c>',
        RawCell("A2", "Kyiv city"),
    ),
    "inline empty": ('<c r="A2" t="inlineStr"></c>', None),
    "inline spaces": ('<c r="A2" t="inlineStr"><is><t> \u00a0 </t></is></c>', None),
    "inline escape": (
        '<c r="A2" t="inlineStr"><is><t>a_x000A_b_x0009_c</t></is></c>',
        RawCell("A2", "a\nb\tc"),
    ),
    "entities": (
        '<c r="A2" t="inlineStr"><is><t>R&amp;D &lt;3 &#8364;5</t></is></c>',
        RawCell("A2", "R&D <3 €5"),
    ),
    "boolean": ('<c r="A2" t="b"><v>1</v></c>', RawCell("A2", True)),
    "error": (
        '<c r="A2" t="e"><v>#N/A</v></c>',
        RawCell("A2", None, "the cell holds the error #N/A"),
    ),
    "error formula": (
        '<c r="A2" t="e"><f>1/0</f><v>#DIV/0!</v></c>',
        RawCell("A2", None, "the cell holds the error #DIV/0!"),
    ),
    "formula saved": ('<c r="A2"><f>80+7</f><v>87</v></c>', RawCell("A2", 87)),
    "formula never calculated": (
        '<c r="A2"><f>80+7</f></c>',
        RawCell("A2", None, sheetxml.NO_SAVED_VALUE),
    ),
    "formula empty value": (
        '<c r="A2"><f>80+7</f><v></v></c>',
        RawCell("A2", None, sheetxml.NO_SAVED_VALUE),
    ),
    "shared formula never calculated": (
        '<c r="A2"><f t="shared" si="0"/></c>',
        RawCell("A2", None, sheetxml.NO_SAVED_VALUE),
    ),
    "text formula saved": (
        '<c r="A2" t="str"><f>"a"&amp;"b"</f><v>ab</v></c>',
        RawCell("A2", "ab"),
    ),
    "text formula empty result": ('<c r="A2" t="str"><f>IF(1,"","x")</f><v></v></c>', None),
    "date": ('<c r="A2" s="1"><v>45457</v></c>', RawCell("A2", dt.datetime(2024, 6, 14))),  # noqa: DTZ001
    "custom date": ('<c r="A2" s="3"><v>45457</v></c>', RawCell("A2", dt.datetime(2024, 6, 14))),  # noqa: DTZ001
    "date and time": (
        '<c r="A2" s="7"><v>45457.75</v></c>',
        RawCell("A2", dt.datetime(2024, 6, 14, 18, 0)),  # noqa: DTZ001
    ),
    "time": ('<c r="A2" s="6"><v>0.5</v></c>', RawCell("A2", dt.time(12, 0))),
    "duration": ('<c r="A2" s="5"><v>1.25</v></c>', RawCell("A2", "1 day, 6:00:00")),
    "date past the calendar": (
        '<c r="A2" s="1"><v>99999999</v></c>',
        RawCell("A2", None, "the cell holds the error #VALUE!"),
    ),
    "early 1900 date": ('<c r="A2" s="1"><v>31</v></c>', RawCell("A2", dt.datetime(1900, 1, 31))),  # noqa: DTZ001
    "iso date cell": ('<c r="A2" t="d"><v>2024-06-14</v></c>', RawCell("A2", dt.date(2024, 6, 14))),
    "iso datetime cell": (
        '<c r="A2" t="d"><v>2024-06-14T09:30:00</v></c>',
        RawCell("A2", dt.datetime(2024, 6, 14, 9, 30)),  # noqa: DTZ001
    ),
    "iso time cell": (
        '<c r="A2" t="d"><v>09:30:15.5</v></c>',
        RawCell("A2", dt.time(9, 30, 15, 500000)),
    ),
    "iso duration cell": ('<c r="A2" t="d"><v>PT1H30M</v></c>', RawCell("A2", "1:30:00")),
    "duration with milliseconds": (
        '<c r="A2" s="5"><v>0.0000001</v></c>',
        RawCell("A2", "0:00:00.009000"),
    ),
    "percent": ('<c r="A2" s="2"><v>0.87</v></c>', RawCell("A2", 87.0)),
    "custom percent": ('<c r="A2" s="4"><v>0.125</v></c>', RawCell("A2", 12.5)),
    "literal percent sign": ('<c r="A2" s="9"><v>3</v></c>', RawCell("A2", 300)),
    "text format number": ('<c r="A2" s="8"><v>12</v></c>', RawCell("A2", 12)),
    "percent boolean": ('<c r="A2" s="2" t="b"><v>1</v></c>', RawCell("A2", 100)),
    "lower-case reference": ('<c r="a2"><v>5</v></c>', RawCell("A2", 5)),
    "no reference": ("<c><v>5</v></c>", RawCell("A2", 5)),
    "second value ignored": ('<c r="A2"><v>5</v><v>6</v></c>', RawCell("A2", 5)),
}


@pytest.mark.parametrize(("xml", "expected"), ODD_CELLS.values(), ids=ODD_CELLS.keys())
def test_an_odd_cell_reads_as_openpyxl_reads_it(
    tmp_path: Path, xml: str, expected: RawCell | None
) -> None:
    path = xlsx(tmp_path / "odd.xlsx", {"Data": data(HEADER + f'<row r="2">{xml}</row>')})
    raw = same_as_openpyxl(path)
    assert raw_cell(raw, "Data", "A2") == expected


@pytest.mark.parametrize(
    "rows",
    [
        pytest.param(
            '<row r="3"><c r="B3"><v>3</v></c><c r="A3"><v>4</v></c></row>'
            '<row r="2"><c r="C2"><v>1</v></c></row>',
            id="rows-and-cells-out-of-order",
        ),
        pytest.param(
            '<row r="2"><c r="A2"><v>1</v></c><c r="A2"><v>2</v></c>'
            '<c r="B2"><v>3</v></c><c r="B2" t="inlineStr"></c></row>',
            id="a-later-copy-wins-even-blank",
        ),
        pytest.param(
            "<row><c><v>1</v></c><c><v>2</v></c></row>"
            '<row><c r="C3"><v>3</v></c><c><v>4</v></c></row>',
            id="rows-and-cells-without-references",
        ),
        pytest.param('<row r="2.0"><c><v>1</v></c></row>', id="row-number-written-as-a-float"),
        pytest.param(
            '<row r="2" spans="1:3" ht="30" customHeight="1"/><row r="5" hidden="1">'
            '<c r="C5"><v>1</v></c></row><row r="1048576"><c r="XFD1048576"><v>9</v></c></row>',
            id="empty-hidden-and-far-rows",
        ),
    ],
)
def test_row_and_cell_order_as_openpyxl_gives_it(tmp_path: Path, rows: str) -> None:
    path = xlsx(tmp_path / "order.xlsx", {"Data": data(HEADER + rows)})
    raw = read_workbook(path)
    assert raw == read_with_openpyxl(path)
    sheet = raw.sheet("Data")
    assert sheet is not None
    numbers = [row.number for row in sheet.rows]
    assert numbers == sorted(numbers)
    assert all(row.cells for row in sheet.rows)  # empty rows are not rows


# LibreOffice and openpyxl write the cells a merged range covers, empty, as these rows do.
MERGES = {
    "vertical": (
        '<row r="2"><c r="A2" t="inlineStr"><is><t>MoD</t></is></c><c r="B2"><v>1</v></c></row>'
        '<row r="3"><c r="A3" t="inlineStr"><is><t>lost</t></is></c><c r="B3"><v>2</v></c></row>'
        '<row r="4"><c r="A4" s="1"/></row>',
        "A2:A4",
        {"A2": "MoD", "A3": "MoD", "A4": "MoD"},
    ),
    "horizontal": (
        '<row r="2"><c r="B2" t="inlineStr"><is><t>Sumy</t></is></c><c r="C2"/><c r="D2"/></row>',
        "B2:D2",
        {"B2": "Sumy", "C2": "Sumy", "D2": "Sumy"},
    ),
    "error": (
        '<row r="2"><c r="A2" t="e"><v>#REF!</v></c><c r="B2"/></row>'
        '<row r="3"><c r="A3"/><c r="B3"/></row>',
        "A2:B3",
        {},
    ),
    "blank top-left": ('<row r="2"><c r="B2"><v>5</v></c></row>', "A2:B2", {}),
    "formula never calculated": (
        '<row r="2"><c r="A2"><f>1+1</f></c></row><row r="3"><c r="A3"/></row>',
        "A2:A3",
        {},
    ),
}


@pytest.mark.parametrize(("rows", "ref", "expected"), MERGES.values(), ids=MERGES.keys())
def test_a_merged_range_gives_every_cell_its_value_as_openpyxl_does(
    tmp_path: Path, rows: str, ref: str, expected: dict[str, str]
) -> None:
    after = f'<mergeCells count="1"><mergeCell ref="{ref}"/></mergeCells>'
    path = xlsx(tmp_path / "merged.xlsx", {"Data": data(HEADER + rows, after)})
    found = cells(same_as_openpyxl(path))
    for coordinate, value in expected.items():
        assert found[coordinate] == RawCell(coordinate, value)


def test_overlapping_merged_ranges_read_as_openpyxl_reads_them(tmp_path: Path) -> None:
    rows = (
        '<row r="2"><c r="A2"><v>1</v></c><c r="B2"><v>2</v></c><c r="C2"/></row>'
        '<row r="3"><c r="B3" t="e"><v>#N/A</v></c><c r="C3"/></row>'
    )
    after = '<mergeCells count="2"><mergeCell ref="A2:B2"/><mergeCell ref="B2:C3"/></mergeCells>'
    path = xlsx(tmp_path / "overlap.xlsx", {"Data": data(HEADER + rows, after)})
    raw = read_workbook(path)
    assert raw == read_with_openpyxl(path)
    assert cells(raw)["A2"] == RawCell("A2", 1)


# A range reaching past the sheet's cells: (its rows, the range, the cells it fills). openpyxl
# fills all it covers, which for these takes minutes and gigabytes, so it is not asked.
MERGES_PAST_THE_CELLS = {
    "below the last row": (
        '<row r="2"><c r="A2" t="inlineStr"><is><t>MoD</t></is></c><c r="B2"><v>1</v></c></row>',
        "A2:A5",
        {"A2": "MoD", "B2": 1},
    ),
    "a whole column": (
        '<row r="2"><c r="A2" t="inlineStr"><is><t>MoD</t></is></c></row>'
        '<row r="3"><c r="B3"><v>2</v></c></row><row r="9"><c r="B9" s="1"/></row>',
        "A2:A1048576",
        {"A2": "MoD", "A3": "MoD", "B3": 2, "A9": "MoD"},
    ),
    "to the last row and column": (
        '<row r="2"><c r="A2"><v>1</v></c><c r="B2"><v>2</v></c></row>'
        '<row r="3"><c r="C3"><v>3</v></c></row>',
        "B1:XFD1048576",
        {"A2": 1},
    ),
    "from the last column": (
        '<row r="2"><c r="A2"><v>1</v></c></row>',
        "XFD1:XFD1048576",
        {"A2": 1},
    ),
}


@pytest.mark.parametrize(
    ("rows", "ref", "expected"),
    MERGES_PAST_THE_CELLS.values(),
    ids=MERGES_PAST_THE_CELLS.keys(),
)
def test_a_merged_range_fills_only_the_rows_and_columns_the_sheet_holds(
    tmp_path: Path, rows: str, ref: str, expected: dict[str, CellValue]
) -> None:
    after = f'<mergeCells count="1"><mergeCell ref="{ref}"/></mergeCells>'
    path = xlsx(tmp_path / "merged.xlsx", {"Data": data(HEADER + rows, after)})
    found = cells(read_workbook(path))
    found.pop("A1", None)  # the header
    assert found == {
        coordinate: RawCell(coordinate, value) for coordinate, value in expected.items()
    }


def test_openpyxl_fills_a_merged_range_below_the_sheet_s_rows_and_briefing_does_not(
    tmp_path: Path,
) -> None:
    rows, ref, _ = MERGES_PAST_THE_CELLS["below the last row"]
    after = f'<mergeCells count="1"><mergeCell ref="{ref}"/></mergeCells>'
    path = xlsx(tmp_path / "merged.xlsx", {"Data": data(HEADER + rows, after)})
    ours, theirs = cells(read_workbook(path)), cells(read_with_openpyxl(path))
    assert {key: value for key, value in theirs.items() if key not in ours} == {
        "A3": RawCell("A3", "MoD"),
        "A4": RawCell("A4", "MoD"),
        "A5": RawCell("A5", "MoD"),
    }
    assert {key: theirs[key] for key in ours} == ours


def test_the_1904_calendar_moves_every_date(tmp_path: Path) -> None:
    rows = HEADER + '<row r="2"><c r="A2" s="1"><v>43995</v></c></row>'
    path = xlsx(
        tmp_path / "mac.xlsx", {"Data": data(rows)}, workbook_pr='<workbookPr date1904="1"/>'
    )
    raw = same_as_openpyxl(path)
    assert raw_cell(raw, "Data", "A2") == RawCell("A2", dt.datetime(2024, 6, 14))  # noqa: DTZ001
    path = xlsx(
        tmp_path / "pc.xlsx", {"Data": data(rows)}, workbook_pr='<workbookPr date1904="false"/>'
    )
    assert raw_cell(same_as_openpyxl(path), "Data", "A2") == RawCell("A2", dt.datetime(2020, 6, 13))  # noqa: DTZ001


def test_sheets_in_workbook_order_hidden_ones_too(tmp_path: Path) -> None:
    sheets = {name: data(HEADER) for name in ("Zeta", "Alpha", "Secret", "Very")}
    path = xlsx(tmp_path / "order.xlsx", sheets, states={"Secret": "hidden", "Very": "veryHidden"})
    assert [s.name for s in same_as_openpyxl(path).sheets] == ["Zeta", "Alpha", "Secret", "Very"]


def test_a_sheet_without_a_relationship_or_of_another_kind_gives_no_cells(tmp_path: Path) -> None:
    path = xlsx(tmp_path / "odd.xlsx", {"Data": data(HEADER), "Other": data(HEADER)})
    with zipfile.ZipFile(path) as package:
        items = {i.filename: package.read(i) for i in package.infolist()}
    book = items["xl/workbook.xml"].decode().replace(' r:id="rId2"', "")  # Other: no part
    items["xl/workbook.xml"] = book.encode()
    items["xl/worksheets/sheet1.xml"] = (
        f'<chartsheet xmlns="{MAIN}"><sheetData/></chartsheet>'.encode()
    )
    with zipfile.ZipFile(path, "w") as package:
        for name, content in items.items():
            package.writestr(name, content)
    raw = read_workbook(path)
    assert [(s.name, s.rows, s.headers) for s in raw.sheets] == [("Data", (), ())]


def test_a_workbook_without_shared_strings_or_styles(tmp_path: Path) -> None:
    path = xlsx(
        tmp_path / "bare.xlsx", {"Data": data(HEADER + '<row r="2"><c r="A2"><v>3</v></c></row>')}
    )
    left_out = ("xl/styles.xml", "xl/sharedStrings.xml")
    with zipfile.ZipFile(path) as package:
        kept = {
            i.filename: package.read(i) for i in package.infolist() if i.filename not in left_out
        }
    types = kept["[Content_Types].xml"].decode()
    for part in left_out:
        types = re.sub(f'<Override PartName="/{part}"[^>]*/>', "", types)
    kept["[Content_Types].xml"] = types.encode()
    with zipfile.ZipFile(path, "w") as package:
        for name, content in kept.items():
            package.writestr(name, content)
    assert raw_cell(same_as_openpyxl(path), "Data", "A2") == RawCell("A2", 3)


@pytest.mark.parametrize(
    ("row", "hidden"),
    [
        pytest.param('<row r="{n}" spans="1:1" hidden="1">', (3, 4, 6), id="excel"),
        pytest.param(
            '<row r="{n}" customFormat="false" ht="12.8" hidden="true" customHeight="false" '
            'outlineLevel="0" collapsed="false">',
            (3, 4, 6),
            id="libreoffice",
        ),
        pytest.param('<row hidden="1" r="{n}">', (3, 4, 6), id="read-by-expat"),
        pytest.param('<row r="{n}" hidden="0">', (), id="zero"),
        pytest.param('<row r="{n}" hidden="false">', (), id="false"),
    ],
)
def test_hidden_rows_are_those_openpyxl_finds_hidden(
    tmp_path: Path, row: str, hidden: tuple[int, ...]
) -> None:
    """Rows holding cells only: a hidden empty row (9) prints nothing."""
    rows = HEADER + "".join(
        (row.format(n=n) if n in (3, 4, 6, 9) else f'<row r="{n}">')
        + (f'<c r="A{n}"><v>{n}</v></c>' if n != 9 else "")
        + "</row>"
        for n in range(2, 10)
    )
    raw = same_as_openpyxl(xlsx(tmp_path / "hidden.xlsx", {"Data": data(rows)}))
    sheet = raw.sheet("Data")
    assert sheet is not None
    assert sheet.hidden_rows == hidden


@pytest.mark.no_oracle
def test_strict_ooxml_reads_like_transitional(tmp_path: Path) -> None:
    """Excel's "Strict Open XML" namespaces; openpyxl reads no cells from them."""
    rows = HEADER + '<row r="2"><c r="A2" t="s"><v>0</v></c><c r="B2" s="1"><v>45457</v></c></row>'
    strict = xlsx(
        tmp_path / "strict.xlsx", {"Data": data(rows)}, namespace=STRICT, relations=STRICT_RELS
    )
    transitional = xlsx(tmp_path / "transitional.xlsx", {"Data": data(rows)})
    assert cells(read_workbook(strict)) == cells(read_workbook(transitional))
    assert cells(read_workbook(strict))["B2"] == RawCell("B2", dt.datetime(2024, 6, 14))  # noqa: DTZ001


def test_the_seed_and_init_workbooks_read_as_openpyxl_reads_them(tmp_path: Path) -> None:
    for path in (SEED_WORKBOOK, write_example(tmp_path / "example.xlsx")):
        raw = read_workbook(path)
        assert raw == read_with_openpyxl(path)
        assert [s.name for s in raw.sheets][:2] == ["Briefing", "Sources"]


def test_number_format_rules_are_openpyxls(tmp_path: Path) -> None:
    assert openpyxl_numbers.BUILTIN_FORMATS == sheetxml.BUILTIN_FORMATS
    codes = [
        *openpyxl_numbers.BUILTIN_FORMATS.values(),
        "d mmmm yyyy",
        "[h]:mm:ss",
        "[mm]:ss",
        '"day" 0',
        "[Red]0.00",
        "[$-409]d-mmm-yy",
        '0.0" m"',
        "yyyy\\-mm",
        "_d0",
        "General;[Red]-General;d",
    ]
    for code in codes:
        assert sheetxml.is_date_format(code) == openpyxl_numbers.is_date_format(code), code
        assert sheetxml.is_duration_format(code) == openpyxl_numbers.is_timedelta_format(code), code


# ---------------------------------------------------------------------------- guards


def _with_doctype_in(path: Path, part: str, *, padding: int) -> None:
    """Put a DOCTYPE declaring an entity after `padding` bytes of a comment at a part's head."""
    with zipfile.ZipFile(path) as package:
        items = [(info.filename, package.read(info)) for info in package.infolist()]
    declaration = b'<!DOCTYPE x [<!ENTITY big "' + b"ha" * 50 + b'">]>'
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        for name, content in items:
            if name == part:
                content = b"<!--" + b" " * padding + b"-->" + declaration + content
            package.writestr(name, content)


@pytest.mark.parametrize(
    "part",
    [
        "xl/workbook.xml",
        "xl/_rels/workbook.xml.rels",
        "xl/styles.xml",
        "xl/sharedStrings.xml",
        "xl/worksheets/sheet1.xml",
    ],
)
def test_a_doctype_after_the_first_4096_bytes_is_refused_by_the_parse(
    tmp_path: Path, part: str
) -> None:
    path = xlsx(tmp_path / "late.xlsx", {"Data": data(HEADER)})
    _with_doctype_in(path, part, padding=10_000)
    with pytest.raises(WorkbookUnreadable) as caught:
        read_workbook(path)
    assert str(caught.value) == (
        f"{path}: {part} declares XML entities, which office programs never write; the workbook is "
        "refused as unsafe"
    )


def test_a_doctype_in_utf16_is_refused_too(tmp_path: Path) -> None:
    path = xlsx(tmp_path / "wide.xlsx", {"Data": data(HEADER)})
    part = "xl/worksheets/sheet1.xml"
    with zipfile.ZipFile(path) as package:
        items = [(info.filename, package.read(info)) for info in package.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        for name, content in items:
            if name == part:
                text = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY a "b">]>'
                content = (text + content.decode()).encode("utf-16")
                assert b"<!DOCTYPE" not in content  # a byte scan would not see it
            package.writestr(name, content)
    with pytest.raises(WorkbookUnreadable, match="declares XML entities"):
        read_workbook(path)


def test_a_read_past_the_time_bound_stops_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_example(tmp_path / "desk.xlsx")
    monkeypatch.setattr(archive, "MAX_READ_SECONDS", -1)
    with pytest.raises(WorkbookUnreadable) as caught:
        read_workbook(path)
    assert str(caught.value) == (
        f"{path}: reading the workbook took more than -1 seconds, far longer than a workbook at "
        "Excel's row limit takes; it is refused. Open it in Excel or LibreOffice, delete unused "
        "rows and columns, and save it again"
    )


def test_more_cells_than_the_limit_are_refused_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_example(tmp_path / "desk.xlsx")
    kept = sum(len(row.cells) + 0 for sheet in read_workbook(path).sheets for row in sheet.rows)
    kept += sum(1 for sheet in read_workbook(path).sheets for _ in sheet.headers)
    monkeypatch.setattr(archive, "MAX_CELLS", kept)
    assert read_workbook(path).sheet("Figures") is not None  # exactly at the limit: read
    monkeypatch.setattr(archive, "MAX_CELLS", kept - 1)
    with pytest.raises(WorkbookUnreadable) as caught:
        read_workbook(path)
    assert str(caught.value).startswith(f"{path}: the workbook holds more than ")
    assert "\n" not in str(caught.value)


def test_merged_ranges_filling_more_than_the_limit_are_refused_in_one_line(
    tmp_path: Path,
) -> None:
    # One stray cell in the last column widens the sheet: the range would fill 70 rows of it.
    rows = "".join(f'<row r="{n}"><c r="A{n}"><v>{n}</v></c></row>' for n in range(2, 71))
    rows += '<row r="71"><c r="XFD71"><v>1</v></c></row>'
    after = '<mergeCells count="1"><mergeCell ref="A1:XFD1048576"/></mergeCells>'
    path = xlsx(tmp_path / "huge.xlsx", {"Data": data(HEADER + rows, after)})
    with pytest.raises(WorkbookUnreadable) as caught:
        read_workbook(path)
    assert str(caught.value) == (
        f"{path}: the sheet 'Data' merges more than 1,048,576 of the cells it holds "
        "(A1:XFD1048576); unmerge them in Excel or LibreOffice and save it again"
    )


@pytest.mark.parametrize(
    "sheet",
    [
        pytest.param(data('<row r="1"><c r="A1" t="s"><v>99</v></c></row>'), id="no-such-string"),
        pytest.param(data('<row r="1"><c r="A1" s="40"><v>1</v></c></row>'), id="no-such-style"),
        pytest.param(data('<row r="1"><c r="1A"><v>1</v></c></row>'), id="bad-reference"),
        pytest.param(data('<row r="1"><c r="A1"><v>eighty</v></c></row>'), id="bad-number"),
        pytest.param(data('<row r="1"><c r="A1"><v>1</v></row>'), id="bad-xml"),
    ],
)
def test_a_damaged_sheet_is_one_line(tmp_path: Path, sheet: str) -> None:
    path = xlsx(tmp_path / "damaged.xlsx", {"Data": sheet})
    with pytest.raises(WorkbookUnreadable) as caught:
        read_workbook(path)
    assert str(caught.value).startswith(f"{path}: the workbook cannot be read (")
    assert str(caught.value).endswith("); open it in Excel or LibreOffice and save it again")
    with pytest.raises(Exception):  # noqa: B017, PT011 - openpyxl refuses it too, its own way
        read_with_openpyxl(path)


# ---------------------------------------------------------------------------- progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_told_each_megabyte_and_the_end(tmp_path: Path) -> None:
    rows = "".join(
        f'<row r="{i}"><c r="A{i}" t="inlineStr"><is><t>row {i}</t></is></c></row>'
        for i in range(2, 60_000)
    )
    path = xlsx(tmp_path / "big.xlsx", {"Data": data(HEADER + rows)})
    calls: list[tuple[int, int]] = []
    read_workbook(path, lambda done, total: calls.append((done, total)))
    assert len(calls) >= 3
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert calls[-1][0] == calls[-1][1] > 3_000_000


def test_terminal_progress_shows_on_a_terminal_after_its_delay_only() -> None:
    terminal = _Terminal()
    shown = TerminalProgress(Path("desk.xlsx"), terminal, after=0)
    shown(50, 100)
    shown(60, 100)
    assert terminal.getvalue() == "\rReading desk.xlsx: 50%\rReading desk.xlsx: 60%"
    shown(100, 100)
    assert terminal.getvalue().endswith("\r" + " " * 23 + "\r")

    waiting = _Terminal()
    TerminalProgress(Path("desk.xlsx"), waiting, after=60)(50, 100)
    piped = io.StringIO()
    TerminalProgress(Path("desk.xlsx"), piped, after=0)(50, 100)
    assert waiting.getvalue() == piped.getvalue() == ""


def test_terminal_progress_prints_a_file_name_without_its_control_sequences() -> None:
    """A file in a folder of workbooks may be named to retitle the terminal that lists it."""
    terminal = _Terminal()
    TerminalProgress(Path("desk\x1b]0;pwned\x07\x9b2J.xlsx"), terminal, after=0)(50, 100)
    assert terminal.getvalue() == "\rReading desk.xlsx: 50%"


@needs_office
@pytest.mark.office
def test_a_workbook_saved_by_libreoffice_reads_as_openpyxl_reads_it(tmp_path: Path) -> None:
    """LibreOffice writes shared strings, its own styles and number formats, and spans."""
    from tests.test_office import soffice_convert

    source = write_example(tmp_path / "desk.xlsx")
    saved = soffice_convert(
        source, "xlsx:Calc MS Excel 2007 XML", tmp_path / "saved", tmp_path / "profile"
    )
    with zipfile.ZipFile(saved) as package:
        assert "xl/sharedStrings.xml" in package.namelist()
    raw = same_as_openpyxl(saved)
    figures = raw.sheet("Figures")
    assert figures is not None
    assert figures.rows == same_as_openpyxl(source).sheet("Figures").rows  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "odd",
    [
        pytest.param("<!-- a comment between rows -->", id="comment"),
        pytest.param('<row r="30001"><c r="A30001"><v><![CDATA[12]]></v></c></row>', id="cdata"),
        pytest.param('<row r="30001"><c t="n" r="A30001"><v>7</v></c></row>', id="attribute-order"),
        pytest.param('<row r="30001"><c r="A30001" t="str"><v>a\r\nb</v></c></row>', id="crlf"),
        pytest.param(
            '<row r="30001"><c r="A30001" t="str"><v>&#x41;&#66;</v></c></row>', id="refs"
        ),
        pytest.param('<row r="30001" xmlns:x="urn:x"><c r="A30001"><v>1</v></c></row>', id="xmlns"),
        pytest.param('<row r="30001"><c r="A030001"><v>1</v></c></row>', id="leading-zero"),
        pytest.param('<row r="30001"><c r="A30002"><v>1</v></c></row>', id="cell-of-another-row"),
    ],
)
def test_rows_in_another_form_among_plain_ones_read_as_openpyxl_reads_them(
    tmp_path: Path, odd: str
) -> None:
    """Plain rows are read without expat, a row in any other form by expat, over many chunks."""
    before = "".join(
        f'<row r="{i}"><c r="A{i}" t="inlineStr"><is><t>row {i} &amp; more</t></is></c>'
        f'<c r="B{i}" s="1"><v>{45000 + i % 300}</v></c></row>'
        for i in range(2, 30001)
    )
    after = "".join(
        f'<row r="{i}"><c r="A{i}"><v>{i}</v></c><c r="C{i}" t="s"><v>{i % 6}</v></c></row>'
        for i in range(30002, 45000)
    )
    path = xlsx(tmp_path / "mixed.xlsx", {"Data": data(HEADER + before + odd + after)})
    with zipfile.ZipFile(path) as package:
        assert package.getinfo("xl/worksheets/sheet1.xml").file_size > 2 * sheetxml.CHUNK
    raw = same_as_openpyxl(path)
    found = raw.sheet("Data")
    assert found is not None
    assert found.rows[-1].number == 44999


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        pytest.param(
            '<row r="5"><c r="A5" t="inlineStr"><is><t>a</t></is></c></row>'
            '<row r="10"><c r="A10"><v>1</v></c></row><row r="3"><c r="A3"><v>3</v></c></row>'
            '<row r="5"><c r="B5" t="inlineStr"><is><t>b</t></is></c></row>',
            {"A5": RawCell("A5", "a"), "B5": RawCell("B5", "b")},
            id="a-row-again-after-rows-out-of-order",
        ),
        pytest.param(
            '<row r="10"><c r="A10"><v>1</v></c><c r="E11"><v>2</v></c><c r="F10"><v>3</v></c>'
            '</row><row r="11"><c r="A11"><v>4</v></c></row>',
            {"E11": RawCell("E11", 2), "A11": RawCell("A11", 4)},
            id="a-row-holding-a-cell-of-the-next",
        ),
    ],
)
def test_a_plain_row_never_drops_cells_read_before_it(
    tmp_path: Path, rows: str, expected: dict[str, RawCell]
) -> None:
    """Rows of plain values are read at once only while the sheet's cells come in order."""
    found = cells(same_as_openpyxl(xlsx(tmp_path / "order.xlsx", {"Data": data(HEADER + rows)})))
    assert {coordinate: found.get(coordinate) for coordinate in expected} == expected


@pytest.mark.no_oracle
def test_a_text_cell_with_a_style_the_workbook_lacks_is_refused_in_a_plain_row_too(
    tmp_path: Path,
) -> None:
    row = '<row r="2"><c r="A2" s="99" t="inlineStr"><is><t>hi</t></is></c></row>'
    path = xlsx(tmp_path / "styled.xlsx", {"Data": data(HEADER + row)})
    with pytest.raises(WorkbookUnreadable):
        read_workbook(path)


class _Recorder:
    """A RowConsumer keeping what it is given, and how many rows came by their shape."""

    def __init__(self) -> None:
        self.rows: list[tuple[RawRow, bool]] = []
        self.shaped = 0

    def take(self, row: RawRow, hidden: bool) -> None:
        self.rows.append((row, hidden))

    def take_shaped(
        self,
        shape: RowShape,
        numbers: Sequence[int],
        hidden: Collection[int],
        keys: Sequence[Sequence[bytes | None]],
        values: Sequence[Sequence[CellValue | NoCell]],
    ) -> None:
        self.shaped += len(numbers)
        self.rows.extend((row, row.number in hidden) for row in shape.rows(numbers, values))

    def restart(self) -> None:
        self.rows.clear()
        self.shaped = 0


def _shaped_row(number: int, text: str | None = None, *, day: str = "", shared: str = "") -> str:
    """A row in the shape most rows of the test below have: inline text, a date, a shared
    string, a percentage and an empty cell (as Excel keeps a formatted one)."""
    text = f"row {number}" if text is None else text
    return (
        f'<row r="{number}"><c r="A{number}" t="inlineStr"><is><t>{text}</t></is></c>'
        f'<c r="B{number}" s="1"><v>{day or 45000 + number % 300}</v></c>'
        f'<c r="C{number}" t="s"><v>{shared or (0, 2, 5)[number % 3]}</v></c>'
        f'<c r="D{number}" s="2"><v>0.{number % 90 + 10}</v></c><c r="E{number}" s="1"/></row>'
    )


@pytest.mark.parametrize(
    "odd",
    [
        pytest.param(_shaped_row(30).replace('"30"', '"30" hidden="1"', 1), id="hidden"),
        pytest.param(_shaped_row(30, shared="1"), id="blank-shared-string"),
        pytest.param(_shaped_row(30, "   "), id="blank-inline-text"),
        pytest.param(_shaped_row(30, "line_x000D_break"), id="escape"),
        pytest.param(_shaped_row(30, "a &amp; b"), id="entity"),
        pytest.param(_shaped_row(30, day="99999999"), id="date-past-the-calendar"),
        pytest.param(_shaped_row(30, shared="99"), id="shared-string-not-there"),
        pytest.param(_shaped_row(30).replace('"C30"', '"C31"'), id="cell-of-another-row"),
        pytest.param(_shaped_row(30) + _shaped_row(29), id="row-out-of-order"),
        pytest.param(
            _shaped_row(30) + '<row r="30"><c r="F30"><v>7</v></c></row>', id="row-again-further-on"
        ),
        pytest.param(
            '<row r="30"><c r="F29"><v>7</v></c></row>' + _shaped_row(30),
            id="cell-of-the-row-before-further-on",
        ),
        pytest.param(_shaped_row(30).replace('"30"', '"30" spans="1:4" ht="20"', 1), id="attrs"),
        pytest.param(_shaped_row(30).replace('s="1"/>', "/>"), id="empty-cell-without-style"),
        pytest.param(_shaped_row(30).replace('s="1"/>', 's="1"></c>'), id="empty-cell-closed"),
        pytest.param(_shaped_row(30).replace('s="1"/>', 's="99"/>'), id="empty-cell-bad-style"),
        pytest.param(_shaped_row(30).replace('s="1"/>', 't="e"/>'), id="empty-error-cell"),
        pytest.param(_shaped_row(30).replace('<c r="E30" s="1"/>', ""), id="no-empty-cell"),
        pytest.param(re.sub(r'<c r="D30".*?</c>', "", _shaped_row(30)), id="without-a-percentage"),
        pytest.param('<row r="30"><c r="E30" s="1"/></row>', id="only-an-empty-cell"),
        pytest.param('<row r="30"></row>', id="no-cells"),
        pytest.param(
            _shaped_row(30).replace('t="inlineStr"><is><t>row 30</t></is>', "><v>30</v>"),
            id="a-number-where-text-was",
        ),
        pytest.param(_shaped_row(30).replace('s="2"', 's="0"'), id="another-style"),
    ],
)
def test_rows_given_as_their_shape_are_the_rows_the_sheet_holds(tmp_path: Path, odd: str) -> None:
    """Rows like the plain rows before them are matched whole and given as their shape; a row
    that only looks like them (a blank, an escape, an error) is read as every other row is."""
    rows = "".join(_shaped_row(number) for number in range(2, 30))
    rows += odd + "".join(_shaped_row(number) for number in range(31, 60))
    path = xlsx(tmp_path / "shaped.xlsx", {"Data": data(HEADER + rows)})
    recorder = _Recorder()
    try:
        whole = same_as_openpyxl(path)
        streamed = read_workbook(path, None, lambda name: recorder)
    except WorkbookUnreadable:
        with pytest.raises(WorkbookUnreadable):
            read_workbook(path, None, lambda name: _Recorder())
        return
    sheet = whole.sheet("Data")
    assert sheet is not None
    hidden = set(sheet.hidden_rows)
    if streamed.sheets[0].streamed:
        assert recorder.shaped > 40
        assert recorder.rows[1:] == [(row, row.number in hidden) for row in sheet.rows]
    else:  # read again whole, as rows out of order are
        assert streamed == whole


@pytest.mark.parametrize(
    ("merged", "expected"),
    [
        pytest.param("A3:E5", {"B4": "row 3", "E5": "row 3"}, id="over-empty-cells"),
        pytest.param("E3:F4", {"E4": None, "F3": None}, id="from-an-empty-cell"),
        pytest.param(
            "B40:E42", {"D41": dt.datetime.fromisoformat("2023-04-24"), "A41": "row 41"}, id="down"
        ),
    ],
)
def test_merged_ranges_over_plain_rows_with_empty_cells_read_as_openpyxl_reads_them(
    tmp_path: Path, merged: str, expected: dict[str, CellValue]
) -> None:
    """Empty cells in plain rows bound where a merged range fills, as they do in any row."""
    rows = "".join(_shaped_row(number) for number in range(2, 60))
    after = f'<mergeCells count="1"><mergeCell ref="{merged}"/></mergeCells>'
    path = xlsx(tmp_path / "merged.xlsx", {"Data": data(HEADER + rows, after)})
    raw = read_workbook(path)
    assert raw == read_with_openpyxl(path)
    found = cells(raw)
    assert {place: getattr(found.get(place), "value", None) for place in expected} == expected


def test_rows_whose_cells_alternate_between_styles_are_given_as_the_sheet_holds_them(
    tmp_path: Path,
) -> None:
    """A column whose cells take two styles (a highlighted cell) keeps rows in one shape."""
    rows = "".join(
        _shaped_row(number).replace('s="2"', 's="0"') if number % 3 == 0 else _shaped_row(number)
        for number in range(2, 90)
    )
    path = xlsx(tmp_path / "styled.xlsx", {"Data": data(HEADER + rows)})
    whole = same_as_openpyxl(path)
    recorder = _Recorder()
    read_workbook(path, None, lambda name: recorder)
    sheet = whole.sheet("Data")
    assert sheet is not None
    assert recorder.shaped > 80
    assert recorder.rows[1:] == [(row, False) for row in sheet.rows]


def _restyled(number: int, style: int) -> str:
    """A row of _shaped_row's with a style of its own in three columns, so that rows of two
    styles never share a shape (a shape takes new forms in at most two columns at once)."""
    style_text = f' s="{style}"'
    return (
        _shaped_row(number)
        .replace(f'"A{number}"', f'"A{number}"{style_text}')
        .replace(f'"C{number}"', f'"C{number}"{style_text}')
        .replace(f'"D{number}" s="2"', f'"D{number}"{style_text}')
    )


@pytest.mark.parametrize("shapes", [sheetxml.MAX_SHAPES, 4])
def test_rows_cycling_among_many_shapes_are_learned_from_a_few_times_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shapes: int
) -> None:
    """Rows cycling among more shapes than are tried (or than a sheet learns) are mostly read
    one by one: learning from each such row took five to seven times the read's own time."""
    monkeypatch.setattr(sheetxml, "MAX_SHAPES", shapes)
    learned: list[int] = []

    def counted(data: bytes, start: int, close: int) -> dict[int, _Slot]:
        learned.append(start)
        return _row_slots(data, start, close)

    monkeypatch.setattr(sheetxml, "_row_slots", counted)

    # Ten shapes, each with a style of its own in three columns: none grows another.
    rows = "".join(_restyled(number, number % 10) for number in range(2, 2002))
    path = xlsx(tmp_path / "cycling.xlsx", {"Data": data(HEADER + rows)})
    sheet = same_as_openpyxl(path).sheet("Data")
    assert sheet is not None
    recorder = _Recorder()
    learned.clear()
    read_workbook(path, None, lambda name: recorder)
    assert recorder.rows[1:] == [(row, False) for row in sheet.rows]
    assert len(learned) < 100


@pytest.mark.parametrize(
    ("rhythm", "shaped_at_most"),
    [
        pytest.param(lambda number: number % 2, 200, id="two-shapes-in-turn"),
        pytest.param(lambda number: number % 6, 200, id="cycling-among-six"),
        pytest.param(lambda n: 0 if n < 1000 else n % 2, 1200, id="alike-then-turns"),
        pytest.param(lambda n: n % 2 if n < 1000 else 0, 1200, id="turns-then-alike"),
    ],
)
def test_rows_the_shapes_take_a_row_at_a_time_pause_them(
    tmp_path: Path, rhythm: Callable[[int], int], shaped_at_most: int
) -> None:
    """Rows that shapes take poorly (a row a batch, or none of the shapes tried) are read one
    by one for a while, twice as long each time: matching them cost more than it saved. The
    rows given are the sheet's all the same, and rows alike after them are shaped again."""
    rows = "".join(_restyled(number, 3 + rhythm(number)) for number in range(2, 2002))
    path = xlsx(tmp_path / "poorly.xlsx", {"Data": data(HEADER + rows)})
    sheet = same_as_openpyxl(path).sheet("Data")
    assert sheet is not None
    recorder = _Recorder()
    read_workbook(path, None, lambda name: recorder)
    assert recorder.rows[1:] == [(row, False) for row in sheet.rows]
    assert recorder.shaped <= shaped_at_most
    if rhythm(1500) == rhythm(1501):  # alike at the end: shaped again after a pause at most
        assert recorder.shaped >= 1000 - sheetxml.MAX_PAUSE
