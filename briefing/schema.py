"""The workbook schema, declared once: sheets, columns, types, vocabularies and references.

Each record class below is both the model a later stage reads and the declaration of its sheet:
every field carries its column (header, kind, help, example, vocabulary) as metadata, so
reading, validation, `briefing init`, the Guide sheet and the docs all come from one place.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from itertools import repeat
from typing import Any

from briefing.text import Number, PartialDate, format_date, format_number, shorten_words

__all__ = ["Number"]  # re-exported: record fields are typed with it


class Kind(StrEnum):
    """What a column holds, which decides how a cell is read and checked."""

    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    PARTIAL_DATE = "date, month or year"
    CHOICE = "choice"
    ID = "ID"
    REF = "reference"
    REFS = "references"
    EMAILS = "email addresses"


class Layout(StrEnum):
    """How a sheet is laid out."""

    RECORDS = "records"  # header in one row, one record per row below it
    FIELDS = "fields"  # a Field column and a Value column, one field per row


@dataclass(frozen=True)
class Choice:
    """One allowed value of a vocabulary: the code stored in the cell and the words printed."""

    code: str
    words: str = ""


@dataclass(frozen=True)
class Vocabulary:
    """A controlled list of values, offered as a dropdown in the workbook."""

    name: str
    choices: tuple[Choice, ...]

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(choice.code for choice in self.choices)

    def find(self, text: str) -> Choice | None:
        """The choice `text` names, ignoring case and surrounding spaces."""
        wanted = " ".join(text.split()).casefold()
        for choice in self.choices:
            if choice.code.casefold() == wanted:
                return choice
        return None

    def words_for(self, code: str) -> str:
        choice = self.find(code)
        return choice.words if choice and choice.words else code


PARTY = Vocabulary(
    "party",
    tuple(
        Choice(name)
        for name in (
            "Russia",
            "Ukraine",
            "United States",
            "NATO",
            "European Union",
            "G7",
            "Other",
        )
    ),
)
STANCE = Vocabulary(
    "stance",
    (
        Choice("supports"),
        Choice("opposes"),
        Choice("mixed"),
        Choice("neutral"),
    ),
)
RELIABILITY = Vocabulary(
    "reliability",
    (
        Choice("A", "completely reliable"),
        Choice("B", "usually reliable"),
        Choice("C", "fairly reliable"),
        Choice("D", "not usually reliable"),
        Choice("E", "unreliable"),
        Choice("F", "reliability cannot be judged"),
    ),
)
CREDIBILITY = Vocabulary(
    "credibility",
    (
        Choice("1", "confirmed by other sources"),
        Choice("2", "probably true"),
        Choice("3", "possibly true"),
        Choice("4", "doubtful"),
        Choice("5", "improbable"),
        Choice("6", "truth cannot be judged"),
    ),
)
YES_NO = Vocabulary("yes or no", (Choice("yes"), Choice("no")))
FIGURE_STATUS = Vocabulary(
    "figure status",
    (
        Choice("claimed", "claimed, not independently confirmed"),
        Choice("confirmed", "confirmed"),
        Choice("disputed", "disputed"),
    ),
)
LIKELIHOOD = Vocabulary(
    "likelihood (ICD 203)",
    (
        Choice("almost no chance", "01–05%"),
        Choice("very unlikely", "05–20%"),
        Choice("unlikely", "20–45%"),
        Choice("roughly even chance", "45–55%"),
        Choice("likely", "55–80%"),
        Choice("very likely", "80–95%"),
        Choice("almost certain", "95–99%"),
    ),
)
CONFIDENCE = Vocabulary(
    "confidence",
    (Choice("low"), Choice("moderate"), Choice("high")),
)
HANDLING = Vocabulary(
    "handling label (TLP 2.0)",
    (
        # TLP 2.0's own one-line rules, as the memo's footer prints them.
        Choice("TLP:CLEAR", "Disclosure is not limited."),
        Choice(
            "TLP:GREEN", "Limited disclosure: recipients may share this within their community."
        ),
        Choice(
            "TLP:AMBER",
            "Limited disclosure: recipients may share this on a need-to-know basis within their "
            "organisation and its clients.",
        ),
        Choice(
            "TLP:AMBER+STRICT",
            "Limited disclosure: recipients may share this within their organisation only.",
        ),
        Choice("TLP:RED", "For the eyes and ears of the individual recipients only."),
    ),
)

REVIEW = Vocabulary("review state", (Choice("unreviewed"), Choice("reviewed")))

VOCABULARIES = (
    PARTY,
    STANCE,
    RELIABILITY,
    CREDIBILITY,
    YES_NO,
    FIGURE_STATUS,
    LIKELIHOOD,
    CONFIDENCE,
    HANDLING,
    REVIEW,
)


@dataclass(frozen=True)
class Column:
    """One column of a record sheet (or one field of a field sheet)."""

    header: str
    kind: Kind
    help: str
    example: str
    required: bool = False
    vocabulary: Vocabulary | None = None
    refers_to: tuple[str, ...] = ()  # sheets whose IDs a reference may name; see ANY_RECORD
    width: int = 16
    # The version that added the column: a workbook made before it reads it as empty, with
    # one warning, even when the column is required.
    since: str = ""
    # The analyst's own working notes, never printed in the memo.
    private: bool = False
    # Headers the column had before, still read: a workbook made then keeps working.
    aliases: tuple[str, ...] = ()
    # The attribute of another column whose text this one must be a part of (an excerpt).
    part_of: str = ""

    def printed(self, value: Any) -> str:
        """A value of this column as the memo prints it: "1,234", "14 June 2024", "D1, R2"."""
        if self.kind is Kind.NUMBER:
            return format_number(value)
        if self.kind in (Kind.DATE, Kind.PARTIAL_DATE):
            return format_date(value)
        if self.kind in (Kind.REFS, Kind.EMAILS):
            return ", ".join(value)
        return str(value)

    @property
    def allowed(self) -> str:
        """The allowed values, as the Guide and error messages print them."""
        if self.vocabulary is None:
            return ""
        return ", ".join(self.vocabulary.codes)


def column(
    header: str,
    kind: Kind,
    help: str,
    example: str,
    *,
    required: bool = False,
    vocabulary: Vocabulary | None = None,
    refers_to: tuple[str, ...] = (),
    width: int = 16,
    since: str = "",
    private: bool = False,
    aliases: tuple[str, ...] = (),
    part_of: str = "",
) -> Any:
    """A dataclass field that declares the column it is read from."""
    spec = Column(
        header,
        kind,
        help,
        example,
        required,
        vocabulary,
        refers_to,
        width,
        since=since,
        private=private,
        aliases=aliases,
        part_of=part_of,
    )
    return field(metadata={"column": spec})


def coordinates_field() -> Any:
    """A record's cell coordinates by attribute ("value" -> "I7"), for pointing at problems."""
    return field(default_factory=dict, compare=False, repr=False)


