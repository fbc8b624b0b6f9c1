"""Trend charts: chosen per claimant, metric and unit, drawn as PNG, embedded with alt text."""

from __future__ import annotations

import datetime as dt
import itertools
import struct
import subprocess
import sys
from pathlib import Path

from docx import Document
from docx.oxml.ns import qn

from briefing.edition import select_trends
from briefing.model import CellValue, Edition
from briefing.pipeline import build_memo, example_records, load_dossier
from briefing.render.chart import draw_trend
from briefing.workbook import workbook_bytes
from tests.conftest import SEED_WORKBOOK

DAY = dt.date(2024, 6, 14)
NUMBERS = itertools.count(100)  # figure IDs after the example's F1 to F7


def daily(
    claimed_by: str, metric: str, values: list[int], unit: str = "drones"
) -> list[dict[str, CellValue]]:
    return [
        {
            "ID": f"F{next(NUMBERS)}",
            "Date": (DAY - dt.timedelta(days=len(values) - 1 - index)).isoformat(),
            "Claimed by": claimed_by,
            "Metric": metric,
            "Unit": unit,
            "Value": value,
            "Status": "claimed",
            "Source": "S1",
            "Quote": f"They reported {value}.",
        }
        for index, value in enumerate(values)
    ]


def desk(tmp_path: Path, figures: list[dict[str, CellValue]]) -> Path:
    records, briefing = example_records()
    path = tmp_path / "desk.xlsx"
    others = [{**row, "Date": "2024-06-13"} for row in records["Figures"]]  # one day: no trend
    path.write_bytes(workbook_bytes({**records, "Figures": [*others, *figures]}, briefing))
    return path


def test_a_trend_keeps_one_claimant_metric_and_unit(tmp_path: Path) -> None:
    figures = [
        *daily("Ukraine's air force", "drones shot down", [10, 20, 30]),
        *daily("Russia", "drones shot down", [50, 60]),
        *daily("Ukraine's air force", "drones shot down", [5, 6], unit="Shaheds"),
        *daily("Kyiv", "people injured", [3]),  # one day: no trend
    ]
    trends = select_trends(load_dossier(desk(tmp_path, figures)), Edition(DAY))
    assert [(t.claimed_by, t.unit, [v for _, v in t.points]) for t in trends] == [
        ("Ukraine's air force", "drones", [10.0, 20.0, 30.0]),
        ("Russia", "drones", [50.0, 60.0]),
        ("Ukraine's air force", "Shaheds", [5.0, 6.0]),
    ]
    assert trends[0].first_day == dt.date(2024, 5, 16)


def test_only_days_within_30_days_up_to_the_edition_count(tmp_path: Path) -> None:
    figures = daily("Kyiv", "drones shot down", [1] * 40)
    (trend,) = select_trends(load_dossier(desk(tmp_path, figures)), Edition(DAY))
    assert len(trend.points) == 30
    assert trend.points[-1][0] == DAY
    assert (
        select_trends(load_dossier(desk(tmp_path, figures)), Edition(DAY - dt.timedelta(40))) == []
    )


def test_draw_trend_makes_a_png_of_the_memo_width() -> None:
    png = draw_trend(
        [DAY - dt.timedelta(days=1), DAY],
        [3.0, 7.0],
        title="drones shot down (Kyiv)",
        unit="drones",
        first_day=DAY - dt.timedelta(days=29),
        last_day=DAY,
    )
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (1260, 380)


def test_a_memo_with_daily_figures_shows_a_chart_with_alt_text(tmp_path: Path) -> None:
    figures = daily("Ukraine's air force", "Shahed drones shot down", [24, 17])
    memo = build_memo(desk(tmp_path, figures), tmp_path / "memo.docx").path
    document = Document(str(memo))
    assert len(document.inline_shapes) == 1
    described = [p.get("descr") for p in document.element.body.iter(qn("wp:docPr"))]
    assert described == [
        "Line chart of Shahed drones shot down claimed by Ukraine’s air force, by day, "
        "13–14 June 2024: 2 days reported, from 17 to 24; 17 on 14 June."
    ]
    text = [p.text for p in document.paragraphs]
    assert (
        "Ukraine’s air force reported 17 Shahed drones shot down on 14 June, against an average "
        "of 21 on the 2 days it reported in the 30 days to 14 June 2024 [S1]."
    ) in text


def test_a_memo_with_one_day_of_figures_has_no_chart(tmp_path: Path) -> None:
    memo = build_memo(SEED_WORKBOOK, tmp_path / "memo.docx").path
    assert len(Document(str(memo)).inline_shapes) == 0


def test_matplotlib_is_imported_only_to_draw() -> None:
    code = "import sys; from briefing import pipeline, cli; print('matplotlib' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
