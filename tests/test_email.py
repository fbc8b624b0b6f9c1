"""The email draft stands alone: label, BLUF, judgments, changes, attachments and sender, in
plain text and HTML; attachments named for the memo; addresses checked at their cell."""

from __future__ import annotations

import datetime as dt
import email
import re
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from briefing.cli import app
from briefing.context import build_context, document_properties
from briefing.output import attachment_name, memo_attachments
from briefing.pipeline import email_context, load_dossier
from briefing.render import render_document
from tests.conftest import cell, field_cell, needs_office

MakeWorkbook = Callable[..., Path]
SEED_NAME = "2024-06-14 Putin's ceasefire terms - surrender four regions and drop NATO bid"
SUBJECT = (
    "Putin’s 14 June 2024 conditions for a ceasefire in Ukraine and reactions from Kyiv, "
    "Washington and NATO"
)
TLP_COLOURS = {
    "TLP:RED": "#FF2B2B",
    "TLP:AMBER": "#FFC000",
    "TLP:AMBER+STRICT": "#FFC000",
    "TLP:GREEN": "#33FF00",
    "TLP:CLEAR": "#FFFFFF",
}


def build_draft(runner: CliRunner, workbook: Path, *options: str) -> EmailMessage:
    """Build the memo with --email beside the workbook and read the draft as a mail client."""
    out = workbook.with_name("memo.docx")
    result = runner.invoke(app, ["build", str(workbook), "-o", str(out), "--email", *options])
    assert result.exit_code == 0, result.output
    message = email.message_from_bytes(out.with_suffix(".eml").read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def bodies(message: EmailMessage) -> tuple[str, str]:
    """The plain-text and the HTML part, decoded."""
    plain = message.get_body(preferencelist=("plain",))
    rich = message.get_body(preferencelist=("html",))
    assert plain is not None
    assert rich is not None
    return plain.get_content(), rich.get_content()


class Reading(HTMLParser):
    """An HTML body as a reader sees it: its text one block (p, h2, li, br) a line, and each
    piece of text with the style of the element it stands in."""

    BLOCKS = frozenset({"p", "h2", "li", "br"})
    VOID = frozenset({"meta", "br", "img", "hr", "link"})

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = [""]
        self.styles: list[str] = []
        self.styled: list[tuple[str, str]] = []
        self.in_body = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.in_body = self.in_body or tag == "body"
        if tag in self.BLOCKS:
            self.lines.append("")
        if tag not in self.VOID:
            self.styles.append(dict(attrs).get("style") or "")

    def handle_endtag(self, tag: str) -> None:
        self.styles.pop()
        if tag in self.BLOCKS:
            self.lines.append("")

    def handle_data(self, data: str) -> None:
        if self.in_body and data.strip():
            self.lines[-1] += data
            self.styled.append((data, self.styles[-1]))

    @classmethod
    def of(cls, html: str) -> Reading:
        reading = cls()
        reading.feed(html)
        reading.lines = [" ".join(line.split()) for line in reading.lines if line.strip()]
        return reading


def test_the_plain_part_says_what_matters_in_order(
    runner: CliRunner, example_workbook: Path
) -> None:
    plain, _ = bodies(build_draft(runner, example_workbook))
    lines = plain.splitlines()
    assert lines[:6] == [
        "TLP:CLEAR — Disclosure is not limited.",
        "",
        SUBJECT,
        "Information as of 14 June 2024.",
        "",
        "BOTTOM LINE UP FRONT",
    ]
    assert lines[6].startswith("On 14 June 2024 Putin offered an immediate ceasefire and talks")
    judgments = lines.index("KEY JUDGMENTS")
    assert lines[judgments + 1].startswith("J1. Kyiv will not accept Putin’s 14 June terms")
    assert lines[judgments + 1].endswith("Ukraine’s own conditions. [S1]")
    assert lines[judgments + 2] == "Likelihood: almost certain (95–99%). Confidence: moderate."
    likelihoods = [line for line in lines if line.startswith("Likelihood:")]
    assert likelihoods == [
        "Likelihood: almost certain (95–99%). Confidence: moderate.",
        "Likelihood: likely (55–80%). Confidence: moderate.",
        "Likelihood: very likely (80–95%). Confidence: moderate.",
        "Likelihood: very likely (80–95%). Confidence: low.",
    ]
    # Likelihood and confidence never share a sentence.
    for line in likelihoods:
        assert not any("onfidence" in s and "ikelihood" in s for s in line.split(". "))
    assert [line[:3] for line in lines if re.match(r"J\d\. ", line)] == ["J1.", "J2.", "J3.", "J4."]
    assert "What changed" not in plain  # no --since, no line of changes
    assert lines[-4:] == [
        "ATTACHED",
        f"- {SEED_NAME}.docx: the memo (Word)",
        "",
        "Russia–Ukraine desk",
    ]
    assert plain.endswith("Russia–Ukraine desk\n")


def test_the_html_part_holds_the_same_in_the_same_order(
    runner: CliRunner, example_workbook: Path
) -> None:
    _, html = bodies(build_draft(runner, example_workbook))
    lines = Reading.of(html).lines
    assert lines[:5] == [
        "TLP:CLEAR Disclosure is not limited.",
        SUBJECT,
        "Information as of 14 June 2024.",
        "Bottom line up front",
        lines[4],
    ]
    assert lines[4].startswith("On 14 June 2024 Putin offered an immediate ceasefire and talks")
    start = lines.index("Key judgments")
    assert lines[start + 1].startswith("J1. Kyiv will not accept Putin’s 14 June terms")
    assert lines[start + 2] == "Likelihood: almost certain (95–99%). Confidence: moderate."
    assert lines[-3:] == [
        "Attached",
        f"{SEED_NAME}.docx: the memo (Word)",
        "Russia–Ukraine desk",
    ]


def test_the_line_of_changes_follows_the_judgments_with_since(
    runner: CliRunner, make_workbook: MakeWorkbook
) -> None:
    earlier = make_workbook(
        {field_cell("Date"): "2024-06-13", cell("Reactions", "Summary", 2): "Said less."},
        name="earlier.xlsx",
    )
    workbook = make_workbook()
    plain, html = bodies(build_draft(runner, workbook, "--since", str(earlier)))
    lines = plain.splitlines()
    change = lines.index("What changed since 13 June 2024: 1 reaction changed.")
    assert lines.index("Likelihood: very likely (80–95%). Confidence: low.") < change
    assert change < lines.index("ATTACHED")
    reading = Reading.of(html).lines
    change = reading.index("What changed since 13 June 2024: 1 reaction changed.")
    assert reading.index("Key judgments") < change < reading.index("Attached")
    assert "<strong>What changed since 13 June 2024:</strong> 1 reaction changed.</p>" in html


@pytest.mark.parametrize(("label", "colour"), TLP_COLOURS.items())
def test_the_html_label_is_set_in_its_colour_on_black(
    make_workbook: MakeWorkbook, label: str, colour: str
) -> None:
    dossier = load_dossier(make_workbook({field_cell("Handling"): label}))
    context = email_context(build_context(dossier).as_dict(), [])
    properties = document_properties(dossier, dt.datetime(2024, 6, 14, tzinfo=dt.UTC))
    html = render_document(".html", None, context, properties).decode("utf-8")
    reading = Reading.of(html)
    text, style = reading.styled[0]  # the body's first text
    assert text == label
    declarations = {
        name.strip(): value.strip()
        for name, value in (d.split(":", 1) for d in style.split(";") if ":" in d)
    }
    assert declarations["background-color"] == "#000000"
    assert declarations["color"] == colour
    assert reading.lines[0] == f"{label} {context['handling_rule']}"
    plain = render_document(".txt", None, context, properties).decode("utf-8")
    assert plain.splitlines()[0] == f"{label} — {context['handling_rule']}"


def test_the_draft_opens_as_a_draft_with_the_attachments_named_for_the_memo(
    runner: CliRunner, make_workbook: MakeWorkbook
) -> None:
    title = 'Kyiv/Moscow: "talks"? <no> | a*b\\c and the long tail of a title past sixty letters'
    workbook = make_workbook({field_cell("Title"): title})
    message = build_draft(runner, workbook)
    assert message["X-Unsent"] == "1"
    name = "2024-06-14 KyivMoscow - talks no abc and the long tail of a title past sixty"
    # Whole on one line, as every mail client reads it: no RFC 2231 continuations.
    raw = workbook.with_name("memo.eml").read_bytes().decode("ascii")
    assert f'Content-Disposition: attachment; filename="{name}.docx"\n' in raw
    assert f'; name="{name}.docx"\n' in raw
    attached = [(a.get_filename(), a.get_content_type()) for a in message.iter_attachments()]
    assert attached == [
        (f"{name}.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    ]
    plain, html = bodies(message)
    assert f"- {name}.docx: the memo (Word)" in plain.splitlines()
    assert f"{name}.docx: the memo (Word)" in Reading.of(html).lines
    # The file on disk keeps the name -o gave it.
    assert sorted(p.name for p in workbook.parent.iterdir()) == [
        "desk.xlsx",
        "memo.docx",
        "memo.eml",
    ]


def test_attachment_names_drop_what_file_systems_refuse_and_cut_at_a_word() -> None:
    day = dt.date(2024, 6, 14)
    assert attachment_name(day, "Putin ceasefire terms", ".docx") == (
        "2024-06-14 Putin ceasefire terms.docx"
    )
    assert attachment_name(day, 'a\\b/c:d*e?f"g<h>i|j\x07k\x9fl', ".pdf") == (
        "2024-06-14 abcdefghijkl.pdf"
    )
    assert attachment_name(day, "Ceasefire\nterms", ".docx") == "2024-06-14 Ceasefire terms.docx"
    long = "Russia–Ukraine desk, June 2024: Putin's ceasefire terms and the diplomacy around them"
    assert attachment_name(day, long, ".docx") == (
        "2024-06-14 Russia–Ukraine desk, June 2024 - Putin's ceasefire terms.docx"
    )
    assert attachment_name(day, "x" * 80, ".docx") == f"2024-06-14 {'x' * 72}.docx"
    assert attachment_name(day, "Talks with the U.S.", ".docx") == (
        "2024-06-14 Talks with the U.S.docx"
    )
    assert attachment_name(day, "???", ".docx") == "2024-06-14 memo.docx"
    files = [Path("out/memo.docx"), Path("out/memo.pdf")]
    assert [(a.name, a.about) for a in memo_attachments(files, day, "Terms")] == [
        ("2024-06-14 Terms.docx", "the memo (Word)"),
        ("2024-06-14 Terms.pdf", "the memo (PDF)"),
    ]


@pytest.mark.office
@needs_office
def test_with_pdf_both_files_are_attached_and_listed(
    runner: CliRunner, example_workbook: Path
) -> None:
    message = build_draft(runner, example_workbook, "--pdf")
    attached = [a.get_filename() for a in message.iter_attachments()]
    assert attached == [f"{SEED_NAME}.docx", f"{SEED_NAME}.pdf"]
    plain, html = bodies(message)
    assert plain.splitlines()[-5:-2] == [
        "ATTACHED",
        f"- {SEED_NAME}.docx: the memo (Word)",
        f"- {SEED_NAME}.pdf: the memo (PDF)",
    ]
    assert Reading.of(html).lines[-3:-1] == [
        f"{SEED_NAME}.docx: the memo (Word)",
        f"{SEED_NAME}.pdf: the memo (PDF)",
    ]


def test_cell_text_is_escaped_in_html_and_typed_in_plain_text(
    runner: CliRunner, make_workbook: MakeWorkbook
) -> None:
    workbook = make_workbook(
        {field_cell("BLUF"): "Tanks <b>&</b> drones", field_cell("From"): "Desk <b>&</b>"}
    )
    plain, html = bodies(build_draft(runner, workbook))
    assert "BOTTOM LINE UP FRONT\nTanks <b>&</b> drones\n" in plain
    assert plain.endswith("\nDesk <b>&</b>\n")
    assert "Tanks &lt;b&gt;&amp;&lt;/b&gt; drones" in html
    assert "<p>Desk &lt;b&gt;&amp;&lt;/b&gt;</p>" in html
    assert "<b>" not in html


def test_addresses_separated_by_commas_or_semicolons_reach_the_to_header(
    runner: CliRunner, make_workbook: MakeWorkbook
) -> None:
    workbook = make_workbook({field_cell("Email to"): "a@example.org; b@exämple.org,\n"})
    message = build_draft(runner, workbook)
    assert message["To"] == "a@example.org, b@xn--exmple-cua.org"


def test_an_address_that_is_not_one_is_an_error_at_its_cell(
    runner: CliRunner, make_workbook: MakeWorkbook
) -> None:
    where = field_cell("Email to")
    path = make_workbook({where: "desk-editor@example; desk@example.org, nobody"})
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == 1
    hint = "write addresses such as desk@example.org, separated by commas"
    assert result.stdout == (
        f"{where}: 'desk-editor@example' is not an email address (the part after the @-sign is "
        f"not valid. It should have a period.); {hint}\n"
        f"{where}: 'nobody' is not an email address (an email address must have an @-sign.); "
        f"{hint}\n"
        f"{path}: 2 errors, 0 warnings\n"
    )


def test_a_bad_address_stops_the_build_before_anything_is_written(
    runner: CliRunner, make_workbook: MakeWorkbook, tmp_path: Path
) -> None:
    where = field_cell("Email to")
    path = make_workbook({where: "desk editor@example.org"})
    out = tmp_path / "memo.docx"
    result = runner.invoke(app, ["build", str(path), "-o", str(out), "--email"])
    assert result.exit_code == 1
    assert (
        f"{where}: 'desk editor@example.org' is not an email address (the email address "
        "contains invalid characters before the @-sign: SPACE.); write addresses such as "
        "desk@example.org, separated by commas"
    ) in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["desk.xlsx"]


def test_an_email_template_may_list_the_attachments(runner: CliRunner, tmp_path: Path) -> None:
    template = tmp_path / "house.txt"
    template.write_text(
        "{{ handling }}\n{% for a in attachments %}{{ a.name }} ({{ a.about }})\n{% endfor %}",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["template", "check", str(template)])
    assert (result.exit_code, result.stdout) == (0, f"{template}: no problems found\n")
