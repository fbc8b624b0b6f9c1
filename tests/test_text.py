"""Shared text helpers: dates, numbers, plurals, shortening, unsafe characters, text files."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from briefing.errors import UnreadableText
from briefing.text import (
    count,
    describe,
    format_date,
    format_number,
    listed,
    parse_date_text,
    read_text_file,
    remove_unsafe_characters,
    shorten,
    terminal_safe,
    words_to_digits,
)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        pytest.param(dt.date(2024, 6, 14), "14 June 2024", id="date"),
        pytest.param(dt.date(2024, 6, 1), "1 June 2024", id="no-leading-zero"),
        pytest.param(None, "", id="no-date"),
    ],
)
def test_format_date(value: dt.date | None, text: str) -> None:
    assert format_date(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        pytest.param(1234, "1,234", id="thousands"),
        pytest.param(87.0, "87", id="whole-float"),
        pytest.param(1234.5, "1,234.5", id="decimal"),
        pytest.param(0.25, "0.25", id="small-decimal"),
        pytest.param(None, "", id="none"),
    ],
)
def test_format_number(value: float | None, text: str) -> None:
    assert format_number(value) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("2024-06-14", dt.date(2024, 6, 14), id="iso"),
        pytest.param("14 June 2024", dt.date(2024, 6, 14), id="day-month-year"),
        pytest.param("June 14th, 2024", dt.date(2024, 6, 14), id="ordinal-comma"),
        pytest.param("14.06.2024", dt.date(2024, 6, 14), id="dotted"),
        pytest.param("Jun 14 2024.", dt.date(2024, 6, 14), id="short-month-trailing-dot"),
        pytest.param("14 Jun", None, id="no-year"),
        pytest.param("yesterday", None, id="words"),
    ],
)
def test_parse_date_text(text: str, expected: dt.date | None) -> None:
    assert parse_date_text(text) == expected


@pytest.mark.parametrize(
    ("number", "text"),
    [(0, "0 errors"), (1, "1 error"), (2, "2 errors")],
    ids=["zero", "one", "two"],
)
def test_count_makes_plurals(number: int, text: str) -> None:
    assert count(number, "error") == text


def test_shorten_marks_the_cut_with_an_ellipsis() -> None:
    assert shorten("abcdef", 6) == "abcdef"
    assert shorten("abcdefg", 6) == "abcde…"


def test_listed_stands_an_ellipsis_for_the_rest() -> None:
    assert listed(["S1", "S2"], 2) == "S1, S2"
    assert listed(["S1", "S2", "S3"], 2) == "S1, S2, …"


def test_describe_is_one_short_line() -> None:
    text = describe(ValueError("bad\nvalue " + "x" * 300), limit=40)
    assert text.startswith("ValueError: bad value x")
    assert len(text) == 40
    assert "\n" not in text


def test_remove_unsafe_characters_keeps_tabs_and_line_breaks() -> None:
    assert remove_unsafe_characters("a\x00b\x0bc\td\ne\r\ufffe") == "abc\td\ne\r"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        pytest.param("ID\x1b]0;pwned\x07", "ID", id="osc-title-bel"),
        pytest.param("a\x1b]0;pwned\x1b\\b", "ab", id="osc-title-st"),
        pytest.param(
            "\x1b]8;;https://x.example\x1b\\link\x1b]8;;\x1b\\", "link", id="osc-hyperlink"
        ),
        pytest.param("\x1b[31mred\x1b[0m \x1b[2J\x1b[1;1H", "red ", id="csi"),
        pytest.param("a\x9b2Jb\x9d0;pwned\x9cc", "abc", id="c1-csi-and-osc"),
        pytest.param("\x1bPq#0\x1b\\ok", "ok", id="dcs"),
        pytest.param("\x1bcreset \x1b(Bcharset", "reset charset", id="two-and-three-bytes"),
        pytest.param("\x1b]0;no end", "0;no end", id="unterminated-osc"),
        pytest.param("over\rwrite\x08\x7f\x85", "overwrite", id="c0-and-c1"),
        pytest.param("tab\tand\nline – “Київ”", "tab\tand\nline – “Київ”", id="text-kept"),
    ],
)
def test_terminal_safe_strips_control_sequences_whole(text: str, shown: str) -> None:
    assert terminal_safe(text) == shown


def test_words_to_digits_leaves_small_numbers_as_words() -> None:
    assert words_to_digits("three drones and one tank", smallest=2) == "3 drones and one tank"


def test_read_text_file_reads_utf8_with_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes("\ufeffКиїв & Co".encode())
    assert read_text_file(path, "a.txt") == "Київ & Co"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        pytest.param(lambda p: None, "x: the file does not exist; give a text file", id="missing"),
        pytest.param(lambda p: p.mkdir(), "x: the file is a folder; give a text file", id="folder"),
        pytest.param(
            lambda p: os.mkfifo(p),
            "x: the file is not a regular file (a device, a pipe or a socket); give a text file",
            id="pipe",
        ),
        pytest.param(
            lambda p: p.symlink_to("/dev/zero"),
            "x: the file is not a regular file (a device, a pipe or a socket); give a text file",
            id="dev-zero",
        ),
        pytest.param(
            lambda p: p.write_bytes(b"\xff\xfe\x00bad"),
            "x: the file is not UTF-8 text; save it as UTF-8 text",
            id="not-utf8",
        ),
        pytest.param(
            lambda p: p.write_bytes(b"a" * 2_000_000),
            "x: the file is larger than 1 MB; give a text copy of the article alone",
            id="too-large",
        ),
        pytest.param(
            os.mkfifo,
            "x: the file is not a regular file (a device, a pipe or a socket); give a text file",
            id="pipe",
        ),
        pytest.param(
            lambda p: p.symlink_to(p.with_name("gone.txt")),
            "x: the file is a symbolic link that leads to no file (a missing one, or itself); "
            "give a text file",
            id="dangling-link",
        ),
    ],
)
def test_read_text_file_refuses_in_one_line(tmp_path: Path, make: object, message: str) -> None:
    path = tmp_path / "file.txt"
    assert callable(make)
    make(path)
    with pytest.raises(UnreadableText) as raised:
        read_text_file(path, "x: the file", limit=1024 * 1024)
    assert str(raised.value) == message
