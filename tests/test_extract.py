"""`briefing extract`: candidates from an article, written as text, without losing anything."""

from __future__ import annotations

import datetime as dt
import shutil
import zipfile
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

import openpyxl
import pytest
from openpyxl.cell.cell import Cell
from openpyxl.styles import PatternFill
from typer.testing import CliRunner

from briefing.cli import app
from briefing.errors import ExtractError, OutputError, UnreadableText, WorkbookNotAppendable
from briefing.extract import extract_article, fresh_ids, sentences
from briefing.pipeline import check_workbook, extract_candidates, load_dossier
from briefing.schema import SCHEMA, FigureRow, Layout
from briefing.workbook import read_workbook, workbook_bytes
from tests.conftest import (
    SEED_ARTICLE,
    SEED_CANDIDATES,
    cell,
    column_letter,
    coordinate,
    extra_cell,
    field_row,
    strict_copy,
)

RECORD_SPECS = [spec for spec in SCHEMA.sheets if spec.layout is Layout.RECORDS]
NOW = dt.datetime(2024, 6, 15, 9, 30, tzinfo=dt.UTC)
# The article's date as a cell holds it: Excel dates hold no time zone.
PUBLISHED = dt.datetime(2024, 6, 14)  # noqa: DTZ001 - a cell's value
ARTICLE_TEXT = SEED_ARTICLE.read_text(encoding="utf-8")


@pytest.fixture
def article(tmp_path: Path) -> Path:
    return Path(shutil.copy(SEED_ARTICLE, tmp_path / "article.txt"))


def test_every_figure_of_the_seed_article_is_a_candidate() -> None:
    found = extract_article(ARTICLE_TEXT)
    values = Counter(row["Value"] for row in found.figures)
    # 87 drones; 3 injured in Belgorod; 14 missiles; 17 Shahed drones; 6 injured in Donetsk;
    # 3 women near Esman; 254 bodies returned.
    assert values >= Counter({87: 1, 3: 2, 14: 1, 17: 1, 6: 1, 254: 1})


@pytest.mark.parametrize(
    ("value", "metric", "claimed_by", "place"),
    [
        pytest.param(87, "Ukrainian drones shot down", "Russia", {}, id="87-drones"),
        pytest.param(14, "missiles", "Ukraine's air force", {}, id="14-missiles"),
        pytest.param(17, "Shahed drones", "Ukraine's air force", {}, id="17-drones"),
        pytest.param(6, "people injured", None, {"Region": "Donetsk region"}, id="6-injured"),
        pytest.param(254, "bodies of Ukrainian soldiers", None, {}, id="254-bodies"),
    ],
)
def test_figure_candidates_say_what_they_count(
    value: int, metric: str, claimed_by: str | None, place: dict[str, str]
) -> None:
    (row,) = [r for r in extract_article(ARTICLE_TEXT).figures if r["Value"] == value]
    assert row["Metric"] == metric
    assert row.get("Claimed by") == claimed_by
    assert {k: row[k] for k in place} == place
    assert row["Date"] == "2024-06-14"
    assert row["Review"] == "unreviewed"


def test_places_belong_to_their_number() -> None:
    rows = [r for r in extract_article(ARTICLE_TEXT).figures if r["Value"] == 3]
    belgorod, esman = rows
    assert (belgorod["Region"], belgorod["Country"]) == ("Belgorod region", "Russia")
    assert (esman["Region"], esman["Location"], esman["Metric"]) == (
        "Sumy region",
        "Esman",
        "women",
    )


def test_reaction_candidates_name_their_speaker() -> None:
    speakers = {row["Actor"] for row in extract_article(ARTICLE_TEXT).reactions}
    assert {
        "Ukraine's Foreign Ministry",
        "Mykhailo Podolyak",
        "US Defense Secretary Lloyd Austin",
        "NATO Secretary-General Jens Stoltenberg",
        "Putin",
    } <= speakers


def test_every_candidate_quotes_a_sentence_of_the_article_verbatim() -> None:
    found = extract_article(ARTICLE_TEXT)
    article_sentences = set(sentences(ARTICLE_TEXT))
    for row in [*found.figures, *found.reactions, *found.demands]:
        assert row["Quote"] in article_sentences
        assert row["Quote"] in ARTICLE_TEXT


def test_demand_candidates_carry_a_party() -> None:
    demands = extract_article(ARTICLE_TEXT).demands

    def party_of(start: str) -> str | int | float:
        (row,) = [row for row in demands if str(row["Quote"]).startswith(start)]
        return row["Party"]

    assert party_of("Ukraine has its own set of demands") == "Ukraine"
    assert party_of("They also seek reparations from Moscow") == "Ukraine"
    assert party_of("Putin listed several demands for peace") == "Russia"


def test_extract_writes_a_new_workbook(article: Path, tmp_path: Path) -> None:
    target = tmp_path / "desk.xlsx"
    result = extract_candidates(article, target, now=NOW)
    assert (result.path, result.backup, result.source_id) == (target, None, "S1")
    assert result.counts == SEED_CANDIDATES
    book = openpyxl.load_workbook(target)
    source = [c.value for c in book["Sources"][2]]
    assert source[:4] == [
        "S1",
        "Putin promises ceasefire if Ukraine leaves occupied areas and gives up NATO aspirations.",
        None,
        PUBLISHED,
    ]
    assert source[5:9] == ["article.txt", "F", "6", "yes"]
    assert book["Briefing"][f"B{field_row('Date')}"].value == PUBLISHED
    assert book["Figures"][coordinate("Figures", "ID", 2)].value == "F1"
    # Everything waits for review, so the workbook has nothing to complain of but the
    # Briefing fields an analyst must fill in.
    errors = [p for p in check_workbook(target).problems if p.is_error]
    assert {p.sheet for p in errors} == {"Briefing"}


