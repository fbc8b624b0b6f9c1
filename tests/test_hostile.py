"""Hostile and unlucky input across every command: one clear line, nothing lost, no traceback."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import openpyxl
import pytest
from openpyxl.utils.datetime import CALENDAR_MAC_1904
from typer.testing import CliRunner

from briefing.cli import app
from briefing.pipeline import load_dossier
from briefing.schema import DemandRow, FigureRow, SourceRow
from briefing.text import PartialDate
from briefing.workbook import read_workbook, workbook_bytes
from tests.conftest import (
    LISTENER,
    NOT_WORKBOOKS,
    BadFile,
    PartChange,
    add_relationship,
    add_to_body,
    add_to_paragraph_end,
    cell,
    complex_field,
    coordinate,
    csv_file,
    escape_text,
    extra_cell,
    field_cell,
    relationship,
    relationships,
    simple_field,
    template_with,
    with_doctype,
    wordprocessing_part,
)

MakeWorkbook = Callable[..., Path]


BAD_FILES = [pytest.param(make, id=name) for name, make in NOT_WORKBOOKS.items()]


@pytest.mark.parametrize("make", BAD_FILES)
@pytest.mark.parametrize(
    "command",
    [
        pytest.param(["check"], id="check"),
        pytest.param(["check", "--json"], id="check-json"),
        pytest.param(["build"], id="build"),
        pytest.param(["template", "check"], id="template-check"),
        pytest.param(["extract"], id="extract"),
    ],
)
def test_bad_files_end_in_one_line_for_every_command(
    runner: CliRunner, tmp_path: Path, make: BadFile, command: list[str]
) -> None:
    suffix = ".docx" if command[0] == "template" else ".txt" if command[0] == "extract" else ".xlsx"
    path = tmp_path / f"input{suffix}"
    if command[0] == "extract" and make is csv_file:
        pytest.skip("a CSV is readable text: extract takes it as an article")
    make(path)
    out = tmp_path / ("out.xlsx" if command[0] == "extract" else "out.docx")
    extra = ["-o", str(out)] if command[0] in ("build", "extract") else []
    result = runner.invoke(app, [*command, str(path), *extra])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    if command == ["check", "--json"]:
        assert result.stdout.startswith('{"file": ')
        return
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"Error: {path}: ")
    assert not out.exists()


def test_unreadable_by_permission(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, runner: CliRunner
) -> None:
    # Root reads any file (CI runs as root), so the refusal is simulated at the open call.
    path = tmp_path / "desk.xlsx"
    path.write_bytes(workbook_bytes({}, {}))
    original = Path.open

    def refuse(
        self: Path,
        mode: str = "r",
        buffering: int = -1,
        encoding: str | None = None,
        errors: str | None = None,
        newline: str | None = None,
    ) -> IO[Any]:
        if self == path:
            raise PermissionError(13, "Permission denied")
        return original(self, mode, buffering, encoding, errors, newline)

    monkeypatch.setattr(Path, "open", refuse)
    result = runner.invoke(app, ["check", str(path)])
    assert (result.exit_code, result.stderr) == (
        1,
        f"Error: {path}: cannot be read (Permission denied)\n",
    )


def test_1904_based_workbook_reads_real_dates(make_workbook: MakeWorkbook) -> None:
    path = make_workbook()
    book = openpyxl.load_workbook(path)
    book.epoch = CALENDAR_MAC_1904
    date = coordinate("Figures", "Date", 2)
    book["Figures"][date] = dt.datetime(2024, 6, 13)  # noqa: DTZ001 - Excel cells hold no time zone
    book.save(path)
    assert load_dossier(path).rows(FigureRow)[0].date == PartialDate(2024, 6, 13)


def test_very_long_text_reaches_the_memo(
    make_workbook: MakeWorkbook, tmp_path: Path, runner: CliRunner
) -> None:
    from tests.conftest import memo_text

    long_text = "word " * 6000
    path = make_workbook({field_cell("BLUF"): long_text})
    out = tmp_path / "memo.docx"
    assert runner.invoke(app, ["build", str(path), "-o", str(out)]).exit_code == 0
    assert long_text.strip() in memo_text(out)


def test_excel_carriage_return_escapes(make_workbook: MakeWorkbook) -> None:
    path = make_workbook({field_cell("BLUF"): "first_x000D_\nsecond"})
    assert load_dossier(path).briefing.bluf == "first\nsecond"


def test_spaces_around_ids_choices_and_references(make_workbook: MakeWorkbook) -> None:
    dossier = load_dossier(
        make_workbook(
            {
                cell("Sources", "ID", 2): " S1\u00a0",
                cell("Demands", "Source", 2): "  S1 ",
                cell("Demands", "Party", 2): " russia ",
            }
        )
    )
    assert (
        dossier.rows(SourceRow)[0].id,
        dossier.rows(DemandRow)[0].source,
        dossier.rows(DemandRow)[0].party,
    ) == (
        "S1",
        "S1",
        "Russia",
    )


def test_hidden_sheets_rows_filters_and_short_tables_are_all_read(
    make_workbook: MakeWorkbook,
) -> None:
    path = make_workbook()
    book = openpyxl.load_workbook(path)
    figures = book["Figures"]
    figures.sheet_state = "hidden"
    figures.row_dimensions[3].hidden = True
    figures.auto_filter.ref = "A1:O8"
    figures.tables["FiguresTable"].ref = "A1:O4"  # the table stops short of the last rows
    book.save(path)
    assert [f.id for f in load_dossier(path).rows(FigureRow)] == [
        "F1",
        "F2",
        "F3",
        "F4",
        "F5",
        "F6",
        "F7",
    ]


def test_extra_sheets_and_columns_are_ignored(make_workbook: MakeWorkbook) -> None:
    analyst = extra_cell("Figures", 1)
    path = make_workbook({analyst: "Analyst", extra_cell("Figures", 2): "AB"})
    book = openpyxl.load_workbook(path)
    book.create_sheet("Scratch")["A1"] = "notes"
    book.save(path)
    raw = read_workbook(path)
    assert [s.name for s in raw.sheets][-1] == "Scratch"
    assert [str(p) for p in load_dossier(path).problems] == [
        f"{analyst}: warning: column 'Analyst' is not part of the schema and is ignored"
    ]


# ------------------------------------------------------------------ templates that link out
# A memo never reaches out: each way a template can make Word or LibreOffice fetch something
# ends build and template check in the one line naming the part and the target.
REMOVE_LINK = "remove the link in Word and save again"
REMOVE_FIELD = "remove the field in Word (Alt+F9 shows field codes) and save again"
UNSAFE = (
    "declares a DOCTYPE or XML entities, which Word never writes; the template is refused as unsafe"
)
WRITES_INTO_MEMO = "a memo never reaches out, so remove what writes it"
FIELD_BY_SAFE = (
    "{{ '</w:t></w:r>"
    f'<w:fldSimple w:instr="INCLUDEPICTURE {LISTENER}/pixel.png">'
    "<w:r><w:t>x</w:t></w:r></w:fldSimple><w:r><w:t>' | safe }}"
)

LINKING_TEMPLATES = [
    pytest.param(
        {
            "word/_rels/document.xml.rels": add_relationship(
                relationship("image", f"{LISTENER}/logo.png")
            )
        },
        f"word/_rels/document.xml.rels links to {LISTENER}/logo.png (an external image); "
        + REMOVE_LINK,
        id="external-image",
    ),
    pytest.param(
        {
            "word/_rels/document.xml.rels": add_relationship(
                relationship("image", f"{LISTENER}/logo.png", mode=None)
            )
        },
        f"word/_rels/document.xml.rels links to {LISTENER}/logo.png (an external image); "
        + REMOVE_LINK,
        id="address-as-internal-target",
    ),
    pytest.param(
        {
            "word/_rels/footer1.xml.rels": relationships(
                relationship("hyperlink", "https://desk.example/about")
            )
        },
        "word/_rels/footer1.xml.rels links to https://desk.example/about (a hyperlink); "
        + REMOVE_LINK,
        id="hyperlink-in-footer",
    ),
    pytest.param(
        {
            "word/_rels/settings.xml.rels": relationships(
                relationship("attachedTemplate", r"\\fileserver\templates\Memo.dotm")
            )
        },
        r"word/_rels/settings.xml.rels links to \\fileserver\templates\Memo.dotm (an attached "
        "template); attach the Normal template instead in Word (Developer > Document Template) "
        "and save again",
        id="attached-template",
    ),
    pytest.param(
        {
            "word/header1.xml": add_to_paragraph_end(
                complex_field(" INCLUDE", f'PICTURE "{LISTENER}/pixel.png" \\d ')
            )
        },
        f"word/header1.xml links to {LISTENER}/pixel.png (an INCLUDEPICTURE field); "
        + REMOVE_FIELD,
        id="includepicture-in-header-split-across-runs",
    ),
    pytest.param(
        {"word/document.xml": add_to_body(simple_field(f'includetext "{LISTENER}/terms.docx"'))},
        f"word/document.xml links to {LISTENER}/terms.docx (an INCLUDETEXT field); " + REMOVE_FIELD,
        id="includetext-in-body",
    ),
    pytest.param(
        {
            "word/footer1.xml": add_to_paragraph_end(
                complex_field(f'LINK Excel.Sheet.12 "{LISTENER}/figures.xlsx" "Sheet1!R1C1" \\a')
            )
        },
        f"word/footer1.xml links to {LISTENER}/figures.xlsx (a LINK field); " + REMOVE_FIELD,
        id="link-in-footer",
    ),
    pytest.param(
        {
            "word/footnotes.xml": wordprocessing_part(
                "footnotes", simple_field(r'INCLUDEPICTURE "\\fileserver\share\seal.png"')
            )
        },
        r"word/footnotes.xml links to \\fileserver\share\seal.png (an INCLUDEPICTURE field); "
        + REMOVE_FIELD,
        id="includepicture-in-footnotes",
    ),
    pytest.param(
        {"customXml/item1.xml": with_doctype(f"{LISTENER}/entity")},
        f"customXml/item1.xml {UNSAFE}",
        id="doctype-in-custom-xml",
    ),
    pytest.param(
        {"word/document.xml": with_doctype("file:///etc/passwd")},
        f"word/document.xml {UNSAFE}",
        id="entity-in-document",
    ),
    pytest.param(
        {"word/document.xml": add_to_body(f"<w:r><w:t>{escape_text(FIELD_BY_SAFE)}</w:t></w:r>")},
        f"the template writes a link to {LISTENER}/pixel.png (an INCLUDEPICTURE field) into "
        f"the memo's word/document.xml; {WRITES_INTO_MEMO}",
        id="field-written-by-safe",
    ),
]


@pytest.mark.parametrize(("changes", "expected"), LINKING_TEMPLATES)
@pytest.mark.parametrize("command", ["build", "template-check"])
def test_a_template_that_links_out_is_refused(
    runner: CliRunner,
    example_workbook: Path,
    tmp_path: Path,
    changes: dict[str, PartChange],
    expected: str,
    command: str,
) -> None:
    template = template_with(tmp_path / "linked.docx", changes)
    out = tmp_path / "memo.docx"
    arguments = (
        ["build", str(example_workbook), "-t", str(template), "-o", str(out)]
        if command == "build"
        else ["template", "check", str(template)]
    )
    result = runner.invoke(app, arguments)
    assert (result.exit_code, result.stderr) == (1, f"Error: {template}: {expected}\n")
    assert not out.exists()


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param(
            {"word/document.xml": add_to_body(complex_field('HYPERLINK \\l "annex"'))},
            id="hyperlink-field-to-a-bookmark",
        ),
        pytest.param(
            {"word/document.xml": add_to_body(simple_field('DATE \\@ "d MMMM yyyy"'))},
            id="date-field",
        ),
        pytest.param(
            {
                "word/document.xml": add_to_body(
                    "<w:r><w:t>INCLUDEPICTURE http://x/y.png</w:t></w:r>"
                )
            },
            id="field-name-as-plain-text",
        ),
    ],
)
def test_fields_and_text_that_stay_in_the_document_are_kept(
    runner: CliRunner, example_workbook: Path, tmp_path: Path, changes: dict[str, PartChange]
) -> None:
    template = template_with(tmp_path / "fine.docx", changes)
    out = tmp_path / "memo.docx"
    build = runner.invoke(
        app, ["build", str(example_workbook), "-t", str(template), "-o", str(out)]
    )
    assert build.exit_code == 0, build.stderr
    check = runner.invoke(app, ["template", "check", str(template)])
    assert (check.exit_code, check.stdout) == (0, f"{template}: no problems found\n")
