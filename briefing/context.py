"""Turn a validated dossier into the template context: grouped, totalled, formatted, cited."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from briefing.model import DocumentProperties, Dossier
from briefing.schema import (
    CREDIBILITY,
    LIKELIHOOD,
    PARTY,
    RELIABILITY,
    STANCE,
    Column,
    DemandRow,
    FigureRow,
    JudgmentRow,
    Kind,
    ReactionRow,
    SheetSpec,
    SourceRow,
    TimelineRow,
)
from briefing.text import format_date, format_number

Context = dict[str, Any]
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
    totals_by_metric: list[dict[str, str]]
    totals_by_claimant: list[dict[str, str]]
    timeline: list[dict[str, str]]
    sources: list[dict[str, str]]
    caveats: list[str]
    # Every record sheet's rows by the sheet's key ("figures"), each column as printed text
    # and a citation: a sheet added to the schema reaches templates here with no code.
    records: dict[str, list[dict[str, str]]]

    def as_dict(self) -> Context:
        return {name: getattr(self, name) for name in CONTEXT_NAMES}


# The names a template may use; `briefing template check` flags any other.
CONTEXT_NAMES = tuple(f.name for f in dataclasses.fields(MemoContext))


def build_context(dossier: Dossier) -> MemoContext:
    """Everything the template prints, as ready-to-print text and lists."""
    briefing = dossier.briefing
    record_sources = _record_sources(dossier)
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
        judgments=[_judgment(j, record_sources) for j in judgments],
        demand_tables=_demand_tables(dossier.rows(DemandRow)),
        reaction_groups=_reaction_groups(dossier.rows(ReactionRow)),
        figures=[_figure(f) for f in figures],
        totals_by_metric=_totals(figures, ("metric", "unit")),
        totals_by_claimant=_totals(figures, ("claimed_by", "metric", "unit"), by_first=True),
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


def _record_sources(dossier: Dossier) -> dict[str, tuple[str, ...]]:
    """Record ID -> the source IDs it rests on, in order; a judgment through its records.

    A source rests on itself; a record with a Source column on that source; a record whose
    references name other records (a judgment's Based on) on their sources.
    """
    cited: dict[str, tuple[str, ...]] = {s.id: (s.id,) for s in dossier.rows(SourceRow)}
    resting: list[tuple[str, tuple[str, ...]]] = []  # (record ID, the record IDs it rests on)
    for spec in dossier.schema.record_sheets:
        if not spec.has_ids:
            continue
        refs = [attr for attr, column in spec.fields if column.kind is Kind.REFS]
        for record in dossier.records.get(spec.name, ()):
            if spec.cites_sources:
                cited[record.id] = (record.source,)
            elif refs:
                resting.append((record.id, tuple(r for a in refs for r in getattr(record, a))))
    # A record may rest on one that rests on others: resolve until nothing changes (cycles stop).
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


def _printed(spec: SheetSpec, record: Any) -> dict[str, str]:
    """A record as a template prints it: each column the reader may see as text, and a citation."""
    printed = {
        attr: _printed_value(column, getattr(record, attr))
        for attr, column in spec.fields
        if not column.private
    }
    if spec.cites_sources:
        printed["citation"] = cite(record.source)
    return printed


def _printed_value(column: Column, value: Any) -> str:
    if column.kind is Kind.NUMBER:
        return format_number(value)
    if column.kind is Kind.DATE:
        return format_date(value)
    if column.kind is Kind.REFS:
        return ", ".join(value)
    return str(value)


def _judgment(judgment: JudgmentRow, record_sources: dict[str, tuple[str, ...]]) -> dict[str, str]:
    sources = record_sources.get(judgment.id, ())
    return {
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


def _totals(
    figures: Sequence[FigureRow], names: tuple[str, ...], *, by_first: bool = False
) -> list[dict[str, str]]:
    """Figures grouped by the named fields, each group's values summed and its sources cited."""
    groups: dict[tuple[str, ...], list[FigureRow]] = {}
    for figure in figures:
        groups.setdefault(tuple(getattr(figure, name) for name in names), []).append(figure)
    items = sorted(groups.items(), key=lambda kv: kv[0][0]) if by_first else groups.items()
    return [
        {
            **dict(zip(names, key, strict=True)),
            "total": format_number(sum(f.value for f in rows)),
            "count": format_number(len(rows)),
            "citation": cite(*(f.source for f in rows)),
        }
        for key, rows in items
    ]


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


def _caveats(dossier: Dossier, record_sources: dict[str, tuple[str, ...]]) -> list[str]:
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
