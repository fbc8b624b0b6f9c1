"""LibreOffice opens what briefing writes: the `init` workbook and the built memo.

Each conversion runs soffice headless with a fresh user profile, so runs never share state;
the files are converted once per module and the tests read the results.
"""

from __future__ import annotations

import contextlib
import csv
import http.server
import io
import re
import shutil
import struct
import subprocess
import threading
import urllib.error
import urllib.request
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from docx.shared import Inches
from typer.testing import CliRunner

from briefing.cli import app
from briefing.output import pdf_defect, pdf_from_docx
from briefing.pipeline import build_memo, example_records, extract_candidates, load_dossier
from briefing.schema import FIELD_HEADER, SCHEMA, FigureRow
from briefing.sheetxml import read_workbook
from tests.conftest import (
    SEED_ARTICLE,
    SEED_CANDIDATES,
    SEED_WORKBOOK,
    add_relationship,
    add_to_body,
    cell,
    complex_field,
    needs_office,
    needs_pdftotext,
    relationship,
    relationships,
    simple_field,
    write_zip,
)

pytestmark = [pytest.mark.office, needs_office]

TIMEOUT = 180
# Comma-separated, double-quoted, UTF-8 (76): the first sheet only, as the CSV filter does.
CSV_FILTER = "csv:Text - txt - csv (StarCalc):44,34,76"


def soffice_convert(source: Path, target: str, outdir: Path, profile: Path) -> Path:
    """Convert `source` with LibreOffice into `outdir`; returns the converted file."""
    outdir.mkdir(parents=True, exist_ok=True)
    soffice = shutil.which("soffice")
    assert soffice is not None
    result = subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--convert-to",
            target,
            "--outdir",
            str(outdir),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    extension = target.split(":", 1)[0]
    converted = outdir / f"{source.stem}.{extension}"
    assert result.returncode == 0, result.stderr
    assert converted.is_file(), f"soffice wrote nothing: {result.stdout} {result.stderr}"
    return converted


def pdf_text(pdf: Path) -> str:
    result = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(pdf), "-"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout


def pdf_pages(text: str) -> list[str]:
    """pdftotext separates pages with form feeds and ends the last one with one too."""
    pages = text.split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages


@dataclass(frozen=True)
class Converted:
    example: bool
    workbook: Path
    pdf: Path
    csv: Path


