"""The time zone a customer means by what they type or share (pure).

- An IANA name ("Europe/Berlin") is certain, and so is a shared location (timezonefinder, offline).
- A city in English, German, Chinese... ("Munich", "München", "慕尼黑", "深圳市", "Berlin time", "北京时间"):
  the zones of the places of that name (GeoNames, storage.people.zone_data), biggest place first.
- An abbreviation ("CET", "PST", "JST"): the zones that tzdata says use it, one per distinct clock (zones
  alike in winter and summer are one meaning). CST is China, US Central and Cuba: the meaning in the
  customer's language's home country comes first (zh: China, en: the US; CLDR's likely territory via
  Babel), then the most populous. The other meanings are offered too.
- An offset ("GMT+1", "UTC+08:00", "+8", "东八区") is not a zone: places with the same offset today differ
  in summer time. So it is always a choice: one zone per distinct clock with that offset now (home
  country first, then the most populous), and the fixed Etc/GMT∓N zone — note POSIX's inverted sign:
  UTC+1 is "Etc/GMT-1" — for someone whose clock never changes.

Everything but a full IANA name or a location is confirmed by the customer before it is saved.
"""

from __future__ import annotations

import re
import threading
import zoneinfo
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Literal

from babel.core import get_global
from babel.dates import get_timezone_location

from storage.people import zone_data
from storage.people.zone_data import normalize, unaccented

if TYPE_CHECKING:
    from timezonefinder import TimezoneFinder

Kind = Literal["name", "location", "city", "abbreviation", "offset"]
MAX_CHOICES = 4
# A smaller place of the same name is offered too while it has at least 1/20 of the biggest one's people
# (Portland, Oregon and Portland, Maine; not Paris, Texas).
_SMALLER_PLACES = 20

# Abbreviations in common use that tzdata no longer uses (it writes "+08" for Singapore) or never had,
# and the generic US ones; each with the zones it can mean, most usual first.
_CONVENTIONAL: dict[str, tuple[str, ...]] = {
    "SGT": ("Asia/Singapore",),
    "MYT": ("Asia/Kuala_Lumpur",),
    "ICT": ("Asia/Bangkok",),
    "PHT": ("Asia/Manila",),
    "BJT": ("Asia/Shanghai",),
    "GST": ("Asia/Dubai",),
    "BRT": ("America/Sao_Paulo",),
    "ART": ("America/Argentina/Buenos_Aires",),
    "ET": ("America/New_York",),
    "CT": ("America/Chicago",),
    "MT": ("America/Denver",),
    "PT": ("America/Los_Angeles",),
}
_OFFSET = re.compile(r"^(?:utc|gmt|z)?(?P<sign>[+\-−])(?P<hours>\d{1,2})(?::?(?P<minutes>\d{2}))?$")
_CHINESE_OFFSET = re.compile(r"^(?:(?P<side>[东東西])(?P<hours>[一二三四五六七八九十]+|\d{1,2})[区區])$")
_CHINESE_NUMERALS = {c: i for i, c in enumerate("一二三四五六七八九十", start=1)}
_SUFFIXES = (" timezone", " time zone", " time", "时区", "時區", "时间", "時間")


@dataclass(frozen=True)
class Resolution:
    zones: tuple[str, ...]  # best first
    kind: Kind
    fixed: str | None = None  # an offset's zone with no summer time ("Etc/GMT-1")

    @property
    def certain(self) -> bool:
        """Saved at once; anything else is confirmed by the customer first."""
        return self.kind in ("name", "location")

    @property
    def choices(self) -> tuple[str, ...]:
        return self.zones + ((self.fixed,) if self.fixed else ())


def resolve(text: str, language: str, now: datetime) -> Resolution | None:
    """What the customer may mean by text (None when nothing); language orders ambiguous answers."""
    text = " ".join(text.split())
    if not text or len(text) > 64:
        return None
    key = normalize(text)
    data = zone_data.load()
    if "/" in key or key == "utc":
        name = data.iana.get(key)
        return Resolution((name,), "name") if name else None
    offset = _offset_minutes("".join(text.casefold().split()))
    if offset is not None:
        return _by_offset(offset, language, now)
    # "CET" is an abbreviation before a place; "cet" a place first (there are towns called Est).
    abbreviation = text.isascii() and text.isalpha() and 2 <= len(text) <= 5
    if abbreviation and text.isupper():
        return _by_abbreviation(text, language, now.year) or _by_city(key)
    return _by_city(key) or (_by_abbreviation(text.upper(), language, now.year) if abbreviation else None)


