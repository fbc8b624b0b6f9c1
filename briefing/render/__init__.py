"""Render a context through a template, one module per output format, in one shared sandbox.

Each format module defines `FORMAT`, with its suffix, default template, `render` and `lint`;
adding a format is one module, one template in templates/ and one line in FORMATS. Every
render and lint of a template runs in a child process bounded in memory and time (child.py),
so this package imports no format module, nor Jinja or docxtpl, in the calling process.
"""

from __future__ import annotations

import contextlib
import importlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol

from briefing.errors import TemplateError
from briefing.model import DocumentProperties
from briefing.render.child import bounded_beside, render_bounded


class Format(Protocol):
    """What every output format offers."""

    @property
    def suffix(self) -> str: ...

    def default_template(self) -> bytes: ...

    def render(
        self, template: Path | None, context: Mapping[str, Any], properties: DocumentProperties
    ) -> bytes: ...

    def lint(self, template: Path | None, provided: Iterable[str]) -> list[str]: ...


# Each format's suffix: its module in briefing.render, and its default template's name.
FORMATS: dict[str, tuple[str, str]] = {
    ".docx": ("word", "memo.docx"),
    ".txt": ("plaintext", "email.txt"),
    ".html": ("html", "email.html"),
}


def format_for(suffix: str) -> Format:
    """The format whose files end in `suffix`; TemplateError for one briefing cannot make."""
    try:
        module, _ = FORMATS[suffix.casefold()]
    except KeyError:
        known = ", ".join(FORMATS)
        raise TemplateError(f"no template format for '{suffix}'; briefing knows {known}") from None
    format: Format = importlib.import_module(f"briefing.render.{module}").FORMAT
    return format


def template_format(template: Path) -> str:
    """The suffix of the format a template file is read as: Word unless it is a text format."""
    suffix = template.suffix.casefold()
    return suffix if suffix in FORMATS else ".docx"


def template_name(suffix: str, template: Path | None) -> str:
    """The template as errors call it: its path, or the format's default template's name."""
    if template is not None:
        return str(template)
    if suffix.casefold() not in FORMATS:
        format_for(suffix)  # raises the error that names the formats briefing knows
    return FORMATS[suffix.casefold()][1]


def render_document(
    suffix: str,
    template: Path | None,
    context: Mapping[str, Any],
    properties: DocumentProperties,
) -> bytes:
    """The document a template (or the format's default template) makes from the context."""
    return render_bounded(
        render_here, (suffix, template, dict(context), properties), template_name(suffix, template)
    )


@contextlib.contextmanager
def document_rendered_beside(
    suffix: str,
    template: Path | None,
    context: Mapping[str, Any],
    properties: DocumentProperties,
) -> Iterator[Callable[[], bytes]]:
    """render_document, begun now in its process while the block runs (see bounded_beside).

    The block gets a function that waits for the document; leaving the block by an exception
    stops the render.
    """
    with bounded_beside(
        render_here, (suffix, template, dict(context), properties), template_name(suffix, template)
    ) as document:
        yield document


def lint_template(suffix: str, template: Path | None, provided: Iterable[str]) -> list[str]:
    """Problems found in a template without rendering it."""
    found = render_bounded(
        lint_here, (suffix, template, tuple(provided)), template_name(suffix, template)
    )
    problems: list[str] = json.loads(found)
    return problems


def render_here(
    suffix: str, template: Path | None, context: Mapping[str, Any], properties: DocumentProperties
) -> bytes:
    """render_document in this process: what the child process runs."""
    return format_for(suffix).render(template, context, properties)


def lint_here(suffix: str, template: Path | None, provided: tuple[str, ...]) -> bytes:
    """lint_template in this process, its problems as a JSON list: what the child runs."""
    return json.dumps(format_for(suffix).lint(template, provided)).encode("utf-8")


def default_template(suffix: str) -> bytes:
    return format_for(suffix).default_template()
