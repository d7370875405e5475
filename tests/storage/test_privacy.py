"""storage.privacy on SQLite and PostgreSQL: erasure cancels what is outstanding, forgets the words,
keeps the figures, and is a no-op the second time; an erased customer has nothing to export."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import privacy
from storage.care import notes, tags
from storage.core.clock import FakeClock
from storage.core.config import LoyaltyConfig
from storage.loyalty import redemptions, rewards
from storage.loyalty.models import LedgerEntry, LoyaltyAccount, Voucher
from storage.people import customers, outbox, preferences
from storage.people.models import Customer, OutboxMessage
from tests.storage.loyalty_helpers import give, new_customer


async def test_erasure_once_and_for_good(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessions.begin() as session:
        kim = await new_customer(session, 301, clock.now())
        await customers.set_phone(session, kim, "+49 30 1234567")
        await give(session, kim.id, 100, clock.now(), "gift")
        coffee = await rewards.add(session, {"title": "Coffee", "cost": "10"}, LoyaltyConfig(), clock.now())
        await redemptions.redeem(session, kim, coffee.id, key="k1", now=clock.now(), config=LoyaltyConfig())
        await outbox.enqueue_for_customer(
            session,
            kim,
            dedupe_key="hello",
            template="loyalty.purchase_recorded",
            params={"name": "Kim"},
            now=clock.now(),
        )
        await notes.add(session, kim.id, 1, "secret", clock.now())
        await tags.add(session, kim.id, "vip", 1, clock.now())
        await preferences.choose(session, kim.id, preferences.OFFERS, False, clock.now())
        exported = await privacy.export(session, kim.id) or {}
        assert exported["tags"] == ["vip"] and exported["campaigns"] == []
        assert exported["message_preferences"] == {"offers": False, "surveys": True, "birthday": True}

    async with sessions.begin() as session:
        erased = await privacy.erase(session, kim.id, clock.now())
        assert erased == privacy.Erased(kim.id, 1)
        assert await privacy.erase(session, kim.id, clock.now()) is None  # the second time: nothing
    async with sessions.begin() as session:
        row = await session.get(Customer, kim.id)
        assert row is not None and row.telegram_id == -kim.id and row.phone is None and row.first_name == ""
        assert await customers.get(session, 301) is None
        assert await privacy.export(session, kim.id) is None
        assert await session.scalar(select(Voucher.status)) == "cancelled"
        message = await session.scalar(select(OutboxMessage))
        assert message is not None and message.status == "skipped" and message.params == {}
        assert (await notes.latest(session, kim.id))[1] == 0 and await tags.of(session, [kim.id]) == {}
        account = await session.get(LoyaltyAccount, kim.id)
        total = await session.scalar(
            select(func.sum(LedgerEntry.points)).where(LedgerEntry.customer_id == kim.id)
        )
        assert account is not None and account.balance == total == 90  # the books: 100 given, 10 spent
