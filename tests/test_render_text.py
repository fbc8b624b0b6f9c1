"""Text and HTML formats: the same context and sandbox as the memo, each with its own escaping."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from briefing.context import build_context, document_properties
from briefing.errors import TemplateError
from briefing.model import DocumentProperties
from briefing.pipeline import check_template, email_context, load_dossier
from briefing.render import default_template, format_for, render_document
from tests.conftest import ROOT, field_cell, set_cells

PROPERTIES = DocumentProperties("T", "S", "A", "K", dt.datetime(2024, 6, 14, tzinfo=dt.UTC))
CONTEXT = {"bluf": 'Tanks <b>&</b> "drones"\nnext line', "handling": "TLP:AMBER"}


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("name", ["memo.docx", "email.txt", "email.html"])
def test_every_default_template_lints_and_renders_clean(name: str) -> None:
    path = ROOT / "templates" / name
    assert default_template(path.suffix) == path.read_bytes()
    assert check_template(path) == []


def test_plain_text_prints_cell_text_as_typed(tmp_path: Path) -> None:
    template = write(tmp_path, "body.txt", "{{ bluf }} ({{ handling }})\n")
    rendered = render_document(".txt", template, CONTEXT, PROPERTIES).decode("utf-8")
    assert rendered == 'Tanks <b>&</b> "drones"\nnext line (TLP:AMBER)\n'


def test_html_escapes_cell_text_so_no_cell_adds_markup(tmp_path: Path) -> None:
    template = write(tmp_path, "body.html", "<p>{{ bluf }}</p>")
    rendered = render_document(".html", template, CONTEXT, PROPERTIES).decode("utf-8")
    assert rendered == "<p>Tanks &lt;b&gt;&amp;&lt;/b&gt; &#34;drones&#34;\nnext line</p>"


def test_the_same_context_renders_in_every_format(example_workbook: Path) -> None:
    set_cells(example_workbook, {field_cell("BLUF"): "Kyiv & NATO <reject> it"})
    dossier = load_dossier(example_workbook)
    context = build_context(dossier).as_dict()
    properties = document_properties(dossier, dt.datetime(2024, 6, 14, tzinfo=dt.UTC))
    bodies = email_context(context, [])
    text = render_document(".txt", None, bodies, properties).decode("utf-8")
    html = render_document(".html", None, bodies, properties).decode("utf-8")
    memo = render_document(".docx", None, context, properties)
    assert "BOTTOM LINE UP FRONT\nKyiv & NATO <reject> it\n" in text
    assert "Kyiv &amp; NATO &lt;reject&gt; it" in html
    assert memo.startswith(b"PK")


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        pytest.param(
            "unknown.txt",
            "Dear desk,\n{{ blfu }}\n",
            "{path}: unknown variable 'blfu' in tag {{{{ blfu }}}} near '{{{{ blfu }}}}'",
            id="unknown-variable",
        ),
        pytest.param(
            "unsafe.txt",
            "{{ bluf.__class__ }}",
            "{path}: unsafe attribute '__class__' in tag {{{{ bluf.__class__ }}}} near "
            "'{{{{ bluf.__class__ }}}}'; templates cannot reach Python internals",
            id="unsafe-attribute",
        ),
    ],
)
def test_template_check_lints_text_templates(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    path = write(tmp_path, name, text)
    assert check_template(path) == [message.format(path=path)]


def test_a_syntax_error_names_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "syntax.html", "<p>\n{% if bluf %}\n</p>\n")
    (problem,) = check_template(path)
    assert problem.startswith(f"{path}: template syntax error: Unexpected end of template.")
    assert problem.endswith(" near '{% if bluf %}'")


@pytest.mark.parametrize(
    ("text", "start"),
    [
        pytest.param("{{ 'x' * 100000000 }}", "the template tries something unsafe", id="huge"),
        pytest.param("{% include 'other.txt' %}", "the template uses include", id="include"),
        pytest.param("{{ missing }}", "unknown variable 'missing'", id="undefined"),
    ],
)
def test_text_templates_fail_in_one_line(tmp_path: Path, text: str, start: str) -> None:
    template = write(tmp_path, "body.txt", text)
    with pytest.raises(TemplateError) as raised:
        render_document(".txt", template, CONTEXT, PROPERTIES)
    assert str(raised.value).startswith(f"{template}: {start}")
    assert "\n" not in str(raised.value)


def test_a_missing_text_template_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(TemplateError) as raised:
        render_document(".txt", tmp_path / "gone.txt", CONTEXT, PROPERTIES)
    assert (
        str(raised.value)
        == f"{tmp_path / 'gone.txt'}: the template does not exist; give a text file"
    )


def test_an_unknown_format_is_one_line() -> None:
    with pytest.raises(TemplateError) as raised:
        format_for(".odt")
    assert str(raised.value) == "no template format for '.odt'; briefing knows .docx, .txt, .html"
