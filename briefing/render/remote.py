"""What in a Word document would make Word or LibreOffice reach out: found before it is parsed.

A .docx can pull content from elsewhere when it is opened or converted: a relationship to an
outside target (a linked image, a hyperlink, an attached template), a field that includes a
file or a picture (INCLUDEPICTURE, INCLUDETEXT, LINK, DDE), or XML declaring entities that a
parser may fetch. Every part is read with the standard library's expat, a megabyte at a time,
before python-docx sees it; a declaration stops the read at once, wherever it stands.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import IO
from xml.parsers import expat

CHUNK = 1 << 20  # bytes of XML fed to expat at a time
MAX_INSTRUCTION = 4096  # characters of one field's code kept: a field's name comes first
MAX_SHOWN = 120  # characters of a link's target in a message
# A target naming a scheme (http:, file:, C:) or a network path leaves the package.
OUTSIDE_TARGET = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*:|//|\\\\)")
# Fields that fetch or include content from a file or an address when they update.
REMOTE_FIELDS = frozenset(
    ("INCLUDEPICTURE", "INCLUDETEXT", "INCLUDE", "IMPORT", "LINK", "DDE", "DDEAUTO", "RD")
)
PLACE = re.compile(r"://|^[A-Za-z]:|[/\\]")  # an address or a path, not a name or a tooltip
CONTENT_TYPES = "[Content_Types].xml"
XML_EXTENSIONS = frozenset(("xml", "rels", "vml"))
CONTENT_TYPE_ELEMENT = re.compile(r"<(?:\w+:)?(Default|Override)\b([^>]*)>")
CONTENT_TYPE_ATTRIBUTE = re.compile(r'(\w+)\s*=\s*"([^"]*)"')
FIELD_ELEMENTS = (b"fldSimple", b"fldChar", b"instrText")  # elements holding a field's code
FIELD_ARGUMENT = re.compile(r'"([^"]*)"|(\S+)')
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# What each kind of outside relationship is, by the last word of its type.
RELATIONSHIP_KINDS = {
    "image": "an external image",
    "hyperlink": "a hyperlink",
    "attachedTemplate": "an attached template",
    "oleObject": "a linked object",
    "package": "a linked package",
    "subDocument": "a subdocument",
    "frame": "a frame",
    "audio": "a linked sound",
    "video": "a linked video",
}
HYPERLINK_TYPE = "hyperlink"
# An altChunk's part (HTML, MHT, RTF or another document) is imported when Word opens the
# memo, and may name pictures by their address: kept in the package, it is refused wherever
# its target is.
IMPORTED_KINDS = {"aFChunk": "an imported document, whose pictures Word may fetch"}
MAIN_RELATIONSHIPS = "word/_rels/document.xml.rels"


@dataclass(frozen=True)
class RemoteLink:
    """A link out of the document: the part holding it, where it points, and what it is."""

    part: str
    target: str
    kind: str
    is_field: bool = False

    @property
    def shown_target(self) -> str:
        """The target as a message can print it: no control characters, at most a line."""
        text = " ".join(CONTROL_CHARACTERS.sub(" ", self.target).split())
        return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


class EntityDeclared(Exception):
    """Raised when a part declares a DOCTYPE or an entity; its message is the part's name."""


class NotWellFormed(Exception):
    """Raised when a part is not well-formed XML: `part` names it, `reason` says where."""

    def __init__(self, part: str, reason: str) -> None:
        super().__init__(f"{part}: {reason}")
        self.part = part
        self.reason = reason


