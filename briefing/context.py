"""Turn a validated dossier into the template context: grouped, totalled, formatted, cited."""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from briefing.model import Changes, DocumentProperties, Dossier, Edition, Trend
from briefing.schema import (
    CREDIBILITY,
    HANDLING,
    LIKELIHOOD,
    PARTY,
    RELIABILITY,
    STANCE,
    DemandRow,
    FigureRow,
    JudgmentRow,
    Kind,
    ReactionRow,
    SheetSpec,
    SourceRow,
    TimelineRow,
)
from briefing.text import PartialDate, Precision, format_date, format_number, typeset

Context = dict[str, Any]
# The annexes in the order they follow the main body; letters go to those with content.
ANNEXES = ("demands", "reactions", "figures", "timeline", "sources", "caveats")
ANNEX_LETTERS = "ABCDEFGHIJ"
MAX_LEADING_FIGURES = 4
MAX_LISTED_SOURCES = 6  # markers a caveat lists before it gives a count
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
    # The memo block's reference, the footer's sharing rule, and the Outlook section's items.
    reference: str
    handling_rule: str
    outlook: list[str]
    judgments: list[dict[str, str]]
    # The main body in brief: demands by category (face to face where two parties meet),
    # reactions one line each, the leading figures.
    demand_categories: list[dict[str, Any]]
    reactions_in_brief: list[dict[str, str]]
    leading_figures: list[dict[str, str]]
    # The main body's sections present, numbered: {"bluf": "1", "judgments": "2", ...}; the
    # annexes present, lettered: {"demands": "A", ...}. Headings a reader can point to.
    sections: dict[str, str]
    annexes: dict[str, str]
    demands: list[dict[str, str]]
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
        """The context for a template, its prose typeset: curly quotes, no straight marks."""
        return {name: _typeset(name, getattr(self, name)) for name in CONTEXT_NAMES}


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
    demands = sorted(dossier.rows(DemandRow), key=lambda d: PARTY.codes.index(d.party))
    reactions = dossier.rows(ReactionRow)
    timeline = sorted(dossier.rows(TimelineRow), key=lambda e: e.date)
    sources = dossier.rows(SourceRow)
    caveats = _caveats(dossier, record_sources)
    present = {
        "demands": demands,
        "reactions": reactions,
        "figures": figures,
        "timeline": timeline,
        "sources": sources,
        "caveats": caveats,
    }
    # Every section and annex has a key, empty where it is left out: `{% if annexes.x %}`.
    letters = iter(ANNEX_LETTERS)
    annexes = {name: next(letters) if present[name] else "" for name in ANNEXES}
    leading = _leading_figures(figures, trends)
    in_body = {
        "bluf": True,
        "judgments": judgments,
        "changes": changes is not None,
        "diplomacy": demands or reactions,
        "battlefield": leading or trends,
        "outlook": briefing.outlook.strip(),
    }
    numbers = iter(range(1, len(in_body) + 1))
    sections = {name: str(next(numbers)) if in_body[name] else "" for name in in_body}
    # The IDs the annexes print beside their records: the only ones a reader can follow.
    printed = {
        record.id
        for spec in dossier.schema.record_sheets
        if spec.has_ids
        for record in dossier.records.get(spec.name, ())
    }
    context = MemoContext(
        title=briefing.title,
        subject=briefing.subject,
        date=format_date(briefing.date),
        recipient=briefing.recipient,
        author=briefing.author,
        handling=briefing.handling,
        bluf=briefing.bluf,
        reference=briefing.reference or _reference(dossier),
        handling_rule=HANDLING.words_for(briefing.handling),
        outlook=[line.strip() for line in briefing.outlook.splitlines() if line.strip()],
        judgments=[_judgment(j, record_sources, dossier.revisions, printed) for j in judgments],
        demand_categories=_demand_categories(demands),
        reactions_in_brief=[_reaction_in_brief(r) for r in reactions],
        leading_figures=leading,
        sections=sections,
        annexes=annexes,
        demands=[_demand(d) for d in demands],
        reaction_groups=_reaction_groups(reactions),
        figures=[_figure(f) for f in figures],
        totals=_totals(figures),
        timeline=[
            {"date": format_date(e.date), "event": e.event, "citation": cite(e.source)}
            for e in timeline
        ],
        sources=[_source(s) for s in sources],
        caveats=caveats,
        records={
            spec.key: [_printed(spec, record) for record in dossier.records.get(spec.name, ())]
            for spec in dossier.schema.record_sheets
        },
        information_as_of=format_date(dossier.edition.date if dossier.edition else briefing.date),
        window=dossier.edition.window if dossier.edition and dossier.edition.days > 1 else "",
        changes=_changes(changes, printed, dossier) if changes is not None else {},
        charts=[_chart(trend) for trend in trends],
    )
    return context


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
    printed: set[str],
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
        "based_on": _based_on(judgment.based_on, printed),
        "citation": cite(*sources),
    }


