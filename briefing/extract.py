"""Find candidate records in an article's text: figures, attributed statements and demands."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from briefing.errors import ExtractError
from briefing.model import CellValue, RawSheet
from briefing.schema import PARTY, UNREVIEWED, normalize_header
from briefing.text import (
    parse_date_text,
    read_text_file,
    remove_unsafe_characters,
    words_to_digits,
)

Row = dict[str, str | int | float]
Records = dict[str, list[dict[str, CellValue]]]

SENTENCE = re.compile(r"(?<=[.!?])[\"'\u201d\u2019)\]]*\s+(?=[\"'\u201c\u2018(\[]?[A-Z0-9])")
# A megabyte of news gives about 14,000 candidate rows, which openpyxl writes in seconds; a
# longer text is a book, not an article, and would take minutes.
MAX_ARTICLE_BYTES = 2 * 1024 * 1024
LONGEST_SENTENCE = 2000  # characters; longer "sentences" are not prose and are passed over
NUMBER = re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?![\w]|,\d|\.\d)")
MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
DAY_OF_MONTH = re.compile(
    rf"(?:(?:{MONTHS})\s+\d{{1,2}}\b|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{MONTHS}))"
)
# fmt: off
STOP_WORDS = frozenset({
    "and", "or", "but", "in", "on", "at", "near", "from", "to", "into", "by", "for", "with",
    "as", "than", "that", "which", "who", "while", "after", "before", "since", "during",
    "the", "a", "an", "its", "their", "his", "her",
})
# fmt: on
ATTRIBUTION = re.compile(
    r"\b(said|says|saying|stated|states|stating|called|calls|commented|insisted|insists|"
    r"warned|warns|accused|accuses|dismissed|denounced|criticized|criticised|asserted|"
    r"emphasized|emphasised|stressed|pointed out|declared|weighed in|mentioned|urged|urge|"
    r"argued|noted|described|claimed|announced|deemed)\b"
)
DEMAND = re.compile(
    r"\b(demands?|demanded|demanding|conditions?|must|should|insists?|insisted|calls? for|"
    r"seeks?|sought|requires?|required|wants?)\b",
    re.IGNORECASE,
)
CLAIM = re.compile(
    r"(?:with\s+)?(?P<who>(?:[A-Z][\w'’-]*|the|of|for|and)(?:\s+(?:[A-Z][\w'’-]*|[a-z'’-]+)){0,5}?)"
    r"\s+(?:reported|reports|claimed|claiming|claims|said|says|announced|stated)\b"
)
ACCORDING_TO = re.compile(r"according to (?P<who>[^,.;]+)")
REGION = re.compile(
    r"\b(?:[Ii]n|[Nn]ear|[Aa]cross)\s+the\s+(?P<region>[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)*\s+region)"
    r"(?:\s+of\s+(?P<country>[A-Z][\w'-]*))?"
)
VILLAGE = re.compile(r"\b(?:village|town|city) of (?P<place>[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)*)")
PRONOUNS = frozenset({"he", "she", "they", "it", "these", "this"})
QUOTED = re.compile(r"\"[^\"]*\"|\u201c[^\u201d]*\u201d")
LEAD_INS = re.compile(
    r"^(?:(?:however|but|lastly|meanwhile|also|in response|on \w+|in (?:his|her|their|a) "
    r"[\w\s]+?|on the same day)\s*,\s*)+",
    re.IGNORECASE,
)
PARTY_WORDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("Russia", re.compile(r"\b(Putin|Kremlin|Moscow|Russia|Russian)\b")),
    ("Ukraine", re.compile(r"\b(Kyiv|Ukraine|Ukrainian|Zelenskyy?)\b")),
    ("NATO", re.compile(r"\bNATO\b")),
    ("United States", re.compile(r"\b(US|U\.S\.|United States|Washington)\b")),
)
# A source ID is cited in cells and split on commas and spaces: keep it one plain word.
SOURCE_ID = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*")
AI_MARKERS = re.compile(r"generated (?:with|by) (?:an )?AI|AI[- ]generated", re.IGNORECASE)


@dataclass
class Article:
    """What extraction found in one article's text."""

    title: str
    published: dt.date | None
    ai_generated: bool
    figures: list[Row] = field(default_factory=list)
    reactions: list[Row] = field(default_factory=list)
    demands: list[Row] = field(default_factory=list)
    skipped: int = 0  # over-long lines passed over


def clean(text: str) -> str:
    """The text with line endings made one kind and characters a workbook cannot hold removed."""
    return remove_unsafe_characters(text.replace("\r\n", "\n").replace("\r", "\n"))


def sentences(text: str) -> Iterator[str]:
    """Each sentence of each paragraph, as written; lines with no letters are left out."""
    for paragraph in text.split("\n"):
        for sentence in SENTENCE.split(paragraph.strip()):
            sentence = sentence.strip()
            if any(character.isalpha() for character in sentence):
                yield sentence


