"""Turn raw rows into typed records, collecting every problem with its sheet and cell."""

from __future__ import annotations

import datetime as dt
import operator
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import compress, repeat
from typing import Any

from email_validator import EmailNotValidError, validate_email

from briefing.model import (
    NO_CELL,
    CellValue,
    Dossier,
    NoCell,
    Problem,
    RawCell,
    RawRow,
    RawSheet,
    RawWorkbook,
    RowConsumer,
    RowShape,
    Severity,
)
from briefing.schema import (
    FIELD_HEADER,
    REVIEW_HEADER,
    SCHEMA,
    SOURCES,
    UNREVIEWED,
    Column,
    Kind,
    Layout,
    RowCoordinates,
    Schema,
    SheetSpec,
    Timing,
    normalize_header,
    records_by_column,
)
from briefing.text import (
    PartialDate,
    count,
    format_date,
    listed,
    parse_date_text,
    parse_partial_date,
    plural,
    remove_unsafe_characters,
)

SERIAL = re.compile(r"\d{5}")  # Excel's day numbers for 1927 to 2173
EXCEL_EPOCH = dt.date(1899, 12, 30)
NUMBER_TEXT = re.compile(r"[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?")
# Signs a number may carry as typed: "12%", "$1,200", "€5", "1 200 ₴".
NUMBER_SIGNS = re.compile(r"^[$€£¥₴₽]|[%$€£¥₴₽]$")
HEADER_SEARCH_ROWS = 10  # rows below the first used one where a header row may stand
REF_SEPARATORS = re.compile(r"[,;\s]+")
# Outlook separates addresses with semicolons; Alt+Enter puts each on a line of its own.
ADDRESS_SEPARATORS = re.compile(r"[,;\r\n\u2028\u2029]")
CELL = re.compile(r"([A-Z]+)(\d+)")
MEMO_ENTRIES = 4096  # distinct clean values a column remembers the typed value of
_MISSING = object()
# How add_shaped reads the rows of one shape (see _plan_shape).
_ShapePlan = tuple[
    tuple[str, ...],  # every field, in the record's order
    # Each field's cell as (position in the shape, typed values by key) for each form its
    # column takes there: none where the shape has no such column.
    list[tuple[tuple[int, dict[bytes | None, Any]], ...]],
    list[Column],
    list[Any],  # each field's empty value, or _REQUIRED
    tuple[int, ...],  # the positions of the Review column's cell in the shape
]
_ABSENT = object()  # no cell in this form (the row may hold one in another)


def validate_workbook(
    raw: RawWorkbook, schema: Schema = SCHEMA, streams: RecordStreams | None = None
) -> Dossier:
    """The workbook's records, by sheet, and every problem found in them.

    `streams` are the consumers the reader gave the rows of sheets it kept no rows of. A
    dossier whose problems include errors holds empty values where cells were wrong: later
    checks may read it, but it must not reach a memo.
    """
    state = streams.state if streams is not None else _Validation(schema)
    records = {spec.name: state.read_sheet(raw, spec) for spec in schema.sheets}
    state.check_ids_and_references(records)
    for spec in schema.sheets:
        if spec.layout is Layout.FIELDS and not records[spec.name]:
            records[spec.name] = [_blank(spec)]  # a field sheet is one record, even when missing
    return Dossier(
        path=raw.path,
        records={name: tuple(rows) for name, rows in records.items()},
        problems=sort_problems(state.problems, schema),
        schema=schema,
    )


def locate_header(sheet: RawSheet, spec: SheetSpec) -> RawSheet:
    """The sheet read from its header row: the row near the top naming the most known columns.

    A title or a note typed above the header is passed over rather than taken for it. A
    Briefing sheet whose Field/Value header was deleted is read from its first row.
    """
    if spec.layout is Layout.FIELDS:
        known = {normalize_header(header) for header in FIELD_HEADER}
    else:
        known = set(spec.header_keys)
    candidates = [(sheet.header_row, sheet.headers)] + [
        (row.number, tuple((letter, str(cell.value)) for letter, cell in row.cells.items()))
        for row in sheet.rows[:HEADER_SEARCH_ROWS]
    ]
    scores = [sum(normalize_header(t) in known for _, t in headers) for _, headers in candidates]
    best = scores.index(max(scores))
    if spec.layout is Layout.FIELDS and max(scores) == 0 and sheet.header_row:
        first = RawRow(
            number=sheet.header_row,
            cells={
                letter: RawCell(f"{letter}{sheet.header_row}", text)
                for letter, text in sheet.headers
            },
        )
        return RawSheet(
            name=sheet.name,
            header_row=0,
            headers=(),
            rows=(first, *sheet.rows),
            hidden_rows=sheet.hidden_rows,
        )
    if best == 0:
        return sheet
    number, headers = candidates[best]
    rows = tuple(row for row in sheet.rows if row.number > number)
    return RawSheet(
        name=sheet.name,
        header_row=number,
        headers=headers,
        rows=rows,
        hidden_rows=sheet.hidden_rows,
    )


