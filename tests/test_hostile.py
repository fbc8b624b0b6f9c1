"""Hostile and unlucky input across every command: one clear line, nothing lost, no traceback."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import IO, Any

import openpyxl
import pytest
from docx import Document
from openpyxl.utils import column_index_from_string
from openpyxl.utils.datetime import CALENDAR_MAC_1904
from typer.testing import CliRunner

from briefing import lock
from briefing.cli import app
from briefing.extract import extract_article
from briefing.output import PDF_SECONDS
from briefing.pipeline import check_workbook, load_dossier, parallel_workers
from briefing.render import default_template
from briefing.schema import DemandRow, FigureRow, SourceRow
from briefing.text import PartialDate
from briefing.workbook import read_workbook, workbook_bytes
from tests import test_odsxml as ods
from tests.conftest import (
    CLI,
    LISTENER,
    NOT_WORKBOOKS,
    ROOT,
    SEED_ARTICLE,
    BadFile,
    InstallOffice,
    PartChange,
    add_relationship,
    add_to_body,
    add_to_paragraph_end,
    bad_crc_workbook,
    cell,
    column_letter,
    complete_pdf,
    complex_field,
    coordinate,
    corrupt_stream_workbook,
    csv_file,
    docx_file,
    escape_text,
    extra_cell,
    field_cell,
    interruptible,
    memo_text,
    needs_office,
    patch_sheet_xml,
    relationship,
    relationships,
    set_cells,
    simple_field,
    spoil_part,
    strict_copy,
    template_with,
    with_doctype,
    wordprocessing_part,
    write_example,
    write_zip,
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
        "Figures: warning: row 3 is hidden (by hand or by a filter) but still goes into the "
        "memo; unhide it or delete it"
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
        "Figures: warning: rows 2–5 are hidden (by hand or by a filter) "
        "but still go into the memo; unhide "
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


def office_variable_names_no_program(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    monkeypatch.setenv("BRIEFING_SOFFICE", str(folder / "notes.txt"))


def email_cannot_replace_its_file(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    replace = Path.replace

    def refuse(self: Path, target: Path) -> Path:
        if Path(target).name == "memo.eml":
            raise OSError(13, "Permission denied")
        return replace(self, target)

    monkeypatch.setattr(Path, "replace", refuse)


NEEDS_LIBREOFFICE = (
    "--pdf needs LibreOffice, found neither on the PATH nor where its installers put it; install "
    "it, set BRIEFING_SOFFICE to its soffice program, or leave out --pdf"
)
FREE_SPACE = "nothing was changed; check the free space in {tmp}, then try again"
TRY_AGAIN = f"{FREE_SPACE}, or leave out --pdf"


@pytest.mark.parametrize(
    ("office", "edits", "output", "unlucky", "error"),
    [
        pytest.param(None, {}, "memo.docx", None, f"{{out}}: {NEEDS_LIBREOFFICE}", id="no-soffice"),
        pytest.param(
            "converts",
            {},
            "memo.docx",
            office_variable_names_no_program,
            "{out}: BRIEFING_SOFFICE names {tmp}/notes.txt, which is not a program that can run; "
            "set it to LibreOffice's soffice program, or unset it",
            id="briefing-soffice-names-no-program",
        ),
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


# ---------------------------------------------------------------------- email recipients
# Issue 11, item 6: no recipient is silently lost, and none is written as an encoded word.


@pytest.mark.parametrize(
    ("typed", "header"),
    [
        pytest.param(
            "a@example.org\nb@example.org\nc@example.org",
            b"To: a@example.org, b@example.org, c@example.org\n",
            id="one-a-line",
        ),
        pytest.param(
            "a@example.org_x000D_\nb@example.org", b"To: a@example.org, b@example.org\n", id="crlf"
        ),
        pytest.param(
            " a@example.org ;b@example.org , \n c@example.org;",
            b"To: a@example.org, b@example.org, c@example.org\n",
            id="semicolons-commas-and-spaces",
        ),
        pytest.param(
            "desk@b\u00fccher.de; ops@\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444",
            b"To: desk@xn--bcher-kva.de, ops@xn--e1afmkfd.xn--p1ai\n",
            id="international-domains",
        ),
    ],
)
def test_every_typed_recipient_reaches_the_to_header(
    runner: CliRunner, make_workbook: MakeWorkbook, tmp_path: Path, typed: str, header: bytes
) -> None:
    path = make_workbook({field_cell("Email to"): typed})
    out = tmp_path / "memo.docx"
    result = runner.invoke(app, ["build", str(path), "-o", str(out), "--email"])
    assert result.exit_code == 0, result.output
    headers = (tmp_path / "memo.eml").read_bytes().split(b"\n\n", 1)[0] + b"\n"
    assert header in headers
    assert b"=?" not in headers.split(b"Subject:", 1)[0]


ADDRESS_HINT = "write addresses such as desk@example.org, separated by commas"


@pytest.mark.parametrize(
    ("typed", "reasons"),
    [
        pytest.param(
            "<<<@@@>>>",
            [
                "'<<<@@@>>>' is not an email address (the email address contains invalid "
                "characters before the @-sign: '<'.)"
            ],
            id="brackets-and-at-signs",
        ),
        pytest.param(
            "a@example.org b@example.org",
            [
                "'a@example.org b@example.org' is not an email address (the part after the @-sign "
                "contains invalid characters: '@', SPACE.)"
            ],
            id="separated-by-a-space",
        ),
        pytest.param(
            "ok@example.org\nDesk <desk@example.org>\n@example.org",
            [
                "'Desk <desk@example.org>' is not an email address (a display name and angle "
                "brackets around the email address are not permitted here.)",
                "'@example.org' is not an email address (there must be something before the "
                "@-sign.)",
            ],
            id="one-bad-line-of-three",
        ),
        pytest.param(
            "d\u00e9sk@example.org",
            [
                "'d\u00e9sk@example.org' is not an email address (internationalized characters "
                "before the @-sign are not supported: '\u00e9'.)"
            ],
            id="mailbox-in-other-scripts",
        ),
    ],
)
def test_an_address_that_is_not_one_is_an_error_at_its_cell(
    runner: CliRunner, make_workbook: MakeWorkbook, typed: str, reasons: list[str]
) -> None:
    where = field_cell("Email to")
    path = make_workbook({where: typed})
    result = runner.invoke(app, ["check", str(path)])
    assert (result.exit_code, result.stdout.splitlines()) == (
        1,
        [
            *(f"{where}: {reason}; {ADDRESS_HINT}" for reason in reasons),
            f"{path}: {len(reasons)} error{'s' if len(reasons) > 1 else ''}, 0 warnings",
        ],
    )


# ---------------------------------------------------------------------- sources' files
# Issue 11, item 7: a workbook cannot make `check` print other files. The workbook stands in
# root/workbooks, so root/workbooks and root are the folders a source's text copy may be in.

SOURCE_FILE = cell("Sources", "File", 2)
NOT_RELATIVE = (
    "the source file '{file}' is not a relative path; give the text copy's path relative to "
    "the workbook, such as ../seeds/article.txt"
)
OUTSIDE = (
    "the source file '{file}' leads outside {desk} and {root}; move the text copy into one of "
    "them, or name its folder with --sources-dir"
)
LOOKED_FOR = "give a text file's path relative to the workbook (looked for {desk}/{file})"

HIDDEN = (
    "the source file '{file}' leads into a hidden folder or file ({hidden}), where keys and "
    "settings are kept, not sources; move the text copy into a folder such as ../seeds"
)


def nothing(desk: Path) -> None:
    """No file is made: the path is refused before anything is opened."""


def secret(place: Path) -> Path:
    """A text file of the kind a home folder's hidden folders hold, "root:" and all."""
    place.parent.mkdir(parents=True, exist_ok=True)
    place.write_text("root: -----BEGIN OPENSSH PRIVATE KEY----- b3BlbnNzaC1r\n", encoding="utf-8")
    return place


