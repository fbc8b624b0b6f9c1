"""briefing/workbook.py writing: what `init` writes (sheets, tables, dropdowns, input messages,
the Guide sheet), and text that stays text.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet
from typer.testing import CliRunner

from briefing import archive, workbook
from briefing.cli import app
from briefing.model import CellValue, RawCell
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
    column_help,
)
from briefing.workbook import read_workbook, workbook_bytes
from tests.conftest import column_letter, field_row, raw_cell

RECORD_SPECS = [spec for spec in SHEETS if spec.layout is Layout.RECORDS]


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
        letter = column_letter(spec.name, column.header)
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
        letter = column_letter(spec.name, column.header)
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
        assert row[5] == column_help(column), where
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
        cell = book["Demands"][f"{column_letter(spec.name, header)}2"]
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
        cell = raw_cell(raw, "Demands", f"{column_letter(spec.name, header)}2")
        assert cell == RawCell(f"{column_letter(spec.name, header)}2", text), header


def test_text_formula_like_values_are_not_reported_as_formulas(tmp_path: Path) -> None:
    records, briefing = example_records()
    first, *rest = records["Demands"]
    records = {**records, "Demands": [{**first, "Note": "=not a formula"}, *rest]}
    path = tmp_path / "desk.xlsx"
    path.write_bytes(workbook_bytes(records, briefing))
    assert not [p for p in check_workbook(path).problems if "formula" in p.message]
    assert load_dossier(path).rows(DemandRow)[0].note == "=not a formula"


def test_read_workbook_reads_from_bytes_written_by_workbook_bytes() -> None:
    """workbook_bytes gives a complete .xlsx: openpyxl opens it straight from memory."""
    data = workbook_bytes(*example_records())
    assert data.startswith(archive.ZIP_MAGIC)
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.properties.creator == "briefing"
    assert book.properties.title == example_records()[1]["Title"]


# ---------------------------------------------------------------------------- rows as XML

ODD_TEXTS = {
    "markup": "<b>5 & 6</b> > 4",
    "outer spaces": "  Kyiv ",
    "line breaks": "first line\nsecond line\r\nthird\ttabbed",
    "formula": '=HYPERLINK("http://example.org")',
    "empty": "",
    "emoji and scripts": "Київ 🇺🇦 — «обстріл» 北京",
    "control characters": "bell\x07 and null\x00 removed",
    "long": "word " * 8000,  # past Excel's 32,767 characters: cut as openpyxl cuts it
}


def with_odd_values(
    records: dict[str, list[dict[str, CellValue]]],
) -> dict[str, list[dict[str, CellValue]]]:
    """The records with rows of odd text in each text column, and numbers and days of each kind."""
    odd: dict[str, list[dict[str, CellValue]]] = {}
    for spec in RECORD_SPECS:
        rows = list(records.get(spec.name, []))
        for text in ODD_TEXTS.values():
            row: dict[str, CellValue] = {}
            for column in spec.columns:
                if column.kind is Kind.NUMBER:
                    row[column.header] = {"": None, "  Kyiv ": 7}.get(text, "2.5")
                elif column.kind in (Kind.DATE, Kind.PARTIAL_DATE):
                    row[column.header] = "2024-06-14" if text else "2024-06"
                else:
                    row[column.header] = text
            rows.append(row)
        odd[spec.name] = rows
    return odd


def test_rows_written_as_xml_are_what_openpyxl_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Records rows are written as XML text, not through openpyxl's cells: the package is the
    one openpyxl writes from cells, part for part, byte for byte."""
    records, briefing = example_records()
    odd = with_odd_values({name: [dict(row) for row in rows] for name, rows in records.items()})
    fast = workbook_bytes(odd, briefing)

    as_xml = workbook._body_xml  # noqa: SLF001 (the writer under test, its oracle openpyxl)
    # Made but not used: the rows go through openpyxl's cells, with the same style ids.
    monkeypatch.setattr(workbook, "_body_xml", lambda *args: as_xml(*args) and None)
    by_openpyxl = workbook_bytes(odd, briefing)

    with (
        zipfile.ZipFile(io.BytesIO(fast)) as ours,
        zipfile.ZipFile(io.BytesIO(by_openpyxl)) as theirs,
    ):
        assert ours.namelist() == theirs.namelist()
        compared = [name for name in ours.namelist() if name != "docProps/core.xml"]  # times
        for name in compared:
            assert ours.read(name) == theirs.read(name), name
    assert "xl/worksheets/sheet5.xml" in compared
    figures = openpyxl.load_workbook(io.BytesIO(fast))["Figures"]
    assert figures.max_row == len(odd["Figures"]) + 1


def test_a_value_the_xml_writer_does_not_know_is_written_by_openpyxl() -> None:
    records, briefing = example_records()
    noon = {**records["Timeline"][0], "Date": dt.time(12, 0)}
    book = openpyxl.load_workbook(io.BytesIO(workbook_bytes({"Timeline": [noon]}, briefing)))
    cell = book["Timeline"][f"{column_letter('Timeline', 'Date')}2"]
    assert cell.value == dt.time(12, 0)
    assert cell.alignment.wrap_text


@pytest.mark.parametrize("text", ["a\ufffeb", "a\udc80b"], ids=["noncharacter", "lone surrogate"])
def test_text_xml_cannot_hold_is_never_written_into_a_workbook(text: str) -> None:
    """extract removes such characters first; the XML writer leaves them to openpyxl, which
    refuses them, rather than write a workbook no program can open."""
    with pytest.raises((ValueError, UnicodeEncodeError)):
        workbook_bytes({"Demands": [{"Demand": text}]}, {})
