"""briefing/workbook.py: what `init` writes, how any .xlsx is read, and which files are refused.

Every workbook here is built in code in tmp_path: with workbook_bytes, openpyxl, or by editing the
XML inside the zip, the way Excel and LibreOffice would have saved it.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import time
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree

import openpyxl
import pytest
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet
from typer.testing import CliRunner

from briefing import archive, workbook
from briefing.cli import app
from briefing.errors import WorkbookUnreadable
from briefing.model import Problem, RawCell, RawWorkbook
from briefing.pipeline import check_workbook, example_records, load_dossier
from briefing.schema import (
    FIELD_HEADER,
    GUIDE_SHEET,
    SCHEMA,
    SHEETS,
    DemandRow,
    FigureRow,
    Kind,
    Layout,
    SheetSpec,
)
from briefing.workbook import read_workbook, workbook_bytes
from tests.conftest import (
    OLE2_HEADER,
    BadFile,
    csv_file,
    docx_file,
    empty_file,
    field_row,
    folder,
    missing,
    truncated_zip,
    write_zip,
    xls_file,
)

RECORD_SPECS = [spec for spec in SHEETS if spec.layout is Layout.RECORDS]
NO_SAVED_VALUE = (
    "the formula has no saved value; open the workbook in Excel or LibreOffice, let it "
    "calculate, and save it"
)
MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"


# ---------------------------------------------------------------------------- helpers


def letter_of(spec: SheetSpec, header: str) -> str:
    """The column letter `init` gives a header."""
    headers = [column.header for column in spec.columns]
    return openpyxl.utils.get_column_letter(headers.index(header) + 1)


def write_example(path: Path) -> Path:
    path.write_bytes(workbook_bytes(*example_records()))
    return path


def edit_book(path: Path, edit: Callable[[openpyxl.Workbook], object]) -> None:
    book = openpyxl.load_workbook(path)
    edit(book)
    book.save(path)


def sheet_part(archive: zipfile.ZipFile, name: str) -> str:
    """The zip member holding the sheet called `name`, found through the workbook's rels."""
    book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {
        rel.get("Id"): rel.get("Target", "") for rel in rels.iter(f"{PKG_REL_NS}Relationship")
    }
    for sheet in book.iter(f"{MAIN_NS}sheet"):
        if sheet.get("name") == name:
            target = targets[sheet.get(f"{REL_NS}id")]
            return (
                target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl", target))
            )
    raise KeyError(name)


def patch_sheet_xml(path: Path, sheet: str, change: Callable[[str], str]) -> None:
    """Rewrite one sheet's XML inside the zip, keeping every other member as it was."""
    with zipfile.ZipFile(path) as archive:
        member = sheet_part(archive, sheet)
        items = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in items:
            if info.filename == member:
                changed = change(data.decode("utf-8"))
                assert changed != data.decode("utf-8"), "the patch changed nothing"
                data = changed.encode("utf-8")
            archive.writestr(info.filename, data)


def cell_xml(text: str, coordinate: str) -> str:
    match = re.search(rf'<c r="{coordinate}"(?:\s[^>]*?)?(?:/>|>.*?</c>)', text, re.DOTALL)
    assert match, f"no cell {coordinate} in the sheet XML"
    return match.group(0)


def replace_cell(path: Path, sheet: str, coordinate: str, new_xml: str) -> None:
    patch_sheet_xml(path, sheet, lambda text: text.replace(cell_xml(text, coordinate), new_xml, 1))


def problems_at(path: Path, sheet: str) -> list[Problem]:
    return [p for p in check_workbook(path).problems if p.sheet == sheet]


def raw_cell(raw: RawWorkbook, sheet: str, coordinate: str) -> RawCell | None:
    found = raw.sheet(sheet)
    assert found is not None
    row = int(re.sub(r"[A-Z]", "", coordinate))
    letter = re.sub(r"\d", "", coordinate)
    for record in found.rows:
        if record.number == row:
            return record.cells.get(letter)
    return None


def validations(sheet: Worksheet) -> list[DataValidation]:
    return list(sheet.data_validations.dataValidation)


def covering(sheet: Worksheet, coordinate: str) -> list[DataValidation]:
    return [dv for dv in validations(sheet) if coordinate in dv.sqref]


# ---------------------------------------------------------------------------- init