def test_reviewed_candidates_are_checked_against_the_article(article: Path, tmp_path: Path) -> None:
    target = tmp_path / "desk.xlsx"
    extract_candidates(article, target, now=NOW)
    book = openpyxl.load_workbook(target)
    figures = book["Figures"]
    row = next(r for r in range(2, 12) if figures[coordinate("Figures", "Value", r)].value == 87)
    figures[coordinate("Figures", "Review", row)] = None  # reviewed: it counts, its quote checked
    quote = coordinate("Figures", "Quote", row)
    figures[quote] = figures[quote].value.replace("87", "78")
    book.save(target)
    problems = [str(p) for p in check_workbook(target).problems if p.sheet == "Figures" and p.cell]
    assert problems == [
        f"{cell('Figures', 'Value', row)}: the value 87 does not appear in its quote ({quote}); "
        "check the number or the quote",
        f'Figures!{quote}: quote not found in source S1; closest passage: "On the same day, '
        "there was intense fighting between Russian and Ukrainian forces, with Russia "
        'claiming to have shot down 87 Ukrainian drones."',
    ]


def test_extract_adds_to_a_workbook_and_keeps_everything(
    article: Path, example_workbook: Path
) -> None:
    before_bytes = example_workbook.read_bytes()
    before = read_workbook(example_workbook)
    result = extract_candidates(article, example_workbook, "S7", now=NOW)
    assert result.backup == example_workbook.with_name("desk.backup-20240615-093000.xlsx")
    assert result.backup.read_bytes() == before_bytes
    after = read_workbook(example_workbook)
    for old in before.sheets:
        new = after.sheet(old.name)
        assert new is not None
        assert new.headers[: len(old.headers)] == old.headers
        assert new.rows[: len(old.rows)] == old.rows
    figures = after.sheet("Figures")
    assert figures is not None
    assert len(figures.rows) == 7 + 8
    # IDs continue after the analyst's
    assert figures.rows[7].cells[column_letter("Figures", "ID")].value == "F8"
    assert figures.rows[7].cells[column_letter("Figures", "Source")].value == "S7"
    # The analyst's records still build: the candidates wait for review.
    dossier = load_dossier(example_workbook)
    assert [f.id for f in dossier.rows(FigureRow)] == ["F1", "F2", "F3", "F4", "F5", "F6", "F7"]
    table = openpyxl.load_workbook(example_workbook)["Figures"].tables["FiguresTable"]
    last = column_letter("Figures", SCHEMA.sheet("Figures").columns[-1].header)
    assert table.ref == f"A1:{last}16"


def cell_style(cell: Cell) -> tuple[object, ...]:
    """Everything a cell's look is made of, comparable between workbooks (openpyxl's reprs
    list every attribute of a font, fill, border, alignment and protection)."""
    looks = (cell.font, cell.fill, cell.border, cell.alignment, cell.protection)
    return (*map(repr, looks), cell.number_format)


def body_styles(
    path: Path, below: Mapping[str, int] | None = None
) -> dict[tuple[str, int, bool], set[tuple[object, ...]]]:
    """The styles of the record sheets' cells below the header (or the row `below` names), by
    sheet, column and whether the cell holds a date."""
    book = openpyxl.load_workbook(path)
    styles: dict[tuple[str, int, bool], set[tuple[object, ...]]] = {}
    for spec in RECORD_SPECS:
        first_row = (below or {}).get(spec.name, 1) + 1
        for row in book[spec.name].iter_rows(min_row=first_row):
            for found in row:
                assert isinstance(found, Cell)
                if found.value is None and not found.has_style:
                    continue  # no cell: added rows hold only the values they have
                key = (spec.name, found.column, isinstance(found.value, dt.date))
                styles.setdefault(key, set()).add(cell_style(found))
    return styles


@pytest.mark.parametrize("into", ["new", "existing"], ids=["new workbook", "added rows"])
def test_candidate_rows_look_as_init_writes_rows(
    article: Path, example_workbook: Path, tmp_path: Path, into: str
) -> None:
    written_by_init = body_styles(example_workbook)
    book = openpyxl.load_workbook(example_workbook)
    last_rows = {spec.name: book[spec.name].max_row for spec in RECORD_SPECS}
    target = tmp_path / "new.xlsx" if into == "new" else example_workbook
    extract_candidates(article, target, "S7", now=NOW)
    candidates = body_styles(target, last_rows if into == "existing" else None)
    shared = written_by_init.keys() & candidates.keys()
    # Every column is compared, dates apart from text: Sources and Figures have both kinds.
    assert {(sheet, is_date) for sheet, _, is_date in shared} >= {
        ("Sources", True),
        ("Sources", False),
        ("Figures", True),
        ("Figures", False),
    }
    assert {sheet for sheet, _, _ in candidates} == {"Sources", "Figures", "Reactions", "Demands"}
    for key in sorted(shared):
        assert candidates[key] == written_by_init[key], key


def test_added_rows_keep_the_formatting_of_cells_below_the_records(
    article: Path, example_workbook: Path
) -> None:
    book = openpyxl.load_workbook(example_workbook)
    below = book["Figures"][coordinate("Figures", "Quote", 9)]  # the row after the seven figures
    below.fill = PatternFill("solid", start_color="FFFF00", end_color="FFFF00")
    book.save(example_workbook)
    extract_candidates(article, example_workbook, "S7", now=NOW)
    kept = openpyxl.load_workbook(example_workbook)["Figures"][below.coordinate]
    assert kept.value is not None
    assert kept.fill.fgColor.rgb == "00FFFF00"
    assert kept.alignment.wrap_text
    assert kept.alignment.vertical == "top"


