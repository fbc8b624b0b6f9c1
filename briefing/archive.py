"""Zip and XML checks on Office files, made before any parser opens them: no openpyxl here."""

from __future__ import annotations

import io
import os
import re
import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import IO
from xml.etree import ElementTree

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as DefusedElementTree

from briefing.errors import WorkbookUnreadable

# Guards against an archive that unpacks to far more than it holds (a zip bomb), set far above
# an honest workbook: the sheet XML of a workbook at Excel's row limit unpacks to about 1.2 GB
# and compresses 5 to 20 times; deflate packs zeros about 1,000 times. Sheets are parsed as a
# stream (sheetxml.py), so memory follows the cells kept, never the XML's size.
MAX_UNPACKED_BYTES = 4 * 1024**3
MAX_RATIO = 100  # unpacked size / packed size of any one part larger than RATIO_FLOOR
RATIO_FLOOR = 1024**2  # smaller parts cannot hurt, whatever their ratio
MAX_CELLS = 1 << 25  # twice a sheet of 16 columns filled down to Excel's last row
MAX_READ_SECONDS = 300  # reading the largest honest workbook takes under a minute here
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
# An OpenDocument package names its kind in a first member called `mimetype`.
OPENDOCUMENT_PREFIX = "application/vnd.oasis.opendocument."
ODS_MIMETYPE = OPENDOCUMENT_PREFIX + "spreadsheet"
# Parts of a workbook that openpyxl may not write back, by what an analyst would call them.
KEPT_PARTS = (
    ("xl/drawings/", "drawings or text boxes"),
    ("xl/media/", "pictures"),
    ("xl/charts/", "charts"),
    ("xl/comments", "comments"),
    ("xl/threadedComments/", "threaded comments"),
    ("xl/vbaProject.bin", "macros"),
    ("xl/pivotTables/", "pivot tables"),
    ("xl/slicers/", "slicers"),
    ("xl/externalLinks/", "links to other workbooks"),
    ("xl/embeddings/", "embedded objects"),
    ("customXml/", "custom XML"),
)
STRICT_NAMESPACE = b"http://purl.oclc.org/ooxml/spreadsheetml/main"
# What unpacking a damaged part raises: a bad CRC, a broken deflate stream, a part cut short.
DAMAGED_PART_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError)


def ensure_workbook_archive(path: Path) -> None:
    """Raise WorkbookUnreadable unless `path` is an .xlsx archive safe to hand to a parser.

    Decided from the first bytes and the zip directory alone: a CSV, an .xls, a password-
    protected or damaged file, a part packed far tighter than XML packs (a zip bomb), an
    archive unpacking past the limit, or XML opening with an entity declaration is refused in
    one line, fast, whatever its size. (The streaming parse refuses a declaration found later.)
    """
    name = str(path)
    members = _zip_members(path, ".xlsx", "an Excel workbook", "Excel")
    names = {member.filename for member in members}
    if "word/document.xml" in names:
        raise WorkbookUnreadable(f"{name}: this is a Word document, not a workbook")
    if "xl/workbook.bin" in names:
        raise WorkbookUnreadable(
            f"{name}: this is a binary workbook (.xlsb); save it as an .xlsx workbook"
        )
    if "xl/workbook.xml" not in names:
        if _opendocument_type(path) == ODS_MIMETYPE:
            raise WorkbookUnreadable(
                f"{name}: this is an OpenDocument spreadsheet, not an .xlsx workbook; save it "
                "from LibreOffice as Excel 2007-365 (.xlsx), or name it "
                f"{path.with_suffix('.ods').name} for check and build"
            )
        raise WorkbookUnreadable(f"{name}: a zip archive, but not an Excel workbook")
    _ensure_within_limits(path, members)