def sort_problems(problems: Iterable[Problem], schema: Schema = SCHEMA) -> tuple[Problem, ...]:
    """Problems in the order a reader meets them: sheets in schema order, then cell by cell."""
    order = [spec.name for spec in schema.sheets]
    return tuple(sorted(problems, key=lambda problem: _reading_order(problem, order)))


def _blank(spec: SheetSpec) -> Any:
    return spec.record(**{attr: _empty(column) for attr, column in spec.fields})


def _reading_order(problem: Problem, order: list[str]) -> tuple[int, int, int, str]:
    """Sheets in schema order, then rows top to bottom, then columns left to right."""
    sheet = order.index(problem.sheet) if problem.sheet in order else len(order)
    match = CELL.fullmatch(problem.cell)
    if match is None:
        return (sheet, 0, 0, "")
    return (sheet, int(match[2]), len(match[1]), match[1])


@dataclass
class _Validation:
    schema: Schema
    problems: list[Problem] = field(default_factory=list)
    # Sheets whose records could not be read: references into them cannot be checked.
    unreadable: set[str] = field(default_factory=set)
    cited_by_candidates: set[str] = field(default_factory=set)
    streams: dict[str, _RecordStream] = field(default_factory=dict)  # by the spec's name

    def error(self, sheet: str, cell: str, message: str) -> None:
        self.problems.append(Problem(sheet, cell, message))

    def warn(self, sheet: str, cell: str, message: str) -> None:
        self.problems.append(Problem(sheet, cell, message, Severity.WARNING))

    # -- sheets

    def read_sheet(self, raw: RawWorkbook, spec: SheetSpec) -> list[Any]:
        sheet = raw.sheet(spec.name)
        if sheet is None and spec.may_be_missing:
            if spec.since:
                self.warn(
                    spec.name,
                    "",
                    f"missing sheet '{spec.name}' (added in briefing {spec.since}); read as "
                    "empty: add it from a workbook made by 'briefing init'",
                )
            return []
        if sheet is None:
            found = ", ".join(s.name for s in raw.sheets) or "no sheets"
            self.error(spec.name, "", f"missing sheet '{spec.name}'; the workbook has: {found}")
            self.unreadable.add(spec.name)
            return []
        if spec.layout is Layout.FIELDS:
            return self._read_fields(locate_header(sheet, spec), spec)
        if sheet.streamed:
            return self.streams[spec.name].finish()
        return self._read_records(locate_header(sheet, spec), spec)

    def _map_headers(
        self, sheet: RawSheet, known: Mapping[str, str], *, warn_unknown: bool
    ) -> dict[str, str]:
        """Normalized header -> column letter; duplicated and unknown headers are reported.

        `known` maps each header a column may have (old ones too) to the column's own.
        """
        name = sheet.name
        letters: dict[str, str] = {}
        for letter, text in sheet.headers:
            key = known.get(normalize_header(text), normalize_header(text))
            if not key:
                continue
            if key in letters:
                self.error(
                    name,
                    f"{letter}{sheet.header_row}",
                    f"column '{text.strip()}' appears twice (also in "
                    f"{letters[key]}{sheet.header_row}); delete or rename one",
                )
                continue
            letters[key] = letter
            if warn_unknown and key not in known.values():
                self.warn(
                    name,
                    f"{letter}{sheet.header_row}",
                    f"column '{text.strip()}' is not part of the schema and is ignored",
                )
        return letters

    def _read_records(self, sheet: RawSheet, spec: SheetSpec) -> list[Any]:
        records = self.records_reader(sheet, spec)
        if records is None:
            return []
        hidden = set(sheet.hidden_rows)
        for row in sheet.rows:
            records.add(row, row.number in hidden)
        return records.finish()

    def records_reader(self, sheet: RawSheet, spec: SheetSpec) -> _RecordsReader | None:
        """What reads the sheet's rows below its header into records; None (after saying so)
        when a required column is missing."""
        columns = spec.fields
        letters = self._map_headers(sheet, spec.header_keys, warn_unknown=True)
        absent = [c for _, c in columns if normalize_header(c.header) not in letters]
        for column in absent:
            if column.since:
                self.warn(
                    sheet.name,
                    "",
                    f"missing column '{column.header}' (added in briefing {column.since}); read "
                    "as empty: add it to the header row",
                )
        missing = [column.header for column in absent if column.required and not column.since]
        if missing:
            found = ", ".join(text.strip() for _, text in sheet.headers if text.strip())
            names = ", ".join(repr(m) for m in missing)
            what = f"missing {plural('column', len(missing))} {names}"
            if sheet.header_row:
                message = f"{what}; found in row {sheet.header_row}: {found}"
            else:
                message = f"{what}; the sheet is empty: add its header row"
            self.error(sheet.name, "", message)
            self.unreadable.add(sheet.name)
            return None
        return _RecordsReader(self, sheet.name, spec, letters)

    def _warn_hidden(self, sheet: RawSheet, read: list[int]) -> None:
        """Rows read into the dossier that Excel hides: the analyst may think them left out."""
        hidden = set(sheet.hidden_rows)
        numbers = [number for number in read if number in hidden]
        if numbers:
            self.warn(sheet.name, "", _hidden_rows_read(numbers))

    def check_period(
        self, spec: SheetSpec, values: Mapping[str, Any], cells: Mapping[str, str], name: str
    ) -> None:
        """A record's end (Until, Withdrawn) may not come before its start (Date, Stated)."""
        if not (spec.starts and spec.ends):
            return
        start, end = values.get(spec.starts), values.get(spec.ends)
        # A month may end a period that starts within it: compare the days each may mean.
        if (
            isinstance(start, PartialDate)
            and isinstance(end, PartialDate)
            and end.end < start.start
        ):
            headers = dict(spec.fields)
            self.error(
                name,
                cells[spec.ends],
                f"{headers[spec.ends].header} ({format_date(end)}) is before "
                f"{headers[spec.starts].header} ({format_date(start)}); swap them or correct one",
            )

    def _read_fields(self, sheet: RawSheet, spec: SheetSpec) -> list[Any]:
        field_key, value_key = (normalize_header(h) for h in FIELD_HEADER[:2])
        field_keys = {normalize_header(header): normalize_header(header) for header in FIELD_HEADER}
        letters = self._map_headers(sheet, field_keys, warn_unknown=False)
        name_letter = letters.get(field_key, "A")
        value_letter = letters.get(value_key, "B")
        by_header = {normalize_header(c.header): (attr, c) for attr, c in spec.fields}
        by_field = {key: by_header[own] for key, own in spec.header_keys.items()}
        found: dict[str, RawCell | None] = {}
        coordinates: dict[str, str] = {}
        fields_read: list[int] = []
        for row in sheet.rows:
            label = row.cells.get(name_letter)
            if label is None or label.value is None:
                continue
            key = normalize_header(str(label.value))
            if key not in by_field:
                self.warn(
                    sheet.name,
                    label.coordinate,
                    f"field '{label.value}' is not part of the schema and is ignored",
                )
                continue
            attr = by_field[key][0]
            if attr in coordinates:
                self.error(
                    sheet.name,
                    label.coordinate,
                    f"field '{str(label.value).strip()}' appears twice (also in "
                    f"{name_letter}{coordinates[attr][len(value_letter) :]}); delete one",
                )
                continue
            found[attr] = row.cells.get(value_letter)
            coordinates[attr] = f"{value_letter}{row.number}"
            fields_read.append(row.number)
        values: dict[str, Any] = {}
        for attr, column in spec.fields:
            if attr not in coordinates:
                if column.required:
                    self.error(
                        sheet.name,
                        "",
                        f"missing field '{column.header}'; add a row with {column.header} in "
                        f"the {FIELD_HEADER[0]} column and its value beside it",
                    )
                values[attr] = _empty(column)
                continue
            values[attr] = self.read_cell(sheet.name, coordinates[attr], found[attr], column)
        if sheet.hidden_rows:
            self._warn_hidden(sheet, fields_read)
        return [spec.record(**values, coordinates=coordinates)]

    # -- cells

    def read_cell(self, sheet: str, coordinate: str, raw: RawCell | None, column: Column) -> Any:
        """The cell's typed value, or the column's empty value after recording a problem."""
        if raw is not None and raw.error:
            self.error(sheet, coordinate, raw.error)
            return _empty(column)
        value = None if raw is None else raw.value
        if isinstance(value, str):
            cleaned = remove_unsafe_characters(value)
            if cleaned != value:
                self.warn(
                    sheet,
                    coordinate,
                    f"removed {count(len(value) - len(cleaned), 'control character')} "
                    "a Word document cannot hold",
                )
            value = cleaned if cleaned.strip() else None
        if value is None:
            if column.required:
                self.error(sheet, coordinate, f"{column.header} is required but the cell is empty")
            return _empty(column)
        if column.kind is Kind.EMAILS:
            return self._read_addresses(sheet, coordinate, value)
        try:
            return _convert(value, column)
        except ValueError as err:
            self.error(sheet, coordinate, str(err))
            return _empty(column)

    def _read_addresses(self, sheet: str, coordinate: str, value: CellValue) -> tuple[str, ...]:
        """The cell's email addresses, each checked for its syntax only (no network).

        Each address that is not one is a problem of its own at the cell.
        """
        addresses = []
        for part in ADDRESS_SEPARATORS.split(_to_text(value)):
            text = " ".join(part.split())
            if not text:
                continue
            try:
                # Mail headers need an ASCII address: a domain in other scripts is written
                # in its ASCII form; a mailbox name in other scripts is refused.
                checked = validate_email(text, check_deliverability=False, allow_smtputf8=False)
            except EmailNotValidError as err:
                reason = str(err)
                self.error(
                    sheet,
                    coordinate,
                    f"{text!r} is not an email address ({reason[:1].lower()}{reason[1:]}); "
                    "write addresses such as desk@example.org, separated by commas",
                )
                continue
            addresses.append(checked.ascii_email or checked.normalized)
        return tuple(addresses)

    # -- across sheets

    def check_ids_and_references(self, records: Mapping[str, list[Any]]) -> None:
        # Each ID's first record (its class names its sheet). A million figures make a million
        # entries: where a record stands is worked out only for a duplicate.
        seen: dict[str, Any] = {}
        # Versioned sheets: an ID may come again with another start (a revised judgment).
        versions: dict[str, set[Any]] = {}
        sheets = self.schema.sheets
        # A schema may give two sheets one record class: then the sheet is looked for.
        sheets_of: dict[type, list[SheetSpec]] = {}
        for spec in sheets:
            sheets_of.setdefault(spec.record, []).append(spec)
        for spec in sheets:
            if not spec.has_ids:
                continue
            versioned = spec.timing is Timing.VERSIONED
            for record in records[spec.name]:
                if not record.id:
                    continue
                start = getattr(record, spec.starts) if versioned else None
                first = seen.get(record.id)
                if first is None:
                    seen[record.id] = record
                    if versioned:
                        versions[record.id] = {start}
                    continue
                candidates = sheets_of[type(first)]
                first_sheet = candidates[0]
                if len(candidates) > 1:
                    first_sheet = next(
                        s for s in candidates if any(r is first for r in records[s.name])
                    )
                same_sheet = first_sheet is spec
                if (
                    versioned
                    and same_sheet
                    and start is not None
                    and None not in versions[record.id]
                    and start not in versions[record.id]
                ):
                    versions[record.id].add(start)
                    continue
                hint = ""
                if versioned and same_sheet:
                    header = dict(spec.fields)[spec.starts].header
                    hint = f"; to revise it, give both rows their {header}, the new one later"
                where = f"{first_sheet.name}!{first.coordinates['id']}"
                self.error(
                    spec.name,
                    record.coordinates["id"],
                    f"duplicate ID '{record.id}' (also at {where}){hint}",
                )
        ids_by_sheet = {
            spec.name: list(map(operator.attrgetter("id"), records[spec.name]))
            for spec in sheets
            if spec.has_ids
        }
        cited: set[str] = set()
        for spec in sheets:
            for attr, column in spec.fields:
                if column.kind not in (Kind.REF, Kind.REFS):
                    continue
                targets = self.schema.targets(column)
                if self.unreadable.intersection(targets):
                    continue
                known = [i for sheet in targets for i in ids_by_sheet.get(sheet, [])]
                known_ids = set(known)  # a judgment may cite any of a million figures
                rows = records[spec.name]
                values = list(map(operator.attrgetter(attr), rows))
                if column.kind is Kind.REF:  # one ID a cell: each distinct one is checked once
                    refs = set(values)
                    cited |= refs
                    if all(ref in known_ids for ref in refs if ref):
                        continue
                for record, value in zip(rows, values, strict=True):
                    for ref in (value,) if isinstance(value, str) else value:
                        cited.add(ref)
                        if ref and ref not in known_ids:
                            self.error(
                                spec.name,
                                record.coordinates[attr],
                                _unknown_reference(ref, column.kind, targets, known),
                            )
        for source in records.get(SOURCES, []):
            if source.id not in cited and source.id not in self.cited_by_candidates:
                self.warn(
                    SOURCES,
                    source.coordinates["id"],
                    f"source '{source.id}' is cited by no record",
                )


