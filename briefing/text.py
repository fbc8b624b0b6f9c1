"""Text helpers every stage shares: dates, numbers, unsafe characters, plurals, text files."""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import os
import re
import unicodedata
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path

from text_to_num import alpha2digit

from briefing.errors import UnreadableText

Number = int | float

# Characters XML 1.0 (and so a Word document) cannot hold: C0 controls but tab, LF and CR.
UNSAFE_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%d %B %Y",
    "%d %b %Y",
    "%B %d %Y",
    "%b %d %Y",
    "%d.%m.%Y",
)
ORDINAL = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)\b")
# Partial dates as sources give them: 2022-02, 2022/02, February 2022, Feb 2022, 2022.
MONTH_FORMATS = ("%Y-%m", "%Y/%m", "%B %Y", "%b %Y", "%m/%Y", "%m.%Y")
YEAR = re.compile(r"\d{4}")
# An escape sequence: a control string (OSC, DCS, SOS, PM, APC) up to its terminator, a CSI
# up to its final byte, or ESC and the bytes that complete it; then a lone control character.
TERMINAL_CONTROL = re.compile(
    r"(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x90\x98\x9c-\x9f]*(?:\x07|\x1b\\|\x9c)"
    r"|(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|\x1b[ -/]*[0-~]?"
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f]"
)
MAX_TEXT_BYTES = 20 * 1024 * 1024  # a text copy of an article, not a library


def parse_date_text(text: str) -> dt.date | None:
    """A date as people type it: 2024-06-14, 14 June 2024, June 14th, 2024, 14.06.2024."""
    text = ORDINAL.sub(r"\1", " ".join(text.replace(",", " ").split())).rstrip(".")
    for pattern in DATE_FORMATS:
        try:
            # A calendar date has no time and so no zone; only its day is kept.
            return dt.datetime.strptime(text, pattern).date()  # noqa: DTZ007 - a day, no zone
        except ValueError:
            continue
    return None


class Precision(IntEnum):
    """How much of a date the source gives."""

    YEAR = 1
    MONTH = 2
    DAY = 3


@functools.total_ordering
@dataclass(frozen=True)
class PartialDate:
    """A day, a month or a year: as precise as the source is, and printed at that precision."""

    year: int
    month: int = 0  # 0 when only the year is known
    day: int = 0  # 0 when only the month (or year) is known

    @classmethod
    def of(cls, value: dt.date) -> PartialDate:
        return cls(value.year, value.month, value.day)

    # Cached: a long sheet's rows share one PartialDate per distinct cell, and an edition asks
    # each row for its days.
    @functools.cached_property
    def precision(self) -> Precision:
        if self.day:
            return Precision.DAY
        return Precision.MONTH if self.month else Precision.YEAR

    @functools.cached_property
    def start(self) -> dt.date:
        """The first day the date may mean."""
        return dt.date(self.year, self.month or 1, self.day or 1)

    @functools.cached_property
    def end(self) -> dt.date:
        """The last day the date may mean."""
        if self.day:
            return self.start
        month = self.month or 12
        return dt.date(self.year, month, calendar.monthrange(self.year, month)[1])

    def isoformat(self) -> str:
        """2024-06-14, 2022-02 or 2022: as typed into a cell."""
        return self.start.isoformat()[: {1: 4, 2: 7, 3: 10}[self.precision]]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, PartialDate):
            return NotImplemented
        return (self.start, self.precision) < (other.start, other.precision)


def parse_partial_date(text: str) -> PartialDate | None:
    """A day, month or year as people type it: 2024-06-14, June 2024, 2022-02, 2022."""
    day = parse_date_text(text)
    if day is not None:
        return PartialDate.of(day)
    text = " ".join(text.replace(",", " ").split()).rstrip(".")
    if YEAR.fullmatch(text):
        return PartialDate(int(text))
    for pattern in MONTH_FORMATS:
        try:
            month = dt.datetime.strptime(text, pattern)  # noqa: DTZ007 - a month has no zone
        except ValueError:
            continue
        return PartialDate(month.year, month.month)
    return None


def format_date(value: dt.date | PartialDate | None) -> str:
    """A date as a reader writes it, at the precision known: 14 June 2024, June 2024, 2024."""
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return f"{value.day} {value:%B %Y}"
    if value.precision is Precision.DAY:
        return format_date(value.start)
    return f"{value.start:%B %Y}" if value.precision is Precision.MONTH else str(value.year)


def format_number(value: Number | None) -> str:
    """1,234 or 1,234.5; never 1234.0."""
    if value is None:
        return ""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{int(value):,}"


def count(number: int, noun: str) -> str:
    """A number and its noun, plural when it is not one: "1 error", "3 warnings"."""
    return f"{number} {plural(noun, number)}"


def plural(noun: str, number: int) -> str:
    """The noun as `number` of it is written: "error", "errors"."""
    return noun if number == 1 else noun + "s"


