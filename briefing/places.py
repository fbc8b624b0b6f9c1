"""The places of the war that extraction recognises: regions and cities, with their spellings.

Written by us from public facts: the regions are Ukraine's oblasts (and Crimea) as ISO 3166-2:UA
lists them, and the regions of Russia that the war's reporting names most, as ISO 3166-2:RU
lists them; the cities are each oblast's centre and the towns the front and the strikes made
known, with the region each lies in. Spellings are Ukraine's official romanization (2010)
first, then the Russian-based ones wire copy still uses (Kharkov, Kiev, Dnepropetrovsk).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

UKRAINE = "Ukraine"
RUSSIA = "Russia"

# Region name (as the desk writes it), other spellings; each is "<name> region" in the memo.
# fmt: off
UKRAINE_REGIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Cherkasy", ("Cherkassy",)), ("Chernihiv", ("Chernigov",)),
    ("Chernivtsi", ("Chernovtsy",)), ("Dnipropetrovsk", ("Dnepropetrovsk",)),
    ("Donetsk", ()), ("Ivano-Frankivsk", ()), ("Kharkiv", ("Kharkov",)),
    ("Kherson", ()), ("Khmelnytskyi", ("Khmelnytsky", "Khmelnitsky")),
    ("Kirovohrad", ("Kirovograd",)), ("Kyiv", ("Kiev",)), ("Luhansk", ("Lugansk",)),
    ("Lviv", ("Lvov",)), ("Mykolaiv", ("Nikolaev", "Nikolayev")), ("Odesa", ("Odessa",)),
    ("Poltava", ()), ("Rivne", ("Rovno",)), ("Sumy", ()), ("Ternopil", ()),
    ("Vinnytsia", ("Vinnitsa",)), ("Volyn", ()), ("Zakarpattia", ("Transcarpathia",)),
    ("Zaporizhzhia", ("Zaporizhia", "Zaporozhye")), ("Zhytomyr", ("Zhitomir",)),
    ("Crimea", ()),
)
RUSSIA_REGIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Belgorod", ()), ("Bryansk", ()), ("Kursk", ()), ("Voronezh", ()), ("Rostov", ()),
    ("Krasnodar", ()), ("Smolensk", ()), ("Lipetsk", ()), ("Tula", ()), ("Oryol", ("Orel",)),
    ("Kaluga", ()), ("Tver", ()), ("Moscow", ()), ("Leningrad", ()), ("Ryazan", ()),
    ("Tambov", ()), ("Volgograd", ()), ("Astrakhan", ()), ("Saratov", ()), ("Pskov", ()),
    ("Novgorod", ()), ("Nizhny Novgorod", ()), ("Yaroslavl", ()), ("Ivanovo", ()),
    ("Vladimir", ()), ("Tatarstan", ()), ("Bashkortostan", ()), ("Penza", ()),
    ("Murmansk", ()),
)
# City, its region, other spellings.
CITIES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Kyiv", "Kyiv", ("Kiev",)), ("Kharkiv", "Kharkiv", ("Kharkov",)),
    ("Odesa", "Odesa", ("Odessa",)),
    ("Dnipro", "Dnipropetrovsk", ("Dnepr", "Dnipropetrovsk", "Dnepropetrovsk")),
    ("Zaporizhzhia", "Zaporizhzhia", ("Zaporizhia", "Zaporozhye")), ("Lviv", "Lviv", ("Lvov",)),
    ("Kryvyi Rih", "Dnipropetrovsk", ("Krivoy Rog",)), ("Nikopol", "Dnipropetrovsk", ()),
    ("Pavlohrad", "Dnipropetrovsk", ()), ("Mykolaiv", "Mykolaiv", ("Nikolaev", "Nikolayev")),
    ("Kherson", "Kherson", ()), ("Sumy", "Sumy", ()), ("Okhtyrka", "Sumy", ()),
    ("Shostka", "Sumy", ()), ("Poltava", "Poltava", ()), ("Kremenchuk", "Poltava", ()),
    ("Chernihiv", "Chernihiv", ("Chernigov",)), ("Zhytomyr", "Zhytomyr", ("Zhitomir",)),
    ("Vinnytsia", "Vinnytsia", ("Vinnitsa",)), ("Cherkasy", "Cherkasy", ()),
    ("Uman", "Cherkasy", ()), ("Kropyvnytskyi", "Kirovohrad", ()), ("Rivne", "Rivne", ()),
    ("Lutsk", "Volyn", ()), ("Ternopil", "Ternopil", ()),
    ("Ivano-Frankivsk", "Ivano-Frankivsk", ()), ("Uzhhorod", "Zakarpattia", ()),
    ("Chernivtsi", "Chernivtsi", ()), ("Khmelnytskyi", "Khmelnytskyi", ()),
    ("Bila Tserkva", "Kyiv", ()), ("Brovary", "Kyiv", ()), ("Bucha", "Kyiv", ()),
    ("Irpin", "Kyiv", ()), ("Kramatorsk", "Donetsk", ()), ("Sloviansk", "Donetsk", ("Slavyansk",)),
    ("Pokrovsk", "Donetsk", ()), ("Bakhmut", "Donetsk", ("Artemovsk",)),
    ("Avdiivka", "Donetsk", ()), ("Chasiv Yar", "Donetsk", ()), ("Toretsk", "Donetsk", ()),
    ("Kostiantynivka", "Donetsk", ()), ("Mariupol", "Donetsk", ()),
    ("Horlivka", "Donetsk", ("Gorlovka",)), ("Vuhledar", "Donetsk", ()),
    ("Kupiansk", "Kharkiv", ()), ("Vovchansk", "Kharkiv", ()), ("Chuhuiv", "Kharkiv", ()),
    ("Izium", "Kharkiv", ("Izyum",)), ("Lyman", "Donetsk", ()),
    ("Melitopol", "Zaporizhzhia", ()), ("Berdiansk", "Zaporizhzhia", ()),
    ("Enerhodar", "Zaporizhzhia", ()), ("Sievierodonetsk", "Luhansk", ("Severodonetsk",)),
    ("Lysychansk", "Luhansk", ()), ("Sevastopol", "Crimea", ()), ("Simferopol", "Crimea", ()),
    ("Kerch", "Crimea", ()), ("Belgorod", "Belgorod", ()), ("Shebekino", "Belgorod", ()),
    ("Kursk", "Kursk", ()), ("Sudzha", "Kursk", ()), ("Bryansk", "Bryansk", ()),
    ("Voronezh", "Voronezh", ()), ("Rostov-on-Don", "Rostov", ()), ("Taganrog", "Rostov", ()),
    ("Krasnodar", "Krasnodar", ()), ("Novorossiysk", "Krasnodar", ()), ("Sochi", "Krasnodar", ()),
    ("Smolensk", "Smolensk", ()), ("Engels", "Saratov", ()), ("Saratov", "Saratov", ()),
    ("St. Petersburg", "Leningrad", ("Saint Petersburg",)), ("Tula", "Tula", ()),
    ("Lipetsk", "Lipetsk", ()), ("Oryol", "Oryol", ("Orel",)),
)
# fmt: on
REGION_WORDS = r"(?:[Oo]blast|[Rr]egion|[Pp]rovince|[Kk]rai|[Rr]epublic)"
# A bare city counts as a place after words that put something there.
AT_PLACE = (
    r"(?:in|near|on|over|at|outside|around|across|from|of|into|hit|hits|struck|strike|strikes|"
    r"targeted|targets|shelled|shells|bombed|bombs|attacked|attacks)"
)

# A country is a place after the words that put something there, and after "to" or "against"
# ("sent to Ukraine", "launched against Ukraine"), never as the one who acts ("by Russia").
COUNTRY = re.compile(rf"\b(?:{AT_PLACE}|to|against)\s+(?P<name>{UKRAINE}|{RUSSIA})\b(?!['’]s)")
# "four of Ukraine's oblasts", "Russia's southern regions": the country's own land.
COUNTRY_LAND = re.compile(
    rf"\b(?P<name>{UKRAINE}|{RUSSIA})['’]s\s+(?:[a-z]+ern\s+|[a-z]+\s+and\s+[a-z]+ern\s+)?"
    r"(?:oblasts|regions|provinces|cities|towns|villages|territory|airspace)\b"
)


@dataclass(frozen=True)
class Place:
    """Where a sentence puts what it reports: a town, its region and its country."""

    location: str
    region: str
    country: str


@cache
def _region_countries() -> dict[str, str]:
    countries = {name: UKRAINE for name, _ in UKRAINE_REGIONS}
    countries.update({name: RUSSIA for name, _ in RUSSIA_REGIONS if name not in countries})
    return countries


@cache
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str], dict[str, str], dict[str, str]]:
    """(a region phrase, a city after a locative word, spelling -> region, spelling -> city)."""
    regions: dict[str, str] = {}
    for name, others in (*UKRAINE_REGIONS, *RUSSIA_REGIONS):
        for spelling in (name, *others):
            regions.setdefault(spelling, name)
    cities: dict[str, str] = {}
    for name, _, others in CITIES:
        for spelling in (name, *others):
            cities[spelling] = name

    def alternatives(names: dict[str, str]) -> str:
        return "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))

    any_region = alternatives(regions)
    # "Bryansk, Smolensk and Tula regions": the first region named stands for the list.
    region = re.compile(
        rf"\b(?P<name>{any_region})(?:(?:,\s*|,?\s+and\s+)(?:{any_region}))*(?:'s)?"
        rf"\s+{REGION_WORDS}s?\b"
        rf"|\b{REGION_WORDS}\s+of\s+(?P<after>{alternatives(regions)})\b"
    )
    city = re.compile(
        rf"\b(?:{AT_PLACE})\s+(?:(?:{UKRAINE}|{RUSSIA})['’]s\s+)?(?:the\s+(?:city|town|village)\s+of\s+)?"
        rf"(?P<name>{alternatives(cities)})\b(?!\s+{REGION_WORDS})"
    )
    return region, city, regions, cities


@cache
def _city_regions() -> dict[str, str]:
    return {city: region for city, region, _ in CITIES}


WORD = re.compile(r"\w+")


@cache
def _first_words() -> frozenset[str]:
    """The first word of every spelling of a region or city: a text naming none of them names
    no region or city, and the two long patterns need not look (most sentences of an article)."""
    _, _, regions, cities = _patterns()
    return frozenset(WORD.findall(spelling)[0] for spelling in (*regions, *cities))


def find_place(text: str) -> Place | None:
    """The first region or city that `text` names, with its region and country; None if none."""
    found = []
    if not _first_words().isdisjoint(WORD.findall(text)):
        region_pattern, city_pattern, regions, cities = _patterns()
        countries = _region_countries()
        for match in region_pattern.finditer(text):
            spelling = match["name"] or match["after"]
            name = regions[spelling]
            found.append((match.start(), Place("", f"{name} region", countries[name])))
        for match in city_pattern.finditer(text):
            city = cities[match["name"]]
            region = _city_regions()[city]
            found.append((match.start("name"), Place(city, f"{region} region", countries[region])))
    if not found:
        country = COUNTRY.search(text) or COUNTRY_LAND.search(text)
        return Place("", "", country["name"]) if country else None
    return min(found, key=lambda item: item[0])[1]
