"""The one boundary to Word files: render a docxtpl template in Jinja's sandbox, lint templates."""

from __future__ import annotations

import contextlib
import functools
import io
import os
import re
import signal
import threading
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from docx.opc.exceptions import PackageNotFoundError
from docxtpl import DocxTemplate
from jinja2 import (
    StrictUndefined,
    TemplateError,
    TemplateSyntaxError,
    UndefinedError,
    meta,
    nodes,
    pass_eval_context,
)
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

from briefing.context import DocumentProperties
from briefing.errors import TemplateError as BriefingTemplateError
from briefing.errors import describe

DEFAULT_TEMPLATE = "memo.docx"
TAG = re.compile(r"\{[{%].*?[%}]\}", re.DOTALL)
XML_TAG = re.compile(r"<[^>]+>")
RENDER_SECONDS = 20  # a 5,000-row table renders in well under a second
MAX_EXPONENT = 1000
MAX_OUTPUT = 10_000_000  # characters one expression may build
MAX_PRINTED = 50_000_000  # characters a whole memo may print
LARGE_WIDTH = re.compile(r"%[-+ #0]*\d{8,}|%[-+ #0]*\d*\.\d{8,}|\{[^{}]*?\d{8,}[^{}]*\}")
UNSAFE_ATTRIBUTE = re.compile(r"attribute '([^']+)'")
UNDEFINED_NAME = re.compile(r"'([^']+)' is undefined|has no attribute '([^']+)'")


def default_template_bytes() -> bytes:
    """The default memo template shipped inside the package."""
    return resources.files("briefing.templates").joinpath(DEFAULT_TEMPLATE).read_bytes()


class _MemoEnvironment(SandboxedEnvironment):
    """Jinja's sandbox, also refusing to build huge strings or numbers.

    Jinja's sandbox keeps templates away from Python but lets them ask for any amount of
    memory ('x' * 10**9, '{:>999999999}'.format(1), a loop printing a long text). Each way of
    making one value large is checked before it runs, every value's size after, and the
    whole printed text is counted.
    """

    intercepted_binops = frozenset({"*", "**", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(finalize=self._print, **options)
        self.printed = 0
        for name in list(self.filters):
            self.filters[name] = _bounded(self.filters[name])
        self.filters["join"] = _bounded_join(self.filters["join"])

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int) and abs(right) > MAX_EXPONENT:
            raise SecurityError(f"the power {right} is too large")
        if operator == "*":
            sizes = [len(v) for v in (left, right) if isinstance(v, str | list | tuple)]
            counts = [v for v in (left, right) if isinstance(v, int)]
            if sizes and counts and sizes[0] * counts[0] > MAX_OUTPUT:
                raise SecurityError("the repeated text would be too long")
        if operator == "%" and isinstance(left, str):
            _check_widths(left)
        return _checked_size(super().call_binop(context, operator, left, right))

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str):
            _check_widths(owner)
            numbers = [a for a in (*args, *kwargs.values()) if isinstance(a, int)]
            if any(abs(n) > MAX_OUTPUT for n in numbers):
                raise SecurityError("the text would be too long")
        return _checked_size(super().call(__context, __obj, *args, **kwargs))

    def wrap_str_format(self, value: Any) -> Any:
        # Jinja reroutes str.format here, not through call(): check the format first.
        owner = getattr(value, "__self__", None)
        if isinstance(owner, str) and getattr(value, "__name__", "") in ("format", "format_map"):
            _check_widths(owner)
        return super().wrap_str_format(value)

    def _print(self, value: Any) -> Any:
        value = _keep_braces(value)
        self.printed += len(value) if isinstance(value, str) else 0
        if self.printed > MAX_PRINTED:
            raise SecurityError(f"the memo would be over {MAX_PRINTED:,} characters")
        return value


def _bounded(function: Any) -> Any:
    """A Jinja filter that refuses to make or return a value too large to print."""

    @functools.wraps(function)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        for value in (*args, *kwargs.values()):
            if isinstance(value, int) and not isinstance(value, bool) and value > MAX_OUTPUT:
                raise SecurityError("the text would be too long")
            if isinstance(value, str):
                _check_widths(value)
        return _checked_size(function(*args, **kwargs))

    return bounded


