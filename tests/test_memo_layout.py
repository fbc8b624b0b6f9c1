"""The memo as its reader gets it: two pages that brief, annexes that prove, links that work."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import zipfile
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn
from typer.testing import CliRunner

from briefing.cli import app
from briefing.output import font_substitutions
from briefing.pipeline import build_memo, example_records
from tests.conftest import (
    SEED_WORKBOOK,
    cell,
    memo_text,
    needs_office,
    needs_pdftotext,
)

RECORD_ID = re.compile(r"\b([DRFJ]\d+)\b")


@pytest.fixture(scope="module")
def seed_memo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_memo(SEED_WORKBOOK, tmp_path_factory.mktemp("seed") / "memo.docx").path


def body_and_annexes(memo: Path) -> tuple[str, str]:
    text = memo_text(memo)
    body, _, annexes = text.partition("\nAnnexes\n")
    assert annexes, "the memo has annexes"
    return body, annexes


def unfollowable_ids(memo: Path) -> set[str]:
    """Record IDs the body prints that no annex row (nor key judgment) prints beside its record."""
    body, annexes = body_and_annexes(memo)
    printed = set(RECORD_ID.findall(body))
    assert printed, "the body prints record IDs"
    rows = {line.split(" | ")[0] for line in annexes.splitlines() if " | " in line}
    statements = set(re.findall(r"^(R\d+)[,.]", annexes, re.MULTILINE))
    judgments = set(re.findall(r"^(J\d+)\. ", body, re.MULTILINE))
    return printed - rows - statements - judgments


def test_every_record_id_the_body_prints_is_printed_beside_its_record(seed_memo: Path) -> None:
    body, _ = body_and_annexes(seed_memo)
    assert {"J1", "D1", "R1", "F1"} <= set(RECORD_ID.findall(body))
    assert unfollowable_ids(seed_memo) == set()


@pytest.mark.parametrize("days", [1, 7], ids=["day", "week"])
def test_a_dated_edition_prints_no_id_from_outside_its_window(tmp_path: Path, days: int) -> None:
    workbooks = Path(__file__).resolve().parent.parent / "workbooks"
    memo = build_memo(
        workbooks / "desk-2024-06-made-up-figures.xlsx",
        tmp_path / "desk.docx",
        memo_date=dt.date(2024, 6, 14),
        days=days,
        since=workbooks / "desk-2024-06-made-up-figures-as-of-2024-06-13.xlsx",
    ).path
    assert unfollowable_ids(memo) == set()
    assert "outside this edition" in memo_text(memo)


def test_no_analyst_note_and_no_straight_double_quote_reaches_the_reader(seed_memo: Path) -> None:
    records, _ = example_records()
    notes = [row["Note"] for rows in records.values() for row in rows if row.get("Note")]
    assert notes  # the seed has analysts' notes
    text = memo_text(seed_memo)
    assert [note for note in notes if str(note)[:40] in text] == []
    assert '"' not in text


def test_the_handling_label_is_set_in_its_colour_on_black(seed_memo: Path) -> None:
    with zipfile.ZipFile(seed_memo) as package:
        for part in ("word/header1.xml", "word/footer1.xml"):
            xml = package.read(part).decode()
            run = re.search(r"<w:r>(?:(?!</w:r>).)*TLP:CLEAR</w:t></w:r>", xml)
            assert run is not None, part
            assert '<w:color w:val="FFFFFF"/>' in run[0]
            assert '<w:shd w:val="clear" w:color="auto" w:fill="000000"/>' in run[0]
        footer = package.read("word/footer1.xml").decode()
    assert "Disclosure is not limited." in footer


def test_source_markers_link_to_the_sources_annex(seed_memo: Path) -> None:
    document = Document(str(seed_memo))
    body = document.element.body
    bookmarks = [b.get(qn("w:name")) for b in body.iter(qn("w:bookmarkStart"))]
    links = {link.get(qn("w:anchor")) for link in body.iter(qn("w:hyperlink"))}
    assert bookmarks == ["source_S1"]
    assert links == {"source_S1"}


def test_source_addresses_are_hyperlinks_that_break_at_slashes(
    make_workbook: object, tmp_path: Path
) -> None:
    assert callable(make_workbook)
    url = "https://example.org/news/2024-06-14/putin-terms"
    path = make_workbook({cell("Sources", "URL", 2): url})
    memo = build_memo(path, tmp_path / "memo.docx").path
    document = Document(str(memo))
    external = [rel.target_ref for rel in document.part.rels.values() if rel.is_external]
    assert external == [url]
    shown = memo_text(memo)
    assert "https:/\u200b/\u200bexample.org/\u200bnews/\u200b2024\u201106\u201114/\u200b" in shown


def test_the_application_is_briefing_and_no_thumbnail_is_left(seed_memo: Path) -> None:
    with zipfile.ZipFile(seed_memo) as package:
        names = package.namelist()
        application = package.read("docProps/app.xml").decode()
    assert "<Application>briefing</Application>" in application
    assert not [name for name in names if "thumbnail" in name or "stylesWithEffects" in name]


def test_the_template_keeps_only_the_styles_it_uses() -> None:
    template = Path(__file__).resolve().parent.parent / "templates" / "memo.docx"
    with zipfile.ZipFile(template) as package:
        styles = re.findall(r'w:styleId="([^"]+)"', package.read("word/styles.xml").decode())
    assert len(styles) < 30
    assert {"Normal", "Title", "Heading1", "Heading2", "Heading3", "ListBullet"} <= set(styles)


@pytest.mark.skipif(
    subprocess.run(["which", "fc-match"], capture_output=True, check=False).returncode != 0,
    reason="fontconfig (fc-match) is not installed",
)
def test_a_font_the_machine_lacks_is_named_with_its_substitute() -> None:
    (missing,) = font_substitutions({"NoSuchFont Grotesk"})
    assert missing.startswith("NoSuchFont Grotesk (set in ")
    assert font_substitutions(set()) == []


@needs_office
@needs_pdftotext
def test_the_main_body_fits_two_pages_and_the_annexes_start_on_the_third(
    seed_memo: Path, tmp_path: Path
) -> None:
    subprocess.run(
        ["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(seed_memo)],
        capture_output=True,
        check=True,
        timeout=180,
    )
    pdf = tmp_path / "memo.pdf"
    pages = [
        subprocess.run(
            ["pdftotext", "-f", str(n), "-l", str(n), str(pdf), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for n in (1, 2, 3)
    ]
    assert "Outlook: what to watch" in pages[1]
    assert "Annexes" not in pages[0] + pages[1]
    assert "Annexes\nAnnex A. Demands" in pages[2]


@needs_office
def test_pdf_warns_when_libreoffice_lacks_the_memo_font(
    runner: CliRunner, example_workbook: Path, tmp_path: Path
) -> None:
    template = tmp_path / "house.docx"
    source = Path(__file__).resolve().parent.parent / "templates" / "memo.docx"
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(template, "w") as copy:
        for item in original.infolist():
            data = original.read(item)
            if item.filename == "word/styles.xml":
                data = data.replace(b"Calibri", b"NoSuchFont Grotesk")
            copy.writestr(item, data)
    out = tmp_path / "memo.docx"
    result = runner.invoke(
        app, ["build", str(example_workbook), "-o", str(out), "-t", str(template), "--pdf"]
    )
    assert result.exit_code == 0, result.output
    (warning,) = [line for line in result.stderr.splitlines() if "LibreOffice had no" in line]
    assert warning.startswith(f"warning: {tmp_path / 'memo.pdf'}: LibreOffice had no NoSuchFont")
    assert "install the font or its metric twin (Carlito for Calibri" in warning
    assert (tmp_path / "memo.pdf").exists()
