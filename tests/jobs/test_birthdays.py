"""Birthday greetings: local morning across time zones, 29 February, downtime catch-up, no doubles."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.i18n import Catalog
from jobs import birthdays
from jobs.sender import _render_key
from storage.core.clock import FakeClock
from storage.core.config import BirthdayConfig, Config
from storage.loyalty import ledger, points
from storage.loyalty.models import LedgerEntry
from storage.loyalty.tiers import add_months
from storage.people import customers, preferences
from storage.people.birthdays import Birthday, next_greeting_at
from storage.people.customers import TelegramProfile
from storage.people.models import Customer, OutboxMessage

STAFF = -1009
CONFIG = Config(staff_chat_id=STAFF, staff_timezone="Asia/Shanghai")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("tz", "on_or_after", "expected"),
    [
        ("Pacific/Kiritimati", date(2026, 3, 10), utc(2026, 3, 14, 20, 0)),  # UTC+14: the day before in UTC
        ("Pacific/Pago_Pago", date(2026, 3, 10), utc(2026, 3, 15, 21, 0)),  # UTC−11
        ("UTC", date(2026, 3, 16), utc(2027, 3, 15, 10, 0)),  # this year's is past: next year
        ("UTC", date(2026, 3, 15), utc(2026, 3, 15, 10, 0)),  # today counts
    ],
)
def test_next_greeting_is_local_morning(tz: str, on_or_after: date, expected: datetime) -> None:
    assert next_greeting_at(3, 15, tz, on_or_after) == expected


def test_dst_change_days_keep_local_ten_oclock() -> None:
    # Berlin: summer time starts 2026-03-29 and ends 2026-10-25.
    assert next_greeting_at(3, 29, "Europe/Berlin", date(2026, 1, 1)) == utc(2026, 3, 29, 8, 0)
    assert next_greeting_at(10, 25, "Europe/Berlin", date(2026, 1, 1)) == utc(2026, 10, 25, 9, 0)
    assert next_greeting_at(3, 8, "America/New_York", date(2026, 1, 1)) == utc(2026, 3, 8, 14, 0)


@pytest.mark.parametrize(
    ("rule", "after", "expected"),
    [
        ("feb28", date(2027, 1, 1), date(2027, 2, 28)),
        ("mar1", date(2027, 1, 1), date(2027, 3, 1)),
        ("feb28", date(2028, 1, 1), date(2028, 2, 29)),  # leap year: the day itself
        ("mar1", date(2028, 1, 1), date(2028, 2, 29)),
        ("feb28", date(2027, 3, 1), date(2028, 2, 29)),
    ],
)
def test_29_february(rule: str, after: date, expected: date) -> None:
    at = next_greeting_at(2, 29, "UTC", after, hour=10, leap_day_rule=rule)
    assert at.date() == expected


async def _customer(
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    tid: int,
    tz: str,
    month: int,
    day: int,
    config: Config = CONFIG,
) -> int:
    async with sessions.begin() as session:
        c = await customers.join(
            session, TelegramProfile(tid, f"Ann{tid}", username=f"ann{tid}"), config, clock.now()
        )
        await customers.set_timezone(session, c, tz, now=clock.now(), config=config.birthdays)
        await customers.set_birthday(
            session, c, Birthday(month, day, 1990), now=clock.now(), config=config.birthdays
        )
        return c.id


async def _greetings(sessions: async_sessionmaker[AsyncSession]) -> list[OutboxMessage]:
    async with sessions.begin() as session:
        rows = await session.scalars(select(OutboxMessage).where(OutboxMessage.dedupe_key.like("birthday:%")))
        return list(rows)


async def test_greets_at_local_ten_in_each_time_zone_once_with_the_bonus(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    kiri = await _customer(sessions, clock, 1, "Pacific/Kiritimati", 3, 15)
    pago = await _customer(sessions, clock, 2, "Pacific/Pago_Pago", 3, 15)
    clock.set(utc(2026, 3, 14, 19, 59))
    assert await birthdays.tick(sessions, clock, CONFIG) == 0
    clock.set(utc(2026, 3, 14, 20, 0))  # 10:00 on 15 March in Kiritimati
    assert await birthdays.tick(sessions, clock, CONFIG) == 1
    clock.set(utc(2026, 3, 15, 20, 59))
    assert await birthdays.tick(sessions, clock, CONFIG) == 0
    clock.set(utc(2026, 3, 15, 21, 0))  # 10:00 on 15 March in Pago Pago
    assert await birthdays.tick(sessions, clock, CONFIG) == 1
    assert await birthdays.tick(sessions, clock, CONFIG) == 0  # the tick again: nothing
    rows = await _greetings(sessions)
    assert sorted(r.dedupe_key for r in rows) == [f"birthday:{kiri}:2026", f"birthday:{pago}:2026"]
    assert rows[0].template == "birthday.greeting_bonus" and rows[0].params["points"] == 50
    async with sessions.begin() as session:
        assert await ledger.balance(session, kiri) == 50
        entry = await session.scalar(select(LedgerEntry).where(LedgerEntry.customer_id == kiri))
        assert (entry.kind, entry.reference) == ("birthday", f"birthday:{kiri}:2026")
        # The bonus expires like every other point (it never did, silently).
        assert entry.expires_at == add_months(utc(2026, 3, 14, 20, 0), CONFIG.loyalty.expiry_months)
        c = await session.get(Customer, kiri)
        assert c.next_birthday_at == utc(2027, 3, 14, 20, 0)


async def test_after_downtime_greets_the_same_local_day_but_never_a_day_late(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    late = await _customer(sessions, clock, 1, "Europe/Berlin", 3, 20)
    missed = await _customer(sessions, clock, 2, "Europe/Berlin", 3, 19)
    clock.set(utc(2026, 3, 20, 22, 30))  # 23:30 in Berlin on the 20th: the bot was down since morning
    assert await birthdays.tick(sessions, clock, CONFIG) == 1
    assert [r.dedupe_key for r in await _greetings(sessions)] == [f"birthday:{late}:2026"]
    async with sessions.begin() as session:
        skipped = await session.get(Customer, missed)
        assert skipped.next_birthday_at == utc(2027, 3, 19, 9, 0)  # rescheduled, not greeted
        assert await ledger.balance(session, missed) == 0


async def test_29_february_in_a_common_year_and_the_mar1_rule(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    mar1 = Config(birthdays=BirthdayConfig(leap_day_rule="mar1"))
    a = await _customer(sessions, clock, 1, "UTC", 2, 29)
    b = await _customer(sessions, clock, 2, "UTC", 2, 29, config=mar1)
    clock.set(utc(2027, 2, 28, 10, 0))
    assert await birthdays.tick(sessions, clock, CONFIG) == 1
    clock.set(utc(2027, 3, 1, 10, 0))
    assert await birthdays.tick(sessions, clock, mar1) == 1
    keys = sorted(r.dedupe_key for r in await _greetings(sessions))
    assert keys == [f"birthday:{a}:2027", f"birthday:{b}:2027"]


async def test_two_ticks_at_once_greet_once(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    ids = [await _customer(sessions, clock, i, "UTC", 3, 15) for i in range(1, 21)]
    clock.set(utc(2026, 3, 15, 10, 5))
    results = await asyncio.gather(*(birthdays.tick(sessions, clock, CONFIG) for _ in range(3)))
    assert sum(results) == 20
    assert len(await _greetings(sessions)) == 20
    async with sessions.begin() as session:
        entries = list(await session.scalars(select(LedgerEntry)))
    assert sorted(e.customer_id for e in entries) == sorted(ids)


async def test_a_new_time_zone_does_not_greet_twice(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    cid = await _customer(sessions, clock, 1, "Asia/Tokyo", 3, 15)
    clock.set(utc(2026, 3, 15, 1, 0))  # 10:00 in Tokyo
    assert await birthdays.tick(sessions, clock, CONFIG) == 1
    async with sessions.begin() as session:
        c = await session.get(Customer, cid)
        await customers.set_timezone(session, c, "America/Chicago", now=clock.now(), config=CONFIG.birthdays)
    clock.set(utc(2026, 3, 15, 15, 0))  # 10:00 in Chicago, still the 15th there
    assert await birthdays.tick(sessions, clock, CONFIG) == 0
    assert len(await _greetings(sessions)) == 1


async def test_staff_digest_once_a_day(sessions: async_sessionmaker[AsyncSession], clock: FakeClock) -> None:
    await _customer(sessions, clock, 1, "UTC", 3, 15)
    await _customer(sessions, clock, 2, "Asia/Shanghai", 3, 15)
    await _customer(sessions, clock, 3, "UTC", 3, 16)
    clock.set(utc(2026, 3, 15, 0, 30))  # 08:30 in Shanghai: before the digest hour
    await birthdays.tick(sessions, clock, CONFIG)
    clock.set(utc(2026, 3, 15, 1, 0))  # 09:00 in Shanghai
    await birthdays.tick(sessions, clock, CONFIG)
    await birthdays.tick(sessions, clock, CONFIG)
    async with sessions.begin() as session:
        digests = list(await session.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == STAFF)))
    assert len(digests) == 1
    assert digests[0].dedupe_key == "birthday-digest:2026-03-15"
    assert digests[0].params["names"].count("•") == 2 and "@ann1" in digests[0].params["names"]


async def test_the_digest_finds_todays_birthdays_in_every_time_zone_greeted_or_not(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    """The birthday is encrypted: the digest finds it by next_birthday_at, which for someone already
    greeted today (far east) is a year later, and for someone far west is still to come."""
    clock.set(utc(2026, 3, 1))
    for tid, tz, day in [(1, "Pacific/Kiritimati", 15), (2, "America/Los_Angeles", 15), (3, "UTC", 16)]:
        await _customer(sessions, clock, tid, tz, 3, day)
    await _customer(sessions, clock, 4, "Pacific/Kiritimati", 3, 14)  # greeted yesterday, local time
    clock.set(utc(2026, 3, 14, 20, 30))  # 10:30 on the 15th in Kiritimati: greeted
    await birthdays.tick(sessions, clock, CONFIG)
    assert len(await _greetings(sessions)) == 1
    clock.set(utc(2026, 3, 15, 1, 0))  # 09:00 in Shanghai on the 15th: the digest
    await birthdays.tick(sessions, clock, CONFIG)
    async with sessions.begin() as session:
        digest = await session.scalar(select(OutboxMessage).where(OutboxMessage.chat_id == STAFF))
    assert digest is not None
    assert "@ann1" in digest.params["names"] and "@ann2" in digest.params["names"]
    assert digest.params["names"].count("•") == 2


async def test_backfill_schedules_birthdays_stored_before(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    cid = await _customer(sessions, clock, 1, "UTC", 3, 15)
    async with sessions.begin() as session:
        (await session.get(Customer, cid)).next_birthday_at = None
    assert await birthdays.backfill(sessions, clock, CONFIG) == 1
    async with sessions.begin() as session:
        assert (await session.get(Customer, cid)).next_birthday_at == utc(2026, 3, 15, 10, 0)


async def test_greeting_text_follows_the_tier_points_shows(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, catalog: Catalog
) -> None:
    gold = await _customer(sessions, clock, 1, "UTC", 3, 15)
    member = await _customer(sessions, clock, 2, "UTC", 3, 15)
    async with sessions.begin() as session:
        await ledger.credit(
            session,
            customer_id=gold,
            points=2000,
            kind="award",
            reference="big",
            now=clock.now(),
            config=CONFIG.loyalty,
        )
    clock.set(utc(2026, 3, 15, 10, 0))
    tier_of = points.tier_of(clock.now, CONFIG.loyalty)
    assert await birthdays.tick(sessions, clock, CONFIG, tier_of=tier_of) == 2
    rows = {r.customer_id: r for r in await _greetings(sessions)}
    assert rows[gold].template == "birthday.greeting_bonus_gold|birthday.greeting_bonus"
    assert rows[member].template == "birthday.greeting_bonus_member|birthday.greeting_bonus"
    texts = {cid: _render_key(catalog, "en", r.template, r.params) for cid, r in rows.items()}
    assert "Gold member" in texts[gold] and "Gold" not in texts[member]
    assert texts[gold] != texts[member] != catalog("en", "birthday.greeting_bonus", **rows[member].params)
    # A tier without its own text falls back to the generic greeting.
    assert _render_key(
        catalog, "zh", "birthday.greeting_platinum|birthday.greeting", {"name": "A"}
    ) == catalog("zh", "birthday.greeting", name="A")


async def test_a_customer_who_turned_the_greeting_off_gets_no_message_but_the_bonus(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    quiet = await _customer(sessions, clock, 1, "UTC", 3, 15)
    glad = await _customer(sessions, clock, 2, "UTC", 3, 15)
    async with sessions.begin() as session:
        await preferences.choose(session, quiet, preferences.BIRTHDAY, False, clock.now())
    clock.set(utc(2026, 3, 15, 10, 0))
    assert await birthdays.tick(sessions, clock, CONFIG) == 1
    assert [r.customer_id for r in await _greetings(sessions)] == [glad]
    async with sessions.begin() as session:
        assert await ledger.balance(session, quiet) == 50  # the bonus is theirs; only the message is not
        assert (await session.get(Customer, quiet)).next_birthday_at == utc(2027, 3, 15, 10, 0)
