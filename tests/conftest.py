"""Shared fixtures: workbooks built in code, a CLI runner, and memo text extraction."""

from __future__ import annotations

import io
import queue
import re
import shutil
import signal
import struct
import subprocess
import sys
import threading
import zipfile
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any
from xml.etree import ElementTree

import openpyxl
import pytest
from docx import Document
from docx.table import Table
from docx.text.paragraph import Paragraph
from openpyxl.utils import get_column_letter
from typer.testing import CliRunner

from briefing.model import (
    CellValue,
    NoCell,
    RawCell,
    RawRow,
    RawWorkbook,
    RowConsumer,
    RowConsumers,
    RowShape,
)
from briefing.pipeline import example_records
from briefing.schema import SCHEMA
from briefing.workbook import workbook_bytes

ROOT = Path(__file__).resolve().parent.parent
SEED_WORKBOOK = ROOT / "workbooks" / "ceasefire-2024-06-14.xlsx"
SEED_ARTICLE = ROOT / "seeds" / "putin-ceasefire-conditions-2024-06-14.txt"
# The command line as a terminal runs it, in a process of its own: CLI + ["build", ...].
CLI = [sys.executable, "-c", "from briefing.cli import run; run()"]
# The candidates `extract` proposes from the seed article, by sheet.
SEED_CANDIDATES = {"Demands": 10, "Reactions": 19, "Figures": 8}
needs_office = pytest.mark.skipif(
    shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed"
)
needs_pdftotext = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) is not installed"
)

Edits = Mapping[str, Any]
# Workbooks up to this size (packed) are read a second time by openpyxl in every test.
ORACLE_MAX_BYTES = 1 << 20


