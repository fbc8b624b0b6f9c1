"""The hardened Jinja sandbox every output format renders in, and its errors in one line."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

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

from briefing.errors import TemplateError as BriefingTemplateError
from briefing.render.child import out_of_memory
from briefing.text import describe

TAG = re.compile(r"\{[{%].*?[%}]\}", re.DOTALL)
MAX_EXPONENT = 1000
MAX_VALUE_CHARACTERS = 10_000_000  # characters one expression may build
MAX_MEMO_CHARACTERS = 50_000_000  # characters a whole rendered document may print
LARGE_WIDTH = re.compile(r"%[-+ #0]*\d{8,}|%[-+ #0]*\d*\.\d{8,}|\{[^{}]*?\d{8,}[^{}]*\}")
UNSAFE_ATTRIBUTE = re.compile(r"attribute '([^']+)'")
UNDEFINED_NAME = re.compile(r"'([^']+)' is undefined|has no attribute '([^']+)'")


class BoundedSandbox(SandboxedEnvironment):
    """Jinja's sandbox, also refusing to build huge strings or numbers.

    Jinja's sandbox keeps templates away from Python but lets them ask for any amount of
    memory ('x' * 10**9, '{:>999999999}'.format(1), a loop printing a long text). Each way of
    making one value large is checked before it runs, every value's size after, and the
    whole printed text is counted. `finalize` is the format's own step for each printed value
    (escaping for its markup), run before the value is counted.
    """

    intercepted_binops = frozenset({"*", "**", "%"})

    def __init__(self, *, finalize: Callable[[Any], Any] | None = None, **options: Any) -> None:
        super().__init__(finalize=self._print, undefined=StrictUndefined, **options)
        self.format_finalize = finalize
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
            if sizes and counts and sizes[0] * counts[0] > MAX_VALUE_CHARACTERS:
                raise SecurityError("the repeated text would be too long")
        if operator == "%" and isinstance(left, str):
            _ensure_small_widths(left)
        return _ensure_small(super().call_binop(context, operator, left, right))

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str):
            _ensure_small_widths(owner)
            numbers = [a for a in (*args, *kwargs.values()) if isinstance(a, int)]
            if any(abs(n) > MAX_VALUE_CHARACTERS for n in numbers):
                raise SecurityError("the text would be too long")
        return _ensure_small(super().call(__context, __obj, *args, **kwargs))

    def wrap_str_format(self, value: Any) -> Any:
        # Jinja reroutes str.format here, not through call(): check the format first.
        owner = getattr(value, "__self__", None)
        if isinstance(owner, str) and getattr(value, "__name__", "") in ("format", "format_map"):
            _ensure_small_widths(owner)
        return super().wrap_str_format(value)

    def _print(self, value: Any) -> Any:
        if self.format_finalize is not None:
            value = self.format_finalize(value)
        self.printed += len(value) if isinstance(value, str) else 0
        if self.printed > MAX_MEMO_CHARACTERS:
            raise SecurityError(f"the memo would be over {MAX_MEMO_CHARACTERS:,} characters")
        return value


def _bounded(function: Any) -> Any:
    """A Jinja filter that refuses to make or return a value too large to print."""

    @functools.wraps(function)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        for value in (*args, *kwargs.values()):
            if (
                isinstance(value, int)
                and not isinstance(value, bool)
                and value > MAX_VALUE_CHARACTERS
            ):
                raise SecurityError("the text would be too long")
            if isinstance(value, str):
                _ensure_small_widths(value)
        return _ensure_small(function(*args, **kwargs))

    return bounded


def _bounded_join(join: Any) -> Any:
    """The join filter, refusing before it builds a text too long to print."""

    @pass_eval_context
    def bounded(context: Any, value: Any, d: str = "", attribute: Any = None) -> Any:
        items = list(value)
        size = len(d) * max(len(items) - 1, 0) + sum(len(str(item)) for item in items)
        if size > MAX_VALUE_CHARACTERS:
            raise SecurityError("the text would be too long")
        return join(context, items, d, attribute)

    return bounded


def _ensure_small_widths(text: str) -> None:
    """Refuse a format string that pads to millions of characters: '%0400000000d', '{:>9999999}'."""
    if LARGE_WIDTH.search(text):
        raise SecurityError("the format asks for a text too long")


def _ensure_small(value: Any) -> Any:
    if isinstance(value, str | list | tuple) and len(value) > MAX_VALUE_CHARACTERS:
        raise SecurityError("the text would be too long")
    return value


def run_template(name: str, render: Callable[[], None], texts: Callable[[], list[str]]) -> None:
    """Run `render`; whatever the template breaks is one line naming it.

    `texts` gives the template's paragraphs or lines, to show the tag at fault in context.
    Time and memory are bounded around it, by the child process it runs in (child.py).
    """
    try:
        render()
    except SecurityError as err:
        unsafe = UNSAFE_ATTRIBUTE.search(str(err))
        tag, text = _tag_naming(texts(), unsafe[1] if unsafe else "")
        raise BriefingTemplateError(
            f"{name}: the template tries something unsafe ({str(err).rstrip('.')})"
            f"{' in tag ' + tag if tag else ''}{_near(text)}; remove that tag"
        ) from err
    except TemplateError as err:
        raise BriefingTemplateError(_describe(name, err, texts)) from err
    except MemoryError as err:
        raise BriefingTemplateError(out_of_memory(name)) from err
    except (OverflowError, RecursionError) as err:
        raise BriefingTemplateError(
            f"{name}: the template asks for too much ({err}); simplify its loops"
        ) from err
    except TypeError as err:
        if "no loader" in str(err):
            raise BriefingTemplateError(
                f"{name}: the template uses include, import or extends, which memo templates "
                "cannot; keep the whole memo in the one document"
            ) from err
        raise BriefingTemplateError(f"{name}: the template failed ({describe(err)})") from err


def _describe(name: str, err: TemplateError, texts: Callable[[], list[str]]) -> str:
    """One line: the template, what is wrong, the tag and the text around it."""
    message = err.message or str(err)
    if isinstance(err, TemplateSyntaxError):
        # docxtpl keeps the lines from three before the error line to three after it.
        lines = list(getattr(err, "docx_context", ()) or ())
        if lines:
            index = min(3, (err.lineno or 1) - 1, len(lines) - 1)
            line = " ".join(XML_TAG.sub("", lines[index]).split())
        else:
            line = _line(texts(), err.lineno)
        return f"{name}: template syntax error: {message}{_near(line)}"
    if isinstance(err, UndefinedError):
        match = UNDEFINED_NAME.search(message)
        missing = next((g for g in match.groups() if g), "") if match else ""
        tag, text = _tag_naming(texts(), missing)
        if tag:
            return (
                f"{name}: unknown variable '{missing}' in tag {tag}{_near(text)}; "
                "'briefing template check' lists the variables a template can use"
            )
        return f"{name}: {message}"
    return f"{name}: the template failed: {message}"


XML_TAG = re.compile(r"<[^>]+>")


def _line(lines: Sequence[str], number: int | None) -> str:
    return lines[number - 1] if number and number <= len(lines) else ""


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


def lint_parts(
    name: str, parts: Sequence[Sequence[str]], provided: Iterable[str], environment: BoundedSandbox
) -> list[str]:
    """Problems found without rendering: syntax, then unknown variables, then unsafe attributes.

    `parts` are the template's separately parsed pieces (a Word body, header and footer; a
    text file whole), each as its paragraphs or lines.
    """
    texts = [text for part in parts for text in part]
    parsed_parts = []
    for part in parts:
        try:
            parsed_parts.append(environment.parse("\n".join(part)))
        except TemplateSyntaxError as err:
            return [f"{name}: template syntax error: {err.message}{_near(_line(part, err.lineno))}"]
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
    problems = []
    for variable in sorted(undeclared - set(provided)):
        tag, text = _tag_naming(texts, variable)
        problems.append(f"{name}: unknown variable '{variable}' in tag {tag}{_near(text)}")
    whole = nodes.Template([node for tree in parsed_parts for node in tree.body])
    flagged = set()
    for node in whole.find_all((nodes.Getattr, nodes.Getitem)):
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


def _quoted_name(message: str) -> str:
    match = re.search(r"named '([^']+)'", message)
    return match[1] if match else ""


def _constant(node: nodes.Node) -> str:
    value = node.value if isinstance(node, nodes.Const) else None
    return value if isinstance(value, str) else ""
