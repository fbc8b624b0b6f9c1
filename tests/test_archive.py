"""briefing/archive.py: files refused before anything parses them, each in one clear line.

Not a workbook at all, too big once unpacked, XML declaring entities, a path that is no regular
file: every file here is built in code in tmp_path.
"""

from __future__ import annotations

import os
import time
import zipfile
import zlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from briefing import archive
from briefing.cli import app
from briefing.errors import WorkbookUnreadable
from briefing.pipeline import check_workbook
from briefing.workbook import read_workbook
from tests.conftest import (
    OLE2_HEADER,
    BadFile,
    bad_crc_workbook,
    corrupt_stream_workbook,
    csv_file,
    docx_file,
    empty_file,
    folder,
    missing,
    patch_sheet_xml,
    truncated_zip,
    write_example,
    write_zip,
    xls_file,
)

# ---------------------------------------------------------------------------- refused files


def _encrypted(path: Path) -> None:
    padding = bytes(512)
    path.write_bytes(OLE2_HEADER + padding + "EncryptionInfo".encode("utf-16-le") + padding)


def _xlsb(path: Path) -> None:
    write_zip(path, {"[Content_Types].xml": b"<Types/>", "xl/workbook.bin": b"\x83\x01\x00"})


def _plain_zip(path: Path) -> None:
    write_zip(path, {"notes.txt": b"not a workbook", "data/figures.csv": b"F1,87\n"})


