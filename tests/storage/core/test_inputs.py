"""Bounded parsing (storage.inputs) and the parsers built on it: whatever is typed or forged, the
answer is a value in range or a refusal with a catalog code, never another exception."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.core import inputs
from storage.core.config import Config, LoyaltyConfig
from storage.core.inputs import MAX_ID, MAX_TELEGRAM_ID, InputRefused
from storage.core.when import WhenError, parse_when
from storage.loyalty import referrals, rewards
from storage.loyalty.points import PointsRefused
from storage.loyalty.purchases import parse_amount
from storage.people import customers
from storage.people.birthdays import BirthdayError, parse_birthday
from storage.people.customers import TelegramProfile
from storage.surveys import invitations, stats
from storage.surveys.definitions import builtin_questions, parse_value

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
NOT_ASCII_DIGITS = ["²", "١٢", "٣", "߁", "１２", "¹⁰", "𝟗"]  # isdigit() or \d says yes; not ours
NOT_NUMBERS = ["", " ", "#", "-1", "+1", "1_000", "0x10", "1.0", "1e3", "12a", "١"]
HUGE = "9" * 25


@pytest.mark.parametrize("text", NOT_ASCII_DIGITS + NOT_NUMBERS + [HUGE, "9" * 5000])
def test_only_ascii_digits_in_range_are_numbers(text: str) -> None:
    assert inputs.int_or_none(text, low=0, high=MAX_TELEGRAM_ID) is None
    with pytest.raises(InputRefused) as refused:
        inputs.parse_int(text, low=1, high=10)
    assert refused.value.code == "common.bad_number"
    assert refused.value.params == {"value": text.strip()[:40], "low": 1, "high": 10}


def test_ranges_prefixes_and_the_caller_s_code() -> None:
    assert inputs.parse_int(" 42 ", low=1, high=42) == 42
    assert inputs.int_or_none("43", low=1, high=42) is None
    assert inputs.int_or_none("0", low=1, high=42) is None
    assert inputs.int_or_none("#7", low=1, high=MAX_ID) is None  # "#" only where a reference allows it
    assert inputs.int_or_none("#7", low=1, high=MAX_ID, hash_ok=True) == 7
    assert inputs.int_or_none(str(MAX_ID + 1), low=1, high=MAX_ID) is None
    assert inputs.int_or_none(str(MAX_TELEGRAM_ID), low=1, high=MAX_TELEGRAM_ID) == MAX_TELEGRAM_ID
    with pytest.raises(InputRefused) as refused:
        inputs.parse_int("²", low=1, high=5, code="loyalty.award_usage")
    assert refused.value.code == "loyalty.award_usage"


@given(st.integers(min_value=0, max_value=MAX_TELEGRAM_ID))
def test_every_number_in_range_reads_back(n: int) -> None:
    assert inputs.int_or_none(str(n), low=0, high=MAX_TELEGRAM_ID) == n
    assert inputs.int_or_none(f"#{n}", low=0, high=MAX_TELEGRAM_ID, hash_ok=True) == n


@given(st.text(), st.integers(-10, 10**6), st.integers(0, 10**12))
def test_any_text_is_a_number_in_range_or_none(text: str, low: int, span: int) -> None:
    value = inputs.int_or_none(text, low=low, high=low + span, hash_ok=True)
    assert value is None or low <= value <= low + span


def test_bounded_text_refuses_rather_than_cuts() -> None:
    assert inputs.bounded_text("  call back  ", 9) == "call back"
    with pytest.raises(InputRefused) as refused:
        inputs.bounded_text("x" * 11, 10)
    assert refused.value.code == "common.too_long"
    assert refused.value.params == {"max": 10, "length": 11}


@given(st.text(), st.integers(0, 80))
def test_fit_bytes_is_the_longest_whole_character_prefix(text: str, budget: int) -> None:
    fitted = inputs.fit_bytes(text, budget)
    assert text.startswith(fitted)
    assert len(fitted.encode()) <= budget
    rest = text[len(fitted) :]
    assert not rest or len((fitted + rest[0]).encode()) > budget


def test_fit_bytes_counts_bytes_not_characters() -> None:
    chinese = "邀" * 60  # 60 characters, 180 bytes
    assert inputs.fit_bytes(chinese) == "邀" * 21
    assert inputs.fit_bytes("consent:yes") == "consent:yes"


# ---- the parsers that use it ----


@pytest.mark.parametrize(
    "text",
    [*NOT_ASCII_DIGITS, "NaN", "-Infinity", "Infinity", "sNaN", "1e999999", "9" * 100_000, "-1", "0.001"],
)
def test_amounts_are_ascii_finite_and_bounded(text: str) -> None:
    with pytest.raises(PointsRefused):
        parse_amount(text, LoyaltyConfig())


@given(st.text())
def test_any_amount_text_is_an_amount_or_a_refusal(text: str) -> None:
    try:
        amount = parse_amount(text, LoyaltyConfig())
    except PointsRefused:
        return
    assert 0 < amount <= LoyaltyConfig().purchase_max


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("0001-01-01 00:00", "followups.when_past"),
        ("0001-01-01", "followups.when_past"),
        ("9999-12-31 23:59", "followups.when_too_far"),
        ("9999-12-31", "followups.when_too_far"),
        ("２０２６-12-01 15:00", "followups.when_invalid"),
        ("in ٣d", "followups.when_invalid"),
    ],
)
@pytest.mark.parametrize("timezone", ["Pacific/Kiritimati", "UTC", "Pacific/Pago_Pago"])
def test_follow_up_dates_at_the_calendar_edges_are_refused(text: str, code: str, timezone: str) -> None:
    with pytest.raises(WhenError) as refused:
        parse_when(text, NOW, timezone)
    assert refused.value.code == code


@given(st.dates(), st.times(), st.sampled_from(["Pacific/Kiritimati", "UTC", "Pacific/Pago_Pago"]))
def test_any_date_is_a_follow_up_or_a_refusal(day: date, at: object, timezone: str) -> None:
    try:
        when = parse_when(f"{day.isoformat()} {at:%H:%M}", NOW, timezone)  # type: ignore[str-format]
    except WhenError:
        return
    assert NOW < when


@given(st.dates(), st.text(max_size=20))
def test_any_birthday_text_is_a_birthday_or_a_refusal(day: date, text: str) -> None:
    for typed in (day.isoformat(), f"{day.day}.{day.month}.{day.year:04d}", text):
        try:
            birthday = parse_birthday(typed, NOW.date())
        except BirthdayError:
            continue
        assert birthday.year is None or 1900 <= birthday.year <= NOW.year


def test_button_data_and_periods_with_foreign_digits_are_not_understood() -> None:
    assert invitations.parse_data("sv:tok:²:1") is None
    assert invitations.parse_data(f"sv:tok:{HUGE}:1") is None
    assert invitations.parse_data("sv:tok:0:5") == ("tok", 0, "5")
    score = builtin_questions("csat")[0]
    assert parse_value(score, "²") is None and parse_value(score, HUGE) is None
    assert parse_value(score, "5") == 5
    assert stats.parse_period("²d") is None
    assert stats.parse_period(f"{HUGE}d") is None
    with pytest.raises(rewards.CatalogRefused):
        rewards.validate({"stock": "²"}, LoyaltyConfig())


def test_only_a_referral_code_survives_as_a_start_payload() -> None:
    assert referrals.plausible_payload("ref_ABCD2345") == "ref_ABCD2345"
    assert referrals.plausible_payload("ref_abcd2345") == "ref_ABCD2345"
    for junk in (
        "邀请" * 30,
        "ref_" + "邀" * 8,
        "ref_ABCD234",
        "ref_ABCD23450",
        "ref_" + "A" * 60,
        "hello",
        "",
    ):
        assert referrals.plausible_payload(junk) == ""


async def test_references_beyond_the_id_columns_find_nobody(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        ann = await customers.join(session, TelegramProfile(100, "Ann"), Config(), NOW)
        for reference in (f"#{HUGE}", HUGE, f"#{MAX_ID + 1}", str(MAX_TELEGRAM_ID + 1), "#²", "²", "#١"):
            assert await customers.find(session, reference) is None
        assert await customers.find(session, f"#{ann.id}") == ann
        assert await customers.find(session, "100") == ann
