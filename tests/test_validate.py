"""Validation: every kind of problem, reported once, at its cell, with its exact message."""

from __future__ import annotations

import datetime as dt
import gc
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from briefing import sheetxml
from briefing.context import build_context
from briefing.errors import InvalidWorkbook
from briefing.model import Problem, RawCell, RawRow, RowShape, Severity
from briefing.pipeline import check_workbook, load_dossier, read_raw_workbook
from briefing.schema import SCHEMA, DemandRow, FigureRow, JudgmentRow, SourceRow, TimelineRow
from briefing.text import PartialDate
from briefing.validate import RecordStreams, _RecordsReader, validate_workbook
from tests.conftest import (
    cell,
    column_letter,
    coordinate,
    field_cell,
    field_row,
    label_cell,
    patch_sheet_xml,
    write_example,
)

MakeWorkbook = Callable[..., Path]
FIGURES = SCHEMA.sheet("Figures")

# (cell edits, the exact lines `check` prints for them), one broken thing per case.
CASES = [
    pytest.param(
        {cell("Figures", "Value", 7): "eighty-seven"},
        [f"{cell('Figures', 'Value', 7)}: expected a number, got 'eighty-seven'"],
        id="number-as-words",
    ),
    pytest.param(
        {cell("Demands", "Demand", 2): None},
        [f"{cell('Demands', 'Demand', 2)}: Demand is required but the cell is empty"],
        id="required-empty",
    ),
    pytest.param(
        {cell("Demands", "Demand", 2): "   "},
        [f"{cell('Demands', 'Demand', 2)}: Demand is required but the cell is empty"],
        id="required-only-spaces",
    ),
    pytest.param(
        {cell("Sources", "Reliability", 2): "G"},
        [
            f"{cell('Sources', 'Reliability', 2)}: 'G' is not an allowed reliability; "
            "use one of: A, B, C, D, E, F"
        ],
        id="reliability-outside-vocabulary",
    ),
    pytest.param(
        {cell("Sources", "Credibility", 2): 7},
        [
            f"{cell('Sources', 'Credibility', 2)}: '7' is not an allowed credibility; "
            "use one of: 1, 2, 3, 4, 5, 6"
        ],
        id="credibility-outside-vocabulary",
    ),
    pytest.param(
        {cell("Demands", "Party", 2): "Russland"},
        [
            f"{cell('Demands', 'Party', 2)}: 'Russland' is not an allowed party; "
            "use one of: Russia, Ukraine, United States, NATO, European Union, G7, Other"
        ],
        id="party-outside-vocabulary",
    ),
    pytest.param(
        {cell("Reactions", "Stance", 2): "furious"},
        [
            f"{cell('Reactions', 'Stance', 2)}: 'furious' is not an allowed stance; "
            "use one of: supports, opposes, mixed, neutral"
        ],
        id="stance-outside-vocabulary",
    ),
    pytest.param(
        {cell("Figures", "Status", 2): "rumoured"},
        [
            f"{cell('Figures', 'Status', 2)}: 'rumoured' is not an allowed figure status; "
            "use one of: claimed, confirmed, disputed"
        ],
        id="status-outside-vocabulary",
    ),
    pytest.param(
        {cell("Judgments", "Likelihood", 2): "probable"},
        [
            f"{cell('Judgments', 'Likelihood', 2)}: 'probable' is not an allowed likelihood "
            "(ICD 203); use one of: almost no chance, very unlikely, unlikely, "
            "roughly even chance, likely, very likely, almost certain"
        ],
        id="likelihood-outside-vocabulary",
    ),
    pytest.param(
        {cell("Judgments", "Confidence", 2): "medium"},
        [
            f"{cell('Judgments', 'Confidence', 2)}: 'medium' is not an allowed confidence; "
            "use one of: low, moderate, high"
        ],
        id="confidence-outside-vocabulary",
    ),
    pytest.param(
        {field_cell("Handling"): "TLP:WHITE"},
        [
            f"{field_cell('Handling')}: 'TLP:WHITE' is not an allowed handling label (TLP 2.0); "
            "use one of: TLP:CLEAR, TLP:GREEN, TLP:AMBER, TLP:AMBER+STRICT, TLP:RED"
        ],
        id="handling-outside-vocabulary",
    ),
    pytest.param(
        {cell("Figures", "Date", 3): "yesterday"},
        [
            f"{cell('Figures', 'Date', 3)}: expected a date such as 2024-06-14, or a month "
            "(2024-06) or year (2024), got 'yesterday'"
        ],
        id="date-as-words",
    ),
    pytest.param(
        {field_cell("Date"): None},
        [f"{field_cell('Date')}: Date is required but the cell is empty"],
        id="briefing-field-empty",
    ),
    pytest.param(
        {cell("Demands", "ID", 4): "D1"},
        [f"{cell('Demands', 'ID', 4)}: duplicate ID 'D1' (also at {cell('Demands', 'ID', 2)})"],
        id="duplicate-id-in-sheet",
    ),
    pytest.param(
        {cell("Figures", "ID", 8): "D5"},
        [f"{cell('Figures', 'ID', 8)}: duplicate ID 'D5' (also at {cell('Demands', 'ID', 6)})"],
        id="duplicate-id-across-sheets",
    ),
    pytest.param(
        {cell("Demands", "Source", 2): "S9"},
        [f"{cell('Demands', 'Source', 2)}: unknown source 'S9'; the Sources sheet has: S1"],
        id="unknown-source",
    ),
    pytest.param(
        {cell("Judgments", "Based on", 2): "D1, X99"},
        [
            f"{cell('Judgments', 'Based on', 2)}: unknown record 'X99'; "
            "use IDs from the Sources, Demands, Reactions, Figures or Judgments sheets"
        ],
        id="unknown-record-in-based-on",
    ),
    pytest.param(
        {cell("Figures", "Value", 1): "Amount"},
        [
            "Figures: missing column 'Value'; found in row 1: "
            + ", ".join("Amount" if c.header == "Value" else c.header for c in FIGURES.columns),
            f"{cell('Figures', 'Value', 1)}: warning: column 'Amount' is not part of the schema "
            "and is ignored",
        ],
        id="missing-column",
    ),
    pytest.param(
        {cell("Figures", "Note", 1): "Value"},
        [
            f"{cell('Figures', 'Note', 1)}: column 'Value' appears twice "
            f"(also in {coordinate('Figures', 'Value', 1)}); delete or rename one"
        ],
        id="duplicated-header",
    ),
    pytest.param(
        {label_cell("BLUF"): "Bottom line"},
        [
            "Briefing: missing field 'BLUF'; add a row with BLUF in the Field column and "
            "its value beside it",
            f"{label_cell('BLUF')}: warning: field 'Bottom line' is not part of the schema "
            "and is ignored",
        ],
        id="missing-briefing-field",
    ),
]