def _zip_bomb(path: Path) -> None:
    chunk = bytes(1 << 20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("xl/workbook.xml", b"<workbook/>")
        with package.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            for _ in range(300):
                member.write(chunk)


UNREADABLE: list[tuple[BadFile, str]] = [
    (missing, "{path}: no such file; check the path and try again"),
    (folder, "{path}: is a folder, not a workbook; give the .xlsx file"),
    (empty_file, "{path}: the file is empty (0 bytes); it is not a workbook"),
    (
        csv_file,
        "{path}: not an Excel workbook (it looks like a text or CSV file); open it in Excel or "
        "LibreOffice and save it as an .xlsx workbook",
    ),
    (
        xls_file,
        "{path}: this is an old Excel 97-2003 (.xls) file; open it in Excel or LibreOffice and "
        "save it as an .xlsx workbook",
    ),
    (
        _encrypted,
        "{path}: the workbook is password-protected; remove the password in Excel "
        "(File > Info > Protect Workbook) and save it again",
    ),
    (
        truncated_zip,
        "{path}: the file is damaged (not a complete .xlsx archive); save it again from Excel "
        "or use a backup",
    ),
    (
        bad_crc_workbook,
        "{path}: the file is damaged (xl/worksheets/sheet5.xml cannot be unpacked); open it in "
        "Excel, which offers to repair it, or use a backup",
    ),
    (
        corrupt_stream_workbook,
        "{path}: the file is damaged (xl/worksheets/sheet5.xml cannot be unpacked); open it in "
        "Excel, which offers to repair it, or use a backup",
    ),
    (docx_file, "{path}: this is a Word document, not a workbook"),
    (_xlsb, "{path}: this is a binary workbook (.xlsb); save it as an .xlsx workbook"),
    (_plain_zip, "{path}: a zip archive, but not an Excel workbook"),
    (
        _zip_bomb,
        "{path}: xl/worksheets/sheet1.xml unpacks to 300 MB, more than 100 times its packed "
        "size (a sheet's XML packs 5 to 20 times): the mark of a zip bomb, so it is refused. If "
        "it is a real workbook, open it in Excel or LibreOffice and save it again",
    ),
]


UNREADABLE_IDS = [
    "missing-path",
    "directory",
    "zero-bytes",
    "csv-renamed-xlsx",
    "old-xls",
    "password-protected",
    "truncated-zip",
    "bad-crc",
    "corrupt-stream",
    "word-docx",
    "xlsb",
    "zip-not-workbook",
    "zip-bomb-300MB",
]


@pytest.mark.parametrize(
    ("make", "error"),
    [
        pytest.param(bad_crc_workbook, zipfile.BadZipFile, id="bad-crc"),
        pytest.param(corrupt_stream_workbook, zlib.error, id="corrupt-stream"),
    ],
)
def test_each_damaged_workbook_is_damaged_its_own_way(
    tmp_path: Path, make: BadFile, error: type[Exception]
) -> None:
    path = tmp_path / "desk.xlsx"
    make(path)
    with zipfile.ZipFile(path) as package, pytest.raises(error):
        package.read("xl/worksheets/sheet5.xml")


@pytest.mark.parametrize(("make", "message"), UNREADABLE, ids=UNREADABLE_IDS)
def test_unreadable_file_gives_one_clear_message(
    tmp_path: Path, make: BadFile, message: str
) -> None:
    path = tmp_path / "desk.xlsx"
    make(path)
    started = time.perf_counter()
    with pytest.raises(WorkbookUnreadable) as caught:
        read_workbook(path)
    assert str(caught.value) == message.format(path=path)
    assert "\n" not in str(caught.value)
    assert time.perf_counter() - started < 2
    with pytest.raises(WorkbookUnreadable) as again:
        check_workbook(path)
    assert str(again.value) == message.format(path=path)


@pytest.mark.parametrize(("make", "message"), UNREADABLE, ids=UNREADABLE_IDS)
def test_unreadable_file_via_cli_check_is_one_error_line(
    tmp_path: Path, make: BadFile, message: str
) -> None:
    path = tmp_path / "desk.xlsx"
    make(path)
    result = CliRunner().invoke(app, ["check", str(path)])
    if make is folder:  # `check` takes folders of workbooks too: this one holds none
        message = (
            "{path}: the folder holds no workbook (.xlsx, .ods); give a workbook, or a folder that "
            "holds them"
        )
    assert result.exit_code == 1
    assert result.stderr == f"Error: {message.format(path=path)}\n"


def test_zip_bomb_limit_is_checked_against_the_declared_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_example(tmp_path / "desk.xlsx")
    with zipfile.ZipFile(path) as package:
        unpacked = sum(info.file_size for info in package.infolist())
    monkeypatch.setattr(archive, "MAX_UNPACKED_BYTES", unpacked)
    assert read_workbook(path).sheet("Figures") is not None  # exactly at the limit: read
    monkeypatch.setattr(archive, "MAX_UNPACKED_BYTES", unpacked - 1)
    with pytest.raises(WorkbookUnreadable) as caught:
        read_workbook(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: the workbook unpacks to ")
    assert message.endswith("; it is refused. Move older records into a workbook of their own")


def test_a_part_packed_past_the_ratio_is_refused_and_one_just_under_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ratio guard looks at each part larger than RATIO_FLOOR, by the zip directory."""
    path = write_example(tmp_path / "desk.xlsx")
    monkeypatch.setattr(archive, "RATIO_FLOOR", 1024)
    with zipfile.ZipFile(path) as package:
        ratios = sorted(
            (info.file_size / info.compress_size, info.filename)
            for info in package.infolist()
            if info.file_size > 1024
        )
    (second, _), (worst, part) = ratios[-2:]
    monkeypatch.setattr(archive, "MAX_RATIO", (second + worst) / 2)  # only the worst is past it
    with pytest.raises(WorkbookUnreadable) as caught:
        read_workbook(path)
    assert str(caught.value).startswith(f"{path}: {part} unpacks to 0 MB, more than ")
    assert "\n" not in str(caught.value)
    monkeypatch.setattr(archive, "MAX_RATIO", worst * 1.001)
    assert read_workbook(path).sheet("Figures") is not None


def test_a_big_honest_sheet_passes_every_guard(tmp_path: Path) -> None:
    """Many megabytes of varied rows pack about 15 times: far from a zip bomb's 1,000."""
    path = write_example(tmp_path / "desk.xlsx")
    rows = "".join(
        f'<row r="{i}"><c r="A{i}" t="inlineStr"><is><t>note {i * 7919 % 100003}</t></is></c>'
        f'<c r="B{i}"><v>{i * 31 % 977}</v></c></row>'
        for i in range(100, 60_100)
    )
    patch_sheet_xml(
        path, "Timeline", lambda xml: xml.replace("</sheetData>", rows + "</sheetData>")
    )
    with zipfile.ZipFile(path) as package:
        big = max(package.infolist(), key=lambda info: info.file_size)
    assert big.file_size > archive.RATIO_FLOOR
    assert 5 < big.file_size / big.compress_size < archive.MAX_RATIO
    timeline = read_workbook(path).sheet("Timeline")
    assert timeline is not None
    assert timeline.rows[-1].number == 60_099
    assert timeline.rows[-1].cells["B"].value == 60_099 * 31 % 977


@pytest.mark.skipif(
    hasattr(os, "geteuid") and os.geteuid() == 0, reason="root can read a chmod 000 file"
)
def test_file_without_read_permission(tmp_path: Path) -> None:
    path = write_example(tmp_path / "desk.xlsx")
    path.chmod(0)
    try:
        with pytest.raises(WorkbookUnreadable) as caught:
            read_workbook(path)
    finally:
        path.chmod(0o644)
    assert str(caught.value) == f"{path}: cannot be read (Permission denied)"


# ---------------------------------------------------------------------------- regressions


def test_billion_laughs_in_a_sheet_is_refused(tmp_path: Path) -> None:
    path = write_example(tmp_path / "desk.xlsx")
    laughs = (
        '<!DOCTYPE lolz [<!ENTITY lol "lol">'
        + "".join(
            f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
            for i in range(1, 10)
        )
        + "]>"
    )

    def add_doctype(xml: str) -> str:
        head, rest = xml.split("?>", 1) if xml.startswith("<?xml") else ("", xml)
        return (
            (head + "?>" if head else "")
            + laughs
            + rest.replace(
                "</sheetData>",
                '<row r="99"><c r="A99" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData>',
            )
        )

    patch_sheet_xml(path, "Figures", add_doctype)
    with pytest.raises(WorkbookUnreadable) as caught:
        read_workbook(path)
    assert str(caught.value) == (
        f"{path}: xl/worksheets/sheet5.xml declares XML entities, which office programs never "
        "write; the workbook is refused as unsafe"
    )


def test_a_million_empty_styled_rows_are_read_past_in_seconds(tmp_path: Path) -> None:
    """38 MB of empty rows: streamed through, none of them kept, the records as before."""
    path = write_example(tmp_path / "desk.xlsx")
    before = read_workbook(path).sheet("Timeline")
    rows = "".join(f'<row r="{i}" s="1" customFormat="1"/>' for i in range(20, 1_000_020))
    patch_sheet_xml(
        path, "Timeline", lambda xml: xml.replace("</sheetData>", rows + "</sheetData>")
    )
    started = time.perf_counter()
    assert read_workbook(path).sheet("Timeline") == before
    assert time.perf_counter() - started < 10


def test_a_pipe_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "desk.xlsx"
    os.mkfifo(path)
    with pytest.raises(WorkbookUnreadable) as caught:
        read_workbook(path)
    assert str(caught.value) == f"{path}: not a regular file; give the .xlsx file"


# ---------------------------------------------------------------------------- parts a rewrite drops

EMPTY_DRAWING = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<xdr:wsDr xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"'
    b' xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"></xdr:wsDr>'
)
DRAWN_TEXT_BOX = EMPTY_DRAWING.replace(
    b"></xdr:wsDr>", b"><xdr:oneCellAnchor><xdr:from/></xdr:oneCellAnchor></xdr:wsDr>"
)


@pytest.mark.parametrize(
    ("parts", "dropped"),
    [
        pytest.param({"xl/drawings/drawing1.xml": EMPTY_DRAWING}, [], id="empty-drawing"),
        pytest.param({"xl/drawings/drawing1.xml": b""}, [], id="zero-byte-drawing"),
        pytest.param(
            {"xl/drawings/drawing1.xml": DRAWN_TEXT_BOX},
            ["drawings or text boxes"],
            id="text-box",
        ),
        pytest.param(
            {"xl/drawings/drawing1.xml": EMPTY_DRAWING, "xl/media/image1.png": b"\x89PNG"},
            ["pictures"],
            id="empty-drawing-and-picture",
        ),
        pytest.param(
            {"xl/drawings/drawing1.xml": b"<xdr:wsDr"}, ["drawings or text boxes"], id="unparsable"
        ),
    ],
)
def test_only_parts_that_hold_something_count_as_dropped(
    tmp_path: Path, parts: dict[str, bytes], dropped: list[str]
) -> None:
    rewritten = write_example(tmp_path / "rewritten.xlsx").read_bytes()
    path = write_example(tmp_path / "desk.xlsx")
    with zipfile.ZipFile(path, "a") as package:
        for name, data in parts.items():
            package.writestr(name, data)
    assert archive.dropped_parts(path, rewritten) == dropped


def test_largest_merges_counts_what_each_sheet_s_ranges_declare(tmp_path: Path) -> None:
    path = write_example(tmp_path / "desk.xlsx")
    ranges = '<mergeCell ref="B2:C3"/><mergeCell ref="$A$9:$A$1048576"/><mergeCell ref="D4"/>'
    merges = f'</sheetData><mergeCells count="3">{ranges}</mergeCells>'
    patch_sheet_xml(path, "Figures", lambda xml: xml.replace("</sheetData>", merges, 1))
    assert archive.largest_merges(path) == {"Figures": (4 + 1048568 + 1, "$A$9:$A$1048576")}
