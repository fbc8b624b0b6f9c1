"""The values that flow between stages: raw cells, problems, the validated dossier."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum, StrEnum
from pathlib import Path
from typing import Any, Protocol, TypeVar, cast

from briefing.schema import SCHEMA, SOURCES, BriefingFields, Kind, Schema
from briefing.text import format_date, plural

RecordT = TypeVar("RecordT")

CellValue = str | int | float | bool | dt.datetime | dt.date | dt.time | None


@dataclass(frozen=True, slots=True)
class RawCell:
    """A cell as the file holds it; `error` is set when it holds no usable value."""

    coordinate: str  # such as "I7"
    value: CellValue
    error: str = ""  # such as "#N/A", or a formula whose value was never saved


@dataclass(frozen=True)
class RawRow:
    """One non-blank row below the header, its cells keyed by column letter."""

    number: int
    cells: dict[str, RawCell]


class NoCell(Enum):
    """Where a row given by its shape holds no cell (or an empty one) in a shape's column."""

    NO_CELL = "no cell"


NO_CELL = NoCell.NO_CELL


@dataclass(frozen=True, eq=False)
class RowShape:
    """The columns of rows whose cells are alike: each in the same column, in the same form.

    A long sheet's rows mostly share a few shapes, so the reader gives a run of rows of one
    shape together, cell by cell (see RowConsumer.take_shaped), instead of a dict per row.
    Shapes compare by identity: the reader makes each once per sheet.
    """

    # The column of each value form, left to right: a column whose cells take more than one
    # form (another style, text for a number) stands once for each, and a row holds at most
    # one of them.
    letters: tuple[str, ...]

    def row(self, number: int, values: Sequence[CellValue | NoCell]) -> RawRow:
        """Row `number` as cells, its values in the shape's columns (NO_CELL: none there)."""
        digits = str(number)
        return RawRow(
            number,
            {
                letter: RawCell(letter + digits, value)
                for letter, value in zip(self.letters, values, strict=True)
                if value is not NO_CELL
            },
        )

    def rows(
        self, numbers: Sequence[int], values: Sequence[Sequence[CellValue | NoCell]]
    ) -> Iterator[RawRow]:
        """Rows given cell by cell (see RowConsumer.take_shaped), one at a time."""
        for index, number in enumerate(numbers):
            yield self.row(number, [cell[index] for cell in values])


@dataclass(frozen=True)
class RawSheet:
    """A sheet as read: its header row and the rows below it, nothing checked yet."""

    name: str
    header_row: int
    headers: tuple[tuple[str, str], ...]  # (column letter, header text) in sheet order
    rows: tuple[RawRow, ...]
    hidden_rows: tuple[int, ...] = ()  # which of those rows Excel hides (by hand or a filter)
    streamed: bool = False  # its rows, header included, went to a RowConsumer instead


class RowConsumer(Protocol):
    """Takes a sheet's rows as the reader meets them, so that the sheet need not keep them.

    The rows come in reading order, the header row first, each with whether Excel hides it.
    A sheet whose rows turn out to need the whole sheet first (rows out of order, merged
    ranges) is read again and kept whole: `restart` says that what was taken is void.
    """

    def take(self, row: RawRow, hidden: bool) -> None: ...

    def take_shaped(
        self,
        shape: RowShape,
        numbers: Sequence[int],
        hidden: Collection[int],
        keys: Sequence[Sequence[bytes | None]],
        values: Sequence[Sequence[CellValue | NoCell]],
    ) -> None:
        """Rows given together, cell by cell: the same as `take` of each of `shape.rows(...)`.

        `numbers` are the rows', `hidden` those of them Excel hides; `keys` and `values` hold,
        for each value form of the shape (see RowShape.letters), its cell's bytes as stored
        and its value in each row (None and NO_CELL where the row has no cell in that form).
        At one position of one shape, equal keys hold equal values, so a consumer may convert
        each distinct key once.
        """

    def restart(self) -> None: ...


# Asked once per sheet, by the sheet's name: a consumer for its rows, or None to keep them.
RowConsumers = Callable[[str], RowConsumer | None]


@dataclass(frozen=True)
class RawWorkbook:
    """Every sheet of a workbook file, by name, in file order."""

    path: Path
    sheets: tuple[RawSheet, ...]

    def sheet(self, name: str) -> RawSheet | None:
        """The sheet called `name`, ignoring case and surrounding spaces."""
        wanted = name.strip().casefold()
        for sheet in self.sheets:
            if sheet.name.strip().casefold() == wanted:
                return sheet
        return None


