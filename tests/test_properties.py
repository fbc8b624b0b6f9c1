"""Properties over many generated inputs: any cell text reaches the memo exactly; any valid
records build a memo that python-docx opens again."""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from pathlib import Path
from typing import Any

import openpyxl
from docx import Document
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from briefing.pipeline import build_memo, example_records, load_dossier
from briefing.schema import FigureRow
from briefing.text import UNSAFE_CHARACTERS, typeset
from briefing.workbook import workbook_bytes
from tests.conftest import field_cell, field_row, memo_text

PROPERTY_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
# Any character but surrogates, which no file can hold.
CELL_TEXT = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=120)


def excel_escaped(text: str) -> str:
    """Text as Excel stores it: characters XML cannot hold as _xHHHH_."""
    return re.sub(
        r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]", lambda m: f"_x{ord(m[0]):04X}_", text
    )


def what_the_memo_shows(text: str) -> str:
    """The documented rule: unholdable characters removed, outer spaces trimmed, one newline,
    quote marks and apostrophes typographic."""
    cleaned = UNSAFE_CHARACTERS.sub("", text)
    return typeset(cleaned.replace("\r\n", "\n").replace("\r", "\n").strip())


@PROPERTY_SETTINGS
@given(text=CELL_TEXT)
def test_any_cell_text_reaches_the_memo_exactly(text: str) -> None:
    # A literal _xHHHH_ would be stored by Excel as _x005F_xHHHH_; openpyxl does not do that.
    assume(not re.search(r"_x[0-9A-Fa-f]{4}_", text))
    expected = what_the_memo_shows(text)
    assume(expected)
    with tempfile.TemporaryDirectory() as folder:
        workbook = Path(folder) / "desk.xlsx"
        records, briefing = example_records()
        workbook.write_bytes(workbook_bytes(records, briefing))
        book = openpyxl.load_workbook(workbook)
        cell = book["Briefing"][f"B{field_row('BLUF')}"]  # a paragraph of its own
        cell.value = excel_escaped(text)
        cell.data_type = "s"
        book.save(workbook)
        memo = Path(folder) / "memo.docx"
        result = build_memo(workbook, memo)
        body = memo_text(memo)
    assert f"1. Bottom line up front\n{expected}\n2. Key judgments\n" in body
    removed = len(UNSAFE_CHARACTERS.findall(text))
    reported = [str(w) for w in result.warnings if w.cell == f"B{field_row('BLUF')}"]
    if removed:
        plural = "s" if removed > 1 else ""
        assert reported == [
            f"{field_cell('BLUF')}: warning: removed {removed} control character{plural} a Word "
            "document cannot hold"
        ]
    else:
        assert reported == []


ROW_TEXT = st.text(
    st.characters(exclude_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=40
).filter(lambda t: t.strip() and not re.search(r"_x[0-9A-Fa-f]{4}_", t))


@st.composite
def demand_and_reaction_rows(draw: Any) -> dict[str, list[dict[str, Any]]]:
    demands = [
        {
            "ID": f"D{index + 1}",
            "Party": draw(st.sampled_from(["Russia", "Ukraine", "NATO", "G7", "Other"])),
            "Demand": draw(ROW_TEXT),
            "Detail": draw(st.one_of(st.just(""), ROW_TEXT)),
            "Source": "S1",
            "Quote": draw(ROW_TEXT),
        }
        for index in range(draw(st.integers(min_value=0, max_value=8)))
    ]
    reactions = [
        {
            "ID": f"R{index + 1}",
            "Actor": draw(st.sampled_from(["Podolyak", "Austin", draw(ROW_TEXT)])),
            "Role": draw(st.one_of(st.just(""), ROW_TEXT)),
            "Stance": draw(st.sampled_from(["supports", "opposes", "mixed", "neutral"])),
            "Summary": draw(ROW_TEXT),
            "Source": "S1",
            "Quote": draw(ROW_TEXT),
        }
        for index in range(draw(st.integers(min_value=0, max_value=8)))
    ]
    return {"Demands": demands, "Reactions": reactions}


@st.composite
def figure_rows(draw: Any) -> list[dict[str, Any]]:
    count = draw(st.integers(min_value=0, max_value=12))
    rows = []
    for index in range(count):
        value = draw(st.integers(min_value=0, max_value=10**9))
        rows.append(
            {
                "ID": f"F{index + 1}",
                "Date": draw(st.dates()).isoformat(),
                "Claimed by": draw(ROW_TEXT),
                "Metric": draw(ROW_TEXT),
                "Value": value,
                "Status": draw(st.sampled_from(["claimed", "confirmed", "disputed"])),
                "Source": "S1",
                "Quote": f"{draw(ROW_TEXT)} {value}",
            }
        )
    return rows


@PROPERTY_SETTINGS
@given(figures=figure_rows(), others=demand_and_reaction_rows())
def test_any_valid_records_build_a_memo_word_can_open(
    figures: list[dict[str, Any]], others: dict[str, list[dict[str, Any]]]
) -> None:
    records, briefing = example_records()
    records = dict(records, Figures=figures, Judgments=[], **others)
    with tempfile.TemporaryDirectory() as folder:
        workbook = Path(folder) / "desk.xlsx"
        workbook.write_bytes(workbook_bytes(records, briefing))
        assert [f.id for f in load_dossier(workbook).rows(FigureRow)] == [f["ID"] for f in figures]
        memo = Path(folder) / "memo.docx"
        days = sorted(dt.date.fromisoformat(f["Date"]) for f in figures)
        if days:  # an edition whose window holds every figure
            build_memo(workbook, memo, memo_date=days[-1], days=(days[-1] - days[0]).days + 1)
        else:
            build_memo(workbook, memo)
        document = Document(str(memo))
    text = "\n".join(p.text for p in document.paragraphs)
    annexes = re.findall(r"^Annex [A-F]\. (\w+)", text, re.MULTILINE)
    assert ("Figures" in annexes) == bool(figures)
    assert ("Demands" in annexes) == bool(others["Demands"])
    assert ("Reactions" in annexes) == bool(others["Reactions"])
    # Annex C's figures table: ID, Date, Place, Claimed by, What, Value, ...
    printed = {
        (row.cells[0].text, row.cells[5].text)
        for table in document.tables
        if table.rows[0].cells[0].text == "ID" and len(table.columns) == 8
        for row in table.rows[1:]
    }
    for figure in figures:
        assert (figure["ID"], f"{figure['Value']:,}") in printed