class RowCoordinates(Mapping[str, str]):
    """The cells of one row by attribute, made when asked: "value" -> "I7", "" for no column.

    A sheet's rows share one map of column letters, so a record costs two references rather
    than a dictionary of strings (a million rows hold fourteen million of them).
    """

    __slots__ = ("_letters", "_row")

    def __init__(self, letters: Mapping[str, str], row: int) -> None:
        self._letters = letters
        self._row = row

    def __getitem__(self, attr: str) -> str:
        letter = self._letters[attr]
        return f"{letter}{self._row}" if letter else ""

    def __iter__(self) -> Iterator[str]:
        return iter(self._letters)

    def __len__(self) -> int:
        return len(self._letters)


def records_by_column(record: type[Any], columns: Mapping[str, Sequence[Any]]) -> list[Any]:
    """Records of a slotted dataclass, each field's values given as a column of equal length.

    The same records as `record(**fields)` makes row by row, a third of the time: a frozen
    dataclass's __init__ sets each field through object.__setattr__, in Python, where each
    slot's own setter mapped over a column runs in C (100,000 figures: 0.10 s against 0.34 s).
    Every field without a default must have a column; the others take their default. A
    record class without slots (one a newcomer declares), or with a __post_init__, is made row
    by row, by its __init__.
    """
    count = len(next(iter(columns.values()), ()))
    unknown = set(columns) - {each.name for each in dataclasses.fields(record)}
    if unknown:
        raise TypeError(f"{record.__name__}: no field for the columns {sorted(unknown)}")
    if "__slots__" not in vars(record) or hasattr(record, "__post_init__"):
        rows = zip(*columns.values(), strict=True)
        return [record(**dict(zip(columns, row, strict=True))) for row in rows]
    made = list(map(object.__new__, repeat(record, count)))
    for each in dataclasses.fields(record):
        values: Any = columns.get(each.name)
        if values is None:
            if each.default is not dataclasses.MISSING:
                values = repeat(each.default, count)
            elif each.default_factory is not dataclasses.MISSING:
                values = (each.default_factory() for _ in range(count))
            else:
                raise TypeError(f"{record.__name__}: no column for the field {each.name!r}")
        elif len(values) != count:
            raise ValueError(f"{record.__name__}: the column {each.name!r} is not {count} long")
        deque(map(getattr(record, each.name).__set__, made, values), maxlen=0)
    return made


