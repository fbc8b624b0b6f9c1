"""The desk example: a month's workbook and its 13 June copy, made by workbooks/make_desk.py."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType

import pytest

from briefing.model import CellValue
from briefing.pipeline import build_memo, check_workbook
from briefing.schema import SHEETS, Layout
from briefing.workbook import read_workbook
from tests.conftest import ROOT, memo_text

NOW = dt.datetime(2024, 6, 14, 18, 0, tzinfo=dt.UTC)
MADE_UP_NOTE = "MADE UP for this example: not a reported figure."


@pytest.fixture(scope="module")
def make_desk() -> ModuleType:
    sys.path.insert(0, str(ROOT / "workbooks"))
    try:
        import make_desk
    finally:
        sys.path.pop(0)
    return make_desk


@pytest.fixture
def desk(tmp_path: Path, make_desk: ModuleType) -> tuple[Path, Path]:
    """(the workbook as of 14 June, its copy as of 13 June), written from the JSON."""
    written: tuple[Path, Path] = make_desk.write_desk(tmp_path)
    return written


def test_both_workbooks_pass_check(desk: tuple[Path, Path]) -> None:
    for path in desk:
        assert check_workbook(path).problems == ()


def test_the_committed_workbooks_hold_the_records_file(make_desk: ModuleType) -> None:
    """The .xlsx files are made from workbooks/desk-2024-06.json; they must agree."""
    for path, before_edits in ((make_desk.DESK, False), (make_desk.EARLIER, True)):
        records, briefing = make_desk.desk_records(before_edits=before_edits)
        assert _written(path) == _expected(records, briefing), path.name
        assert check_workbook(path).problems == ()


def _written(path: Path) -> dict[str, object]:
    raw = read_workbook(path)
    found: dict[str, object] = {}
    for spec in SHEETS:
        sheet = raw.sheet(spec.name)
        assert sheet is not None
        headers = dict(sheet.headers)
        rows = [
            {headers[letter]: _plain(cell.value) for letter, cell in row.cells.items()}
            for row in sheet.rows
        ]
        if spec.layout is Layout.FIELDS:
            found[spec.name] = {row["Field"]: row["Value"] for row in rows if "Value" in row}
        else:
            found[spec.name] = rows
    return found


def _expected(
    records: Mapping[str, Sequence[Mapping[str, CellValue]]], briefing: Mapping[str, CellValue]
) -> dict[str, object]:
    expected: dict[str, object] = {}
    for spec in SHEETS:
        if spec.layout is Layout.FIELDS:
            expected[spec.name] = {k: v for k, v in briefing.items() if v != ""}
        else:
            expected[spec.name] = [
                {k: v for k, v in row.items() if v != ""} for row in records[spec.name]
            ]
    return expected


def _plain(value: object) -> object:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    return value


def test_the_copy_of_13_june_lacks_the_work_of_14_june(make_desk: ModuleType) -> None:
    now, before = (make_desk.desk_records(before_edits=flag) for flag in (False, True))
    ids = [{row["ID"] for row in records["Demands"]} for records, _ in (now, before)]
    assert "D1" in ids[0]
    assert "D1" not in ids[1]
    assert now[1]["Date"] == "2024-06-14"
    assert before[1]["Date"] == "2024-06-13"
    withdrawn = [{r["ID"]: r.get("Withdrawn") for r in rec["Demands"]} for rec, _ in (now, before)]
    assert withdrawn[0]["D11"] == "2024-06-14"
    assert withdrawn[1]["D11"] == ""


def test_the_brief_of_14_june_says_what_changed_since_13_june(
    tmp_path: Path, desk: tuple[Path, Path]
) -> None:
    workbook, earlier = desk
    memo = tmp_path / "desk-2024-06-14.docx"
    build_memo(workbook, memo, memo_date=dt.date(2024, 6, 14), since=earlier, now=NOW)
    lines = memo_text(memo).splitlines()
    text = "\n".join(lines)

    assert "INFORMATION AS OF: | 14 June 2024" in lines
    (heading,) = [line for line in lines if line.endswith("What changed since 13 June 2024")]
    counts = lines[lines.index(heading) + 1]
    assert counts == (
        "5 new demands, 6 new reactions, 4 new figures, 1 new judgment, 4 new timeline events, "
        "15 new sources, 1 reaction removed, 1 reaction changed, 1 figure changed, "
        "1 demand withdrawn, 1 judgment revised."
    )
    # F5 (12 June) is in no annex of the 14 June edition: the line gives no ID to follow.
    assert "Figure changed: Ukraine’s Air Force, Shahed drones shot down, 9 (Value 13 → 9)" in lines
    assert any(
        line.startswith("Demand withdrawn on 14 June 2024: MADE-UP EXAMPLE") for line in lines
    )
    assert any(line.startswith("Judgment J1 revised:") for line in lines)
    revised = "Revised on 14 June 2024; it was likely, moderate confidence, as of 10 June 2024."
    assert revised in text
    # The day's figures, and the trend of the General Staff's daily count.
    (f17,) = [line for line in lines if line.startswith("F17 | 14 June 2024 |")]
    assert "| Ukraine’s Air Force |" in f17
    assert "| 17 |" in f17
    assert "reported 1,140 Russian soldiers killed or wounded on 13 June" in text
    # Note columns are the analyst's: the made-up marks stay in the workbook.
    assert MADE_UP_NOTE not in text
    # Records dated after 14 June stay out: F21 (30 June), R14 (21 June), the 25 June talks.
    assert "F21" not in text
    assert "Blinken" not in text
    assert "accession negotiations with Ukraine and Moldova in Luxembourg" not in text


def test_the_weekly_edition_builds_with_totals(tmp_path: Path, desk: tuple[Path, Path]) -> None:
    workbook, earlier = desk
    memo = tmp_path / "week.docx"
    build_memo(workbook, memo, memo_date=dt.date(2024, 6, 14), days=7, since=earlier, now=NOW)
    lines = memo_text(memo).splitlines()

    assert "INFORMATION AS OF: | 14 June 2024 (records of 8–14 June 2024)" in lines
    assert "Totals" in lines
    # A rate ("a month") is never added, and the period figure of 10 May to 10 June is listed.
    assert not any(line.startswith("Vladimir Putin | Ukrainian servicemen") for line in lines)
    assert any(line.startswith("F11 | 10 May–10 June 2024") for line in lines)
