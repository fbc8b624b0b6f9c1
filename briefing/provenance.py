"""Check each quote against the text of its source, and each figure's value against its quote."""

from __future__ import annotations

import difflib
import os
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from briefing.errors import SourcesFolderError, UnreadableText
from briefing.model import Dossier, Problem
from briefing.schema import Kind, SourceRow
from briefing.text import (
    format_number,
    missing_file,
    read_text_file,
    shorten,
    words_to_digits,
)

# What does not change a quote's meaning: the kind of quote mark, apostrophe or dash.
TYPOGRAPHY = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "`": "'",
        "\u00b4": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2033": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
        "\u2026": "...",
    }
)
ELLIPSIS = re.compile(r"\s*(?:\.\s*){3}\s*|\s*\[\s*(?:\.\s*){3}\]\s*")
SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+|\n\s*\n")
NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
# "1 200" and "1 200" write 1200 with a space for thousands; read both ways, both count.
SPACED_NUMBER = re.compile(r"(?<!\d)\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?!\d)")
PASSAGE_CHARACTERS = 160
SPACED_DASH = re.compile(r" ?- ?")
PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
PARAGRAPH = "\u00b6"  # stands between paragraphs in the normalized text
SHORTLIST = 8  # sentences compared closely with a quote that was not found
WORD = re.compile(r"\w+")
# "1.5 million", "2 billion": a number the words after it multiply.
SCALED = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s*(thousand|million|billion)\b", re.IGNORECASE)
SCALES = {"thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}


@dataclass(frozen=True)
class SourceText:
    """A source's text copy: normalized for matching, and split into sentences for reporting."""

    normalized: str
    sentences: tuple[str, ...]
    # Each sentence's normalized words, to shortlist passages before comparing them closely.
    words: tuple[frozenset[str], ...]


def normalize(text: str) -> str:
    """Text as quotes are compared: typography, case and spacing do not matter."""
    text = unicodedata.normalize("NFKC", text).translate(TYPOGRAPHY)
    # "drones—over" and "drones — over" differ only in spacing.
    return SPACED_DASH.sub("-", " ".join(text.casefold().split()))


def verify_provenance(dossier: Dossier, sources_dir: Path | None = None) -> list[Problem]:
    """Problems with quotes that are not in their source's text and numbers not in their quote.

    Every sheet whose records carry a Quote and a Source is checked: each quote against the
    text copy of its source, and each number column's value against the record's own quote.
    A source's text copy is read only from the folders `source_folders` allows.
    """
    problems: list[Problem] = []
    texts: dict[str, SourceText] = {}
    folders = source_folders(dossier.path, sources_dir)
    for source in dossier.rows(SourceRow):
        if source.file:
            text = _read_source(dossier.path.parent, source, problems, folders)
            if text is not None:
                texts[source.id] = text
    for spec in dossier.schema.sheets:
        if not spec.has_quotes:
            continue
        numbers = [(attr, c) for attr, c in spec.fields if c.kind is Kind.NUMBER]
        parts = [(attr, c) for attr, c in spec.fields if c.part_of]
        for record in dossier.records.get(spec.name, ()):
            text = texts.get(record.source)
            if text is not None and not quote_found(record.quote, text.normalized):
                passage = closest_passage(record.quote, text)
                problems.append(
                    Problem(
                        spec.name,
                        record.coordinates["quote"],
                        f'quote not found in source {record.source}; closest passage: "{passage}"',
                    )
                )
            for attr, column in parts:
                excerpt = getattr(record, attr)
                whole = getattr(record, column.part_of)
                if excerpt and not quote_found(excerpt, normalize(whole)):
                    problems.append(
                        Problem(
                            spec.name,
                            record.coordinates[attr],
                            f"the {column.header.lower()} is not part of the "
                            f"{dict(spec.fields)[column.part_of].header.lower()} "
                            f"({record.coordinates[column.part_of]}); copy its words from there",
                        )
                    )
            for attr, column in numbers:
                value = getattr(record, attr)
                if not value_in_quote(value, record.quote):
                    problems.append(
                        Problem(
                            spec.name,
                            record.coordinates[attr],
                            f"the {column.header.lower()} {format_number(value)} does not "
                            f"appear in its quote ({record.coordinates['quote']}); check the "
                            "number or the quote",
                        )
                    )
    return problems


def source_folders(workbook: Path, sources_dir: Path | None = None) -> tuple[Path, ...]:
    """The folders a source's text copy may be in, symlinks resolved: the workbook's, the one
    above it (where a desk keeps its sources beside `workbooks/`) unless that is the file
    system's root, and `sources_dir` when given; raises SourcesFolderError when that is no
    folder.
    """
    here = Path(os.path.realpath(workbook.parent))
    folders = [here]
    if here.parent != here.parent.parent:
        folders.append(here.parent)
    if sources_dir is not None:
        if not os.path.isdir(sources_dir):
            found = "is not a folder" if os.path.exists(sources_dir) else "does not exist"
            raise SourcesFolderError(
                f"{sources_dir}: the folder given to --sources-dir {found}; name the folder "
                "that holds the sources' text copies"
            )
        folders.append(Path(os.path.realpath(sources_dir)))
    return tuple(folders)


def _read_source(
    folder: Path, source: SourceRow, problems: list[Problem], allowed: Sequence[Path] = ()
) -> SourceText | None:
    """The source's text copy, or None after recording why it cannot be read.

    Its File is a path relative to `folder` that leads, symlinks followed, into one of the
    `allowed` folders (by default `folder` alone): a workbook cannot make a check print
    /etc/passwd as a closest passage.
    """
    path = folder / source.file
    what = f"the source file '{source.file}'"
    try:
        if PurePosixPath(source.file).anchor or PureWindowsPath(source.file).anchor:
            raise UnreadableText(
                f"{what} is not a relative path; give the text copy's path relative to the "
                "workbook, such as ../seeds/article.txt"
            )
        # realpath, not Path.resolve, which raises on a symlink loop before Python 3.13.
        resolved = Path(os.path.realpath(path))
        allowed = allowed or (Path(os.path.realpath(folder)),)
        inside = [place for place in allowed if resolved.is_relative_to(place)]
        if not inside:
            raise UnreadableText(
                f"{what} leads outside {_listed_folders(allowed)}; move the text copy into "
                f"{'it' if len(allowed) == 1 else 'one of them'}, or name its folder with "
                "--sources-dir"
            )
        if not openly_within(resolved, inside):
            nearest = max(inside, key=lambda place: len(place.parts))
            hidden = next(p for p in resolved.relative_to(nearest).parts if p.startswith("."))
            raise UnreadableText(
                f"{what} leads into a hidden folder or file ({hidden}), where keys and "
                "settings are kept, not sources; move the text copy into a folder such as "
                "../seeds"
            )
        hint = f"give a text file's path relative to the workbook (looked for {path})"
        if not os.path.isfile(resolved):
            # Said of the path as written: resolved, a link to a missing file is that file.
            raise UnreadableText(f"{what} {missing_file(path)}; {hint}")
        text = read_text_file(resolved, what, hint=hint)
        if "\x00" in text:  # UTF-16 saved without its mark, or not text at all
            raise UnreadableText(
                f"{what} is not text (it holds NUL characters); save it as UTF-8 text"
            )
    except UnreadableText as err:
        problems.append(Problem("Sources", source.coordinates["file"], str(err)))
        return None
    sentences = tuple(
        " ".join(part.split()) for part in SENTENCE_END.split(text) if part and part.strip()
    )
    words = tuple(frozenset(WORD.findall(normalize(sentence))) for sentence in sentences)
    # Paragraphs stay apart: "..." may leave words out of a paragraph, not join two.
    paragraphs = (normalize(part) for part in PARAGRAPH_BREAK.split(text))
    return SourceText(f" {PARAGRAPH} ".join(p for p in paragraphs if p), sentences, words)


def openly_within(path: Path, folders: Sequence[Path]) -> bool:
    """Whether `path` (resolved) lies in one of `folders` through no hidden folder or file.

    The folder above a workbook saved in ~/Downloads is the home folder, whose hidden folders
    hold text a workbook must not make `check` print: ../.ssh/id_rsa, ../.aws/credentials.
    """
    return any(
        path.is_relative_to(folder)
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
        for folder in folders
    )


def _listed_folders(folders: Sequence[Path]) -> str:
    names = [str(folder) for folder in folders]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def quote_found(quote: str, normalized_source: str) -> bool:
    """Whether the quote's words stand in the source, in order; '...' may stand for any words."""
    start = -1
    for fragment in ELLIPSIS.split(normalize(quote)):
        fragment = fragment.strip(" \"'")
        if not fragment:
            continue
        # Whole words and whole numbers only: "ate" must not match inside "negotiate", nor
        # "lost 1" inside "lost 1,087", nor "87" inside "1,087".
        pattern = re.compile(rf"(?<!\w)(?<!\d[.,]){re.escape(fragment)}(?![.,]\d)(?!\w)")
        match = pattern.search(normalized_source, max(start, 0))
        if match is None:
            return False
        if start >= 0 and PARAGRAPH in normalized_source[start : match.start()]:
            return False
        start = match.end()
    return True


def closest_passage(quote: str, text: SourceText) -> str:
    """The sentence of the source most like the quote, shortened for one line.

    Sentences sharing the most words with the quote are shortlisted first, so that a quote
    checked against the wrong (long) file costs milliseconds, not minutes.
    """
    wanted = normalize(quote)
    words = frozenset(WORD.findall(wanted))
    shortlist = sorted(
        range(len(text.sentences)), key=lambda i: len(words & text.words[i]), reverse=True
    )[:SHORTLIST]
    best = max(
        (text.sentences[i] for i in sorted(shortlist)),
        key=lambda sentence: difflib.SequenceMatcher(None, wanted, normalize(sentence)).ratio(),
        default="",
    )
    return shorten(best, PASSAGE_CHARACTERS)


def numbers_in(text: str) -> set[float]:
    """Every number a sentence states, in digits or in words ("three", "two hundred and one")."""
    digits = words_to_digits(text)
    found = {float(match.replace(",", "")) for match in NUMBER.findall(digits)}
    found |= {float(re.sub(r"\D", "", match)) for match in SPACED_NUMBER.findall(digits)}
    return found | {
        round(float(number.replace(",", "")) * SCALES[scale.casefold()], 6)
        for number, scale in SCALED.findall(unicodedata.normalize("NFKC", text))
    }


def value_in_quote(value: float | None, quote: str) -> bool:
    if value is None:
        return True
    wanted = float(value)
    # Reading numbers in words is the slow part, and most quotes give theirs in digits, which
    # that reading leaves as they are: look at the digits alone first.
    if any(float(match.replace(",", "")) == wanted for match in NUMBER.findall(quote)):
        return True
    return wanted in numbers_in(quote)