def _based_on(ids: Sequence[str], printed: set[str]) -> str:
    """The IDs a judgment rests on that the memo prints; the others, outside the edition's
    window, counted, since a reader could not find them in its annexes."""
    shown = [i for i in ids if i in printed]
    others = len(ids) - len(shown)
    if not others:
        return ", ".join(shown)
    earlier = f"{others} record{'s' if others > 1 else ''} outside this edition"
    return ", ".join([*shown, earlier]) if shown else earlier


# Values printed as they are: addresses, codes, markers and chart data.
VERBATIM = frozenset(
    {"url", "id", "citation", "marker", "handling", "days", "values", "first_day", "last_day"}
)
# Values a template prints inside double quotation marks.
QUOTED = frozenset({"quote", "excerpt"})


def _typeset(key: str, value: Any) -> Any:
    if isinstance(value, str):
        return value if key in VERBATIM else typeset(value, inside_quote=key in QUOTED)
    if isinstance(value, dict):
        return {k: _typeset(k, v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typeset(key, item) for item in value]
    return value


def _reference(dossier: Dossier) -> str:
    """The workbook's name and the edition's date: "desk / 2024-06-14"."""
    day = dossier.edition.date if dossier.edition else dossier.briefing.date
    return f"{dossier.path.stem} / {day.isoformat()}"


def _demand(demand: DemandRow) -> dict[str, str]:
    return {
        "id": demand.id,
        "party": demand.party,
        "category": _category(demand.category),
        "demand": demand.demand,
        "detail": demand.detail,
        "stated": format_date(demand.stated),
        "quote": demand.quote,
        "citation": cite(demand.source),
    }


def _category(name: str) -> str:
    name = " ".join(name.split())
    return name[:1].upper() + name[1:] if name else "Other"


def _demand_categories(demands: Sequence[DemandRow]) -> list[dict[str, Any]]:
    """Demands by category, in order of first appearance, then by party.

    Where exactly two parties have demands in a category, the memo sets them face to face;
    no row pairs one party's demand with another's, since they need not answer each other.
    """
    by_category: dict[str, dict[str, list[dict[str, str]]]] = {}
    for demand in demands:
        parties = by_category.setdefault(_category(demand.category), {})
        parties.setdefault(demand.party, []).append(
            {"id": demand.id, "demand": demand.demand, "citation": cite(demand.source)}
        )
    ordered = sorted(by_category.items(), key=lambda item: item[0] == "Other")
    return [
        {
            "category": category,
            "face_to_face": len(parties) == 2,
            "parties": [
                {
                    "party": party,
                    "demands": rows,
                    "citation": "".join(dict.fromkeys(row["citation"] for row in rows)),
                }
                for party, rows in parties.items()
            ],
        }
        for category, parties in ordered
    ]


def _reaction_in_brief(reaction: ReactionRow) -> dict[str, str]:
    # One line each: the body the actor speaks for, unless the actor is that body.
    who = reaction.affiliation if reaction.affiliation not in reaction.actor else ""
    return {
        "id": reaction.id,
        "actor": reaction.actor,
        "who": who,
        "stance": STANCE.words_for(reaction.stance),
        "summary": reaction.summary,
        "excerpt": reaction.excerpt,
        "citation": cite(reaction.source),
    }


def _leading_figures(figures: Sequence[FigureRow], trends: Sequence[Trend]) -> list[dict[str, str]]:
    """Each claimant's metric on its latest day in the edition, charted metrics first: at most 4.

    Figures of one day in different places of one country add up to one line that names the
    places; where they may count the same events, the largest stands. Countries stay apart.
    """
    latest: dict[tuple[str, ...], list[FigureRow]] = {}
    for figure in figures:
        key = (figure.claimed_by, figure.metric, figure.unit, figure.country)
        held = latest.setdefault(key, [])
        day = figure.date or PartialDate(1)
        if held and day > (held[0].date or PartialDate(1)):
            held.clear()
        if not held or day == (held[0].date or PartialDate(1)):
            held.append(figure)
    charted: list[tuple[str, ...]] = [(t.claimed_by, t.metric, t.unit) for t in trends]
    keys = sorted(latest, key=lambda k: charted.index(k[:3]) if k[:3] in charted else len(charted))
    return [_figure_line(latest[key]) for key in keys[:MAX_LEADING_FIGURES]]


def _figure_line(figures: list[FigureRow]) -> dict[str, str]:
    if len(figures) == 1 or _overlapping(figures):
        return _figure(max(figures, key=lambda f: f.value))
    line = _figure(figures[0])
    line["value"] = format_number(sum(f.value for f in figures))
    line["place"] = "; ".join(dict.fromkeys(_place(f) for f in figures))
    line["id"] = ", ".join(f.id for f in figures)
    line["citation"] = cite(*(f.source for f in figures))
    return line


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
                        "id": r.id,
                        "date": format_date(r.date),
                        "stance": STANCE.words_for(r.stance),
                        "summary": r.summary,
                        "excerpt": r.excerpt or r.quote,
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
        "date": _period(figure.date, figure.until),
        "place": _place(figure),
        "claimed_by": figure.claimed_by,
        "event_type": figure.event_type,
        "metric": figure.metric,
        "value": format_number(figure.value),
        "unit": figure.unit,
        "status": figure.status,
        "citation": cite(figure.source),
    }