def shorten(text: str, limit: int) -> str:
    """The text cut to `limit` characters, an ellipsis marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def shorten_words(text: str, limit: int) -> str:
    """The text cut to at most `limit` characters at a space, an ellipsis marking the cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip(" ,;:") + "…"


def listed(items: list[str], limit: int) -> str:
    """The first `limit` items separated by commas, an ellipsis standing for the rest."""
    return ", ".join(items[:limit]) + (", …" if len(items) > limit else "")


def describe(err: BaseException, limit: int = 200) -> str:
    """Another library's exception as one short line, to quote inside our own message."""
    return shorten(" ".join(f"{type(err).__name__}: {err}".split()), limit)


def remove_unsafe_characters(text: str) -> str:
    """The text without the characters a Word document or workbook cannot hold."""
    return UNSAFE_CHARACTERS.sub("", text)


def terminal_safe(text: str) -> str:
    """The text without terminal control: escape sequences whole (CSI, OSC, DCS and the other
    strings, 7-bit and 8-bit), then any other C0 or C1 control character but tab and line feed.

    A cell holding "ESC]0;title BEL" would otherwise retitle the terminal that prints it, and
    other sequences move the cursor, hide text or redefine keys.
    """
    return TERMINAL_CONTROL.sub("", text)


def words_to_digits(text: str, *, smallest: int = 0) -> str:
    """The text with numbers written in words as digits: "three" -> "3".

    Numbers below `smallest` stay words, so that "no one" is not read as a count.
    """
    return str(alpha2digit(unicodedata.normalize("NFKC", text), "en", threshold=smallest))


def missing_file(path: Path) -> str:
    """Why there is no regular file at `path`: "is a folder", "is not a regular file", …"""
    if os.path.isdir(path):
        return "is a folder"
    if os.path.exists(path):
        # A device or a pipe (/dev/zero, /dev/null) would never end or block the read.
        return "is not a regular file (a device, a pipe or a socket)"
    if os.path.islink(path):  # noqa: PTH114 - as exists above: False, never raises
        return "is a symbolic link that leads to no file (a missing one, or itself)"
    return "does not exist"


def read_text_file(
    path: Path, what: str, *, limit: int = MAX_TEXT_BYTES, hint: str = "give a text file"
) -> str:
    """A UTF-8 text file's text; anything else raises UnreadableText beginning with `what`.

    `what` names the file as the reader knows it, such as "notes.txt: the article"; `hint`
    says what to do when there is no file at `path`.
    """
    if not os.path.isfile(path):
        raise UnreadableText(f"{what} {missing_file(path)}; {hint}")
    too_large = UnreadableText(
        f"{what} is larger than {limit // 2**20} MB; give a text copy of the article alone"
    )
    if path.stat().st_size > limit:
        raise too_large
    try:
        # A file of /proc says it is empty and goes on: read no more than the limit.
        with path.open("rb") as file:
            data = file.read(limit + 1)
        if len(data) > limit:
            raise too_large
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise UnreadableText(f"{what} is not UTF-8 text; save it as UTF-8 text") from err
    except OSError as err:
        raise UnreadableText(f"{what} cannot be read ({err.strerror})") from err
    return text


# Marks that open a quotation when a quote mark follows them (or at the start of the text).
OPENING_CONTEXT = set(" \t\n([{\u2014\u2013-/\u201c\u2018")


def typeset(text: str, *, inside_quote: bool = False) -> str:
    """Text with typographic quotes and apostrophes: no straight quote mark is left.

    Quotation marks alternate: at the top level a quotation takes double marks and one inside
    it single marks; text printed inside double marks (`inside_quote`) takes single marks for
    its own quotations, whichever marks it typed. An apostrophe between letters ("Putin's") or
    after a plural ("allies'") becomes ’.
    """
    outer_open, outer_close = ("\u2018", "\u2019") if inside_quote else ("\u201c", "\u201d")
    inner_open, inner_close = "\u2018", "\u2019"  # a quotation the text gives in single marks
    if inside_quote:
        text = text.replace("\u201c", '"').replace("\u201d", '"')
    out = []
    single_open = False  # a quotation in single marks has opened and not closed
    for index, mark in enumerate(text):
        before = text[index - 1] if index else " "
        after = text[index + 1] if index + 1 < len(text) else " "
        opening = before in OPENING_CONTEXT
        if mark == '"':
            out.append(outer_open if opening else outer_close)
        elif mark != "'":
            out.append(mark)
        elif before.isalnum() and after.isalnum():
            out.append("\u2019")  # an apostrophe inside a word: Putin's
        elif opening and not after.isspace():
            out.append(inner_open)
            single_open = True
        elif single_open:
            out.append(inner_close)
            single_open = False
        else:
            out.append("\u2019")  # an apostrophe after a plural: the allies'
    return "".join(out)
