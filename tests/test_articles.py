"""Articles as web pages, Word documents and PDFs: their text read, saved beside the workbook
as UTF-8, extracted and checked; and the one line for each file that cannot be read."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import docx
import openpyxl
import pypdf
import pytest
from typer.testing import CliRunner

from briefing.articles import read_article
from briefing.cli import app
from briefing.errors import ExtractError, UnreadableText
from briefing.pipeline import check_workbook, extract_candidates
from tests.conftest import CLI, coordinate

# An article written for these tests: a headline, a date line and four sentences that give a
# figure, a reaction and a demand.
HEADLINE = "Drones strike grain port in Odesa Oblast"
PUBLISHER = "The Harbour Courier"
BODY = (
    "Russian drones hit a grain terminal in Odesa Oblast overnight, regional officials said.",
    '"The port keeps working, and ships are still loading," the regional governor said.',
    "Ukraine's air force said it shot down 24 of 30 drones launched at the south.",
    "Kyiv called on its partners to send more air defence systems to protect the ports.",
)
ARTICLE_TEXT = "\n".join([HEADLINE, f"{PUBLISHER}, 14 June 2024", *BODY]) + "\n"

PAGE = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{HEADLINE} | {PUBLISHER}</title>
<meta property="og:title" content="{HEADLINE}">
<meta property="og:site_name" content="{PUBLISHER}">
<meta property="article:published_time" content="2024-06-14T08:30:00Z">
</head><body>
<nav><a href="/">Home</a> <a href="/world">World</a> <a href="/sport">Sport</a></nav>
<article><h1>{HEADLINE}</h1>
{"".join(f"<p>{sentence}</p>" for sentence in BODY)}
</article>
<footer>Subscribe to our newsletter. Copyright 2024.</footer>
</body></html>
"""


def write_page(folder: Path, page: str = PAGE) -> Path:
    path = folder / "port.html"
    path.write_text(page, encoding="utf-8")
    return path


def write_docx(folder: Path) -> Path:
    document = docx.Document()
    document.add_heading(HEADLINE, level=1)
    document.add_paragraph(f"{PUBLISHER}, 14 June 2024")
    for sentence in BODY:
        document.add_paragraph(sentence)
    path = folder / "port.docx"
    document.save(str(path))
    return path


def pdf_bytes(lines: list[str], *, spoiled: bool = False) -> bytes:
    """A one-page PDF printing `lines` in Helvetica, written by hand: pypdf cannot lay out text.

    `spoiled` packs the page's text with deflate and then breaks the packed stream.
    """

    def escaped(line: str) -> str:
        return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    content = "BT /F1 10 Tf 13 TL 50 760 Td " + " ".join(f"({escaped(x)}) Tj T*" for x in lines)
    stream = f"{content} ET".encode("latin-1")
    packing = ""
    if spoiled:
        packed = zlib.compress(stream)
        stream, packing = packed[:12] + bytes(40) + packed[52:], " /Filter /FlateDecode"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        f"<< /Length {len(stream)}{packing} >>\nstream\n".encode() + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


# The body as a narrow column prints it: the first sentence wrapped after "grain".
PDF_LINES = [
    HEADLINE,
    f"{PUBLISHER}, 14 June 2024",
    "Russian drones hit a grain",
    BODY[0].removeprefix("Russian drones hit a grain "),
    *BODY[1:],
]


def write_pdf(folder: Path) -> Path:
    path = folder / "port.pdf"
    path.write_bytes(pdf_bytes(PDF_LINES))
    return path


# What an analyst types into a candidate that extraction leaves for them, by sheet and column.
ANALYSTS_PART = {
    "Reactions": {"Stance": "neutral", "Summary": "The governor says the port works."},
    "Demands": {"Demand": "More air defence for the ports."},
}


def review_everything(workbook: Path) -> None:
    """Fill what an analyst fills in and clear every candidate's Review cell, as an analyst
    does once a row is checked: from then on `check` verifies its quote."""
    book = openpyxl.load_workbook(workbook)
    for name in ("Figures", "Reactions", "Demands"):
        sheet = book[name]
        for row in range(2, sheet.max_row + 1):
            sheet[coordinate(name, "Review", row)] = None
            for header, value in ANALYSTS_PART.get(name, {}).items():
                sheet[coordinate(name, header, row)] = value
    book.save(workbook)