def _bounded_join(join: Any) -> Any:
    """The join filter, refusing before it builds a text too long to print."""

    @pass_eval_context
    def bounded(context: Any, value: Any, d: str = "", attribute: Any = None) -> Any:
        items = list(value)
        size = len(d) * max(len(items) - 1, 0) + sum(len(str(item)) for item in items)
        if size > MAX_OUTPUT:
            raise SecurityError("the text would be too long")
        return join(context, items, d, attribute)

    return bounded


def _check_widths(text: str) -> None:
    """Refuse a format string that pads to millions of characters: '%0400000000d', '{:>9999999}'."""
    if LARGE_WIDTH.search(text):
        raise SecurityError("the format asks for a text too long")


def _checked_size(value: Any) -> Any:
    if isinstance(value, str | list | tuple) and len(value) > MAX_OUTPUT:
        raise SecurityError("the text would be too long")
    return value


def _keep_braces(value: Any) -> Any:
    """Printed text, escaped so that docxtpl's own "{_{" -> "{{" rewriting cannot touch it."""
    if isinstance(value, str) and not isinstance(value, Markup) and "_" in value:
        # str() first: Markup.replace would escape the "&" of the replacement again.
        return Markup(str(escape(value)).replace("{_", "&#123;_").replace("_}", "_&#125;"))
    return value


def _environment() -> SandboxedEnvironment:
    # Autoescape keeps '&' and '<' in cell text from breaking the document's XML.
    return _MemoEnvironment(undefined=StrictUndefined, autoescape=True)


def _open(template: Path | None) -> tuple[DocxTemplate, str]:
    """The template and the name errors call it by; a file that is not a .docx is refused."""
    if template is None:
        return DocxTemplate(io.BytesIO(default_template_bytes())), DEFAULT_TEMPLATE
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


def render_memo(
    template: Path | None, context: Mapping[str, Any], properties: DocumentProperties
) -> bytes:
    """The memo as .docx bytes; a template mistake raises TemplateError naming the tag."""
    document, name = _open(template)
    try:
        with _time_limit(RENDER_SECONDS):
            document.render(dict(context), jinja_env=_environment(), autoescape=True)
    except RenderTimeout as err:
        raise BriefingTemplateError(
            f"{name}: the template ran for more than {RENDER_SECONDS} s; look for loops inside "
            "loops"
        ) from err
    except SecurityError as err:
        unsafe = UNSAFE_ATTRIBUTE.search(str(err))
        tag, text = _tag_naming(_template_texts(document), unsafe[1] if unsafe else "")
        raise BriefingTemplateError(
            f"{name}: the template tries something unsafe ({str(err).rstrip('.')})"
            f"{' in tag ' + tag if tag else ''}{_near(text)}; remove that tag"
        ) from err
    except TemplateError as err:
        raise BriefingTemplateError(_describe(name, err, document)) from err
    except (OverflowError, MemoryError, RecursionError) as err:
        raise BriefingTemplateError(
            f"{name}: the template asks for too much ({err}); simplify its loops"
        ) from err
    except PackageNotFoundError as err:
        raise BriefingTemplateError(f"{name}: not a Word document (.docx)") from err
    except TypeError as err:
        if "no loader" in str(err):
            raise BriefingTemplateError(
                f"{name}: the template uses include, import or extends, which memo templates "
                "cannot; keep the whole memo in the one document"
            ) from err
        raise BriefingTemplateError(f"{name}: the template failed ({describe(err)})") from err
    except Exception as err:  # the template is the user's: whatever it breaks, say so in a line
        raise BriefingTemplateError(f"{name}: the template failed ({describe(err)})") from err
    core = document.docx.core_properties
    # Word's document properties hold 255 characters at most.
    core.title = _shorten(properties.title, 255)
    core.subject = _shorten(properties.subject, 255)
    core.author = _shorten(properties.author, 255)
    core.last_modified_by = _shorten(properties.author, 255)
    core.keywords = _shorten(properties.keywords, 255)
    core.comments = ""
    core.created = properties.created
    core.modified = properties.created
    core.revision = 1
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _quoted_name(message: str) -> str:
    match = re.search(r"named '([^']+)'", message)
    return match[1] if match else ""


class RenderTimeout(Exception):
    """Raised inside a render that has run past its time limit."""


