"""Choose a dated edition's records: the dated ones of its window, the standing ones in force."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import replace
from operator import attrgetter
from typing import Any

from briefing.errors import EmptyEdition
from briefing.model import Dossier, Edition, Trend
from briefing.schema import FigureRow, SheetSpec, Timing
from briefing.text import PartialDate, Precision, format_date

TREND_DAYS = 30  # a trend chart shows the days up to the edition's
MAX_TRENDS = 3  # charts a memo shows: the metrics reported on the most days


def select_edition(dossier: Dossier, edition: Edition, trends: Iterable[Trend] = ()) -> Dossier:
    """The dossier holding only what the edition prints.

    - dated records (figures, reactions) whose time meets the window;
    - standing records (demands) stated by the edition's day and not withdrawn by it;
    - the latest version of each versioned record (judgments) on that day, the version it
      replaced kept in `revisions`;
    - the history (timeline) up to that day;
    - the sources that what is kept cites, through judgments' records too, and those the
      trends to be charted cite.

    A record with no date cannot be placed in time and is always kept, so that a workbook made
    before records had dates builds as it did. Raises EmptyEdition when the workbook has dated
    records but none in the window.
    """
    records: dict[str, tuple[Any, ...]] = {}
    revisions: dict[str, Any] = {}
    for spec in dossier.schema.sheets:
        rows = dossier.records.get(spec.name, ())
        if spec.timing is Timing.DATED:
            records[spec.name] = _meeting(spec, rows, edition)
        elif spec.timing is Timing.STANDING:
            records[spec.name] = tuple(r for r in rows if _in_force(spec, r, edition.date))
        elif spec.timing is Timing.VERSIONED:
            records[spec.name], earlier = _latest_versions(spec, rows, edition.date)
            revisions.update(earlier)
        elif spec.timing is Timing.HISTORY:
            records[spec.name] = tuple(r for r in rows if _started(spec, r, edition.date))
        else:
            records[spec.name] = rows
    _ensure_dated_records(dossier, records, edition)
    # Each record's sources as the workbook stands on the day: a judgment cites what the
    # version in force rests on, not a later revision's records.
    on_the_day = {
        spec.name: records[spec.name]
        for spec in dossier.schema.sheets
        if spec.timing is Timing.VERSIONED
    }
    behind = replace(dossier, records={**dossier.records, **on_the_day}).sources_behind()
    cited = (
        {
            source
            for spec in dossier.schema.record_sheets
            if spec.has_ids and spec.timing is not Timing.CITED
            for record in records.get(spec.name, ())
            for source in behind.get(record.id, ())
        }
        | {
            record.source
            for spec in dossier.schema.record_sheets
            if spec.cites_sources and not spec.has_ids
            for record in records.get(spec.name, ())
        }
        | {source for trend in trends for source in trend.sources}
    )
    for spec in dossier.schema.sheets:
        if spec.timing is Timing.CITED:
            records[spec.name] = tuple(r for r in records[spec.name] if r.id in cited)
    return replace(dossier, records=records, edition=edition, revisions=revisions, behind=behind)


def _when(spec: SheetSpec, record: Any) -> tuple[PartialDate | None, PartialDate | None]:
    start = getattr(record, spec.starts) if spec.starts else None
    end = getattr(record, spec.ends) if spec.ends else None
    return start, end


def _meeting(spec: SheetSpec, rows: Iterable[Any], edition: Edition) -> tuple[Any, ...]:
    """The dated records whose time (a day, a month, Date to Until) meets the window.

    One loop over a long sheet's rows, its bounds taken once: a desk's workbook holds months.
    """
    first_day, day = edition.first_day, edition.date
    starts = attrgetter(spec.starts) if spec.starts else lambda record: None
    ends = attrgetter(spec.ends) if spec.ends else lambda record: None
    kept = []
    for record in rows:
        start = starts(record)
        if start is None:
            kept.append(record)  # no date: kept, as in a workbook made before dates
        elif start.start <= day and (ends(record) or start).end >= first_day:
            kept.append(record)
    return tuple(kept)


def _in_force(spec: SheetSpec, record: Any, day: dt.date) -> bool:
    """Whether a standing record was stated by `day` and not yet withdrawn on it."""
    start, end = _when(spec, record)
    stated = start is None or start.start <= day
    withdrawn = end is not None and end.start <= day
    return stated and not withdrawn


def _started(spec: SheetSpec, record: Any, day: dt.date) -> bool:
    start, _ = _when(spec, record)
    return start is None or start.start <= day


def _latest_versions(
    spec: SheetSpec, rows: Iterable[Any], day: dt.date
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Each ID's latest version made by `day`, in the order IDs first appear; the ones replaced."""
    versions: dict[str, list[Any]] = {}
    for record in rows:
        if _started(spec, record, day):
            versions.setdefault(record.id, []).append(record)
    latest: list[Any] = []
    earlier: dict[str, Any] = {}
    for record_id, made in versions.items():
        ordered = sorted(made, key=lambda r: _version_key(spec, r))
        latest.append(ordered[-1])
        if len(ordered) > 1:
            earlier[record_id] = ordered[-2]
    return tuple(latest), earlier


