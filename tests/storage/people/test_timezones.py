"""What a customer types or shares, and the time zones it resolves to (storage.people.timezones)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from storage.people import zone_data
from storage.people.timezones import (
    describe,
    from_location,
    local_time,
    offset_label,
    resolve,
    zone_at,
)

WINTER = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
SUMMER = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)


def first(text: str, language: str = "en", now: datetime = WINTER) -> str | None:
    found = resolve(text, language, now)
    return found.choices[0] if found else None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Europe/Berlin", "Europe/Berlin"),
        ("europe/berlin", "Europe/Berlin"),
        ("America/New_York", "America/New_York"),
        ("america/new york", "America/New_York"),
        ("UTC", "UTC"),
        ("Pacific/Kiritimati", "Pacific/Kiritimati"),
        ("Etc/GMT-1", "Etc/GMT-1"),
    ],
)
def test_iana_names_are_certain(text: str, expected: str) -> None:
    found = resolve(text, "en", WINTER)
    assert found is not None and found.choices == (expected,) and found.certain


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # English, German, Chinese (simplified and traditional) names of places beyond tzdata's cities.
        ("Munich", "Europe/Berlin"),
        ("München", "Europe/Berlin"),
        ("Munchen", "Europe/Berlin"),
        ("慕尼黑", "Europe/Berlin"),
        ("Frankfurt", "Europe/Berlin"),
        ("法兰克福", "Europe/Berlin"),
        ("Hamburg", "Europe/Berlin"),
        ("Shenzhen", "Asia/Shanghai"),
        ("深圳", "Asia/Shanghai"),
        ("深圳市", "Asia/Shanghai"),
        ("杭州", "Asia/Shanghai"),
        ("Hangzhou", "Asia/Shanghai"),
        ("Beijing", "Asia/Shanghai"),
        ("北京", "Asia/Shanghai"),
        ("北京时间", "Asia/Shanghai"),
        ("Chengdu", "Asia/Shanghai"),
        ("Mumbai", "Asia/Kolkata"),
        ("孟买", "Asia/Kolkata"),
        ("Bangalore", "Asia/Kolkata"),
        ("Milan", "Europe/Rome"),
        ("米蘭", "Europe/Rome"),
        ("米兰", "Europe/Rome"),  # GeoNames has only the traditional: simplified by OpenCC
        ("西雅图", "America/Los_Angeles"),
        ("河内", "Asia/Bangkok"),
        ("芝加哥", "America/Chicago"),
        ("伦敦", "Europe/London"),
        ("Barcelona", "Europe/Madrid"),
        ("Osaka", "Asia/Tokyo"),
        ("大阪", "Asia/Tokyo"),
        ("San Francisco", "America/Los_Angeles"),
        ("旧金山", "America/Los_Angeles"),
        ("纽约", "America/New_York"),
        ("紐約", "America/New_York"),
        ("new york", "America/New_York"),
        ("New-York", "America/New_York"),
        ("São Paulo", "America/Sao_Paulo"),
        ("Sao Paulo", "America/Sao_Paulo"),
        ("香港", "Asia/Hong_Kong"),
        ("台北", "Asia/Taipei"),
        ("Berlin time", "Europe/Berlin"),
        ("  berlin  ", "Europe/Berlin"),
        ("Kolkata", "Asia/Kolkata"),
    ],
)
def test_cities_in_english_and_chinese(text: str, expected: str) -> None:
    found = resolve(text, "en", WINTER)
    assert found is not None and found.kind == "city" and not found.certain
    assert found.choices[0] == expected


def test_a_name_of_places_in_several_zones_offers_the_big_ones() -> None:
    portland = resolve("Portland", "en", WINTER)
    assert portland is not None and portland.choices[:2] == ("America/Los_Angeles", "America/New_York")
    paris = resolve("Paris", "en", WINTER)
    assert paris is not None and paris.choices == ("Europe/Paris",)  # not Paris, Texas


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("CET", "Europe/Berlin"),
        ("CEST", "Europe/Berlin"),
        ("PST", "America/Los_Angeles"),
        ("PDT", "America/Los_Angeles"),
        ("EST", "America/New_York"),
        ("MSK", "Europe/Moscow"),
        ("JST", "Asia/Tokyo"),
        ("KST", "Asia/Seoul"),
        ("HKT", "Asia/Hong_Kong"),
        ("IST", "Asia/Kolkata"),
        ("BST", "Europe/London"),
        ("AEST", "Australia/Sydney"),
        ("SGT", "Asia/Singapore"),  # tzdata writes "+08": a conventional name
        ("pst", "America/Los_Angeles"),  # lower case: no place is called so
    ],
)
def test_abbreviations(text: str, expected: str) -> None:
    found = resolve(text, "en", WINTER)
    assert found is not None and found.kind == "abbreviation" and found.choices[0] == expected


def test_cst_is_china_for_chinese_and_us_central_for_english() -> None:
    zh, en = resolve("CST", "zh", WINTER), resolve("CST", "en", WINTER)
    assert zh is not None and en is not None
    assert zh.choices[0] == "Asia/Shanghai" and en.choices[0] == "America/Chicago"
    # Each is offered the other meaning too, one zone per distinct clock.
    assert "America/Chicago" in zh.choices and "Asia/Shanghai" in en.choices
    assert len(set(zh.choices)) == len(zh.choices) <= 4


def test_ist_offers_india_israel_and_ireland() -> None:
    found = resolve("IST", "en", WINTER)
    assert found is not None
    assert set(found.choices) == {"Asia/Kolkata", "Asia/Jerusalem", "Europe/Dublin"}


@pytest.mark.parametrize(
    ("text", "fixed", "zone"),
    [
        ("GMT+1", "Etc/GMT-1", "Europe/Berlin"),  # POSIX's inverted sign
        ("UTC+08:00", "Etc/GMT-8", "Asia/Shanghai"),
        ("+8", "Etc/GMT-8", "Asia/Shanghai"),
        ("utc + 8", "Etc/GMT-8", "Asia/Shanghai"),
        ("东八区", "Etc/GMT-8", "Asia/Shanghai"),
        ("-5", "Etc/GMT+5", "America/New_York"),
        ("UTC−5", "Etc/GMT+5", "America/New_York"),  # a typographic minus
        ("西五区", "Etc/GMT+5", "America/New_York"),
        ("GMT", "UTC", "Europe/London"),
        ("+0900", "Etc/GMT-9", "Asia/Tokyo"),
    ],
)
def test_offsets_offer_places_with_that_offset_now_and_a_fixed_zone(text: str, fixed: str, zone: str) -> None:
    found = resolve(text, "zh", WINTER)
    assert found is not None and found.kind == "offset" and not found.certain
    assert found.fixed == fixed and found.choices[-1] == fixed
    assert zone in found.zones


def test_an_offset_is_read_at_the_time_it_is_given() -> None:
    """UTC+1 is Berlin in winter; in summer Berlin is UTC+2 and UTC+1 is London."""
    winter, summer = resolve("UTC+1", "en", WINTER), resolve("UTC+1", "en", SUMMER)
    assert winter is not None and summer is not None
    assert "Europe/Berlin" in winter.zones and "Europe/London" not in winter.zones
    assert "Europe/London" in summer.zones and "Europe/Berlin" not in summer.zones
    half = resolve("+5:30", "en", WINTER)
    assert half is not None and half.zones == ("Asia/Kolkata",) and half.fixed is None  # no Etc zone


@pytest.mark.parametrize(
    "text",
    ["", "   ", "Qwertyland", "Europe/Atlantis", "../etc/passwd", "x" * 100, "<b>", "+15", "UTC+8:20", "XYZ"],
)
def test_unknown(text: str) -> None:
    assert resolve(text, "en", WINTER) is None


def test_a_shared_location_is_looked_up_offline() -> None:
    assert zone_at(48.137, 11.576) == "Europe/Berlin"  # Munich
    assert zone_at(22.543, 114.058) == "Asia/Shanghai"  # Shenzhen
    assert zone_at(40.71, -74.0) == "America/New_York"
    assert zone_at(91, 0) is None
    found = from_location(19.07, 72.88)  # Mumbai
    assert found is not None and found.certain and found.choices == ("Asia/Kolkata",)


def test_showing_a_zone() -> None:
    assert local_time("Europe/Berlin", WINTER) == "13:00" and local_time("Europe/Berlin", SUMMER) == "14:00"
    assert describe("Europe/Berlin", "en", WINTER) == "Europe/Berlin"
    assert describe("Europe/Berlin", "zh", WINTER) == "Europe/Berlin (柏林)"
    assert describe("Etc/GMT-8", "en", WINTER) == "UTC+8"
    assert (offset_label(330), offset_label(-180), offset_label(0)) == ("UTC+5:30", "UTC-3", "UTC+0")


def test_the_data_is_read_once() -> None:
    assert zone_data.load() is zone_data.load()
    data = zone_data.load()
    assert data.countries["Asia/Shanghai"] == "CN" and data.population["Asia/Shanghai"] > 100_000_000
