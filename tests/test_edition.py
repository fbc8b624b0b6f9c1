"""Dated editions: the window's dated records, the standing ones in force, the sources they cite."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from briefing.context import build_context
from briefing.edition import select_edition
from briefing.errors import EmptyEdition
from briefing.model import CellValue, Dossier, Edition
from briefing.pipeline import example_records, load_dossier
from briefing.schema import (
    DemandRow,
    FigureRow,
    JudgmentRow,
    ReactionRow,
    SourceRow,
    TimelineRow,
)
from briefing.workbook import workbook_bytes

Rows = list[dict[str, CellValue]]


def source(source_id: str) -> dict[str, CellValue]:
    return {"ID": source_id, "Title": f"Report {source_id}", "Reliability": "B", "Credibility": "2"}


def figure(
    figure_id: str, date: str, source_id: str = "S1", until: str = ""
) -> dict[str, CellValue]:
    return {
        "ID": figure_id,
        "Date": date,
        "Until": until,
        "Claimed by": "Ukraine's air force",
        "Metric": "drones shot down",
        "Value": 10 + int(figure_id[1:]),
        "Status": "claimed",
        "Source": source_id,
        "Quote": f"It shot down {10 + int(figure_id[1:])} drones.",
    }


def reaction(reaction_id: str, date: str, source_id: str = "S1") -> dict[str, CellValue]:
    return {
        "ID": reaction_id,
        "Date": date,
        "Actor": f"Official {reaction_id}",
        "Stance": "opposes",
        "Summary": "Rejected it.",
        "Source": source_id,
        "Quote": "We reject it.",
    }


def demand(
    demand_id: str, stated: str, withdrawn: str = "", source_id: str = "S1"
) -> dict[str, CellValue]:
    return {
        "ID": demand_id,
        "Party": "Russia",
        "Demand": f"Demand {demand_id}",
        "Stated": stated,
        "Withdrawn": withdrawn,
        "Source": source_id,
        "Quote": "They demand it.",
    }


def judgment(judgment_id: str, as_of: str, likelihood: str, based_on: str) -> dict[str, CellValue]:
    return {
        "ID": judgment_id,
        "As of": as_of,
        "Judgment": f"Judgment {judgment_id}",
        "Likelihood": likelihood,
        "Confidence": "moderate",
        "Based on": based_on,
    }


RECORDS: dict[str, Rows] = {
    "Sources": [source(s) for s in ("S1", "S2", "S3", "S4", "S5")],
    "Figures": [
        figure("F1", "2024-06-14"),
        figure("F2", "2024-06-01", "S2"),
        figure("F3", "2024-06"),  # a month: it meets any window in June
        figure("F4", "2024-06-10", until="2024-06-12"),  # a period ending before the 14th
        figure("F5", "2024-06-15", "S5"),  # after the edition's day
    ],
    "Reactions": [
        reaction("R1", "2024-06-14"),
        reaction("R2", "2024-06-13"),
        reaction("R3", ""),  # undated: always kept
    ],
    "Demands": [
        demand("D1", "2024-06-01"),
        demand("D2", "2024-06-01", withdrawn="2024-06-14", source_id="S3"),
        demand("D3", "2024-06-15"),
        demand("D4", "2024-06-01", withdrawn="2024-06-20"),
        demand("D5", ""),
    ],
    "Judgments": [
        judgment("J1", "2024-06-01", "likely", "D1"),
        judgment("J1", "2024-06-14", "very likely", "D1"),
        judgment("J2", "2024-06-20", "unlikely", "D1"),
        judgment("J3", "2024-06-02", "likely", "F2"),  # rests on a figure outside the window
    ],
    "Timeline": [
        {"Date": "2022-02", "Event": "Invasion.", "Source": "S1", "Quote": "q"},
        {"Date": "2024-06-20", "Event": "Later.", "Source": "S4", "Quote": "q"},
    ],
}


@pytest.fixture
def desk(tmp_path: Path) -> Dossier:
    _, briefing = example_records()
    path = tmp_path / "desk.xlsx"
    path.write_bytes(workbook_bytes(RECORDS, briefing))
    return load_dossier(path)


def ids(dossier: Dossier, record: type[Any]) -> list[str]:
    return [row.id for row in dossier.rows(record)]


def test_a_day_holds_its_dated_records_and_the_standing_ones_in_force(desk: Dossier) -> None:
    edition = select_edition(desk, Edition(dt.date(2024, 6, 14)))
    assert ids(edition, FigureRow) == ["F1", "F3"]
    assert ids(edition, ReactionRow) == ["R1", "R3"]
    assert ids(edition, DemandRow) == ["D1", "D4", "D5"]
    assert [(j.id, j.likelihood) for j in edition.rows(JudgmentRow)] == [
        ("J1", "very likely"),
        ("J3", "likely"),
    ]
    assert [e.event for e in edition.rows(TimelineRow)] == ["Invasion."]
    # S2 through J3's figure; not S3 (withdrawn demand), S4 (later event) or S5 (later figure).
    assert ids(edition, SourceRow) == ["S1", "S2"]


def test_a_week_holds_the_days_before_too(desk: Dossier) -> None:
    edition = select_edition(desk, Edition(dt.date(2024, 6, 14), days=7))
    assert ids(edition, FigureRow) == ["F1", "F3", "F4"]
    assert ids(edition, ReactionRow) == ["R1", "R2", "R3"]
    assert Edition(dt.date(2024, 6, 14), days=7).window == "8–14 June 2024"


@pytest.mark.parametrize(
    ("date", "days", "window"),
    [
        pytest.param(dt.date(2024, 6, 14), 1, "14 June 2024", id="day"),
        pytest.param(dt.date(2024, 7, 3), 7, "27 June–3 July 2024", id="across-months"),
        pytest.param(dt.date(2024, 1, 2), 3, "31 December 2023–2 January 2024", id="across-years"),
    ],
)
def test_windows_read_as_a_reader_writes_them(date: dt.date, days: int, window: str) -> None:
    assert Edition(date, days).window == window


def test_a_revised_judgment_says_what_it_replaced(desk: Dossier) -> None:
    context = build_context(select_edition(desk, Edition(dt.date(2024, 6, 14))))
    first = context.judgments[0]
    assert (first["id"], first["as_of"]) == ("J1", "14 June 2024")
    assert first["revised"] == (
        "Revised on 14 June 2024; it was likely, moderate confidence, as of 1 June 2024."
    )
    assert context.judgments[1]["revised"] == ""
    assert context.information_as_of == "14 June 2024"
    assert context.window == ""


def test_before_the_revision_the_earlier_judgment_stands(desk: Dossier) -> None:
    edition = select_edition(desk, Edition(dt.date(2024, 6, 13)))
    assert next((j.id, j.likelihood) for j in edition.rows(JudgmentRow)) == ("J1", "likely")
    assert edition.revisions == {}


def test_a_window_without_dated_records_is_one_line(desk: Dossier) -> None:
    with pytest.raises(EmptyEdition) as raised:
        select_edition(desk, Edition(dt.date(2023, 1, 1)))
    assert str(raised.value) == (
        f"{desk.path}: no reactions or figures dated 1 January 2023 (the workbook's dated "
        "records run from 1 June 2024 to 15 June 2024); choose another --date, or more --days"
    )


def test_a_workbook_without_dates_keeps_every_record(tmp_path: Path) -> None:
    records, briefing = example_records()
    undated = {**records, "Figures": [{**row, "Date": ""} for row in records["Figures"]]}
    path = tmp_path / "old.xlsx"
    path.write_bytes(workbook_bytes(undated, briefing))
    dossier = load_dossier(path)
    edition = select_edition(dossier, Edition(dt.date(2030, 1, 1)))
    assert edition.records == dossier.records