def extract_article(text: str, path: Path | None = None) -> Article:
    """Candidate figures, reactions and demands, each quoting its sentence verbatim.

    Raises ExtractError, naming `path`, for an article with no text.
    """
    text = clean(text)
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    if not lines:
        name = path or "the article"
        raise ExtractError(f"{name}: the article has no text; give the article's text")
    article = Article(
        title=lines[0][:300] if lines else "",
        published=_article_date(lines),
        ai_generated=bool(AI_MARKERS.search(text)),
    )
    speaker = ""
    party = ""
    seen: set[str] = set()
    # What an article reports was said, and demanded, by the day it was published.
    dated: Row = {"Date": article.published.isoformat()} if article.published else {}
    stated: Row = {"Stated": article.published.isoformat()} if article.published else {}
    for sentence in sentences(text):
        if len(sentence) > LONGEST_SENTENCE:
            article.skipped += 1
            continue
        if sentence in seen:  # a headline repeated as the first line of the body
            continue
        seen.add(sentence)
        article.figures.extend(_figures(sentence, article.published))
        if ATTRIBUTION.search(QUOTED.sub("", sentence)):
            actor, role = _speaker(sentence, speaker)
            speaker = actor or speaker
            article.reactions.append(
                {"Actor": actor, "Role": role, **dated, "Quote": sentence, "Review": UNREVIEWED}
            )
        if DEMAND.search(sentence):
            # "They also seek reparations from Moscow": a pronoun continues the last party.
            starts_with_pronoun = sentence.split(" ", 1)[0].casefold() in PRONOUNS
            party = party if starts_with_pronoun else (_party(sentence) or party)
            article.demands.append(
                {"Party": party, **stated, "Quote": sentence, "Review": UNREVIEWED}
            )
    return article


def _article_date(lines: Iterable[str]) -> dt.date | None:
    """The first of the opening lines that is a date and nothing else."""
    for line in list(lines)[:10]:
        found = parse_date_text(line)
        if found is not None:
            return found
    return None


def _figures(sentence: str, published: dt.date | None) -> Iterator[Row]:
    """A candidate for each number the sentence reports; years and days of months are not."""
    digits = words_to_digits(sentence, smallest=2)
    dates = [match.span() for match in DAY_OF_MONTH.finditer(digits)]
    matches = list(NUMBER.finditer(digits))
    for index, match in enumerate(matches):
        start, end = match.span()
        if any(a <= start and end <= b for a, b in dates):
            continue
        value = float(match[0].replace(",", ""))
        if match[0].isdigit() and len(match[0]) == 4 and 1900 <= value <= 2100:
            continue  # a year
        metric = _counted(digits, start, end)
        row: Row = {
            "Value": int(value) if value.is_integer() else value,
            "Metric": metric,
            "Unit": metric.split()[-1] if metric else "",
            "Status": "claimed",
            "Quote": sentence,
            "Review": UNREVIEWED,
        }
        if published is not None:
            row["Date"] = published.isoformat()
        # The place named after a number, before the next one, belongs to it; else the
        # place named before it, since the last number.
        after = digits[end : matches[index + 1].start() if index + 1 < len(matches) else None]
        before = digits[matches[index - 1].end() if index else 0 : start]
        region = REGION.search(after) or REGION.search(before)
        if region:
            row["Region"] = region["region"]
            if region["country"]:
                row["Country"] = region["country"]
        village = VILLAGE.search(after) or VILLAGE.search(before)
        if village:
            row["Location"] = village["place"]
        claimant = ACCORDING_TO.search(sentence) or CLAIM.search(sentence)
        if claimant:
            row["Claimed by"] = LEAD_INS.sub("", claimant["who"].strip()).strip()
        yield row


def _counted(digits: str, start: int, end: int) -> str:
    """What a number counts: the words after it, and a "bodies of" before it."""
    words = []
    for word in re.findall(r"[\w'’-]+|[^\w\s]", digits[end:])[:6]:
        if not re.match(r"[\w'’-]", word) or word.casefold() in STOP_WORDS:
            break
        words.append(word)
        if len(words) == 3:
            break
    before = re.search(r"(\w+) of\s*$", digits[:start])
    if before and before[1].casefold() not in STOP_WORDS:
        words = [before[1], "of", *words]
    return " ".join(words)


def _speaker(sentence: str, previous: str) -> tuple[str, str]:
    """Who an attributed sentence quotes, and their role when an apposition gives it."""
    # The verb that attributes is outside the quoted words: '"We urge …," Putin stated.'
    masked = QUOTED.sub(lambda match: " " * len(match[0]), sentence)
    verb = ATTRIBUTION.search(masked)
    if verb is None:
        return "", ""
    before = LEAD_INS.sub("", masked[: verb.start()].strip(" ,"))
    before = re.sub(r"\s+(?:also|then|later|quickly|again)$", "", before.strip())
    actor, _, role = (part.strip(" ,") for part in before.partition(","))
    if actor.casefold() in PRONOUNS:
        return previous, ""
    if not actor or len(actor.split()) > 8 or not actor[0].isupper():
        return "", ""
    role = re.sub(r"^(?:an?|the)\s+", "", role)
    if role and not role[0].isalpha():
        role = ""
    return actor, role[:120]