def sources_file(workbook: Path) -> str:
    return str(openpyxl.load_workbook(workbook)["Sources"][coordinate("Sources", "File", 2)].value)


WRITERS = {"html": write_page, "docx": write_docx, "pdf": write_pdf}


@pytest.mark.parametrize("kind", list(WRITERS), ids=list(WRITERS))
def test_an_article_of_each_kind_is_extracted_and_checked_through_its_text_copy(
    kind: str, tmp_path: Path
) -> None:
    article = WRITERS[kind](tmp_path)
    target = tmp_path / "desk" / "desk.xlsx"
    target.parent.mkdir()
    result = extract_candidates(article, target)
    assert result.text_copy == target.parent / "port.txt"
    assert (target.parent / "port.txt").read_bytes() == ARTICLE_TEXT.encode("utf-8")
    assert sources_file(target) == "port.txt"
    assert result.counts["Figures"] >= 1
    assert result.counts["Reactions"] >= 1
    assert result.counts["Demands"] >= 1
    sources = openpyxl.load_workbook(target)["Sources"]
    row = {header.value: cell.value for header, cell in zip(sources[1], sources[2], strict=True)}
    assert (row["Title"], row["Publisher"]) == (HEADLINE, PUBLISHER)
    assert row["Published"] == dt.datetime(2024, 6, 14)  # noqa: DTZ001 - a day, as Excel holds it
    review_everything(target)
    errors = [p for p in check_workbook(target).problems if p.is_error]
    # The quotes are found in the text copy: only the Briefing fields an analyst fills remain.
    assert {p.sheet for p in errors} == {"Briefing"}


def test_a_quote_changed_after_review_is_not_found_in_the_text_copy(tmp_path: Path) -> None:
    target = tmp_path / "desk.xlsx"
    extract_candidates(write_pdf(tmp_path), target)
    review_everything(target)
    book = openpyxl.load_workbook(target)
    figures = book["Figures"]
    quote = next(c for c in figures[1] if c.value == "Quote").column
    figures.cell(2, quote).value = str(figures.cell(2, quote).value).replace("30", "40")
    book.save(target)
    messages = [p.message for p in check_workbook(target).problems if p.sheet == "Figures"]
    assert any("quote not found in source S1" in message for message in messages)


def test_the_text_copy_never_replaces_another_file(tmp_path: Path) -> None:
    analysts_own = tmp_path / "port.txt"
    analysts_own.write_text("The analyst's own notes.\n", encoding="utf-8")
    target = tmp_path / "desk.xlsx"
    result = extract_candidates(write_page(tmp_path), target)
    assert result.text_copy == tmp_path / "port-2.txt"
    assert analysts_own.read_text(encoding="utf-8") == "The analyst's own notes.\n"
    assert sources_file(target) == "port-2.txt"


def test_the_same_page_extracted_again_is_found_a_source(tmp_path: Path) -> None:
    target = tmp_path / "desk.xlsx"
    page = write_page(tmp_path)
    extract_candidates(page, target)
    before = target.read_bytes()
    with pytest.raises(ExtractError) as caught:
        extract_candidates(page, target)
    assert str(caught.value) == (
        f"{target}: the article is already a source (S1 at Sources!F2); delete that row and "
        "its candidates to extract it again"
    )
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.glob("port*.txt")) == ["port.txt"]


def test_a_text_article_is_its_own_source_file(tmp_path: Path) -> None:
    article = tmp_path / "port.txt"
    article.write_text(ARTICLE_TEXT, encoding="utf-8")
    read = read_article(article)
    assert (read.text, read.converted) == (ARTICLE_TEXT, False)
    result = extract_candidates(article, tmp_path / "desk.xlsx")
    assert result.text_copy is None
    assert sources_file(tmp_path / "desk.xlsx") == "port.txt"


def test_a_page_without_title_or_date_gives_its_text_alone(tmp_path: Path) -> None:
    body = "".join(f"<p>{sentence}</p>" for sentence in BODY)
    page = write_page(tmp_path, f"<html><body><article>{body}</article></body></html>")
    assert read_article(page).text == "\n".join(BODY) + "\n"