def ensure_opendocument_archive(path: Path) -> None:
    """Raise WorkbookUnreadable unless `path` is an .ods archive safe to hand to a parser.

    The same guards as ensure_workbook_archive's, with the lines an .ods file needs: an .xlsx
    named .ods, another OpenDocument file, a password-protected spreadsheet.
    """
    name = str(path)
    members = _zip_members(path, ".ods", "an OpenDocument spreadsheet", "LibreOffice")
    names = {member.filename for member in members}
    kind = _opendocument_type(path)
    if kind != ODS_MIMETYPE:
        if "xl/workbook.xml" in names:
            raise WorkbookUnreadable(
                f"{name}: this is an Excel workbook (.xlsx) with an .ods name; rename it "
                f"{path.with_suffix('.xlsx').name} and give that name"
            )
        if kind.startswith(OPENDOCUMENT_PREFIX):
            what = kind.removeprefix(OPENDOCUMENT_PREFIX).split("-", 1)[0]
            raise WorkbookUnreadable(
                f"{name}: this is an OpenDocument {what} file, not a spreadsheet; give the "
                ".ods spreadsheet"
            )
        raise WorkbookUnreadable(
            f"{name}: a zip archive, but not an OpenDocument spreadsheet; open it in "
            "LibreOffice Calc and save it as an .ods spreadsheet"
        )
    if "content.xml" not in names:
        raise WorkbookUnreadable(
            f"{name}: the spreadsheet has no content.xml part; save it again from LibreOffice "
            "or use a backup"
        )
    if "META-INF/manifest.xml" in names and _manifest_encrypted(path):
        raise WorkbookUnreadable(
            f"{name}: the spreadsheet is password-protected; in LibreOffice choose File > Save "
            "As, clear 'Save with password' and save it again"
        )
    _ensure_within_limits(path, members)


def is_opendocument(path: Path) -> bool:
    """Whether `path` is to be read as an OpenDocument spreadsheet: by its name or its content."""
    if path.suffix.casefold() == ".ods":
        return True
    if not os.path.isfile(path):  # a pipe would block the read: the guards name what it is
        return False
    try:
        with path.open("rb") as handle:
            if handle.read(4) != ZIP_MAGIC:
                return False
    except OSError:
        return False  # the .xlsx guards say what is wrong with it
    return _opendocument_type(path) == ODS_MIMETYPE


def _opendocument_type(path: Path) -> str:
    """The media type an OpenDocument package's `mimetype` member names; "" for any other file."""
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo("mimetype")
            if info.file_size > 256:
                return ""
            return archive.read(info).decode("ascii", "replace").strip()
    except (KeyError, OSError, *DAMAGED_PART_ERRORS):
        return ""


def _manifest_encrypted(path: Path) -> bool:
    """Whether the package's manifest says a part is encrypted (a password was set)."""
    try:
        with zipfile.ZipFile(path) as archive, archive.open("META-INF/manifest.xml") as part:
            return b"encryption-data" in part.read(1 << 20)
    except DAMAGED_PART_ERRORS as err:
        raise WorkbookUnreadable(damaged(path, "META-INF/manifest.xml")) from err


def _zip_members(path: Path, suffix: str, kind: str, program: str) -> list[zipfile.ZipInfo]:
    """The zip directory of a workbook file, after the checks any workbook format shares.

    `suffix`, `kind` and `program` name the format the file should be: ".xlsx", "an Excel
    workbook", "Excel".
    """
    name = str(path)
    if not os.path.exists(path):
        raise WorkbookUnreadable(f"{name}: no such file; check the path and try again")
    if os.path.isdir(path):
        raise WorkbookUnreadable(f"{name}: is a folder, not a workbook; give the {suffix} file")
    if not os.path.isfile(path):  # a pipe or a device would block the read
        raise WorkbookUnreadable(f"{name}: not a regular file; give the {suffix} file")
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError as err:
        raise WorkbookUnreadable(f"{name}: cannot be read ({err.strerror})") from err
    if not head:
        raise WorkbookUnreadable(f"{name}: the file is empty (0 bytes); it is not a workbook")
    if head == OLE2_MAGIC:
        if _is_encrypted_ooxml(path):
            raise WorkbookUnreadable(
                f"{name}: the workbook is password-protected; remove the password in Excel "
                "(File > Info > Protect Workbook) and save it again"
            )
        raise WorkbookUnreadable(
            f"{name}: this is an old Excel 97-2003 (.xls) file; open it in Excel or "
            "LibreOffice and save it as an .xlsx workbook"
        )
    if not head.startswith(ZIP_MAGIC):
        raise WorkbookUnreadable(
            f"{name}: not {kind} (it looks like a text or CSV file); open it in "
            f"{'Excel or LibreOffice' if suffix == '.xlsx' else program} and save it as "
            f"{'an .xlsx workbook' if suffix == '.xlsx' else 'an .ods spreadsheet'}"
        )
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.infolist()
    except (zipfile.BadZipFile, OSError) as err:
        raise WorkbookUnreadable(
            f"{name}: the file is damaged (not a complete {suffix} archive); save it again "
            f"from {program} or use a backup"
        ) from err