def _party(sentence: str) -> str:
    """The first party a sentence names, if it is one of the vocabulary's."""
    found = [
        (match.start(), name)
        for name, pattern in PARTY_WORDS
        if (match := pattern.search(sentence)) is not None
    ]
    party = min(found)[1] if found else ""
    return party if PARTY.find(party) else ""


def read_article(path: Path) -> str:
    """An article's text; anything but a readable UTF-8 text file raises UnreadableText.

    Past MAX_ARTICLE_BYTES it is refused before it is read.
    """
    return read_text_file(path, f"{path}: the article", limit=MAX_ARTICLE_BYTES)


def source_with_file(sources: RawSheet | None, file: str) -> str:
    """Where a Sources row already points at `file`, as "S1 at Sources!F2"; else ""."""
    if sources is None:
        return ""
    letters = {normalize_header(text): letter for letter, text in sources.headers}
    for row in sources.rows:
        cell = row.cells.get(letters.get("file", ""))
        if cell is not None and str(cell.value).strip() == file:
            found = row.cells.get(letters.get("id", ""))
            return f"{found.value if found else 'a source'} at Sources!{cell.coordinate}"
    return ""


def existing_ids(sheets: Mapping[str, RawSheet]) -> set[str]:
    """Every value in a column headed ID, on the schema's sheets."""
    ids = set()
    for sheet in sheets.values():
        letters = [letter for letter, text in sheet.headers if normalize_header(text) == "id"]
        for row in sheet.rows:
            for letter in letters:
                cell = row.cells.get(letter)
                if cell is not None and cell.value is not None:
                    ids.add(str(cell.value).strip())
    return ids


def next_id(prefix: str, taken: set[str]) -> str:
    """The first prefix-and-number ID above every one already taken: S3 after S1 and S2."""
    return next(fresh_ids(prefix, taken))


def fresh_ids(prefix: str, taken: set[str]) -> Iterator[str]:
    """Prefix-and-number IDs above every one taken, in order: F3, F4, … after F1 and F2.

    The taken IDs are looked at once, so that numbering n rows costs n steps, not n times the
    workbook's IDs.
    """
    numbers = (
        int(found[len(prefix) :])
        for found in taken
        if found.startswith(prefix) and found[len(prefix) :].isdigit()
    )
    return (f"{prefix}{number}" for number in itertools.count(max(numbers, default=0) + 1))


def choose_source_id(requested: str | None, taken: set[str], target: Path) -> str:
    """The ID for the article's Sources row: the one asked for, if usable, else the next free."""
    if requested is None:
        return next_id("S", taken)
    if not SOURCE_ID.fullmatch(requested):
        raise ExtractError(
            f"{requested!r}: not a usable source ID; use letters and digits, such as S2"
        )
    if requested in taken:
        raise ExtractError(
            f"{target}: the ID {requested} is taken already; choose another --source-id"
        )
    return requested


def ensure_not_extracted(sheets: Mapping[str, RawSheet], file: str, target: Path) -> None:
    """Raise ExtractError when the workbook already has the article as a source."""
    already = source_with_file(sheets.get("Sources"), file)
    if already:
        raise ExtractError(
            f"{target}: the article is already a source ({already}); delete that row and its "
            "candidates to extract it again"
        )


def relative_path(article: Path, workbook: Path) -> str:
    """The article's path as the Sources File column holds it: relative to the workbook."""
    return Path(os.path.relpath(article.resolve(), workbook.resolve().parent)).as_posix()


def candidate_records(found: Article, source_id: str, taken: set[str], file: str) -> Records:
    """The Sources row and the candidate rows, each with a fresh ID and the source's ID."""
    taken = set(taken) | {source_id}
    records: Records = {
        "Sources": [
            {
                "ID": source_id,
                "Title": found.title,
                "Published": found.published.isoformat() if found.published else "",
                "File": file,
                # Ungraded until an analyst grades it: "cannot be judged" on both scales.
                "Reliability": "F",
                "Credibility": "6",
                "AI-generated": "yes" if found.ai_generated else "",
                "Grading note": "Added by briefing extract; grade it before relying on it.",
            }
        ]
    }
    for sheet, prefix, rows in (
        ("Demands", "D", found.demands),
        ("Reactions", "R", found.reactions),
        ("Figures", "F", found.figures),
    ):
        ids = fresh_ids(prefix, taken)
        records[sheet] = [{"ID": next(ids), **row, "Source": source_id} for row in rows]
    return records