@pytest.fixture(scope="module", params=[False, True], ids=["blank", "example"])
def converted(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Converted:
    """The workbook `briefing init [--example]` writes, converted to PDF and to CSV."""
    example: bool = request.param
    folder = tmp_path_factory.mktemp("example" if example else "blank")
    workbook = folder / "desk.xlsx"
    result = CliRunner().invoke(app, ["init", str(workbook), *(["--example"] if example else [])])
    assert result.exit_code == 0, result.output
    pdf = soffice_convert(workbook, "pdf", folder / "pdf", folder / "lo-pdf")
    csv_file = soffice_convert(workbook, CSV_FILTER, folder / "csv", folder / "lo-csv")
    return Converted(example, workbook, pdf, csv_file)


def test_init_workbook_converts_to_a_non_empty_pdf(converted: Converted) -> None:
    data = converted.pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    assert len(data) > 2000
    assert b"%%EOF" in data[-1024:]


@needs_pdftotext
def test_init_workbook_pdf_prints_the_briefing_and_guide(converted: Converted) -> None:
    text = pdf_text(converted.pdf)
    for header in FIELD_HEADER:
        assert header in text
    for column in SCHEMA.sheet("Briefing").columns:
        assert column.header in text
    # The Guide explains the vocabularies; its text reaches the printout.
    assert "Admiralty" in text
    if converted.example:
        assert "Stoltenberg" in text
        assert "TLP:CLEAR" in text


def _first_sheet_rows(converted: Converted) -> list[list[str]]:
    text = converted.csv.read_text(encoding="utf-8")
    return list(csv.reader(io.StringIO(text)))


def test_init_workbook_csv_first_sheet_holds_the_briefing_fields(converted: Converted) -> None:
    rows = _first_sheet_rows(converted)
    assert rows[0] == list(FIELD_HEADER)
    spec = SCHEMA.sheet("Briefing")
    fields = [row[0] for row in rows[1:] if row and row[0]]
    assert fields == [column.header for column in spec.columns]
    about = {row[0]: row[2] for row in rows[1:] if len(row) >= 3}
    for column in spec.columns:
        assert about[column.header] == column.help


def test_init_workbook_csv_values(converted: Converted) -> None:
    values = {row[0]: row[1] for row in _first_sheet_rows(converted)[1:] if len(row) >= 2}
    if not converted.example:
        assert set(values.values()) == {""}
        return
    _, briefing = example_records()
    assert values["Title"] == briefing["Title"]
    assert values["From"] == "Russia–Ukraine desk"  # UTF-8 en dash survives
    assert values["Handling"] == "TLP:CLEAR"
    # A real date cell shown in the workbook's yyyy-mm-dd format, not a serial number.
    assert values["Date"] == "2024-06-14"
    assert values["BLUF"] == briefing["BLUF"]


# ---------------------------------------------------------------------------- the memo


@pytest.fixture(scope="module")
def memo_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed workbook's memo, built by the pipeline and printed to PDF by LibreOffice."""
    folder = tmp_path_factory.mktemp("memo")
    memo = folder / "memo.docx"
    result = build_memo(SEED_WORKBOOK, memo)
    assert result.path == memo
    return soffice_convert(memo, "pdf", folder / "pdf", folder / "lo")


def test_memo_converts_to_a_non_empty_pdf(memo_pdf: Path) -> None:
    data = memo_pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    assert len(data) > 10_000


def test_libreoffices_pdf_is_complete_and_a_cut_copy_is_not(memo_pdf: Path) -> None:
    data = memo_pdf.read_bytes()
    assert pdf_defect(data) is None
    # A full disk left LibreOffice's PDF cut at 20 KB, and LibreOffice still exited 0.
    assert pdf_defect(data[:20_000]) == "it does not end with %%EOF: it was cut short"


@pytest.fixture(scope="module")
def memo_text(memo_pdf: Path) -> str:
    return pdf_text(memo_pdf)


@needs_pdftotext
@pytest.mark.parametrize(
    "fact",
    [
        "TLP:CLEAR",
        "MEMORANDUM FOR",
        "14 June 2024",
        "87",
        "254",
        "Stoltenberg",
        "Page 1 of",
        "[S1]",
        "Desk editor",
        "Russia–Ukraine desk",
    ],
)
def test_memo_pdf_holds_key_facts(memo_text: str, fact: str) -> None:
    # Compared with line breaks as spaces: the memo block sets "MEMORANDUM FOR:" in a
    # narrow label column, which can wrap it.
    assert fact in " ".join(memo_text.split())


@needs_pdftotext
def test_memo_pdf_memo_block_labels_come_in_order(memo_text: str) -> None:
    words = " ".join(memo_text.split())
    positions = [words.find(label) for label in ("MEMORANDUM FOR:", "FROM:", "DATE:", "SUBJECT:")]
    assert -1 not in positions
    assert positions == sorted(positions)
    assert words.find("SUBJECT:") < words.find("Bottom line up front")


@needs_pdftotext
def test_memo_pdf_every_page_has_handling_label_and_page_x_of_y(memo_text: str) -> None:
    pages = pdf_pages(memo_text)
    assert len(pages) >= 2
    for number, page in enumerate(pages, start=1):
        assert page.count("TLP:CLEAR") >= 2, f"page {number}: header and footer label"
        assert f"Page {number} of {len(pages)}" in page


def test_build_pdf_writes_a_pdf_beside_the_memo(tmp_path: Path) -> None:
    out = tmp_path / "memo.docx"
    result = build_memo(SEED_WORKBOOK, out, pdf=True)
    assert result.pdf == tmp_path / "memo.pdf"
    text = subprocess.run(
        ["pdftotext", str(result.pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "MEMORANDUM FOR" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["memo.docx", "memo.pdf"]


# ---------------------------------------------------------------------------- nothing is fetched


class Listener:
    """An HTTP server on 127.0.0.1 that counts every connection made to it."""

    def __init__(self) -> None:
        paths: list[str] = []
        self.paths = paths

        class Handler(http.server.BaseHTTPRequestHandler):
            timeout = 5

            def do_GET(self) -> None:
                paths.append(self.path)
                self.send_response(404)
                self.end_headers()

            do_HEAD = do_POST = do_PROPFIND = do_OPTIONS = do_GET

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.connections = 0
        listener = self

        class Server(http.server.HTTPServer):
            def process_request(self, request: Any, client_address: Any) -> None:
                listener.connections += 1  # a TLS handshake or a bare connect counts too
                super().process_request(request, client_address)

        # One request at a time, in the order they came: once the last one is answered,
        # every earlier one has been counted.
        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def requests_so_far(self) -> tuple[int, list[str]]:
        """Connections and paths seen before this call's own request, which is left out."""
        with contextlib.suppress(urllib.error.HTTPError):
            urllib.request.urlopen(f"{self.url}/end-of-test", timeout=10).close()
        assert self.paths[-1] == "/end-of-test"
        self.paths.pop()
        self.connections -= 1
        return self.connections, list(self.paths)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def linking_document(path: Path, address: str) -> Path:
    """A document holding every kind of link out, each to `address`: what no template may hold."""
    document = Document()
    document.add_paragraph("Linked")
    document.add_picture(io.BytesIO(tiny_png()), width=Inches(1))
    buffer = io.BytesIO()
    document.save(buffer)
    with zipfile.ZipFile(buffer) as package:
        parts = {name: package.read(name) for name in package.namelist()}
    body = parts["word/document.xml"].decode()
    body = re.sub(r'r:embed="rId\d+"', 'r:link="rIdLogo"', body)  # the picture, linked
    fields = (
        complex_field(f'INCLUDEPICTURE "{address}/field.png" \\d')
        + simple_field(f'INCLUDETEXT "{address}/text.docx"')
        + simple_field(f'LINK Excel.Sheet.12 "{address}/book.xlsx" "Sheet1!R1C1" \\a')
        + '<w:hyperlink r:id="rIdPage"><w:r><w:t>page</w:t></w:r></w:hyperlink>'
    )
    parts["word/document.xml"] = add_to_body(fields)(body).encode()
    parts["word/_rels/document.xml.rels"] = add_relationship(
        relationship("image", f"{address}/logo.png", identifier="rIdLogo")
        + relationship("hyperlink", f"{address}/page", identifier="rIdPage")
    )(parts["word/_rels/document.xml.rels"].decode()).encode()
    settings = parts["word/settings.xml"].decode()
    parts["word/settings.xml"] = re.sub(
        r"(<w:settings[^>]*>)", r'\1<w:attachedTemplate r:id="rIdTemplate"/>', settings, count=1
    ).encode()
    parts["word/_rels/settings.xml.rels"] = relationships(
        relationship("attachedTemplate", f"{address}/template.dotx", identifier="rIdTemplate")
    ).encode()
    write_zip(path, parts)
    return path


def test_the_pdf_step_fetches_nothing_a_document_links_to(
    tmp_path: Path, listener: Listener
) -> None:
    document = linking_document(tmp_path / "linked.docx", listener.url)
    # LibreOffice as it comes fetches the linked picture: the listener hears it.
    soffice_convert(document, "pdf", tmp_path / "plain", tmp_path / "plain-profile")
    connections, paths = listener.requests_so_far()
    assert connections > 0
    assert "/logo.png" in paths
    listener.connections, listener.paths[:] = 0, []
    pdf = pdf_from_docx(document, tmp_path / "linked.pdf")
    assert pdf.startswith(b"%PDF-")
    assert listener.requests_so_far() == (0, [])


def test_a_memos_source_links_are_never_fetched(
    make_workbook: Callable[..., Path], tmp_path: Path, listener: Listener
) -> None:
    url = f"{listener.url}/news/putin-terms"
    workbook = make_workbook({cell("Sources", "URL", 2): url})
    result = build_memo(workbook, tmp_path / "memo.docx", pdf=True)
    assert result.pdf is not None
    assert result.pdf.read_bytes().startswith(b"%PDF-")
    with zipfile.ZipFile(result.path) as package:
        assert url.encode() in package.read("word/_rels/document.xml.rels")
    assert listener.requests_so_far() == (0, [])


def test_extract_adds_rows_to_a_workbook_saved_by_libreoffice(tmp_path: Path) -> None:
    """LibreOffice saves an empty drawing part with every workbook; nothing in it is lost."""
    written = tmp_path / "desk.xlsx"
    result = CliRunner().invoke(app, ["init", "--example", str(written)])
    assert result.exit_code == 0, result.output
    saved = soffice_convert(written, "xlsx", tmp_path / "saved", tmp_path / "lo")
    with zipfile.ZipFile(saved) as package:
        assert package.read("xl/drawings/drawing1.xml").endswith(b"></xdr:wsDr>")
    figures = [f.id for f in load_dossier(saved).rows(FigureRow)]
    article = Path(shutil.copy(SEED_ARTICLE, tmp_path / "article.txt"))
    extracted = extract_candidates(article, saved)
    assert extracted.counts == SEED_CANDIDATES
    sheet = read_workbook(saved).sheet("Figures")
    assert sheet is not None
    ids = [row.cells["A"].value for row in sheet.rows if "A" in row.cells]
    assert ids[: len(figures)] == figures
    assert len(ids) == len(figures) + SEED_CANDIDATES["Figures"]
