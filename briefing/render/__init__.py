"""Render a context through a template, one module per output format, in one shared sandbox.

Each format module defines `FORMAT`, with its suffix, default template, `render` and `lint`;
adding a format is one module, one template in templates/ and one line in FORMATS.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

from briefing.errors import TemplateError
from briefing.model import DocumentProperties
from briefing.render import html, plaintext, word


class Format(Protocol):
    """What every output format offers."""

    @property
    def suffix(self) -> str: ...

    def default_template(self) -> bytes: ...

    def render(
        self, template: Path | None, context: Mapping[str, Any], properties: DocumentProperties
    ) -> bytes: ...

    def lint(self, template: Path | None, provided: Iterable[str]) -> list[str]: ...


FORMATS: dict[str, Format] = {
    format.suffix: format for format in (word.FORMAT, plaintext.FORMAT, html.FORMAT)
}


def format_for(suffix: str) -> Format:
    """The format whose files end in `suffix`; TemplateError for one briefing cannot make."""
    try:
        return FORMATS[suffix.casefold()]
    except KeyError:
        known = ", ".join(FORMATS)
        raise TemplateError(f"no template format for '{suffix}'; briefing knows {known}") from None


def template_format(template: Path) -> str:
    """The suffix of the format a template file is read as: Word unless it is a text format."""
    suffix = template.suffix.casefold()
    return suffix if suffix in FORMATS else word.FORMAT.suffix


def render_document(
    suffix: str,
    template: Path | None,
    context: Mapping[str, Any],
    properties: DocumentProperties,
) -> bytes:
    """The document a template (or the format's default template) makes from the context."""
    return format_for(suffix).render(template, context, properties)


def lint_template(suffix: str, template: Path | None, provided: Iterable[str]) -> list[str]:
    """Problems found in a template without rendering it."""
    return format_for(suffix).lint(template, provided)


def default_template(suffix: str) -> bytes:
    return format_for(suffix).default_template()