@pytest.fixture(scope="module", params=[False, True], ids=["blank", "example"])
def inited(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workbook written by the `briefing init` command, blank or with --example."""
    name = "example.xlsx" if request.param else "blank.xlsx"
    path = tmp_path_factory.mktemp("init") / name
    args = ["init", str(path)] + (["--example"] if request.param else [])
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert result.output == f"Wrote {path}\n"
    return path


@pytest.fixture(scope="module")
def inited_book(inited: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(inited)


def test_init_writes_every_schema_sheet_then_the_guide(inited_book: openpyxl.Workbook) -> None:
    assert inited_book.sheetnames == [spec.name for spec in SHEETS] + [GUIDE_SHEET]


@pytest.mark.parametrize("spec", RECORD_SPECS, ids=lambda spec: spec.name)
def test_init_records_sheet_headers_in_schema_order(
    inited_book: openpyxl.Workbook, spec: SheetSpec
) -> None:
    sheet = inited_book[spec.name]
    headers = [cell.value for cell in sheet[1]]
    assert headers == [column.header for column in spec.columns]


@pytest.mark.parametrize("spec", RECORD_SPECS, ids=lambda spec: spec.name)
def test_init_records_sheet_is_a_table_with_a_frozen_header(
    inited_book: openpyxl.Workbook, spec: SheetSpec
) -> None:
    sheet = inited_book[spec.name]
    assert sheet.freeze_panes == "A2"
    assert len(sheet.tables) == 1
    table = next(iter(sheet.tables.values()))
    last = openpyxl.utils.get_column_letter(len(spec.columns))
    assert re.fullmatch(rf"A1:{last}\d+", table.ref), table.ref
    assert int(table.ref.rsplit(last, 1)[1]) == max(2, sheet.max_row)
    assert [column.name for column in table.tableColumns] == [c.header for c in spec.columns]


def test_init_table_names_are_unique(inited_book: openpyxl.Workbook) -> None:
    names = [name for sheet in inited_book.worksheets for name in sheet.tables]
    assert len(names) == len(RECORD_SPECS)
    assert len(set(names)) == len(names)


@pytest.mark.parametrize("spec", RECORD_SPECS, ids=lambda spec: spec.name)
def test_init_dropdown_for_every_choice_column_lists_exactly_its_codes(
    inited_book: openpyxl.Workbook, spec: SheetSpec
) -> None:
    sheet = inited_book[spec.name]
    for column in spec.columns:
        letter = letter_of(spec, column.header)
        lists = [dv for dv in covering(sheet, f"{letter}2") if dv.type == "list"]
        if column.kind is not Kind.CHOICE:
            assert lists == [], f"{spec.name}!{letter} ({column.header}) has a dropdown"
            continue
        assert column.vocabulary is not None
        assert len(lists) == 1, f"{spec.name}!{letter} ({column.header})"
        dropdown = lists[0]
        formula = dropdown.formula1
        assert formula is not None
        assert formula.startswith('"')
        assert formula.endswith('"')
        assert formula[1:-1].split(",") == list(column.vocabulary.codes)
        # The dropdown reaches far below the header, where analysts keep adding rows.
        assert f"{letter}1000" in dropdown.sqref
        assert f"{letter}1" not in dropdown.sqref
        assert dropdown.showErrorMessage


def test_init_every_choice_column_gets_a_dropdown(inited_book: openpyxl.Workbook) -> None:
    expected = sum(1 for spec in SHEETS for c in spec.columns if c.kind is Kind.CHOICE)
    found = sum(
        1 for spec in SHEETS for dv in validations(inited_book[spec.name]) if dv.type == "list"
    )
    assert found == expected


@pytest.mark.parametrize("spec", RECORD_SPECS, ids=lambda spec: spec.name)
def test_init_input_message_on_every_column(
    inited_book: openpyxl.Workbook, spec: SheetSpec
) -> None:
    sheet = inited_book[spec.name]
    for column in spec.columns:
        letter = letter_of(spec, column.header)
        prompts = [dv for dv in covering(sheet, f"{letter}2") if dv.showInputMessage]
        assert len(prompts) == 1, f"{spec.name}!{letter} ({column.header})"
        prompt, title = prompts[0].prompt, prompts[0].promptTitle
        assert prompt is not None
        assert title is not None
        assert prompt.startswith(column.help)
        assert title.startswith(column.header[:20])
        assert title.endswith("(required)") == column.required
        assert len(prompt) <= 255


def test_init_briefing_sheet_has_field_value_rows(inited_book: openpyxl.Workbook) -> None:
    spec = SCHEMA.sheet("Briefing")
    sheet = inited_book["Briefing"]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(max_col=3)]
    assert tuple(rows[0]) == FIELD_HEADER
    assert [row[0] for row in rows[1:]] == [column.header for column in spec.columns]
    assert [row[2] for row in rows[1:]] == [column.help for column in spec.columns]
    assert sheet.freeze_panes == "A2"


def test_init_briefing_values_have_input_messages_and_handling_dropdown(
    inited_book: openpyxl.Workbook,
) -> None:
    spec = SCHEMA.sheet("Briefing")
    sheet = inited_book["Briefing"]
    for row, column in enumerate(spec.columns, start=2):
        prompts = [dv for dv in covering(sheet, f"B{row}") if dv.showInputMessage]
        assert len(prompts) == 1, column.header
        prompt = prompts[0].prompt
        assert prompt is not None
        assert prompt.startswith(column.help)
        lists = [dv for dv in covering(sheet, f"B{row}") if dv.type == "list"]
        if column.kind is Kind.CHOICE:
            assert column.vocabulary is not None
            assert [dv.formula1 for dv in lists] == [f'"{",".join(column.vocabulary.codes)}"']
        else:
            assert lists == []
    handling_row = 2 + [c.header for c in spec.columns].index("Handling")
    assert sheet.cell(row=handling_row, column=1).value == "Handling"


def test_init_guide_has_one_row_per_column_of_every_sheet(inited_book: openpyxl.Workbook) -> None:
    guide = inited_book[GUIDE_SHEET]
    rows = [[cell.value for cell in row] for row in guide.iter_rows(min_row=2, max_col=7)]
    expected = [(spec.name, column) for spec in SHEETS for column in spec.columns]
    assert [(row[0], row[1]) for row in rows] == [(name, c.header) for name, c in expected]
    for row, (name, column) in zip(rows, expected, strict=True):
        where = f"{name}/{column.header}"
        assert (row[2] == "yes") == column.required, where
        assert row[3] == str(column.kind), where
        assert row[5] == column.help, where
        if column.kind is Kind.CHOICE:
            assert row[4] == column.allowed, where
        if column.refers_to:
            assert row[4] == "an ID from " + " or ".join(SCHEMA.targets(column)), where
    assert guide.freeze_panes == "A2"


def test_init_every_dropdown_is_under_excels_255_character_limit(
    inited_book: openpyxl.Workbook,
) -> None:
    lists = [
        (sheet.title, dv.formula1)
        for sheet in inited_book.worksheets
        for dv in validations(sheet)
        if dv.type == "list"
    ]
    assert lists, "no dropdowns at all"
    for title, formula in lists:
        assert formula is not None, title
        assert len(formula) <= 255, (title, formula)


def test_init_reads_back_as_the_schema(inited: Path) -> None:
    raw = read_workbook(inited)
    assert [sheet.name for sheet in raw.sheets] == [spec.name for spec in SHEETS] + [GUIDE_SHEET]
    for spec in RECORD_SPECS:
        sheet = raw.sheet(spec.name)
        assert sheet is not None
        assert sheet.header_row == 1
        letters = [openpyxl.utils.get_column_letter(i) for i in range(1, len(spec.columns) + 1)]
        assert sheet.headers == tuple(zip(letters, (c.header for c in spec.columns), strict=True))


def test_init_blank_has_no_records_and_example_round_trips(inited: Path) -> None:
    raw = read_workbook(inited)
    records, briefing = example_records()
    is_example = inited.name == "example.xlsx"
    for spec in RECORD_SPECS:
        sheet = raw.sheet(spec.name)
        assert sheet is not None
        expected = len(records[spec.name]) if is_example else 0
        assert len(sheet.rows) == expected, spec.name
    if is_example:
        dossier = load_dossier(inited)
        assert dossier.briefing.title == briefing["Title"]
        assert dossier.briefing.date == dt.date(2024, 6, 14)
        assert [f.value for f in dossier.rows(FigureRow)] == [
            row["Value"] for row in records["Figures"]
        ]
        assert [d.id for d in dossier.rows(DemandRow)] == [row["ID"] for row in records["Demands"]]
    else:
        title = raw_cell(raw, "Briefing", f"B{field_row('Title')}")
        assert title is None


# ---------------------------------------------------------------------------- text stays text

FORMULA_LIKE = [
    "=1+2",
    '=HYPERLINK("http://example.org","click")',
    "@SUM(A1:A2)",
    "=",
    "@",
    "+cmd|' /C calc'!A0",
    "-2+3",
]


def test_text_starting_with_equals_or_at_is_written_as_text(tmp_path: Path) -> None:
    headers = ("Demand", "Detail", "Quote", "Note", "Category", "Party", "ID")
    texts = dict(zip(headers, FORMULA_LIKE, strict=True))
    texts["Source"] = "S1"
    briefing = {"Title": "=TODAY()", "BLUF": "@risk: Moscow's terms", "Subject": "=A1"}
    path = tmp_path / "text.xlsx"
    path.write_bytes(workbook_bytes({"Demands": [texts]}, briefing))

    book = openpyxl.load_workbook(path)
    spec = SCHEMA.sheet("Demands")
    for header, text in texts.items():
        cell = book["Demands"][f"{letter_of(spec, header)}2"]
        assert cell.value == text, header
        assert cell.data_type == "s", header
    fields = {row[0].value: row[1] for row in book["Briefing"].iter_rows(min_row=2)}
    for header, text in briefing.items():
        assert fields[header].value == text
        assert fields[header].data_type == "s"

    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/sheet"):
                assert b"<f>" not in archive.read(name), name

    raw = read_workbook(path)
    for header, text in texts.items():
        cell = raw_cell(raw, "Demands", f"{letter_of(spec, header)}2")
        assert cell == RawCell(f"{letter_of(spec, header)}2", text), header


def test_text_formula_like_values_are_not_reported_as_formulas(tmp_path: Path) -> None:
    records, briefing = example_records()
    first, *rest = records["Demands"]
    records = {**records, "Demands": [{**first, "Note": "=not a formula"}, *rest]}
    path = tmp_path / "desk.xlsx"
    path.write_bytes(workbook_bytes(records, briefing))
    assert not [p for p in check_workbook(path).problems if "formula" in p.message]
    assert load_dossier(path).rows(DemandRow)[0].note == "=not a formula"


# ---------------------------------------------------------------------------- reading

FIGURES = SCHEMA.sheet("Figures")


def test_columns_in_any_order(tmp_path: Path) -> None:
    path = write_example(tmp_path / "desk.xlsx")
    before = load_dossier(path)

    def reverse_figures(book: openpyxl.Workbook) -> None:
        old = book["Figures"]
        rows = [[cell.value for cell in row] for row in old.iter_rows()]
        index = book.sheetnames.index("Figures")
        book.remove(old)
        new = book.create_sheet("Figures", index)
        for row in rows:
            new.append(list(reversed(row)))

    edit_book(path, reverse_figures)
    headers = [column.header for column in FIGURES.columns]
    assert openpyxl.load_workbook(path)["Figures"]["A1"].value == headers[-1]
    after = load_dossier(path)
    assert after.rows(FigureRow) == before.rows(FigureRow)

    def reversed_letter(header: str) -> str:
        return openpyxl.utils.get_column_letter(len(headers) - headers.index(header))

    assert after.rows(FigureRow)[0].coordinates["value"] == f"{reversed_letter('Value')}2"
    assert after.rows(FigureRow)[0].coordinates["id"] == f"{reversed_letter('ID')}2"
    assert not problems_at(path, "Figures")


@pytest.mark.parametrize(
    "header",
    ["  claimed   BY ", "Claimed\u00a0by", "CLAIMED BY", "claimed\u00a0\u00a0 by\t"],
    ids=["spaces-and-case", "non-breaking-space", "upper-case", "mixed-whitespace"],
)
def test_header_case_and_spacing_do_not_matter(tmp_path: Path, header: str) -> None:
    path = write_example(tmp_path / "desk.xlsx")
    before = load_dossier(path)
    letter = letter_of(FIGURES, "Claimed by")

    def rename(book: openpyxl.Workbook) -> None:
        book["Figures"][f"{letter}1"] = header
        book["Figures"][f"{letter_of(FIGURES, 'Metric')}1"] = " metric "

    edit_book(path, rename)
    raw = read_workbook(path).sheet("Figures")
    assert raw is not None
    assert (letter, header) in raw.headers  # read as written; matched loosely later
    after = load_dossier(path)
    assert [f.claimed_by for f in after.rows(FigureRow)] == [
        f.claimed_by for f in before.rows(FigureRow)
    ]
    assert after.rows(FigureRow)[0].claimed_by == "Russia"
    assert not problems_at(path, "Figures")


def test_blank_rows_between_records_and_trailing_empty_rows_are_skipped(tmp_path: Path) -> None:
    path = write_example(tmp_path / "desk.xlsx")
    count = len(load_dossier(path).rows(FigureRow))

    def spread(book: openpyxl.Workbook) -> None:
        sheet = book["Figures"]
        sheet.insert_rows(4, amount=2)  # rows 4 and 5 blank between records
        last = sheet.max_row
        sheet.cell(row=last + 3, column=2).number_format = "yyyy-mm-dd"  # styled, no value
        sheet.cell(row=last + 4, column=3, value="   ")  # only spaces
        sheet.cell(row=last + 5, column=1, value="")  # empty text
        sheet.cell(row=last + 60, column=14, value=" \u00a0 ")

    edit_book(path, spread)
    raw = read_workbook(path).sheet("Figures")
    assert raw is not None
    numbers = [row.number for row in raw.rows]
    assert numbers == [2, 3, *range(6, 6 + count - 2)]
    assert len(load_dossier(path).rows(FigureRow)) == count
    assert not problems_at(path, "Figures")


def test_dates_are_read_as_real_dates(tmp_path: Path) -> None:
    path = write_example(tmp_path / "desk.xlsx")
    letter = letter_of(FIGURES, "Date")

    def dates(book: openpyxl.Workbook) -> None:
        book["Figures"][f"{letter}3"] = dt.datetime(2024, 6, 13, 0, 0)  # noqa: DTZ001 - Excel cells hold no time zone
        book["Figures"][f"{letter}3"].number_format = "d mmmm yyyy"
        book["Figures"][f"{letter}4"] = dt.date(2024, 6, 12)

    edit_book(path, dates)
    raw = read_workbook(path)
    # init writes the example's ISO text as a real date, not as text
    # Excel dates hold no time zone: cells read back as naive datetimes.
    midnight = dt.datetime(2024, 6, 14, 0, 0)  # noqa: DTZ001 - a cell's value, as read
    assert raw_cell(raw, "Figures", f"{letter}2") == RawCell(f"{letter}2", midnight)
    date = f"B{field_row('Date')}"
    assert raw_cell(raw, "Briefing", date) == RawCell(date, midnight)
    figures = load_dossier(path).rows(FigureRow)
    assert [f.date for f in figures[:3]] == [
        dt.date(2024, 6, 14),
        dt.date(2024, 6, 13),
        dt.date(2024, 6, 12),
    ]
    assert all(type(f.date) is dt.date for f in figures[:3])


@pytest.mark.parametrize(
    ("typed", "number"),
    [("1,234", 1234), ("87", 87), ("1,234,567", 1234567), (" 254 ", 254)],
    ids=["thousands-comma", "plain", "millions", "padded"],
)
def test_numbers_typed_as_text_are_numbers(tmp_path: Path, typed: str, number: int) -> None:
    path = write_example(tmp_path / "desk.xlsx")
    letter = letter_of(FIGURES, "Value")

    def as_text(book: openpyxl.Workbook) -> None:
        book["Figures"][f"{letter}2"] = typed
        book["Figures"][f"{letter}2"].data_type = "s"
        # A figure's value must stand in its quote, so the quote changes with it.
        book["Figures"][f"{letter_of(FIGURES, 'Quote')}2"] = f"Counted {typed.strip()}."

    edit_book(path, as_text)
    assert raw_cell(read_workbook(path), "Figures", f"{letter}2") == RawCell(f"{letter}2", typed)
    value = load_dossier(path).rows(FigureRow)[0].value
    assert value == number
    assert type(value) is int
    assert not problems_at(path, "Figures")


def test_vertically_merged_cell_gives_its_value_to_every_row(tmp_path: Path) -> None:
    path = write_example(tmp_path / "desk.xlsx")
    letter = letter_of(FIGURES, "Claimed by")

    def merge(book: openpyxl.Workbook) -> None:
        sheet = book["Figures"]
        sheet[f"{letter}2"] = "Russian MoD"
        sheet.merge_cells(f"{letter}2:{letter}4")

    edit_book(path, merge)
    with zipfile.ZipFile(path) as archive:
        text = archive.read(sheet_part(archive, "Figures")).decode()
    assert f'<mergeCell ref="{letter}2:{letter}4"/>' in text
    raw = read_workbook(path)
    for row in (2, 3, 4):
        assert raw_cell(raw, "Figures", f"{letter}{row}") == RawCell(
            f"{letter}{row}", "Russian MoD"
        )
    figures = load_dossier(path).rows(FigureRow)
    assert [f.claimed_by for f in figures[:4]] == [
        "Russian MoD",
        "Russian MoD",
        "Russian MoD",
        example_records()[0]["Figures"][3]["Claimed by"],
    ]
    assert not problems_at(path, "Figures")


def test_horizontally_merged_cell_fills_each_column(tmp_path: Path) -> None:
    """A merged range across columns fills each covered cell, like a vertical one."""
    path = write_example(tmp_path / "desk.xlsx")
    location = letter_of(FIGURES, "Location")
    region = letter_of(FIGURES, "Region")

    def merge(book: openpyxl.Workbook) -> None:
        sheet = book["Figures"]
        sheet[f"{location}3"] = "Belgorod"
        sheet.merge_cells(f"{location}3:{region}3")

    edit_book(path, merge)
    figure = load_dossier(path).rows(FigureRow)[1]
    assert (figure.location, figure.region) == ("Belgorod", "Belgorod")


def _formula_in_value(path: Path, formula: str) -> str:
    letter = letter_of(FIGURES, "Value")
    edit_book(path, lambda book: book["Figures"].__setitem__(f"{letter}2", formula))
    return f"{letter}2"


def test_formula_with_a_saved_value_gives_that_value(tmp_path: Path) -> None:
    path = write_example(tmp_path / "desk.xlsx")
    coordinate = _formula_in_value(path, "=80+7")
    with zipfile.ZipFile(path) as archive:
        text = archive.read(sheet_part(archive, "Figures")).decode()
    written = cell_xml(text, coordinate)
    assert "<f>80+7</f>" in written  # openpyxl wrote the formula with no cached value
    replace_cell(path, "Figures", coordinate, f'<c r="{coordinate}"><f>80+7</f><v>87</v></c>')
    assert raw_cell(read_workbook(path), "Figures", coordinate) == RawCell(coordinate, 87)
    assert load_dossier(path).rows(FigureRow)[0].value == 87
    assert not problems_at(path, "Figures")


def test_text_formula_with_a_saved_value_gives_that_text(tmp_path: Path) -> None:
    path = write_example(tmp_path / "desk.xlsx")
    letter = letter_of(FIGURES, "Claimed by")
    edit_book(path, lambda book: book["Figures"].__setitem__(f"{letter}2", '="Rus"&"sia"'))
    replace_cell(
        path,
        "Figures",
        f"{letter}2",
        f'<c r="{letter}2" t="str"><f>"Rus"&amp;"sia"</f><v>Russia</v></c>',
    )
    assert raw_cell(read_workbook(path), "Figures", f"{letter}2") == RawCell(f"{letter}2", "Russia")
    assert load_dossier(path).rows(FigureRow)[0].claimed_by == "Russia"


def test_formula_without_a_saved_value_is_a_problem_at_its_cell(tmp_path: Path) -> None:
    path = write_example(tmp_path / "desk.xlsx")
    coordinate = _formula_in_value(path, "=80+7")
    raw = read_workbook(path)
    assert raw_cell(raw, "Figures", coordinate) == RawCell(coordinate, None, NO_SAVED_VALUE)
    assert Problem("Figures", coordinate, NO_SAVED_VALUE) in check_workbook(path).problems
    assert [p.cell for p in problems_at(path, "Figures") if p.message == NO_SAVED_VALUE] == [
        coordinate
    ]


def test_formula_without_a_saved_value_in_an_optional_column_is_still_a_problem(
    tmp_path: Path,
) -> None:
    path = write_example(tmp_path / "desk.xlsx")
    note = f"{letter_of(FIGURES, 'Note')}5"
    edit_book(path, lambda book: book["Figures"].__setitem__(note, "=A5&B5"))
    assert Problem("Figures", note, NO_SAVED_VALUE) in check_workbook(path).problems


@pytest.mark.parametrize(
    ("xml", "error"),
    [
        ('<c r="{cell}" t="e"><v>#N/A</v></c>', "#N/A"),
        ('<c r="{cell}" s="3" t="e"><f>1/0</f><v>#DIV/0!</v></c>', "#DIV/0!"),
        ('<c r="{cell}" t="e"><f>FOO()</f><v>#NAME?</v></c>', "#NAME?"),
    ],
    ids=["n-a", "div-by-zero-formula", "name-formula"],
)
def test_error_cell_is_a_problem_naming_its_cell(tmp_path: Path, xml: str, error: str) -> None:
    path = write_example(tmp_path / "desk.xlsx")
    coordinate = f"{letter_of(FIGURES, 'Value')}3"
    replace_cell(path, "Figures", coordinate, xml.format(cell=coordinate))
    message = f"the cell holds the error {error}"
    assert raw_cell(read_workbook(path), "Figures", coordinate) == RawCell(
        coordinate, None, message
    )
    figures_problems = problems_at(path, "Figures")
    assert Problem("Figures", coordinate, message) in figures_problems
    assert [str(p) for p in figures_problems if p.cell == coordinate] == [
        f"Figures!{coordinate}: {message}"
    ]


def test_error_cell_in_the_briefing_sheet_is_named(tmp_path: Path) -> None:
    path = write_example(tmp_path / "desk.xlsx")
    subject = f"B{field_row('Subject')}"
    replace_cell(path, "Briefing", subject, f'<c r="{subject}" t="e"><v>#REF!</v></c>')
    assert Problem("Briefing", subject, "the cell holds the error #REF!") in (
        check_workbook(path).problems
    )


# ---------------------------------------------------------------------------- refused files


def _encrypted(path: Path) -> None:
    padding = bytes(512)
    path.write_bytes(OLE2_HEADER + padding + "EncryptionInfo".encode("utf-16-le") + padding)


def _xlsb(path: Path) -> None:
    write_zip(path, {"[Content_Types].xml": b"<Types/>", "xl/workbook.bin": b"\x83\x01\x00"})


def _plain_zip(path: Path) -> None:
    write_zip(path, {"notes.txt": b"not a workbook", "data/figures.csv": b"F1,87\n"})


def _zip_bomb(path: Path) -> None:
    chunk = bytes(1 << 20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("xl/workbook.xml", b"<workbook/>")
        with package.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            for _ in range(300):
                member.write(chunk)


UNREADABLE: list[tuple[BadFile, str]] = [
    (missing, "{path}: no such file; check the path and try again"),
    (folder, "{path}: is a folder, not a workbook; give the .xlsx file"),
    (empty_file, "{path}: the file is empty (0 bytes); it is not a workbook"),
    (
        csv_file,
        "{path}: not an Excel workbook (it looks like a text or CSV file); open it in Excel or "
        "LibreOffice and save it as an .xlsx workbook",
    ),
    (
        xls_file,
        "{path}: this is an old Excel 97-2003 (.xls) file; open it in Excel or LibreOffice and "
        "save it as an .xlsx workbook",
    ),
    (
        _encrypted,
        "{path}: the workbook is password-protected; remove the password in Excel "
        "(File > Info > Protect Workbook) and save it again",
    ),
    (
        truncated_zip,
        "{path}: the file is damaged (not a complete .xlsx archive); save it again from Excel "
        "or use a backup",
    ),
    (docx_file, "{path}: this is a Word document, not a workbook"),
    (_xlsb, "{path}: this is a binary workbook (.xlsb); save it as an .xlsx workbook"),
    (_plain_zip, "{path}: a zip archive, but not an Excel workbook"),
    (
        _zip_bomb,
        "{path}: the workbook unpacks to 300 MB, more than the 16 MB a briefing workbook "
        "can be; it is refused",
    ),
]
UNREADABLE_IDS = [
    "missing-path",
    "directory",
    "zero-bytes",
    "csv-renamed-xlsx",
    "old-xls",
    "password-protected",
    "truncated-zip",
    "word-docx",
    "xlsb",
    "zip-not-workbook",
    "zip-bomb-300MB",
]


@pytest.mark.parametrize(("make", "message"), UNREADABLE, ids=UNREADABLE_IDS)
def test_unreadable_file_gives_one_clear_message(
    tmp_path: Path, make: BadFile, message: str
) -> None:
    path = tmp_path / "desk.xlsx"
    make(path)
    started = time.perf_counter()
    with pytest.raises(WorkbookUnreadable) as caught:
        read_workbook(path)
    assert str(caught.value) == message.format(path=path)
    assert "\n" not in str(caught.value)
    assert time.perf_counter() - started < 2
    with pytest.raises(WorkbookUnreadable) as again:
        check_workbook(path)
    assert str(again.value) == message.format(path=path)


@pytest.mark.parametrize(("make", "message"), UNREADABLE, ids=UNREADABLE_IDS)
def test_unreadable_file_via_cli_check_is_one_error_line(
    tmp_path: Path, make: BadFile, message: str
) -> None:
    path = tmp_path / "desk.xlsx"
    make(path)
    result = CliRunner().invoke(app, ["check", str(path)])
    assert result.exit_code == 1
    assert result.stderr == f"Error: {message.format(path=path)}\n"


def test_zip_bomb_limit_is_checked_against_the_declared_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_example(tmp_path / "desk.xlsx")
    with zipfile.ZipFile(path) as package:
        unpacked = sum(info.file_size for info in package.infolist())
    monkeypatch.setattr(archive, "MAX_UNPACKED_BYTES", unpacked)
    assert read_workbook(path).sheet("Figures") is not None  # exactly at the limit: read
    monkeypatch.setattr(archive, "MAX_UNPACKED_BYTES", unpacked - 1)
    with pytest.raises(WorkbookUnreadable) as caught:
        read_workbook(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: the workbook unpacks to ")
    assert message.endswith(" a briefing workbook can be; it is refused")


@pytest.mark.skipif(
    hasattr(os, "geteuid") and os.geteuid() == 0, reason="root can read a chmod 000 file"
)
def test_file_without_read_permission(tmp_path: Path) -> None:
    path = write_example(tmp_path / "desk.xlsx")
    path.chmod(0)
    try:
        with pytest.raises(WorkbookUnreadable) as caught:
            read_workbook(path)
    finally:
        path.chmod(0o644)
    assert str(caught.value) == f"{path}: cannot be read (Permission denied)"


# ---------------------------------------------------------------------------- never written


def _with_formula(path: Path) -> None:
    value = f"{letter_of(FIGURES, 'Value')}2"
    edit_book(path, lambda book: book["Figures"].__setitem__(value, "=80+7"))


def _with_error(path: Path) -> None:
    value = f"{letter_of(FIGURES, 'Value')}3"
    replace_cell(path, "Figures", value, f'<c r="{value}" t="e"><v>#N/A</v></c>')


@pytest.mark.parametrize(
    "spoil",
    [None, _with_formula, _with_error],
    ids=["valid", "formula-without-value", "error-cell"],
)
def test_reading_and_checking_never_write_the_workbook(
    tmp_path: Path, spoil: Callable[[Path], None] | None
) -> None:
    folder = tmp_path / "desk"
    folder.mkdir()
    path = write_example(folder / "desk.xlsx")
    if spoil is not None:
        spoil(path)
    past = 1_500_000_000_000_000_000  # 2017, in nanoseconds
    os.utime(path, ns=(past, past))
    before = path.read_bytes()
    mtime = path.stat().st_mtime_ns

    read_workbook(path)
    report = check_workbook(path)
    CliRunner().invoke(app, ["check", str(path)])

    assert (report.errors > 0) == (spoil is not None)
    assert path.read_bytes() == before
    assert path.stat().st_mtime_ns == mtime == past
    assert sorted(p.name for p in folder.iterdir()) == ["desk.xlsx"]


def test_read_workbook_reads_from_bytes_written_by_workbook_bytes() -> None:
    """workbook_bytes gives a complete .xlsx: openpyxl opens it straight from memory."""
    data = workbook_bytes(*example_records())
    assert data.startswith(archive.ZIP_MAGIC)
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.properties.creator == "briefing"
    assert book.properties.title == example_records()[1]["Title"]


# ---------------------------------------------------------------------------- regressions


def test_a_stray_far_away_cell_is_read_without_making_every_cell(tmp_path: Path) -> None:
    path = write_example(tmp_path / "desk.xlsx")
    edit_book(path, lambda book: book["Timeline"].cell(row=1_048_576, column=16_384, value="x"))
    raw = read_workbook(path)
    timeline = raw.sheet("Timeline")
    assert timeline is not None
    assert timeline.rows[-1].number == 1_048_576
    assert timeline.rows[-1].cells == {"XFD": RawCell("XFD1048576", "x")}


def test_a_formula_whose_saved_result_is_empty_text_is_blank(tmp_path: Path) -> None:
    path = write_example(tmp_path / "desk.xlsx")
    coordinate = f"{letter_of(FIGURES, 'Note')}2"
    replace_cell(
        path, "Figures", coordinate, f'<c r="{coordinate}" t="str"><f>IF(1=1,"","x")</f><v></v></c>'
    )
    assert raw_cell(read_workbook(path), "Figures", coordinate) is None
    assert problems_at(path, "Figures") == []


def test_a_merged_error_cell_is_an_error_in_every_row_it_covers(tmp_path: Path) -> None:
    path = write_example(tmp_path / "desk.xlsx")
    letter = letter_of(FIGURES, "Note")
    edit_book(path, lambda book: book["Figures"].merge_cells(f"{letter}2:{letter}3"))
    replace_cell(path, "Figures", f"{letter}2", f'<c r="{letter}2" t="e"><v>#N/A</v></c>')
    raw = read_workbook(path)
    for row in (2, 3):
        assert raw_cell(raw, "Figures", f"{letter}{row}") == RawCell(
            f"{letter}{row}", None, "the cell holds the error #N/A"
        )


def test_billion_laughs_in_a_sheet_is_refused(tmp_path: Path) -> None:
    path = write_example(tmp_path / "desk.xlsx")
    laughs = (
        '<!DOCTYPE lolz [<!ENTITY lol "lol">'
        + "".join(
            f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
            for i in range(1, 10)
        )
        + "]>"
    )

    def add_doctype(xml: str) -> str:
        head, rest = xml.split("?>", 1) if xml.startswith("<?xml") else ("", xml)
        return (
            (head + "?>" if head else "")
            + laughs
            + rest.replace(
                "</sheetData>",
                '<row r="99"><c r="A99" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData>',
            )
        )

    patch_sheet_xml(path, "Figures", add_doctype)
    with pytest.raises(WorkbookUnreadable) as caught:
        read_workbook(path)
    assert str(caught.value) == (
        f"{path}: xl/worksheets/sheet5.xml declares XML entities, which Excel never writes; "
        "the workbook is refused as unsafe"
    )


def test_a_damaged_sheet_is_one_line_and_leaves_no_file_open(tmp_path: Path) -> None:
    path = write_example(tmp_path / "desk.xlsx")
    patch_sheet_xml(path, "Figures", lambda xml: xml[: len(xml) // 2])
    with pytest.raises(WorkbookUnreadable) as caught:
        read_workbook(path)
    assert str(caught.value).startswith(f"{path}: the workbook cannot be read (")
    assert str(caught.value).endswith("); open it in Excel or LibreOffice and save it again")
    assert "\n" not in str(caught.value)
    import gc

    gc.collect()  # an unclosed file would raise ResourceWarning here (warnings are errors)


def test_a_percentage_cell_reads_as_the_number_shown(tmp_path: Path) -> None:
    path = write_example(tmp_path / "desk.xlsx")
    letter = letter_of(FIGURES, "Value")

    def percent(book: openpyxl.Workbook) -> None:
        cell = book["Figures"][f"{letter}2"]
        cell.value = 0.87
        cell.number_format = "0%"

    edit_book(path, percent)
    assert raw_cell(read_workbook(path), "Figures", f"{letter}2") == RawCell(f"{letter}2", 87.0)


def test_a_million_empty_styled_rows_are_refused_with_a_clear_line(tmp_path: Path) -> None:
    path = write_example(tmp_path / "desk.xlsx")
    rows = "".join(f'<row r="{i}" s="1" customFormat="1"/>' for i in range(20, 1_000_020))
    patch_sheet_xml(
        path, "Timeline", lambda xml: xml.replace("</sheetData>", rows + "</sheetData>")
    )
    with pytest.raises(WorkbookUnreadable) as caught:
        read_workbook(path)
    assert str(caught.value) == (
        f"{path}: the workbook unpacks to 38 MB, more than the 16 MB a briefing workbook can "
        "be; it is refused"
    )


def test_a_pipe_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "desk.xlsx"
    os.mkfifo(path)
    with pytest.raises(WorkbookUnreadable) as caught:
        read_workbook(path)
    assert str(caught.value) == f"{path}: not a regular file; give the .xlsx file"