# The version that gave every record its time.
DATED_RECORDS = "0.2.0"
# The version whose memo briefs in two pages and proves in annexes.
MEMO_ANNEXES = "0.2.0"
# The column that marks a row as an unreviewed candidate, and its value.
REVIEW_HEADER = "Review"
UNREVIEWED = "unreviewed"
# The sheet a record's Source column names.
SOURCES = "Sources"
# A reference that may name the ID of a record on any sheet that has IDs.
ANY_RECORD = ("*",)


@dataclass(frozen=True, kw_only=True, slots=True)
class BriefingFields:
    """The Briefing sheet: who the memo is for, what it is about, and how it may be shared."""

    title: str = column(
        "Title",
        Kind.TEXT,
        "The memo's title, printed at the top of the first page.",
        "Putin's ceasefire conditions and the reactions to them",
        required=True,
        width=60,
    )
    subject: str = column(
        "Subject",
        Kind.TEXT,
        "The SUBJECT line of the memo block.",
        "Russia sets terms for a ceasefire in Ukraine",
        required=True,
    )
    date: dt.date = column("Date", Kind.DATE, "The memo's date.", "2024-06-14", required=True)
    recipient: str = column(
        "For",
        Kind.TEXT,
        "MEMORANDUM FOR: who the memo is addressed to.",
        "Desk editor",
        required=True,
    )
    author: str = column(
        "From",
        Kind.TEXT,
        "FROM: the desk or analyst who wrote it.",
        "Russia–Ukraine desk",
        required=True,
    )
    handling: str = column(
        "Handling",
        Kind.CHOICE,
        "Traffic Light Protocol label, printed in the header and footer of every page.",
        "TLP:CLEAR",
        required=True,
        vocabulary=HANDLING,
    )
    bluf: str = column(
        "BLUF",
        Kind.TEXT,
        "Bottom line up front: the two or three sentences a busy reader needs.",
        "Putin offered a ceasefire on terms Kyiv and NATO rejected at once.",
        required=True,
    )
    email_to: tuple[str, ...] = column(
        "Email to",
        Kind.EMAILS,
        "Addresses the memo is emailed to, separated by commas, semicolons or line breaks.",
        "desk-editor@example.org",
    )
    outlook: str = column(
        "Outlook",
        Kind.TEXT,
        "What to watch next, one item a line; the memo's Outlook section.",
        "Whether Kyiv's partners sign the Swiss summit's communiqué.",
    )
    reference: str = column(
        "Reference",
        Kind.TEXT,
        "The memo's reference; empty: the workbook's name and the edition's date.",
        "RU-UA/2024/061",
    )
    coordinates: Mapping[str, str] = coordinates_field()


