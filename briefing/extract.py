"""Find candidate records in an article's text: figures, attributed statements and demands."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from briefing.errors import ExtractError
from briefing.model import CellValue, RawSheet
from briefing.places import Place, find_place
from briefing.schema import PARTY, UNREVIEWED, normalize_header
from briefing.text import (
    parse_date_text,
    remove_unsafe_characters,
    words_to_digits,
)

Row = dict[str, str | int | float]
Records = dict[str, list[dict[str, CellValue]]]

# Abbreviations whose full stop ends no sentence: "on Aug. 25", "Gen. Syrskyi", "U.S. aid".
# fmt: off
ABBREVIATIONS = (
    "Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct", "Nov", "Dec",
    "Mr", "Mrs", "Ms", "Dr", "Gen", "Lt", "Col", "Maj", "Sgt", "Capt", "Adm", "Sen", "Rep",
    "Gov", "Prof", "St", "No", "U.S", "U.K", "U.N", "E.U",
)
# fmt: on
# The full stop is looked for first: the abbreviations are asked only where one stands.
SENTENCE = re.compile(
    r"(?<=[.!?])"
    + "".join(rf"(?<!\b{re.escape(word)}\.)" for word in ABBREVIATIONS)
    + r"[\"'\u201d\u2019)\]]*\s+(?=[\"'\u201c\u2018(\[]?[A-Z0-9])"
)
# A megabyte of news gives about 7,000 candidate rows, written in about a second; a
# longer text is a book, not an article, and would take minutes.
LONGEST_SENTENCE = 2000  # characters; longer "sentences" are not prose and are passed over
NUMBER = re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?![\w]|,\d|\.\d)")
MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December|"
    r"(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?"  # wire copy's "Aug. 25"
)
DAY_OF_MONTH = re.compile(
    rf"(?:\b(?:{MONTHS})\s+\d{{1,2}}(?:[-–]\d{{1,2}})?\b|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{MONTHS}))"
)
# "£45 million", "USD 5.55 B", "1.5bn": a number and its scale are one number.
SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12, "bn": 1e9, "b": 1e9}
SCALED = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s*(thousand|million|billion|trillion|bn|B)\b")
CURRENCIES = {"£": "GBP", "$": "USD", "US$": "USD", "€": "EUR", "USD": "USD", "EUR": "EUR",
              "GBP": "GBP", "UAH": "UAH", "RUB": "RUB", "₴": "UAH", "₽": "RUB"}  # fmt: skip
CURRENCY_BEFORE = re.compile(r"(US\$|[£$€₴₽]|\b(?:USD|EUR|GBP|UAH|RUB))\s?\Z")
RATE = re.compile(r"(?:a|per|each|every)\s+(?:day|week|month|year)\b|annually|daily|monthly|weekly")
# Numbers that are part of a name: "F-16", "Kh-59", "Su-34"; "Group of Seven".
NAMED_BEFORE = re.compile(r"(?:\b[A-Z][A-Za-z]*-|Group of\s)\Z")
NAMED_NUMBER = re.compile(r"\bGroup of (?:Seven|Eight|Twenty)\b")
ONE_AMONG_COUNTS = re.compile(r"\b[Oo]ne\b(?=(?:\s+[\w-]+){1,3}\s+and\s+\d)")
PART_OF = re.compile(r"\s+(?:out\s+)?of\s+(?:the\s+)?\d[\d,]*")
EVENTS = (
    r"killed|wounded|injured|hurt|dead|shot down|downed|destroyed|intercepted|launched|fired|"
    r"captured|detained|evacuated|damaged|released|exchanged|returned|missing"
)
# A headline's "kill 2, injure 9" and a lede's "killing one man and wounding 5 others".
EVENT_FORMS = {
    "kill": "killed", "kills": "killed", "killing": "killed",
    "wound": "wounded", "wounds": "wounded", "wounding": "wounded",
    "injure": "injured", "injures": "injured", "injuring": "injured",
}  # fmt: skip
CASUALTIES = frozenset({"killed", "wounded", "injured", "hurt", "dead"})
EVENT = re.compile(rf"{EVENTS}|shot|down|hit|struck")  # words no unit is
EVENT_AFTER = re.compile(
    rf"\s*(?:were|was|have been|had been|are|been)\s+(?:\w+ly\s+)?(?P<event>{EVENTS})\b"
)
EVENT_BEFORE = re.compile(
    rf"\b(?P<event>{EVENTS}|{'|'.join(EVENT_FORMS)})\s+"
    r"(?:at least\s+|more than\s+|nearly\s+|about\s+|some\s+|another\s+)?\Z"
)
# "one" is a count where it counts a casualty: "killing one person", "one civilian was
# wounded", "three in Izium and one in Kupiansk".
PERSON = r"(?:person|civilian|man|woman|child|resident|soldier|serviceman|policeman)"
ONE_CASUALTY = re.compile(
    rf"\b((?:{EVENTS}|{'|'.join(EVENT_FORMS)})\s+(?:at least\s+)?)[Oo]ne\b(?=\s+{PERSON}\b)"
    rf"|\b()[Oo]ne\b(?=\s+{PERSON}\s+(?:was|has been|had been)\s+(?:{EVENTS})\b)"
    r"|(\d[^.;]*?\band\s+)one\b(?=\s+(?:more\s+)?(?:in|near|at)\s+[A-Z]|\s+of\s+the\s+\d)"
)
# "4 people were killed, 3 were still hospitalised": the state a bare number is in.
STATE_AFTER = re.compile(
    r"\s+(?:were|are|was|have been|had been|remain|remained)\s+(?:\w+ly\s+|still\s+)?"
    r"(?:believed\s+|reported\s+|thought\s+|feared\s+)?(?P<state>[a-z]+ed)\b"
)
# "the two sides", "both countries": parties the story has named, not a count.
PARTIES_NAMED = re.compile(
    r"\s+(?:sides|countries|nations|leaders|parties|delegations|presidents|governments|"
    r"states|neighbou?rs|armies)\b"
)
# "ages 61 and 64", "a 70-year-old", "aged 19", "under the age of 30": an age, not a count.
AGE_BEFORE = re.compile(r"\b(?:aged?|ages|age of)\s+(?:\d+\s+and\s+|between\s+)?\Z")
AGE_AFTER = re.compile(r"[- ]years?[- ]old\b")
THE_BEFORE = re.compile(r"\b(?:[Tt]he|[Bb]oth|[Tt]hese|[Tt]hose)\s+\Z")
# "three Kh-101 or Kh-555 cruise missiles": a model's name, as a word of what is counted.
MODEL = re.compile(r"[A-Z][\w]*-[\w-]+|[A-Z]+\d[\w-]*")
# "wounding 5 others", "two more near Lyman": what the number before counted.
ELIDED_NOUNS = frozenset({"others", "other", "more"})
PLACE_FOLLOWS = re.compile(r"\s*(?:in|near|at|on)\b")
ADDRESS = re.compile(r"https?://\S+")
RATES = {"annually": "a year", "daily": "a day", "monthly": "a month", "weekly": "a week"}
RATES |= {f"per {span}": f"a {span}" for span in ("day", "week", "month", "year")}
MONEY_FOR = re.compile(r"\s*(?:in|of|for|on)\s+(?P<what>(?:[\w'’-]+\s+){0,2}[\w'’-]+)")
NUMBER_OF = re.compile(r"\bnumber of (?P<what>[\w'’-]+)")
# "3 dead" counts people killed.
CASUALTY = re.compile(r"^(dead|killed|injured|wounded|hurt)\b")
CASUALTY_WORDS = {"dead": "killed"}
UNITS = {"kilometers": "km", "kilometres": "km", "metres": "m", "meters": "m"}
# "one person", "one civilian" count people.
UNITS |= dict.fromkeys(("person", "civilian", "man", "woman", "child", "resident"), "people")
HEADER_LINE = 120  # characters: a headline or date line is shorter than this
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
WEEKDAY = re.compile(rf"\b(?:on|late|early|last|this)\s+({'|'.join(WEEKDAYS)})\b", re.IGNORECASE)
MONTH_NUMBERS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
# "in early June", "since January 2024": a month, with no day after it.
MONTH_NAMED = re.compile(
    r"\b(?:[Ii]n|[Ss]ince|[Dd]uring|[Bb]y|[Uu]ntil|[Oo]f)\s+(?:(?:early|late|mid)[- ])?"
    r"(?P<month>January|February|March|April|May|June|July|August|September|October|November|"
    r"December)\b(?!\s+\d{1,2}\b)(?:\s+(?P<year>\d{4}))?"
)
LAST_MONTH = re.compile(r"\blast month\b", re.IGNORECASE)
# A word every time _time_named reads begins with: a sentence without one names no time.
TIME_WORD = re.compile(
    r"\b(?:mon|tue|wed|thu|fri|sat|sun|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|"
    r"yesterday|last)",
    re.IGNORECASE,
)
YESTERDAY = re.compile(r"\byesterday\b", re.IGNORECASE)
LAST_WEEK = re.compile(r"\blast week\b", re.IGNORECASE)
# fmt: off
STOP_WORDS = frozenset({
    "and", "or", "but", "in", "on", "at", "near", "from", "to", "into", "by", "for", "with",
    "over", "across", "off", "around", "outside", "inside", "within", "against", "through",
    "toward", "towards", "under", "amid", "along",
    "as", "than", "that", "which", "who", "while", "after", "before", "since", "during",
    "the", "a", "an", "its", "their", "his", "her",
    # A verb or a clause begins after what a number counts: "17 missiles were", "90 if".
    "is", "are", "was", "were", "be", "been", "being", "has", "have", "had", "will", "would",
    "could", "can", "may", "might", "if", "when", "still", "also", "not", "overnight",
    "yesterday", "today",
    # "90 prisoners each", "two women aged 70": what follows is no part of what is counted.
    "each", "apiece", "aged",
})
# fmt: on
ATTRIBUTION = re.compile(
    r"\b(said|says|saying|stated|states|stating|called|calls|commented|insisted|insists|"
    r"warned|warns|accused|accuses|dismissed|denounced|criticized|criticised|asserted|"
    r"emphasized|emphasised|stressed|pointed out|declared|weighed in|mentioned|urged|urges|urge|"
    r"argued|noted|described|claimed|claiming|claims|announced|announcing|deemed|reported|"
    r"reporting|reports|told|"
    r"tells|added|adds|wrote|writes|posted|confirmed|asked|explained|clarified|specified|"
    r"[Aa]ccording to|read)\b"
)
# "…, says Commander-in-Chief Syrskyi": the verb before its speaker.
INVERTED = re.compile(
    r"(?:^|[,\s])(?:said|says|added|wrote|[Aa]ccording to)\s+"
    r"(?P<who>(?:(?:an?|the)\s+(?:statement|report|post|release)\s+(?:by|from)\s+)?"
    r"(?:the\s+|an?\s+)?(?:[A-Z]|(?:source|official)s?\b)[^,;:]*"
    r"|(?:the|its|his|her)\s+(?:[\w-]+\s+){0,2}(?:governor|mayor|minister|ministry|spokesman|"
    r"spokeswoman|spokesperson|officials?|administration|military|agency|army|commander)\b)"
)
# "said Russia is stalling talks", "says Kyiv will not yield": a clause after the verb.
CLAUSE_IN_NAME = re.compile(
    r"\b(?:is|are|was|were|has|have|had|will|would|does|do|did|can|could|must|should)\b"
)
# "regional governor Ivan Petrenko said": a title in lower case before a full name.
TITLED_NAME = re.compile(
    r"^(?P<title>(?:[a-z][\w'’-]*\s+){1,3})(?P<name>(?:[A-Z][\w'’.-]*\s*){2,4})$"
)
# A news agency's dateline: "KYIV, Ukraine (AP) — ".
DATELINE = re.compile(r"^[A-Z][A-Z .'-]+(?:,\s*[\w .'-]+)?\s*(?:\(\w+\)\s*[—–-]+|>>)\s*")
# Words that open a clause: the speaker is named after the last of them before the verb.
CLAUSE_OPENERS = re.compile(
    r"\b(?:that|and|but|while|as|when|however|after|before|with)\s+", re.IGNORECASE
)
# "the Ukrainian leader said": a role without a name stands for the last speaker.
# fmt: off
ROLE_NOUNS = frozenset({
    "leader", "president", "minister", "spokesman", "spokeswoman", "spokesperson", "official",
    "governor", "mayor", "commander", "chief", "envoy", "secretary", "adviser", "advisor",
    "head", "premier", "chancellor",
})
# fmt: on
# "the ministry said", "the officials clarified": a body named before, without its name.
# fmt: off
BODY_NOUNS = frozenset({
    "ministry", "officials", "authorities", "agency", "administration", "military", "army",
    "office", "service", "government", "department", "command", "headquarters", "council",
    "committee", "force", "forces",
})
# fmt: on
GROUP_SPEAKERS = frozenset({"officials", "authorities", "source", "sources", "witnesses"})
# "its mayor", "the ministry", "the governor of the Sumy region".
ROLE_PHRASE = re.compile(
    r"^(?:the|its|his|her|their)\s+(?P<role>(?:[\w’'-]+\s+){0,2}[\w’'-]+.*)$", re.I
)
# "Ukraine's air force downed 9 drones, it said": the "it" is the sentence's subject.
SUBJECT = re.compile(
    r"^\s*(?:The\s+)?(?P<subject>[A-Z][\w’'.-]*(?:\s+[A-Za-z][\w’'.-]*){0,4}?)\s+"
    r"(?:[a-z]+ed|shot|said|says|hit|struck|has|have|had|was|were|is|are|will|would)\b"
)
# Said of something, not by someone: "No casualties were reported."; "Ukraine hasn't
# specified", "Russia did not say": nothing said.
PASSIVE = re.compile(
    r"\b(?:is|are|was|were|be|been|being)\s+\Z|(?:\bnot|n['’]t|\bnever)\s+(?:\w+ly\s+)?\Z"
)
# "according to a statement by the British government": the speaker is who made it.
MADE_BY = re.compile(r"^(?:an?|the)\s+(?:statement|report|post|release)\s+(?:by|from)\s+(.+)$")
# A condition one party sets another, as news writes it: "demanded that", "on condition that",
# "must", "urged … to", "calls for", "wants to see", "conditions … include", "only if Kyiv …".
DEMAND = re.compile(
    r"\b(?:demand(?:s|ed|ing)?\s+(?:that|for)\b|demanded|"
    r"demand(?:s|ed|ing)?\s+[\w’']+(?:\s+[\w’']+){0,3}\s+to\b|(?:a|the|its|his|their)\s+demands?\b|"
    r"on (?:the )?condition that|conditions?\b[^.]{0,80}?\binclud(?:e|es|ing)\b|"
    r"must|should|insist(?:s|ed)?\s+(?:that|on)|call(?:s|ed|ing)?\s+(?:for|on)\b|"
    r"urg(?:e|es|ed|ing)\s+[\w’']+(?:\s+[\w’']+){0,4}\s+to\b|"
    r"(?<!not\s)(?<!n't\s)(?<!n’t\s)wants?\s+(?:to\s+see|\w+\s+to)\b|"
    r"(?:only|even)\s+if\b|\bonly\b[^.;,]{0,60}?\bif\b|as\s+soon\s+as\b(?!\s+possible)|"
    r"\bready\b[^.;]{0,80}?\bif\b|provided\s+that|"
    r"(?<!for\s)as\s+long\s+as(?!\s+it\s+takes|\s+possible)|requires?|"
    r"required|seeks?|sought)",
    re.IGNORECASE,
)
REGION = re.compile(
    r"\b(?:[Ii]n|[Nn]ear|[Aa]cross)\s+the\s+(?P<region>[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)*\s+region)"
    r"(?:\s+of\s+(?P<country>[A-Z][\w'-]*))?"
)
# "2 people were hurt in Pisochyn, …": a place the gazetteer does not list, named
# right after what a number counts, before the clause ends.
# fmt: off
NOT_PLACES = frozenset({
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
    "Saturday", "Sunday", "Telegram", "Facebook", "Ukraine", "Russia", "Moscow", "Kyiv", "Kiev",
    "Europe", "English", "Ukrainian", "Russian", "Parliament",
})
# fmt: on
UNLISTED = re.compile(
    r"^[^,;.]*?\b(?:in|near|outside)\s+(?P<place>[A-Z][a-z’'-]+(?:-[A-Z][a-z’'-]+)?)"
    r"(?=\s*(?:[,;:.]|$)|\s+(?:and|on|overnight|after|when|while)\b)"
)
# A paragraph that goes on with what the one before told of: "The attack also …", "It …".
GOES_ON = re.compile(
    r"^(?:It|He|She|They|The (?:attack|strike|strikes|attacks|debris|blast|shelling|explosion|"
    r"drone|drones|missile|missiles|fire|fires))\b"
)
VILLAGE = re.compile(r"\b(?:village|town|city) of (?P<place>[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)*)")
PRONOUNS = frozenset({"he", "she", "they", "it", "these", "this"})
QUOTED = re.compile(
    r"\"[^\"]*\"|\u201c[^\u201d]*\u201d|(?<!\w)['\u2018](?=[A-Z]).*?[,.!?]['\u2019](?=\s|$)"
)
# The end of a quotation in single quotes: "… next few days.'" ("Russia's" is no end).
SINGLE_CLOSING = re.compile(r"[,.!?]['\u2019](?=\s|$)")
PARTY_WORDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("Russia", re.compile(r"\b(Putin|Kremlin|Moscow|Russia|Russian)\b")),
    ("Ukraine", re.compile(r"\b(Kyiv|Ukraine|Ukrainian|Zelenskyy?)\b")),
    ("NATO", re.compile(r"\bNATO\b")),
    ("United States", re.compile(r"\b(US|United States|Washington)\b|(?<!\w)U\.S\.(?!\w)")),
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
    publisher: str = ""  # from the date line: "The Desk Wire, 14 June 2024"
    url: str = ""  # an address among the header lines
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
    published, publisher = _date_line(lines)
    article = Article(
        title=lines[0][:300] if lines else "",
        published=published,
        ai_generated=bool(AI_MARKERS.search(text)),
        publisher=publisher,
        url=next((line for line in lines[:10] if ADDRESS.fullmatch(line)), ""),
    )
    recent: list[tuple[str, str]] = []  # the speakers named so far, (actor, role)
    party = ""
    seen: set[str] = set()
    # What an article reports was said, and demanded, by the day it was published.
    dated: Row = {"Date": article.published.isoformat()} if article.published else {}
    stated: Row = {"Stated": article.published.isoformat()} if article.published else {}
    # Where the headline puts the story holds where a paragraph names no place of its own.
    headline_place = find_place(f"in {article.title}")
    place: Place | None = headline_place
    for paragraph in text.split("\n"):
        if not paragraph.strip():
            continue  # the blank line between paragraphs
        # A place or a time named earlier in the paragraph holds for what follows; a paragraph
        # that goes on with the one before ("The attack also …") keeps its place.
        place = place if GOES_ON.match(paragraph.strip()) else headline_place
        when: Span | None = None
        for sentence in sentences(paragraph):
            if len(sentence) > LONGEST_SENTENCE:
                article.skipped += 1
                continue
            if sentence in seen:  # a headline repeated as the first line of the body
                continue
            seen.add(sentence)
            place = find_place(sentence) or place
            when = _time_named(sentence, article.published) or when
            day = when or ((article.published.isoformat(), None) if article.published else None)
            speaker = _speaker(sentence, recent)
            article.figures.extend(_figures(sentence, day, place, speaker[0]))
            party = _statements(article, sentence, speaker, recent, party, dated, stated)
    _name_roles(article)
    article.figures = _told_once(article.figures, article.title)
    # A headline's condition is told again in the body, by the same party.
    parties = {row["Party"] for row in article.demands if row["Quote"] != article.title}
    article.demands = [
        row
        for row in article.demands
        if row["Quote"] != article.title or row["Party"] not in parties
    ]
    # A headline's "…, Air Force says" is told again in the body, with the speaker's words.
    speakers = {row["Actor"] for row in article.reactions if row["Quote"] != article.title}
    article.reactions = [
        row
        for row in article.reactions
        if row["Quote"] != article.title or not _said_again(str(row["Actor"]), speakers)
    ]
    return article


def _said_again(actor: str, speakers: Iterable[object]) -> bool:
    """Whether one of the speakers is the actor, named at more or less length."""
    last = actor.split()[-1].casefold() if actor.split() else ""
    return any(last and last in str(speaker).casefold().split() for speaker in speakers)


def _told_once(figures: list[Row], headline: str) -> list[Row]:
    """Each figure once: the headline and the lede restate what the body reports.

    A figure is the same as another when its value, what it counts and its place are; the
    body's first telling is kept, and a headline's figure goes when the body tells it.
    """

    def key(row: Row) -> tuple[object, ...]:
        counted = str(row.get("Unit") or row.get("Metric") or "").casefold().rstrip("s")
        return row["Value"], counted, row.get("Region", ""), row.get("Location", "")

    body = [row for row in figures if row["Quote"] != headline]
    told = {key(row) for row in body}
    kept = [row for row in figures if row["Quote"] != headline or key(row) not in told]
    seen: dict[tuple[object, ...], object] = {}  # each figure's key, and its sentence
    once = []
    for row in kept:
        told_in = seen.get(key(row))
        if row["Quote"] != headline and told_in is not None and told_in != row["Quote"]:
            continue  # a later sentence restates it ("two missiles, two cruise missiles" do not)
        seen.setdefault(key(row), row["Quote"])
        once.append(row)
    return once


def _name_roles(article: Article) -> None:
    """Name a speaker the lede gives only by role from the sentences after it.

    "…, its mayor said." and then "Mayor Ivan Petrenko said …": the mayor of the lede is Ivan
    Petrenko, in the reaction and as the figures' Claimed by.
    """
    reactions = article.reactions
    for index, row in enumerate(reactions):
        role = str(row["Actor"])
        if not role or role[0].isupper() or role.casefold() in PRONOUNS:
            continue
        noun = role.split()[-1].casefold()
        named = next(
            (
                later
                for later in reactions[index + 1 : index + 4]
                if str(later["Actor"])[:1].isupper() and noun in str(later["Actor"]).casefold()
            ),
            None,
        )
        if named is None:
            continue
        row["Actor"] = named["Actor"]
        for figure in article.figures:
            if figure["Quote"] == row["Quote"] and figure.get("Claimed by") == role:
                figure["Claimed by"] = named["Actor"]


def _statements(
    article: Article,
    sentence: str,
    speaker: tuple[str, str],
    recent: list[tuple[str, str]],
    party: str,
    dated: Row,
    stated: Row,
) -> str:
    """Add the sentence's reaction and demand, if any, and its speaker (actor, role, as
    _speaker found them) to `recent`; the last party named."""
    actor, role = speaker
    if actor:  # a statement nobody is named for is no one's reaction
        recent.append((actor, role))
        article.reactions.append(
            {"Actor": actor, "Role": role, **dated, "Quote": sentence, "Review": UNREVIEWED}
        )
    if DEMAND.search(sentence):
        # "They also seek reparations from Moscow": a pronoun continues the last party.
        # The one who sets a condition is who states it: "“Troops must leave Kherson,” Putin
        # said" is Russia's; else the first party the sentence names.
        starts_with_pronoun = sentence.split(" ", 1)[0].casefold() in PRONOUNS
        said_by = _party(f"{actor} {role}") if actor else ""
        party = said_by or (party if starts_with_pronoun else (_party(sentence) or party))
        article.demands.append({"Party": party, **stated, "Quote": sentence, "Review": UNREVIEWED})
    return party


def _date_line(lines: Iterable[str]) -> tuple[dt.date | None, str]:
    """The article's date and publisher, from the first opening line that is a date or ends
    with one after a comma; (None, "") when none does.

    A date line may stand alone ("14 June 2024") or follow the publisher ("Reuters, June 14,
    2024"; "The Desk Wire (A. Writer), via Some Site, 14 June 2024" names The Desk Wire); a
    body sentence is longer than a header line and is never read as one.
    """
    for line in list(lines)[:10]:
        if len(line) > HEADER_LINE:
            continue
        parts = line.split(",")
        for start in range(len(parts) - 1, max(len(parts) - 4, -1), -1):
            found = parse_date_text(",".join(parts[start:]))
            if found is not None:
                publisher = ",".join(parts[:start])
                publisher = re.split(r"\s*\(|,\s*via\b", publisher)[0].strip(" ,-—")
                return found, publisher[:200]
    return None, ""


# When a figure's events happened: (Date, Until) as ISO days, Until None for a single day.
Span = tuple[str, str | None]


def _time_named(sentence: str, published: dt.date | None) -> Span | None:
    """The day a sentence puts its events on, or the period its figures cover, read against
    the article's date; None when it names none.

    "on Saturday" is the last Saturday up to the article's day, "on Aug. 25" that day of the
    article's year (or the year before, if it would come after the article), "yesterday" the
    day before. A figure told for a week or a month covers it: "last week" is that week's
    Monday to Sunday, "in early June" or "last month" the month's first day to its last (or
    to the article's day, for the month it was written in), "since January" January's first
    day to the article's day. "Overnight" names no other day: a morning report counts the
    night it ends.
    """
    if published is None or TIME_WORD.search(sentence) is None:
        return None
    weekday = WEEKDAY.search(sentence)
    if weekday:
        back = (published.weekday() - WEEKDAYS.index(weekday[1].capitalize())) % 7
        return (published - dt.timedelta(days=back)).isoformat(), None
    for match in DAY_OF_MONTH.finditer(sentence):
        written = match[0].replace(".", "").replace("Sept", "Sep")
        day = parse_date_text(f"{written} {published.year}")
        if day is not None:
            if day > published:
                day = day.replace(year=day.year - 1)
            return day.isoformat(), None
    if YESTERDAY.search(sentence):
        return (published - dt.timedelta(days=1)).isoformat(), None
    if LAST_WEEK.search(sentence):  # the week before the article's, Monday to Sunday
        monday = published - dt.timedelta(days=published.weekday() + 7)
        return monday.isoformat(), (monday + dt.timedelta(days=6)).isoformat()
    month = MONTH_NAMED.search(sentence)
    if month:
        number = MONTH_NUMBERS[month["month"][:3].casefold()]
        year = int(month["year"]) if month["year"] else published.year
        if not month["year"] and (year, number) > (published.year, published.month):
            year -= 1
        first = dt.date(year, number, 1)
        if first > published:  # "by December 2025": a month to come covers nothing yet
            return f"{year:04d}-{number:02d}", None
        if month[0].split()[0].casefold() == "since":
            return first.isoformat(), published.isoformat()
        return _month_span(first, published)
    if LAST_MONTH.search(sentence):
        earlier = published.replace(day=1) - dt.timedelta(days=1)
        return _month_span(earlier.replace(day=1), published)
    return None


def _month_span(first: dt.date, published: dt.date) -> Span:
    """A month from its first day to its last, or to the article's day if that comes first."""
    last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    return first.isoformat(), min(last, published).isoformat()


def _figures(sentence: str, when: Span | None, place: Place | None, claimant: str) -> Iterator[Row]:
    """A candidate for each number the sentence reports; years and days of months are not."""
    digits = _in_digits(sentence)
    dates = [match.span() for match in DAY_OF_MONTH.finditer(digits)]
    matches = list(NUMBER.finditer(digits))
    previous = ""  # what the last number counted: "killed 2 people and wounded 4"
    for index, match in enumerate(matches):
        start, end = match.span()
        if any(a <= start and end <= b for a, b in dates):
            continue
        value = float(match[0].replace(",", ""))
        if match[0].isdigit() and len(match[0]) == 4 and 1900 <= value <= 2100:
            continue  # a year
        if NAMED_BEFORE.search(digits, 0, start) or digits.startswith("-", end):
            continue  # a number in a name: an F-16, the Group of 7, a 15-16 June summit
        if THE_BEFORE.search(digits, 0, start) and PARTIES_NAMED.match(digits, end):
            continue  # "talks between the two sides"
        if AGE_BEFORE.search(digits, 0, start) or AGE_AFTER.match(digits, end):
            continue  # "aged 61 and 64", "a 70-year-old man"
        metric = _counted(digits, start, end)
        if metric.split()[:1] and metric.split()[0].casefold() in ELIDED_NOUNS and previous:
            metric = _elided(digits, start, end, previous, whole=True)
        metric = metric or _elided(digits, start, end, previous)
        next_word = end + len(digits[end:]) - len(digits[end:].lstrip())
        rate = RATE.match(digits, next_word)
        if rate is None and metric:
            rate = RATE.match(digits, digits.find(metric, end) + len(metric) + 1)
        if rate is not None:  # said once, as a rate: "annually" is "a year"
            metric = metric.removeprefix(rate[0]).strip()
        currency = CURRENCY_BEFORE.search(digits, 0, start)
        if currency is not None and not metric:  # "£3 billion a year in military aid"
            spent_on = MONEY_FOR.match(digits, rate.end() if rate is not None else next_word)
            metric = spent_on["what"] if spent_on else ""
        if not metric:  # "bring the number of prisoners swapped … to 1,400"
            number_of = NUMBER_OF.search(digits, 0, start)
            metric = number_of["what"] if number_of else ""
        metric = CASUALTY.sub(lambda m: f"people {CASUALTY_WORDS.get(m[1], m[1])}", metric)
        previous = metric or previous
        nouns = [word for word in metric.split() if not EVENT.fullmatch(word)]
        if len(nouns) >= 2 and nouns[-1].endswith("ed"):
            nouns.pop()  # "homes burned", "people trapped": the unit is what the verb is said of
        unit = UNITS.get(nouns[-1].casefold(), nouns[-1]) if nouns else ""
        if currency is not None:
            unit = CURRENCIES[currency[1]]
        if rate is not None:
            metric = f"{metric} {RATES.get(rate[0].casefold(), rate[0])}".strip()
        row: Row = {
            "Value": int(value) if value.is_integer() else value,
            "Metric": metric,
            "Unit": unit,
            "Status": "claimed",
            "Quote": sentence,
            "Review": UNREVIEWED,
        }
        if when is not None:
            row["Date"] = when[0]
            if when[1] is not None and when[1] != when[0]:
                row["Until"] = when[1]
        # The place named after a number, before the next one, belongs to it; else the
        # place named before it, since the last number; else the paragraph's last place.
        after = digits[end : matches[index + 1].start() if index + 1 < len(matches) else None]
        before = digits[matches[index - 1].end() if index else 0 : start]
        spot = _place_between(after, before) or place
        if spot is not None:
            row.update(
                (header, value)
                for header, value in (
                    ("Location", spot.location),
                    ("Region", spot.region),
                    ("Country", spot.country),
                )
                if value
            )
        if claimant:  # who the sentence says reported it
            row["Claimed by"] = claimant
        yield row


def _in_digits(sentence: str) -> str:
    """The sentence with every number in digits: "£45 million" -> "£45000000", "seven" -> "7",
    and "one" where a count follows it ("one missile and 7 drones"); names keep their words."""
    text = SCALED.sub(
        lambda m: str(round(float(m[1].replace(",", "")) * SCALES[m[2].casefold()])), sentence
    )
    text = NAMED_NUMBER.sub(lambda m: m[0].replace(" ", "\u00a0"), text)
    text = words_to_digits(text, smallest=2)
    text = ONE_CASUALTY.sub(lambda m: f"{m[1] or m[2] or m[3] or ''}1", text)
    return ONE_AMONG_COUNTS.sub("1", text)


def _place_between(after: str, before: str) -> Place | None:
    """The place named after a number (or else before it): a known one, or a village or
    region the words around it name ("the village of Esman", "in the Sumy region")."""
    unlisted = UNLISTED.match(after)
    listed = find_place(after)
    if listed is None and unlisted and unlisted["place"] not in NOT_PLACES:
        return Place(unlisted["place"], "", "")
    known = listed or find_place(before)
    region = REGION.search(after) or REGION.search(before)
    village = VILLAGE.search(after) or VILLAGE.search(before)
    if not (region or village):
        return known
    named = Place(
        village["place"] if village else "",
        region["region"] if region else "",
        (region["country"] or "") if region else "",
    )
    if known is None:
        return named
    return Place(
        named.location or known.location,
        named.region or known.region,
        named.country or known.country,
    )


def _elided(digits: str, start: int, end: int, previous: str, *, whole: bool = False) -> str:
    """What a bare number counts when the sentence said it before: "killed 2 people and
    wounded 4" counts people wounded, "3 people in Kharkiv and 4 in Chuhuiv" people; with
    `whole`, a number followed by "others" or "more" counts all the last one did ("4
    soldiers were captured near Izium and 2 more near Lyman": soldiers captured)."""
    words_follow = re.match(r"\s*[\w'’-]", digits[end:]) is not None
    if not previous or (
        words_follow
        and not whole
        and not PLACE_FOLLOWS.match(digits, end)
        and not STATE_AFTER.match(digits, end)
    ):
        return ""
    counted = previous.split()[0]
    counted = "people" if UNITS.get(counted.casefold()) == "people" else counted
    state = STATE_AFTER.match(digits, end)
    if counted and words_follow and state is not None:  # "3 were still hospitalised"
        return f"{counted} {state['state']}"
    happened = EVENT_BEFORE.search(digits, 0, start)
    if happened:
        return f"{counted} {EVENT_FORMS.get(happened['event'], happened['event'])}"
    return previous if whole else counted


def _counted(digits: str, start: int, end: int) -> str:
    """What a number counts: the words after it, and a "bodies of" before it."""
    # "8 of 9 drones": the 8 counts what the 9 does.
    part_of = PART_OF.match(digits, end)
    if part_of is not None:
        end = part_of.end()
    words: list[str] = []
    tokens = re.findall(r"[\w'’-]+|[^\w\s]", digits[end:])[:10]
    # "9 of Ukraine's oblasts", "2 of the drones": the number counts the noun after "of".
    if (
        tokens[:1] == ["of"]
        and len(tokens) > 2
        and re.fullmatch(r"the|its|their|\w+['’]s", tokens[1])
    ):
        tokens = tokens[2:]
    skip = 0
    for index, word in enumerate(tokens):
        if skip:
            skip -= 1
            continue
        follows = tokens[index + 1] if index + 1 < len(tokens) else ""
        if word == "or" and words and all(MODEL.fullmatch(w) for w in [*words, follows]):
            skip = 1  # "Kh-101 or Kh-555 cruise missiles"
            continue
        if not re.match(r"[\w'’-]", word) or word.casefold() in STOP_WORDS:
            break
        words.append(word)
        if len([w for w in words if not MODEL.fullmatch(w)]) == 3 or len(words) == 4:
            break
    while words and words[-1].casefold() == "of":  # "prisoners of" war cut short
        words.pop()
    before = re.search(r"(\w+) of\s*$", digits[:start])
    if before and before[1].casefold() not in STOP_WORDS and not before[1].isdigit():
        words = [before[1], "of", *words]
    # What happened to them: "3 people were injured", "killed 2 people".
    rest = digits[end:]
    happened = EVENT_AFTER.match(rest, len(" ".join(words)) + (len(rest) - len(rest.lstrip())))
    happened = happened or EVENT_BEFORE.search(digits, 0, start)
    event = EVENT_FORMS.get(happened["event"], happened["event"]) if happened else ""
    if not words and event in CASUALTIES and not PART_OF.match(digits, end):
        words = ["people"]  # "kill 1, injure 24"
    if words and event and event not in words:
        words.append(event)
    return " ".join(words)


def _speaker(sentence: str, recent: Sequence[tuple[str, str]] = ()) -> tuple[str, str]:
    """Who an attributed sentence quotes, and their role when an apposition gives it.

    The speaker is the name just before the verb that attributes ("…, Foreign Minister Ivan
    Petrenko said"), after it ("…, says Gen. Petrenko", "according to Reuters"), or, for "he"
    or "the Ukrainian leader", the last speaker named; for "the governor" or "the ministry", the
    last speaker named with that role; for "…, it said", the sentence's subject. `recent` holds
    the speakers named so far, (actor, role), the last one last.
    """
    masked = _outside_quotes(DATELINE.sub(lambda m: " " * len(m[0]), sentence))
    verb = ATTRIBUTION.search(masked)
    if verb is None:
        return "", ""
    before = masked[: verb.start()].rstrip()
    if PASSIVE.search(before + " "):
        return "", ""
    after = INVERTED.search(masked)
    if after is not None and CLAUSE_IN_NAME.search(_name_only(after["who"])):
        after = None  # "…, said Russia is stalling talks": a clause, not a name
    if after is not None and (
        verb[0].casefold() == "according to" or not before.strip() or before.endswith(",")
    ):
        return _role_speaker(_name_only(after["who"]), recent) or (_name_only(after["who"]), "")
    before = re.sub(r"\s+(?:also|then|later|earlier|quickly|again|has|have|had)$", "", before)
    closed = before.endswith(",")  # "Ivan Petrenko, an adviser to the president, said"
    parts = [part.strip() for part in re.split(r"[,;:—–]", before.strip(" ,")) if part.strip()]
    if not parts:
        if after is not None:
            return _name_only(after["who"]), ""
        return "", ""
    actor, role = parts[-1], ""
    if closed and len(parts) >= 2:
        if _is_name(parts[-1]) and not _is_name(parts[-2]):
            actor, role = parts[-1], parts[-2]  # "Trump's envoy, Keith Kellogg, said"
        else:
            actor, role = parts[-2], parts[-1]  # "Ivan Petrenko, an adviser, said"
    actor = CLAUSE_OPENERS.split(actor)[-1].strip()
    resolved = _role_speaker(actor, recent)
    if resolved is not None:
        return resolved
    # "Gov. Vadym Filashkin of the Donetsk region said": the speaker is before the "of" of a
    # place ("Deputy Head of the Presidential Office" is a title, and stays whole).
    titled, of, where = actor.partition(" of ")
    if of and len(titled.split()) >= 2 and find_place(f"in {where}") is not None:
        actor, role = titled, role or f"of {where}"
    if role.startswith(("who ", "which ")) or re.match(r"[a-z]+ing\b", role):
        role = ""  # "Ivan Petrenko, speaking on television, said": no role
    if actor.casefold() in ("it", "they") and len(parts) >= 2:
        subject = SUBJECT.match(masked)
        if subject is not None and subject["subject"].split()[0].casefold() not in PRONOUNS:
            return subject["subject"], ""
    if actor.casefold() in PRONOUNS:
        return (recent[-1][0] if recent else actor), ""
    actor = re.sub(r"^[Tt]he\s+(?=[A-Z])", "", actor)  # "the Russian Ministry of Defense"
    words = actor.split()
    if not words or len(words) > 10:
        return "", ""
    titled_name = TITLED_NAME.match(actor)
    if titled_name is not None:
        actor, role = titled_name["name"].strip(), role or titled_name["title"].strip()
    if not actor[0].isupper() and words[-1].casefold() not in GROUP_SPEAKERS:
        return "", ""
    role = re.sub(r"^(?:an?|the)\s+", "", role)
    if role and not role[0].isalpha():
        role = ""
    return actor, role[:120]


def _role_speaker(phrase: str, recent: Sequence[tuple[str, str]]) -> tuple[str, str] | None:
    """The speaker a role without a name stands for; None when the phrase is no role.

    "The governor of the Sumy region" is a speaker of its own; "the governor" is the last
    speaker named a governor, "the ministry" the last ministry (or body), "the Ukrainian
    leader" the last speaker; with no one named before, the role itself ("regional governor").
    """
    found = ROLE_PHRASE.match(phrase.strip())
    if found is None:
        return None
    role = found["role"].strip()
    head, of, where = role.partition(" of ")
    noun = head.split()[-1] if head.split() else ""
    if noun[:1].isupper():  # "the Russian Ministry of Defense" is a name
        return None
    if noun not in ROLE_NOUNS and noun not in BODY_NOUNS:
        return None
    if of and find_place(f"in {where}") is not None:
        return role, ""  # "the governor of the northern region of Sumy"
    last = recent[-1][0] if recent else ""
    if last and noun in BODY_NOUNS and last.split()[-1].casefold() in BODY_NOUNS:
        return last, ""  # "the officials" of the administration named just before
    for actor, title in reversed(recent):
        if noun.removesuffix("s") in f"{actor} {title}".casefold():
            return actor, ""
    if last and noun in ROLE_NOUNS:
        return last, ""  # "the Ukrainian leader"
    if last and last.split()[-1].casefold() in BODY_NOUNS:
        return last, ""  # "the officials" of the administration named before
    return role, ""


def _outside_quotes(sentence: str) -> str:
    """The sentence with quoted words blanked, a quotation begun in an earlier sentence too."""
    # A quotation ends a clause: "“…,” he said" as "…, he said".
    masked = QUOTED.sub(lambda match: " " * (len(match[0]) - 1) + ",", sentence)
    closing = max(masked.rfind("\u201d"), masked.rfind('"') if masked.count('"') % 2 else -1)
    closing = max([closing, *(match.end() - 1 for match in SINGLE_CLOSING.finditer(masked))])
    if closing >= 0:  # '… as planned," the source told.': the quote opened before
        masked = " " * (closing + 1) + masked[closing + 1 :]
    return masked


def _is_name(text: str) -> bool:
    """Whether the words are a name alone: a few words, each capitalised."""
    words = text.split()
    return 0 < len(words) <= 4 and all(word[:1].isupper() for word in words)


def _name_only(text: str) -> str:
    """A speaker named after the verb, without what follows the name ("on Friday", "in …")."""
    made_by = MADE_BY.match(text.strip())
    text = made_by[1] if made_by else text
    text = re.sub(r"^the\s+(?=[A-Z])", "", text.strip())
    name = re.split(r"\s+(?:on|in|at|during|after|before|that|who|which)\b", text)[0]
    # The name ends at a full stop that is not an abbreviation's ("Gen. Ivan Petrenko.").
    words: list[str] = []
    for word in name.split()[:8]:
        words.append(word)
        if word.endswith(".") and word[:-1] not in ABBREVIATIONS:
            words[-1] = word[:-1]
            break
    return " ".join(words)


def _party(sentence: str) -> str:
    """The first party a sentence names, if it is one of the vocabulary's."""
    found = [
        (match.start(), name)
        for name, pattern in PARTY_WORDS
        if (match := pattern.search(sentence)) is not None
    ]
    party = min(found)[1] if found else ""
    return party if PARTY.find(party) else ""


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
                "Publisher": found.publisher,
                "Published": found.published.isoformat() if found.published else "",
                "URL": found.url,
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
