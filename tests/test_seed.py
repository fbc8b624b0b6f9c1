"""The seed workbook: it passes `check`, matches its records file, and builds the golden memo."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from briefing.pipeline import build_memo, check_workbook, example_records
from briefing.schema import SHEETS, Kind, Layout
from briefing.workbook import read_workbook
from tests.conftest import ROOT, SEED_ARTICLE, SEED_WORKBOOK, memo_text

GOLDEN = Path(__file__).parent / "golden" / "ceasefire-2024-06-14.txt"


def test_seed_workbook_passes_check() -> None:
    report = check_workbook(SEED_WORKBOOK)
    assert report.problems == ()


def test_seed_workbook_holds_the_records_file() -> None:
    """The .xlsx is made from briefing/examples by workbooks/make_seed.py; they must agree."""
    records, briefing = example_records(with_files=True)
    raw = read_workbook(SEED_WORKBOOK)
    for spec in SHEETS:
        sheet = raw.sheet(spec.name)
        assert sheet is not None
        headers = dict(sheet.headers)
        rows = [
            {headers[letter]: cell.value for letter, cell in row.cells.items()}
            for row in sheet.rows
        ]
        if spec.layout is Layout.FIELDS:
            written = {row["Field"]: row.get("Value") for row in rows}
            expected = {k: v for k, v in briefing.items() if v != ""}
            assert {k: _plain(v) for k, v in written.items() if v is not None} == expected
            continue
        expected_rows = [{k: v for k, v in row.items() if v != ""} for row in records[spec.name]]
        assert [{k: _plain(v) for k, v in row.items()} for row in rows] == expected_rows
        dates = [c.header for c in spec.columns if c.kind is Kind.DATE]
        for row in rows:
            assert all(isinstance(row[d], dt.datetime) for d in dates if d in row)


def _plain(value: object) -> object:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    return value


def test_every_quote_is_in_the_article() -> None:
    article = " ".join(SEED_ARTICLE.read_text(encoding="utf-8").split())
    records, _ = example_records()
    quotes = [
        quote
        for rows in records.values()
        for row in rows
        if isinstance(quote := row.get("Quote"), str)
    ]
    assert len(quotes) == 42
    assert [q for q in quotes if " ".join(q.split()) not in article] == []


def test_seed_memo_matches_the_golden_text(tmp_path: Path) -> None:
    memo = tmp_path / "memo.docx"
    build_memo(SEED_WORKBOOK, memo, now=dt.datetime(2024, 6, 15, 9, 0, tzinfo=dt.UTC))
    assert memo_text(memo) == GOLDEN.read_text(encoding="utf-8")


def test_a_plain_install_ships_the_default_template(tmp_path: Path) -> None:
    """`pip install .` (not editable) must carry templates/memo.docx inside the package."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(result.stderr)
    (wheel,) = tmp_path.glob("briefing-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {
        "briefing/templates/memo.docx",
        "briefing/examples/ceasefire-2024-06-14.json",
        "briefing/cli.py",
    } <= names


def test_docs_are_generated_from_the_schema() -> None:
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import make_docs
    finally:
        sys.path.pop(0)
    assert (ROOT / "docs" / "workbook.md").read_text(encoding="utf-8") == make_docs.render()


def test_template_docs_name_every_context_variable() -> None:
    from briefing.context import CONTEXT_NAMES

    text = (ROOT / "docs" / "templates.md").read_text(encoding="utf-8")
    assert [name for name in CONTEXT_NAMES if f"`{name}`" not in text] == []
