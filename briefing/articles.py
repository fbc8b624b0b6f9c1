"""Read an article file of any kind the desk gets into its text: text, web page, Word or PDF."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import logging
import os
import re
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.parsers import expat

from briefing.archive import DAMAGED_PART_ERRORS, MAX_RATIO, RATIO_FLOOR, ZIP_MAGIC
from briefing.errors import ExtractError, UnreadableText
from briefing.text import missing_file, read_text_file, remove_unsafe_characters

MAX_ARTICLE_BYTES = 2 * 1024 * 1024  # an article's text
# A page, document or PDF holds pictures, scripts and styles beside its text, so it may be
# larger; trafilatura takes about 3 s for 2 MB of page and 25 s for 8 MB (docs/performance.md).
MAX_FILE_BYTES = {".html": 10 * 2**20, ".htm": 10 * 2**20, ".docx": 64 * 2**20, ".pdf": 64 * 2**20}
MAX_DOCUMENT_XML_BYTES = 16 * 2**20  # word/document.xml unpacked: 40 times a long article's
MAX_PDF_PAGES = 100  # an article runs to a few pages; pypdf reads about 10 pages a second
CONVERTED = tuple(MAX_FILE_BYTES)
WORD_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
COMPATIBILITY_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006}"
# A PDF line that ends inside a sentence: the next line continues its paragraph.
SENTENCE_END = re.compile(r"[.!?:;\"'\u201d\u2019)\]]\s*$")
XML_CHUNK = 1 << 16
PROSE_WORDS = 8  # a page whose longest line is shorter holds no sentence of an article


@dataclass(frozen=True)
class ArticleText:
    """An article's text, and whether it was taken out of another format (and so needs a
    UTF-8 copy beside the workbook for `check` to read)."""

    text: str
    converted: bool


def read_article(path: Path) -> ArticleText:
    """The text of the article at `path`: a UTF-8 text file as it is, the main text of an
    .html page, the paragraphs of a .docx, the text layer of a .pdf.

    Raises UnreadableText naming the file and what to do.
    """
    suffix = path.suffix.casefold()
    if suffix not in CONVERTED:
        return ArticleText(
            read_text_file(path, f"{path}: the article", limit=MAX_ARTICLE_BYTES), False
        )
    data = _read_bytes(path, MAX_FILE_BYTES[suffix])
    if suffix == ".docx":
        text = docx_text(path, data)
    elif suffix == ".pdf":
        text = pdf_text(path, data)
    else:
        text = html_text(path, data)
    text = remove_unsafe_characters(text.replace("\r\n", "\n").replace("\r", "\n")).strip()
    if len(text.encode("utf-8")) > MAX_ARTICLE_BYTES:
        raise UnreadableText(
            f"{path}: the article's text is larger than {MAX_ARTICLE_BYTES // 2**20} MB; give "
            "a copy of the article alone"
        )
    return ArticleText(text + "\n", True)


def _read_bytes(path: Path, limit: int) -> bytes:
    what = f"{path}: the article"
    if not os.path.isfile(path):
        raise UnreadableText(f"{what} {missing_file(path)}; give the article's file")
    too_large = UnreadableText(
        f"{what} is larger than {limit // 2**20} MB; give a copy of the article alone"
    )
    try:
        if path.stat().st_size > limit:
            raise too_large
        with path.open("rb") as file:
            data = file.read(limit + 1)
    except OSError as err:
        raise UnreadableText(f"{what} cannot be read ({err.strerror})") from err
    if len(data) > limit:
        raise too_large
    if not data:
        raise UnreadableText(f"{what} is empty (0 bytes); give the article's file")
    return data


def html_text(path: Path, data: bytes) -> str:
    """A web page's main text (trafilatura), headed by its title and a "Site, 14 June 2024"
    line when the page gives them, the way extraction reads an article's first lines.

    The page is read from the file alone: nothing is fetched.
    """
    # trafilatura and its date and language helpers take a seventh of a second to import:
    # only an .html article pays for it.
    import trafilatura

    try:
        with _complaints_silenced("trafilatura", "htmldate", "courlan", "justext"):
            found = trafilatura.bare_extraction(
                data,
                with_metadata=True,
                include_comments=False,
                include_tables=True,
                # Only a date the page states, never one guessed from a copyright line.
                date_extraction_params={"extensive_search": False, "original_date": True},
            )
    except (ValueError, TypeError, AttributeError) as err:  # pragma: no cover - defensive
        raise UnreadableText(
            f"{path}: the page cannot be read as HTML ({err}); save the page again from the "
            "browser or copy its text into a .txt file"
        ) from err
    body = str(getattr(found, "text", None) or "").strip() if found is not None else ""
    # Where a page has no article, trafilatura falls back on its menus and lists of links.
    if not any(len(line.split()) >= PROSE_WORDS for line in body.split("\n")):
        raise UnreadableText(
            f"{path}: no article text found on the page; save the article's own page (not a "
            "front page or a list of links), or copy its text into a .txt file"
        )
    title = _one_line(getattr(found, "title", None))
    header = [title] if title else []
    date_line = ", ".join(
        part for part in (_one_line(getattr(found, "sitename", None)), _day(found)) if part
    )
    if date_line:
        header.append(date_line)
    url = _one_line(getattr(found, "url", None))
    if url.startswith(("http://", "https://")):
        header.append(url)
    lines = body.split("\n")
    if title and lines[0].strip() == title:  # the page's own headline opens its text
        lines = lines[1:]
    return "\n".join([*header, *lines])


def _one_line(value: object) -> str:
    return " ".join(str(value).split()) if value else ""


def _day(found: Any) -> str:
    """The page's date as a date line gives it ("14 June 2024"), or ""."""
    try:
        day = dt.date.fromisoformat(str(getattr(found, "date", None) or "")[:10])
    except ValueError:
        return ""
    return f"{day.day} {day:%B %Y}"


