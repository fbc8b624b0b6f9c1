"""Turn a validated dossier into the template context: grouped, totalled, formatted, cited."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from briefing.model import Changes, DocumentProperties, Dossier, Edition, Trend
from briefing.schema import (
    CREDIBILITY,
    LIKELIHOOD,
    PARTY,
    RELIABILITY,
    STANCE,
    DemandRow,
    FigureRow,
    JudgmentRow,
    ReactionRow,
    SheetSpec,
    SourceRow,
    TimelineRow,
)
from briefing.text import format_date, format_number

Context = dict[str, Any]
CHANGE_VERBS = {
    "new": "added",
    "removed": "removed",
    "changed": "changed",
    "withdrawn": "withdrawn",
    "revised": "revised",
}
# A number per unit of time, or an average: "1,000 a day", "daily", "per week".
RATE = re.compile(
    r"\b(?:a|an|per|each|every)\s+(?:day|night|week|month|hour|year)\b|/\s*(?:day|week|month)\b"
    r"|\b(?:daily|weekly|monthly|hourly|average|rate)\b",
    re.IGNORECASE,
)
# Grades past which a source is named in the caveats.
DOUBTFUL_RELIABILITY = ("E", "F")
DOUBTFUL_CREDIBILITY = ("5", "6")


def cite(*source_ids: str) -> str:
    """Citation markers such as [S1] or [S1][S3], each source once, in first-cited order."""
    return "".join(f"[{source}]" for source in dict.fromkeys(source_ids) if source)


def grade(source: SourceRow) -> str:
    """F3: reliability cannot be judged; possibly true."""
    return (
        f"{source.reliability}{source.credibility}: "
        f"{RELIABILITY.words_for(source.reliability)}; "
        f"{CREDIBILITY.words_for(source.credibility)}"
    )


@dataclass(frozen=True)
class MemoContext:
    """Everything a template can print: ready-to-print text, and lists of dicts of text."""

    title: str
    subject: str
    date: str
    recipient: str
    author: str
    handling: str
    bluf: str
    judgments: list[dict[str, str]]
    demand_tables: list[dict[str, Any]]
    reaction_groups: list[dict[str, Any]]
    figures: list[dict[str, str]]
    totals: list[dict[str, str]]
    timeline: list[dict[str, str]]
    sources: list[dict[str, str]]
    caveats: list[str]
    # Every record sheet's rows by the sheet's key ("figures"), each column as printed text
    # and a citation: a sheet added to the schema reaches templates here with no code.
    records: dict[str, list[dict[str, str]]]
    # The edition: the day the information runs to, and its window when longer than a day.
    information_as_of: str
    window: str
    # What changed since an earlier copy of the workbook (build --since); empty without one.
    changes: dict[str, Any]
    # Trend charts of the leading metrics over the 30 days up to the edition's day.
    charts: list[dict[str, Any]]

    def as_dict(self) -> Context:
        return {name: getattr(self, name) for name in CONTEXT_NAMES}


# The names a template may use; `briefing template check` flags any other.
CONTEXT_NAMES = tuple(f.name for f in dataclasses.fields(MemoContext))


def build_context(
    dossier: Dossier, changes: Changes | None = None, trends: Sequence[Trend] = ()
) -> MemoContext:
    """Everything the template prints, as ready-to-print text and lists."""
    briefing = dossier.briefing
    record_sources = dossier.sources_behind()
    figures = dossier.rows(FigureRow)
    judgments = dossier.rows(JudgmentRow)
    return MemoContext(
        title=briefing.title,
        subject=briefing.subject,
        date=format_date(briefing.date),
        recipient=briefing.recipient,
        author=briefing.author,
        handling=briefing.handling,
        bluf=briefing.bluf,
        judgments=[_judgment(j, record_sources, dossier.revisions) for j in judgments],
        demand_tables=_demand_tables(dossier.rows(DemandRow)),
        reaction_groups=_reaction_groups(dossier.rows(ReactionRow)),
        figures=[_figure(f) for f in figures],
        totals=_totals(figures),
        timeline=[
            {"date": format_date(e.date), "event": e.event, "citation": cite(e.source)}
            for e in sorted(dossier.rows(TimelineRow), key=lambda e: e.date)
        ],
        sources=[_source(s) for s in dossier.rows(SourceRow)],
        caveats=_caveats(dossier, record_sources),
        records={
            spec.key: [_printed(spec, record) for record in dossier.records.get(spec.name, ())]
            for spec in dossier.schema.record_sheets
        },
        information_as_of=format_date(dossier.edition.date if dossier.edition else briefing.date),
        window=dossier.edition.window if dossier.edition and dossier.edition.days > 1 else "",
        changes=_changes(changes) if changes is not None else {},
        charts=[_chart(trend) for trend in trends],
    )


def document_properties(dossier: Dossier, now: dt.datetime) -> DocumentProperties:
    briefing = dossier.briefing
    parties = dict.fromkeys(d.party for d in dossier.rows(DemandRow))
    keywords = [briefing.handling, *parties, "briefing"]
    return DocumentProperties(
        title=briefing.title,
        subject=briefing.subject,
        author=briefing.author,
        keywords=", ".join(keywords),
        created=now,
    )


def _printed(spec: SheetSpec, record: Any) -> dict[str, str]:
    """A record as a template prints it: each column the reader may see as text, and a citation."""
    printed = {
        attr: column.printed(getattr(record, attr))
        for attr, column in spec.fields
        if not column.private
    }
    if spec.cites_sources:
        printed["citation"] = cite(record.source)
    return printed


def _judgment(
    judgment: JudgmentRow,
    record_sources: Mapping[str, tuple[str, ...]],
    revisions: Mapping[str, Any],
) -> dict[str, str]:
    sources = record_sources.get(judgment.id, ())
    earlier = revisions.get(judgment.id)
    revised = ""
    if earlier is not None:
        when = f" on {format_date(judgment.as_of)}" if judgment.as_of else ""
        revised = f"Revised{when}; it was {earlier.likelihood}, {earlier.confidence} confidence" + (
            f", as of {format_date(earlier.as_of)}." if earlier.as_of else "."
        )
    return {
        "as_of": format_date(judgment.as_of),
        "revised": revised,
        "id": judgment.id,
        "text": judgment.judgment,
        "likelihood": judgment.likelihood,
        "likelihood_range": LIKELIHOOD.words_for(judgment.likelihood),
        "confidence": judgment.confidence,
        "based_on": ", ".join(judgment.based_on),
        "citation": cite(*sources),
    }


def _demand_tables(demands: Sequence[DemandRow]) -> list[dict[str, Any]]:
    """Demands side by side, two parties to a table, in the vocabulary's order of parties."""
    by_party: dict[str, list[dict[str, str]]] = {}
    for demand in sorted(demands, key=lambda d: PARTY.codes.index(d.party)):
        by_party.setdefault(demand.party, []).append(
            {"demand": demand.demand, "detail": demand.detail, "citation": cite(demand.source)}
        )
    parties = list(by_party)
    blank = {"demand": "", "detail": "", "citation": ""}
    tables = []
    for left, right in itertools.zip_longest(parties[::2], parties[1::2], fillvalue=""):
        pairs = itertools.zip_longest(by_party[left], by_party.get(right, []), fillvalue=blank)
        tables.append(
            {"left": left, "right": right, "rows": [{"left": a, "right": b} for a, b in pairs]}
        )
    return tables