@pytest.mark.parametrize(
    ("file", "prepare", "message"),
    [
        pytest.param("/etc/passwd", nothing, NOT_RELATIVE, id="etc-passwd"),
        pytest.param("/proc/self/environ", nothing, NOT_RELATIVE, id="proc-environ"),
        pytest.param("/dev/zero", nothing, NOT_RELATIVE, id="dev-zero"),
        pytest.param("C:\\Windows\\win.ini", nothing, NOT_RELATIVE, id="windows-drive"),
        pytest.param("\\\\server\\share\\notes.txt", nothing, NOT_RELATIVE, id="windows-share"),
        pytest.param("../../x.txt", nothing, OUTSIDE, id="two-folders-up"),
        pytest.param("../" * 12 + "etc/passwd", nothing, OUTSIDE, id="climbs-to-etc"),
        pytest.param(
            "notes.txt",
            lambda desk: (desk / "notes.txt").symlink_to("/etc/passwd"),
            OUTSIDE,
            id="symlink-out",
        ),
        pytest.param(
            "etc/passwd",
            lambda desk: (desk / "etc").symlink_to("/etc", target_is_directory=True),
            OUTSIDE,
            id="symlinked-folder-out",
        ),
        pytest.param(
            "zero.txt",
            lambda desk: (desk / "zero.txt").symlink_to("/dev/zero"),
            OUTSIDE,
            id="symlink-to-dev-zero",
        ),
        pytest.param(
            "../.ssh/id_rsa",
            lambda desk: secret(desk.parent / ".ssh" / "id_rsa"),
            HIDDEN.replace("{hidden}", ".ssh"),
            id="hidden-folder-above",
        ),
        pytest.param(
            "../.netrc",
            lambda desk: secret(desk.parent / ".netrc"),
            HIDDEN.replace("{hidden}", ".netrc"),
            id="hidden-file-above",
        ),
        pytest.param(
            "notes.txt",
            lambda desk: (desk / "notes.txt").symlink_to(secret(desk.parent / ".aws" / "keys")),
            HIDDEN.replace("{hidden}", ".aws"),
            id="symlink-into-hidden-folder",
        ),
        pytest.param(
            "sources",
            lambda desk: (desk / "sources").mkdir(),
            "the source file '{file}' is a folder; " + LOOKED_FOR,
            id="folder",
        ),
        pytest.param(
            "pipe.txt",
            lambda desk: os.mkfifo(desk / "pipe.txt"),
            "the source file '{file}' is not a regular file (a device, a pipe or a socket); "
            + LOOKED_FOR,
            id="pipe",
        ),
        pytest.param(
            "loop.txt",
            lambda desk: (desk / "loop.txt").symlink_to("loop.txt"),
            "the source file '{file}' is a symbolic link that leads to no file (a missing one, "
            "or itself); " + LOOKED_FOR,
            id="symlink-loop",
        ),
        pytest.param(
            "moved.txt",
            lambda desk: (desk / "moved.txt").symlink_to("gone.txt"),
            "the source file '{file}' is a symbolic link that leads to no file (a missing one, "
            "or itself); " + LOOKED_FOR,
            id="dangling-symlink",
        ),
        pytest.param(
            "utf16.txt",
            lambda desk: (desk / "utf16.txt").write_bytes("Kyiv said".encode("utf-16-le")),
            "the source file '{file}' is not text (it holds NUL characters); save it as UTF-8 text",
            id="nul-characters",
        ),
    ],
)
def test_a_source_file_outside_the_desk_or_not_text_is_one_problem_at_its_cell(
    runner: CliRunner,
    make_workbook: MakeWorkbook,
    tmp_path: Path,
    file: str,
    prepare: Callable[[Path], object],
    message: str,
) -> None:
    desk = tmp_path / "workbooks"
    desk.mkdir()
    prepare(desk)
    path = make_workbook({SOURCE_FILE: file}, name="workbooks/desk.xlsx")
    result = runner.invoke(app, ["check", str(path)])
    problem = message.format(file=file, desk=desk, root=tmp_path)
    assert (result.exit_code, result.stdout) == (
        1,
        f"{SOURCE_FILE}: {problem}\n{path}: 1 error, 0 warnings\n",
    )
    assert "root:" not in result.output  # nothing of /etc/passwd


def test_a_desk_in_a_hidden_folder_reads_the_sources_beside_it(
    runner: CliRunner, make_workbook: MakeWorkbook, tmp_path: Path
) -> None:
    """Only a hidden folder below the workbook's folder, or the one above it, is refused."""
    seeds = tmp_path / ".desk" / "seeds"
    seeds.mkdir(parents=True)
    (seeds / SEED_ARTICLE.name).write_bytes(SEED_ARTICLE.read_bytes())
    (tmp_path / ".desk" / "workbooks").mkdir()
    path = make_workbook(
        {SOURCE_FILE: f"../seeds/{SEED_ARTICLE.name}"}, name=".desk/workbooks/desk.xlsx"
    )
    result = runner.invoke(app, ["check", str(path)])
    assert (result.exit_code, result.stdout) == (0, f"{path}: no problems found\n")


@pytest.fixture
def shared_sources(tmp_path: Path) -> Path:
    """A copy of the seed article in root/shared, a desk's shared drive: outside the folders
    of a workbook in root/desk/workbooks."""
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / SEED_ARTICLE.name).write_bytes(SEED_ARTICLE.read_bytes())
    (tmp_path / "desk" / "workbooks").mkdir(parents=True)
    return shared


@pytest.mark.parametrize("command", [["check"], ["build"]], ids=["check", "build"])
def test_sources_dir_lets_a_file_lead_to_the_folder_it_names(
    runner: CliRunner,
    make_workbook: MakeWorkbook,
    tmp_path: Path,
    shared_sources: Path,
    command: list[str],
) -> None:
    file = f"../../shared/{SEED_ARTICLE.name}"
    path = make_workbook({SOURCE_FILE: file}, name="desk/workbooks/desk.xlsx")
    extra = ["-o", str(tmp_path / "memo.docx")] if command == ["build"] else []
    refused = runner.invoke(app, [*command, str(path), *extra])
    assert refused.exit_code == 1
    assert (
        f"{SOURCE_FILE}: the source file '{file}' leads outside {path.parent} and "
        f"{tmp_path / 'desk'}; move the text copy into one of them, or name its folder with "
        "--sources-dir"
    ) in refused.output
    allowed = runner.invoke(
        app, [*command, str(path), *extra, "--sources-dir", str(shared_sources)]
    )
    assert allowed.exit_code == 0, allowed.output
    if command == ["check"]:
        assert allowed.stdout == f"{path}: no problems found\n"


