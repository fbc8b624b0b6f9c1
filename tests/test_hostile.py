"""Hostile and unlucky input across every command: one clear line, nothing lost, no traceback."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import IO, Any

import openpyxl
import pytest
from openpyxl.utils.datetime import CALENDAR_MAC_1904
from typer.testing import CliRunner

from briefing.cli import app
from briefing.pipeline import load_dossier
from briefing.schema import DemandRow, FigureRow, SourceRow
from briefing.text import PartialDate
from briefing.workbook import read_workbook, workbook_bytes
from tests.conftest import (
    NOT_WORKBOOKS,
    BadFile,
    InstallOffice,
    cell,
    complete_pdf,
    coordinate,
    csv_file,
    extra_cell,
    field_cell,
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
    from tests.conftest import memo_text

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
    assert [f.id for f in load_dossier(path).rows(FigureRow)] == [
        "F1",
        "F2",
        "F3",
        "F4",
        "F5",
        "F6",
        "F7",
    ]


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


# ---------------------------------------------------------------------------- failed builds
# `build --pdf --email` over an earlier memo, PDF and email draft: each failure ends in one
# line, and every earlier file stays byte for byte as it was, with nothing left beside it.

Unlucky = Callable[[pytest.MonkeyPatch, Path], None]


def read_only_folder(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    # Root writes anywhere (CI runs as root), so the disk's answer for `folder` is simulated.
    access, statvfs = os.access, os.statvfs

    def may_write(path: str | Path, mode: int) -> bool:
        return Path(path) != folder and access(path, mode)

    def read_only(path: str | Path) -> Any:
        return SimpleNamespace(f_flag=os.ST_RDONLY) if Path(path) == folder else statvfs(path)

    monkeypatch.setattr(os, "access", may_write)
    monkeypatch.setattr(os, "statvfs", read_only)


def disk_full_at_the_third_file(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    synced = []
    fsync = os.fsync

    def full(descriptor: int) -> None:
        synced.append(descriptor)
        if len(synced) == 3:  # the memo and the PDF are made; the email draft is not
            raise OSError(28, "No space left on device")
        fsync(descriptor)

    monkeypatch.setattr("briefing.output.os.fsync", full)


def email_cannot_replace_its_file(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    replace = Path.replace

    def refuse(self: Path, target: Path) -> Path:
        if Path(target).name == "memo.eml":
            raise OSError(13, "Permission denied")
        return replace(self, target)

    monkeypatch.setattr(Path, "replace", refuse)


NEEDS_LIBREOFFICE = "--pdf needs LibreOffice (soffice) installed; install it or leave out --pdf"
FREE_SPACE = "nothing was changed; check the free space in {tmp}, then try again"
TRY_AGAIN = f"{FREE_SPACE}, or leave out --pdf"


@pytest.mark.parametrize(
    ("office", "edits", "output", "unlucky", "error"),
    [
        pytest.param(None, {}, "memo.docx", None, f"{{out}}: {NEEDS_LIBREOFFICE}", id="no-soffice"),
        pytest.param(
            "fails",
            {},
            "memo.docx",
            None,
            f"{{pdf}}: LibreOffice could not convert the memo to PDF (it exited with code 1); "
            f"{TRY_AGAIN}",
            id="soffice-exits-1",
        ),
        pytest.param(
            "writes-nothing",
            {},
            "memo.docx",
            None,
            "{pdf}: LibreOffice could not convert the memo to PDF (it wrote no PDF); "
            f"{TRY_AGAIN}",
            id="soffice-writes-no-pdf",
        ),
        pytest.param(
            "cut-short",
            {},
            "memo.docx",
            None,
            "{pdf}: LibreOffice made an incomplete PDF (it does not end with %%EOF: it was cut "
            f"short); {FREE_SPACE}",
            id="pdf-cut-short-by-a-full-disk",
        ),
        pytest.param(
            "no-pages",
            {},
            "memo.docx",
            None,
            f"{{pdf}}: LibreOffice made an incomplete PDF (it has no pages); {FREE_SPACE}",
            id="pdf-without-pages",
        ),
        pytest.param(
            "converts",
            {field_cell("Email to"): None},
            "memo.docx",
            None,
            "{workbook}: --email needs the addresses in the Briefing sheet's 'Email to' field",
            id="email-without-addresses",
        ),
        pytest.param(
            "converts",
            {},
            "notes.txt/memo.docx",
            None,
            "{out}: {tmp}/notes.txt is a file, not a folder; choose another folder",
            id="folder-is-a-file",
        ),
        pytest.param(
            "converts",
            {},
            "memo.docx",
            read_only_folder,
            "{out}: cannot write in {tmp} (Read-only file system); choose another folder",
            id="read-only-folder",
        ),
        pytest.param(
            "converts",
            {},
            "memo.docx",
            disk_full_at_the_third_file,
            "{eml}: cannot be written (No space left on device); nothing was changed",
            id="disk-full-at-the-email",
        ),
        pytest.param(
            "converts",
            {},
            "memo.docx",
            email_cannot_replace_its_file,
            "{eml}: cannot be written (Permission denied); nothing was changed",
            id="email-not-replaceable",
        ),
    ],
)
def test_a_failed_build_changes_no_earlier_file(
    runner: CliRunner,
    make_workbook: MakeWorkbook,
    fake_office: InstallOffice,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    office: str | None,
    edits: dict[str, Any],
    output: str,
    unlucky: Unlucky | None,
    error: str,
) -> None:
    workbook = make_workbook(edits)
    (tmp_path / "notes.txt").write_text("notes", encoding="utf-8")
    for name in ("memo.docx", "memo.pdf", "memo.eml"):
        (tmp_path / name).write_bytes(f"earlier {name}".encode())
    before = {path.name: path.read_bytes() for path in tmp_path.iterdir()}
    fake_office(office)
    if unlucky is not None:
        unlucky(monkeypatch, tmp_path)
    out = tmp_path / output
    result = runner.invoke(app, ["build", str(workbook), "-o", str(out), "--pdf", "--email"])
    names = {
        "out": out,
        "pdf": out.with_suffix(".pdf"),
        "eml": out.with_suffix(".eml"),
        "workbook": workbook,
        "tmp": tmp_path,
    }
    assert (result.exit_code, result.stderr) == (1, f"Error: {error.format(**names)}\n")
    assert {path.name: path.read_bytes() for path in tmp_path.iterdir()} == before


def test_a_build_replaces_the_memo_pdf_and_email_together(
    runner: CliRunner, example_workbook: Path, fake_office: InstallOffice, tmp_path: Path
) -> None:
    fake_office("converts")
    out = tmp_path / "memo.docx"
    for name in ("memo.docx", "memo.pdf", "memo.eml"):
        (tmp_path / name).write_bytes(f"earlier {name}".encode())
    result = runner.invoke(
        app, ["build", str(example_workbook), "-o", str(out), "--pdf", "--email"]
    )
    assert result.exit_code == 0, result.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "desk.xlsx",
        "memo.docx",
        "memo.eml",
        "memo.pdf",
    ]
    assert out.read_bytes().startswith(b"PK")
    assert (tmp_path / "memo.pdf").read_bytes() == complete_pdf(2)
    assert (tmp_path / "memo.eml").read_bytes().startswith(b"To: desk-editor@example.org")