def _version_key(spec: SheetSpec, record: Any) -> dt.date:
    start, _ = _when(spec, record)
    return dt.date.min if start is None else start.start


def _ensure_dated_records(
    dossier: Dossier, chosen: Mapping[str, tuple[Any, ...]], edition: Edition
) -> None:
    """Raise EmptyEdition when the workbook has dated records but the window holds none."""
    dated = [spec for spec in dossier.schema.sheets if spec.timing is Timing.DATED]
    if any(_when(spec, r)[0] is not None for spec in dated for r in chosen.get(spec.name, ())):
        return
    days = [
        start.start
        for spec in dated
        for record in dossier.records.get(spec.name, ())
        if (start := _when(spec, record)[0]) is not None
    ]
    if not days:
        return  # nothing is dated: the workbook predates dated records
    nouns = " or ".join(f"{spec.record_noun}s" for spec in dated)
    first, last = format_date(min(days)), format_date(max(days))
    held = f"are all of {first}" if first == last else f"run from {first} to {last}"
    raise EmptyEdition(
        f"{dossier.path}: no {nouns} dated {edition.window} (the workbook's dated records "
        f"{held}); choose another --date, or more --days"
    )


def select_trends(dossier: Dossier, edition: Edition) -> list[Trend]:
    """The leading metrics' daily figures over the 30 days up to the edition's day.

    A trend keeps one claimant, one metric and one unit: it never adds sides together. Only
    figures of a single day count (not a month, not a period); where a claimant gave one
    metric twice on a day, the row entered last stands. A metric reported on one day only has
    no trend. The leading metrics are those reported on the most days, then the largest.
    """
    # The 30 days up to the edition's day (fewer at the calendar's start, year 1).
    first = edition.date - dt.timedelta(days=min(TREND_DAYS - 1, edition.date.toordinal() - 1))
    series: dict[tuple[str, str, str], dict[dt.date, FigureRow]] = {}
    for figure in dossier.rows(FigureRow):
        when = figure.date
        if when is None or when.precision is not Precision.DAY or figure.until is not None:
            continue
        if first <= when.start <= edition.date and figure.value is not None:
            key = (figure.claimed_by, figure.metric, figure.unit)
            series.setdefault(key, {})[when.start] = figure
    trends = [
        Trend(
            claimed_by=claimed_by,
            metric=metric,
            unit=unit,
            points=tuple((day, float(days[day].value)) for day in sorted(days)),
            sources=tuple(dict.fromkeys(days[day].source for day in sorted(days))),
            first_day=first,
            last_day=edition.date,
        )
        for (claimed_by, metric, unit), days in series.items()
        if len(days) > 1
    ]
    trends.sort(key=lambda t: (-len(t.points), -max(v for _, v in t.points), t.metric))
    return trends[:MAX_TRENDS]
