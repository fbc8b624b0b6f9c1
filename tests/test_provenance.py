"""Quote verification: strict on words and numbers, tolerant of typography, case and spacing."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from briefing.pipeline import check_workbook
from briefing.provenance import (
    normalize,
    numbers_in,
    quote_found,
    source_folders,
    value_in_quote,
)
from tests.conftest import SEED_ARTICLE, cell, coordinate

ARTICLE = normalize(SEED_ARTICLE.read_text(encoding="utf-8"))
F1_QUOTE = (
    "On the same day, there was intense fighting between Russian and Ukrainian forces, with "
    "Russia claiming to have shot down 87 Ukrainian drones."
)


def edit(path: Path, cell: str, change: str | None = None, *, to: str = "") -> None:
    book = openpyxl.load_workbook(path)
    sheet, coordinate = cell.split("!")
    target = book[sheet][coordinate]
    target.value = target.value.replace(change, to) if change else to
    book.save(path)


def problems(path: Path) -> list[str]:
    return [str(problem) for problem in check_workbook(path).problems]


@pytest.mark.parametrize(
    "quote",
    [
        pytest.param(F1_QUOTE, id="exact"),
        pytest.param(F1_QUOTE.upper(), id="letter-case"),
        pytest.param(F1_QUOTE.replace(" between", "\nbetween"), id="line-break"),
        pytest.param(F1_QUOTE.replace(", ", ",  \t"), id="spacing"),
        pytest.param(
            "He called the Russian leader\u2019s demands the "
            "\u201cstandard aggressor\u2019s set\u201d",
            id="curly-quotes",
        ),
        pytest.param("a \u201cstrong land connection\u201d to Crimea", id="curly-double"),
        pytest.param("Russian-speaking populations", id="hyphen"),
        pytest.param("Russian\u2013speaking populations", id="en-dash-for-hyphen"),
        pytest.param(
            "Kyiv must withdraw its troops … and abandon its plans to join NATO", id="ellipsis"
        ),
        pytest.param(
            "Kyiv must withdraw its troops ... abandon its plans to join NATO",
            id="three-dots",
        ),
    ],
)
def test_quotes_that_are_in_the_article(quote: str) -> None:
    assert quote_found(quote, ARTICLE)


@pytest.mark.parametrize(
    "quote",
    [
        pytest.param(F1_QUOTE.replace("87", "78"), id="number-changed"),
        pytest.param(F1_QUOTE.replace("intense", "fierce"), id="word-changed"),
        pytest.param(F1_QUOTE.replace("Ukrainian drones", "drones"), id="word-dropped"),
        pytest.param("87 Ukrainian drones … On the same day", id="ellipsis-out-of-order"),
        pytest.param("ate negotiations", id="part-of-a-word"),
    ],
)
def test_quotes_that_are_not(quote: str) -> None:
    assert not quote_found(quote, ARTICLE)


@pytest.mark.parametrize(
    ("sentence", "numbers"),
    [
        pytest.param("injuring three people", {3.0}, id="word"),
        pytest.param("the bodies of 254 Ukrainian soldiers", {254.0}, id="digits"),
        pytest.param("two hundred and fifty-four bodies", {254.0}, id="compound-words"),
        pytest.param("some 1,234 shells", {1234.0}, id="thousands"),
        pytest.param("firing 14 missiles and taking down 17 Shahed drones", {14.0, 17.0}, id="two"),
        pytest.param("1.5 million people", {1.5, 1_000_000.0, 1_500_000.0}, id="1.5-million"),
        pytest.param("some 1 200 hryvnias", {1.0, 200.0, 1200.0}, id="spaced-thousands"),
    ],
)
def test_numbers_in(sentence: str, numbers: set[float]) -> None:
    assert numbers_in(sentence) == numbers


def test_value_must_be_in_its_quote() -> None:
    assert value_in_quote(3, "three women in a bus")
    assert not value_in_quote(4, "three women in a bus")


def test_seed_workbook_quotes_all_check(seed_copy: Path) -> None:
    assert problems(seed_copy) == []


def test_one_changed_word_fails_naming_the_cell(seed_copy: Path) -> None:
    quote = cell("Figures", "Quote", 2)
    edit(seed_copy, quote, "intense", to="fierce")
    assert problems(seed_copy) == [
        f'{quote}: quote not found in source S1; closest passage: "On the same day, there '
        "was intense fighting between Russian and Ukrainian forces, with Russia claiming to "
        'have shot down 87 Ukrainian drones."'
    ]


def test_one_changed_number_fails_naming_both_cells(seed_copy: Path) -> None:
    value, quote = cell("Figures", "Value", 2), cell("Figures", "Quote", 2)
    edit(seed_copy, quote, "87", to="78")
    assert problems(seed_copy) == [
        f"{value}: the value 87 does not appear in its quote "
        f"({coordinate('Figures', 'Quote', 2)}); check the number or the quote",
        f'{quote}: quote not found in source S1; closest passage: "On the same day, there '
        "was intense fighting between Russian and Ukrainian forces, with Russia claiming to "
        'have shot down 87 Ukrainian drones."',
    ]


@pytest.mark.parametrize(
    "excerpt",
    [
        pytest.param("not a peace plan", id="words-of-the-quote"),
        pytest.param("Putin's proposal ... a call for more aggression", id="with-an-ellipsis"),
        pytest.param("", id="no-excerpt"),
    ],
)
def test_an_excerpt_taken_from_its_quote_passes(seed_copy: Path, excerpt: str) -> None:
    book = openpyxl.load_workbook(seed_copy)
    book["Reactions"][coordinate("Reactions", "Excerpt", 5)] = excerpt or None
    book.save(seed_copy)
    assert problems(seed_copy) == []


def test_an_excerpt_not_in_its_quote_fails_at_its_cell(seed_copy: Path) -> None:
    book = openpyxl.load_workbook(seed_copy)
    book["Reactions"][coordinate("Reactions", "Excerpt", 5)] = "not a peace offer"
    book.save(seed_copy)
    assert problems(seed_copy) == [
        f"{cell('Reactions', 'Excerpt', 5)}: the excerpt is not part of the quote "
        f"({coordinate('Reactions', 'Quote', 5)}); copy its words from there"
    ]


def test_typographic_variants_pass(seed_copy: Path) -> None:
    book = openpyxl.load_workbook(seed_copy)
    cell = book["Reactions"][coordinate("Reactions", "Quote", 3)]
    cell.value = (
        cell.value.replace('"', "\u201c", 1).replace('"', "\u201d", 1).replace("'", "\u2019")
    ).replace(" the ", " the\n", 1)
    book.save(seed_copy)
    assert problems(seed_copy) == []


def test_missing_source_file_names_the_cell(seed_copy: Path) -> None:
    (seed_copy.parent.parent / "seeds" / SEED_ARTICLE.name).unlink()
    expected = seed_copy.parent / "../seeds" / SEED_ARTICLE.name
    assert problems(seed_copy) == [
        f"{cell('Sources', 'File', 2)}: the source file '../seeds/{SEED_ARTICLE.name}' does not "
        f"exist; give a text file's path relative to the workbook (looked for {expected})"
    ]


def test_source_file_that_is_not_text(seed_copy: Path) -> None:
    (seed_copy.parent.parent / "seeds" / SEED_ARTICLE.name).write_bytes(b"\xff\xfe\x00bad")
    assert problems(seed_copy) == [
        f"{cell('Sources', 'File', 2)}: the source file '../seeds/{SEED_ARTICLE.name}' is not "
        "UTF-8 text; save it as UTF-8 text"
    ]


def test_source_folders_are_the_workbooks_the_one_above_and_the_one_named(tmp_path: Path) -> None:
    desk = tmp_path / "desk"
    desk.mkdir()
    assert source_folders(desk / "desk.xlsx", tmp_path) == (desk, tmp_path, tmp_path)
    # The folder above a workbook at the top of the file system would be all of it.
    assert source_folders(Path("/nowhere/desk.xlsx")) == (Path("/nowhere"),)
    assert source_folders(Path("/desk.xlsx")) == (Path("/"),)


SOURCE = (
    "Officials said Russia lost 1,087 drones\u2014over two weeks.\n\n"
    "The army fired 2.5 million shells. Kyiv asked for more.\n"
)


def source_text(tmp_path: Path) -> str:
    from briefing.provenance import _read_source
    from briefing.schema import SourceRow

    (tmp_path / "source.txt").write_text(SOURCE, encoding="utf-8")
    row = SourceRow(
        id="S1",
        title="t",
        publisher="",
        published=None,
        url="",
        file="source.txt",
        reliability="A",
        credibility="1",
        ai_generated="",
        notes="",
        coordinates={"file": "F2"},
    )
    text = _read_source(tmp_path, row, [])
    assert text is not None
    return text.normalized


@pytest.mark.parametrize(
    ("quote", "found"),
    [
        pytest.param("Officials said Russia lost 1", False, id="number-cut-short"),
        pytest.param("087 drones", False, id="number-cut-at-the-front"),
        pytest.param("The army fired 2.5", True, id="whole-decimal"),
        pytest.param("The army fired 2", False, id="decimal-cut-short"),
        pytest.param("lost 1,087 drones \u2014 over two weeks", True, id="spaced-dash"),
        pytest.param("lost 1,087 drones - over", True, id="hyphen-for-dash"),
        pytest.param(
            "Officials said ... Kyiv asked for more", False, id="ellipsis-across-paragraphs"
        ),
        pytest.param("The army fired … Kyiv asked for more", True, id="ellipsis-in-a-paragraph"),
    ],
)
def test_whole_numbers_dashes_and_paragraphs(tmp_path: Path, quote: str, found: bool) -> None:
    assert quote_found(quote, source_text(tmp_path)) is found
