"""briefing/workbook.py reading: how any .xlsx is read, cell by cell, and never written.

Every workbook here is built in code in tmp_path: with workbook_bytes, openpyxl, or by editing the
XML inside the zip, the way Excel and LibreOffice would have saved it.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from briefing.cli import app
from briefing.errors import WorkbookUnreadable
from briefing.model import Problem, RawCell
from briefing.pipeline import check_workbook, example_records, load_dossier
from briefing.schema import SCHEMA, FigureRow
from briefing.text import PartialDate
from briefing.workbook import read_workbook
from tests.conftest import (
    column_letter,
    field_row,
    patch_sheet_xml,
    raw_cell,
    sheet_part,
    write_example,
)

# ---------------------------------------------------------------------------- helpers


NO_SAVED_VALUE = (
    "the formula has no saved value; open the workbook in Excel or LibreOffice, let it "
    "calculate, and save it"
)


def edit_book(path: Path, edit: Callable[[openpyxl.Workbook], object]) -> None:
    book = openpyxl.load_workbook(path)
    edit(book)
    book.save(path)


def cell_xml(text: str, coordinate: str) -> str:
    match = re.search(rf'<c r="{coordinate}"(?:\s[^>]*?)?(?:/>|>.*?</c>)', text, re.DOTALL)
    assert match, f"no cell {coordinate} in the sheet XML"
    return match.group(0)


def replace_cell(path: Path, sheet: str, coordinate: str, new_xml: str) -> None:
    patch_sheet_xml(path, sheet, lambda text: text.replace(cell_xml(text, coordinate), new_xml, 1))


def problems_at(path: Path, sheet: str) -> list[Problem]:
    return [p for p in check_workbook(path).problems if p.sheet == sheet]


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
    letter = column_letter("Figures", "Claimed by")

    def rename(book: openpyxl.Workbook) -> None:
        book["Figures"][f"{letter}1"] = header
        book["Figures"][f"{column_letter('Figures', 'Metric')}1"] = " metric "

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
    letter = column_letter("Figures", "Date")

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
        PartialDate(2024, 6, 14),
        PartialDate(2024, 6, 13),
        PartialDate(2024, 6, 12),
    ]


@pytest.mark.parametrize(
    ("typed", "number"),
    [("1,234", 1234), ("87", 87), ("1,234,567", 1234567), (" 254 ", 254)],
    ids=["thousands-comma", "plain", "millions", "padded"],
)
def test_numbers_typed_as_text_are_numbers(tmp_path: Path, typed: str, number: int) -> None:
    path = write_example(tmp_path / "desk.xlsx")
    letter = column_letter("Figures", "Value")

    def as_text(book: openpyxl.Workbook) -> None:
        book["Figures"][f"{letter}2"] = typed
        book["Figures"][f"{letter}2"].data_type = "s"
        # A figure's value must stand in its quote, so the quote changes with it.
        book["Figures"][f"{column_letter('Figures', 'Quote')}2"] = f"Counted {typed.strip()}."

    edit_book(path, as_text)
    assert raw_cell(read_workbook(path), "Figures", f"{letter}2") == RawCell(f"{letter}2", typed)
    value = load_dossier(path).rows(FigureRow)[0].value
    assert value == number
    assert type(value) is int
    assert not problems_at(path, "Figures")


def test_vertically_merged_cell_gives_its_value_to_every_row(tmp_path: Path) -> None:
    path = write_example(tmp_path / "desk.xlsx")
    letter = column_letter("Figures", "Claimed by")

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
    location = column_letter("Figures", "Location")
    region = column_letter("Figures", "Region")

    def merge(book: openpyxl.Workbook) -> None:
        sheet = book["Figures"]
        sheet[f"{location}3"] = "Belgorod"
        sheet.merge_cells(f"{location}3:{region}3")

    edit_book(path, merge)
    figure = load_dossier(path).rows(FigureRow)[1]
    assert (figure.location, figure.region) == ("Belgorod", "Belgorod")


def _formula_in_value(path: Path, formula: str) -> str:
    letter = column_letter("Figures", "Value")
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
    letter = column_letter("Figures", "Claimed by")
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
    note = f"{column_letter('Figures', 'Note')}5"
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
    coordinate = f"{column_letter('Figures', 'Value')}3"
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


# ---------------------------------------------------------------------------- never written


def _with_formula(path: Path) -> None:
    value = f"{column_letter('Figures', 'Value')}2"
    edit_book(path, lambda book: book["Figures"].__setitem__(value, "=80+7"))


def _with_error(path: Path) -> None:
    value = f"{column_letter('Figures', 'Value')}3"
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
    coordinate = f"{column_letter('Figures', 'Note')}2"
    replace_cell(
        path, "Figures", coordinate, f'<c r="{coordinate}" t="str"><f>IF(1=1,"","x")</f><v></v></c>'
    )
    assert raw_cell(read_workbook(path), "Figures", coordinate) is None
    assert problems_at(path, "Figures") == []


def test_a_merged_error_cell_is_an_error_in_every_row_it_covers(tmp_path: Path) -> None:
    path = write_example(tmp_path / "desk.xlsx")
    letter = column_letter("Figures", "Note")
    edit_book(path, lambda book: book["Figures"].merge_cells(f"{letter}2:{letter}3"))
    replace_cell(path, "Figures", f"{letter}2", f'<c r="{letter}2" t="e"><v>#N/A</v></c>')
    raw = read_workbook(path)
    for row in (2, 3):
        assert raw_cell(raw, "Figures", f"{letter}{row}") == RawCell(
            f"{letter}{row}", None, "the cell holds the error #N/A"
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
    letter = column_letter("Figures", "Value")

    def percent(book: openpyxl.Workbook) -> None:
        cell = book["Figures"][f"{letter}2"]
        cell.value = 0.87
        cell.number_format = "0%"

    edit_book(path, percent)
    assert raw_cell(read_workbook(path), "Figures", f"{letter}2") == RawCell(f"{letter}2", 87.0)