def remote_links(
    archive: zipfile.ZipFile, *, made_hyperlinks: Collection[str] = ()
) -> Iterator[RemoteLink]:
    """Each link out of the package, part by part; EntityDeclared or NotWellFormed stop it.

    `made_hyperlinks` are addresses the memo itself links to from the main document: they
    are allowed (a hyperlink is only an address; nothing fetches it).
    """
    xml_types = _xml_types(archive)
    for member in archive.infolist():
        if member.is_dir():
            continue
        with archive.open(member) as part:
            head = part.read(CHUNK)
            if not _plain_xml(head) and not _typed_as_xml(member.filename, xml_types):
                continue  # a picture, a font, an embedding: no links of its own
            # A part naming no field is only checked for declarations and form, which expat
            # does without calling back: a large memo body is read several times faster.
            watch = member.filename.casefold().endswith(".rels") or _names_fields(archive, member)
            scan = _PartScan(member.filename, watch=watch)
            scan.feed(head, part)
            scan.close()
        for link in scan.found:
            if (
                member.filename == MAIN_RELATIONSHIPS
                and link.kind == RELATIONSHIP_KINDS[HYPERLINK_TYPE]
                and link.target in made_hyperlinks
            ):
                continue
            yield link


def _xml_types(archive: zipfile.ZipFile) -> tuple[set[str], set[str]]:
    """The extensions and the part names [Content_Types].xml declares as XML.

    Read by pattern, not parsed: the part itself is scanned like any other.
    """
    try:
        declared = archive.read(CONTENT_TYPES).decode("utf-8", "replace")
    except (KeyError, zipfile.BadZipFile):
        return set(), set()
    extensions, names = set(), set()
    for element in CONTENT_TYPE_ELEMENT.finditer(declared):
        attributes = dict(CONTENT_TYPE_ATTRIBUTE.findall(element[2]))
        kind = attributes.get("ContentType", "").casefold()
        if not (kind.endswith("+xml") or kind in ("application/xml", "text/xml")):
            continue
        if element[1] == "Default":
            extensions.add(attributes.get("Extension", "").casefold())
        else:
            names.add(attributes.get("PartName", "").lstrip("/").casefold())
    return extensions, names


def _typed_as_xml(name: str, xml_types: tuple[set[str], set[str]]) -> bool:
    """Whether a part is XML by its name or by what [Content_Types].xml says it is."""
    extensions, names = xml_types
    extension = name.rsplit(".", 1)[-1].casefold()
    return extension in XML_EXTENSIONS or extension in extensions or name.casefold() in names