def test_a_page_never_gets_a_date_from_its_copyright_line(tmp_path: Path) -> None:
    body = "".join(f"<p>{sentence}</p>" for sentence in BODY)
    page = f"<html><body><article>{body}</article><footer>© 2023 Desk</footer></body></html>"
    assert "2023" not in read_article(write_page(tmp_path, page)).text


def test_a_word_document_keeps_its_tables_and_leaves_out_deleted_text(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph(HEADLINE)
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "Drones launched: 30"
    table.cell(0, 1).text = "Shot down: 24"
    path = tmp_path / "table.docx"
    document.save(str(path))
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    assert b"<w:sectPr" in parts["word/document.xml"]
    deleted = b"<w:p><w:del><w:r><w:delText>Struck out.</w:delText></w:r></w:del></w:p>"
    parts["word/document.xml"] = parts["word/document.xml"].replace(
        b"<w:sectPr", deleted + b"<w:sectPr", 1
    )
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    assert read_article(path).text == f"{HEADLINE}\nDrones launched: 30\nShot down: 24\n"


def test_pdf_lines_wrapped_inside_a_sentence_are_joined(tmp_path: Path) -> None:
    text = read_article(write_pdf(tmp_path)).text
    assert text.splitlines() == [HEADLINE, f"{PUBLISHER}, 14 June 2024", *BODY]


@pytest.mark.office
def test_a_pdf_libreoffice_made_from_the_article_reads_back_as_its_text(tmp_path: Path) -> None:
    long_body = [f"{BODY[0][:-1]}, and the fire that followed burned for most of the morning."]
    source = tmp_path / "port.txt"
    source.write_text("\n".join([HEADLINE, f"{PUBLISHER}, 14 June 2024", *long_body, *BODY[1:]]))
    soffice = shutil.which("soffice")
    assert soffice is not None
    subprocess.run(
        [soffice, f"-env:UserInstallation=file://{tmp_path}/profile", "--headless",
         "--convert-to", "pdf", "--outdir", str(tmp_path / "pdf"), str(source)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    text = read_article(tmp_path / "pdf" / "port.pdf").text
    # The long first sentence wraps on the page and is one line again here.
    assert text.splitlines() == [HEADLINE, f"{PUBLISHER}, 14 June 2024", *long_body, *BODY[1:]]


def encrypted_pdf(path: Path) -> None:
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(pdf_bytes(PDF_LINES)))
    writer.encrypt(user_password="secret", algorithm="RC4-128")
    with path.open("wb") as file:
        writer.write(file)


def scanned_pdf(path: Path) -> None:
    writer = pypdf.PdfWriter()
    writer.add_blank_page(612, 792)
    with path.open("wb") as file:
        writer.write(file)


def damaged_pdf(path: Path) -> None:
    path.write_bytes(pdf_bytes(PDF_LINES)[:200])


def spoiled_pdf(path: Path) -> None:
    path.write_bytes(pdf_bytes(PDF_LINES, spoiled=True))


def empty_page(path: Path) -> None:
    path.write_text("<html><body><nav><a href='/'>Home</a></nav></body></html>", encoding="utf-8")


def damaged_docx(path: Path) -> None:
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 100)


def old_word_document(path: Path) -> None:
    path.write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + b"\x00" * 504)


def docx_declaring_entities(path: Path) -> None:
    write_docx(path.parent).rename(path)
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    xml = parts["word/document.xml"]
    declaration = b'<!DOCTYPE w:document [<!ENTITY big "port">]>'
    head, rest = xml.split(b"?>", 1)
    parts["word/document.xml"] = head + b"?>" + declaration + rest
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def docx_bomb(path: Path) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"<w:document>" + b" " * (8 * 2**20))


def empty_pdf(path: Path) -> None:
    path.write_bytes(b"")