def problems_of(path: Path) -> list[str]:
    return [str(problem) for problem in check_workbook(path).problems]


def test_example_workbook_is_clean(example_workbook: Path) -> None:
    assert problems_of(example_workbook) == []


@pytest.mark.parametrize(("edits", "expected"), CASES)
def test_each_broken_cell_is_named(
    make_workbook: MakeWorkbook, edits: dict[str, object], expected: list[str]
) -> None:
    assert problems_of(make_workbook(edits)) == expected


def test_several_broken_cells_are_each_named_once_in_reading_order(
    make_workbook: MakeWorkbook,
) -> None:
    path = make_workbook(
        {
            cell("Figures", "Value", 7): "eighty-seven",
            cell("Sources", "Reliability", 2): "G",
            cell("Demands", "Demand", 4): None,
            # a figure without ID: its other cells are still checked
            cell("Figures", "ID", 2): None,
        }
    )
    assert problems_of(path) == [
        f"{cell('Sources', 'Reliability', 2)}: 'G' is not an allowed reliability; "
        "use one of: A, B, C, D, E, F",
        f"{cell('Demands', 'Demand', 4)}: Demand is required but the cell is empty",
        f"{cell('Figures', 'ID', 2)}: ID is required but the cell is empty",
        f"{cell('Figures', 'Value', 7)}: expected a number, got 'eighty-seven'",
        f"{cell('Judgments', 'Based on', 5)}: unknown record 'F1'; "
        "use IDs from the Sources, Demands, Reactions, Figures or Judgments sheets",
    ]