def _names_fields(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> bool:
    """Whether a part's bytes may name a field element: any part not in UTF-8 may."""
    overlap = max(len(name) for name in FIELD_ELEMENTS) - 1
    with archive.open(member) as part:
        chunk = part.read(CHUNK)
        if not _plain_xml(chunk):
            return True  # UTF-16, say: a byte search cannot read it, expat can
        tail = b""
        while chunk:
            window = tail + chunk
            if any(name in window for name in FIELD_ELEMENTS):
                return True
            tail = window[-overlap:]
            chunk = part.read(CHUNK)
    return False


def _plain_xml(head: bytes) -> bool:
    """Whether a part opens as XML in UTF-8 (or ASCII) does."""
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")


class _PartScan:
    """One part read through expat: its outside relationships and remote fields."""

    def __init__(self, name: str, *, watch: bool) -> None:
        self.name = name
        self.is_relationships = name.casefold().endswith(".rels")
        self.found: list[RemoteLink] = []
        self.fields: list[_Field] = []  # the complex fields open at this point, innermost last
        parser = expat.ParserCreate(namespace_separator="}")
        parser.StartDoctypeDeclHandler = self._refuse
        parser.EntityDeclHandler = self._refuse
        parser.UnparsedEntityDeclHandler = self._refuse
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        if watch:
            parser.StartElementHandler = self._start
        self.parser = parser

    def feed(self, head: bytes, rest: IO[bytes]) -> None:
        try:
            self.parser.Parse(head, False)
            while chunk := rest.read(CHUNK):
                self.parser.Parse(chunk, False)
            self.parser.Parse(b"", True)
        except expat.ExpatError as err:
            raise NotWellFormed(self.name, str(err)) from err

    def _refuse(self, *_: object) -> None:
        raise EntityDeclared(self.name)

    def _start(self, name: str, attributes: dict[str, str]) -> None:
        local = _local(name)
        if self.is_relationships:
            if local == "Relationship":
                self._relationship(attributes)
            return
        if local == "fldSimple":
            self._field(_attribute(attributes, "instr"))
        elif local == "fldChar":
            kind = _attribute(attributes, "fldCharType")
            if kind == "begin":
                self.fields.append(_Field())
            elif kind in ("separate", "end") and self.fields:
                current = self.fields.pop() if kind == "end" else self.fields[-1]
                if not current.judged:  # its code is complete: the field's result follows
                    current.judged = True
                    self._field("".join(current.code))
                if kind == "end" and self.fields and not self.fields[-1].judged:
                    # A field inside another's code stands in it as Word shows it: {CODE}.
                    self._add_code(self.fields[-1], "{" + "".join(current.code) + "}")
        elif local == "instrText":
            # Text and ends matter only inside a field's code: expat calls back only there.
            self.parser.CharacterDataHandler = self._text
            self.parser.EndElementHandler = self._end
            if not self.fields:  # a field code outside a field: judged when the part ends
                self.fields.append(_Field())

    def _end(self, name: str) -> None:
        if _local(name) == "instrText":
            self.parser.CharacterDataHandler = None
            self.parser.EndElementHandler = None

    def _text(self, text: str) -> None:
        if self.fields and not self.fields[-1].judged:
            self._add_code(self.fields[-1], text)

    @staticmethod
    def _add_code(current: _Field, text: str) -> None:
        if current.length < MAX_INSTRUCTION:
            current.code.append(text)
            current.length += len(text)

    def close(self) -> None:
        """Judge the fields the part leaves open: Word would still read their code."""
        while self.fields:
            current = self.fields.pop()
            if not current.judged:
                self._field("".join(current.code))

    def _relationship(self, attributes: dict[str, str]) -> None:
        target = attributes.get("Target", "")
        kind = attributes.get("Type", "").rstrip("/").rsplit("/", 1)[-1]
        if kind in IMPORTED_KINDS:
            self.found.append(RemoteLink(self.name, target, IMPORTED_KINDS[kind]))
            return
        external = attributes.get("TargetMode", "").casefold() == "external"
        if not external and not OUTSIDE_TARGET.match(target.strip()):
            return
        self.found.append(
            RemoteLink(self.name, target, RELATIONSHIP_KINDS.get(kind, "an external link"))
        )

    def _field(self, code: str) -> None:
        words = code.split(None, 1)
        if not words:
            return
        name = words[0].upper()
        # An unquoted word opening with a backslash is a switch (\d, \l); anything quoted,
        # a UNC path included, is an argument.
        arguments = FIELD_ARGUMENT.findall(words[1] if len(words) > 1 else "")
        switch = [not quoted and bare.startswith("\\") for quoted, bare in arguments]
        if name == "HYPERLINK":
            # Word's link to a bookmark, HYPERLINK \l "name", stays in the document; any
            # other form may lead out.
            if not arguments or (switch[0] and arguments[0][1].casefold() == "\\l"):
                return
        elif name not in REMOTE_FIELDS:
            return
        values = [q or b for (q, b), s in zip(arguments, switch, strict=True) if not s]
        # The target is the argument naming a file or an address, not a program's name
        # (LINK Excel.Sheet.12 "C:\\figures.xlsx") or a tooltip.
        places = [value for value in values if PLACE.search(value)]
        target = next(iter(places + values), "") or code.strip()
        article = "an" if name[0] in "AEIOU" else "a"
        self.found.append(RemoteLink(self.name, target, f"{article} {name} field", is_field=True))


@dataclass
class _Field:
    """A complex field being read: its code so far, and whether it has been judged."""

    code: list[str] = field(default_factory=list)
    length: int = 0
    judged: bool = False


def _local(name: str) -> str:
    """An expat name ("namespace}local" with our separator) without its namespace."""
    return name.rsplit("}", 1)[-1]


def _attribute(attributes: dict[str, str], local: str) -> str:
    """An attribute by its local name, in whichever namespace (transitional or strict)."""
    return next((value for key, value in attributes.items() if _local(key) == local), "")