UNREADABLE: list[tuple[str, Callable[[Path], None], str]] = [
    (
        "encrypted.pdf",
        encrypted_pdf,
        "the PDF is password-protected; save a copy without the password, or copy its text "
        "into a .txt file",
    ),
    (
        "scanned.pdf",
        scanned_pdf,
        "the PDF has no text to read (a scanned page is a picture of text); run text "
        "recognition (OCR) on it, or copy its text into a .txt file",
    ),
    (
        "damaged.pdf",
        damaged_pdf,
        "the PDF is damaged and cannot be read; save or print it to PDF again, or copy its "
        "text into a .txt file",
    ),
    (
        "spoiled.pdf",
        spoiled_pdf,
        "the PDF is damaged and cannot be read; save or print it to PDF again, or copy its "
        "text into a .txt file",
    ),
    ("empty.pdf", empty_pdf, "the article is empty (0 bytes); give the article's file"),
    (
        "menu.html",
        empty_page,
        "no article text found on the page; save the article's own page (not a front page or "
        "a list of links), or copy its text into a .txt file",
    ),
    (
        "damaged.docx",
        damaged_docx,
        "not a Word document (.docx), or a damaged one; open it in Word or LibreOffice and save "
        "it again as .docx",
    ),
    (
        "old.docx",
        old_word_document,
        "an old Word 97-2003 document or a password-protected one; remove any password, and "
        "save it as .docx from Word or LibreOffice",
    ),
    (
        "entities.docx",
        docx_declaring_entities,
        "word/document.xml declares XML entities, which Word never writes; the document is "
        "refused as unsafe",
    ),
    (
        "bomb.docx",
        docx_bomb,
        "word/document.xml unpacks to 8 MB, far more than an article's text (the mark of a zip "
        "bomb), so it is refused; copy the article's text into a .txt file",
    ),
]


@pytest.mark.parametrize(
    ("name", "make", "message"), UNREADABLE, ids=[name for name, _, _ in UNREADABLE]
)
def test_an_article_that_cannot_be_read_is_one_line(
    name: str, make: Callable[[Path], None], message: str, tmp_path: Path
) -> None:
    article = tmp_path / name
    make(article)
    with pytest.raises(UnreadableText) as caught:
        extract_candidates(article, tmp_path / "desk.xlsx")
    assert str(caught.value) == f"{article}: {message}"
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # nothing written


def test_extract_cli_reads_a_page_and_says_where_its_text_is(
    runner: CliRunner, tmp_path: Path
) -> None:
    page = write_page(tmp_path)
    target = tmp_path / "desk.xlsx"
    result = runner.invoke(app, ["extract", str(page), "-o", str(target)])
    assert result.exit_code == 0
    wrote, saved = result.stdout.splitlines()
    assert wrote.startswith(f"Wrote {target}: ")
    assert wrote.endswith(" from source S1, each marked unreviewed")
    assert (
        saved == f"The article's text, which check compares quotes with, is in {tmp_path}/port.txt"
    )


@pytest.mark.parametrize(
    ("name", "make", "message"), UNREADABLE, ids=[name for name, _, _ in UNREADABLE]
)
def test_extract_cli_refuses_an_unreadable_article_in_one_line(
    runner: CliRunner, tmp_path: Path, name: str, make: Callable[[Path], None], message: str
) -> None:
    # pypdf and trafilatura log what they stumble on: none of it may reach the terminal.
    article = tmp_path / name
    make(article)
    result = runner.invoke(app, ["extract", str(article), "-o", str(tmp_path / "desk.xlsx")])
    assert result.exit_code == 1
    assert result.stderr == f"Error: {article}: {message}\n"
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("name", "make"),
    [("damaged.pdf", damaged_pdf), ("spoiled.pdf", spoiled_pdf), ("menu.html", empty_page)],
    ids=["damaged-pdf", "spoiled-pdf", "menu-html"],
)
def test_what_the_libraries_log_never_reaches_the_terminal(
    tmp_path: Path, name: str, make: Callable[[Path], None]
) -> None:
    # In a process of its own, as a terminal runs it: pytest's log capture would hide a line
    # that Python prints for a library's warning when nothing else handles it.
    article = tmp_path / name
    make(article)
    command = ["extract", str(article), "-o", str(tmp_path / "desk.xlsx")]
    done = subprocess.run(
        [*CLI, *command],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith(f"Error: {article}: ")
    assert done.stderr.count("\n") == 1