def test_missing_sheet_names_what_was_found(make_workbook: MakeWorkbook) -> None:
    path = make_workbook()
    book = openpyxl.load_workbook(path)
    del book["Timeline"]
    book.save(path)
    assert problems_of(path) == [
        "Timeline: missing sheet 'Timeline'; the workbook has: Briefing, Sources, Demands, "
        "Reactions, Figures, Judgments, Guide"
    ]


def test_empty_sheet_asks_for_its_header(make_workbook: MakeWorkbook) -> None:
    path = make_workbook()
    book = openpyxl.load_workbook(path)
    del book["Timeline"]
    book.create_sheet("Timeline")
    book.save(path)
    assert problems_of(path) == [
        "Timeline: missing columns 'Date', 'Event', 'Source', 'Quote'; the sheet is empty: "
        "add its header row"
    ]


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        pytest.param("1,234", 1234, id="thousands-separator"),
        pytest.param(" 87 ", 87, id="spaces"),
        pytest.param("12.5", 12.5, id="decimal"),
        pytest.param("1\u00a0234", 1234, id="non-breaking-space-separator"),
        pytest.param(17.0, 17, id="float-that-is-whole"),
    ],
)
def test_numbers_typed_as_text_are_read(
    make_workbook: MakeWorkbook, typed: object, read: float
) -> None:
    # A figure's value must stand in its quote, so the quote changes with it.
    dossier = load_dossier(
        make_workbook(
            {cell("Figures", "Value", 2): typed, cell("Figures", "Quote", 2): f"Counted {read}."}
        )
    )
    value = dossier.rows(FigureRow)[0].value
    assert value == read
    assert type(value) is type(read)


@pytest.mark.parametrize(
    "typed",
    [
        pytest.param(dt.datetime(2024, 6, 14), id="real-date"),  # noqa: DTZ001 - Excel cells hold no time zone
        pytest.param("2024-06-14", id="iso-text"),
        pytest.param("14 June 2024", id="day-month-year"),
        pytest.param("June 14, 2024", id="month-day-year"),
        pytest.param("14.06.2024", id="dotted"),
        pytest.param("June 14th 2024.", id="article-dateline"),
        pytest.param("14th June 2024", id="ordinal-first"),
        pytest.param("2024/06/14", id="slashes"),
        pytest.param(45457, id="excel-serial-number"),
        pytest.param("45457", id="excel-serial-as-text"),
    ],
)
def test_dates_are_read(make_workbook: MakeWorkbook, typed: object) -> None:
    dossier = load_dossier(make_workbook({cell("Figures", "Date", 2): typed}))
    assert dossier.rows(FigureRow)[0].date == PartialDate(2024, 6, 14)