def test_extract_refuses_a_workbook_open_in_excel(article: Path, example_workbook: Path) -> None:
    before = example_workbook.read_bytes()
    (example_workbook.parent / "~$desk.xlsx").write_bytes(b"owner")
    with pytest.raises(OutputError) as caught:
        extract_candidates(article, example_workbook, now=NOW)
    assert str(caught.value) == (
        f"{example_workbook}: the file is open in an office program (~$desk.xlsx is beside "
        "it); close it and try again"
    )
    assert example_workbook.read_bytes() == before
    assert sorted(p.name for p in example_workbook.parent.iterdir()) == [
        "article.txt",
        "desk.xlsx",
        "~$desk.xlsx",
    ]


def test_extract_refuses_a_taken_source_id(article: Path, example_workbook: Path) -> None:
    with pytest.raises(ExtractError) as caught:
        extract_candidates(article, example_workbook, "S1", now=NOW)
    assert str(caught.value) == (
        f"{example_workbook}: the ID S1 is taken already; choose another --source-id"
    )


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        pytest.param(lambda p: None, "the article does not exist; give a text file", id="missing"),
        pytest.param(lambda p: p.mkdir(), "the article is a folder; give a text file", id="dir"),
        pytest.param(
            lambda p: p.write_bytes(b"\xff\xfe\xfa bad"),
            "the article is not UTF-8 text; save it as UTF-8 text",
            id="not-utf8",
        ),
    ],
)
def test_articles_that_cannot_be_read(tmp_path: Path, make: object, expected: str) -> None:
    path = tmp_path / "article.txt"
    make(path)  # type: ignore[operator]
    with pytest.raises(UnreadableText) as caught:
        extract_candidates(path, tmp_path / "desk.xlsx")
    assert str(caught.value) == f"{path}: {expected}"
    assert not (tmp_path / "desk.xlsx").exists()


def test_hostile_article_gives_a_workbook_with_no_formula(tmp_path: Path) -> None:
    hostile = tmp_path / "hostile.txt"
    hostile.write_text(
        "Hostile headline\n"
        "June 14th 2024.\n"
        "=cmd|' /C calc'!A0 said the 3 attackers.\n"
        "@SUM(1+1) stated that 5 drones fell.\n"
        "+1 warned the ministry about 7 more.\n"
        "Control\x07characters\x1b and \x00 nulls said 9 officials.\n" + "x" * 40_000 + "\n",
        encoding="utf-8",
    )
    target = tmp_path / "desk.xlsx"
    result = extract_candidates(hostile, target, now=NOW)
    assert result.skipped == 1
    with zipfile.ZipFile(target) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in archive.read(name), name
    quotes = [
        cell.value
        for cell in openpyxl.load_workbook(target)["Figures"][column_letter("Figures", "Quote")]
        if isinstance(cell.value, str)
    ]
    assert "=cmd|' /C calc'!A0 said the 3 attackers." in quotes
    assert "@SUM(1+1) stated that 5 drones fell." in quotes
    assert "Controlcharacters and  nulls said 9 officials." in quotes


def test_extract_cli(runner: CliRunner, article: Path, tmp_path: Path) -> None:
    target = tmp_path / "desk.xlsx"
    result = runner.invoke(app, ["extract", str(article), "-o", str(target)])
    assert result.exit_code == 0
    assert result.stdout == (
        f"Wrote {target}: 8 figures, 19 reactions and 10 demands from source S1, each "
        "marked unreviewed\n"
    )
    second = Path(shutil.copy(article, tmp_path / "second.txt"))
    again = runner.invoke(app, ["extract", str(second), "-o", str(target)])
    assert again.exit_code == 0
    assert again.stdout.splitlines()[0] == (
        f"Wrote {target}: 8 figures, 19 reactions and 10 demands from source S2, each "
        "marked unreviewed"
    )
    assert again.stdout.splitlines()[1].startswith(f"Kept the earlier workbook as {tmp_path}/")


def test_the_same_article_is_not_extracted_twice(article: Path, tmp_path: Path) -> None:
    target = tmp_path / "desk.xlsx"
    extract_candidates(article, target, now=NOW)
    before = target.read_bytes()
    with pytest.raises(ExtractError) as caught:
        extract_candidates(article, target, now=NOW)
    assert str(caught.value) == (
        f"{target}: the article is already a source (S1 at {cell('Sources', 'File', 2)}); "
        "delete that row and its candidates to extract it again"
    )
    assert target.read_bytes() == before


@pytest.mark.parametrize("source_id", ["", "S 2", "S1,S2", "=S2"])
def test_unusable_source_ids(article: Path, tmp_path: Path, source_id: str) -> None:
    with pytest.raises(ExtractError) as caught:
        extract_candidates(article, tmp_path / "desk.xlsx", source_id)
    assert str(caught.value) == (
        f"{source_id!r}: not a usable source ID; use letters and digits, such as S2"
    )


