"""The gazetteer: regions and cities in their spellings, with their region and country."""

from __future__ import annotations

import pytest

from briefing.places import CITIES, RUSSIA_REGIONS, UKRAINE_REGIONS, Place, find_place


@pytest.mark.parametrize(
    ("text", "place"),
    [
        pytest.param(
            "Two people were hurt in Zaporizhzhia Oblast.",
            Place("", "Zaporizhzhia region", "Ukraine"),
            id="oblast",
        ),
        pytest.param(
            "Shelling hit the Kharkov region again.",
            Place("", "Kharkiv region", "Ukraine"),
            id="old-spelling-region",
        ),
        pytest.param(
            "A drone fell near Kiev on Monday.",
            Place("Kyiv", "Kyiv region", "Ukraine"),
            id="old-spelling-city",
        ),
        pytest.param(
            "A strike on Chuhuiv damaged a school.",
            Place("Chuhuiv", "Kharkiv region", "Ukraine"),
            id="town-gives-its-region",
        ),
        pytest.param(
            "Drones were downed over the Bryansk, Kaluga and Tula regions.",
            Place("", "Bryansk region", "Russia"),
            id="list-of-regions",
        ),
        pytest.param(
            "Fighting went on in the region of Kursk.",
            Place("", "Kursk region", "Russia"),
            id="region-of-name",
        ),
        pytest.param(
            "Officials in Russia's Belgorod Oblast said so.",
            Place("", "Belgorod region", "Russia"),
            id="country-before-region",
        ),
        pytest.param(
            "Missiles were launched at Ukraine.",
            Place("", "", "Ukraine"),
            id="country-alone",
        ),
        pytest.param(
            "Drones struck four of Ukraine's oblasts.",
            Place("", "", "Ukraine"),
            id="a-country-s-land",
        ),
        pytest.param(
            "A blast hit Ukraine's Kremenchuk.",
            Place("Kremenchuk", "Poltava region", "Ukraine"),
            id="country-s-city",
        ),
        pytest.param(
            "In the city of Dnepropetrovsk, sirens sounded; later in Kherson too.",
            Place("Dnipro", "Dnipropetrovsk region", "Ukraine"),
            id="first-place-named",
        ),
    ],
)
def test_places_are_found(text: str, place: Place) -> None:
    assert find_place(text) == place


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Kyiv said it would not agree.", id="capital-as-government"),
        pytest.param("Ukraine's leader spoke on Friday.", id="country-as-actor"),
        pytest.param("Ukraine's partners met in Rome.", id="country-s-partners"),
        pytest.param("Nothing happened anywhere.", id="no-place"),
    ],
)
def test_a_capital_or_country_that_acts_is_no_place(text: str) -> None:
    assert find_place(text) is None


def test_every_city_lies_in_a_region_of_the_gazetteer() -> None:
    regions = {name for name, _ in (*UKRAINE_REGIONS, *RUSSIA_REGIONS)}
    assert {region for _, region, _ in CITIES} <= regions
