"""Word documents: a docxtpl template rendered in the sandbox; the one boundary to .docx files."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from copy import deepcopy
from importlib import resources
from pathlib import Path
from typing import Any

from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.exceptions import PackageNotFoundError
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Inches, RGBColor
from docx.text.run import Run
from docxtpl import DocxTemplate, InlineImage
from markupsafe import Markup, escape

from briefing.errors import BriefingError
from briefing.errors import TemplateError as BriefingTemplateError
from briefing.model import DocumentProperties
from briefing.render.remote import (
    IMPORTED_KINDS,
    EntityDeclared,
    NotWellFormed,
    RemoteLink,
    remote_links,
)
from briefing.render.sandbox import XML_TAG, BoundedSandbox, lint_parts, run_template
from briefing.text import describe, missing_file, shorten

DEFAULT_TEMPLATE = "memo.docx"
MAX_PROPERTY = 255  # characters Word's document properties hold
# TLP 2.0's colours for each label, set on black.
TLP_COLOURS = {
    "TLP:RED": "FF2B2B",
    "TLP:AMBER": "FFC000",
    "TLP:AMBER+STRICT": "FFC000",
    "TLP:GREEN": "33FF00",
    "TLP:CLEAR": "FFFFFF",
}
SOURCE_ENTRY = re.compile(r"\[([A-Za-z][\w.-]*)\] ")  # "[S1] Title": a source's annex entry
MARKER = re.compile(r"(\[[A-Za-z][\w.-]*\])")
BOOKMARK_UNSAFE = re.compile(r"[^A-Za-z0-9_]")
WEB_ADDRESS = re.compile(r"https?://\S+")
LINK_COLOUR = "1F3864"
# What follows w:shd among a run's properties (ECMA-376's order).
SHADING_SUCCESSORS = (
    "w:fitText",
    "w:vertAlign",
    "w:rtl",
    "w:cs",
    "w:em",
    "w:lang",
    "w:eastAsianLayout",
    "w:specVanish",
    "w:oMath",
)
XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
APPLICATION_XML = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
    b"<Application>briefing</Application></Properties>"
)
# What unpacking a damaged part raises: a bad CRC, a broken deflate stream, a part cut short.
DAMAGED_PART_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError)
THUMBNAIL_RELATION = re.compile(rb"<Relationship [^>]*docProps/thumbnail[^>]*/>")
THUMBNAIL_TYPE = re.compile(rb'<Override [^>]*PartName="/docProps/thumbnail[^>]*/>')
CHART_WIDTH_INCHES = 6.3
# What to do about each kind of link out of a template; any other link is removed in Word.
LINK_REMEDIES = {
    "an attached template": "attach the Normal template instead in Word (Developer > "
    "Document Template) and save again",
    IMPORTED_KINDS["aFChunk"]: "open the template in Word and save it again, which makes the "
    "imported document part of the template's own text",
}


# What a template may unpack to, checked in the zip's directory before any part is read: a
# memo template's document.xml is tens of KB, a logo or letterhead picture a few MB; python-docx
# holds every part in memory, and the render's child process has RENDER_MEGABYTES in all.
MAX_PART_MEGABYTES = 64
MAX_TEMPLATE_MEGABYTES = 64  # all parts together


def _default_template() -> bytes:
    return resources.files("briefing.templates").joinpath(DEFAULT_TEMPLATE).read_bytes()


def _keep_braces(value: Any) -> Any:
    """Printed text, escaped so that docxtpl's own "{_{" -> "{{" rewriting cannot touch it."""
    if isinstance(value, str) and not isinstance(value, Markup) and "_" in value:
        # str() first: Markup.replace would escape the "&" of the replacement again.
        return Markup(str(escape(value)).replace("{_", "&#123;_").replace("_}", "_&#125;"))
    return value


def _environment() -> BoundedSandbox:
    # Autoescape keeps '&' and '<' in cell text from breaking the document's XML.
    return BoundedSandbox(autoescape=True, finalize=_keep_braces)