class Severity(StrEnum):
    """Errors stop a build; warnings are printed and the build goes on."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """Something wrong in the workbook, at a sheet and cell when there is one."""

    sheet: str
    cell: str
    message: str
    severity: Severity = Severity.ERROR

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    @property
    def where(self) -> str:
        if self.sheet and self.cell:
            return f"{self.sheet}!{self.cell}"
        return self.sheet

    def __str__(self) -> str:
        prefix = "" if self.is_error else "warning: "
        return f"{self.where}: {prefix}{self.message}" if self.where else prefix + self.message


@dataclass(frozen=True)
class Edition:
    """The brief for a day, or for the `days` up to it: its window of dated records."""

    date: dt.date
    days: int = 1

    @property
    def first_day(self) -> dt.date:
        # Never before the calendar's first day, however many days were asked for.
        return self.date - dt.timedelta(days=min(self.days - 1, self.date.toordinal() - 1))

    @property
    def window(self) -> str:
        """The window as a reader writes it: "14 June 2024", "8–14 June 2024"."""
        first, last = self.first_day, self.date
        if first == last:
            return format_date(last)
        if (first.year, first.month) == (last.year, last.month):
            return f"{first.day}–{format_date(last)}"
        if first.year == last.year:
            return f"{first.day} {first:%B}–{format_date(last)}"
        return f"{format_date(first)}–{format_date(last)}"


@dataclass(frozen=True)
class Trend:
    """One claimant's daily figures of one metric and unit, over the days up to an edition."""

    claimed_by: str
    metric: str
    unit: str
    points: tuple[tuple[dt.date, float], ...]  # (day, value), in day order
    sources: tuple[str, ...]
    first_day: dt.date  # the first day the chart shows
    last_day: dt.date  # the edition's day


@dataclass(frozen=True)
class Dossier:
    """A workbook's records by sheet and the problems found in them.

    Every sheet the schema declares has its records here, by sheet name, in row order (an
    optional sheet the workbook lacks has none). Only a dossier without errors is built. A
    dossier chosen for an edition also knows its edition, the earlier version of each revised
    record, and the sources behind every record of the whole workbook (a judgment may rest
    on records outside the edition's window and still cite their sources).
    """

    path: Path
    records: Mapping[str, tuple[Any, ...]]
    problems: tuple[Problem, ...] = field(default=())
    schema: Schema = SCHEMA
    edition: Edition | None = None
    revisions: Mapping[str, Any] = field(default_factory=dict)
    behind: Mapping[str, tuple[str, ...]] | None = None

    def rows(self, record: type[RecordT]) -> tuple[RecordT, ...]:
        """The records of the sheet whose rows are of this class: `rows(FigureRow)`."""
        return cast(tuple[RecordT, ...], self.records.get(self.schema.sheet_of(record).name, ()))

    def with_rows(self, record: type[RecordT], rows: tuple[RecordT, ...]) -> Dossier:
        """A copy whose sheet of these records holds `rows` instead."""
        name = self.schema.sheet_of(record).name
        return replace(self, records={**self.records, name: rows})

    @property
    def briefing(self) -> BriefingFields:
        return self.rows(BriefingFields)[0]

    def sources_behind(self) -> Mapping[str, tuple[str, ...]]:
        """Record ID -> the source IDs it rests on, in order; a judgment through its records.

        A source rests on itself; a record with a Source column on that source; a record whose
        references name other records (a judgment's Based on) on their sources.
        """
        if self.behind is not None:
            return self.behind
        cited: dict[str, tuple[str, ...]] = {}
        alone: dict[str, tuple[str]] = {}
        resting: list[tuple[str, tuple[str, ...]]] = []  # (record ID, IDs it rests on)
        for spec in self.schema.record_sheets:
            if not spec.has_ids:
                continue
            refs = [attr for attr, column in spec.fields if column.kind is Kind.REFS]
            cites_sources = spec.cites_sources  # a property: asked once, not once per record
            for record in self.records.get(spec.name, ()):
                if spec.name == SOURCES:
                    cited[record.id] = (record.id,)
                elif cites_sources:
                    # One tuple per source, shared by the million figures that may cite it.
                    cited[record.id] = alone.setdefault(record.source, (record.source,))
                elif refs:
                    based_on = tuple(r for a in refs for r in getattr(record, a))
                    resting.append((record.id, based_on))
        # A record may rest on one that rests on others: resolve until nothing changes.
        for _ in resting:
            changed = False
            for record_id, based_on in resting:
                sources = tuple(dict.fromkeys(s for r in based_on for s in cited.get(r, ())))
                if cited.get(record_id) != sources:
                    cited[record_id] = sources
                    changed = True
            if not changed:
                break
        return cited


@dataclass(frozen=True)
class FieldChange:
    """One field of a record, as printed before and after."""

    header: str
    old: str
    new: str


@dataclass(frozen=True)
class RecordChange:
    """A record added, removed, changed, withdrawn or revised since the earlier workbook."""

    sheet: str
    noun: str  # "figure"
    kind: str  # "new", "removed", "changed", "withdrawn", "revised"
    record_id: str
    label: str  # the record in a few words
    fields: tuple[FieldChange, ...] = ()


# Kinds of change, in the order the counts line gives them.
CHANGE_KINDS = ("new", "removed", "changed", "withdrawn", "revised")


@dataclass(frozen=True)
class Changes:
    """What differs between an earlier copy of the workbook and this one."""

    since: dt.date
    records: tuple[RecordChange, ...]

    @property
    def summary(self) -> str:
        """One line of counts: "3 new figures, 1 demand withdrawn, 1 judgment revised"."""
        counted = Counter((change.kind, change.noun) for change in self.records)
        parts = []
        for kind in CHANGE_KINDS:
            for (which, noun), number in counted.items():
                if which == kind:
                    nouns = plural(noun, number)
                    parts.append(
                        f"{number} new {nouns}" if kind == "new" else f"{number} {nouns} {kind}"
                    )
        return ", ".join(parts) if parts else "no record added, removed or changed"


@dataclass(frozen=True)
class DocumentProperties:
    """What the memo's File > Properties show."""

    title: str
    subject: str
    author: str
    keywords: str
    created: dt.datetime