def _by_city(key: str) -> Resolution | None:
    data = zone_data.load()
    for candidate in _city_keys(key):
        people: dict[str, int] = {}
        for variant in (candidate, unaccented(candidate)):
            for zone, count in data.cities.get(variant, {}).items():
                people[zone] = max(count, people.get(zone, 0))
        named = data.iana.get(candidate)  # tzdata's own city ("kolkata") leads
        if named is not None:
            people[named] = max(people.values(), default=0) + 1
        zones = [zone for zone in sorted(people, key=lambda z: -people[z]) if _is_zone(zone)]
        if zones:
            biggest = people[zones[0]]
            near = [zone for zone in zones if people[zone] * _SMALLER_PLACES >= biggest]
            return Resolution(tuple(near[:MAX_CHOICES]), "city")
    return None


def _city_keys(key: str) -> list[str]:
    """The name as typed, then without "time"/"时间" or the 市 of a Chinese city ("深圳市", "北京时间")."""
    keys = [key]
    for suffix in _SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix):
            keys.append(key.removesuffix(suffix).strip())
    keys += [k.removesuffix("市") for k in keys if k.endswith("市") and len(k) > 1]
    return keys


def _by_abbreviation(abbreviation: str, language: str, year: int) -> Resolution | None:
    zones = _abbreviation_index(year).get(abbreviation, ()) or _CONVENTIONAL.get(abbreviation, ())
    ranked = _rank(zones, language, year, by_spread=True)
    return Resolution(ranked, "abbreviation") if ranked else None


@cache
def _abbreviation_index(year: int) -> dict[str, tuple[str, ...]]:
    index: dict[str, list[str]] = {}
    for zone in zone_data.load().countries:
        if not _is_zone(zone):
            continue
        for name in zone_data.abbreviations(zone, year):
            index.setdefault(name, []).append(zone)
    return {name: tuple(zones) for name, zones in index.items()}


def _offset_minutes(key: str) -> int | None:
    """Minutes east of UTC for "+8", "utc+08:00", "gmt-3:30", "+0530", "东八区" (casefolded, no spaces);
    "gmt" alone is 0."""
    if key in ("gmt", "z"):
        return 0
    match = _OFFSET.match(key)
    if match is not None:
        hours, minutes = int(match["hours"]), int(match["minutes"] or 0)
        sign = -1 if match["sign"] in "-−" else 1
    else:
        chinese = _CHINESE_OFFSET.match(key)
        if chinese is None:
            return None
        written = chinese["hours"]
        hours = int(written) if written.isdigit() else _chinese_number(written)
        minutes, sign = 0, (-1 if chinese["side"] == "西" else 1)
    if minutes not in (0, 30, 45) or hours > 14:
        return None
    total = sign * (hours * 60 + minutes)
    return total if -12 * 60 <= total <= 14 * 60 else None


def _chinese_number(written: str) -> int:
    """一 to 十二 (the twelve zones east or west); anything else is out of range."""
    if written.startswith("十"):
        return 10 + (_CHINESE_NUMERALS.get(written[1:], 99) if len(written) > 1 else 0)
    return _CHINESE_NUMERALS.get(written, 99) if len(written) == 1 else 99


def _by_offset(minutes: int, language: str, now: datetime) -> Resolution | None:
    data = zone_data.load()
    zones = [zone for zone in data.countries if _is_zone(zone) and minutes_east(zone, now) == minutes]
    # Places where people live (a city of 15,000 or more): not Antarctica's research stations.
    zones = [zone for zone in zones if data.population.get(zone)] or zones
    ranked = _rank(zones, language, now.year)[: MAX_CHOICES - 1]
    fixed = _fixed_zone(minutes)
    if not ranked and fixed is None:
        return None
    return Resolution(ranked, "offset", fixed)