def _reaction_groups(reactions: Sequence[ReactionRow]) -> list[dict[str, Any]]:
    """Reactions by actor, in the order actors first appear."""
    groups: dict[str, list[ReactionRow]] = {}
    for reaction in reactions:
        groups.setdefault(reaction.actor, []).append(reaction)
    result = []
    for actor, rows in groups.items():
        first = rows[0]
        who = ", ".join(part for part in (first.role, first.affiliation) if part)
        result.append(
            {
                "actor": actor,
                "who": who,
                "statements": [
                    {
                        "stance": STANCE.words_for(r.stance),
                        "summary": r.summary,
                        "quote": r.quote,
                        "citation": cite(r.source),
                    }
                    for r in rows
                ],
            }
        )
    return result


def _place(figure: FigureRow) -> str:
    return ", ".join(p for p in (figure.location, figure.region, figure.country) if p)


def _figure(figure: FigureRow) -> dict[str, str]:
    return {
        "id": figure.id,
        "date": format_date(figure.date),
        "place": _place(figure),
        "claimed_by": figure.claimed_by,
        "event_type": figure.event_type,
        "metric": figure.metric,
        "value": format_number(figure.value),
        "unit": figure.unit,
        "status": figure.status,
        "citation": cite(figure.source),
    }


def _totals(figures: Sequence[FigureRow]) -> list[dict[str, str]]:
    """Totals that mean something: each adds figures of one metric, unit, claimant and country.

    A group is left out when it holds a rate ("1,000 a day"), whose sum means nothing, or
    figures whose periods overlap, which may count the same events twice. Only totals of more
    than one figure are listed: a total of one figure is the figure.
    """
    groups: dict[tuple[str, ...], list[FigureRow]] = {}
    for figure in figures:
        key = (figure.claimed_by, figure.metric, figure.unit, figure.country)
        groups.setdefault(key, []).append(figure)
    totals = []
    for (claimed_by, metric, unit, country), rows in sorted(groups.items()):
        if len(rows) < 2 or _is_rate(metric, unit) or _overlapping(rows):
            continue
        totals.append(
            {
                "claimed_by": claimed_by,
                "metric": metric,
                "unit": unit,
                "country": country,
                "total": format_number(sum(f.value for f in rows)),
                "count": format_number(len(rows)),
                "citation": cite(*(f.source for f in rows)),
            }
        )
    return totals


def _is_rate(metric: str, unit: str) -> bool:
    return bool(RATE.search(f"{metric} {unit}"))