@pytest.mark.parametrize(
    ("typed", "read", "printed"),
    [
        pytest.param("2022-02", PartialDate(2022, 2), "February 2022", id="iso-month"),
        pytest.param("February 2022", PartialDate(2022, 2), "February 2022", id="month-name"),
        pytest.param("Feb 2022", PartialDate(2022, 2), "February 2022", id="short-month"),
        pytest.param("2022", PartialDate(2022), "2022", id="year-text"),
        pytest.param(2022, PartialDate(2022), "2022", id="year-number"),
        pytest.param("14 June 2024", PartialDate(2024, 6, 14), "14 June 2024", id="day"),
    ],
)
def test_partial_dates_are_read_and_printed_at_their_precision(
    make_workbook: MakeWorkbook, typed: object, read: PartialDate, printed: str
) -> None:
    path = make_workbook({cell("Timeline", "Date", 2): typed})
    dossier = load_dossier(path)
    event = dossier.rows(TimelineRow)[0]
    assert event.date == read
    timeline = build_context(dossier).timeline
    assert [e["date"] for e in timeline if e["event"] == event.event] == [printed]


def test_a_memo_date_must_be_a_whole_day(make_workbook: MakeWorkbook) -> None:
    report = check_workbook(make_workbook({field_cell("Date"): "2024-06"}))
    assert [str(p) for p in report.problems if p.is_error] == [
        f"{field_cell('Date')}: expected a date such as 2024-06-14, got '2024-06'"
    ]


def test_vocabulary_ignores_case_and_stores_the_code(make_workbook: MakeWorkbook) -> None:
    dossier = load_dossier(
        make_workbook(
            {
                cell("Sources", "Reliability", 2): " f ",
                cell("Sources", "Credibility", 2): 3,
                field_cell("Handling"): "tlp:amber+strict",
            }
        )
    )
    assert (dossier.rows(SourceRow)[0].reliability, dossier.rows(SourceRow)[0].credibility) == (
        "F",
        "3",
    )
    assert dossier.briefing.handling == "TLP:AMBER+STRICT"


def test_based_on_accepts_commas_semicolons_and_spaces(make_workbook: MakeWorkbook) -> None:
    dossier = load_dossier(make_workbook({cell("Judgments", "Based on", 2): "D1;R1  F2,S1"}))
    assert dossier.rows(JudgmentRow)[0].based_on == ("D1", "R1", "F2", "S1")


def test_control_characters_are_removed_with_a_warning(make_workbook: MakeWorkbook) -> None:
    # Excel writes a control character into the file as _xHHHH_.
    demand = cell("Demands", "Demand", 2)
    path = make_workbook({demand: "Withdraw_x0007_ from_x001B_ four regions"})
    dossier = load_dossier(path)
    assert dossier.rows(DemandRow)[0].demand == "Withdraw from four regions"
    assert [str(w) for w in dossier.problems] == [
        f"{demand}: warning: removed 2 control characters a Word document cannot hold"
    ]
    assert all(w.severity is Severity.WARNING for w in dossier.problems)


def test_uncited_source_is_a_warning_not_an_error(make_workbook: MakeWorkbook) -> None:
    path = make_workbook(
        {
            cell("Sources", "ID", 3): "S2",
            cell("Sources", "Title", 3): "Reuters",
            cell("Sources", "Reliability", 3): "B",
        }
    )
    path2 = make_workbook(
        {
            cell("Sources", "ID", 3): "S2",
            cell("Sources", "Title", 3): "Reuters",
            cell("Sources", "Reliability", 3): "B",
            cell("Sources", "Credibility", 3): 2,
        },
        name="two.xlsx",
    )
    assert problems_of(path) == [
        f"{cell('Sources', 'ID', 3)}: warning: source 'S2' is cited by no record",
        f"{cell('Sources', 'Credibility', 3)}: Credibility is required but the cell is empty",
    ]
    report = check_workbook(path2)
    assert [str(p) for p in report.problems] == [
        f"{cell('Sources', 'ID', 3)}: warning: source 'S2' is cited by no record"
    ]
    assert report.errors == 0