_REQUIRED = object()  # in a records reader's plan: the column has no empty value to give


class _RecordsReader:
    """Reads a sheet's rows below its header, one at a time, into records.

    A row with a bad cell is still kept, so that its ID and references are checked and one
    mistake is reported once; no dossier is built while any error stands.
    """

    def __init__(
        self, state: _Validation, name: str, spec: SheetSpec, letters: Mapping[str, str]
    ) -> None:
        self.state, self.name, self.spec = state, name, spec
        self.records: list[Any] = []
        self.unreviewed: list[int] = []
        self.hidden: list[int] = []  # hidden rows read into records
        self.review = letters.get(normalize_header(REVIEW_HEADER))
        self.source = letters.get("source", "")
        self.letters = {
            attr: letters.get(normalize_header(column.header), "") for attr, column in spec.fields
        }
        # Rows repeat their claimants, units and days: each column remembers the values it
        # has read cleanly (keyed by type too, as True == 1 == 1.0), and converts each once.
        # An optional column's empty cell is its empty value, with nothing to check.
        self.plan = [
            (
                attr,
                column,
                self.letters[attr],
                dict[tuple[type, CellValue], Any](),
                _REQUIRED if column.required else _empty(column),
            )
            for attr, column in spec.fields
        ]
        self.shape_plans: dict[RowShape, _ShapePlan | None] = {}
        # What add_shaped's caches may still keep, together: as much as add's may.
        self.shaped_room = MEMO_ENTRIES * len(self.plan)

    def add(self, row: RawRow, hidden: bool) -> None:
        state, name = self.state, self.name
        review = self.review
        flag = row.cells.get(review) if review else None
        if flag is not None and normalize_header(str(flag.value)) == UNREVIEWED:
            self.unreviewed.append(row.number)
            source = row.cells.get(self.source)
            if source is not None:  # a source only candidates cite is not an orphan
                state.cited_by_candidates.add(str(source.value).strip())
            return
        if hidden:
            self.hidden.append(row.number)
        values: dict[str, Any] = {}
        cells = RowCoordinates(self.letters, row.number)
        problems = state.problems
        for attr, column, letter, known, blank in self.plan:
            raw = row.cells.get(letter) if letter else None
            if raw is None and blank is not _REQUIRED:
                values[attr] = blank
                continue
            key = None if raw is None or raw.error else (type(raw.value), raw.value)
            if key is not None and key in known:
                values[attr] = known[key]
                continue
            seen = len(problems)
            values[attr] = value = state.read_cell(name, cells[attr], raw, column)
            if key is not None and len(problems) == seen and len(known) < MEMO_ENTRIES:
                known[key] = value
        state.check_period(self.spec, values, cells, name)
        self.records.append(self.spec.record(**values, coordinates=cells))

    def add_shaped(
        self,
        shape: RowShape,
        numbers: Sequence[int],
        hidden: Collection[int],
        keys: Sequence[Sequence[bytes | None]],
        values: Sequence[Sequence[CellValue | NoCell]],
    ) -> None:
        """Rows given together, cell by cell (RowConsumer.take_shaped); the same as add.

        Each field is converted a column at a time, each distinct key once: the reader's
        bytes, which, unlike values (True == 1 == 1.0), are never equal for two cells that
        differ. Problems come out in another order than add's, which sort_problems undoes.
        """
        plan = self.shape_plans.get(shape)
        if plan is None:
            plan = self.shape_plans[shape] = self._plan_shape(shape)
        # Rows with a Review cell may be left out: add reads those rows, and those beside them.
        if not plan or any(any(keys[position]) for position in plan[4]):
            for row in shape.rows(numbers, values):
                self.add(row, row.number in hidden)
            return
        if hidden:
            self.hidden.extend(number for number in numbers if number in hidden)
        state, name, letters = self.state, self.name, self.letters
        attrs, sources, columns, blanks, _ = plan
        count = len(numbers)
        typed_columns: list[list[Any]] = []
        for attr, forms, column, blank in zip(attrs, sources, columns, blanks, strict=True):
            if not forms:  # no column: the field's empty value
                typed_columns.append([blank] * count)
                continue
            if len(forms) == 1:
                position, known = forms[0]
                typed_columns.append(
                    self._typed(attr, column, known, keys[position], values[position], numbers)
                )
                continue
            # A cell in one of several forms in each row, or in none (_ABSENT in all).
            each = [
                self._typed(attr, column, known, keys[position], values[position], numbers)
                for position, known in forms
            ]
            rows = zip(*each, strict=True)
            typed = [next((v for v in row if v is not _ABSENT), _ABSENT) for row in rows]
            index = _next_missing(typed, 0, _ABSENT)
            while index < count:
                if blank is _REQUIRED:
                    coordinate = f"{letters[attr]}{numbers[index]}"
                    typed[index] = state.read_cell(name, coordinate, None, column)
                else:
                    typed[index] = blank
                index = _next_missing(typed, index + 1, _ABSENT)
            typed_columns.append(typed)
        spec = self.spec
        fields = dict(zip(attrs, typed_columns, strict=True))
        coordinates = list(map(RowCoordinates, repeat(letters, count), numbers))
        if spec.starts and spec.ends and spec.ends in fields:
            # Only a row with an end (Until, Withdrawn) can have one before its start.
            ends = fields[spec.ends]
            for index in compress(range(count), map(operator.is_not, ends, repeat(None))):
                record = {attr: column[index] for attr, column in fields.items()}
                state.check_period(spec, record, coordinates[index], name)
        self.records.extend(records_by_column(spec.record, {**fields, "coordinates": coordinates}))

    def _typed(
        self,
        attr: str,
        column: Column,
        known: dict[bytes | None, Any],
        keys: Sequence[bytes | None],
        values: Sequence[CellValue | NoCell],
        numbers: Sequence[int],
    ) -> list[Any]:
        """A field's typed values in each row, from its cells' keys and values in one form.

        Each key is looked up in `known`; a key not met before is read as add reads its cell,
        and remembered unless it raised a problem.
        """
        state, name, problems = self.state, self.name, self.state.problems
        count = len(keys)
        typed = list(map(known.get, keys, repeat(_MISSING, count)))
        index = _next_missing(typed, 0, _MISSING)
        while index < count:
            typed_value = known.get(keys[index], _MISSING)  # met earlier in these rows
            if typed_value is not _MISSING:
                typed[index] = typed_value
                index = _next_missing(typed, index + 1, _MISSING)
                continue
            value = values[index]
            typed_value = _plain_text(value, column)
            if typed_value is None:
                coordinate = f"{self.letters[attr]}{numbers[index]}"
                seen = len(problems)
                raw = None if value is NO_CELL else RawCell(coordinate, value)
                typed_value = state.read_cell(name, coordinate, raw, column)
                if len(problems) != seen:
                    typed[index] = typed_value
                    index = _next_missing(typed, index + 1, _MISSING)
                    continue
            typed[index] = typed_value
            if len(known) < MEMO_ENTRIES and self.shaped_room:
                known[keys[index]] = typed_value
                self.shaped_room -= 1
            index = _next_missing(typed, index + 1, _MISSING)
        return typed

    def _plan_shape(self, shape: RowShape) -> _ShapePlan | None:
        """How add_shaped reads rows of `shape`; None where add must read each row.

        add must where a required field has no column in the shape (an error at each row's
        cell), and in rows given together where one holds a Review cell (see add_shaped). A
        field's cell may stand in one form of its column or in several; a key of None is no
        cell, known as the field's empty value where the field has one form (none for a
        required field: read_cell says it is missing), and as _ABSENT where it has several.
        """
        places: dict[str, list[int]] = {}
        for position, letter in enumerate(shape.letters):
            places.setdefault(letter, []).append(position)
        attrs: list[str] = []
        sources: list[tuple[tuple[int, dict[bytes | None, Any]], ...]] = []
        columns: list[Column] = []
        blanks: list[Any] = []
        for attr, column, letter, _, blank in self.plan:
            positions = places.get(letter, []) if letter else []
            if not positions and blank is _REQUIRED:
                return None
            if len(positions) > 1:
                absent: dict[bytes | None, Any] = {None: _ABSENT}
                sources.append(tuple((position, dict(absent)) for position in positions))
            else:
                empty: dict[bytes | None, Any] = {} if blank is _REQUIRED else {None: blank}
                sources.append(tuple((position, dict(empty)) for position in positions))
            attrs.append(attr)
            columns.append(column)
            blanks.append(blank)
        review = tuple(places.get(self.review, ())) if self.review else ()
        return tuple(attrs), sources, columns, blanks, review

    def finish(self) -> list[Any]:
        """The records read, after the warnings about rows left out or hidden."""
        if self.unreviewed:
            self.state.warn(
                self.name,
                "",
                f"{count(len(self.unreviewed), 'unreviewed candidate')} "
                f"({_row_ranges(self.unreviewed)}) left out of checks and the memo; check each, "
                f"then clear its {REVIEW_HEADER} cell",
            )
        if self.hidden:
            self.state.warn(self.name, "", _hidden_rows_read(self.hidden))
        return self.records