def test_sources_dir_still_keeps_other_folders_out(
    runner: CliRunner, make_workbook: MakeWorkbook, tmp_path: Path, shared_sources: Path
) -> None:
    file = "../" * 12 + "etc/passwd"
    path = make_workbook({SOURCE_FILE: file}, name="desk/workbooks/desk.xlsx")
    result = runner.invoke(app, ["check", str(path), "--sources-dir", str(shared_sources)])
    assert (result.exit_code, result.stdout) == (
        1,
        f"{SOURCE_FILE}: the source file '{file}' leads outside {path.parent}, "
        f"{tmp_path / 'desk'} and {shared_sources}; move the text copy into one of them, or "
        f"name its folder with --sources-dir\n{path}: 1 error, 0 warnings\n",
    )


@pytest.mark.parametrize(
    ("name", "prepare", "found"),
    [
        pytest.param("missing", nothing, "does not exist", id="missing"),
        pytest.param(
            "file.txt", lambda p: p.write_text("x", encoding="utf-8"), "is not a folder", id="file"
        ),
    ],
)
def test_a_sources_dir_that_is_no_folder_is_one_line(
    runner: CliRunner,
    make_workbook: MakeWorkbook,
    tmp_path: Path,
    name: str,
    prepare: Callable[[Path], object],
    found: str,
) -> None:
    path = make_workbook()
    given = tmp_path / name
    prepare(given)
    for command in (["check"], ["build", "-o", str(tmp_path / "memo.docx")]):
        result = runner.invoke(
            app, [command[0], str(path), *command[1:], "--sources-dir", str(given)]
        )
        assert (result.exit_code, result.stderr) == (
            1,
            f"Error: {given}: the folder given to --sources-dir {found}; name the folder that "
            "holds the sources' text copies\n",
        )
    assert not (tmp_path / "memo.docx").exists()


# ---------------------------------------------------------------------- terminal control
# Issue 11, item 7: nothing printed from a workbook or an article drives the terminal.


def test_control_sequences_in_cells_and_articles_are_not_printed(
    runner: CliRunner, make_workbook: MakeWorkbook, tmp_path: Path
) -> None:
    (tmp_path / "article.txt").write_text(
        "Officials said \x1b]0;pwned\x07Russia lost \x1b[2J12 tanks.\n", encoding="utf-8"
    )
    analyst = extra_cell("Figures", 1)
    path = make_workbook(
        {
            analyst: "Notes_x001B_]0;pwned_x0007_",  # a header cell: ESC ] 0 ; title BEL
            cell("Demands", "Source", 2): "S1_x009D_0;pwned_x009C__x009B_2J",  # C1 OSC and CSI
            SOURCE_FILE: "article.txt",
        }
    )
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert f"{analyst}: warning: column 'Notes' is not part of the schema and is ignored" in lines
    assert (
        f"{cell('Demands', 'Source', 2)}: unknown source 'S1'; the Sources sheet has: S1" in lines
    )
    assert any('closest passage: "Officials said Russia lost 12 tanks."' in line for line in lines)
    assert not any(character in result.output for character in "\x1b\x07\x9b\x9c\x9d")
    as_json = runner.invoke(app, ["check", "--json", str(path)])
    assert not any(character in as_json.output for character in "\x9b\x9c\x9d")


# ------------------------------------------------------------------ templates that link out
# A memo never reaches out: each way a template can make Word or LibreOffice fetch something
# ends build and template check in the one line naming the part and the target.
REMOVE_LINK = "remove the link in Word and save again"
REMOVE_FIELD = "remove the field in Word (Alt+F9 shows field codes) and save again"
UNSAFE = (
    "declares a DOCTYPE or XML entities, which Word never writes; the template is refused as unsafe"
)
WRITES_INTO_MEMO = "a memo never reaches out, so remove what writes it"
FIELD_BY_SAFE = (
    "{{ '</w:t></w:r>"
    f'<w:fldSimple w:instr="INCLUDEPICTURE {LISTENER}/pixel.png">'
    "<w:r><w:t>x</w:t></w:r></w:fldSimple><w:r><w:t>' | safe }}"
)

LINKING_TEMPLATES = [
    pytest.param(
        {
            "word/_rels/document.xml.rels": add_relationship(
                relationship("image", f"{LISTENER}/logo.png")
            )
        },
        f"word/_rels/document.xml.rels links to {LISTENER}/logo.png (an external image); "
        + REMOVE_LINK,
        id="external-image",
    ),
    pytest.param(
        {
            "word/_rels/document.xml.rels": add_relationship(
                relationship("image", f"{LISTENER}/logo.png", mode=None)
            )
        },
        f"word/_rels/document.xml.rels links to {LISTENER}/logo.png (an external image); "
        + REMOVE_LINK,
        id="address-as-internal-target",
    ),
    pytest.param(
        {
            "word/_rels/footer1.xml.rels": relationships(
                relationship("hyperlink", "https://desk.example/about")
            )
        },
        "word/_rels/footer1.xml.rels links to https://desk.example/about (a hyperlink); "
        + REMOVE_LINK,
        id="hyperlink-in-footer",
    ),
    pytest.param(
        {
            "word/_rels/settings.xml.rels": relationships(
                relationship("attachedTemplate", r"\\fileserver\templates\Memo.dotm")
            )
        },
        r"word/_rels/settings.xml.rels links to \\fileserver\templates\Memo.dotm (an attached "
        "template); attach the Normal template instead in Word (Developer > Document Template) "
        "and save again",
        id="attached-template",
    ),
    pytest.param(
        {
            "word/header1.xml": add_to_paragraph_end(
                complex_field(" INCLUDE", f'PICTURE "{LISTENER}/pixel.png" \\d ')
            )
        },
        f"word/header1.xml links to {LISTENER}/pixel.png (an INCLUDEPICTURE field); "
        + REMOVE_FIELD,
        id="includepicture-in-header-split-across-runs",
    ),
    pytest.param(
        {"word/document.xml": add_to_body(simple_field(f'includetext "{LISTENER}/terms.docx"'))},
        f"word/document.xml links to {LISTENER}/terms.docx (an INCLUDETEXT field); " + REMOVE_FIELD,
        id="includetext-in-body",
    ),
    pytest.param(
        {
            "word/footer1.xml": add_to_paragraph_end(
                complex_field(f'LINK Excel.Sheet.12 "{LISTENER}/figures.xlsx" "Sheet1!R1C1" \\a')
            )
        },
        f"word/footer1.xml links to {LISTENER}/figures.xlsx (a LINK field); " + REMOVE_FIELD,
        id="link-in-footer",
    ),
    pytest.param(
        {
            "word/footnotes.xml": wordprocessing_part(
                "footnotes", simple_field(r'INCLUDEPICTURE "\\fileserver\share\seal.png"')
            )
        },
        r"word/footnotes.xml links to \\fileserver\share\seal.png (an INCLUDEPICTURE field); "
        + REMOVE_FIELD,
        id="includepicture-in-footnotes",
    ),
    pytest.param(
        {
            "word/afchunk.htm": f'<html><body><img src="{LISTENER}/chunk.png"/></body></html>',
            "word/_rels/document.xml.rels": add_relationship(
                relationship("aFChunk", "afchunk.htm", mode=None, identifier="rIdChunk")
            ),
            "word/document.xml": lambda text: text.replace(
                "<w:body>", '<w:body><w:altChunk r:id="rIdChunk"/>', 1
            ),
        },
        "word/_rels/document.xml.rels links to afchunk.htm (an imported document, whose "
        "pictures Word may fetch); open the template in Word and save it again, which makes "
        "the imported document part of the template's own text",
        id="imported-html-chunk",
    ),
    pytest.param(
        {"customXml/item1.xml": with_doctype(f"{LISTENER}/entity")},
        f"customXml/item1.xml {UNSAFE}",
        id="doctype-in-custom-xml",
    ),
    pytest.param(
        {"word/document.xml": with_doctype("file:///etc/passwd")},
        f"word/document.xml {UNSAFE}",
        id="entity-in-document",
    ),
    pytest.param(
        {"word/document.xml": add_to_body(f"<w:r><w:t>{escape_text(FIELD_BY_SAFE)}</w:t></w:r>")},
        f"the template writes a link to {LISTENER}/pixel.png (an INCLUDEPICTURE field) into "
        f"the memo's word/document.xml; {WRITES_INTO_MEMO}",
        id="field-written-by-safe",
    ),
]


