"""What changed between an earlier copy of the workbook and this one, record by record."""

from __future__ import annotations

import datetime as dt
from typing import Any

from briefing.model import Changes, Dossier, FieldChange, RecordChange
from briefing.schema import Kind, SheetSpec, Timing


def compare_dossiers(old: Dossier, new: Dossier, day: dt.date) -> Changes:
    """Records added, removed and changed since `old`, matched by ID within each sheet.

    Versioned records (judgments) are compared as they stand on `day`: a later version is a
    revision. A standing record (demand) that gained its end date is withdrawn. Sheets without
    IDs (the timeline) are compared row by row: a row changed is one removed and one added.
    Only what the memo may print is compared: the analyst's own columns are not.
    """
    found: list[RecordChange] = []
    # Sources last: a reader wants what changed in the records before where they came from.
    sheets = sorted(new.schema.record_sheets, key=lambda spec: spec.timing is Timing.CITED)
    for spec in sheets:
        before = _by_key(spec, old.records.get(spec.name, ()), day)
        after = _by_key(spec, new.records.get(spec.name, ()), day)
        for key, record in after.items():
            if key not in before:
                found.append(_change(spec, "new", key, record))
                continue
            fields = _field_changes(spec, before[key], record)
            if fields:
                found.append(_change(spec, _kind(spec, before[key], record), key, record, fields))
        found.extend(
            _change(spec, "removed", key, record)
            for key, record in before.items()
            if key not in after
        )
    return Changes(since=old.briefing.date, records=tuple(found))


def _by_key(spec: SheetSpec, rows: tuple[Any, ...], day: dt.date) -> dict[str, Any]:
    """Records by their ID; without IDs, by what they say. Versioned: the one in force on day."""
    if not spec.has_ids:
        return {_row_key(spec, record): record for record in rows}
    keyed: dict[str, Any] = {}
    for record in rows:
        if spec.timing is Timing.VERSIONED:
            if _version(spec, record) > day:
                continue  # made after the day compared
            held = keyed.get(record.id)
            if held is not None and _version(spec, held) > _version(spec, record):
                continue
        keyed[record.id] = record
    return keyed


def _version(spec: SheetSpec, record: Any) -> dt.date:
    start = getattr(record, spec.starts)
    return dt.date.min if start is None else start.start


def _row_key(spec: SheetSpec, record: Any) -> str:
    return " | ".join(
        column.printed(getattr(record, attr)) for attr, column in spec.fields if not column.private
    )


def _field_changes(spec: SheetSpec, old: Any, new: Any) -> tuple[FieldChange, ...]:
    return tuple(
        FieldChange(column.header, before, after)
        for attr, column in spec.fields
        if not column.private
        and column.kind is not Kind.ID
        and (before := column.printed(getattr(old, attr)))
        != (after := column.printed(getattr(new, attr)))
    )


def _kind(spec: SheetSpec, old: Any, new: Any) -> str:
    if spec.timing is Timing.VERSIONED and getattr(old, spec.starts) != getattr(new, spec.starts):
        return "revised"
    if (
        spec.timing is Timing.STANDING
        and spec.ends
        and getattr(old, spec.ends) is None
        and getattr(new, spec.ends) is not None
    ):
        return "withdrawn"
    return "changed"


def _change(
    spec: SheetSpec,
    kind: str,
    key: str,
    record: Any,
    fields: tuple[FieldChange, ...] = (),
) -> RecordChange:
    record_id = key if spec.has_ids else ""
    return RecordChange(spec.name, spec.record_noun, kind, record_id, spec.label(record), fields)