@dataclass(frozen=True, kw_only=True, slots=True)
class SourceRow:
    """A source the records cite, graded on the Admiralty scale."""

    id: str = column(
        "ID",
        Kind.ID,
        "A short unique ID that records cite, such as S1.",
        "S1",
        required=True,
        width=8,
    )
    title: str = column(
        "Title",
        Kind.TEXT,
        "The title of the article, report or statement.",
        "Putin promises ceasefire if Ukraine leaves occupied areas",
        required=True,
        width=40,
    )
    publisher: str = column(
        "Publisher", Kind.TEXT, "Who published it.", "Unknown (feed item)", width=22
    )
    published: PartialDate | None = column(
        "Published", Kind.PARTIAL_DATE, "When it was published.", "2024-06-14", width=13
    )
    url: str = column("URL", Kind.TEXT, "Where it can be found online.", "https://example.org/a")
    file: str = column(
        "File",
        Kind.TEXT,
        "A UTF-8 text copy of the source, used to check quotes: its path relative to this "
        "workbook, in the workbook's folder or the one above, or in --sources-dir.",
        "../seeds/article.txt",
        width=24,
    )
    reliability: str = column(
        "Reliability",
        Kind.CHOICE,
        "How far the source can be trusted (Admiralty A–F).",
        "F",
        required=True,
        vocabulary=RELIABILITY,
        width=12,
    )
    credibility: str = column(
        "Credibility",
        Kind.CHOICE,
        "How credible this information is (Admiralty 1–6).",
        "3",
        required=True,
        vocabulary=CREDIBILITY,
        width=12,
    )
    ai_generated: str = column(
        "AI-generated",
        Kind.CHOICE,
        "yes if the source says or shows it was generated with AI.",
        "yes",
        vocabulary=YES_NO,
        width=13,
    )
    notes: str = column(
        "Grading note",
        Kind.TEXT,
        "Why the source is graded as it is; printed with the grade in the sources annex.",
        "No named author.",
        width=40,
        aliases=("Notes",),
    )
    coordinates: Mapping[str, str] = coordinates_field()


def source_column() -> Any:
    """The Source column: the ID of the Sources row a record comes from."""
    return column(
        "Source",
        Kind.REF,
        "The ID of the source this comes from (Sources sheet).",
        "S1",
        required=True,
        refers_to=("Sources",),
        width=9,
    )


def quote_column() -> Any:
    """The Quote column: the source's words, checked against its text copy."""
    return column(
        "Quote",
        Kind.TEXT,
        "The sentence of the source it comes from, copied exactly.",
        "Kyiv must withdraw its troops from the four regions.",
        required=True,
        width=50,
    )


def note_column() -> Any:
    """The Note column: the analyst's own, never printed."""
    return column(
        "Note", Kind.TEXT, "Anything the analyst wants to add.", "", width=30, private=True
    )


