"""Rendering: exact text from cell to memo, document properties, and template mistakes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn

from briefing.errors import TemplateError
from briefing.pipeline import build_memo, check_template, new_template
from briefing.text import typeset
from tests.conftest import cell, field_cell, memo_text

MakeWorkbook = Callable[..., Path]
NOW = dt.datetime(2024, 6, 15, 9, 30, tzinfo=dt.UTC)


def build(workbook: Path, template: Path | None = None) -> Path:
    out = workbook.with_name("memo.docx")
    build_memo(workbook, out, template, now=NOW)
    return out


def make_template(path: Path, *paragraphs: str) -> Path:
    document = Document()
    for text in paragraphs:
        document.add_paragraph(text)
    document.save(str(path))
    return path


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("AT&T <Holdings> \"quoted\" 'single'", id="markup-characters"),
        pytest.param("Михайло Подоляк", id="cyrillic"),
        pytest.param("Peace 🕊️ talks 🇺🇦", id="emoji"),
        pytest.param("first line\nsecond line", id="line-break"),
        pytest.param("{{ title }} and {% if x %}", id="jinja-looking-text"),
        pytest.param("مرحبا بالعالم", id="right-to-left"),
        pytest.param("=SUM(A1:A2)", id="formula-looking-text"),
        pytest.param("{_{ docxtpl's own escapes }_} {_% %_}", id="docxtpl-escapes"),
        pytest.param("a\ttab", id="tab"),
    ],
)
def test_cell_text_reaches_the_memo_exactly(make_workbook: MakeWorkbook, text: str) -> None:
    memo = build(make_workbook({cell("Reactions", "Summary", 2): text, field_cell("BLUF"): text}))
    body = memo_text(memo)
    # Exactly as typed, but for typographic quotes and apostrophes.
    printed = typeset(text)
    assert f"Opposes. {printed} “" in body  # the reaction summary, in Annex B
    assert f"\n{printed}\n" in body  # the BLUF paragraph
    assert '"' not in body


def test_control_characters_are_dropped_not_fatal(make_workbook: MakeWorkbook) -> None:
    memo = build(make_workbook({field_cell("BLUF"): "Bottom_x0001_ line_x0008_"}))
    assert "\nBottom line\n" in memo_text(memo)


def test_header_and_footer_carry_the_handling_label(make_workbook: MakeWorkbook) -> None:
    memo = build(make_workbook({field_cell("Handling"): "TLP:AMBER+STRICT"}))
    document = Document(str(memo))
    section = document.sections[0]
    assert section.header.paragraphs[0].text == "TLP:AMBER+STRICT"
    footer = section.footer.paragraphs[0]
    assert footer.text == "TLP:AMBER+STRICT\tPage  of "
    # python-docx has no API for fields: read the paragraph's XML element.
    fields = footer._p.iter(qn("w:fldSimple"))  # noqa: SLF001 - python-docx's element accessor
    instructions = [f.get(qn("w:instr")) for f in fields]
    assert instructions == ["PAGE", "NUMPAGES"]


def test_document_properties_come_from_the_workbook(example_workbook: Path) -> None:
    core = Document(str(build(example_workbook))).core_properties
    assert core.title == "Putin's ceasefire terms: surrender four regions and drop NATO bid"
    assert core.author == "Russia–Ukraine desk"
    assert core.last_modified_by == "Russia–Ukraine desk"
    assert core.subject.startswith("Putin's 14 June 2024 conditions")
    assert core.keywords == "TLP:CLEAR, Russia, Ukraine, briefing"
    assert core.created == NOW
    assert "python-docx" not in (core.author, core.last_modified_by, core.comments)


def test_memo_uses_built_in_styles_and_table_flags(example_workbook: Path) -> None:
    document = Document(str(build(example_workbook)))
    styles = {p.style.name for p in document.paragraphs if p.style is not None}
    assert {"Title", "Heading 1", "Heading 2", "Heading 3", "List Bullet"} <= styles
    # python-docx has no API for row flags: `_tr` is the row's XML element.
    annex_tables = 0
    for table in document.tables[1:]:  # the memo block is a layout table
        first = table.rows[0]._tr.trPr  # noqa: SLF001 - python-docx's element accessor
        assert first is not None
        assert first.find(qn("w:tblHeader")) is not None
        if table.rows[0].cells[0].text not in ("ID", "Date"):
            continue  # demands face to face: their one row of demands may break across pages
        annex_tables += 1
        for row in table.rows:
            flags = row._tr.trPr  # noqa: SLF001 - python-docx's element accessor
            assert flags is not None
            assert flags.find(qn("w:cantSplit")) is not None
    assert annex_tables == 3  # demands, figures and timeline


def test_empty_sections_are_left_out(make_workbook: MakeWorkbook, tmp_path: Path) -> None:
    import openpyxl

    path = make_workbook()
    book = openpyxl.load_workbook(path)
    for name in ("Judgments", "Figures", "Timeline"):
        sheet = book[name]
        sheet.delete_rows(2, sheet.max_row)
    book.save(path)
    text = memo_text(build(path))
    for heading in ("Key judgments", "Battlefield in brief", "Figures", "Timeline"):
        assert heading not in text
    # The sections that remain are numbered without gaps, and so are the annexes.
    headings = [line for line in text.splitlines() if line[:2] in ("1.", "2.", "3.", "4.")]
    assert headings == [
        "1. Bottom line up front",
        "2. Diplomacy in brief",
        "3. Outlook: what to watch",
    ]
    annexes = [line for line in text.splitlines() if line.startswith("Annex ")]
    assert annexes == [
        "Annex A. Demands",
        "Annex B. Reactions",
        "Annex C. Sources and grades",
        "Annex D. Caveats",
    ]
    for junk in ("None", "nan", "00:00:00"):
        assert junk not in text


@pytest.mark.parametrize(
    ("paragraphs", "expected"),
    [
        pytest.param(
            ["MEMORANDUM FOR: {{ recipient }}", "DATE: {{ titel }} today"],
            "unknown variable 'titel' in tag {{ titel }} near 'DATE: {{ titel }} today'; "
            "'briefing template check' lists the variables a template can use",
            id="typo",
        ),
        pytest.param(
            ["{% for j in judgments %}{{ j.txet }}{% endfor %}"],
            "unknown variable 'txet' in tag {{ j.txet }} near "
            "'{% for j in judgments %}{{ j.txet }}{% endfor %}'; "
            "'briefing template check' lists the variables a template can use",
            id="unknown-attribute",
        ),
        pytest.param(
            ["{% for j in judgments %}{{ j.text }}"],
            "template syntax error: Unexpected end of template. Jinja was looking for the "
            "following tags: 'endfor' or 'else'. The innermost block that needs to be closed "
            "is 'for'. near '{% for j in judgments %}{{ j.text }}'",
            id="unclosed-for",
        ),
        pytest.param(
            ["{{ ''.__class__.__mro__ }}"],
            "the template tries something unsafe (access to attribute '__class__' of 'str' "
            "object is unsafe) in tag {{ ''.__class__.__mro__ }} near "
            "'{{ ''.__class__.__mro__ }}'; remove that tag",
            id="hostile-class",
        ),
        pytest.param(
            ["{{ 'x' * 1000 * 1000 * 1000 }}"],
            "the template tries something unsafe (the repeated text would be too long); "
            "remove that tag",
            id="huge-string",
        ),
        pytest.param(
            ["{{ 'x'.center(400000000) }}"],
            "the template tries something unsafe (the text would be too long); remove that tag",
            id="huge-center",
        ),
        pytest.param(
            ["{{ '%0400000000d' % 1 }}"],
            "the template tries something unsafe (the format asks for a text too long); "
            "remove that tag",
            id="huge-percent-format",
        ),
        pytest.param(
            ["{{ '{:>400000000}'.format(1) }}"],
            "the template tries something unsafe (the format asks for a text too long); "
            "remove that tag",
            id="huge-format-method",
        ),
        pytest.param(
            ["{{ 'x'|center(400000000) }}"],
            "the template tries something unsafe (the text would be too long); remove that tag",
            id="huge-center-filter",
        ),
        pytest.param(
            ["{% for i in range(60) %}{{ 'x' * 9000000 }}{% endfor %}"],
            "the template tries something unsafe (the memo would be over 50,000,000 "
            "characters); remove that tag",
            id="huge-total",
        ),
        pytest.param(
            ["{{ range(100000)|map('string')|join('x' * 5000) }}"],
            "the template tries something unsafe (the text would be too long); remove that tag",
            id="huge-join",
        ),
        pytest.param(
            ["{% for i in range(10**9) %}x{% endfor %}"],
            "the template asks for too much (Range too big. The sandbox blocks ranges larger "
            "than MAX_RANGE (100000).); simplify its loops",
            id="huge-loop",
        ),
    ],
)
def test_template_mistakes_are_one_clear_line(
    example_workbook: Path, tmp_path: Path, paragraphs: list[str], expected: str
) -> None:
    template = make_template(tmp_path / "bad.docx", *paragraphs)
    with pytest.raises(TemplateError) as caught:
        build(example_workbook, template)
    assert str(caught.value) == f"{template}: {expected}"


def test_tag_split_across_runs_still_renders(example_workbook: Path, tmp_path: Path) -> None:
    document = Document()
    paragraph = document.add_paragraph()
    for piece in ("{{ ti", "tle }}", " for {{ recipient", " }}"):
        paragraph.add_run(piece).bold = piece.startswith("tle")
    path = tmp_path / "split.docx"
    document.save(str(path))
    memo = build(example_workbook, path)
    assert Document(str(memo)).paragraphs[0].text == (
        "Putin’s ceasefire terms: surrender four regions and drop NATO bid for Desk editor"
    )


@pytest.mark.parametrize(
    ("name", "make", "expected"),
    [
        pytest.param(
            "memo.xlsx",
            lambda p: p.write_bytes(b"PK\x03\x04 not really"),
            "not a Word document (.docx); give a template made with 'briefing template new'",
            id="not-a-zip",
        ),
        pytest.param(
            "missing.docx",
            lambda p: None,
            "the template does not exist; give a .docx file",
            id="missing",
        ),
        pytest.param(
            "folder.docx",
            lambda p: p.mkdir(),
            "the template is a folder; give a .docx file",
            id="folder",
        ),
    ],
)
def test_files_that_are_not_templates(
    example_workbook: Path, tmp_path: Path, name: str, make: Callable[[Path], object], expected: str
) -> None:
    path = tmp_path / name
    make(path)
    with pytest.raises(TemplateError) as caught:
        build(example_workbook, path)
    assert str(caught.value) == f"{path}: {expected}"


def test_a_workbook_given_as_template(example_workbook: Path) -> None:
    with pytest.raises(TemplateError) as caught:
        build(example_workbook, example_workbook)
    assert str(caught.value) == f"{example_workbook}: not a Word document (.docx)"


def test_a_dotx_given_as_template(example_workbook: Path, tmp_path: Path) -> None:
    import zipfile

    source = new_template(tmp_path / "copy.docx")
    dotx = tmp_path / "memo.dotx"
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(dotx, "w") as changed:
        for item in original.infolist():
            data = original.read(item)
            if item.filename == "[Content_Types].xml":
                data = data.replace(b"document.main+xml", b"template.main+xml")
            changed.writestr(item, data)
    with pytest.raises(TemplateError) as caught:
        build(example_workbook, dotx)
    assert str(caught.value) == (
        f"{dotx}: a Word template (.dotx); open it in Word and save it as a .docx document"
    )


def test_default_template_lints_clean(tmp_path: Path) -> None:
    assert check_template(new_template(tmp_path / "copy.docx")) == []


def test_lint_names_unknown_variables_and_unsafe_tags(tmp_path: Path) -> None:
    template = make_template(
        tmp_path / "t.docx", "{{ title }} {{ sumary }}", "{{ ''.__class__.__mro__ }}"
    )
    assert check_template(template) == [
        f"{template}: unknown variable 'sumary' in tag {{{{ sumary }}}} near "
        "'{{ title }} {{ sumary }}'",
        f"{template}: unsafe attribute '__mro__' in tag {{{{ ''.__class__.__mro__ }}}} near "
        "'{{ ''.__class__.__mro__ }}'; templates cannot reach Python internals",
    ]


def test_lint_names_syntax_errors(tmp_path: Path) -> None:
    template = make_template(tmp_path / "t.docx", "fine", "{% if title %}never closed")
    assert check_template(template) == [
        f"{template}: template syntax error: Unexpected end of template. Jinja was looking "
        "for the following tags: 'elif' or 'else' or 'endif'. The innermost block that needs "
        "to be closed is 'if'. near '{% if title %}never closed'"
    ]


@pytest.mark.parametrize(
    ("paragraphs", "expected"),
    [
        pytest.param(
            ["{% for s in sources %}{{ s.nope }}{% endfor %}"],
            "unknown variable 'nope' in tag {{ s.nope }} near "
            "'{% for s in sources %}{{ s.nope }}{% endfor %}'; 'briefing template check' "
            "lists the variables a template can use",
            id="unknown-attribute-in-a-loop",
        ),
        pytest.param(
            ["{{ title|nosuchfilter }}"],
            "template error: No filter named 'nosuchfilter'. in tag {{ title|nosuchfilter }} "
            "near '{{ title|nosuchfilter }}'",
            id="unknown-filter",
        ),
        pytest.param(
            ["first", "{{ title"],
            "template syntax error: unexpected end of template, expected 'end of print "
            "statement'. near '{{ title'",
            id="unclosed-tag",
        ),
    ],
)
def test_template_check_finds_what_build_would(
    tmp_path: Path, paragraphs: list[str], expected: str
) -> None:
    template = make_template(tmp_path / "t.docx", *paragraphs)
    assert check_template(template) == [f"{template}: {expected}"]


def test_include_is_refused_in_one_line(example_workbook: Path, tmp_path: Path) -> None:
    template = make_template(tmp_path / "t.docx", "{% include 'other.docx' %}")
    with pytest.raises(TemplateError) as caught:
        build(example_workbook, template)
    assert str(caught.value) == (
        f"{template}: the template uses include, import or extends, which memo templates "
        "cannot; keep the whole memo in the one document"
    )


def test_a_damaged_template_is_one_line(example_workbook: Path, tmp_path: Path) -> None:
    import zipfile

    source = new_template(tmp_path / "copy.docx")
    broken = tmp_path / "broken.docx"
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(broken, "w") as changed:
        for item in original.infolist():
            data = original.read(item)
            if item.filename == "word/document.xml":
                data = data[: len(data) // 2]
            changed.writestr(item, data)
    for run in (lambda: build(example_workbook, broken), lambda: check_template(broken)):
        with pytest.raises(TemplateError) as caught:
            run()
        message = str(caught.value)
        assert message.startswith(f"{broken}: the template ")
        assert "\n" not in message
        assert len(message) < 400


def test_a_template_that_runs_too_long_is_stopped(
    example_workbook: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("briefing.render.child.RENDER_SECONDS", 1)
    template = make_template(
        tmp_path / "slow.docx",
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    )
    with pytest.raises(TemplateError) as caught:
        build(example_workbook, template)
    assert str(caught.value) == (
        f"{template}: the template ran for more than 1 s; look for loops inside loops"
    )
