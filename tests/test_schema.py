"""The schema: one declaration that every stage follows, so a new sheet or column is one change."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from briefing.context import build_context, document_properties
from briefing.errors import InvalidWorkbook
from briefing.model import CellValue, Severity
from briefing.pipeline import (
    check_workbook,
    example_dossier,
    example_records,
    init_workbook,
    load_dossier,
)
from briefing.render import render_document
from briefing.schema import (
    ANY_RECORD,
    PARTY,
    SCHEMA,
    FigureRow,
    JudgmentRow,
    Kind,
    Layout,
    Number,
    RowCoordinates,
    Schema,
    SheetSpec,
    column,
    coordinates_field,
    note_column,
    quote_column,
    records_by_column,
    source_column,
)
from briefing.workbook import workbook_bytes
from tests.conftest import ROOT, cell, set_cells

QUOTE = "Russia has lost 1,087 soldiers over the past day."


# As in briefing/schema.py, each field's default is its column declaration.
@dataclasses.dataclass(frozen=True, kw_only=True)
class CasualtyRow:
    """A small sheet a newcomer might add: daily casualty claims."""

    id: str = column("ID", Kind.ID, "A unique ID such as C1.", "C1", required=True)
    side: str = column(
        "Side", Kind.CHOICE, "Whose losses.", "Russia", required=True, vocabulary=PARTY
    )
    count: Number = column("Count", Kind.NUMBER, "How many.", "1087", required=True)
    day: dt.date | None = column("Day", Kind.DATE, "The day counted.", "2024-06-14", since="9.1")
    source: str = source_column()
    quote: str = quote_column()
    note: str = note_column()
    coordinates: dict[str, str] = coordinates_field()


CASUALTIES = SheetSpec(
    "Casualties", CasualtyRow, Layout.RECORDS, "Daily casualty claims.", since="9.0"
)
EXTENDED = Schema((*SCHEMA.sheets, CASUALTIES))
ROW: dict[str, CellValue] = {
    "ID": "C1",
    "Side": "Russia",
    "Count": 1087,
    "Day": "2024-06-14",
    "Source": "S1",
    "Quote": QUOTE,
    "Note": "analyst only",
}


def extended_workbook(path: Path, *rows: dict[str, CellValue]) -> Path:
    records, briefing = example_records()
    path.write_bytes(workbook_bytes({**records, "Casualties": list(rows)}, briefing, EXTENDED))
    return path


def test_a_new_sheet_reaches_init_and_its_guide(tmp_path: Path) -> None:
    path = init_workbook(tmp_path / "desk.xlsx", schema=EXTENDED)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[-2:] == ["Casualties", "Guide"]
    headers = [cell.value for cell in book["Casualties"][1]]
    assert headers == ["ID", "Side", "Count", "Day", "Source", "Quote", "Note"]
    guide = [row[:2] for row in book["Guide"].iter_rows(min_row=2, values_only=True)]
    assert [column for sheet, column in guide if sheet == "Casualties"] == headers
    assert any(
        row[5] == "The day counted. (Added in briefing 9.1.)"
        for row in book["Guide"].iter_rows(values_only=True)
    )


def test_a_new_sheet_is_checked_like_the_others(tmp_path: Path) -> None:
    path = extended_workbook(
        tmp_path / "desk.xlsx", {**ROW, "Source": "S9"}, {**ROW, "ID": "C2", "Count": 7}
    )
    messages = [str(p) for p in check_workbook(path, EXTENDED).problems if p.is_error]
    assert messages == [
        "Casualties!E2: unknown source 'S9'; the Sources sheet has: S1",
        "Casualties!C3: the count 7 does not appear in its quote (F3); check the number or "
        "the quote",
    ]


def test_a_judgment_may_rest_on_a_record_of_a_new_sheet(tmp_path: Path) -> None:
    path = extended_workbook(tmp_path / "desk.xlsx", ROW)
    set_cells(path, {cell("Judgments", "Based on", 2): "C1"})
    dossier = load_dossier(path, EXTENDED)
    assert dossier.rows(JudgmentRow)[0].based_on == ("C1",)
    context = build_context(dossier)
    assert context.judgments[0]["citation"] == "[S1]"


def test_a_new_sheet_reaches_the_template_context(tmp_path: Path) -> None:
    dossier = load_dossier(extended_workbook(tmp_path / "desk.xlsx", ROW), EXTENDED)
    assert dossier.rows(CasualtyRow)[0].count == 1087
    context = build_context(dossier)
    assert context.records["casualties"] == [
        {
            "id": "C1",
            "side": "Russia",
            "count": "1,087",
            "day": "14 June 2024",
            "source": "S1",
            "quote": QUOTE,
            "citation": "[S1]",
        }
    ]
    template = tmp_path / "casualties.txt"
    template.write_text(
        "{% for c in records.casualties %}{{ c.side }}: {{ c.count }} {{ c.citation }}{% endfor %}"
    )
    properties = document_properties(dossier, dt.datetime(2024, 6, 14, tzinfo=dt.UTC))
    assert render_document(".txt", template, context.as_dict(), properties) == (
        b"Russia: 1,087 [S1]"
    )


def test_a_workbook_made_before_a_new_sheet_builds_with_one_warning(tmp_path: Path) -> None:
    records, briefing = example_records()
    path = tmp_path / "old.xlsx"
    path.write_bytes(workbook_bytes(records, briefing))  # today's schema: no Casualties
    dossier = load_dossier(path, EXTENDED)
    about = [p for p in dossier.problems if p.sheet == "Casualties"]
    assert [(p.severity, p.message) for p in about] == [
        (
            Severity.WARNING,
            "missing sheet 'Casualties' (added in briefing 9.0); read as empty: add it from a "
            "workbook made by 'briefing init'",
        )
    ]
    assert build_context(dossier).records["casualties"] == []


def test_a_workbook_made_before_a_new_column_builds_with_one_warning(tmp_path: Path) -> None:
    path = extended_workbook(tmp_path / "desk.xlsx", ROW, {**ROW, "ID": "C2"})
    book = openpyxl.load_workbook(path)
    book["Casualties"].delete_cols(4)  # the Day column, added in 9.1
    book.save(path)
    dossier = load_dossier(path, EXTENDED)
    about = [str(p) for p in dossier.problems if p.sheet == "Casualties"]
    assert about == [
        "Casualties: warning: missing column 'Day' (added in briefing 9.1); read as empty: "
        "add it to the header row"
    ]
    assert [row.day for row in dossier.rows(CasualtyRow)] == [None, None]


def test_a_missing_required_sheet_is_still_an_error(tmp_path: Path) -> None:
    path = extended_workbook(tmp_path / "desk.xlsx", ROW)
    book = openpyxl.load_workbook(path)
    del book["Timeline"]
    book.save(path)
    with pytest.raises(InvalidWorkbook) as raised:
        load_dossier(path, EXTENDED)
    assert next(str(p) for p in raised.value.problems if p.is_error).startswith(
        "Timeline: missing sheet 'Timeline'; the workbook has: Briefing, Sources"
    )


def test_a_new_sheet_reaches_the_docs() -> None:
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import make_docs
    finally:
        sys.path.pop(0)
    text = make_docs.render(EXTENDED)
    assert "## Casualties\n\nDaily casualty claims. Added in briefing 9.0;" in text
    assert "| Count | yes | number |  | How many. | 1087 |" in text
    assert "| Day |  | date |  | The day counted. (Added in briefing 9.1.) | 2024-06-14 |" in text


def test_any_record_reference_names_every_sheet_with_ids() -> None:
    based_on = dict(SCHEMA.sheet("Judgments").fields)["based_on"]
    assert based_on.refers_to == ANY_RECORD
    assert SCHEMA.targets(based_on) == ("Sources", "Demands", "Reactions", "Figures", "Judgments")
    assert EXTENDED.targets(based_on)[-1] == "Casualties"
    assert SCHEMA.accepts(based_on) == (
        "an ID from Sources or Demands or Reactions or Figures or Judgments"
    )


@pytest.mark.parametrize(
    ("name", "has_quotes", "cites_sources", "key"),
    [
        pytest.param("Sources", False, False, "sources", id="sources"),
        pytest.param("Figures", True, True, "figures", id="figures"),
        pytest.param("Judgments", False, False, "judgments", id="judgments"),
        pytest.param("Timeline", True, True, "timeline", id="timeline"),
    ],
)
def test_sheet_roles_come_from_the_columns(
    name: str, has_quotes: bool, cites_sources: bool, key: str
) -> None:
    spec = SCHEMA.sheet(name)
    assert (spec.has_quotes, spec.cites_sources, spec.key) == (has_quotes, cites_sources, key)


def test_the_schema_finds_sheets_by_name_and_by_record_class() -> None:
    assert SCHEMA.sheet_of(FigureRow) is SCHEMA.sheet("Figures")
    with pytest.raises(KeyError):
        SCHEMA.sheet("Casualties")
    with pytest.raises(KeyError):
        SCHEMA.sheet_of(CasualtyRow)


def test_private_columns_are_the_analysts_own() -> None:
    private = {
        (spec.name, column.header)
        for spec in SCHEMA.sheets
        for column in spec.columns
        if column.private
    }
    assert private == {
        (sheet, header)
        for sheet in ("Demands", "Reactions", "Figures")
        for header in ("Note", "Review")
    }


def test_vocabulary_finds_codes_whatever_their_case_and_spacing() -> None:
    assert PARTY.find("  united   STATES ") is not None
    assert PARTY.find("Atlantis") is None


def test_row_coordinates_name_each_cell_of_their_row() -> None:
    coordinates = RowCoordinates({"id": "A", "value": "I", "note": ""}, 7)
    assert dict(coordinates) == {"id": "A7", "value": "I7", "note": ""}
    assert len(coordinates) == 3
    with pytest.raises(KeyError):
        coordinates["quote"]


CASUALTIES_CLAIMED = [
    CasualtyRow(
        id=f"C{n}",
        side=side,
        count=count,
        day=dt.date(2024, 6, 14),
        source="S1",
        quote=QUOTE,
        note="",
        coordinates={"id": f"A{n + 1}"},
    )
    for n, (side, count) in enumerate([("Russia", 1087), ("Ukraine", 12.5)], start=1)
]


def by_column(records: list[Any]) -> dict[str, list[Any]]:
    return {f.name: [getattr(r, f.name) for r in records] for f in dataclasses.fields(records[0])}


@pytest.mark.parametrize(
    "records",
    [list(example_dossier().rows(FigureRow)), CASUALTIES_CLAIMED],
    ids=["slotted records", "records without slots"],
)
def test_records_by_column_are_the_records_made_row_by_row(records: list[Any]) -> None:
    made = records_by_column(type(records[0]), by_column(records))
    assert made == records
    assert [r.coordinates for r in made] == [r.coordinates for r in records]  # compare=False


def test_records_by_column_take_defaults_and_refuse_a_missing_field_or_a_short_column() -> None:
    figures = list(example_dossier().rows(FigureRow))
    columns = by_column(figures)
    del columns["coordinates"]
    assert [r.coordinates for r in records_by_column(FigureRow, columns)] == [{}] * len(figures)
    del columns["id"]
    with pytest.raises(TypeError, match="no column for the field 'id'"):
        records_by_column(FigureRow, columns)
    short = {**by_column(figures), "quote": ["It shot down 17 drones."]}
    with pytest.raises(ValueError, match="the column 'quote' is not 7 long"):
        records_by_column(FigureRow, short)


@dataclasses.dataclass(frozen=True, slots=True)
class Doubled:
    """A slotted record whose __post_init__ fills a field: made by its __init__, row by row."""

    value: int
    double: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "double", self.value * 2)


def test_records_by_column_run_a_post_init_and_refuse_a_column_of_no_field() -> None:
    assert records_by_column(Doubled, {"value": [1, 2]}) == [Doubled(1, 2), Doubled(2, 4)]
    figures = list(example_dossier().rows(FigureRow))
    with pytest.raises(TypeError, match=r"FigureRow: no field for the columns \['analyst'\]"):
        records_by_column(FigureRow, {**by_column(figures), "analyst": [""] * len(figures)})