@pytest.fixture(autouse=True)
def _reads_match_openpyxl(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every workbook any test reads through briefing is also read by openpyxl's full load.

    briefing reads a workbook in one streaming pass (sheetxml.py); the reader it replaced
    (tests/openpyxl_reader.py) is the oracle, and each read must give the same raw cells.
    A test of what openpyxl cannot read (strict OOXML, say) is marked `no_oracle`.
    """
    if request.node.get_closest_marker("no_oracle"):
        return
    from briefing import sheetxml
    from tests.openpyxl_reader import read_with_openpyxl

    streaming = sheetxml.read_workbook

    def checked(
        path: Path, progress: Any = None, consumers: RowConsumers | None = None
    ) -> RawWorkbook:
        whole = streaming(path, progress)
        if path.stat().st_size <= ORACLE_MAX_BYTES:
            assert whole == read_with_openpyxl(path), f"{path}: the readers disagree"
        if consumers is None:
            return whole
        taken: dict[str, list[tuple[RawRow, bool]]] = {}
        raw = streaming(path, progress, recording_consumers(consumers, taken))
        for sheet in raw.sheets:
            if sheet.streamed:
                assert as_given(taken[sheet.name]) == rows_given(whole, sheet.name), (
                    f"{path}: the rows given out of '{sheet.name}' are not the rows kept"
                )
        return raw

    monkeypatch.setattr(sheetxml, "read_workbook", checked)


class _RecordingConsumer:
    """A RowConsumer that notes what it is given, then passes it on."""

    def __init__(self, consumer: RowConsumer, rows: list[tuple[RawRow, bool]]) -> None:
        self.consumer, self.rows = consumer, rows

    def take(self, row: RawRow, hidden: bool) -> None:
        self.rows.append((row, hidden))
        self.consumer.take(row, hidden)

    def take_shaped(
        self,
        shape: RowShape,
        numbers: Sequence[int],
        hidden: Collection[int],
        keys: Sequence[Sequence[bytes | None]],
        values: Sequence[Sequence[CellValue | NoCell]],
    ) -> None:
        self.rows.extend((row, row.number in hidden) for row in shape.rows(numbers, values))
        self.consumer.take_shaped(shape, numbers, hidden, keys, values)

    def restart(self) -> None:
        self.rows.clear()
        self.consumer.restart()


def recording_consumers(
    consumers: RowConsumers, taken: dict[str, list[tuple[RawRow, bool]]]
) -> RowConsumers:
    """`consumers`, each noting in `taken[sheet name]` the rows (and hidden flags) it took."""

    def consumer_for(name: str) -> RowConsumer | None:
        consumer = consumers(name)
        if consumer is None:
            return None
        return _RecordingConsumer(consumer, taken.setdefault(name, []))

    return consumer_for


def rows_given(whole: RawWorkbook, name: str) -> list[object]:
    """What a consumer of the sheet should take: its header row, then its rows, in order.

    The header row is given as a kept sheet keeps it, (row, (letter, text) pairs); every
    later row with whether Excel hides it.
    """
    sheet = next(sheet for sheet in whole.sheets if sheet.name == name)
    if not sheet.header_row:
        return []
    hidden = set(sheet.hidden_rows)
    rows: list[object] = [(sheet.header_row, sheet.headers)]
    return rows + [(row, row.number in hidden) for row in sheet.rows]


def as_given(taken: list[tuple[RawRow, bool]]) -> list[object]:
    """The rows a consumer took, its first (the header) as rows_given gives it."""
    if not taken:
        return []
    first = taken[0][0]
    header = tuple(
        (letter, "" if raw.value is None else str(raw.value)) for letter, raw in first.cells.items()
    )
    rows: list[object] = [(first.number, header)]
    return rows + list(taken[1:])


def set_cells(path: Path, edits: Edits) -> None:
    """Change cells of a saved workbook: {cell("Figures", "Value", 2): 12, ...}.

    Text stays text, even text starting with '='; tests that need a formula write one directly.
    """
    book = openpyxl.load_workbook(path)
    for where, value in edits.items():
        sheet, coordinate = where.split("!")
        cell = book[sheet][coordinate]
        cell.value = value
        if isinstance(value, str):
            cell.data_type = "s"
    book.save(path)


# ---------------------------------------------------------------------------- cells
# Tests name a cell by sheet, column header and row; the schema says where `init` puts each
# column, so moving a column in the schema moves every test's cells with it.


def column_letter(sheet: str, header: str) -> str:
    """The column `init` gives a header: ("Figures", "Value") -> "I"."""
    headers = [column.header for column in SCHEMA.sheet(sheet).columns]
    return get_column_letter(headers.index(header) + 1)


def coordinate(sheet: str, header: str, row: int) -> str:
    """("Figures", "Value", 7) -> "I7"."""
    return f"{column_letter(sheet, header)}{row}"


def cell(sheet: str, header: str, row: int) -> str:
    """("Figures", "Value", 7) -> "Figures!I7", as set_cells takes it and problems name it."""
    return f"{sheet}!{coordinate(sheet, header, row)}"


def extra_cell(sheet: str, row: int) -> str:
    """A cell in the first column right of the schema's: where an analyst adds a column."""
    return f"{sheet}!{get_column_letter(len(SCHEMA.sheet(sheet).columns) + 1)}{row}"


def field_row(field: str) -> int:
    """The Briefing sheet's row of a field: a header row, then one row per field in order."""
    return [column.header for column in SCHEMA.sheet("Briefing").columns].index(field) + 2


def field_cell(field: str) -> str:
    """The Briefing cell holding a field's value (column B): "BLUF" -> "Briefing!B8"."""
    return f"Briefing!B{field_row(field)}"


def label_cell(field: str) -> str:
    """The Briefing cell naming a field (column A): "BLUF" -> "Briefing!A8"."""
    return f"Briefing!A{field_row(field)}"


# ---------------------------------------------------------------------------- workbook files

MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def write_example(path: Path) -> Path:
    """Write the seed article's records at `path`, as `init --example` does."""
    path.write_bytes(workbook_bytes(*example_records()))
    return path


def sheet_part(package: zipfile.ZipFile, name: str) -> str:
    """The zip member holding the sheet called `name`, found through the workbook's rels."""
    book = ElementTree.fromstring(package.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(package.read("xl/_rels/workbook.xml.rels"))
    targets = {
        rel.get("Id"): rel.get("Target", "") for rel in rels.iter(f"{PKG_REL_NS}Relationship")
    }
    for sheet in book.iter(f"{MAIN_NS}sheet"):
        if sheet.get("name") == name:
            target = targets[sheet.get(f"{REL_NS}id")]
            return (
                target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl", target))
            )
    raise KeyError(name)


def patch_sheet_xml(path: Path, sheet: str, change: Callable[[str], str]) -> None:
    """Rewrite one sheet's XML inside the zip, keeping every other member as it was."""
    with zipfile.ZipFile(path) as package:
        member = sheet_part(package, sheet)
        items = [(info, package.read(info)) for info in package.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        for info, data in items:
            if info.filename == member:
                changed = change(data.decode("utf-8"))
                assert changed != data.decode("utf-8"), "the patch changed nothing"
                data = changed.encode("utf-8")
            package.writestr(info.filename, data)


# Excel's "Strict Open XML Spreadsheet" names the same elements in namespaces of its own.
STRICT_NAMESPACES = {
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main": (
        "http://purl.oclc.org/ooxml/spreadsheetml/main"
    ),
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships": (
        "http://purl.oclc.org/ooxml/officeDocument/relationships"
    ),
    "http://schemas.openxmlformats.org/drawingml/2006/main": (
        "http://purl.oclc.org/ooxml/drawingml/main"
    ),
    "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties": (
        "http://purl.oclc.org/ooxml/officeDocument/extendedProperties"
    ),
}


def strict_copy(path: Path, target: Path) -> Path:
    """The workbook at `path` saved at `target` as Strict Open XML: its namespaces and
    relationship types (which share the relationships namespace's prefix) replaced."""
    with zipfile.ZipFile(path) as package, zipfile.ZipFile(target, "w") as strict:
        for info in package.infolist():
            data = package.read(info)
            if info.filename.endswith((".xml", ".rels")):
                text = data.decode("utf-8")
                for transitional, replacement in STRICT_NAMESPACES.items():
                    text = text.replace(transitional, replacement)
                data = text.encode("utf-8")
            strict.writestr(info, data)
    return target


def raw_cell(raw: RawWorkbook, sheet: str, coordinate: str) -> RawCell | None:
    """The cell `read_workbook` gave at a coordinate such as "I7"; None where it gave none."""
    found = raw.sheet(sheet)
    assert found is not None
    row = int(re.sub(r"[A-Z]", "", coordinate))
    letter = re.sub(r"\d", "", coordinate)
    for record in found.rows:
        if record.number == row:
            return record.cells.get(letter)
    return None


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def seed_copy(tmp_path: Path) -> Path:
    """The seed workbook beside a copy of the article, where its File column points."""
    (tmp_path / "workbooks").mkdir()
    (tmp_path / "seeds").mkdir()
    shutil.copy(SEED_ARTICLE, tmp_path / "seeds" / SEED_ARTICLE.name)
    return Path(shutil.copy(SEED_WORKBOOK, tmp_path / "workbooks" / SEED_WORKBOOK.name))


@pytest.fixture
def example_workbook(tmp_path: Path) -> Path:
    """A valid workbook holding the seed article's records, written by `init --example`."""
    records, briefing = example_records()
    path = tmp_path / "desk.xlsx"
    path.write_bytes(workbook_bytes(records, briefing))
    return path


@pytest.fixture
def make_workbook(tmp_path: Path) -> Callable[..., Path]:
    """Build a workbook from the example records with some cells changed."""

    def make(edits: Edits | None = None, name: str = "desk.xlsx") -> Path:
        records, briefing = example_records()
        path = tmp_path / name
        path.write_bytes(workbook_bytes(records, briefing))
        if edits:
            set_cells(path, edits)
        return path

    return make


def _block_text(block: Paragraph | Table) -> list[str]:
    if isinstance(block, Paragraph):
        return [block.text] if block.text.strip() else []
    lines = []
    for row in block.rows:
        lines.append(" | ".join(cell.text for cell in row.cells))
    return lines


def memo_text(path: Path) -> str:
    """The memo's text in reading order: header, body paragraphs and tables, footer."""
    document = Document(str(path))
    section = document.sections[0]
    lines = ["[header]"]
    for paragraph in section.header.paragraphs:
        lines.append(paragraph.text)
    lines.append("[body]")
    for block in document.iter_inner_content():
        lines.extend(_block_text(block))
    lines.append("[footer]")
    for paragraph in section.footer.paragraphs:
        # Field results (page numbers) are left to the office suite.
        lines.append(paragraph.text)
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------- not workbooks
# Each writes one kind of file that is not a workbook at `path`, or leaves nothing there.
# test_hostile.py gives them to every command, test_workbook.py to the reader.

BadFile = Callable[[Path], None]
# The first bytes of an OLE2 compound file: every .xls, and every password-protected .xlsx.
OLE2_HEADER = bytes.fromhex("d0cf11e0a1b11ae1")


def write_zip(path: Path, members: Mapping[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        for name, data in members.items():
            package.writestr(name, data)


def csv_file(path: Path) -> None:
    """A CSV export, whatever its name."""
    path.write_text("ID,Metric,Value\nF1,drones shot down,87\n", encoding="utf-8")


def empty_file(path: Path) -> None:
    path.write_bytes(b"")


def xls_file(path: Path) -> None:
    """An old Excel 97-2003 workbook."""
    path.write_bytes(OLE2_HEADER + bytes(4096))


def truncated_zip(path: Path) -> None:
    """A workbook cut short, as an interrupted copy or download leaves it."""
    data = workbook_bytes({}, {})
    path.write_bytes(data[: len(data) // 3])


def spoil_part(path: Path, member: str, *, stored: bool) -> None:
    """Damage one part of the zip at `path` in place, as a failing disk or copy leaves it.

    A part `stored` uncompressed gets one byte changed, which only its CRC reveals; a
    deflated one gets 16 bytes in the middle of its stream zeroed, which breaks the stream.
    """
    with zipfile.ZipFile(path) as package:
        items = [(info, package.read(info)) for info in package.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        for info, data in items:
            kind = zipfile.ZIP_STORED if stored and info.filename == member else None
            package.writestr(info.filename, data, compress_type=kind)
    with zipfile.ZipFile(path) as package:
        info = package.getinfo(member)
    blob = bytearray(path.read_bytes())
    name_length, extra_length = struct.unpack_from("<HH", blob, info.header_offset + 26)
    middle = info.header_offset + 30 + name_length + extra_length + info.compress_size // 2
    if stored:
        blob[middle] ^= 0x5A
    else:
        blob[middle : middle + 16] = bytes(16)
    path.write_bytes(bytes(blob))


def bad_crc_workbook(path: Path) -> None:
    """A workbook whose Figures sheet unpacks, but to bytes its checksum does not match."""
    write_example(path)
    spoil_part(path, "xl/worksheets/sheet5.xml", stored=True)


def corrupt_stream_workbook(path: Path) -> None:
    """A workbook whose Figures sheet's compressed stream is garbled."""
    write_example(path)
    spoil_part(path, "xl/worksheets/sheet5.xml", stored=False)


def docx_file(path: Path) -> None:
    """A Word document: a zip archive, but no workbook inside."""
    write_zip(path, {"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})


def folder(path: Path) -> None:
    path.mkdir()


def missing(path: Path) -> None:
    """Nothing at the path: a mistyped name."""


NOT_WORKBOOKS: dict[str, BadFile] = {
    "csv": csv_file,
    "empty": empty_file,
    "xls": xls_file,
    "truncated": truncated_zip,
    "bad-crc": bad_crc_workbook,
    "corrupt-stream": corrupt_stream_workbook,
    "docx": docx_file,
    "folder": folder,
    "missing": missing,
}


# ---------------------------------------------------------------------------- PDF and LibreOffice


def complete_pdf(pages: int = 1) -> bytes:
    """A complete PDF of blank pages, laid out as LibreOffice writes one: objects, an xref
    table, a trailer naming the catalog, startxref and %%EOF."""
    kids = " ".join(f"{3 + page} 0 R" for page in range(pages))
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        f"<</Type/Pages\n/Kids[ {kids} ]\n/Count {pages}>>".encode(),
        *[b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>"] * pages,
    ]
    data = bytearray(b"%PDF-1.6\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(data))
        data += b"%d 0 obj\n%s\nendobj\n\n" % (number, body)
    table = len(data)
    data += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    data += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    data += b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        table,
    )
    return bytes(data)


# What a stand-in for LibreOffice does: its exit code, and the PDF it leaves (None: none).
OFFICE_RUNS: dict[str, tuple[int, bytes | None]] = {
    "converts": (0, complete_pdf(2)),
    "fails": (1, None),
    "writes-nothing": (0, None),
    "cut-short": (0, complete_pdf(40)[:2000]),  # a full disk: exit 0, the PDF cut short
    "no-pages": (0, complete_pdf(0)),
}
FAKE_OFFICE = """#!{python}
import pathlib, sys

arguments = sys.argv[1:]
outdir = pathlib.Path(arguments[arguments.index("--outdir") + 1])
pdf = {pdf!r}
if pdf is not None:
    (outdir / (pathlib.Path(arguments[-1]).stem + ".pdf")).write_bytes(pdf)
sys.exit({code})
"""

InstallOffice = Callable[[str | None], None]


def write_fake_office(path: Path, run: str) -> Path:
    """Write at `path` a stand-in for LibreOffice's program that runs as OFFICE_RUNS names.

    It writes the PDF where LibreOffice would, named after the document, into --outdir.
    """
    code, pdf = OFFICE_RUNS[run]
    path.write_text(FAKE_OFFICE.format(python=sys.executable, pdf=pdf, code=code))
    path.chmod(0o755)
    return path


@pytest.fixture
def fake_office(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> InstallOffice:
    """Put a stand-in `soffice` that runs as OFFICE_RUNS names alone on the PATH; None: none.

    Neither BRIEFING_SOFFICE nor a LibreOffice installed off the PATH is looked at.
    """

    def install(run: str | None) -> None:
        folder = tmp_path_factory.mktemp("bin")
        if run is not None:
            write_fake_office(folder / "soffice", run)
        monkeypatch.setenv("PATH", str(folder))
        monkeypatch.delenv("BRIEFING_SOFFICE", raising=False)
        monkeypatch.setattr("briefing.output.OFFICE_PLACES", ())

    return install


# ------------------------------------------------------------------ templates that link out
# Each change to the default template is a part's name and either its new text or a function
# of its old text; test_hostile.py gives them to build and template check, test_remote.py to
# the scan itself.

PartChange = str | Callable[[str], str]
LISTENER = "http://127.0.0.1:9"  # the discard port: nothing there answers
RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
RELATIONSHIP_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
W_NAMESPACE = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def template_with(path: Path, changes: Mapping[str, PartChange]) -> Path:
    """The default memo template with some parts changed or added, written to `path`."""
    from briefing.render import default_template

    with zipfile.ZipFile(io.BytesIO(default_template(".docx"))) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    for name, change in changes.items():
        text = change(parts[name].decode("utf-8")) if callable(change) else change
        parts[name] = text.encode("utf-8")
    write_zip(path, parts)
    return path


def relationship(
    kind: str, target: str, *, mode: str | None = "External", identifier: str = "rIdOut"
) -> str:
    """One relationship of `kind` (its type's last word) to `target`."""
    target_mode = f' TargetMode="{mode}"' if mode else ""
    return (
        f'<Relationship Id="{identifier}" Type="{RELATIONSHIP_TYPE}/{kind}" '
        f'Target="{escape_attribute(target)}"{target_mode}/>'
    )


def relationships(*items: str) -> str:
    """A whole relationships part holding `items`."""
    return (
        f'<?xml version="1.0"?><Relationships xmlns="{RELATIONSHIPS}">'
        f"{''.join(items)}</Relationships>"
    )


def add_relationship(item: str) -> Callable[[str], str]:
    """A change adding `item` to an existing relationships part."""
    return lambda text: text.replace("</Relationships>", item + "</Relationships>")


def add_to_body(xml: str) -> Callable[[str], str]:
    """A change adding a paragraph of raw WordprocessingML at the start of the body."""
    return lambda text: text.replace("<w:body>", f"<w:body><w:p>{xml}</w:p>", 1)


def add_to_paragraph_end(xml: str) -> Callable[[str], str]:
    """A change adding raw runs at the end of a header's or footer's last paragraph."""
    return lambda text: text[: text.rindex("</w:p>")] + xml + text[text.rindex("</w:p>") :]


def complex_field(*code: str) -> str:
    """A field as Word writes it: begin, its code in one run per piece, separate, result, end."""
    pieces = "".join(
        f'<w:r><w:instrText xml:space="preserve">{escape_text(c)}</w:instrText></w:r>' for c in code
    )
    return (
        '<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
        f'{pieces}<w:r><w:fldChar w:fldCharType="separate"/></w:r>'
        '<w:r><w:t>result</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r>'
    )


def simple_field(code: str) -> str:
    instruction = escape_attribute(code)
    return f'<w:fldSimple w:instr="{instruction}"><w:r><w:t>result</w:t></w:r></w:fldSimple>'


def wordprocessing_part(root: str, xml: str) -> str:
    """A whole WordprocessingML part (footnotes, say) holding raw `xml` in one paragraph."""
    return f'<?xml version="1.0"?><w:{root} xmlns:w="{W_NAMESPACE}"><w:p>{xml}</w:p></w:{root}>'


def with_doctype(entity_target: str) -> Callable[[str], str]:
    """A change declaring an external entity after a part's XML declaration."""

    def change(text: str) -> str:
        declaration, rest = text.split("?>", 1)
        root = rest.lstrip().split()[0].lstrip("<").rstrip(">/")
        return f'{declaration}?><!DOCTYPE {root} [<!ENTITY ext SYSTEM "{entity_target}">]>{rest}'

    return change


def escape_attribute(text: str) -> str:
    return escape_text(text).replace('"', "&quot;")


def escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# ---------------------------------------------------------------------------- watching saves

WAIT = 30  # seconds a test waits for a save to be seen before it fails


def save_as_excel_does(path: Path, data: bytes) -> None:
    """Write `data` as Excel saves a workbook: to a temporary file, then renamed into place
    while the old file is renamed away and deleted."""
    fresh = path.parent / "A1B2C3D4"
    fresh.write_bytes(data)
    old = path.parent / "5E6F7A8B.tmp"
    path.replace(old)
    fresh.replace(path)
    old.unlink()


def in_thread(iterator: Iterator[object]) -> tuple[queue.Queue[object], threading.Thread]:
    """Run the iterator in a thread: each item (or the exception it ends with) on a queue."""
    items: queue.Queue[object] = queue.Queue()

    def drain() -> None:
        try:
            for item in iterator:
                items.put(item)
        except Exception as err:  # the test sees it instead of waiting for ever
            items.put(err)
        items.put(StopIteration())

    thread = threading.Thread(target=drain, daemon=True)
    thread.start()
    return items, thread


def next_save(
    items: queue.Queue[object], save: Iterator[None], seconds: float = WAIT / 5
) -> object:
    """Save again and again, `seconds` apart, until the watch sees it: a watch may start a
    moment after its generator does."""
    for _ in save:
        try:
            return items.get(timeout=seconds)
        except queue.Empty:
            continue
    pytest.fail("the save was never seen")


def saving(save: Callable[[], None], times: int = 5) -> Iterator[None]:
    """`save`, up to `times` times, for `next_save`."""
    for _ in range(times):
        save()
        yield


def interruptible() -> None:
    """Give a child process Ctrl-C back: a shell that starts a job in the background (as a CI
    runner may) ignores SIGINT for it and its children, and Python then never raises
    KeyboardInterrupt. Passed to Popen as `preexec_fn`."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_bench(script: str, *arguments: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    """Run bench/`script` as a user would, in a fresh process; it must exit 0."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *arguments],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result
