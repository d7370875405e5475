"""Points expiry: one warning per customer and expiry date (not for spent lots), then exactly the
remainder expires; both through the tick, repeated."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.i18n import Catalog
from jobs import expiry
from storage.core.clock import FakeClock
from storage.core.config import Config, LoyaltyConfig
from storage.loyalty import expiry as expiry_rules
from storage.loyalty import ledger
from storage.loyalty.models import LedgerEntry
from storage.people.models import OutboxMessage
from tests.statements import statements
from tests.storage.loyalty_helpers import assert_consistent, assert_outbox_renders, give, new_customer

CONFIG = Config(loyalty=LoyaltyConfig(expiry_months=12, expiry_warning_days=14))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def _warnings(sessions: async_sessionmaker[AsyncSession]) -> list[OutboxMessage]:
    async with sessions.begin() as session:
        rows = await session.scalars(
            select(OutboxMessage).where(OutboxMessage.dedupe_key.like("expiry-warning:%"))
        )
        return list(rows)


async def test_warned_once_per_lot_date_and_not_for_spent_lots_then_the_remainder_expires(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, catalog: Catalog
) -> None:
    clock.set(utc(2026, 3, 10, 9, 0))
    async with sessions.begin() as session:
        kim = (await new_customer(session, 1, clock.now(), "Kim")).id
        lee = (await new_customer(session, 2, clock.now(), "Lee")).id
        await give(session, kim, 100, clock.now(), "a1")
        await give(session, lee, 40, clock.now(), "b1")
    clock.advance(hours=1)
    async with sessions.begin() as session:
        await give(session, kim, 50, clock.now(), "a2")  # the same expiry date, an hour later
        await ledger.debit(
            session, customer_id=kim, points=30, kind="deduct", reference="d1", now=clock.now()
        )
        await ledger.debit(
            session, customer_id=lee, points=40, kind="deduct", reference="d2", now=clock.now()
        )
    clock.advance(days=30)
    async with sessions.begin() as session:
        await give(session, kim, 10, clock.now(), "a3")  # expires a month later: its own warning

    clock.set(utc(2027, 2, 24, 8, 0))  # 14 days before 2027-03-10 09:00, an hour early
    assert await expiry.tick(sessions, clock, CONFIG) == (0, 0)
    clock.set(utc(2027, 2, 24, 10, 0))
    assert await expiry.tick(sessions, clock, CONFIG) == (1, 0)
    assert await expiry.tick(sessions, clock, CONFIG) == (0, 0)  # twice: nothing more
    rows = await _warnings(sessions)
    assert [(r.dedupe_key, r.chat_id, r.template) for r in rows] == [
        (f"expiry-warning:{kim}:2027-03-10", 1, "expiry.warning")
    ]
    assert rows[0].params == {"points": 120, "date": "2027-03-10", "balance": 130}
    async with sessions.begin() as session:
        await assert_outbox_renders(session, catalog)
        # Nothing of the first date is left on the schedule; the April lot still is.
        pending = await session.scalar(select(func.count()).where(LedgerEntry.warn_at.is_not(None)))
        assert pending == 1
        # Spending before the date lowers what expires.
        await ledger.debit(
            session, customer_id=kim, points=20, kind="deduct", reference="d3", now=clock.now()
        )

    clock.set(utc(2027, 3, 10, 10, 0))
    assert await expiry.tick(sessions, clock, CONFIG) == (0, 2)
    assert await expiry.tick(sessions, clock, CONFIG) == (0, 0)
    async with sessions.begin() as session:
        expired = list(
            await session.scalars(
                select(LedgerEntry.points).where(LedgerEntry.kind == "expire").order_by(LedgerEntry.id)
            )
        )
        assert expired == [-50, -50]  # 100 − 30 − 20, and the second lot whole
        assert await ledger.balance(session, kim) == 10
        assert await ledger.balance(session, lee) == 0
        await assert_consistent(session)

    clock.set(utc(2027, 3, 27, 9, 0))  # 14 days before the April lot's expiry (2027-04-09 10:00)
    assert await expiry.tick(sessions, clock, CONFIG) == (1, 0)
    rows = await _warnings(sessions)
    assert sorted(r.params["date"] for r in rows) == ["2027-03-10", "2027-04-09"]


async def test_warning_date_is_the_customers_local_date_and_zero_days_is_off(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    clock.set(utc(2026, 3, 10, 20, 0))  # expires 2027-03-10 20:00 UTC: the 11th in Shanghai
    async with sessions.begin() as session:
        kim = await new_customer(session, 1, clock.now(), "Kim")
        kim.timezone = "Asia/Shanghai"
        await give(session, kim.id, 10, clock.now(), "a1")
    clock.set(utc(2027, 3, 1, 9, 0))
    off = Config(loyalty=LoyaltyConfig(expiry_warning_days=0))
    assert await expiry.tick(sessions, clock, off) == (0, 0)
    assert await expiry.tick(sessions, clock, CONFIG) == (1, 0)
    assert [r.params["date"] for r in await _warnings(sessions)] == ["2027-03-11"]


async def test_a_batch_warns_every_customer_for_each_local_day_and_skips_the_unreachable(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    clock.set(utc(2026, 3, 10, 20, 0))
    async with sessions.begin() as session:
        kim, lee, max_ = [await new_customer(session, i + 1, clock.now(), n) for i, n in enumerate("KLM")]
        lee.timezone = "Asia/Shanghai"  # 2027-03-10 20:00 UTC is the 11th there
        max_.unreachable_at = clock.now()
        for customer in (kim, lee, max_):
            await give(session, customer.id, 10, clock.now(), f"{customer.id}-a")
    clock.advance(days=2)
    async with sessions.begin() as session:
        for customer in (kim, lee):
            await give(session, customer.id, 5, clock.now(), f"{customer.id}-b")  # two days later
            await give(session, customer.id, 1, clock.now(), f"{customer.id}-c")  # the same day
    clock.set(utc(2027, 3, 1, 9, 0))
    assert await expiry.tick(sessions, clock, CONFIG) == (4, 0)
    warnings = sorted(
        (r.customer_id, r.params["date"], r.params["points"]) for r in await _warnings(sessions)
    )
    assert warnings == [
        (kim.id, "2027-03-10", 10),
        (kim.id, "2027-03-12", 6),
        (lee.id, "2027-03-11", 10),
        (lee.id, "2027-03-13", 6),
    ]
    assert {r.params["balance"] for r in await _warnings(sessions)} == {16}


async def test_a_batch_of_warnings_reads_in_a_fixed_number_of_queries(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    reads = []
    for count, first in ((2, 10), (5, 20)):
        clock.set(utc(2026, 3, 10, 9, 0) + timedelta(days=first))
        async with sessions.begin() as session:
            for i in range(count):
                customer = await new_customer(session, first + i, clock.now(), f"C{i}")
                await give(session, customer.id, 10, clock.now(), f"{first}-{i}")
        clock.advance(days=365 - 14)
        async with sessions.begin() as session:
            with statements(engine) as sent:
                assert await expiry_rules.warn_due(session, clock.now(), CONFIG.loyalty) == (count, count)
        reads.append(len([s for s in sent if s.lstrip().upper().startswith("SELECT")]))
    assert reads[0] == reads[1], reads
