"""Formats whose templates are plain Jinja source files: text and HTML email bodies."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from briefing.errors import TemplateError, UnreadableText
from briefing.model import DocumentProperties
from briefing.render.sandbox import BoundedSandbox, lint_parts, run_template
from briefing.text import read_text_file

MAX_TEMPLATE_BYTES = 1024 * 1024  # an email template is a page of text


@dataclass(frozen=True)
class SourceFormat:
    """A text format: its file suffix, its default template, and how printed values escape.

    `autoescape` escapes for HTML; `finalize` is any other escaping the format needs.
    """

    suffix: str
    default_name: str
    autoescape: bool
    finalize: Callable[[Any], Any] | None = None

    def default_template(self) -> bytes:
        return resources.files("briefing.templates").joinpath(self.default_name).read_bytes()

    def environment(self) -> BoundedSandbox:
        return BoundedSandbox(
            autoescape=self.autoescape, finalize=self.finalize, keep_trailing_newline=True
        )

    def source(self, template: Path | None) -> tuple[str, str]:
        """The template's name, as errors call it, and its text."""
        if template is None:
            return self.default_name, self.default_template().decode("utf-8")
        try:
            text = read_text_file(template, f"{template}: the template", limit=MAX_TEMPLATE_BYTES)
        except UnreadableText as err:
            raise TemplateError(str(err)) from err
        return str(template), text

    def render(
        self, template: Path | None, context: Mapping[str, Any], properties: DocumentProperties
    ) -> bytes:
        """The rendered text as UTF-8; a template mistake raises TemplateError naming the tag."""
        name, source = self.source(template)
        lines = source.splitlines()
        environment = self.environment()
        rendered: list[str] = []
        run_template(
            name,
            lambda: rendered.append(environment.from_string(source).render(dict(context))),
            lambda: lines,
        )
        return rendered[0].encode("utf-8")

    def lint(self, template: Path | None, provided: Iterable[str]) -> list[str]:
        name, source = self.source(template)
        return lint_parts(name, [source.splitlines()], provided, self.environment())