def _ensure_within_limits(path: Path, members: list[zipfile.ZipInfo]) -> None:
    """Refuse a zip bomb, an archive unpacking past the limit, or an entity declaration."""
    name = str(path)
    for member in members:
        if member.file_size > RATIO_FLOOR and member.file_size > MAX_RATIO * member.compress_size:
            raise WorkbookUnreadable(
                f"{name}: {member.filename} unpacks to {member.file_size / 2**20:,.0f} MB, more "
                f"than {MAX_RATIO} times its packed size (a sheet's XML packs 5 to 20 times): "
                "the mark of a zip bomb, so it is refused. If it is a real workbook, open it in "
                "Excel or LibreOffice and save it again"
            )
    unpacked = sum(member.file_size for member in members)
    if unpacked > MAX_UNPACKED_BYTES:
        raise WorkbookUnreadable(
            f"{name}: the workbook unpacks to {unpacked / 2**20:,.0f} MB, more than the "
            f"{MAX_UNPACKED_BYTES // 2**20:,} MB even a sheet at Excel's row limit needs; it is "
            "refused. Move older records into a workbook of their own"
        )
    declaring = _parts_declaring_entities(path, members)
    if declaring:
        raise WorkbookUnreadable(entities_refused(path, declaring[0]))


def damaged(path: Path, part: str | None = None) -> str:
    """The one line that refuses a workbook whose `part` (or some part) cannot be unpacked."""
    where = f" ({part} cannot be unpacked)" if part else ""
    return (
        f"{path}: the file is damaged{where}; open it in Excel, which offers to repair it, or "
        "use a backup"
    )


def entities_refused(path: Path, part: str) -> str:
    """The one line that refuses a workbook whose `part` declares a DOCTYPE or entities."""
    return (
        f"{path}: {part} declares XML entities, which office programs never write; the workbook is "
        "refused as unsafe"
    )


def too_many_cells(path: Path) -> str:
    """The one line that refuses a workbook holding more cells than memory should take."""
    return (
        f"{path}: the workbook holds more than {MAX_CELLS:,} cells, more than a full sheet at "
        "Excel's row limit; it is refused. Move older records into a workbook of their own"
    )


def read_too_slow(path: Path) -> str:
    """The one line that stops a read past the time bound."""
    return (
        f"{path}: reading the workbook took more than {MAX_READ_SECONDS} seconds, far longer "
        "than a workbook at Excel's row limit takes; it is refused. Open it in Excel or "
        "LibreOffice, delete unused rows and columns, and save it again"
    )


def _parts_declaring_entities(path: Path, members: Iterable[zipfile.ZipInfo]) -> list[str]:
    """XML parts that open with a DOCTYPE: the way in for entity-expansion attacks.

    Only each part's first 4 KB is looked at, to refuse the usual attack before anything is
    parsed; sheetxml's parser refuses a DOCTYPE or entity declaration wherever it stands.
    """
    found = []
    with zipfile.ZipFile(path) as archive:
        for member in members:
            if member.filename.endswith((".xml", ".rels")):
                try:
                    with archive.open(member) as part:
                        head = part.read(4096)
                except DAMAGED_PART_ERRORS as err:
                    raise WorkbookUnreadable(damaged(path, member.filename)) from err
                if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                    found.append(member.filename)
    return found


