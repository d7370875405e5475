"""Numbers, money, birthdays and plural categories as each catalog language writes them (Babel, CLDR)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from bot import formatting


@pytest.mark.parametrize(
    ("value", "currency", "en", "zh"),
    [
        (Decimal("1234.5"), "EUR", "€1,234.50", "€1,234.50"),
        ("1234.50", "CNY", "CN¥1,234.50", "¥1,234.50"),
        (12, "USD", "US$12.00", "US$12.00"),
        ("1000000", "JPY", "JP¥1,000,000", "JP¥1,000,000"),  # a currency without minor units
        ("1234.5", None, "1,234.50", "1,234.50"),  # no CURRENCY: today's plain amounts, grouped
        ("—", "EUR", "—", "—"),  # nothing to show stays what the caller said
    ],
)
def test_money_in_the_readers_language(value: object, currency: str | None, en: str, zh: str) -> None:
    assert formatting.money(value, "en", currency) == en
    assert formatting.money(value, "zh", currency) == zh


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (1234567, "1,234,567"),
        ("12345", "12,345"),
        ("+5", "+5"),
        (-1200, "-1,200"),
        ("0.8", "0.8"),
        ("1.0", "1.0"),
    ],
)
def test_counts_are_grouped_and_keep_their_sign_and_decimals(value: object, shown: str) -> None:
    assert formatting.number(value, "en") == shown
    assert formatting.number(value, "zh") == shown


def test_plural_categories() -> None:
    assert formatting.plural_forms("en") == {"one", "other"}
    assert formatting.plural_forms("zh") == {"other"}  # Chinese has one form
    assert [formatting.plural_category(n, "en") for n in (0, 1, 2, "1", -1, "1.0")] == [
        "other", "one", "other", "one", "one", "other"
    ]  # fmt: skip
    assert formatting.plural_category(1, "zh") == "other"


@pytest.mark.parametrize(
    ("month", "day", "year", "en", "zh"),
    [
        (5, 17, None, "17 May", "5月17日"),  # never "--05-17", ISO's form without a year
        (5, 17, 1990, "17 May 1990", "1990年5月17日"),
        (2, 29, None, "29 February", "2月29日"),
    ],
)
def test_birthdays_with_and_without_a_year(month: int, day: int, year: int | None, en: str, zh: str) -> None:
    assert formatting.day(month, day, year, "en") == en
    assert formatting.day(month, day, year, "zh") == zh


def test_only_real_currency_codes_are_valid() -> None:
    assert formatting.valid_currency("EUR") and formatting.valid_currency("CNY")
    assert not formatting.valid_currency("EURO") and not formatting.valid_currency("XYZ")


# 06:05 UTC on Shanghai's clock, as handlers.loyalty_text.local gives it
AT_14_05 = datetime(2026, 3, 10, 6, 5, tzinfo=UTC).astimezone(ZoneInfo("Asia/Shanghai"))


@pytest.mark.parametrize(
    ("value", "en", "zh"),
    [
        (date(2026, 3, 10), "10 Mar 2026", "2026年3月10日"),
        ("2026-03-10", "10 Mar 2026", "2026年3月10日"),  # as an outbox row carries it
        # a moment's day on its own clock: 23:30 in New York is already the 11th in UTC
        (datetime(2026, 3, 10, 23, 30, tzinfo=timezone(timedelta(hours=-4))), "10 Mar 2026", "2026年3月10日"),
        ("—", "—", "—"),  # nothing to show stays what the caller said
    ],
)
def test_dates_in_the_readers_language(value: object, en: str, zh: str) -> None:
    assert formatting.date_text(value, "en") == en
    assert formatting.date_text(value, "zh") == zh


@pytest.mark.parametrize(
    ("value", "en", "zh"),
    [
        (AT_14_05, "10 Mar 2026, 14:05", "2026年3月10日 14:05"),
        # as storage.core.when.local_iso writes it into an outbox row
        ("2026-03-10T14:05+08:00", "10 Mar 2026, 14:05", "2026年3月10日 14:05"),
        # the 24-hour clock in both languages (en's own short time would say "9:00 am")
        (datetime(2026, 12, 1, 9, 0, tzinfo=UTC), "1 Dec 2026, 09:00", "2026年12月1日 09:00"),
        (date(2026, 3, 10), "10 Mar 2026", "2026年3月10日"),  # a day alone: no time to show
        ("2026-03-10 14:05", "2026-03-10 14:05", "2026-03-10 14:05"),  # a row from before offsets: as it is
    ],
)
def test_moments_in_the_readers_language(value: object, en: str, zh: str) -> None:
    assert formatting.datetime_text(value, "en") == en
    assert formatting.datetime_text(value, "zh") == zh


def test_a_moment_without_its_time_zone_is_refused() -> None:
    # A naive datetime names no moment: whose 14:05? The caller converts (handlers.loyalty_text.local).
    with pytest.raises(ValueError):
        formatting.date_text(datetime(2026, 3, 10, 14, 5), "en")
    with pytest.raises(ValueError):
        formatting.datetime_text(datetime(2026, 3, 10, 14, 5), "zh")