def _fixed_zone(minutes: int) -> str | None:
    """UTC+1 is "Etc/GMT-1" (POSIX counts west as positive); only whole hours from -12 to +14 exist."""
    if minutes == 0:
        return "UTC"
    hours, rest = divmod(abs(minutes), 60)
    if rest or hours > (14 if minutes > 0 else 12):
        return None
    return f"Etc/GMT{'-' if minutes > 0 else '+'}{hours}"


def minutes_east(zone: str, now: datetime) -> int:
    offset = now.astimezone(zoneinfo.ZoneInfo(zone)).utcoffset()
    return int(offset.total_seconds() // 60) if offset is not None else 0


def _rank(
    zones: tuple[str, ...] | list[str], language: str, year: int, by_spread: bool = False
) -> tuple[str, ...]:
    """One zone per distinct clock (the same offsets in winter and summer); the clock used in the
    language's home country first, then (by_spread, for abbreviations) the clock most zones call so
    (PST: the Pacific coast's three zones before Manila's one), then the clock most people live by;
    within a clock, the home country's zone, then the most populous."""
    data = zone_data.load()
    home = _home_country(language)
    clocks: dict[tuple[float, float], list[str]] = {}
    for zone in zones:
        clocks.setdefault(zone_data.rules(zone, year), []).append(zone)

    def people(zone: str) -> int:
        return data.population.get(zone, 0)

    def at_home(zone: str) -> bool:
        return data.countries.get(zone) == home

    chosen = []
    for members in clocks.values():
        best = max(members, key=lambda z: (at_home(z), people(z)))
        spread = len(members) if by_spread else 0
        chosen.append((not any(map(at_home, members)), -spread, -sum(map(people, members)), best))
    return tuple(choice[-1] for choice in sorted(chosen)[:MAX_CHOICES])


@cache
def _home_country(language: str) -> str:
    """CLDR's likely country for a language: en -> US, zh -> CN."""
    likely = get_global("likely_subtags")
    return str(likely.get(language, "")).rsplit("_", 1)[-1]


def _is_zone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def is_valid_timezone(name: str) -> bool:
    return _is_zone(name)


# ---- a shared location ----------------------------------------------------------------------------------
_finder_lock = threading.Lock()
_finder: TimezoneFinder | None = None


def zone_at(latitude: float, longitude: float) -> str | None:
    """The zone of a point on earth, offline (timezonefinder's polygons; the sea has Etc/GMT zones).
    The finder is created once, on first use (about 0.5 s). in_memory: its polygons are read into
    memory (~30 MB) rather than memory-mapped, whose files the library can leave open at exit."""
    global _finder
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    if _finder is None:
        with _finder_lock:
            if _finder is None:
                from timezonefinder import TimezoneFinder

                _finder = TimezoneFinder(in_memory=True)
    zone = _finder.timezone_at(lng=longitude, lat=latitude)
    return zone if zone and _is_zone(zone) else None


def from_location(latitude: float, longitude: float) -> Resolution | None:
    zone = zone_at(latitude, longitude)
    return Resolution((zone,), "location") if zone else None


# ---- showing a zone -------------------------------------------------------------------------------------
def local_time(zone: str, now: datetime) -> str:
    return now.astimezone(zoneinfo.ZoneInfo(zone)).strftime("%H:%M")


def offset_label(minutes: int) -> str:
    """ "UTC+1", "UTC+5:30", "UTC-3"."""
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def describe(zone: str, language: str, now: datetime) -> str:
    """A zone as customers read it: its IANA name, with CLDR's name of its city where that says more
    (Chinese: "Europe/Berlin (柏林)"); "UTC+1" for Etc/GMT-1."""
    if zone.startswith("Etc/GMT"):
        return offset_label(minutes_east(zone, now))
    try:
        city = get_timezone_location(zone, locale=language, return_city=True)
    except (LookupError, ValueError):
        return zone
    if not city or normalize(city) == normalize(zone.rsplit("/", 1)[-1]):
        return zone
    return f"{zone} ({city})"