def docx_text(path: Path, data: bytes) -> str:
    """A Word document's paragraphs (tables' too), one a line, read from word/document.xml.

    Read with the standard library, after the checks the workbook reader makes: a part packed
    far tighter than XML packs (a zip bomb) is refused from the zip directory, and a DOCTYPE or
    entity declaration anywhere in the part stops the parse.
    """
    unreadable = UnreadableText(
        f"{path}: not a Word document (.docx), or a damaged one; open it in Word or LibreOffice "
        "and save it again as .docx"
    )
    head = data[:8]
    if head == bytes.fromhex("d0cf11e0a1b11ae1"):
        raise UnreadableText(
            f"{path}: an old Word 97-2003 document or a password-protected one; remove any "
            "password, and save it as .docx from Word or LibreOffice"
        )
    if not head.startswith(ZIP_MAGIC):
        raise unreadable
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            member = archive.getinfo("word/document.xml")
            if member.file_size > MAX_DOCUMENT_XML_BYTES or (
                member.file_size > RATIO_FLOOR
                and member.file_size > MAX_RATIO * member.compress_size
            ):
                raise UnreadableText(
                    f"{path}: word/document.xml unpacks to {member.file_size / 2**20:,.0f} MB, "
                    "far more than an article's text (the mark of a zip bomb), so it is "
                    "refused; copy the article's text into a .txt file"
                )
            with archive.open(member) as stream:
                return "\n".join(_docx_paragraphs(stream))
    except _EntityDeclared as err:
        raise UnreadableText(
            f"{path}: word/document.xml declares XML entities, which Word never writes; the "
            "document is refused as unsafe"
        ) from err
    except (KeyError, expat.ExpatError, zipfile.BadZipFile, OSError, *DAMAGED_PART_ERRORS) as err:
        raise unreadable from err


class _EntityDeclared(Exception):
    """Raised from inside expat when a part declares a DOCTYPE or an entity."""


def _docx_paragraphs(stream: Any) -> Iterator[str]:
    """Each paragraph's text in document order; deleted text, field codes and the fallback
    copies of text boxes (Word writes each text box twice) left out."""
    parser = expat.ParserCreate(namespace_separator="}")
    parser.buffer_text = True

    def refuse(*_: object) -> Any:
        raise _EntityDeclared

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    open_paragraphs: list[list[str]] = []
    done: list[str] = []
    state = {"in_text": False, "skipping": 0}
    breaks = {f"{WORD_NS}tab": "\t", f"{WORD_NS}br": "\n", f"{WORD_NS}cr": "\n"}
    breaks[f"{WORD_NS}noBreakHyphen"] = "-"
    skipped = (f"{COMPATIBILITY_NS}Fallback", f"{WORD_NS}delText", f"{WORD_NS}instrText")

    def start(name: str, _: object) -> None:
        if name in skipped:
            state["skipping"] += 1
        elif state["skipping"]:
            return
        elif name == f"{WORD_NS}p":
            open_paragraphs.append([])
        elif name == f"{WORD_NS}t":
            state["in_text"] = True
        elif name in breaks and open_paragraphs:
            open_paragraphs[-1].append(breaks[name])

    def end(name: str) -> None:
        if name in skipped:
            state["skipping"] -= 1
        elif state["skipping"]:
            return
        elif name == f"{WORD_NS}p" and open_paragraphs:
            done.append("".join(open_paragraphs.pop()).strip())
        elif name == f"{WORD_NS}t":
            state["in_text"] = False

    def characters(data: str) -> None:
        if state["in_text"] and not state["skipping"] and open_paragraphs:
            open_paragraphs[-1].append(data)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    while chunk := stream.read(XML_CHUNK):
        parser.Parse(chunk, False)
        yield from done
        done.clear()
    parser.Parse(b"", True)
    yield from done