def test_invalid_workbook_carries_every_problem(make_workbook: MakeWorkbook) -> None:
    path = make_workbook({cell("Figures", "Value", 7): "x", cell("Figures", "Value", 8): "y"})
    with pytest.raises(InvalidWorkbook) as caught:
        load_dossier(path)
    assert str(caught.value) == "the workbook has 2 errors"
    assert [p.cell for p in caught.value.problems] == [
        coordinate("Figures", "Value", 7),
        coordinate("Figures", "Value", 8),
    ]


def test_unreviewed_candidates_are_left_out_with_one_warning(make_workbook: MakeWorkbook) -> None:
    path = make_workbook(
        {
            cell("Figures", "Review", 2): "unreviewed",
            cell("Figures", "Review", 3): "Unreviewed",
            cell("Figures", "Review", 4): "unreviewed",
            cell("Figures", "Review", 7): "unreviewed",
            cell("Figures", "Date", 2): "not a date",  # an unreviewed row is not checked yet
            cell("Figures", "Review", 8): "reviewed",
            cell("Judgments", "Based on", 5): "D1",  # J4 rested on the figures now left out
        }
    )
    dossier = load_dossier(path)
    assert [f.id for f in dossier.rows(FigureRow)] == ["F4", "F5", "F7"]
    assert [str(p) for p in dossier.problems] == [
        "Figures: warning: 4 unreviewed candidates (rows 2–4, 7) left out of checks and the "
        "memo; check each, then clear its Review cell"
    ]


@pytest.mark.parametrize(
    ("hidden", "warning"),
    [
        pytest.param(
            {"Figures": [3]},
            [
                "Figures: warning: row 3 is hidden (by hand or by a filter) "
                "but still goes into the memo; unhide "
                "it or delete it"
            ],
            id="one-row",
        ),
        pytest.param(
            {"Figures": [2, 3, 4, 7, 8]},
            [
                "Figures: warning: rows 3, 8 are hidden (by hand or by a filter) "
                "but still go into the memo; "
                "unhide them or delete them"
            ],
            id="unreviewed-left-out",
        ),
        pytest.param(
            {"Briefing": [field_row("BLUF")], "Figures": [9, 10]},
            [
                f"Briefing: warning: row {field_row('BLUF')} is hidden (by hand or by a filter) "
                "but still goes "
                "into the memo; unhide it or delete it"
            ],
            id="field-and-empty-rows",
        ),
    ],
)
def test_hidden_rows_read_into_the_memo_are_named_in_a_warning(
    make_workbook: MakeWorkbook, hidden: dict[str, list[int]], warning: list[str]
) -> None:
    path = make_workbook(
        {
            cell("Figures", "Review", 2): "unreviewed",
            cell("Figures", "Review", 4): "unreviewed",
            cell("Figures", "Review", 7): "unreviewed",
            cell("Judgments", "Based on", 5): "D1",  # J4 rested on the figures left out
        }
    )
    book = openpyxl.load_workbook(path)
    for sheet, rows in hidden.items():
        for row in rows:
            book[sheet].row_dimensions[row].hidden = True
    book.save(path)
    dossier = load_dossier(path)
    assert [f.id for f in dossier.rows(FigureRow)] == ["F2", "F4", "F5", "F7"]
    assert [str(p) for p in dossier.problems if "unreviewed" not in str(p)] == warning


def test_a_title_above_the_header_row_is_passed_over(make_workbook: MakeWorkbook) -> None:
    path = make_workbook()
    book = openpyxl.load_workbook(path)
    sheet = book["Figures"]
    sheet.insert_rows(1, amount=2)
    sheet["A1"] = "Battlefield figures, 14 June 2024"
    book.save(path)
    dossier = load_dossier(path)
    assert [f.id for f in dossier.rows(FigureRow)] == ["F1", "F2", "F3", "F4", "F5", "F6", "F7"]
    assert dossier.rows(FigureRow)[0].coordinates["value"] == coordinate("Figures", "Value", 4)


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        pytest.param("12%", 12, id="percent"),
        pytest.param("$1,200", 1200, id="dollars"),
        pytest.param("€5", 5, id="euros"),
        pytest.param("1 200 ₴", 1200, id="hryvnia-after"),
    ],
)
def test_numbers_with_signs(make_workbook: MakeWorkbook, typed: str, read: int) -> None:
    path = make_workbook(
        {cell("Figures", "Value", 2): typed, cell("Figures", "Quote", 2): f"It came to {typed}."}
    )
    assert load_dossier(path).rows(FigureRow)[0].value == read