class _RecordStream:
    """A records sheet's rows taken as the reader meets them (a RowConsumer).

    The first rows are held until the header can be told from a title above it (see
    locate_header); every later row becomes a record at once, so the sheet's raw cells are
    never all held.
    """

    def __init__(self, state: _Validation, name: str, spec: SheetSpec) -> None:
        self.state, self.name, self.spec = state, name, spec
        self.problems_before = len(state.problems)
        self.cited_before = set(state.cited_by_candidates)
        self.held: list[tuple[RawRow, bool]] = []
        self.reader: _RecordsReader | None = None
        self.started = False

    def restart(self) -> None:
        """Forget what was taken: the sheet is read again, whole, and validated as such."""
        del self.state.problems[self.problems_before :]
        self.state.cited_by_candidates.intersection_update(self.cited_before)
        self.state.unreadable.discard(self.name)
        self.held, self.reader, self.started = [], None, False

    def take(self, row: RawRow, hidden: bool) -> None:
        if self.started:
            if self.reader is not None:
                self.reader.add(row, hidden)
            return
        self.held.append((row, hidden))
        if len(self.held) > HEADER_SEARCH_ROWS:
            self._start()

    def take_shaped(
        self,
        shape: RowShape,
        numbers: Sequence[int],
        hidden: Collection[int],
        keys: Sequence[Sequence[bytes | None]],
        values: Sequence[Sequence[CellValue | NoCell]],
    ) -> None:
        first = 0  # rows held while the header is looked for are taken one by one
        while not self.started and first < len(numbers):
            number = numbers[first]
            self.take(shape.row(number, [cell[first] for cell in values]), number in hidden)
            first += 1
        if self.reader is None or first == len(numbers):
            return
        if first:
            numbers = numbers[first:]
            keys = [cell[first:] for cell in keys]
            values = [cell[first:] for cell in values]
        self.reader.add_shaped(shape, numbers, hidden, keys, values)

    def _start(self) -> None:
        """Find the header among the rows held, then read the rest of them."""
        self.started = True
        held, self.held = self.held, []
        header_row, headers = 0, ()  # type: tuple[int, tuple[tuple[str, str], ...]]
        if held:
            first = held[0][0]
            header_row = first.number
            headers = tuple(
                (letter, "" if raw.value is None else str(raw.value))
                for letter, raw in first.cells.items()
            )
        below = held[1:]
        sheet = RawSheet(
            name=self.name,
            header_row=header_row,
            headers=headers,
            rows=tuple(row for row, _ in below),
            hidden_rows=tuple(row.number for row, hidden in below if hidden),
        )
        located = locate_header(sheet, self.spec)
        self.reader = self.state.records_reader(located, self.spec)
        if self.reader is not None:
            for row, hidden in below:
                if row.number > located.header_row:
                    self.reader.add(row, hidden)

    def finish(self) -> list[Any]:
        if not self.started:
            self._start()
        reader, self.reader = self.reader, None
        # Let go of the reader: this stream and the validation's state hold each other, and
        # a cycle would keep every record until the cyclic collector ran (at exit, 0.1 s).
        return [] if reader is None else reader.finish()