def _period(start: PartialDate | None, until: PartialDate | None) -> str:
    """A date, or the period from a date until another: "10 May–10 June 2024"; a whole
    month, as extract writes "last month", is the month: "May 2024"."""
    if until is None or start is None:
        return format_date(start)
    first, last = start.start, until.end
    if (
        first.day == 1
        and (first.year, first.month) == (last.year, last.month)
        and last.day == calendar.monthrange(last.year, last.month)[1]
    ):
        return f"{first:%B %Y}"
    return (
        Edition(until.end, (until.end - start.start).days + 1).window
        if (start.precision is until.precision is Precision.DAY)
        else f"{format_date(start)}–{format_date(until)}"
    )


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
    """Whether two figures may count the same events: their times meet, in the same place.

    Figures of different places on one day are different events and add up; a figure with no
    place may cover any place. Undated figures cover no day that is known.
    """
    spans = [
        (f.date.start, (f.until or f.date).end, _place(f)) for f in figures if f.date is not None
    ]
    for index, (start, end, place) in enumerate(spans):
        for other_start, other_end, other_place in spans[index + 1 :]:
            meet = start <= other_end and other_start <= end
            if meet and (not place or not other_place or place == other_place):
                return True
    return False


def _chart(trend: Trend) -> dict[str, Any]:
    """A trend as a chart to draw and the sentence that says it in words, for print in grey."""
    values = [value for _, value in trend.points]
    last_day, last = trend.points[-1]
    average = sum(values) / len(values)
    # Half up, as a reader rounds: 20.5 is 21.
    shown = format_number(math.floor(average + 0.5) if average >= 10 else round(average, 1))
    days = (trend.last_day - trend.first_day).days + 1
    # The chart runs from the first day reported, so that no part of it is empty.
    shown_from = trend.points[0][0]
    window = Edition(trend.last_day, (trend.last_day - shown_from).days + 1).window
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
        "first_day": shown_from.isoformat(),
        "last_day": trend.last_day.isoformat(),
        "citation": cite(*trend.sources),
    }


def _shown_value(value: str, is_reference: bool, printed: set[str]) -> str:
    """A field's value in a change line: references only to records a reader can find."""
    if is_reference and value:
        return _based_on(value.split(", "), printed)
    return value or "(empty)"


def _changes(changes: Changes, printed: set[str], dossier: Dossier) -> dict[str, Any]:
    records = []
    for change in changes.records:
        # An ID outside the edition could not be followed to an annex: the label says what.
        shown_id = change.record_id if change.record_id in printed else ""
        what = f"{change.noun.capitalize()} {shown_id}".strip()
        spec = dossier.schema.sheet(change.sheet)
        references = {c.header for c in spec.columns if c.kind in (Kind.REF, Kind.REFS)}
        fields = [
            {
                "header": f.header,
                "old": _shown_value(f.old, f.header in references, printed),
                "new": _shown_value(f.new, f.header in references, printed),
            }
            for f in change.fields
        ]
        detail = "; ".join(f"{f['header']} {f['old']} → {f['new']}" for f in fields)
        verb = CHANGE_VERBS[change.kind]
        if change.kind == "changed" and shown_id:
            line = f"{what} changed: {detail}"
        elif change.kind == "changed":  # no ID to follow: say which record it is
            line = f"{what} changed: {change.label} ({detail})"
        elif change.kind == "withdrawn":
            # The one field that changed is the end date: say it in words.
            ends = dict(spec.fields)[spec.ends].header if spec.ends else ""
            when = next((f["new"] for f in fields if f["header"] == ends), "")
            others = "; ".join(
                f"{f['header']} {f['old']} → {f['new']}" for f in fields if f["header"] != ends
            )
            line = f"{what} withdrawn on {when}: {change.label}" + (
                f" ({others})" if others else ""
            )
        else:
            line = f"{what} {verb}: {change.label}" + (f" ({detail})" if detail else "")
        records.append(
            {
                "kind": change.kind,
                "what": what,
                "label": change.label,
                "fields": fields,
                "line": line or f"{what} {verb}: {change.label}",
            }
        )
    return {
        "since": format_date(changes.since),
        "summary": changes.summary,
        "records": records,
        # For the main body: what changed in records the reader knew; new ones are counted in
        # the summary and printed in their annexes.
        "notable": [r for r in records if r["kind"] != "new"],
    }


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
        markers = (
            cite(*unchecked)
            if len(unchecked) <= MAX_LISTED_SOURCES
            else (f"{len(unchecked)} sources ({cite(*unchecked[:MAX_LISTED_SOURCES])} and others)")
        )
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
