"""At the counter: member codes, phone numbers in any common format, and where a reference ends."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.core.clock import FakeClock
from storage.core.config import Config
from storage.people import customers, member_codes, phones, references
from storage.people.customers import TelegramProfile

CONFIG = Config(default_region="DE")


def test_codes_use_the_unambiguous_alphabet() -> None:
    codes = {member_codes.new_code() for _ in range(2000)}
    assert len(codes) == 2000
    for code in codes:
        assert len(code) == member_codes.LENGTH and not set(code) & set("01OI") and not code.isdigit()
        assert member_codes.normalize(code.lower()) == code


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("k7m2qx9", "K7M2QX9"),
        (" K7M2-QX9 ", "K7M2QX9"),
        ("K7M2QX", None),
        ("K7M2QX0", None),
        ("2345678", None),
    ],
)
def test_code_normalisation(typed: str, code: str | None) -> None:
    assert member_codes.normalize(typed) == code


@pytest.mark.parametrize(
    ("typed", "region", "stored"),
    [
        ("+49 151 23456785", None, "+4915123456785"),
        ("+49 151 23456785", "DE", "+4915123456785"),
        ("0151 2345678 5", "DE", "+4915123456785"),
        ("0151-23456785", "DE", "+4915123456785"),
        ("(030) 1234567", "DE", "+49301234567"),
        ("030/1234567", "DE", "+49301234567"),
        ("138 0013 8000", "CN", "+8613800138000"),
        ("+86 138 0013 8000", "DE", "+8613800138000"),
        ("0151 2345678 5", None, "+015123456785"),  # no region: the digits, as stored before
        ("12", "DE", "+12"),
        ("no digits", "DE", ""),
    ],
)
def test_phone_normalisation(typed: str, region: str | None, stored: str) -> None:
    assert phones.normalize(typed, region) == stored


def _amount(word: str) -> bool:
    return word.replace(".", "", 1).isdigit()


@pytest.mark.parametrize(
    ("text", "reference", "rest"),
    [
        ("K7M2QX9 12.50", "K7M2QX9", ["12.50"]),
        ("0151 2345678 5 12.50", "0151 2345678 5", ["12.50"]),
        ("0151 2345678 5 12.50 2 coffees", "0151 2345678 5", ["12.50", "2", "coffees"]),
        ("+49 151 23456785 12.50", "+49 151 23456785", ["12.50"]),
        ("(030) 1234567 9", "(030) 1234567", ["9"]),
        ("0151-23456785 12", "0151-23456785", ["12"]),
        ('"Kim Lee" 12.50 latte', "Kim Lee", ["12.50", "latte"]),
        ("“Kim Lee” 12.50", "Kim Lee", ["12.50"]),
        ("Kim 12.50", "Kim", ["12.50"]),
        ("Kim Lee 12.50", "Kim Lee", ["12.50"]),
        ("#12 12.50", "#12", ["12.50"]),
        ("@kim 12.50", "@kim", ["12.50"]),
        ("123456789 12.50 note", "123456789", ["12.50", "note"]),
        ("Kim", "Kim", []),
    ],
)
def test_where_a_reference_ends(text: str, reference: str, rest: list[str]) -> None:
    assert references.split(text, _amount, "DE") == references.Split(reference, rest)


async def test_codes_phones_and_names_find_customers(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessions.begin() as session:
        kim = await customers.join(session, TelegramProfile(1, "Kim", "Lee"), CONFIG, clock.now())
        await customers.set_phone(session, kim, "0151 2345678 5", "DE")
        kim_park = await customers.join(session, TelegramProfile(2, "Kim", "Park"), CONFIG, clock.now())
        ann = await customers.join(session, TelegramProfile(3, "Ann"), CONFIG, clock.now())
        wei = await customers.join(session, TelegramProfile(4, "伟", "李"), CONFIG, clock.now())
    assert kim.phone == "+4915123456785"
    assert len({kim.member_code, kim_park.member_code, ann.member_code}) == 3
    async with sessions.begin() as session:

        async def ids(reference: str, by_phone: bool = True) -> list[int]:
            found = await references.resolve(session, reference, by_phone=by_phone, region="DE")
            return [c.id for c in found.customers]

        assert await ids(kim.member_code.lower()) == [kim.id]
        for typed in ("+49 151 23456785", "0151 2345678 5", "0151-23456785", "015123456785"):
            assert await ids(typed) == [kim.id], typed
        assert await ids("0151 2345678 5", by_phone=False) == []  # agents do not search by phone
        assert await ids("Kim Lee") == [kim.id]
        assert await ids("kim") == [kim.id, kim_park.id]  # several: staff choose
        assert await ids("An") == [ann.id]  # part of a name
        assert await ids("Nobody") == []
        assert await ids("李伟") == await ids("伟 李") == [wei.id]  # both orders
        assert [c.id for c in await customers.search(session, "李伟")] == [wei.id]


@pytest.mark.parametrize(
    ("scanned", "code"),
    [
        ("https://t.me/engage_bot?start=m_K7M2QX9", "K7M2QX9"),
        ("t.me/other_bot?foo=1&start=m_k7m2qx9", "K7M2QX9"),
        (" K7M2QX9 ", "K7M2QX9"),
        ("https://t.me/engage_bot?start=ref_ABC", None),
        ("https://t.me/engage_bot", None),
        ("https://example.com/?start=m_K7M2QX9", None),
        ("WIFI:S:shop;T:WPA;P:secret;;", None),
    ],
)
def test_what_a_scanned_qr_code_names(scanned: str, code: str | None) -> None:
    assert member_codes.from_scanned(scanned) == code
