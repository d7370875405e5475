from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.core.clock import FakeClock
from storage.core.config import Config
from storage.people import customers
from storage.people.birthdays import Birthday
from storage.people.customers import TelegramProfile
from storage.people.models import Customer

CONFIG = Config(default_timezone="Europe/Berlin", default_language="en")


async def _join(session: AsyncSession, clock: FakeClock, tid: int, first: str, **kw: object) -> Customer:
    return await customers.join(session, TelegramProfile(tid, first, **kw), CONFIG, clock.now())


async def test_join_is_idempotent_and_keeps_first_consent(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessions.begin() as session:
        first = await _join(session, clock, 100, "Ann", language_code="zh-hans", username="ann")
    consent = first.consent_at
    clock.advance(hours=1)
    async with sessions.begin() as session:
        again = await _join(session, clock, 100, "Anna", language_code="en")
        count = await session.scalar(select(func.count()).select_from(Customer))
    assert count == 1
    assert again.consent_at == consent
    assert again.first_name == "Anna"
    assert again.language == "zh"  # chosen on joining; later changed only by the customer
    assert again.timezone == "Europe/Berlin"


async def test_find_by_every_reference(sessions: async_sessionmaker[AsyncSession], clock: FakeClock) -> None:
    async with sessions.begin() as session:
        ann = await _join(session, clock, 100, "Ann", username="Ann_B")
        await customers.set_phone(session, ann, "+49 151 1234-5678")
        await _join(session, clock, 200, "Bob", last_name="Stone")
    async with sessions.begin() as session:
        assert (await customers.find(session, f"#{ann.id}")).telegram_id == 100
        assert (await customers.find(session, "@ann_b")).telegram_id == 100
        assert (await customers.find(session, "+4915112345678", by_phone=True)).telegram_id == 100
        assert (await customers.find(session, "4915112345678", by_phone=True)).telegram_id == 100
        assert (await customers.find(session, "200")).first_name == "Bob"
        assert await customers.find(session, "@nobody") is None
        assert await customers.find(session, "#999") is None
        assert [c.telegram_id for c in await customers.search(session, "stone")] == [200]
        assert [c.telegram_id for c in await customers.search(session, "bob st")] == [200]
        # The number is encrypted: only a whole number is compared (its blind index), never part of one.
        assert await customers.search(session, "5678", by_phone=True) == []
        assert [
            c.telegram_id for c in await customers.search(session, "+49 151 12345678", by_phone=True)
        ] == [100]
        # LIKE wildcards typed by staff are literal characters, not patterns
        assert await customers.search(session, "%") == []
        assert [c.telegram_id for c in await customers.search(session, "n_b")] == [100]
        assert await customers.search(session, "a_n") == []


async def test_without_phone_access_a_phone_finds_nobody(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    """Whoever may not see phone numbers may not search by them: no exact match, no digit-by-digit."""
    async with sessions.begin() as session:
        ann = await _join(session, clock, 100, "Ann", username="Ann_B")
        await customers.set_phone(session, ann, "+49 151 1234-5678")
    async with sessions.begin() as session:
        assert await customers.find(session, "+4915112345678") is None
        assert await customers.find(session, "4915112345678") is None
        for part in ("4915112345678", "+49151", "5678", "1234-5678"):
            assert await customers.search(session, part) == [], part
        assert [c.telegram_id for c in await customers.search(session, "100")] == [100]  # Telegram id


async def test_profile_fields(sessions: async_sessionmaker[AsyncSession], clock: FakeClock) -> None:
    async with sessions.begin() as session:
        ann = await _join(session, clock, 100, "Ann")
        await customers.set_birthday(session, ann, Birthday(2, 29))
        await customers.set_timezone(session, ann, "Asia/Shanghai")
        await customers.set_language(session, ann, "zh")
    async with sessions.begin() as session:
        stored = await customers.get(session, 100)
    assert stored.birthday == Birthday(2, 29)
    assert (stored.timezone, stored.language) == ("Asia/Shanghai", "zh")


async def test_touch_writes_at_most_every_few_minutes(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessions.begin() as session:
        await _join(session, clock, 100, "Ann")
    start = clock.now()
    clock.advance(minutes=1)
    async with sessions.begin() as session:
        await customers.touch(session, 100, clock.now())
        assert (await customers.get(session, 100)).last_seen_at == start
    clock.advance(minutes=5)
    async with sessions.begin() as session:
        await customers.touch(session, 100, clock.now())
    async with sessions.begin() as session:
        assert (await customers.get(session, 100)).last_seen_at == clock.now()
