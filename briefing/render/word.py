"""Word documents: a docxtpl template rendered in the sandbox; the one boundary to .docx files."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import zipfile
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from docx.opc.exceptions import PackageNotFoundError
from docx.oxml.ns import qn
from docx.shared import Inches
from docxtpl import DocxTemplate, InlineImage
from markupsafe import Markup, escape

from briefing.errors import BriefingError
from briefing.errors import TemplateError as BriefingTemplateError
from briefing.model import DocumentProperties
from briefing.render.sandbox import XML_TAG, BoundedSandbox, lint_parts, run_template
from briefing.text import describe, shorten

DEFAULT_TEMPLATE = "memo.docx"
MAX_PROPERTY = 255  # characters Word's document properties hold
CHART_WIDTH_INCHES = 6.3


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
        what = "is a folder" if os.path.isdir(template) else "does not exist"
        raise BriefingTemplateError(f"{name}: the template {what}; give a .docx file")
    try:
        with zipfile.ZipFile(template) as archive:
            names = set(archive.namelist())
            content_types = archive.read("[Content_Types].xml")
    except (zipfile.BadZipFile, KeyError, OSError) as err:
        raise BriefingTemplateError(
            f"{name}: not a Word document (.docx); give a template made with "
            "'briefing template new'"
        ) from err
    if "word/document.xml" not in names:
        raise BriefingTemplateError(f"{name}: not a Word document (.docx)")
    if b"template.main+xml" in content_types:
        raise BriefingTemplateError(
            f"{name}: a Word template (.dotx); open it in Word and save it as a .docx document"
        )
    return DocxTemplate(template), name


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
    except Exception as err:  # the template is the user's: whatever it breaks, say so in a line
        raise BriefingTemplateError(f"{name}: the template failed ({describe(err)})") from err
    _describe_images(document, context["charts"])
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