def test_a_briefing_field_given_twice(make_workbook: MakeWorkbook) -> None:
    path = make_workbook({label_cell("Email to"): "Title"})
    assert problems_of(path) == [
        f"{label_cell('Email to')}: field 'Title' appears twice "
        f"(also in A{field_row('Title')}); delete one"
    ]


def test_a_briefing_sheet_without_its_header_row(make_workbook: MakeWorkbook) -> None:
    path = make_workbook()
    book = openpyxl.load_workbook(path)
    book["Briefing"].delete_rows(1)
    book.save(path)
    dossier = load_dossier(path)
    assert dossier.briefing.title.startswith("Putin's ceasefire terms")
    assert dossier.briefing.coordinates["title"] == f"B{field_row('Title') - 1}"


@pytest.mark.parametrize(
    ("sheet", "start", "end", "message"),
    [
        pytest.param(
            "Figures",
            "Date",
            "Until",
            "Until (1 June 2024) is before Date (14 June 2024); swap them or correct one",
            id="figure-period",
        ),
        pytest.param(
            "Demands",
            "Stated",
            "Withdrawn",
            "Withdrawn (1 June 2024) is before Stated (14 June 2024); swap them or correct one",
            id="demand-withdrawn",
        ),
    ],
)
def test_an_end_before_its_start_is_an_error_at_the_end(
    make_workbook: MakeWorkbook, sheet: str, start: str, end: str, message: str
) -> None:
    path = make_workbook({cell(sheet, start, 2): "2024-06-14", cell(sheet, end, 2): "2024-06-01"})
    assert [str(p) for p in check_workbook(path).problems if p.is_error] == [
        f"{cell(sheet, end, 2)}: {message}"
    ]


def test_a_month_may_end_a_period_that_starts_within_it(make_workbook: MakeWorkbook) -> None:
    path = make_workbook(
        {cell("Figures", "Date", 2): "2024-06-10", cell("Figures", "Until", 2): "2024-06"}
    )
    assert [p for p in check_workbook(path).problems if p.is_error] == []


def test_a_bad_value_repeated_down_a_column_is_named_in_each_row(
    make_workbook: MakeWorkbook,
) -> None:
    # Each column remembers what it read cleanly; a value that gave a problem is read again.
    path = make_workbook(
        {
            cell("Figures", "Value", 2): "eighty-seven",
            cell("Figures", "Value", 3): "eighty-seven",
            cell("Demands", "Demand", 2): "Withdraw_x0007_ troops",
            cell("Demands", "Demand", 3): "Withdraw_x0007_ troops",
        }
    )
    assert problems_of(path) == [
        f"{cell('Demands', 'Demand', 2)}: warning: removed 1 control character a Word "
        "document cannot hold",
        f"{cell('Demands', 'Demand', 3)}: warning: removed 1 control character a Word "
        "document cannot hold",
        f"{cell('Figures', 'Value', 2)}: expected a number, got 'eighty-seven'",
        f"{cell('Figures', 'Value', 3)}: expected a number, got 'eighty-seven'",
    ]


def test_equal_values_of_other_types_are_read_each_as_its_own(make_workbook: MakeWorkbook) -> None:
    # True == 1 == 1.0 in Python: a column's memory of values it has read must not mix them.
    dossier = load_dossier(
        make_workbook(
            {
                cell("Figures", "Note", 2): 1,
                cell("Figures", "Note", 3): True,
                cell("Figures", "Note", 4): 1.5,
            }
        )
    )
    assert [figure.note for figure in dossier.rows(FigureRow)[:3]] == ["1", "TRUE", "1.5"]
    note = cell("Figures", "Note", 3).split("!")[1]
    assert dossier.rows(FigureRow)[1].coordinates["note"] == note