def _open(template: Path | None) -> tuple[DocxTemplate, str]:
    """The template and the name errors call it by; a file that is not a .docx is refused."""
    if template is None:
        return DocxTemplate(io.BytesIO(_default_template())), DEFAULT_TEMPLATE
    name = str(template)
    if not os.path.isfile(template):
        raise BriefingTemplateError(
            f"{name}: the template {missing_file(template)}; give a .docx file"
        )
    not_word = BriefingTemplateError(
        f"{name}: not a Word document (.docx); give a template made with 'briefing template new'"
    )
    try:
        with zipfile.ZipFile(template) as archive:
            _ensure_small_parts(name, archive.infolist())
            names = set(archive.namelist())
            try:
                content_types = archive.read("[Content_Types].xml")
            except DAMAGED_PART_ERRORS as err:  # a zip, but its part cannot be unpacked
                raise BriefingTemplateError(_damaged(name)) from err
    except (zipfile.BadZipFile, KeyError, OSError) as err:
        raise not_word from err
    if "word/document.xml" not in names:
        raise BriefingTemplateError(f"{name}: not a Word document (.docx)")
    if b"template.main+xml" in content_types:
        raise BriefingTemplateError(
            f"{name}: a Word template (.dotx); open it in Word and save it as a .docx document"
        )
    _ensure_no_links_out(template, name)
    return DocxTemplate(template), name


def _ensure_no_links_out(template: Path, name: str) -> None:
    """Refuse a template holding a link out: no memo may make Word or LibreOffice reach a host.

    Read before python-docx parses any part, so that a DOCTYPE is refused, never parsed.
    """
    try:
        with zipfile.ZipFile(template) as archive:
            link = next(remote_links(archive), None)
    except EntityDeclared as err:
        raise BriefingTemplateError(
            f"{name}: {err} declares a DOCTYPE or XML entities, which Word never writes; the "
            "template is refused as unsafe"
        ) from err
    except NotWellFormed as err:
        raise BriefingTemplateError(
            f"{name}: the template is damaged: {err.part} is not well-formed XML "
            f"({err.reason}); open it in Word and save it again"
        ) from err
    except DAMAGED_PART_ERRORS as err:
        raise BriefingTemplateError(_damaged(name)) from err
    except (OSError, NotImplementedError) as err:
        raise BriefingTemplateError(
            f"{name}: the template is damaged ({describe(err)}); open it in Word and save it again"
        ) from err
    if link is not None:
        what = "field in Word (Alt+F9 shows field codes)" if link.is_field else "link in Word"
        remedy = LINK_REMEDIES.get(link.kind, f"remove the {what} and save again")
        raise BriefingTemplateError(
            f"{name}: {link.part} links to {link.shown_target} ({link.kind}); {remedy}"
        )


