"""Hostile and unlucky input across every command: one clear line, nothing lost, no traceback."""

from __future__ import annotations

import datetime as dt
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import openpyxl
import pytest
from docx import Document
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
    cell,
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