def _rows_out_of_order(xml: str) -> str:
    """The sheet's row 2 moved after its last row, as some programs write rows."""
    second = re.search(r"<row r=\"2\".*?</row>", xml)
    assert second is not None
    without = xml.replace(second[0], "", 1)
    return without.replace("</sheetData>", second[0] + "</sheetData>", 1)


def _merged_notes(xml: str) -> str:
    """Two Note cells of the sheet merged: merged ranges are listed after the rows."""
    note = column_letter("Figures", "Note")
    merge = f'<mergeCells count="1"><mergeCell ref="{note}2:{note}3"/></mergeCells>'
    return xml.replace("</sheetData>", "</sheetData>" + merge, 1)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(_rows_out_of_order, id="rows-out-of-order"),
        pytest.param(_merged_notes, id="merged-range"),
    ],
)
def test_a_records_sheet_read_again_whole_names_each_problem_once(
    make_workbook: MakeWorkbook, change: Callable[[str], str]
) -> None:
    """Rows go to validation as they are read; a sheet that must be read whole (rows out of
    order, merged ranges) is read again, and what its rows said the first time is forgotten."""
    # Rows past those held while the header is looked for, so that their problems are said
    # while the sheet streams.
    edits: dict[str, object] = {cell("Figures", "ID", row): f"F{row}" for row in range(12, 25)}
    edits[cell("Figures", "Value", 3)] = "eighty-seven"
    edits[cell("Figures", "Value", 24)] = "eighty-eight"
    expected = problems_of(make_workbook(edits, name="plain.xlsx"))
    assert f"{cell('Figures', 'Value', 24)}: expected a number, got 'eighty-eight'" in expected
    path = make_workbook(edits, name="changed.xlsx")
    patch_sheet_xml(path, "Figures", change)
    assert problems_of(path) == expected


def test_a_restarted_stream_forgets_the_sources_its_candidate_rows_cited() -> None:
    """A sheet read again whole may not have the candidate rows its streamed rows had."""
    streams = RecordStreams()
    figures = streams("Figures")
    assert figures is not None
    headers = [column.header for column in SCHEMA.sheet("Figures").columns] + ["Review"]
    letters = {header: get_column_letter(index) for index, header in enumerate(headers, 1)}
    figures.take(RawRow(1, {v: RawCell(f"{v}1", h) for h, v in letters.items()}), False)
    for number in range(2, 16):
        row = {"ID": f"F{number}", "Source": "S9" if number == 15 else "S1"}
        if number == 15:
            row["Review"] = "unreviewed"
        cells = {letters[h]: RawCell(f"{letters[h]}{number}", v) for h, v in row.items()}
        figures.take(RawRow(number, cells), False)
    assert "S9" in streams.state.cited_by_candidates
    figures.restart()
    assert "S9" not in streams.state.cited_by_candidates


# Cells put into a long Figures sheet, each row's among rows of one shape, and whether Excel
# hides the row.
ODD_ROWS: list[tuple[dict[str, str | float | None], bool]] = [
    ({"Value": "eighty-seven"}, False),
    ({"Value": "1,200"}, False),
    ({"Value": 12.0}, False),
    ({"Claimed by": "Ukraine's air_x0007_force"}, False),
    ({"Claimed by": "  "}, False),
    ({"Claimed by": "Харківська ОВА"}, False),
    ({"Metric": "drones\tshot down"}, False),
    ({"Status": "rumoured"}, False),
    ({"Status": "Claimed"}, False),
    ({"Date": "2024-13-45"}, False),
    ({"Date": "June 2024"}, False),
    ({"Until": "2024-06-01"}, False),
    ({"Source": "S99"}, False),
    ({"ID": "F1"}, False),
    ({"Review": "unreviewed"}, False),
    ({"Note": "hidden, still read"}, True),
    ({"Value": "eighty", "Status": "rumoured", "Date": "2024-13-45"}, False),
    ({"Location": None, "Note": None}, False),
    ({"Metric": None}, False),
]