def _ensure_memo_stays_in(memo: bytes, name: str, made_hyperlinks: set[str]) -> None:
    """Refuse a memo the template made link out (with '|safe', say), however it was written.

    The hyperlinks the memo itself makes from Sources' addresses are allowed: nothing fetches
    a hyperlink.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(memo)) as archive:
            link: RemoteLink | None = next(
                remote_links(archive, made_hyperlinks=made_hyperlinks), None
            )
    except EntityDeclared as err:
        raise BriefingTemplateError(
            f"{name}: the template writes an XML entity declaration into the memo's {err}; "
            "remove what writes it"
        ) from err
    except NotWellFormed as err:
        raise BriefingTemplateError(
            f"{name}: the template writes XML that is not well-formed into the memo's "
            f"{err.part} ({err.reason}); remove what writes it"
        ) from err
    if link is not None:
        raise BriefingTemplateError(
            f"{name}: the template writes a link to {link.shown_target} ({link.kind}) into the "
            f"memo's {link.part}; a memo never reaches out, so remove what writes it"
        )


def _damaged(name: str) -> str:
    return (
        f"{name}: the template is damaged (a part cannot be unpacked); open it in Word, which "
        "offers to repair it, or use a backup"
    )


def _ensure_small_parts(name: str, parts: list[zipfile.ZipInfo]) -> None:
    """Refuse a template that unpacks to more than a template holds, from its sizes alone.

    zipfile stops each part at the size the directory gives, so these sizes bound the reads.
    """
    for part in parts:
        if part.file_size > MAX_PART_MEGABYTES * 2**20:
            raise BriefingTemplateError(
                f"{name}: the part {part.filename} unpacks to {part.file_size / 2**20:,.0f} MB, "
                f"more than the {MAX_PART_MEGABYTES} MB a template's part may hold; start from "
                "'briefing template new', or compress the template's pictures in Word"
            )
    unpacked = sum(part.file_size for part in parts)
    if unpacked > MAX_TEMPLATE_MEGABYTES * 2**20:
        raise BriefingTemplateError(
            f"{name}: the template unpacks to {unpacked / 2**20:,.0f} MB, more than the "
            f"{MAX_TEMPLATE_MEGABYTES} MB a template may hold; start from 'briefing template "
            "new', or compress the template's pictures in Word"
        )


def _render(
    template: Path | None, context: Mapping[str, Any], properties: DocumentProperties
) -> bytes:
    """The memo as .docx bytes; a template mistake raises TemplateError naming the tag."""
    document, name = _open(template)
    context = {**context, "charts": _with_images(document, context.get("charts", []))}
    try:
        run_template(
            name,
            lambda: document.render(dict(context), jinja_env=_environment(), autoescape=True),
            lambda: _template_texts(document),
        )
    except BriefingError:
        raise
    except PackageNotFoundError as err:
        raise BriefingTemplateError(f"{name}: not a Word document (.docx)") from err
    except DAMAGED_PART_ERRORS as err:
        raise BriefingTemplateError(_damaged(name)) from err
    except Exception as err:  # the template is the user's: whatever it breaks, say so in a line
        raise BriefingTemplateError(f"{name}: the template failed ({describe(err)})") from err
    _describe_images(document, context["charts"])
    _set_handling_labels(document, str(context.get("handling", "")))
    made_hyperlinks = _link_sources(document)
    core = document.docx.core_properties
    core.title = shorten(properties.title, MAX_PROPERTY)
    core.subject = shorten(properties.subject, MAX_PROPERTY)
    core.author = shorten(properties.author, MAX_PROPERTY)
    core.last_modified_by = shorten(properties.author, MAX_PROPERTY)
    core.keywords = shorten(properties.keywords, MAX_PROPERTY)
    core.comments = ""
    core.created = properties.created
    core.modified = properties.created
    core.revision = 1
    buffer = io.BytesIO()
    document.save(buffer)
    memo = with_own_application(buffer.getvalue())
    _ensure_memo_stays_in(memo, name, made_hyperlinks)
    return memo


def _set_handling_labels(document: DocxTemplate, label: str) -> None:
    """The label in headers and footers as TLP 2.0 sets it: its colour, bold, on black."""
    colour = TLP_COLOURS.get(label)
    if colour is None:
        return
    # docxtpl renders each header and footer into a new part behind the document's relation.
    for relation in document.docx.part.rels.values():
        if relation.reltype not in (RT.HEADER, RT.FOOTER):
            continue
        for run in relation.target_part.element.iter(qn("w:r")):
            if "".join(t.text or "" for t in run.iter(qn("w:t"))).strip() != label:
                continue
            styled = Run(run, relation.target_part)
            styled.font.bold = True
            styled.font.color.rgb = RGBColor.from_string(colour)
            properties = run.get_or_add_rPr()
            for earlier in properties.findall(qn("w:shd")):  # one shading a run, or Word balks
                properties.remove(earlier)
            shading = OxmlElement("w:shd")
            shading.set(qn("w:val"), "clear")
            shading.set(qn("w:color"), "auto")
            shading.set(qn("w:fill"), "000000")
            # In the place the schema gives it among the run's properties.
            properties.insert_element_before(shading, *SHADING_SUCCESSORS)


def _link_sources(document: DocxTemplate) -> set[str]:
    """Source markers lead to the sources annex; addresses are live links that break at a slash.

    Each source's entry in the annex (a paragraph opening with its marker, "[S1] Title") gets
    a bookmark; every other "[S1]" in the body becomes an internal link to it. A run holding
    nothing but a web address becomes a hyperlink (never fetched: a link is only an address).
    Returns the addresses linked to.
    """
    body = document.docx.element.body
    paragraphs = list(body.iter(qn("w:p")))
    anchors: dict[str, str] = {}
    taken = [b.get(qn("w:id"), "") for b in body.iter(qn("w:bookmarkStart"))]
    first_id = max((int(i) for i in taken if i.isdigit()), default=0) + 1
    for paragraph in paragraphs:
        text = "".join(t.text or "" for t in paragraph.iter(qn("w:t")))
        entry = SOURCE_ENTRY.match(text)
        if entry and entry[1] not in anchors:
            # Word's bookmark names hold 40 characters; IDs follow the template's own.
            name = f"source_{BOOKMARK_UNSAFE.sub('_', entry[1])}"[:40]
            anchors[entry[1]] = _bookmark(paragraph, name, first_id + len(anchors))
    part = document.docx.part
    addresses: set[str] = set()
    for paragraph in paragraphs:
        text = "".join(t.text or "" for t in paragraph.iter(qn("w:t")))
        entry = SOURCE_ENTRY.match(text)
        for run in list(paragraph.iter(qn("w:r"))):
            if run.getparent().tag == qn("w:hyperlink"):
                continue
            texts = run.findall(qn("w:t"))
            if len(texts) != 1 or not texts[0].text:
                continue
            value = texts[0].text
            if WEB_ADDRESS.fullmatch(value.strip()):
                address = value.strip()
                addresses.add(address)
                relation = part.relate_to(address, RT.HYPERLINK, is_external=True)
                # A zero-width space after each slash lets the line break there, and only there.
                shown = address.replace("/", "/\u200b").replace("-", "\u2011")
                _wrap_in_link(run, {qn("r:id"): relation}, shown, part)
                continue
            if entry is not None and value.startswith(entry[0]):
                continue  # the entry's own marker
            _link_markers(run, value, anchors, part)
    return addresses


def _bookmark(paragraph: Any, name: str, number: int) -> str:
    start = OxmlElement("w:bookmarkStart")
    start.set(qn("w:id"), str(number))
    start.set(qn("w:name"), name)
    end = OxmlElement("w:bookmarkEnd")
    end.set(qn("w:id"), str(number))
    properties = paragraph.find(qn("w:pPr"))
    paragraph.insert(0 if properties is None else 1, start)
    paragraph.append(end)
    return name


def _link_markers(run: Any, value: str, anchors: Mapping[str, str], part: Any) -> None:
    """Split a run around its markers; each marker with a bookmark becomes a link to it."""
    pieces = [piece for piece in MARKER.split(value) if piece]
    if not any(MARKER.fullmatch(p) and p[1:-1] in anchors for p in pieces):
        return
    for piece in pieces:
        copy = deepcopy(run)
        copy.find(qn("w:t")).text = piece
        copy.find(qn("w:t")).set(XML_SPACE, "preserve")
        run.addprevious(copy)
        if MARKER.fullmatch(piece) and piece[1:-1] in anchors:
            _wrap_in_link(copy, {qn("w:anchor"): anchors[piece[1:-1]]}, piece, part)
    run.getparent().remove(run)


def _wrap_in_link(run: Any, target: Mapping[str, str], shown: str, part: Any) -> None:
    link = OxmlElement("w:hyperlink")
    for key, value in target.items():
        link.set(key, value)
    run.addprevious(link)
    link.append(run)
    text = run.find(qn("w:t"))
    text.text = shown
    text.set(XML_SPACE, "preserve")
    font = Run(run, part).font  # python-docx keeps the run properties in schema order
    font.color.rgb = RGBColor.from_string(LINK_COLOUR)
    if qn("r:id") in target:
        font.underline = True


def with_own_application(package: bytes) -> bytes:
    """The package with `briefing` as its application and no thumbnail of another document."""
    source = zipfile.ZipFile(io.BytesIO(package))
    buffer = io.BytesIO()
    with source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename.startswith("docProps/thumbnail"):
                continue
            if item.filename == "docProps/app.xml":
                data = APPLICATION_XML
            elif item.filename == "_rels/.rels":
                data = THUMBNAIL_RELATION.sub(b"", data)
            elif item.filename == "[Content_Types].xml":
                data = THUMBNAIL_TYPE.sub(b"", data)
            target.writestr(item, data)
    return buffer.getvalue()


def _with_images(document: DocxTemplate, charts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each chart with its drawing as an `image` a template prints with {{ c.image }}."""
    if not charts:
        return []
    from briefing.render.chart import draw_trend  # matplotlib loads only when a chart is drawn

    drawn = []
    for chart in charts:
        png = draw_trend(
            [dt.date.fromisoformat(day) for day in chart["days"]],
            chart["values"],
            title=chart["title"],
            unit=chart["unit"],
            first_day=dt.date.fromisoformat(chart["first_day"]),
            last_day=dt.date.fromisoformat(chart["last_day"]),
        )
        image = InlineImage(document, io.BytesIO(png), width=Inches(CHART_WIDTH_INCHES))
        drawn.append({**chart, "image": image, "png": png})
    return drawn