def pdf_text(path: Path, data: bytes) -> str:
    """A PDF's text layer (pypdf), with the lines a paragraph was wrapped into joined again,
    so that each sentence stands on one line as extraction reads it."""
    # pypdf is imported only for a PDF article.
    import pypdf

    with _complaints_silenced("pypdf") as complaints:
        pages = _pdf_pages(path, data, pypdf)
    text = "\n".join(pages)
    if not any(character.isalpha() for character in text):
        if complaints:  # a page pypdf could not decode, rather than a page with no text
            raise UnreadableText(damaged_pdf(path))
        raise UnreadableText(
            f"{path}: the PDF has no text to read (a scanned page is a picture of text); run "
            "text recognition (OCR) on it, or copy its text into a .txt file"
        )
    return "\n".join(_paragraphs(text.split("\n")))


def damaged_pdf(path: Path) -> str:
    """The one line that refuses a PDF pypdf cannot read."""
    return (
        f"{path}: the PDF is damaged and cannot be read; save or print it to PDF again, or "
        "copy its text into a .txt file"
    )


def _pdf_pages(path: Path, data: bytes, pypdf: Any) -> list[str]:
    from pypdf.errors import DependencyError, PdfReadError, PyPdfError

    locked = UnreadableText(
        f"{path}: the PDF is password-protected; save a copy without the password, or copy "
        "its text into a .txt file"
    )
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        # A PDF locked only against editing opens with the empty password, as readers do.
        if reader.is_encrypted and not reader.decrypt(""):
            raise locked
        if len(reader.pages) > MAX_PDF_PAGES:
            raise UnreadableText(
                f"{path}: the PDF has {len(reader.pages)} pages, more than the {MAX_PDF_PAGES} "
                "an article runs to; give the article's own pages"
            )
        return [page.extract_text() or "" for page in reader.pages]
    except UnreadableText:
        raise
    except (DependencyError, NotImplementedError) as err:  # an encryption pypdf cannot undo
        raise locked from err
    except (PyPdfError, PdfReadError, ValueError, KeyError, TypeError, OSError) as err:
        raise UnreadableText(damaged_pdf(path)) from err


class _Complaints(logging.Handler):
    """Keeps what a library logs, which Python would otherwise print on the terminal."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextlib.contextmanager
def _complaints_silenced(*loggers: str) -> Iterator[list[str]]:
    """What the named libraries log or warn while the block runs, kept from the terminal
    (where the one `Error:` line is all a user sees) and given to the caller."""
    handler = _Complaints()
    for name in loggers:
        logging.getLogger(name).addHandler(handler)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield handler.messages
    finally:
        for name in loggers:
            logging.getLogger(name).removeHandler(handler)


def _paragraphs(lines: list[str]) -> Iterator[str]:
    """PDF lines joined into paragraphs: a line runs on into the next when it ends with the
    space pypdf leaves where a paragraph wraps, or ends mid-sentence before a lowercase word
    (a headline or a byline, ending mid-sentence before a capital, keeps its own line)."""
    current = ""
    for raw, following in zip(lines, [*lines[1:], ""], strict=True):
        line = raw.strip()
        if line:
            current = f"{current} {line}" if current else line
        next_line = following.strip()
        runs_on = bool(line and next_line) and (
            raw != raw.rstrip() or (not SENTENCE_END.search(line) and next_line[0].islower())
        )
        if current and not runs_on:
            yield current
            current = ""


def text_copy_path(article: Path, folder: Path, text: str) -> tuple[Path, bool]:
    """Where the article's text is saved for `check`: `name.txt` in `folder` (the workbook's),
    or `name-2.txt`, … when a different file holds that name; and whether that file already
    holds this very text (so that extracting the same article again finds it a source)."""
    data = text.encode("utf-8")
    stem = article.stem.lstrip(".") or "article"  # never hidden: check reads no hidden file
    for number in range(1, 1000):
        candidate = folder / (f"{stem}.txt" if number == 1 else f"{stem}-{number}.txt")
        if not os.path.lexists(candidate):
            return candidate, False
        if os.path.isfile(candidate) and _same_bytes(candidate, data):
            return candidate, True
    raise ExtractError(
        f"{folder}: {stem}.txt to {stem}-999.txt are all taken by other files; "
        "move some of them, or give the article's text as a .txt file"
    )


def _same_bytes(path: Path, data: bytes) -> bool:
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False