def _long_figures_sheet(path: Path) -> Path:
    """The example with more figures, most in one shape, ODD_ROWS among them."""
    write_example(path)
    book = openpyxl.load_workbook(path)
    sheet = book["Figures"]
    headers = {header for cells, _ in ODD_ROWS for header in cells} | {"ID", "Value", "Metric"}
    letters = {header: column_letter("Figures", header) for header in headers}
    template = [cell.value for cell in sheet[3]]
    first = sheet.max_row + 1
    for index in range(12 + 6 * len(ODD_ROWS) + 5):
        number = first + index
        sheet.append(template)
        sheet[f"{letters['ID']}{number}"] = f"F{100 + index}"
        sheet[f"{letters['Value']}{number}"] = index % 7 + 1
    # Each in five rows: the first row of a new shape is read cell by cell, the rest (and the
    # rows after them) by the shape, several at once.
    for index, (cells, hidden) in enumerate(ODD_ROWS):
        for number in range(first + 12 + 6 * index, first + 17 + 6 * index):
            for header, value in cells.items():
                sheet[f"{letters[header]}{number}"] = value
            sheet.row_dimensions[number].hidden = hidden
    # Some cells highlighted: their column then holds values in two styles.
    for number in range(first, sheet.max_row + 1, 3):
        for header in ("Value", "Metric"):
            sheet[f"{letters[header]}{number}"].font = Font(bold=True)
    book.save(path)
    return path


def _validated(path: Path) -> tuple[Mapping[str, tuple[Any, ...]], tuple[Problem, ...]]:
    streams = RecordStreams()
    dossier = validate_workbook(read_raw_workbook(path, None, streams), SCHEMA, streams)
    return dossier.records, dossier.problems


def test_rows_read_by_their_shape_validate_as_rows_read_cell_by_cell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Most rows of a long sheet are given as their shape and validated by each cell's bytes;
    the records and problems are those of the same rows given and validated cell by cell."""
    path = _long_figures_sheet(tmp_path / "long.xlsx")
    shaped: list[int] = []
    add_shaped = _RecordsReader.add_shaped

    def counted(self: _RecordsReader, shape: RowShape, numbers: list[int], *args: Any) -> None:
        shaped.extend(numbers)
        add_shaped(self, shape, numbers, *args)

    monkeypatch.setattr(_RecordsReader, "add_shaped", counted)
    records, problems = _validated(path)
    assert len(shaped) > 40
    monkeypatch.setattr(sheetxml, "MAX_SHAPES", 0)
    shaped.clear()
    assert _validated(path) == (records, problems)
    assert shaped == []
    said = "\n".join(str(problem) for problem in problems)
    for text in ("eighty-seven", "control", "rumoured", "2024-13-45", "S99", "F1", "Metric is"):
        assert text in said


def test_a_dropped_dossier_frees_its_streamed_records_at_once(example_workbook: Path) -> None:
    """No cycle through the consumers keeps the records until the cyclic collector runs."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        held = {id(o) for o in gc.get_objects() if isinstance(o, FigureRow)}  # other tests'
        streams = RecordStreams()
        dossier = validate_workbook(
            read_raw_workbook(example_workbook, None, streams), SCHEMA, streams
        )
        assert dossier.rows(FigureRow)
        del dossier
        made = [o for o in gc.get_objects() if isinstance(o, FigureRow) and id(o) not in held]
        assert made == []
    finally:
        if collecting:
            gc.enable()