@pytest.mark.parametrize(("changes", "expected"), LINKING_TEMPLATES)
@pytest.mark.parametrize("command", ["build", "template-check"])
def test_a_template_that_links_out_is_refused(
    runner: CliRunner,
    example_workbook: Path,
    tmp_path: Path,
    changes: dict[str, PartChange],
    expected: str,
    command: str,
) -> None:
    template = template_with(tmp_path / "linked.docx", changes)
    out = tmp_path / "memo.docx"
    arguments = (
        ["build", str(example_workbook), "-t", str(template), "-o", str(out)]
        if command == "build"
        else ["template", "check", str(template)]
    )
    result = runner.invoke(app, arguments)
    assert (result.exit_code, result.stderr) == (1, f"Error: {template}: {expected}\n")
    assert not out.exists()


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param(
            {"word/document.xml": add_to_body(complex_field('HYPERLINK \\l "annex"'))},
            id="hyperlink-field-to-a-bookmark",
        ),
        pytest.param(
            {"word/document.xml": add_to_body(simple_field('DATE \\@ "d MMMM yyyy"'))},
            id="date-field",
        ),
        pytest.param(
            {
                "word/document.xml": add_to_body(
                    "<w:r><w:t>INCLUDEPICTURE http://x/y.png</w:t></w:r>"
                )
            },
            id="field-name-as-plain-text",
        ),
    ],
)
def test_fields_and_text_that_stay_in_the_document_are_kept(
    runner: CliRunner, example_workbook: Path, tmp_path: Path, changes: dict[str, PartChange]
) -> None:
    template = template_with(tmp_path / "fine.docx", changes)
    out = tmp_path / "memo.docx"
    build = runner.invoke(
        app, ["build", str(example_workbook), "-t", str(template), "-o", str(out)]
    )
    assert build.exit_code == 0, build.stderr
    check = runner.invoke(app, ["template", "check", str(template)])
    assert (check.exit_code, check.stdout) == (0, f"{template}: no problems found\n")


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
    "part", ["word/document.xml", "[Content_Types].xml"], ids=["document", "content-types"]
)
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
    part: str,
    stored: bool,
) -> None:
    template = tmp_path / "memo-template.docx"
    template.write_bytes(default_template(".docx"))
    spoil_part(template, part, stored=stored)
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
            "/dev/null: the template is not a regular file "
            "(a device, a pipe or a socket); give a .docx file",
            id="build-template",
        ),
        pytest.param(
            ["template", "check", "/dev/null"],
            "/dev/null: the template is not a regular file "
            "(a device, a pipe or a socket); give a .docx file",
            id="template-check",
        ),
        pytest.param(
            ["extract", "/dev/zero", "-o", "{workbook}"],
            "/dev/zero: the article is not a regular file "
            "(a device, a pipe or a socket); give a text file",
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


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
@pytest.mark.parametrize(
    ("command", "reason"),
    [
        pytest.param(["check", "{pipe}"], "not a regular file; give the .xlsx file", id="check"),
        pytest.param(["build", "{pipe}"], "not a regular file; give the .xlsx file", id="build"),
        pytest.param(
            ["build", "{workbook}", "--since", "{pipe}"],
            "not a regular file; give the .xlsx file",
            id="build-since",
        ),
        pytest.param(
            ["extract", str(SEED_ARTICLE), "-o", "{pipe}"],
            "not a regular file; give the .xlsx file",
            id="extract-into",
        ),
        pytest.param(
            ["watch", "{pipe}"],
            "is not a regular file (a device, a pipe or a socket); name the workbook to watch, "
            "as saved by Excel",
            id="watch",
        ),
    ],
)
def test_a_pipe_named_as_a_workbook_is_not_a_regular_file(
    example_workbook: Path, tmp_path: Path, command: list[str], reason: str
) -> None:
    """A named pipe that no program writes: opening it to look at its first bytes would block."""
    pipe = tmp_path / "pipe.xlsx"
    os.mkfifo(pipe)
    arguments = [word.format(pipe=pipe, workbook=example_workbook) for word in command]
    before = example_workbook.read_bytes()
    # In a process of its own, so that a command stuck opening the pipe fails the test.
    finished = subprocess.run(
        [*CLI, *arguments],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert (finished.returncode, finished.stderr) == (1, f"Error: {pipe}: {reason}\n")
    assert example_workbook.read_bytes() == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["desk.xlsx", "pipe.xlsx"]


def _has_open(pid: int, path: Path) -> bool:
    """Whether process `pid` holds `path` open, as Linux's /proc shows it."""
    folder = Path(f"/proc/{pid}/fd")
    try:
        return any(fd.readlink() == path.resolve() for fd in folder.iterdir())
    except OSError:  # a descriptor closed while looked at, or the process ended
        return False


def _slow_workbook(make_workbook: MakeWorkbook, name: str) -> Path:
    """The seed workbook with a sheet of 300,000 rows: seconds to read, time for a Ctrl-C."""
    path = make_workbook(name=name)
    book = openpyxl.load_workbook(path)
    book.create_sheet("Scratch")["A1"] = "notes"
    book.save(path)
    rows = "".join(
        f'<row r="{n}"><c r="A{n}"><v>{n}</v></c><c r="B{n}"><v>{n}.5</v></c></row>'
        for n in range(2, 300_002)
    )
    patch_sheet_xml(path, "Scratch", lambda xml: xml.replace("</sheetData>", rows + "</sheetData>"))
    return path


def _interruptible_cli(arguments: list[str], *, session: bool = False) -> subprocess.Popen[str]:
    """The command line in a process of its own that Ctrl-C reaches; with `session`, at the
    head of a process group of its own, as a terminal starts a command."""
    return subprocess.Popen(
        arguments,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        preexec_fn=interruptible,
        start_new_session=session,
    )


def _reap(process: subprocess.Popen[str]) -> None:
    """End a test's process and close its pipes, reading nothing more: a failure stays that
    test's alone, with no process left running into the next one."""
    process.kill()
    process.wait()
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs Linux's /proc")
def test_ctrl_c_during_a_build_ends_in_one_line_and_leaves_no_temporary_files(
    make_workbook: MakeWorkbook, tmp_path: Path
) -> None:
    """A real SIGINT to a real process reading a workbook of 300,000 rows."""
    path = _slow_workbook(make_workbook, "desk.xlsx")
    before = sorted(tmp_path.iterdir())
    command = [*CLI, "build", str(path)]
    # On a loaded machine the signal may land only after the build ended (exit 0, a memo
    # written): that run proves nothing, so the memo goes and the build runs again.
    for _ in range(3):
        process = _interruptible_cli([*command, "-o", str(tmp_path / "memo.docx")])
        try:
            while not _has_open(process.pid, path) and process.poll() is None:
                time.sleep(0.01)
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=120)
        finally:
            _reap(process)
        if process.returncode != 0:
            break
        (tmp_path / "memo.docx").unlink()
    assert (process.returncode, out, err) == (
        130,
        "",
        "Error: interrupted (Ctrl-C), and no file was left half-written; run the command again "
        "to finish it\n",
    )
    assert sorted(tmp_path.iterdir()) == before


def _opened_by_anyone(path: Path) -> bool:
    """Whether any process holds `path` open, as Linux's /proc shows it."""
    return any(_has_open(int(proc.name), path) for proc in Path("/proc").glob("[0-9]*"))


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs Linux's /proc")
def test_ctrl_c_during_a_batch_builds_no_other_workbook(
    make_workbook: MakeWorkbook, tmp_path: Path
) -> None:
    """Ctrl-C (SIGINT to the terminal's process group) while the worker processes read two
    workbooks of 300,000 rows: the workbooks queued behind them are not built."""
    slow = _slow_workbook(make_workbook, "slow.xlsx")
    fast = make_workbook(name="fast.xlsx")
    desks, memos = tmp_path / "desks", tmp_path / "memos"
    desks.mkdir()
    memos.mkdir()
    slow_ones = [desks / "a-slow-1.xlsx", desks / "a-slow-2.xlsx"]
    for copy in slow_ones:
        copy.write_bytes(slow.read_bytes())
    for name in "bcdef":
        (desks / f"{name}.xlsx").write_bytes(fast.read_bytes())
    command = [*CLI, "build", str(desks)]
    # On a loaded machine the signal may land only after the slow builds ended: that run
    # proves nothing, so the memos go and the batch runs again.
    for _ in range(3):
        process = _interruptible_cli([*command, "-o", str(memos)], session=True)
        try:
            while process.poll() is None and not all(map(_opened_by_anyone, slow_ones)):
                time.sleep(0.01)
            os.killpg(process.pid, signal.SIGINT)
            out, err = process.communicate(timeout=120)
        finally:
            _reap(process)
        if process.returncode != 0:
            break
        for memo in memos.iterdir():
            memo.unlink()
    assert (process.returncode, out, err) == (
        130,
        "",
        "Error: interrupted (Ctrl-C), and no file was left half-written; run the command again "
        "to finish it\n",
    )
    assert sorted(memos.iterdir()) == []


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs Linux's /proc")
@pytest.mark.skipif(parallel_workers(4) < 2, reason="a batch runs in one process on one core")
def test_ctrl_c_while_a_worker_waits_for_a_workbook_is_still_one_line(
    make_workbook: MakeWorkbook, tmp_path: Path
) -> None:
    """One worker reads a workbook of 300,000 rows; the other, done with the three broken
    workbooks it was given, waits for more when Ctrl-C comes: it must not die with a
    traceback (the pool would then kill the first half-way)."""
    slow = _slow_workbook(make_workbook, "slow.xlsx")
    desks, memos = tmp_path / "desks", tmp_path / "memos"
    desks.mkdir()
    memos.mkdir()
    (desks / "a-slow.xlsx").write_bytes(slow.read_bytes())
    for name in "bcd":
        (desks / f"{name}.xlsx").write_text("not a workbook", encoding="utf-8")
    command = [*CLI, "build", str(desks)]
    for _ in range(3):
        process = _interruptible_cli([*command, "-o", str(memos)], session=True)
        try:
            while process.poll() is None and not _opened_by_anyone(desks / "a-slow.xlsx"):
                time.sleep(0.01)
            time.sleep(0.5)  # the broken workbooks fail in milliseconds
            os.killpg(process.pid, signal.SIGINT)
            out, err = process.communicate(timeout=120)
        finally:
            _reap(process)
        if process.returncode != 1:  # 1: the slow workbook was built before the signal
            break
        for memo in memos.iterdir():
            memo.unlink()
    assert (process.returncode, out, err) == (
        130,
        "",
        "Error: interrupted (Ctrl-C), and no file was left half-written; run the command again "
        "to finish it\n",
    )
    assert sorted(memos.iterdir()) == []


# ---------------------------------------------------------------------------- two at once


def extract_process(article: Path, workbook: Path) -> subprocess.Popen[str]:
    """`briefing extract ARTICLE -o WORKBOOK` in a process of its own, as a terminal runs it."""
    command = ["extract", str(article), "-o", str(workbook)]
    return subprocess.Popen(
        [*CLI, *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_extracts_into_one_workbook_at_once_keep_both_articles(tmp_path: Path) -> None:
    articles = [tmp_path / "first.txt", tmp_path / "second.txt"]
    for article, speaker in zip(articles, ("Medvedev", "Lavrov"), strict=True):
        article.write_text(SEED_ARTICLE.read_text(encoding="utf-8").replace("Putin", speaker))
    figures = len(extract_article(articles[0].read_text(encoding="utf-8")).figures)
    for trial in range(3):  # without the lock, one article's rows vanished in 5 trials of 5
        workbook = tmp_path / f"desk{trial}.xlsx"
        write_example(workbook)
        runs = [extract_process(article, workbook) for article in articles]
        for run in runs:
            _, errors = run.communicate(timeout=120)
            assert run.returncode == 0, errors
        sources = read_workbook(workbook).sheet("Sources")
        letter = column_letter("Sources", "File")
        assert sources is not None
        files = {cell.value for row in sources.rows if (cell := row.cells.get(letter))}
        assert {"first.txt", "second.txt"} <= files
        found = read_workbook(workbook).sheet("Figures")
        assert found is not None
        assert len(found.rows) == 7 + 2 * figures
        assert not (tmp_path / f"desk{trial}.xlsx.lock").exists()


def test_extract_into_a_workbook_another_command_holds_is_one_line(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workbook = write_example(tmp_path / "desk.xlsx")
    before = workbook.read_bytes()
    held = tmp_path / "desk.xlsx.lock"
    holder = {"pid": os.getpid(), "host": socket.gethostname(), "since": "2024-06-14T09:30:00"}
    held.write_text(json.dumps(holder), encoding="utf-8")
    monkeypatch.setattr(lock, "WAIT_SECONDS", 0.2)
    result = runner.invoke(app, ["extract", str(SEED_ARTICLE), "-o", str(workbook)])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {workbook}: another briefing command is changing the workbook (process "
        f"{os.getpid()} on {socket.gethostname()}, since 2024-06-14T09:30:00); wait for it to "
        f"finish and try again, or delete {held} if that process is no longer running\n"
    )
    assert workbook.read_bytes() == before
    assert held.exists()


def test_extract_clears_the_lock_a_killed_extract_left(runner: CliRunner, tmp_path: Path) -> None:
    workbook = write_example(tmp_path / "desk.xlsx")
    killed = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    killed.kill()
    killed.wait()
    held = tmp_path / "desk.xlsx.lock"
    holder = {"pid": killed.pid, "host": socket.gethostname(), "since": "2024-06-14T09:30:00"}
    held.write_text(json.dumps(holder), encoding="utf-8")
    result = runner.invoke(app, ["extract", str(SEED_ARTICLE), "-o", str(workbook)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Wrote {workbook}: ")
    assert not held.exists()


# ---------------------------------------------------------------------------- merged ranges


def merge_on_figures(path: Path, ref: str) -> Path:
    """Merge `ref` on the Figures sheet, as the sheet's XML would declare it."""
    merge = f'</sheetData><mergeCells count="1"><mergeCell ref="{ref}"/></mergeCells>'
    patch_sheet_xml(path, "Figures", lambda xml: xml.replace("</sheetData>", merge, 1))
    return path


# openpyxl makes an object for every cell a range covers: for these it would take minutes and
# gigabytes (MemoryError at H1:XFD1048576), so the reads are not compared with its reads.
@pytest.mark.no_oracle
@pytest.mark.parametrize(
    "ref",
    [
        pytest.param(
            f"{column_letter('Figures', 'Date')}2:{column_letter('Figures', 'Date')}1048576",
            id="a-whole-column-of-one-date",
        ),
        pytest.param(
            f"{extra_cell('Figures', 1).split('!')[1]}:XFD1048576",
            id="from-an-extra-column-to-the-last-cell",
        ),
    ],
)
def test_merged_ranges_reaching_excel_s_last_cell_fill_only_the_sheet_s_cells(
    tmp_path: Path, ref: str
) -> None:
    path = tmp_path / "desk.xlsx"
    write_example(path)
    set_cells(path, {extra_cell("Figures", 1): "Analyst"})
    before = load_dossier(path).rows(FigureRow)
    merge_on_figures(path, ref)
    assert [str(problem) for problem in check_workbook(path).problems] == [
        f"{extra_cell('Figures', 1)}: warning: column 'Analyst' is not part of the schema and "
        "is ignored"
    ]
    assert load_dossier(path).rows(FigureRow) == before


@pytest.mark.no_oracle  # openpyxl would build the 17 billion cells the range covers
def test_the_whole_sheet_merged_is_read_as_excel_shows_it(tmp_path: Path) -> None:
    path = merge_on_figures(write_example(tmp_path / "desk.xlsx"), "A1:XFD1048576")
    report = check_workbook(path)
    figures = read_workbook(path).sheet("Figures")
    assert figures is not None
    # Every cell the sheet holds shows the top-left cell's header, as in Excel.
    assert {text for _, text in figures.headers} == {"ID"}
    assert {cell.value for row in figures.rows for cell in row.cells.values()} == {"ID"}
    assert str(report.problems[1]).startswith("Figures: missing columns 'Claimed by', ")


@pytest.mark.no_oracle  # the read is sheetxml's; openpyxl is what the refusal keeps away
def test_extract_into_a_workbook_merged_to_the_last_cell_is_one_line(
    runner: CliRunner, tmp_path: Path
) -> None:
    path = merge_on_figures(write_example(tmp_path / "desk.xlsx"), "H1:XFD1048576")
    before = path.read_bytes()
    result = runner.invoke(app, ["extract", str(SEED_ARTICLE), "-o", str(path)])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {path}: the sheet 'Figures' merges {1048576 * (16384 - 8 + 1):,} cells "
        "(H1:XFD1048576), more than 100,000 that adding rows would write again one by one; "
        "unmerge them in Excel or LibreOffice, or extract into a new workbook (-o new.xlsx) "
        "and copy the rows across\n"
    )
    assert path.read_bytes() == before


def test_an_article_past_2_mb_is_refused_before_it_is_read(
    runner: CliRunner, tmp_path: Path
) -> None:
    article = tmp_path / "book.txt"
    with article.open("w", encoding="utf-8") as stream:
        stream.truncate(20 * 1024 * 1024)  # 20 MB: extracting it would take many minutes
    workbook = tmp_path / "desk.xlsx"
    result = runner.invoke(app, ["extract", str(article), "-o", str(workbook)])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {article}: the article is larger than 2 MB; give a text copy of the article "
        "alone\n"
    )
    assert not workbook.exists()


@pytest.mark.parametrize("make", BAD_FILES)
@pytest.mark.parametrize("suffix", [".html", ".docx", ".pdf"])
def test_bad_files_given_as_a_page_a_document_or_a_pdf_end_in_one_line(
    runner: CliRunner, tmp_path: Path, make: BadFile, suffix: str
) -> None:
    path = tmp_path / f"article{suffix}"
    if suffix == ".docx" and make is docx_file:
        pytest.skip("a Word document is an article extract reads")
    make(path)
    out = tmp_path / "out.xlsx"
    result = runner.invoke(app, ["extract", str(path), "-o", str(out)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"Error: {path}: ")
    assert not out.exists()


@pytest.mark.parametrize(
    ("suffix", "megabytes"),
    [(".html", 10), (".docx", 64), (".pdf", 64)],
    ids=["html", "docx", "pdf"],
)
def test_a_page_document_or_pdf_past_its_limit_is_refused_before_it_is_read(
    runner: CliRunner, tmp_path: Path, suffix: str, megabytes: int
) -> None:
    article = tmp_path / f"book{suffix}"
    with article.open("wb") as stream:
        stream.truncate(megabytes * 2**20 + 1)
    workbook = tmp_path / "desk.xlsx"
    result = runner.invoke(app, ["extract", str(article), "-o", str(workbook)])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {article}: the article is larger than {megabytes} MB; give a copy of the "
        "article alone\n"
    )
    assert not workbook.exists()


# ------------------------------------------------------------------------ templates after memory
# Issue 11, item 1: a template cannot use gigabytes; each case ends in one line.


def word_template(path: Path, *paragraphs: str) -> Path:
    """A .docx whose body is the given paragraphs, tags and all."""
    document = Document()
    for text in paragraphs:
        document.add_paragraph(text)
    document.save(str(path))
    return path


def with_padded_parts(source: Path, target: Path, padding: dict[str, int]) -> Path:
    """`source` with spaces after the XML of some parts (bytes by part), packed as Word packs.

    The padding is deflated once, a megabyte at a time after a full flush (which makes each
    megabyte's blocks the same), so a 2 GB part is written in a second: a zip bomb that is
    still well-formed XML.
    """
    megabyte = 2**20
    entries = []
    with zipfile.ZipFile(source) as original:
        members = [(item.filename, original.read(item)) for item in original.infolist()]
    with target.open("wb") as out:
        for name, data in members:
            offset = out.tell()
            extra = padding.get(name, 0)
            if extra:
                packer = zlib.compressobj(9, zlib.DEFLATED, -15)
                head = packer.compress(data) + packer.flush(zlib.Z_FULL_FLUSH)
                spaces = b" " * megabyte
                block = packer.compress(spaces) + packer.flush(zlib.Z_FULL_FLUSH)
                crc = zlib.crc32(data)
                for _ in range(extra // megabyte):
                    crc = zlib.crc32(spaces, crc)
                chunks = [head, *[block] * (extra // megabyte), packer.flush()]
                size = len(data) + extra
            else:
                packer = zlib.compressobj(9, zlib.DEFLATED, -15)
                chunks = [packer.compress(data) + packer.flush()]
                crc, size = zlib.crc32(data), len(data)
            packed = sum(len(chunk) for chunk in chunks)
            encoded = name.encode()
            fields = (20, 0, zipfile.ZIP_DEFLATED, 0, 0x21, crc, packed, size, len(encoded), 0)
            out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, *fields) + encoded)
            for chunk in chunks:
                out.write(chunk)
            entries.append((fields, encoded, offset))
        directory = out.tell()
        for fields, encoded, offset in entries:
            out.write(
                struct.pack("<IH", 0x02014B50, 20)
                + struct.pack("<HHHHHIIIHH", *fields)
                + struct.pack("<HHHII", 0, 0, 0, 0, offset)
                + encoded
            )
        end = out.tell()
        out.write(
            struct.pack(
                "<IHHHHIIH",
                0x06054B50,
                0,
                0,
                len(entries),
                len(entries),
                end - directory,
                directory,
                0,
            )
        )
    return target


MEMORY_ADVICE = (
    "rendering the template needed more than 448 MB of memory; look for tags that build long "
    "texts or lists (~, *, append) again and again, or build a shorter edition (--days)"
)


DOUBLINGS = ["{% set s = 'x' * 10000000 %}", *["{% set s = s ~ s %}"] * 7, "{{ s|length }}"]


COPIES = [
    "{% set a = ('x' * 10000000)|list %}{% set ns = namespace(l=[]) %}",
    "{% for i in range(40) %}{% set n = ns.l.append(a * 1) %}{% endfor %}{{ ns.l|length }}",
]


@pytest.mark.parametrize("command", ["build", "template check"])
@pytest.mark.parametrize(
    ("paragraphs", "expected"),
    [
        pytest.param(DOUBLINGS, MEMORY_ADVICE, id="seven-doublings-of-ten-million"),
        pytest.param(COPIES, MEMORY_ADVICE, id="forty-copies-of-a-ten-million-list"),
    ],
)
def test_templates_cannot_use_gigabytes(
    runner: CliRunner,
    example_workbook: Path,
    tmp_path: Path,
    command: str,
    paragraphs: list[str],
    expected: str,
) -> None:
    template = word_template(tmp_path / "greedy.docx", *paragraphs)
    out = tmp_path / "memo.docx"
    arguments = (
        ["build", str(example_workbook), "-t", str(template), "-o", str(out)]
        if command == "build"
        else ["template", "check", str(template)]
    )
    result = runner.invoke(app, arguments)
    assert (result.exit_code, result.stderr) == (1, f"Error: {template}: {expected}\n")
    assert not out.exists()


@pytest.mark.office
@needs_office
def test_a_template_that_keeps_libreoffice_busy_is_stopped_at_the_pdf_s_time_limit(
    runner: CliRunner, example_workbook: Path, tmp_path: Path
) -> None:
    """Eight million characters in one paragraph stay inside the render's limits, and kept
    LibreOffice laying out pages past 180 s; the PDF has its own limit, with nothing changed."""
    template = word_template(tmp_path / "long.docx", "{{ 'All quiet on the front. ' * 300000 }}")
    out = tmp_path / "memo.docx"
    out.write_bytes(b"the earlier memo")
    before = sorted(tmp_path.iterdir())
    result = runner.invoke(
        app, ["build", str(example_workbook), "-t", str(template), "-o", str(out), "--pdf"]
    )
    # LibreOffice gets PDF_SECONDS, or less when the render took much of the build's time.
    stopped = re.fullmatch(
        rf"Error: {re.escape(str(tmp_path / 'memo.pdf'))}: LibreOffice took over (\d+) s to "
        r"make the PDF; nothing was changed; build a shorter edition \(--days\), or leave out "
        r"--pdf and save the memo as PDF from Word or LibreOffice\n",
        result.stderr,
    )
    assert (result.exit_code, stopped is not None) == (1, True), result.stderr
    assert stopped is not None
    assert 1 <= int(stopped[1]) <= PDF_SECONDS
    assert out.read_bytes() == b"the earlier memo"
    assert sorted(tmp_path.iterdir()) == before


@pytest.mark.parametrize("command", ["build", "template check"])
@pytest.mark.parametrize(
    ("padding", "expected"),
    [
        pytest.param(
            {"word/document.xml": 2 * 1024**3},
            "the part word/document.xml unpacks to 2,048 MB, more than the 64 MB a template's "
            "part may hold; start from 'briefing template new', or compress the template's "
            "pictures in Word",
            id="document-xml-unpacking-to-2-GB",
        ),
        pytest.param(
            {"word/document.xml": 40 * 2**20, "word/styles.xml": 39 * 2**20},
            "the template unpacks to 80 MB, more than the 64 MB a template may hold; start "
            "from 'briefing template new', or compress the template's pictures in Word",
            id="parts-together-over-64-MB",
        ),
    ],
)
def test_templates_unpacking_too_far_are_refused_before_parsing(
    runner: CliRunner,
    example_workbook: Path,
    tmp_path: Path,
    command: str,
    padding: dict[str, int],
    expected: str,
) -> None:
    plain = word_template(tmp_path / "plain.docx", "{{ title }}")
    template = with_padded_parts(plain, tmp_path / "bomb.docx", padding)
    assert template.stat().st_size < 3 * 2**20
    out = tmp_path / "memo.docx"
    arguments = (
        ["build", str(example_workbook), "-t", str(template), "-o", str(out)]
        if command == "build"
        else ["template", "check", str(template)]
    )
    result = runner.invoke(app, arguments)
    assert (result.exit_code, result.stderr) == (1, f"Error: {template}: {expected}\n")
    assert not out.exists()


OWNER_FILES = {
    "excel": ("~$desk.xlsx", b"\x0bAnalyst" + bytes(150)),
    "libreoffice": (
        ".~lock.desk.xlsx#",
        b",Analyst,host,24.06.2024 09:00,file:///home/a/.config;\n",
    ),
}


@pytest.mark.parametrize("owner", list(OWNER_FILES), ids=list(OWNER_FILES))
@pytest.mark.parametrize("command", ["check", "build"])
def test_an_owner_file_is_named_alone_and_passed_over_among_workbooks(
    runner: CliRunner,
    example_workbook: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    owner: str,
    command: str,
) -> None:
    name, data = OWNER_FILES[owner]
    path = tmp_path / name
    path.write_bytes(data)
    monkeypatch.chdir(tmp_path)
    alone = runner.invoke(app, [command, str(path)])
    assert alone.exit_code == 1
    assert alone.stderr == (
        f"Error: {path}: is the note an office program keeps beside a workbook open in it, "
        "not a workbook; give the workbook's own name\n"
    )
    # As a shell's *.xlsx or a folder gives it: passed over.
    among = runner.invoke(app, [command, str(path), str(example_workbook)])
    assert (among.exit_code, among.stderr) == (0, "")
    folder = runner.invoke(app, [command, str(tmp_path)])
    assert (folder.exit_code, folder.stderr) == (0, "")


def _text_document(path: Path) -> None:
    ods.write_ods(path, {}, mimetype="application/vnd.oasis.opendocument.text")


def _zip_not_spreadsheet(path: Path) -> None:
    write_zip(path, {"notes.txt": b"not a spreadsheet"})


def _password_protected(path: Path) -> None:
    manifest = (
        '<manifest:manifest><manifest:file-entry manifest:full-path="content.xml">'
        "<manifest:encryption-data/></manifest:file-entry></manifest:manifest>"
    )
    ods.write_ods(path, {}, manifest=manifest)


NOT_ODS = {
    "xlsx-renamed-ods": (
        write_example,
        "{path}: this is an Excel workbook (.xlsx) with an .ods name; rename it desk.xlsx and "
        "give that name",
    ),
    "csv-renamed-ods": (
        csv_file,
        "{path}: not an OpenDocument spreadsheet (it looks like a text or CSV file); open it "
        "in LibreOffice and save it as an .ods spreadsheet",
    ),
    "text-document": (
        _text_document,
        "{path}: this is an OpenDocument text file, not a spreadsheet; give the .ods spreadsheet",
    ),
    "zip-not-spreadsheet": (
        _zip_not_spreadsheet,
        "{path}: a zip archive, but not an OpenDocument spreadsheet; open it in LibreOffice "
        "Calc and save it as an .ods spreadsheet",
    ),
    "password-protected": (
        _password_protected,
        "{path}: the spreadsheet is password-protected; in LibreOffice choose File > Save As, "
        "clear 'Save with password' and save it again",
    ),
}


@pytest.mark.parametrize(("make", "message"), NOT_ODS.values(), ids=NOT_ODS.keys())
@pytest.mark.parametrize("command", ["check", "build"])
def test_a_file_named_ods_that_is_not_one_is_one_line(
    tmp_path: Path, runner: CliRunner, make: BadFile, message: str, command: str
) -> None:
    path = tmp_path / "desk.ods"
    make(path)
    result = runner.invoke(
        app, [command, str(path), *(["-o", str(tmp_path / "m.docx")] if command == "build" else [])]
    )
    assert (result.exit_code, result.stderr) == (1, f"Error: {message.format(path=path)}\n")


@pytest.mark.parametrize(
    ("xml", "problem"),
    [
        pytest.param(
            ods.error("Err:502", "of:=SQRT(-1)"), "the cell holds the error Err:502", id="Err:502"
        ),
        pytest.param(ods.error("#N/A"), "the cell holds the error #N/A", id="#N/A"),
        pytest.param(
            '<table:table-cell table:formula="of:=[.B2]*2"/>',
            "the formula has no saved value; open the workbook in Excel or LibreOffice, let it "
            "calculate, and save it",
            id="formula-never-calculated",
        ),
    ],
)
def test_an_error_cell_in_an_ods_is_a_problem_at_its_cell(
    tmp_path: Path, runner: CliRunner, xml: str, problem: str
) -> None:
    value = cell("Figures", "Value", 2)
    path = ods.seed_ods(tmp_path / "workbooks" / "desk.ods", {value: xml})
    result = runner.invoke(app, ["check", str(path)])
    assert (result.exit_code, result.stdout) == (
        1,
        f"{value}: {problem}\n{path}: 1 error, 0 warnings\n",
    )


def test_an_entity_declaration_in_an_ods_is_one_line(tmp_path: Path, runner: CliRunner) -> None:
    path = ods.write_ods(
        tmp_path / "desk.ods", {"Figures": ods.row(ods.text("ID"))}, head=ods.HEAD + ods.DOCTYPE
    )
    result = runner.invoke(app, ["check", str(path)])
    assert (result.exit_code, result.stderr) == (
        1,
        f"Error: {path}: content.xml declares XML entities, which office programs never write; "
        "the workbook is refused as unsafe\n",
    )


def test_extract_into_an_ods_names_the_xlsx_it_could_write(
    tmp_path: Path, runner: CliRunner
) -> None:
    target = tmp_path / "desk.ods"
    result = runner.invoke(app, ["extract", str(SEED_ARTICLE), "-o", str(target)])
    assert (result.exit_code, result.stderr) == (
        1,
        f"Error: {target}: extract writes .xlsx workbooks only, not OpenDocument (.ods); give "
        f"-o {tmp_path / 'desk.xlsx'} instead (LibreOffice opens and saves it)\n",
    )
    assert not target.exists()


def test_init_of_an_ods_names_the_xlsx_it_writes_instead(tmp_path: Path, runner: CliRunner) -> None:
    target = tmp_path / "desk.ods"
    result = runner.invoke(app, ["init", str(target)])
    assert (result.exit_code, result.stderr) == (
        1,
        f"Error: {target}: init writes .xlsx workbooks only, not OpenDocument (.ods); give "
        f"{tmp_path / 'desk.xlsx'} instead (LibreOffice opens it, and may save it as .ods)\n",
    )
    assert list(tmp_path.iterdir()) == []


def test_extract_into_an_ods_named_xlsx_says_what_it_is(tmp_path: Path, runner: CliRunner) -> None:
    target = ods.write_ods(tmp_path / "desk.xlsx", {"Figures": ods.row(ods.text("ID"))})
    before = target.read_bytes()
    result = runner.invoke(app, ["extract", str(SEED_ARTICLE), "-o", str(target)])
    assert (result.exit_code, result.stderr) == (
        1,
        f"Error: {target}: this is an OpenDocument spreadsheet, not an .xlsx workbook; save it "
        "from LibreOffice as Excel 2007-365 (.xlsx), or name it desk.ods for check and build\n",
    )
    assert target.read_bytes() == before


@pytest.mark.parametrize("command", ["build", "template-check"])
def test_a_part_named_across_lines_is_still_one_error_line(
    runner: CliRunner, example_workbook: Path, tmp_path: Path, command: str
) -> None:
    template = template_with(
        tmp_path / "linked.docx", {"customXml/item\n1.xml": "<!DOCTYPE a []><a/>"}
    )
    out = tmp_path / "memo.docx"
    arguments = (
        ["build", str(example_workbook), "-t", str(template), "-o", str(out)]
        if command == "build"
        else ["template", "check", str(template)]
    )
    result = runner.invoke(app, arguments)
    assert (result.exit_code, result.stderr) == (
        1,
        f"Error: {template}: customXml/item 1.xml {UNSAFE}\n",
    )