def test_an_empty_article(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("\n  \n", encoding="utf-8")
    with pytest.raises(ExtractError) as caught:
        extract_candidates(empty, tmp_path / "desk.xlsx")
    assert str(caught.value) == f"{empty}: the article has no text; give the article's text"
    assert not (tmp_path / "desk.xlsx").exists()


def test_extract_below_a_title_row(article: Path, example_workbook: Path) -> None:
    book = openpyxl.load_workbook(example_workbook)
    book["Figures"].insert_rows(1, amount=2)
    book["Figures"]["A1"] = "Battlefield figures"
    book.save(example_workbook)
    extract_candidates(article, example_workbook, now=NOW)
    book = openpyxl.load_workbook(example_workbook)
    assert [c.value for c in book["Figures"][1]][:2] == ["Battlefield figures", None]
    assert book["Figures"][coordinate("Figures", "ID", 3)].value == "ID"
    assert book["Figures"][coordinate("Figures", "ID", 11)].value == "F8"  # after F1 to F7
    dossier = load_dossier(example_workbook)
    assert [f.id for f in dossier.rows(FigureRow)] == ["F1", "F2", "F3", "F4", "F5", "F6", "F7"]


def test_extract_refuses_a_workbook_with_formulas(article: Path, example_workbook: Path) -> None:
    book = openpyxl.load_workbook(example_workbook)
    formula = extra_cell("Figures", 2)
    book["Figures"][formula.split("!")[1]] = f"={coordinate('Figures', 'Value', 2)}*2"
    book.save(example_workbook)
    before = example_workbook.read_bytes()
    with pytest.raises(WorkbookNotAppendable) as caught:
        extract_candidates(article, example_workbook, now=NOW)
    assert str(caught.value) == (
        f"{example_workbook}: the workbook has formulas ({formula}), whose saved values would be "
        "lost; extract into a new workbook (-o new.xlsx) and copy the rows across"
    )
    assert example_workbook.read_bytes() == before


def test_extract_refuses_to_drop_what_openpyxl_cannot_keep(
    article: Path, example_workbook: Path
) -> None:
    # A picture part openpyxl does not carry over when it saves the workbook again.
    with zipfile.ZipFile(example_workbook, "a") as archive:
        archive.writestr("xl/media/image1.png", b"\x89PNG\r\n\x1a\n" + bytes(64))
    before = example_workbook.read_bytes()
    with pytest.raises(WorkbookNotAppendable) as caught:
        extract_candidates(article, example_workbook, now=NOW)
    assert str(caught.value) == (
        f"{example_workbook}: adding rows would drop what openpyxl cannot keep (pictures); "
        "extract into a new workbook (-o new.xlsx) and copy the rows across"
    )
    assert example_workbook.read_bytes() == before
    assert not list(example_workbook.parent.glob("*.backup-*"))


def test_extract_adds_rows_beside_an_empty_drawing(article: Path, example_workbook: Path) -> None:
    # LibreOffice saves one with every workbook; openpyxl leaves it out, and nothing is lost.
    with zipfile.ZipFile(example_workbook, "a") as archive:
        archive.writestr(
            "xl/drawings/drawing1.xml",
            '<xdr:wsDr xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/'
            'spreadsheetDrawing"></xdr:wsDr>',
        )
    result = extract_candidates(article, example_workbook, now=NOW)
    assert result.counts == SEED_CANDIDATES


@pytest.mark.no_oracle  # openpyxl reads no sheets from Strict Open XML
def test_extract_refuses_a_strict_open_xml_workbook(article: Path, example_workbook: Path) -> None:
    strict = strict_copy(example_workbook, example_workbook.with_name("strict.xlsx"))
    before = strict.read_bytes()
    with pytest.raises(WorkbookNotAppendable) as caught:
        extract_candidates(article, strict, now=NOW)
    assert str(caught.value) == (
        f"{strict}: the workbook is saved as Strict Open XML, to which rows cannot be added "
        "without losing its sheets; open it in Excel and save it with File > Save As > Excel "
        "Workbook (.xlsx)"
    )
    assert strict.read_bytes() == before
    assert not list(strict.parent.glob("*.backup-*"))


def test_extract_fills_only_empty_briefing_fields(
    article: Path, tmp_path: Path, example_workbook: Path
) -> None:
    blank = tmp_path / "blank.xlsx"
    blank.write_bytes(workbook_bytes({}, {}))
    extract_candidates(article, blank, now=NOW)
    fields = openpyxl.load_workbook(blank)["Briefing"]
    assert fields[f"B{field_row('Title')}"].value.startswith("Putin promises ceasefire")
    assert fields[f"B{field_row('Date')}"].value == PUBLISHED
    assert fields[f"B{field_row('For')}"].value is None  # the analyst's to fill
    extract_candidates(Path(shutil.copy(article, tmp_path / "other.txt")), example_workbook)
    kept = openpyxl.load_workbook(example_workbook)["Briefing"]
    title = kept[f"B{field_row('Title')}"].value
    assert title == "Putin's ceasefire terms: surrender four regions and drop NATO bid"


def test_extract_into_an_unrelated_workbook_keeps_it(article: Path, tmp_path: Path) -> None:
    budget = tmp_path / "budget.xlsx"
    book = openpyxl.Workbook()
    sheet = book.worksheets[0]
    sheet.title = "Budget"
    sheet["A1"] = "Fuel"
    book.save(budget)
    before = budget.read_bytes()
    result = extract_candidates(article, budget, now=NOW)
    assert result.backup is not None
    assert result.backup.read_bytes() == before
    kept = openpyxl.load_workbook(budget)
    assert kept["Budget"]["A1"].value == "Fuel"
    assert kept["Figures"][coordinate("Figures", "ID", 2)].value == "F1"


def test_extract_matches_sheet_names_as_check_does(article: Path, example_workbook: Path) -> None:
    book = openpyxl.load_workbook(example_workbook)
    book["Figures"].title = "Figures "
    book.save(example_workbook)
    extract_candidates(article, example_workbook, now=NOW)
    names = openpyxl.load_workbook(example_workbook).sheetnames
    assert names.count("Figures ") == 1
    assert "Figures" not in names


@pytest.mark.parametrize(
    ("date_line", "published"),
    [
        pytest.param("14 June 2024", "2024-06-14", id="alone"),
        pytest.param("The Desk Wire, 14 June 2024", "2024-06-14", id="after-publisher"),
        pytest.param("The Desk Wire (A. Writer), June 14, 2024", "2024-06-14", id="month-first"),
        pytest.param("The Desk Wire", None, id="no-date"),
    ],
)
def test_the_date_line_gives_the_day(date_line: str, published: str | None) -> None:
    found = extract_article(f"Drones hit a depot\n{date_line}\n\nThe army said 12 drones fell.")
    assert (found.published.isoformat() if found.published else None) == published


@pytest.mark.parametrize(
    ("sentence", "day"),
    [
        pytest.param("The army said 12 drones fell overnight.", "2024-06-16", id="overnight"),
        pytest.param("The army said 12 drones fell on Saturday.", "2024-06-15", id="weekday"),
        pytest.param("The army said 12 drones fell on Sunday.", "2024-06-16", id="same-weekday"),
        pytest.param("The army said 12 drones fell yesterday.", "2024-06-15", id="yesterday"),
        pytest.param("The army said 12 drones fell on Jun. 9.", "2024-06-09", id="abbreviated"),
        pytest.param("The army said 12 drones fell on Dec. 30.", "2023-12-30", id="last-year"),
    ],
)
def test_figures_are_dated_against_the_date_line(sentence: str, day: str) -> None:
    # 16 June 2024 was a Sunday.
    found = extract_article(f"Drones hit a depot\nThe Desk Wire, 16 June 2024\n\n{sentence}")
    (figure,) = found.figures
    assert (figure["Value"], figure["Date"]) == (12, day)


def test_a_place_named_earlier_in_the_paragraph_holds_for_its_figures() -> None:
    text = (
        "Drones hit a depot\n16 June 2024\n\n"
        "Air raid sirens sounded in Sumy Oblast. Officials said 4 people were hurt.\n"
        "Elsewhere, the army said 9 drones were downed."
    )
    hurt, downed = extract_article(text).figures
    assert (hurt["Region"], hurt["Country"], hurt["Metric"]) == (
        "Sumy region",
        "Ukraine",
        "people hurt",
    )
    assert "Region" not in downed  # a new paragraph starts without a place


@pytest.mark.parametrize(
    ("sentence", "actor", "role"),
    [
        pytest.param(
            "Regional Gov. Ivan Petrenko of the Sumy region said 3 homes burned.",
            "Regional Gov. Ivan Petrenko",
            "of the Sumy region",
            id="speaker-of-a-place",
        ),
        pytest.param(
            "Deputy Head of the Presidential Office Ivan Petrenko said talks would go on.",
            "Deputy Head of the Presidential Office Ivan Petrenko",
            "",
            id="title-with-of",
        ),
    ],
)
def test_a_speaker_of_a_place_is_named_without_it(sentence: str, actor: str, role: str) -> None:
    (reaction,) = extract_article(f"Headline\n16 June 2024\n\n{sentence}").reactions
    assert (reaction["Actor"], reaction["Role"]) == (actor, role)


@pytest.mark.parametrize(
    ("sentence", "figures"),
    [
        pytest.param(
            "The ministry pledged £45 million for drones.",
            [(45_000_000, "GBP", "drones")],
            id="pounds-and-scale",
        ),
        pytest.param(
            "A deal worth USD 5.55 B was signed.", [(5_550_000_000, "USD", "")], id="code-and-B"
        ),
        pytest.param("Kyiv gets €1.5bn in loans.", [(1_500_000_000, "EUR", "loans")], id="euro-bn"),
        pytest.param(
            "The army loses 1,000 soldiers a day.",
            [(1000, "soldiers", "soldiers a day")],
            id="rate-kept-as-rate",
        ),
        pytest.param(
            "It pledged £3 billion annually in aid.",
            [(3_000_000_000, "GBP", "aid a year")],
            id="money-rate",
        ),
        pytest.param(
            "One ballistic missile and seven cruise missiles were launched.",
            [(1, "missile", "ballistic missile"), (7, "missiles", "cruise missiles launched")],
            id="one-among-counts",
        ),
        pytest.param(
            "Shelling killed two people and wounded four.",
            [(2, "people", "people killed"), (4, "people", "people wounded")],
            id="count-said-once",
        ),
        pytest.param(
            "Three people were injured in Kharkiv, and four in Chuhuiv.",
            [(3, "people", "people injured"), (4, "people", "people")],
            id="count-elided-before-a-place",
        ),
        pytest.param(
            "Air defences shot down eight of nine drones.",
            [(8, "drones", "drones shot down"), (9, "drones", "drones")],
            id="part-of-a-whole",
        ),
        pytest.param(
            "The strike left 3 dead and 12 injured.",
            [(3, "people", "people killed"), (12, "people", "people injured")],
            id="casualties-without-people",
        ),
        pytest.param(
            "Troops advanced 3 kilometres.", [(3, "km", "kilometres")], id="unit-abbreviated"
        ),
        pytest.param(
            "The swaps bring the number of prisoners freed this year to 1,400.",
            [(1400, "prisoners", "prisoners")],
            id="number-of",
        ),
        pytest.param(
            "One of the four aerial bombs hit a school.",
            [(4, "bombs", "aerial bombs hit")],
            id="verb-is-no-unit",
        ),
        pytest.param("The Group of Seven leaders met in Italy.", [], id="group-of-seven"),
        pytest.param(
            "Two F-16 jets and Su-34 bombers flew.", [(2, "jets", "F-16 jets")], id="F-16"
        ),
        pytest.param("The summit on June 15-16 ended.", [], id="date-range"),
        pytest.param(
            "Drones struck 5 of Russia's regions.",
            [(5, "regions", "regions")],
            id="part-of-a-country-s",
        ),
        pytest.param(
            "A strike killed one civilian and injured 6 others.",
            [(1, "people", "civilian killed"), (6, "people", "people injured")],
            id="one-casualty-and-others",
        ),
        pytest.param(
            "Air defences downed 10 of 14 missiles and one of the four drones.",
            [
                (10, "missiles", "missiles downed"),
                (14, "missiles", "missiles"),
                (1, "drones", "drones"),
                (4, "drones", "drones"),
            ],
            id="and-one-of-the-four",
        ),
        pytest.param(
            "Strikes kill 2, injure 9.",
            [(2, "people", "people killed"), (9, "people", "people injured")],
            id="headline-verbs",
        ),
        pytest.param(
            "Shelling killed 4 people, and 3 were still hospitalised.",
            [(4, "people", "people killed"), (3, "people", "people hospitalised")],
            id="bare-number-and-its-state",
        ),
        pytest.param(
            "Four soldiers were captured near Izium and two more near Lyman.",
            [(4, "soldiers", "soldiers captured"), (2, "soldiers", "soldiers captured")],
            id="two-more",
        ),
        pytest.param(
            "Talks between the two sides led to a swap of 90 prisoners each.",
            [(90, "prisoners", "swap of prisoners")],
            id="the-two-sides",
        ),
        pytest.param(
            "A 70-year-old man and two women aged 61 and 64 were hurt.",
            [(2, "women", "women")],
            id="ages",
        ),
        pytest.param(
            "The army said it downed three Kh-101 or Kh-555 cruise missiles.",
            [(3, "missiles", "Kh-101 cruise missiles downed")],
            id="model-or-model",
        ),
        pytest.param(
            "Air defences shot down two ballistic missiles and two cruise missiles.",
            [(2, "missiles", "ballistic missiles shot down"), (2, "missiles", "cruise missiles")],
            id="same-value-twice-in-a-sentence",
        ),
    ],
)
def test_numbers_as_news_writes_them(sentence: str, figures: list[tuple[float, str, str]]) -> None:
    found = extract_article(f"Headline\nThe Desk Wire, 16 June 2024\n\n{sentence}").figures
    assert [(row["Value"], row["Unit"], row["Metric"]) for row in found] == figures


def test_a_figure_the_headline_and_body_both_tell_is_proposed_once() -> None:
    text = (
        "Ukraine downs 8 drones over Odesa\nThe Desk Wire, 16 June 2024\n\n"
        "The air force said 8 drones were shot down over Odesa overnight. "
        "Later, officials repeated that 8 drones had been downed over Odesa."
    )
    (figure,) = extract_article(text).figures
    assert figure["Quote"] == "The air force said 8 drones were shot down over Odesa overnight."


@pytest.mark.parametrize(
    ("sentences", "speakers"),
    [
        pytest.param(
            "Talks go on, Foreign Minister Ivan Petrenko said on Friday.",
            [("Foreign Minister Ivan Petrenko", "")],
            id="name-before-verb-after-clause",
        ),
        pytest.param(
            "Forces hold the town, says Gen. Ivan Petrenko.",
            [("Gen. Ivan Petrenko", "")],
            id="verb-before-name",
        ),
        pytest.param(
            "According to Reuters, the talks stalled.", [("Reuters", "")], id="according-to"
        ),
        pytest.param(
            "The plan, according to a statement by the Defence Ministry, is ready.",
            [("Defence Ministry", "")],
            id="statement-by",
        ),
        pytest.param(
            "The ministry's envoy, Ivan Petrenko, said the talks stalled.",
            [("Ivan Petrenko", "The ministry's envoy")],
            id="apposition-before-name",
        ),
        pytest.param(
            "KYIV, Ukraine (AP) — Regional officials said a school burned.",
            [("Regional officials", "")],
            id="dateline",
        ),
        pytest.param(
            'Ivan Petrenko said talks would go on. "We will not stop. '
            'We will go on," the Ukrainian leader told reporters.',
            [("Ivan Petrenko", ""), ("Ivan Petrenko", "")],
            id="role-for-last-speaker",
        ),
        pytest.param("No casualties were reported.", [], id="passive-is-no-speaker"),
        pytest.param(
            "'We will rebuild,' Ivan Petrenko wrote.",
            [("Ivan Petrenko", "")],
            id="single-quotes",
        ),
        pytest.param(
            "Ivan Petrenko said talks would go on. Moscow wants “a full halt,” he added.",
            [("Ivan Petrenko", ""), ("Ivan Petrenko", "")],
            id="a-quotation-ends-a-clause",
        ),
        pytest.param(
            "Ukraine's air force downed 9 drones overnight, it said.",
            [("Ukraine's air force", "")],
            id="it-is-the-subject",
        ),
        pytest.param(
            "KYIV >> Regional officials said a school burned.",
            [("Regional officials", "")],
            id="dateline-with-arrows",
        ),
        pytest.param(
            "Governor Ivan Petrenko said talks went on. "
            "The governor of the Sumy region said a school burned.",
            [("Governor Ivan Petrenko", ""), ("governor of the Sumy region", "")],
            id="a-role-of-a-place-is-someone-else",
        ),
        pytest.param(
            "Governor Ivan Petrenko said a school burned. Olena Marchenko said roads were shut. "
            "According to the governor, power is back.",
            [
                ("Governor Ivan Petrenko", ""),
                ("Olena Marchenko", ""),
                ("Governor Ivan Petrenko", ""),
            ],
            id="the-role-is-the-last-who-had-it",
        ),
        pytest.param(
            "The Donetsk Military Administration reported shelling. "
            "Homes burned, the officials clarified.",
            [("Donetsk Military Administration", ""), ("Donetsk Military Administration", "")],
            id="the-officials-of-the-body-before",
        ),
        pytest.param(
            "Russia's Ministry of Defence confirmed the swap. "
            "'The men are safe,' the ministry said.",
            [("Russia's Ministry of Defence", ""), ("Russia's Ministry of Defence", "")],
            id="the-ministry",
        ),
        pytest.param(
            "Shelling hit a school in Sumy, its mayor said. Mayor Ivan Petrenko said more.",
            [("Mayor Ivan Petrenko", ""), ("Mayor Ivan Petrenko", "")],
            id="a-role-in-the-lede-named-after",
        ),
        pytest.param(
            "Roads were shut, regional governor Ivan Petrenko said.",
            [("Ivan Petrenko", "regional governor")],
            id="lower-case-title",
        ),
        pytest.param("Moscow did not say how many drones it launched.", [], id="did-not-say"),
        pytest.param("Kyiv hasn't confirmed the strike.", [], id="has-not-confirmed"),
        pytest.param(
            "Ivan Petrenko, speaking on television, said Russia is stalling talks.",
            [("Ivan Petrenko", "")],
            id="a-clause-after-said-is-no-name",
        ),
        pytest.param(
            "Ivan Petrenko urges allies to send jets, says Russia is stalling.",
            [("Ivan Petrenko", "")],
            id="headline-urges-and-says",
        ),
    ],
)
def test_speakers_as_news_names_them(sentences: str, speakers: list[tuple[str, str]]) -> None:
    found = extract_article(f"Headline\nThe Desk Wire, 16 June 2024\n\n{sentences}").reactions
    assert [(row["Actor"], row["Role"]) for row in found] == speakers


def test_a_role_in_the_lede_is_named_in_the_figures_too() -> None:
    text = (
        "Headline\nThe Desk Wire, 16 June 2024\n\n"
        "Shelling wounded 3 people in Sumy, its mayor said.\n"
        "Mayor Ivan Petrenko said a school burned."
    )
    (figure,) = extract_article(text).figures
    assert figure["Claimed by"] == "Mayor Ivan Petrenko"


def test_fresh_ids_number_on_from_the_highest_taken() -> None:
    taken = {"F1", "F7", "F07", "F7a", "S9", "F", "D12"}
    ids = fresh_ids("F", taken)
    assert [next(ids) for _ in range(3)] == ["F8", "F9", "F10"]
    assert next(fresh_ids("R", taken)) == "R1"


@pytest.mark.parametrize(
    ("sentence", "party"),
    [
        pytest.param(
            "Moscow demanded that Kyiv withdraw its troops.", "Russia", id="demanded-that"
        ),
        pytest.param("Kyiv demands Russia to pull out of Crimea.", "Ukraine", id="demands-x-to"),
        pytest.param(
            "Russia will stop on condition that Ukraine drops its NATO bid.",
            "Russia",
            id="on-condition-that",
        ),
        pytest.param(
            "Putin's conditions for a truce include a pledge on NATO.",
            "Russia",
            id="conditions-include",
        ),
        pytest.param(
            "Zelenskyy urged Ukraine’s partners to send more air defence.",
            "Ukraine",
            id="urged-to",
        ),
        pytest.param(
            "Kyiv wants to see Moscow's proposals before the talks.", "Ukraine", id="wants-to-see"
        ),
        pytest.param(
            "Moscow would only stop the offensive if Kyiv gave up its bid.",
            "Russia",
            id="only-then-if",
        ),
        pytest.param(
            "Putin said Russia would talk as soon as Kyiv withdrew its troops.",
            "Russia",
            id="as-soon-as",
        ),
        pytest.param(
            "Kyiv is ready to halt strikes if Moscow does the same.", "Ukraine", id="ready-if"
        ),
        pytest.param(
            "“Ukrainian troops must leave Kherson,” Putin said.", "Russia", id="the-speaker-s-party"
        ),
    ],
)
def test_conditions_as_news_writes_them(sentence: str, party: str) -> None:
    (demand,) = extract_article(f"Headline\nThe Desk Wire, 16 June 2024\n\n{sentence}").demands
    assert demand["Party"] == party


@pytest.mark.parametrize(
    "sentence",
    [
        pytest.param(
            "Both sides will discuss the conditions for a truce.", id="conditions-talked-of"
        ),
        pytest.param("Aid will flow for as long as it takes.", id="as-long-as-it-takes"),
        pytest.param("Moscow will delay talks for as long as possible.", id="for-as-long-as"),
        pytest.param("Washington did not want to see Ukraine in NATO.", id="did-not-want"),
        pytest.param("The swap will happen as soon as possible, he said.", id="soon-as-possible"),
    ],
)
def test_what_is_no_condition(sentence: str) -> None:
    assert extract_article(f"Headline\nThe Desk Wire, 16 June 2024\n\n{sentence}").demands == []


def test_a_condition_the_headline_and_body_both_tell_is_proposed_once() -> None:
    text = (
        "Putin says Kyiv must withdraw troops\nThe Desk Wire, 16 June 2024\n\n"
        "“Ukrainian troops must withdraw,” Putin said."
    )
    (demand,) = extract_article(text).demands
    assert (demand["Party"], demand["Quote"]) == (
        "Russia",
        "“Ukrainian troops must withdraw,” Putin said.",
    )


@pytest.mark.parametrize(
    ("sentence", "claimed_by"),
    [
        pytest.param("Ukraine's air force said 12 drones were downed.", "Ukraine's air force"),
        pytest.param("According to Reuters, 12 drones were downed.", "Reuters"),
        pytest.param("12 drones were downed, says Gen. Ivan Petrenko.", "Gen. Ivan Petrenko"),
        pytest.param("Fighting went on, with Russia claiming 12 drones downed.", "Russia"),
    ],
)
def test_a_figure_is_claimed_by_whom_the_sentence_names(sentence: str, claimed_by: str) -> None:
    (figure,) = extract_article(f"Headline\nThe Desk Wire, 16 June 2024\n\n{sentence}").figures
    assert figure["Claimed by"] == claimed_by


@pytest.mark.parametrize(
    ("text", "date", "until"),
    [
        pytest.param(
            "In early June, officials said 12 drones fell.",
            "2024-06-01",
            "2024-06-16",
            id="this-month-to-the-article-s-day",
        ),
        pytest.param(
            "Officials said 12 drones fell in January.", "2024-01-01", "2024-01-31", id="month"
        ),
        pytest.param(
            "Officials said 12 drones fell in February.",
            "2024-02-01",
            "2024-02-29",
            id="leap-february",
        ),
        pytest.param(
            "Officials said 12 drones fell in December.",
            "2023-12-01",
            "2023-12-31",
            id="month-last-year",
        ),
        pytest.param(
            "Officials said 12 drones fell last month.", "2024-05-01", "2024-05-31", id="last-month"
        ),
        pytest.param(
            "Officials said 120 drones fell since January.",
            "2024-01-01",
            "2024-06-16",
            id="since-a-month",
        ),
        pytest.param(
            "Officials said last week that 12 drones fell.",
            "2024-06-03",
            "2024-06-09",
            id="last-week-monday-to-sunday",
        ),
        pytest.param(
            "Officials said 3,000 drones will be made by December 2025.",
            "2025-12",
            None,
            id="a-month-to-come-is-a-month",
        ),
        pytest.param(
            "Shelling began on Saturday. Officials said 12 people were hurt.",
            "2024-06-15",
            None,
            id="day-held-in-the-paragraph",
        ),
    ],
)
def test_a_figure_told_for_a_month_or_week_covers_it_and_a_day_holds_for_its_paragraph(
    text: str, date: str, until: str | None
) -> None:
    (figure,) = extract_article(f"Headline\nThe Desk Wire, 16 June 2024\n\n{text}").figures
    assert (figure["Date"], figure.get("Until")) == (date, until)


def test_a_place_the_gazetteer_lacks_is_taken_from_after_its_number() -> None:
    text = "Headline\n16 June 2024\n\nTwo people were hurt in Pisochyn and three in Kupiansk."
    pisochyn, kupiansk = extract_article(text).figures
    assert pisochyn["Location"] == "Pisochyn"
    assert (kupiansk["Location"], kupiansk["Region"]) == ("Kupiansk", "Kharkiv region")


def test_a_paragraph_that_goes_on_with_the_last_keeps_its_place() -> None:
    text = (
        "Drones hit a port\n16 June 2024\n\n"
        "Officials said drones hit a port in Mykolaiv.\n"
        "The attack damaged 4 warehouses.\n"
        "Elsewhere, 3 drones fell."
    )
    damaged, fell = extract_article(text).figures
    assert (damaged["Location"], damaged["Region"]) == ("Mykolaiv", "Mykolaiv region")
    assert "Region" not in fell


def test_the_headline_s_place_holds_where_a_paragraph_names_none() -> None:
    text = "Drones strike Odesa\nThe Desk Wire, 16 June 2024\n\nOfficials said 12 people were hurt."
    (figure,) = extract_article(text).figures
    assert (figure["Location"], figure["Region"]) == ("Odesa", "Odesa region")


@pytest.mark.parametrize(
    ("date_line", "publisher"),
    [
        pytest.param("The Desk Wire, 14 June 2024", "The Desk Wire", id="publisher-and-date"),
        pytest.param(
            "The Desk Wire, via Some Portal, 14 June 2024", "The Desk Wire", id="found-via"
        ),
        pytest.param("The Desk Wire (A. Writer), 14 June 2024", "The Desk Wire", id="byline"),
        pytest.param("14 June 2024", "", id="date-alone"),
    ],
)
def test_the_sources_row_takes_publisher_and_address_from_the_header(
    date_line: str, publisher: str, tmp_path: Path
) -> None:
    article = tmp_path / "story.txt"
    header = f"Drones hit a depot\n{date_line}\nhttps://example.org/story\n\n"
    article.write_text(f"{header}The army said 12 drones fell.", encoding="utf-8")
    extract_candidates(article, tmp_path / "desk.xlsx", now=NOW)
    sheet = read_workbook(tmp_path / "desk.xlsx").sheet("Sources")
    assert sheet is not None
    headers = dict(sheet.headers)
    (row,) = sheet.rows
    source = {headers[letter]: cell.value for letter, cell in row.cells.items()}
    assert (source["Title"], source.get("Publisher", ""), source["URL"]) == (
        "Drones hit a depot",
        publisher,
        "https://example.org/story",
    )
    assert source["Published"] == dt.datetime(2024, 6, 14)  # noqa: DTZ001 - a date cell, no zone


@pytest.mark.parametrize(
    "place",
    [
        pytest.param("inbox/today/story.txt", id="outside-the-desk"),
        pytest.param("desks/.inbox/story.txt", id="in-a-hidden-folder-above"),
        pytest.param("desks/june/.story.txt", id="a-hidden-file-beside-it"),
    ],
)
def test_an_article_check_could_not_reach_is_copied_beside_the_workbook(
    article: Path, tmp_path: Path, place: str
) -> None:
    far = tmp_path / place
    far.parent.mkdir(parents=True, exist_ok=True)
    far.write_bytes(article.read_bytes())
    target = tmp_path / "desks" / "june" / "desk.xlsx"
    target.parent.mkdir(parents=True, exist_ok=True)
    extract_candidates(far, target, now=NOW)
    copy = target.parent / "story.txt"
    assert copy.read_bytes() == far.read_bytes()
    book = openpyxl.load_workbook(target)
    assert book["Sources"][coordinate("Sources", "File", 2)].value == "story.txt"
    figures = book["Figures"]
    figures[coordinate("Figures", "Review", 2)] = None  # one candidate reviewed: its quote checked
    book.save(target)
    problems = [str(p) for p in check_workbook(target).problems]
    assert not [p for p in problems if "source file" in p or "quote not found" in p], problems


def test_an_article_beside_the_workbook_is_not_copied(article: Path, tmp_path: Path) -> None:
    desk = tmp_path / "desk"
    desk.mkdir()
    near = desk / "story.txt"
    near.write_bytes(article.read_bytes())
    extract_candidates(near, desk / "desk.xlsx", now=NOW)
    assert sorted(p.name for p in desk.iterdir() if p.suffix == ".txt") == ["story.txt"]