def review_column() -> Any:
    """The Review column: 'unreviewed' keeps an extracted candidate out of checks and the memo."""
    return column(
        "Review",
        Kind.CHOICE,
        "'unreviewed' marks a candidate from briefing extract: it stays out of checks and the "
        "memo until you check it and clear this cell.",
        "",
        vocabulary=REVIEW,
        width=12,
        private=True,
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class DemandRow:
    """A condition one party sets for a ceasefire or peace."""

    id: str = column("ID", Kind.ID, "A unique ID such as D1.", "D1", required=True, width=8)
    party: str = column(
        "Party",
        Kind.CHOICE,
        "The side making the demand.",
        "Russia",
        required=True,
        vocabulary=PARTY,
        width=15,
    )
    demand: str = column(
        "Demand",
        Kind.TEXT,
        "The demand in a few words.",
        "Ukraine withdraws from four regions",
        required=True,
        width=40,
    )
    category: str = column(
        "Category",
        Kind.TEXT,
        "A tag to group demands, such as territory or security.",
        "territory",
        width=14,
    )
    detail: str = column("Detail", Kind.TEXT, "More on what is asked.", "", width=30)
    stated: PartialDate | None = column(
        "Stated",
        Kind.PARTIAL_DATE,
        "When the party first stated the demand.",
        "2024-06-14",
        width=13,
        since=DATED_RECORDS,
    )
    withdrawn: PartialDate | None = column(
        "Withdrawn",
        Kind.PARTIAL_DATE,
        "When the party dropped it; empty while it stands.",
        "",
        width=13,
        since=DATED_RECORDS,
    )
    source: str = source_column()
    quote: str = quote_column()
    note: str = note_column()
    review: str = review_column()
    coordinates: Mapping[str, str] = coordinates_field()


@dataclass(frozen=True, kw_only=True, slots=True)
class ReactionRow:
    """What an official, ministry or alliance said in response."""

    id: str = column("ID", Kind.ID, "A unique ID such as R1.", "R1", required=True, width=8)
    date: PartialDate | None = column(
        "Date", Kind.PARTIAL_DATE, "When it was said.", "2024-06-14", width=13, since=DATED_RECORDS
    )
    actor: str = column(
        "Actor",
        Kind.TEXT,
        "Who reacted: a person, ministry or alliance.",
        "Jens Stoltenberg",
        required=True,
        width=22,
    )
    role: str = column("Role", Kind.TEXT, "Their position.", "NATO Secretary-General", width=24)
    affiliation: str = column(
        "Affiliation", Kind.TEXT, "The state or body they speak for.", "NATO", width=16
    )
    stance: str = column(
        "Stance",
        Kind.CHOICE,
        "Their stance towards the proposal.",
        "opposes",
        required=True,
        vocabulary=STANCE,
        width=11,
    )
    summary: str = column(
        "Summary",
        Kind.TEXT,
        "What they said, in a sentence.",
        "Not a peace plan.",
        required=True,
        width=40,
    )
    excerpt: str = column(
        "Excerpt",
        Kind.TEXT,
        "A few of their words to print, taken from the Quote; '...' may stand for words left "
        "out. Empty: the memo prints the whole quote.",
        "not a peace plan",
        width=30,
        since=MEMO_ANNEXES,
        part_of="quote",
    )
    source: str = source_column()
    quote: str = quote_column()
    note: str = note_column()
    review: str = review_column()
    coordinates: Mapping[str, str] = coordinates_field()


@dataclass(frozen=True, kw_only=True, slots=True)
class FigureRow:
    """A battlefield number: what it counts, where, and who claims it."""

    id: str = column("ID", Kind.ID, "A unique ID such as F1.", "F1", required=True, width=8)
    date: PartialDate | None = column(
        "Date",
        Kind.PARTIAL_DATE,
        "The day it refers to; for a period, the day (or month) it starts.",
        "2024-06-14",
        width=13,
    )
    until: PartialDate | None = column(
        "Until",
        Kind.PARTIAL_DATE,
        'For a figure that covers a period ("in May and June"), the day or month it ends.',
        "",
        width=13,
        since=DATED_RECORDS,
    )
    location: str = column("Location", Kind.TEXT, "Town, village or site.", "Esman", width=14)
    region: str = column("Region", Kind.TEXT, "Region or oblast.", "Sumy region", width=16)
    country: str = column("Country", Kind.TEXT, "Country.", "Ukraine", width=12)
    claimed_by: str = column(
        "Claimed by",
        Kind.TEXT,
        "Who reports the number.",
        "Ukraine's air force",
        required=True,
        width=22,
    )
    event_type: str = column(
        "Event type",
        Kind.TEXT,
        "What happened, such as shelling or air defence.",
        "air defence",
        width=14,
    )
    metric: str = column(
        "Metric",
        Kind.TEXT,
        "What the number counts.",
        "drones shot down",
        required=True,
        width=22,
    )
    value: Number = column(
        "Value", Kind.NUMBER, "The number itself, in digits.", "17", required=True, width=9
    )
    unit: str = column("Unit", Kind.TEXT, "What one counts as.", "drones", width=10)
    status: str = column(
        "Status",
        Kind.CHOICE,
        "Whether the number is confirmed.",
        "claimed",
        required=True,
        vocabulary=FIGURE_STATUS,
        width=11,
    )
    source: str = source_column()
    quote: str = quote_column()
    note: str = note_column()
    review: str = review_column()
    coordinates: Mapping[str, str] = coordinates_field()


@dataclass(frozen=True, kw_only=True, slots=True)
class JudgmentRow:
    """A key judgment, with its likelihood, confidence and the records it rests on."""

    id: str = column(
        "ID",
        Kind.ID,
        "A unique ID such as J1; give it again on a new row with a later As of to revise it.",
        "J1",
        required=True,
        width=8,
    )
    as_of: PartialDate | None = column(
        "As of",
        Kind.PARTIAL_DATE,
        "The day the judgment was made; a later row with the same ID replaces it from its day.",
        "2024-06-14",
        width=13,
        since=DATED_RECORDS,
    )
    judgment: str = column(
        "Judgment",
        Kind.TEXT,
        "The judgment, without likelihood or confidence words.",
        "Moscow will keep its demands unchanged through the summer.",
        required=True,
        width=60,
    )
    likelihood: str = column(
        "Likelihood",
        Kind.CHOICE,
        "How likely, in ICD 203 words.",
        "likely",
        required=True,
        vocabulary=LIKELIHOOD,
        width=20,
    )
    confidence: str = column(
        "Confidence",
        Kind.CHOICE,
        "How confident the analyst is.",
        "moderate",
        required=True,
        vocabulary=CONFIDENCE,
        width=12,
    )
    based_on: tuple[str, ...] = column(
        "Based on",
        Kind.REFS,
        "IDs of the records it rests on, separated by commas.",
        "D1, R2",
        required=True,
        refers_to=ANY_RECORD,
        width=16,
    )
    coordinates: Mapping[str, str] = coordinates_field()


@dataclass(frozen=True, kw_only=True, slots=True)
class TimelineRow:
    """A dated event."""

    date: PartialDate = column(
        "Date",
        Kind.PARTIAL_DATE,
        "When it happened: a day, or a month or year where that is all that is known.",
        "2024-06-14",
        required=True,
        width=13,
    )
    event: str = column(
        "Event",
        Kind.TEXT,
        "What happened.",
        "Putin sets out his ceasefire terms.",
        required=True,
        width=50,
    )
    source: str = source_column()
    quote: str = quote_column()
    coordinates: Mapping[str, str] = coordinates_field()


class Timing(StrEnum):
    """How a sheet's records are placed in time, which decides what a dated edition holds."""

    UNDATED = "undated"  # the Briefing fields
    CITED = "cited"  # sources: those that what is printed cites
    DATED = "dated"  # in the edition when the time they cover meets its window
    STANDING = "standing"  # in force from their start until their end
    VERSIONED = "versioned"  # the latest version of each ID on the edition's day
    HISTORY = "history"  # everything up to the edition's day: background


@dataclass(frozen=True)
class SheetSpec:
    """One sheet of the workbook and the record class its rows become."""

    name: str
    record: type[Any]
    layout: Layout
    help: str
    # A workbook without an optional sheet reads it as empty; one made before the version
    # that added the sheet (`since`) also gets one warning that it is missing.
    optional: bool = False
    since: str = ""
    timing: Timing = Timing.UNDATED
    # The attributes holding when a record starts and ends (dated, standing, versioned).
    starts: str = ""
    ends: str = ""
    noun: str = ""  # one record, as a reader says it; the sheet's name less its "s" if empty

    @property
    def record_noun(self) -> str:
        return self.noun or self.name.casefold().removesuffix("s")

    def label(self, record: Any, limit: int = 120) -> str:
        """A record in a few words: its required text, numbers and dates (not its quote)."""
        parts = [
            column.printed(getattr(record, attr))
            for attr, column in self.fields
            if column.required
            and column.kind not in (Kind.ID, Kind.REF, Kind.REFS, Kind.CHOICE)
            and not column.private
            and attr != "quote"
        ]
        return shorten_words(", ".join(part for part in parts if part), limit)

    @cached_property
    def columns(self) -> tuple[Column, ...]:
        return tuple(column for _, column in self.fields)

    @cached_property
    def fields(self) -> tuple[tuple[str, Column], ...]:
        """(attribute name, column) pairs, in the order the sheet shows them."""
        return tuple(
            (f.name, f.metadata["column"])
            for f in dataclasses.fields(self.record)
            if "column" in f.metadata
        )

    @property
    def header_keys(self) -> dict[str, str]:
        """Every header a column is read under (its own, then old ones), normalized -> its own."""
        keys = {normalize_header(c.header): normalize_header(c.header) for c in self.columns}
        for column in self.columns:
            for alias in column.aliases:
                keys.setdefault(normalize_header(alias), normalize_header(column.header))
        return keys

    @property
    def key(self) -> str:
        """The sheet's name as templates and JSON use it: "Figures" -> "figures"."""
        return "_".join(self.name.casefold().split())

    @cached_property
    def has_ids(self) -> bool:
        return any(column.kind is Kind.ID for column in self.columns)

    @cached_property
    def cites_sources(self) -> bool:
        """Whether each record names the source it comes from in a Source column."""
        return any(
            attr == "source" and column.refers_to == (SOURCES,) for attr, column in self.fields
        )

    @cached_property
    def has_quotes(self) -> bool:
        """Whether each record carries its source's words in a Quote column, to be checked."""
        return self.cites_sources and any(attr == "quote" for attr, _ in self.fields)

    @property
    def may_be_missing(self) -> bool:
        return self.optional or bool(self.since)


@dataclass(frozen=True)
class Schema:
    """Every sheet of the workbook, in the order `init` writes them and problems are sorted."""

    sheets: tuple[SheetSpec, ...]

    def sheet(self, name: str) -> SheetSpec:
        for sheet in self.sheets:
            if sheet.name == name:
                return sheet
        raise KeyError(name)

    def sheet_of(self, record: type[Any]) -> SheetSpec:
        """The sheet whose rows become records of this class."""
        for sheet in self.sheets:
            if sheet.record is record:
                return sheet
        raise KeyError(record.__name__)

    @property
    def record_sheets(self) -> tuple[SheetSpec, ...]:
        return tuple(sheet for sheet in self.sheets if sheet.layout is Layout.RECORDS)

    def targets(self, column: Column) -> tuple[str, ...]:
        """The sheets whose IDs a reference column may name."""
        if column.refers_to == ANY_RECORD:
            return tuple(sheet.name for sheet in self.sheets if sheet.has_ids)
        return column.refers_to

    def accepts(self, column: Column) -> str:
        """What the cell may hold, as the Guide sheet and the docs describe it."""
        if column.refers_to:
            return "an ID from " + " or ".join(self.targets(column))
        return column.allowed


SHEETS = (
    SheetSpec(
        "Briefing",
        BriefingFields,
        Layout.FIELDS,
        "Who the memo is for, what it is about and how it may be shared.",
    ),
    SheetSpec(
        "Sources",
        SourceRow,
        Layout.RECORDS,
        "Every source the records cite, graded for reliability and credibility.",
        timing=Timing.CITED,
    ),
    SheetSpec(
        "Demands",
        DemandRow,
        Layout.RECORDS,
        "Each side's conditions, in force from Stated until Withdrawn.",
        timing=Timing.STANDING,
        starts="stated",
        ends="withdrawn",
    ),
    SheetSpec(
        "Reactions",
        ReactionRow,
        Layout.RECORDS,
        "What officials, ministries and alliances said, and when.",
        timing=Timing.DATED,
        starts="date",
    ),
    SheetSpec(
        "Figures",
        FigureRow,
        Layout.RECORDS,
        "Battlefield numbers, each with its date, place and who claims it.",
        timing=Timing.DATED,
        starts="date",
        ends="until",
    ),
    SheetSpec(
        "Judgments",
        JudgmentRow,
        Layout.RECORDS,
        "Key judgments, with likelihood, confidence and the records they rest on; a row with "
        "an ID already used and a later As of revises that judgment.",
        timing=Timing.VERSIONED,
        starts="as_of",
    ),
    SheetSpec(
        "Timeline",
        TimelineRow,
        Layout.RECORDS,
        "Dated events, the background up to each edition's day.",
        timing=Timing.HISTORY,
        starts="date",
        noun="timeline event",
    ),
)
SCHEMA = Schema(SHEETS)
GUIDE_SHEET = "Guide"
FIELD_HEADER = ("Field", "Value", "About")


def column_help(column: Column) -> str:
    """What a column is, as the Guide sheet and the docs say it, with the version that added it."""
    if column.since:
        return f"{column.help} (Added in briefing {column.since}.)"
    return column.help


def normalize_header(text: str) -> str:
    """A header as compared: case, non-breaking and repeated spaces do not matter."""
    return " ".join(text.replace("\u00a0", " ").split()).casefold()