def _describe_images(document: DocxTemplate, charts: list[dict[str, Any]]) -> None:
    """Give each chart its alt text (Word's Alt Text, read aloud by screen readers).

    A chart is found by its image's bytes, so a logo in a restyled template keeps its own.
    """
    alt_by_image = {chart["png"]: chart["alt"] for chart in charts}
    if not alt_by_image:
        return
    part = document.docx.part
    for inline in document.docx.element.body.iter(qn("wp:inline")):
        blip = next(inline.iter(qn("a:blip")), None)
        relation = None if blip is None else part.rels.get(blip.get(qn("r:embed")))
        alt = None if relation is None else alt_by_image.get(relation.target_part.blob)
        properties = inline.find(qn("wp:docPr"))
        if alt is not None and properties is not None:
            properties.set("descr", alt)
            properties.set("title", alt.split(":", 1)[0])


def _template_parts(document: DocxTemplate) -> list[list[str]]:
    """The paragraphs of the body, headers and footers as text, tags included, part by part."""
    document.init_docx()
    body = document.docx._element.body  # noqa: SLF001 - python-docx offers no public XML view
    parts = [document.xml_to_string(body)]
    for uri in (document.HEADER_URI, document.FOOTER_URI):
        for relation in document.docx._part.rels.values():  # noqa: SLF001 - nor the part's rels
            if relation.reltype == uri:
                parts.append(relation.target_part.blob.decode("utf-8"))
    texts = []
    for part in parts:
        patched = document.patch_xml(part)
        paragraphs = (XML_TAG.sub("", p).strip() for p in re.split(r"</w:p>", patched))
        texts.append([text for text in paragraphs if text])
    return texts


def _template_texts(document: DocxTemplate) -> list[str]:
    return [text for part in _template_parts(document) for text in part]


def _lint(template: Path | None, provided: Iterable[str]) -> list[str]:
    """Problems with a template found without building: syntax, then unknown variables."""
    document, name = _open(template)
    try:
        parts = _template_parts(document)
    except DAMAGED_PART_ERRORS as err:
        raise BriefingTemplateError(_damaged(name)) from err
    except Exception as err:  # a damaged document part: python-docx and lxml raise many kinds
        raise BriefingTemplateError(
            f"{name}: the template cannot be read ({describe(err)})"
        ) from err
    return lint_parts(name, parts, provided, _environment())


class WordFormat:
    """Word documents (.docx): the memo."""

    suffix = ".docx"

    def default_template(self) -> bytes:
        return _default_template()

    def render(
        self, template: Path | None, context: Mapping[str, Any], properties: DocumentProperties
    ) -> bytes:
        return _render(template, context, properties)

    def lint(self, template: Path | None, provided: Iterable[str]) -> list[str]:
        return _lint(template, provided)


FORMAT = WordFormat()