class RecordStreams:
    """The records sheets' consumers, to hand the reader before validate_workbook.

    Called with a sheet's name, it gives the consumer of the schema's records sheet of that
    name (once: a second sheet of the same name is kept whole, and ignored as before), or
    None for a sheet read whole.
    """

    def __init__(self, schema: Schema = SCHEMA) -> None:
        self.state = _Validation(schema)

    def __call__(self, name: str) -> RowConsumer | None:
        wanted = name.strip().casefold()
        for spec in self.state.schema.sheets:
            if spec.layout is Layout.RECORDS and spec.name.strip().casefold() == wanted:
                if spec.name in self.state.streams:
                    return None
                stream = self.state.streams[spec.name] = _RecordStream(self.state, name, spec)
                return stream
        return None


def _unknown_reference(ref: str, kind: Kind, targets: tuple[str, ...], known: list[str]) -> str:
    if kind is Kind.REF or len(targets) == 1:
        sheet = targets[0]
        ids = listed(known, 12) or "no IDs"
        return f"unknown {sheet[:-1].lower()} '{ref}'; the {sheet} sheet has: {ids}"
    sheets = ", ".join(targets[:-1]) + " or " + targets[-1]
    return f"unknown record '{ref}'; use IDs from the {sheets} sheets"


def _row_ranges(numbers: list[int]) -> str:
    """Row numbers as a reader writes them: "row 4", "rows 2–8, 11"."""
    spans: list[list[int]] = []
    for number in numbers:
        if spans and number == spans[-1][1] + 1:
            spans[-1][1] = number
        else:
            spans.append([number, number])
    text = ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in spans)
    return f"{plural('row', len(numbers))} {text}"