def _is_encrypted_ooxml(path: Path) -> bool:
    # Excel stores a password-protected .xlsx inside an OLE2 container with this stream.
    marker = "EncryptionInfo".encode("utf-16-le")
    with path.open("rb") as handle:
        return marker in handle.read(64 * 1024)


def _local(tag: str) -> str:
    """An XML tag without its namespace, so transitional and strict OOXML read alike."""
    return tag.rsplit("}", 1)[-1]


def formula_cells(path: Path) -> dict[str, dict[str, bool]]:
    """Sheet name -> {coordinate of each formula cell: whether its saved value is text}.

    openpyxl gives a formula's saved value, and None both for "never calculated" and for an
    empty text result; the sheet XML tells the two apart.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            targets = {
                rel.get("Id"): rel.get("Target", "")
                for rel in DefusedElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
            }
            found: dict[str, dict[str, bool]] = {}
            for sheet in DefusedElementTree.fromstring(archive.read("xl/workbook.xml")).iter():
                if _local(sheet.tag) != "sheet":
                    continue
                relation = next((v for k, v in sheet.attrib.items() if _local(k) == "id"), "")
                target = targets.get(relation, "")
                part = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
                if part not in names:
                    continue
                with archive.open(part) as stream:
                    if not _part_has_formula(stream):
                        continue
                with archive.open(part) as stream:
                    found[sheet.get("name", "")] = _formulas_in(stream)
            return found
    except DAMAGED_PART_ERRORS as err:
        raise WorkbookUnreadable(damaged(path)) from err
    except (KeyError, DefusedXmlException, ElementTree.ParseError) as err:
        raise WorkbookUnreadable(
            f"{path}: the workbook is damaged ({type(err).__name__}); open it in Excel or "
            "LibreOffice and save it again"
        ) from err


def _formulas_in(stream: IO[bytes]) -> dict[str, bool]:
    cells: dict[str, bool] = {}
    for _, element in DefusedElementTree.iterparse(stream):
        if _local(element.tag) == "c":
            if any(_local(child.tag) == "f" for child in element):
                cells[element.get("r", "")] = element.get("t") == "str"
            element.clear()
    return cells


def _part_has_formula(part: IO[bytes]) -> bool:
    tail = b""
    while chunk := part.read(1 << 20):
        window = tail + chunk
        if b"<f>" in window or b"<f " in window or b":f>" in window or b":f " in window:
            return True
        tail = window[-8:]
    return False


def is_strict_ooxml(path: Path) -> bool:
    """Whether the workbook is saved as Strict Open XML, whose namespaces openpyxl cannot read."""
    with zipfile.ZipFile(path) as archive, archive.open("xl/workbook.xml") as part:
        return STRICT_NAMESPACE in part.read(4096)


# A merged range as a sheet part declares it, and a cell reference within it.
MERGE_CELL = re.compile(rb'<(?:\w+:)?mergeCell\s[^>]*?ref="([^"]*)"')
MERGE_REFERENCE = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d+)")


def largest_merges(path: Path) -> dict[str, tuple[int, str]]:
    """Sheet name -> (cells its merged ranges cover, as declared; the largest range).

    openpyxl makes an object for every cell a merged range covers, even far past the sheet's
    cells, so a rewrite through it costs what the ranges declare.
    """
    found: dict[str, tuple[int, str]] = {}
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            targets = {
                rel.get("Id"): rel.get("Target", "")
                for rel in DefusedElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
            }
            for sheet in DefusedElementTree.fromstring(archive.read("xl/workbook.xml")).iter():
                if _local(sheet.tag) != "sheet":
                    continue
                relation = next((v for k, v in sheet.attrib.items() if _local(k) == "id"), "")
                target = targets.get(relation, "")
                part = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
                if part in names:
                    with archive.open(part) as stream:
                        total, largest = _merged_area(stream)
                    if total:
                        found[sheet.get("name", "")] = (total, largest)
    except (KeyError, zipfile.BadZipFile, DefusedXmlException, ElementTree.ParseError) as err:
        raise WorkbookUnreadable(
            f"{path}: the workbook is damaged ({type(err).__name__}); open it in Excel or "
            "LibreOffice and save it again"
        ) from err
    return found


def _merged_area(part: IO[bytes]) -> tuple[int, str]:
    """The cells a sheet part's merged ranges cover in all, and its largest range."""
    total, largest, largest_area = 0, "", 0
    tail = b""
    while chunk := part.read(1 << 20):
        window = tail + chunk
        end = 0
        for match in MERGE_CELL.finditer(window):
            ref = match[1].decode("ascii", "replace")
            corners = [_place(corner) for corner in ref.split(":", 1)]
            (top, left), (bottom, right) = corners[0], corners[-1]
            area = (abs(bottom - top) + 1) * (abs(right - left) + 1)
            total += area
            if area > largest_area:
                largest, largest_area = ref, area
            end = match.end()
        tail = window[max(end, len(window) - 4096) :]
    return total, largest


