"""Context building: formatting, citations, grouping, totals and caveats, in plain Python."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from briefing.context import (
    CONTEXT_NAMES,
    build_context,
    cite,
    document_properties,
    grade,
)
from briefing.model import Dossier
from briefing.schema import (
    SCHEMA,
    BriefingFields,
    DemandRow,
    FigureRow,
    JudgmentRow,
    ReactionRow,
    SourceRow,
)
from briefing.text import PartialDate


def briefing() -> BriefingFields:
    return BriefingFields(
        title="T",
        subject="S",
        date=dt.date(2024, 6, 14),
        recipient="Desk",
        author="Analyst",
        handling="TLP:AMBER",
        bluf="B",
        email_to=(),
        outlook="",
        reference="",
    )


def source(id: str, reliability: str = "B", credibility: str = "2", ai: str = "") -> SourceRow:
    return SourceRow(
        id=id,
        title=f"Title {id}",
        publisher="Reuters",
        published=PartialDate(2024, 6, 14),
        url="",
        file="",
        reliability=reliability,
        credibility=credibility,
        ai_generated=ai,
        notes="",
    )


def figure(id: str, claimed_by: str, metric: str, value: float, **kw: Any) -> FigureRow:
    fields: dict[str, Any] = {
        "date": PartialDate(2024, 6, 14),
        "until": None,
        "location": "",
        "region": "",
        "country": "",
        "event_type": "",
        "unit": "",
        "status": "claimed",
        "source": "S1",
        "quote": "q",
        "note": "",
        "review": "",
    }
    fields.update(kw)
    return FigureRow(id=id, claimed_by=claimed_by, metric=metric, value=value, **fields)


def demand(
    id: str, party: str, text: str, detail: str = "", src: str = "S1", category: str = ""
) -> DemandRow:
    return DemandRow(
        id=id,
        party=party,
        demand=text,
        category=category,
        detail=detail,
        stated=None,
        withdrawn=None,
        source=src,
        quote="q",
        note="",
        review="",
    )


def reaction(id: str, actor: str, summary: str, src: str = "S1") -> ReactionRow:
    return ReactionRow(
        id=id,
        date=None,
        actor=actor,
        role="Adviser",
        affiliation="Ukraine",
        stance="opposes",
        summary=summary,
        excerpt="",
        source=src,
        quote="q",
        note="",
        review="",
    )


def judgment(id: str, based_on: tuple[str, ...], as_of: PartialDate | None = None) -> JudgmentRow:
    return JudgmentRow(
        id=id,
        as_of=as_of,
        judgment="J",
        likelihood="likely",
        confidence="moderate",
        based_on=based_on,
    )


def dossier(**records: Any) -> Dossier:
    """A dossier holding the given records, by sheet key: dossier(figures=[...])."""
    sheets = {spec.key: spec.name for spec in SCHEMA.sheets}
    by_sheet = {sheets[key]: tuple(rows) for key, rows in records.items()}
    return Dossier(path=Path("desk.xlsx"), records={"Briefing": (briefing(),), **by_sheet})


def test_cite_lists_each_source_once_in_order() -> None:
    assert cite("S2", "S1", "S2", "") == "[S2][S1]"


def test_grade_in_words() -> None:
    assert grade(source("S1", "F", "6")) == (
        "F6: reliability cannot be judged; truth cannot be judged"
    )


def test_context_has_exactly_the_declared_names() -> None:
    context = build_context(dossier()).as_dict()
    assert tuple(context) == CONTEXT_NAMES
    assert context["date"] == "14 June 2024"
    assert context["handling"] == "TLP:AMBER"


def test_empty_sections_are_empty_lists() -> None:
    context = build_context(dossier()).as_dict()
    for name in ("judgments", "demand_categories", "demands", "reaction_groups", "figures"):
        assert context[name] == []
    assert context["annexes"]["demands"] == ""
    assert context["sections"] == {
        "bluf": "1",
        "judgments": "",
        "changes": "",
        "diplomacy": "",
        "battlefield": "",
        "outlook": "",
    }


def test_demands_face_to_face_only_where_two_parties_meet_in_a_category() -> None:
    context = build_context(
        dossier(
            sources=(source("S1"), source("S2")),
            demands=(
                demand("D1", "Ukraine", "Russian withdrawal", category="territory"),
                demand("D2", "Russia", "No NATO", detail="now", category="security"),
                demand("D3", "Russia", "Crimea", category="territory", src="S2"),
                demand("D4", "NATO", "Stop"),
            ),
        )
    )
    categories = context.demand_categories
    # Parties in the vocabulary's order; categories as they first appear; no category last.
    assert [(c["category"], c["face_to_face"]) for c in categories] == [
        ("Security", False),
        ("Territory", True),
        ("Other", False),
    ]
    territory = categories[1]["parties"]
    assert [(p["party"], p["citation"]) for p in territory] == [
        ("Russia", "[S2]"),
        ("Ukraine", "[S1]"),
    ]
    assert territory[0]["demands"] == [{"id": "D3", "demand": "Crimea", "citation": "[S2]"}]
    annex = context.demands
    assert [d["id"] for d in annex] == ["D2", "D3", "D1", "D4"]
    assert annex[0]["detail"] == "now"
    assert context.annexes["demands"] == "A"


def test_reactions_grouped_by_actor_in_first_seen_order() -> None:
    context = build_context(
        dossier(
            sources=(source("S1"), source("S2")),
            reactions=(
                reaction("R1", "Podolyak", "Nothing new"),
                reaction("R2", "Austin", "No right"),
                reaction("R3", "Podolyak", "Aggressor's set", src="S2"),
            ),
        )
    )
    groups = context.reaction_groups
    assert [g["actor"] for g in groups] == ["Podolyak", "Austin"]
    assert groups[0]["who"] == "Adviser, Ukraine"
    assert [(s["summary"], s["citation"]) for s in groups[0]["statements"]] == [
        ("Nothing new", "[S1]"),
        ("Aggressor's set", "[S2]"),
    ]


def day(number: int) -> PartialDate:
    return PartialDate(2024, 6, number)


def test_totals_add_one_claimants_metric_over_distinct_days() -> None:
    context = build_context(
        dossier(
            sources=(source("S1"), source("S2")),
            figures=(
                figure("F1", "Ukraine's air force", "drones shot down", 17, unit="drones"),
                figure(
                    "F2", "Ukraine's air force", "drones shot down", 24, unit="drones", date=day(13)
                ),
                figure(
                    "F3",
                    "Ukraine's air force",
                    "drones shot down",
                    1500,
                    unit="drones",
                    date=day(12),
                    source="S2",
                ),
                figure("F4", "Russia", "drones shot down", 87, unit="drones"),
            ),
        )
    )
    assert context.totals == [
        {
            "claimed_by": "Ukraine's air force",
            "metric": "drones shot down",
            "unit": "drones",
            "country": "",
            "total": "1,541",
            "count": "3",
            "citation": "[S1][S2]",
        }
    ]
    assert context.figures[2]["value"] == "1,500"
    assert context.figures[0]["date"] == "14 June 2024"


@pytest.mark.parametrize(
    "figures",
    [
        pytest.param(
            (
                figure("F1", "Ukraine", "people injured", 6, unit="people", country="Ukraine"),
                figure("F2", "Russia", "people injured", 6, unit="people", date=day(13)),
            ),
            id="two-claimants",
        ),
        pytest.param(
            (
                figure("F1", "Kyiv", "people injured", 6, unit="people", country="Ukraine"),
                figure("F2", "Kyiv", "people injured", 3, unit="people", country="Russia"),
            ),
            id="two-countries",
        ),
        pytest.param(
            (
                figure("F1", "Kyiv", "shells fired", 6, unit="shells"),
                figure("F2", "Kyiv", "shells fired", 3, unit="rounds", date=day(13)),
            ),
            id="two-units",
        ),
        pytest.param(
            (
                figure("F1", "Kyiv", "soldiers lost a day", 1000, unit="soldiers"),
                figure("F2", "Kyiv", "soldiers lost a day", 1200, unit="soldiers", date=day(13)),
            ),
            id="a-rate",
        ),
        pytest.param(
            (
                figure("F1", "Kyiv", "drones shot down", 300, date=day(1), until=day(14)),
                figure("F2", "Kyiv", "drones shot down", 17),
            ),
            id="overlapping-periods",
        ),
        pytest.param(
            (
                figure("F1", "Kyiv", "drones shot down", 10),
                figure("F2", "Kyiv", "drones shot down", 17),
            ),
            id="two-reports-of-one-day",
        ),
    ],
)
def test_totals_never_add_what_does_not_add_up(figures: tuple[FigureRow, ...]) -> None:
    assert build_context(dossier(sources=(source("S1"),), figures=figures)).totals == []


def test_judgment_cites_the_sources_of_its_records() -> None:
    context = build_context(
        dossier(
            sources=(source("S1"), source("S2")),
            demands=(demand("D1", "Russia", "x", src="S2"),),
            reactions=(reaction("R1", "A", "y"),),
            judgments=(judgment("J1", ("D1", "R1")),),
        )
    )
    assert context.judgments == [
        {
            "id": "J1",
            "text": "J",
            "likelihood": "likely",
            "likelihood_range": "55–80%",
            "confidence": "moderate",
            "based_on": "D1, R1",
            "citation": "[S2][S1]",
            "as_of": "",
            "revised": "",
        }
    ]


def test_caveats_follow_from_the_data() -> None:
    context = build_context(
        dossier(
            sources=(source("S1", "F", "3", ai="yes"), source("S2", "B", "2")),
            figures=(
                figure("F1", "Russia", "drones", 87),
                figure("F2", "Ukraine", "drones", 17, status="confirmed"),
            ),
            demands=(demand("D1", "Russia", "x"), demand("D2", "Russia", "y", src="S2")),
            judgments=(
                judgment("J1", ("D1",)),
                judgment("J2", ("D1", "F1")),
                judgment("J3", ("D1", "D2")),
            ),
        )
    )
    assert context.caveats == [
        "[S1] says it was generated with AI; treat its details as unverified until a primary "
        "source confirms them.",
        "[S1] is graded F3: reliability cannot be judged; possibly true.",
        "1 of 2 figures are claimed or disputed, not independently confirmed (F1).",
        "Quotes from [S1][S2] were not checked against copies of the sources: the workbook "
        "gives no text files for them.",
        "Judgments J1 and J2 each rest on a single source, [S1].",
    ]


def test_document_properties_come_from_the_workbook() -> None:
    now = dt.datetime(2024, 6, 15, 8, 0, tzinfo=dt.UTC)
    properties = document_properties(
        dossier(demands=(demand("D1", "Russia", "x"), demand("D2", "Ukraine", "y"))), now
    )
    assert properties.title == "T"
    assert properties.subject == "S"
    assert properties.author == "Analyst"
    assert properties.keywords == "TLP:AMBER, Russia, Ukraine, briefing"
    assert properties.created == now


def test_a_judgment_resting_on_a_judgment_cites_its_sources() -> None:
    context = build_context(
        dossier(
            sources=(source("S1"), source("S2")),
            demands=(demand("D1", "Russia", "x", src="S2"),),
            judgments=(judgment("J1", ("J2",)), judgment("J2", ("D1",))),
        )
    )
    assert [j["citation"] for j in context.judgments] == ["[S2]", "[S2]"]
    assert context.caveats[-1] == "Judgments J1 and J2 each rest on a single source, [S2]."


@pytest.mark.parametrize(
    ("start", "until", "printed"),
    [
        pytest.param(PartialDate(2024, 6, 14), None, "14 June 2024", id="a-day"),
        pytest.param(PartialDate(2024, 5, 10), PartialDate(2024, 6, 10), "10 May–10 June 2024"),
        pytest.param(PartialDate(2024, 5, 1), PartialDate(2024, 5, 31), "May 2024", id="a-month"),
        pytest.param(PartialDate(2024, 2, 1), PartialDate(2024, 2, 29), "February 2024"),
        pytest.param(PartialDate(2024, 6, 1), PartialDate(2024, 6, 14), "1–14 June 2024"),
        pytest.param(PartialDate(2024, 5, 1), PartialDate(2024, 6, 30), "1 May–30 June 2024"),
        pytest.param(PartialDate(2024, 5), None, "May 2024", id="a-month-typed-as-one"),
        pytest.param(PartialDate(9999, 12, 1), PartialDate(9999, 12, 31), "December 9999"),
    ],
)
def test_a_figure_s_period_prints_as_a_reader_writes_it(
    start: PartialDate, until: PartialDate | None, printed: str
) -> None:
    found = build_context(
        dossier(figures=[figure("F1", "MoD", "drones", 5, date=start, until=until)])
    )
    assert found.figures[0]["date"] == printed
