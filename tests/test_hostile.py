"""Hostile and unlucky input across every command: one clear line, nothing lost, no traceback."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import openpyxl
import pytest
from openpyxl.utils import column_index_from_string
from openpyxl.utils.datetime import CALENDAR_MAC_1904
from typer.testing import CliRunner

from briefing.cli import app
from briefing.pipeline import load_dossier
from briefing.render import default_template
from briefing.schema import DemandRow, FigureRow, SourceRow
from briefing.text import PartialDate
from briefing.workbook import read_workbook, workbook_bytes
from tests.conftest import (
    NOT_WORKBOOKS,
    ROOT,
    BadFile,
    bad_crc_workbook,
    cell,
    column_letter,
    coordinate,
    corrupt_stream_workbook,
    csv_file,
    extra_cell,
    field_cell,
    memo_text,
    patch_sheet_xml,
    spoil_part,
    strict_copy,
)

MakeWorkbook = Callable[..., Path]


BAD_FILES = [pytest.param(make, id=name) for name, make in NOT_WORKBOOKS.items()]


@pytest.mark.parametrize("make", BAD_FILES)
@pytest.mark.parametrize(
    "command",
    [
        pytest.param(["check"], id="check"),
        pytest.param(["check", "--json"], id="check-json"),
        pytest.param(["build"], id="build"),
        pytest.param(["template", "check"], id="template-check"),
        pytest.param(["extract"], id="extract"),
    ],
)
def test_bad_files_end_in_one_line_for_every_command(
    runner: CliRunner, tmp_path: Path, make: BadFile, command: list[str]
) -> None:
    suffix = ".docx" if command[0] == "template" else ".txt" if command[0] == "extract" else ".xlsx"
    path = tmp_path / f"input{suffix}"
    if command[0] == "extract" and make is csv_file:
        pytest.skip("a CSV is readable text: extract takes it as an article")
    make(path)
    out = tmp_path / ("out.xlsx" if command[0] == "extract" else "out.docx")
    extra = ["-o", str(out)] if command[0] in ("build", "extract") else []
    result = runner.invoke(app, [*command, str(path), *extra])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    if command == ["check", "--json"]:
        assert result.stdout.startswith('{"file": ')
        return
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"Error: {path}: ")
    assert not out.exists()


def test_unreadable_by_permission(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, runner: CliRunner
) -> None:
    # Root reads any file (CI runs as root), so the refusal is simulated at the open call.
    path = tmp_path / "desk.xlsx"
    path.write_bytes(workbook_bytes({}, {}))
    original = Path.open

    def refuse(
        self: Path,
        mode: str = "r",
        buffering: int = -1,
        encoding: str | None = None,
        errors: str | None = None,
        newline: str | None = None,
    ) -> IO[Any]:
        if self == path:
            raise PermissionError(13, "Permission denied")
        return original(self, mode, buffering, encoding, errors, newline)

    monkeypatch.setattr(Path, "open", refuse)
    result = runner.invoke(app, ["check", str(path)])
    assert (result.exit_code, result.stderr) == (
        1,
        f"Error: {path}: cannot be read (Permission denied)\n",
    )


def test_1904_based_workbook_reads_real_dates(make_workbook: MakeWorkbook) -> None:
    path = make_workbook()
    book = openpyxl.load_workbook(path)
    book.epoch = CALENDAR_MAC_1904
    date = coordinate("Figures", "Date", 2)
    book["Figures"][date] = dt.datetime(2024, 6, 13)  # noqa: DTZ001 - Excel cells hold no time zone
    book.save(path)
    assert load_dossier(path).rows(FigureRow)[0].date == PartialDate(2024, 6, 13)


def test_very_long_text_reaches_the_memo(
    make_workbook: MakeWorkbook, tmp_path: Path, runner: CliRunner
) -> None:
    long_text = "word " * 6000
    path = make_workbook({field_cell("BLUF"): long_text})
    out = tmp_path / "memo.docx"
    assert runner.invoke(app, ["build", str(path), "-o", str(out)]).exit_code == 0
    assert long_text.strip() in memo_text(out)


def test_excel_carriage_return_escapes(make_workbook: MakeWorkbook) -> None:
    path = make_workbook({field_cell("BLUF"): "first_x000D_\nsecond"})
    assert load_dossier(path).briefing.bluf == "first\nsecond"


def test_spaces_around_ids_choices_and_references(make_workbook: MakeWorkbook) -> None:
    dossier = load_dossier(
        make_workbook(
            {
                cell("Sources", "ID", 2): " S1\u00a0",
                cell("Demands", "Source", 2): "  S1 ",
                cell("Demands", "Party", 2): " russia ",
            }
        )
    )
    assert (
        dossier.rows(SourceRow)[0].id,
        dossier.rows(DemandRow)[0].source,
        dossier.rows(DemandRow)[0].party,
    ) == (
        "S1",
        "S1",
        "Russia",
    )


def test_hidden_sheets_rows_filters_and_short_tables_are_all_read(
    make_workbook: MakeWorkbook,
) -> None:
    path = make_workbook()
    book = openpyxl.load_workbook(path)
    figures = book["Figures"]
    figures.sheet_state = "hidden"
    figures.row_dimensions[3].hidden = True
    figures.auto_filter.ref = "A1:O8"
    figures.tables["FiguresTable"].ref = "A1:O4"  # the table stops short of the last rows
    book.save(path)
    dossier = load_dossier(path)
    assert [f.id for f in dossier.rows(FigureRow)] == ["F1", "F2", "F3", "F4", "F5", "F6", "F7"]
    assert [str(p) for p in dossier.problems] == [
        "Figures: warning: row 3 is hidden in Excel but still goes into the memo; unhide it or "
        "delete it"
    ]


def test_rows_a_filter_hides_still_print_and_are_named_in_a_warning(
    make_workbook: MakeWorkbook, tmp_path: Path, runner: CliRunner
) -> None:
    """A filter on Figures' Country shows Ukraine's figures; Excel hides the other rows."""
    unfiltered = make_workbook(name="unfiltered.xlsx")
    path = make_workbook()
    book = openpyxl.load_workbook(path)
    figures = book["Figures"]
    country = column_letter("Figures", "Country")
    figures.auto_filter.ref = figures.dimensions
    figures.auto_filter.add_filter_column(column_index_from_string(country) - 1, ["Ukraine"])
    for number in range(2, figures.max_row + 1):
        figures.row_dimensions[number].hidden = figures[f"{country}{number}"].value != "Ukraine"
    book.save(path)
    warning = (
        "Figures: warning: rows 2–5 are hidden in Excel but still go into the memo; unhide "
        "them or delete them"
    )
    checked = runner.invoke(app, ["check", str(path)])
    assert (checked.exit_code, checked.stdout) == (0, f"{warning}\n{path}: 0 errors, 1 warning\n")
    memos = []
    for workbook, warned in ((unfiltered, ""), (path, f"{warning}\n")):
        out = workbook.with_suffix(".docx")
        built = runner.invoke(app, ["build", str(workbook), "-o", str(out)])
        assert (built.exit_code, built.stderr) == (0, warned)
        memos.append(memo_text(out).replace(workbook.stem, "desk"))
    assert memos[0] == memos[1]


def test_extra_sheets_and_columns_are_ignored(make_workbook: MakeWorkbook) -> None:
    analyst = extra_cell("Figures", 1)
    path = make_workbook({analyst: "Analyst", extra_cell("Figures", 2): "AB"})
    book = openpyxl.load_workbook(path)
    book.create_sheet("Scratch")["A1"] = "notes"
    book.save(path)
    raw = read_workbook(path)
    assert [s.name for s in raw.sheets][-1] == "Scratch"
    assert [str(p) for p in load_dossier(path).problems] == [
        f"{analyst}: warning: column 'Analyst' is not part of the schema and is ignored"
    ]


# ---------------------------------------------------------------------------- files that are fine
# Issue 11, item 8: a file that is fine is read; a damaged one is named damaged, in one line.


@pytest.mark.no_oracle  # openpyxl reads no sheets from Strict Open XML
def test_a_strict_open_xml_workbook_is_checked_and_built_like_its_transitional_twin(
    make_workbook: MakeWorkbook, tmp_path: Path, runner: CliRunner
) -> None:
    transitional = make_workbook()
    (tmp_path / "strict").mkdir()
    strict = strict_copy(transitional, tmp_path / "strict" / transitional.name)
    checked = runner.invoke(app, ["check", str(strict)])
    assert (checked.exit_code, checked.stdout) == (0, f"{strict}: no problems found\n")
    memos = []
    for path in (transitional, strict):
        out = path.with_suffix(".docx")
        result = runner.invoke(app, ["build", str(path), "-o", str(out)])
        assert result.exit_code == 0, result.output
        memos.append(memo_text(out))
    assert memos[0] == memos[1]


@pytest.mark.parametrize("stored", [True, False], ids=["bad-crc", "corrupt-stream"])
@pytest.mark.parametrize(
    "command",
    [
        pytest.param(["build", "{workbook}", "-t", "{template}", "-o", "{memo}"], id="build"),
        pytest.param(["template", "check", "{template}"], id="template-check"),
    ],
)
def test_a_damaged_template_is_named_damaged(
    make_workbook: MakeWorkbook,
    tmp_path: Path,
    runner: CliRunner,
    command: list[str],
    stored: bool,
) -> None:
    template = tmp_path / "memo-template.docx"
    template.write_bytes(default_template(".docx"))
    spoil_part(template, "word/document.xml", stored=stored)
    memo = tmp_path / "memo.docx"
    places = {"workbook": make_workbook(), "template": template, "memo": memo}
    result = runner.invoke(app, [word.format(**places) for word in command])
    assert (result.exit_code, result.stderr) == (
        1,
        f"Error: {template}: the template is damaged (a part cannot be unpacked); open it in "
        "Word, which offers to repair it, or use a backup\n",
    )
    assert not memo.exists()


@pytest.mark.parametrize(
    "damage", [bad_crc_workbook, corrupt_stream_workbook], ids=["bad-crc", "corrupt-stream"]
)
@pytest.mark.parametrize(
    "command",
    [
        pytest.param(["extract", "{article}", "-o", "{damaged}"], id="extract-into"),
        pytest.param(["build", "{workbook}", "--since", "{damaged}", "-o", "{memo}"], id="since"),
    ],
)
def test_a_damaged_workbook_read_beside_another_is_named_damaged(
    make_workbook: MakeWorkbook,
    tmp_path: Path,
    runner: CliRunner,
    command: list[str],
    damage: BadFile,
) -> None:
    damaged = tmp_path / "damaged.xlsx"
    damage(damaged)
    before = damaged.read_bytes()
    article = tmp_path / "article.txt"
    article.write_text("Russia said on Friday it shot down 87 drones.\n", encoding="utf-8")
    memo = tmp_path / "memo.docx"
    places = {"workbook": make_workbook(), "article": article, "damaged": damaged, "memo": memo}
    result = runner.invoke(app, [word.format(**places) for word in command])
    assert (result.exit_code, result.stderr) == (
        1,
        f"Error: {damaged}: the file is damaged (xl/worksheets/sheet5.xml cannot be unpacked); "
        "open it in Excel, which offers to repair it, or use a backup\n",
    )
    assert damaged.read_bytes() == before
    assert not memo.exists()
    assert not list(tmp_path.glob("*.backup-*"))


@pytest.mark.parametrize(
    ("command", "message"),
    [
        pytest.param(
            ["build", "{workbook}", "-t", "/dev/null"],
            "/dev/null: the template is not a regular file; give a .docx file",
            id="build-template",
        ),
        pytest.param(
            ["template", "check", "/dev/null"],
            "/dev/null: the template is not a regular file; give a .docx file",
            id="template-check",
        ),
        pytest.param(
            ["extract", "/dev/zero", "-o", "{workbook}"],
            "/dev/zero: the article is not a regular file; give a text file",
            id="extract-article",
        ),
        pytest.param(
            ["check", "/dev/null"],
            "/dev/null: not a regular file; give the .xlsx file",
            id="check-workbook",
        ),
    ],
)
def test_a_device_is_not_a_regular_file(
    make_workbook: MakeWorkbook, runner: CliRunner, command: list[str], message: str
) -> None:
    workbook = make_workbook()
    before = workbook.read_bytes()
    result = runner.invoke(app, [word.format(workbook=workbook) for word in command])
    assert (result.exit_code, result.stderr) == (1, f"Error: {message}\n")
    assert workbook.read_bytes() == before


def _has_open(pid: int, path: Path) -> bool:
    """Whether process `pid` holds `path` open, as Linux's /proc shows it."""
    folder = Path(f"/proc/{pid}/fd")
    try:
        return any(fd.readlink() == path.resolve() for fd in folder.iterdir())
    except OSError:  # a descriptor closed while looked at, or the process ended
        return False


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs Linux's /proc")
def test_ctrl_c_during_a_build_ends_in_one_line_and_leaves_no_temporary_files(
    make_workbook: MakeWorkbook, tmp_path: Path
) -> None:
    """A real SIGINT to a real process reading a workbook of 300,000 rows."""
    path = make_workbook()
    book = openpyxl.load_workbook(path)
    book.create_sheet("Scratch")["A1"] = "notes"
    book.save(path)
    rows = "".join(
        f'<row r="{n}"><c r="A{n}"><v>{n}</v></c><c r="B{n}"><v>{n}.5</v></c></row>'
        for n in range(2, 300_002)
    )
    patch_sheet_xml(path, "Scratch", lambda xml: xml.replace("</sheetData>", rows + "</sheetData>"))
    before = sorted(tmp_path.iterdir())
    command = [sys.executable, "-c", "from briefing.cli import run; run()", "build", str(path)]
    process = subprocess.Popen(
        [*command, "-o", str(tmp_path / "memo.docx")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        while not _has_open(process.pid, path) and process.poll() is None:
            time.sleep(0.01)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=120)
    finally:
        process.kill()
    assert (process.returncode, out, err) == (
        130,
        "",
        "Error: interrupted (Ctrl-C), and no file was left half-written; run the command again "
        "to finish it\n",
    )
    assert sorted(tmp_path.iterdir()) == before