@contextlib.contextmanager
def _time_limit(seconds: int) -> Iterator[None]:
    """Stop a render that runs too long: Jinja loops have no limit of their own.

    It needs a POSIX alarm and the main thread (the command line runs there); elsewhere the
    render runs unlimited.
    """
    if (
        not hasattr(signal, "setitimer")
        or threading.current_thread() is not threading.main_thread()
    ):
        yield
        return

    def stop(signum: int, frame: object) -> None:
        raise RenderTimeout

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _template_parts(document: DocxTemplate) -> list[list[str]]:
    """The paragraphs of the body, headers and footers as text, tags included, part by part."""
    document.init_docx()
    parts = [document.xml_to_string(document.docx._element.body)]
    for uri in (document.HEADER_URI, document.FOOTER_URI):
        for relation in document.docx._part.rels.values():
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


def _describe(name: str, err: TemplateError, document: DocxTemplate) -> str:
    """One line: the template, what is wrong, the tag and the text around it."""
    message = err.message or str(err)
    if isinstance(err, TemplateSyntaxError):
        # docxtpl keeps the lines from three before the error line to three after it.
        lines = list(getattr(err, "docx_context", ()) or ())
        index = min(3, (err.lineno or 1) - 1, len(lines) - 1)
        line = " ".join(XML_TAG.sub("", lines[index]).split()) if lines else ""
        return f"{name}: template syntax error: {message}{_near(line)}"
    if isinstance(err, UndefinedError):
        match = UNDEFINED_NAME.search(message)
        missing = next((g for g in match.groups() if g), "") if match else ""
        tag, text = _tag_naming(_template_texts(document), missing)
        if tag:
            return (
                f"{name}: unknown variable '{missing}' in tag {tag}{_near(text)}; "
                "'briefing template check' lists the variables a template can use"
            )
        return f"{name}: {message}"
    return f"{name}: the template failed: {message}"


def _tag_naming(texts: Iterable[str], word: str) -> tuple[str, str]:
    """The first tag that uses `word`, and the paragraph it stands in."""
    if word:
        pattern = re.compile(rf"(?<![\w]){re.escape(word)}(?![\w])")
        for text in texts:
            for tag in TAG.findall(text):
                if pattern.search(tag):
                    return tag, text
    return "", ""


def _near(text: str) -> str:
    """The text around a tag, short enough for one line."""
    if not text:
        return ""
    snippet = text if len(text) <= 80 else text[:77] + "..."
    return f" near '{snippet}'"


def lint_template(template: Path | None, provided: Iterable[str]) -> list[str]:
    """Problems with a template found without building: syntax, then unknown variables."""
    document, name = _open(template)
    environment = _environment()
    problems = []
    try:
        parts = _template_parts(document)
    except Exception as err:  # a damaged document part: python-docx and lxml raise many kinds
        raise BriefingTemplateError(
            f"{name}: the template cannot be read ({describe(err)})"
        ) from err
    texts = [text for part in parts for text in part]
    parsed_parts = []
    for part in parts:
        try:
            parsed_parts.append(environment.parse("\n".join(part)))
        except TemplateSyntaxError as err:
            line = part[err.lineno - 1] if err.lineno and err.lineno <= len(part) else ""
            return [f"{name}: template syntax error: {err.message}{_near(line)}"]
    undeclared: set[str] = set()
    for parsed in parsed_parts:
        try:
            undeclared |= meta.find_undeclared_variables(parsed)
        except TemplateSyntaxError as err:  # such as a filter that does not exist
            tag, text = _tag_naming(texts, _quoted_name(err.message or ""))
            return [
                f"{name}: template error: {err.message}{' in tag ' + tag if tag else ''}"
                f"{_near(text)}"
            ]
    parsed = nodes.Template([node for tree in parsed_parts for node in tree.body])
    known = set(provided)
    for variable in sorted(undeclared - known):
        tag, text = _tag_naming(texts, variable)
        problems.append(f"{name}: unknown variable '{variable}' in tag {tag}{_near(text)}")
    flagged = set()
    for node in parsed.find_all((nodes.Getattr, nodes.Getitem)):
        if isinstance(node, nodes.Getattr):
            attribute = str(node.attr)
        else:
            assert isinstance(node, nodes.Getitem)
            attribute = _constant(node.arg)
        if attribute.startswith("_"):
            tag, text = _tag_naming(texts, attribute)
            if tag in flagged:
                continue  # one line per tag, for its outermost unsafe attribute
            flagged.add(tag)
            problems.append(
                f"{name}: unsafe attribute '{attribute}' in tag {tag}{_near(text)}; "
                "templates cannot reach Python internals"
            )
    return problems


def _constant(node: nodes.Node) -> str:
    value = node.value if isinstance(node, nodes.Const) else None
    return value if isinstance(value, str) else ""