def _hidden_rows_read(numbers: list[int]) -> str:
    """The warning for hidden rows the memo still reads: "rows 5–7, 12 are …".

    It names no program: Excel and LibreOffice hide rows alike.
    """
    one = len(numbers) == 1
    are, go, them = ("is", "goes", "it") if one else ("are", "go", "them")
    return (
        f"{_row_ranges(numbers)} {are} hidden (by hand or by a filter) but still {go} into the "
        f"memo; unhide {them} or delete {them}"
    )


def _empty(column: Column) -> Any:
    if column.kind in (Kind.REFS, Kind.EMAILS):
        return ()
    if column.kind in (Kind.NUMBER, Kind.DATE, Kind.PARTIAL_DATE):
        return None
    return ""


def _convert(value: CellValue, column: Column) -> Any:
    """The cell's value in its column's type; ValueError carries the message for the user."""
    kind = column.kind
    if kind is Kind.NUMBER:
        return _to_number(value)
    if kind is Kind.DATE:
        return _to_date(value)
    if kind is Kind.PARTIAL_DATE:
        return _to_partial_date(value)
    text = _to_text(value)
    if kind is Kind.TEXT:
        return text
    text = " ".join(text.split())
    if kind is Kind.CHOICE:
        assert column.vocabulary is not None
        choice = column.vocabulary.find(text)
        if choice is None:
            raise ValueError(
                f"'{text}' is not an allowed {column.vocabulary.name}; use one of: {column.allowed}"
            )
        return choice.code
    if kind is Kind.REFS:
        return tuple(part for part in REF_SEPARATORS.split(text) if part)
    return text  # ID and REF