def _overlapping(figures: Sequence[FigureRow]) -> bool:
    """Whether any two figures cover a common day; undated figures cover none that is known."""
    spans = sorted((f.date.start, (f.until or f.date).end) for f in figures if f.date is not None)
    return any(later[0] <= earlier[1] for earlier, later in itertools.pairwise(spans))


def _chart(trend: Trend) -> dict[str, Any]:
    """A trend as a chart to draw and the sentence that says it in words, for print in grey."""
    values = [value for _, value in trend.points]
    last_day, last = trend.points[-1]
    average = sum(values) / len(values)
    # Half up, as a reader rounds: 20.5 is 21.
    shown = format_number(math.floor(average + 0.5) if average >= 10 else round(average, 1))
    days = (trend.last_day - trend.first_day).days + 1
    window = Edition(trend.last_day, days).window
    on = f"{last_day.day} {last_day:%B}"
    return {
        "title": f"{trend.metric} ({trend.claimed_by})",
        "sentence": (
            f"{trend.claimed_by} reported {format_number(last)} {trend.metric} on {on}, "
            f"against an average of {shown} on the {len(values)} days it reported in the "
            f"{days} days to {format_date(trend.last_day)} {cite(*trend.sources)}."
        ),
        "alt": (
            f"Line chart of {trend.metric} claimed by {trend.claimed_by}, by day, {window}: "
            f"{len(values)} days reported, from {format_number(min(values))} to "
            f"{format_number(max(values))}; {format_number(last)} on {on}."
        ),
        "unit": trend.unit,
        "days": [day.isoformat() for day, _ in trend.points],
        "values": values,
        "first_day": trend.first_day.isoformat(),
        "last_day": trend.last_day.isoformat(),
        "citation": cite(*trend.sources),
    }


def _changes(changes: Changes) -> dict[str, Any]:
    records = []
    for change in changes.records:
        what = f"{change.noun.capitalize()} {change.record_id}".strip()
        fields = [
            {"header": f.header, "old": f.old or "(empty)", "new": f.new or "(empty)"}
            for f in change.fields
        ]
        detail = "; ".join(f"{f['header']} {f['old']} → {f['new']}" for f in fields)
        verb = CHANGE_VERBS[change.kind]
        records.append(
            {
                "kind": change.kind,
                "what": what,
                "label": change.label,
                "fields": fields,
                "line": f"{what} {verb}: {detail if change.kind == 'changed' else change.label}"
                + (f" ({detail})" if detail and change.kind != "changed" else ""),
            }
        )
    return {"since": format_date(changes.since), "summary": changes.summary, "records": records}


def _source(source: SourceRow) -> dict[str, str]:
    publisher = ", ".join(
        part for part in (source.publisher, format_date(source.published)) if part
    )
    return {
        "id": source.id,
        "marker": cite(source.id),
        "title": source.title,
        "publisher": publisher,
        "url": source.url,
        "grade": grade(source),
        "ai_generated": "yes" if source.ai_generated == "yes" else "",
        "notes": source.notes,
    }


def _caveats(dossier: Dossier, record_sources: Mapping[str, tuple[str, ...]]) -> list[str]:
    caveats = []
    sources = dossier.rows(SourceRow)
    figures = dossier.rows(FigureRow)
    for source in sources:
        marker = cite(source.id)
        if source.ai_generated == "yes":
            caveats.append(
                f"{marker} says it was generated with AI; treat its details as unverified "
                "until a primary source confirms them."
            )
        if source.reliability in DOUBTFUL_RELIABILITY or source.credibility in (
            DOUBTFUL_CREDIBILITY
        ):
            caveats.append(f"{marker} is graded {grade(source)}.")
    unconfirmed = [f for f in figures if f.status != "confirmed"]
    if unconfirmed:
        caveats.append(
            f"{format_number(len(unconfirmed))} of {format_number(len(figures))} "
            "figures are claimed or disputed, not independently confirmed "
            f"({', '.join(f.id for f in unconfirmed)})."
        )
    unchecked = [s.id for s in sources if not s.file]
    if unchecked:
        markers = cite(*unchecked)
        caveats.append(
            f"Quotes from {markers} were not checked against a copy of the source: the "
            "workbook gives no text file for it."
            if len(unchecked) == 1
            else f"Quotes from {markers} were not checked against copies of the sources: the "
            "workbook gives no text files for them."
        )
    single: dict[str, list[str]] = {}
    for judgment in dossier.rows(JudgmentRow):
        resting_on = set(record_sources.get(judgment.id, ()))
        if len(resting_on) == 1:
            single.setdefault(resting_on.pop(), []).append(judgment.id)
    for source_id, judgment_ids in single.items():
        if len(judgment_ids) == 1:
            caveats.append(
                f"Judgment {judgment_ids[0]} rests on a single source, {cite(source_id)}."
            )
        else:
            listed = ", ".join(judgment_ids[:-1]) + " and " + judgment_ids[-1]
            caveats.append(f"Judgments {listed} each rest on a single source, {cite(source_id)}.")
    return caveats