def _place(reference: str) -> tuple[int, int]:
    """A cell reference's row and column numbers: "B3" -> (3, 2); (0, 0) when it is none."""
    match = MERGE_REFERENCE.fullmatch(reference)
    if match is None:
        return 0, 0
    column = 0
    for letter in match[1].upper():
        column = column * 26 + ord(letter) - 64
    return int(match[2]), column


def dropped_parts(path: Path, rewritten: bytes) -> list[str]:
    """Kinds of content (drawings, comments, macros, …) the rewritten workbook has fewer of.

    Only parts that hold something count: LibreOffice saves an empty drawing part with every
    workbook, and openpyxl, rightly, does not write it back.
    """
    with zipfile.ZipFile(path) as before, zipfile.ZipFile(io.BytesIO(rewritten)) as after:
        old, new = _parts_with_content(before), _parts_with_content(after)
    return [
        what
        for prefix, what in KEPT_PARTS
        if sum(n.startswith(prefix) for n in new) < sum(n.startswith(prefix) for n in old)
    ]


def _parts_with_content(archive: zipfile.ZipFile) -> list[str]:
    """The kept parts (KEPT_PARTS) of an archive that are not empty."""
    prefixes = tuple(prefix for prefix, _ in KEPT_PARTS)
    return [
        member.filename
        for member in archive.infolist()
        if member.filename.startswith(prefixes) and _holds_content(archive, member)
    ]


def _holds_content(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> bool:
    """Whether a part holds anything: for XML, an element inside its root."""
    if member.file_size == 0:
        return False
    if not member.filename.endswith((".xml", ".rels")):
        return True
    try:
        with archive.open(member) as stream:
            for depth, _ in enumerate(DefusedElementTree.iterparse(stream, events=("start",))):
                if depth:
                    return True
    except (DefusedXmlException, ElementTree.ParseError):
        return True  # what cannot be parsed cannot be shown to be empty
    return False


# A run's font as a .docx names it: <w:rFonts w:ascii="Calibri" w:hAnsi="Calibri" …/>.
NAMED_FONT = re.compile(rb'w:(?:ascii|hAnsi)="([^"]+)"')


def document_fonts(path: Path) -> set[str]:
    """The font families a .docx names for its text: in its styles, body, headers and footers."""
    with zipfile.ZipFile(path) as archive:
        parts = [
            name
            for name in archive.namelist()
            if name in ("word/styles.xml", "word/document.xml")
            or (name.startswith(("word/header", "word/footer")) and name.endswith(".xml"))
        ]
        return {
            font.decode("utf-8")
            for name in parts
            for font in NAMED_FONT.findall(archive.read(name))
        }