def _next_missing(typed: list[Any], start: int, missing: object) -> int:
    """Where the next `missing` stands in typed[start:]; len(typed) if nowhere."""
    try:
        return typed.index(missing, start)
    except ValueError:
        return len(typed)


def _plain_text(value: object, column: Column) -> str | None:
    """A text, ID or reference cell's value when it is printable ASCII, as read_cell gives it.

    None for any other cell or column, for read_cell to read: most cells a long sheet holds
    only once (IDs, quotes) are such text, and this is the same value for less work.
    """
    if type(value) is not str or not value.isascii() or not value.isprintable():
        return None
    kind = column.kind
    if kind is Kind.TEXT:
        text = value.strip()
    elif kind is Kind.ID or kind is Kind.REF:
        text = " ".join(value.split())
    else:
        return None
    return text or None


def _to_text(value: CellValue) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    # Excel keeps a line break as CR LF; Word wants one break.
    return str(value).replace("\r\n", "\n").replace("\r", "\n").strip()


def _to_number(value: CellValue) -> int | float:
    if isinstance(value, bool | dt.date | dt.time):
        raise ValueError(f"expected a number, got {_to_text(value)!r}")
    if isinstance(value, int | float):
        return int(value) if isinstance(value, float) and value.is_integer() else value
    text = str(value).strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    text = NUMBER_SIGNS.sub("", text)
    if NUMBER_TEXT.fullmatch(text):
        number = float(text.replace(",", ""))
        return int(number) if number.is_integer() else number
    raise ValueError(f"expected a number, got {str(value).strip()!r}")


def _to_date(value: CellValue) -> dt.date:
    day = _cell_day(value)
    if day is not None:
        return day
    text = " ".join(str(value).split())
    parsed = parse_date_text(text)
    if parsed is None:
        raise ValueError(f"expected a date such as 2024-06-14, got {text!r}")
    return parsed


def _to_partial_date(value: CellValue) -> PartialDate:
    day = _cell_day(value)
    if day is not None:
        return PartialDate.of(day)
    text = " ".join(str(value).split())
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))  # a year typed into a number cell
    parsed = parse_partial_date(text)
    if parsed is None:
        raise ValueError(
            f"expected a date such as 2024-06-14, or a month (2024-06) or year (2024), got {text!r}"
        )
    return parsed


def _cell_day(value: CellValue) -> dt.date | None:
    """The day a date cell, or Excel's serial number of a day, holds; None for other values."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = " ".join(str(value).split())
    # A date cell formatted as General (or typed as its number) shows Excel's serial number.
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if is_number or SERIAL.fullmatch(text):
        serial = float(text)
        if 10_000 <= serial < 100_000:  # 1927 to 2173; a small number is no date
            return EXCEL_EPOCH + dt.timedelta(days=int(serial))
    return None
