"""storage.privacy on SQLite and PostgreSQL: erasure cancels what is outstanding, forgets the words,
keeps the figures, and is a no-op the second time; an erased customer has nothing to export."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import privacy
from storage.care import followups, notes, tags
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
        # The staff group's messages about her: a reminder quoting the call's reason, sent and due.
        call = await followups.create(
            session, customer_id=kim.id, kind="callback", reason="angry about the bill", due_at=clock.now()
        )
        for n, status in enumerate(("sent", "queued")):
            key = f"follow_up:{call.id}:20260310:{n}"
            await outbox.enqueue(
                session,
                dedupe_key=key,
                chat_id=-100,
                template="followups.reminder",
                language="en",
                params={"reason": "angry about the bill"},
                now=clock.now(),
            )
            if status == "sent":
                sent = update(OutboxMessage).where(OutboxMessage.dedupe_key == key).values(status="sent")
                await session.execute(sent)
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
        messages = {m.dedupe_key: m for m in await session.scalars(select(OutboxMessage))}
        assert messages["hello"].status == "skipped" and messages["hello"].params == {}
        about = [m for key, m in messages.items() if key.startswith("follow_up:")]
        assert sorted(m.status for m in about) == ["sent", "skipped"]  # the due one never goes out
        assert all(m.params == {} for m in about)
        assert (await notes.latest(session, kim.id))[1] == 0 and await tags.of(session, [kim.id]) == {}
        account = await session.get(LoyaltyAccount, kim.id)
        total = await session.scalar(
            select(func.sum(LedgerEntry.points)).where(LedgerEntry.customer_id == kim.id)
        )
        assert account is not None and account.balance == total == 90  # the books: 100 given, 10 spent


async def test_retention_erases_who_was_neither_seen_nor_buying_for_the_period(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    from datetime import timedelta
    from decimal import Decimal

    from storage.core.models import AuditEntry
    from storage.loyalty import purchases

    async with sessions.begin() as session:
        gone = await new_customer(session, 301, clock.now() - timedelta(days=400))
        buyer = await new_customer(session, 302, clock.now() - timedelta(days=400))
        seen = await new_customer(session, 303, clock.now() - timedelta(days=400))
        for person in (gone, buyer, seen):
            person.last_seen_at = clock.now() - timedelta(days=400)
        seen.last_seen_at = clock.now() - timedelta(days=10)
        await purchases.record(
            session,
            buyer,
            amount=Decimal("5"),
            reference="r1",
            now=clock.now() - timedelta(days=20),
            config=LoyaltyConfig(),
        )
    async with sessions.begin() as session:
        assert await privacy.retain(session, clock.now(), 365, limit=50) == (1, 1)
    async with sessions.begin() as session:
        assert await privacy.retain(session, clock.now(), 365, limit=50) == (0, 0)  # once
        erased = {
            c.telegram_id
            for c in await session.scalars(select(Customer).where(Customer.erased_at.is_not(None)))
        }
        actions = list(
            await session.scalars(select(AuditEntry.target).where(AuditEntry.action == "retention"))
        )
    assert erased == {-gone.id} and actions == [str(gone.id)]
