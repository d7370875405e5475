"""Win-back: one task per lapse (the tick twice → one; a purchase, then a new lapse → a second), none
for low spenders; the lapse time follows the customer's own rhythm once they have 3 purchases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.i18n import Catalog
from jobs import winback as winback_job
from storage.care.models import FollowUp
from storage.core.clock import FakeClock
from storage.core.config import Config, LoyaltyConfig, WinbackConfig
from storage.loyalty import lapses, purchases
from storage.loyalty.models import LoyaltyAccount
from storage.loyalty.tiers import add_months
from storage.people import outbox, preferences
from storage.people.models import Customer, OutboxMessage
from tests.statements import statements
from tests.storage.loyalty_helpers import assert_outbox_renders, new_customer

RULES = WinbackConfig(factor=Decimal("2"), days=60, min_spend=Decimal("500"))
STAFF = -100
CONFIG = Config(staff_chat_id=STAFF, winback=RULES)


async def _buy(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, customer_id: int, ref: str, amount: str
) -> int:
    async with sessions.begin() as session:
        customer = await session.get(Customer, customer_id)
        recorded = await purchases.record(
            session,
            customer,
            amount=Decimal(amount),
            reference=ref,
            now=clock.now(),
            config=LoyaltyConfig(),
            winback_config=RULES,
        )
        return recorded.purchase.id


async def _tasks(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[int, str, str]]:
    async with sessions.begin() as session:
        rows = await session.scalars(select(FollowUp).order_by(FollowUp.id))
        return [(t.customer_id, t.kind, t.source_ref) for t in rows]


def test_lapse_after_uses_the_median_interval_from_three_purchases() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    assert lapses.lapse_after([t0, t0 + timedelta(days=5)], RULES) == timedelta(days=60)
    days = [0, 10, 30, 40]  # gaps 10, 20, 10: median 10, × 2
    assert lapses.lapse_after([t0 + timedelta(days=d) for d in days], RULES) == timedelta(days=20)
    same_day = [t0, t0 + timedelta(hours=1), t0 + timedelta(hours=2)]
    assert lapses.lapse_after(same_day, RULES) == lapses.MIN_LAPSE


async def test_one_task_per_lapse_and_a_new_lapse_after_a_new_purchase(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, catalog: Catalog
) -> None:
    async with sessions.begin() as session:
        kim = (await new_customer(session, 1, clock.now(), "Kim")).id
        low = (await new_customer(session, 2, clock.now(), "Lee")).id
    first = await _buy(sessions, clock, kim, "k1", "600")
    await _buy(sessions, clock, low, "l1", "100")

    clock.advance(days=59, hours=23)
    assert await winback_job.tick(sessions, clock, CONFIG) == 0
    clock.advance(hours=1)
    assert await winback_job.tick(sessions, clock, CONFIG) == 1
    assert await winback_job.tick(sessions, clock, CONFIG) == 0  # twice: still one task
    assert await _tasks(sessions) == [(kim, "winback", f"winback:{kim}:{first}")]  # not Lee
    async with sessions.begin() as session:
        card = await session.scalar(select(OutboxMessage).where(OutboxMessage.chat_id == STAFF))
        assert (
            card.template == "winback.card" and card.params["days"] == 60 and card.params["spent"] == "600.00"
        )
        task = await session.scalar(select(FollowUp))
        assert task.reminders == 1  # the card was its first reminder: the follow-ups tick won't repeat it
        assert (
            await session.scalar(select(OutboxMessage).where(OutboxMessage.template == "winback.message"))
            is None
        )
        await assert_outbox_renders(session, catalog)
        # Nothing is due any more: the schedule is empty.
        assert (
            await session.scalar(select(LoyaltyAccount).where(LoyaltyAccount.winback_due_at.is_not(None)))
            is None
        )

    clock.advance(days=10)
    second = await _buy(sessions, clock, kim, "k2", "50")  # back: a new lapse starts
    clock.advance(days=60)
    assert await winback_job.tick(sessions, clock, CONFIG) == 1
    assert await _tasks(sessions) == [
        (kim, "winback", f"winback:{kim}:{first}"),
        (kim, "winback", f"winback:{kim}:{second}"),
    ]


async def test_the_customer_message_is_a_setting(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, catalog: Catalog
) -> None:
    async with sessions.begin() as session:
        kim = (await new_customer(session, 1, clock.now(), "Kim")).id
    await _buy(sessions, clock, kim, "k1", "500")
    clock.advance(days=60)
    config = Config(winback=WinbackConfig(min_spend=Decimal("500"), message=True))  # no staff group
    assert await winback_job.tick(sessions, clock, config) == 1
    async with sessions.begin() as session:
        rows = list(await session.scalars(select(OutboxMessage)))
        assert [r.template for r in rows if r.chat_id == 1][-1] == "winback.message"
        await assert_outbox_renders(session, catalog)


async def test_each_customer_counts_the_year_up_to_their_own_last_purchase(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    """Three lapses in one batch, each with its own twelve months: Kim's first purchase is inside hers,
    Lee's is a month too old, Max's is exactly twelve months before his last (the window is open there)."""
    t0 = clock.now()
    async with sessions.begin() as session:
        kim, lee, mia, max_ = [
            (await new_customer(session, i + 1, t0, name)).id
            for i, name in enumerate(("Kim", "Lee", "Mia", "Max"))
        ]
    await _buy(sessions, clock, kim, "k1", "400")
    await _buy(sessions, clock, lee, "l1", "400")
    clock.set(add_months(t0, 1))
    await _buy(sessions, clock, max_, "m1", "400")
    await _buy(sessions, clock, mia, "i1", "499.99")  # Mia: one cent short
    clock.set(add_months(t0, 11))
    kim_last = await _buy(sessions, clock, kim, "k2", "150")
    clock.set(add_months(t0, 13))
    await _buy(sessions, clock, lee, "l2", "150")
    await _buy(sessions, clock, max_, "m2", "150")
    clock.advance(days=60)
    assert await winback_job.tick(sessions, clock, CONFIG) == 1
    assert await _tasks(sessions) == [(kim, "winback", f"winback:{kim}:{kim_last}")]
    async with sessions.begin() as session:
        card = await session.scalar(select(OutboxMessage).where(OutboxMessage.template == "winback.card"))
        assert card.params["spent"] == "550.00"
        assert (
            await session.scalar(select(LoyaltyAccount).where(LoyaltyAccount.winback_due_at.is_not(None)))
            is None
        )


async def test_a_lapse_whose_task_exists_is_not_handled_again(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessions.begin() as session:
        kim = (await new_customer(session, 1, clock.now(), "Kim")).id
    await _buy(sessions, clock, kim, "k1", "600")
    clock.advance(days=60)
    assert await winback_job.tick(sessions, clock, CONFIG) == 1
    async with sessions.begin() as session:  # the same lapse comes due again (say, restored from a backup)
        await session.execute(update(LoyaltyAccount).values(winback_due_at=clock.now()))
    assert await winback_job.tick(sessions, clock, CONFIG) == 0
    async with sessions.begin() as session:
        assert await session.scalar(select(func.count()).select_from(FollowUp)) == 1
        cards = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.chat_id == STAFF)
        assert await session.scalar(cards) == 1


async def test_a_batch_reads_in_a_fixed_number_of_queries(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    """However many lapses are due, a batch reads them in the same statements (writes come per task)."""
    reads = []
    for batch, start in ((2, 10), (6, 20)):
        async with sessions.begin() as session:
            ids = [(await new_customer(session, start + i, clock.now(), f"C{i}")).id for i in range(batch)]
        for i, customer_id in enumerate(ids):
            await _buy(sessions, clock, customer_id, f"{start}-{i}", "100")  # not valuable: no task
        clock.advance(days=60)
        with statements(engine) as sent:
            assert await winback_job.tick(sessions, clock, CONFIG) == 0
        reads.append(len(sent))
    assert reads[0] == reads[1], reads


async def test_the_message_skips_a_customer_who_blocked_the_bot(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessions.begin() as session:
        kim = (await new_customer(session, 1, clock.now(), "Kim")).id
        lee = (await new_customer(session, 2, clock.now(), "Lee")).id
    await _buy(sessions, clock, kim, "k1", "500")
    await _buy(sessions, clock, lee, "l1", "700")
    async with sessions.begin() as session:
        await session.execute(update(Customer).where(Customer.id == lee).values(unreachable_at=clock.now()))
    clock.advance(days=60)
    config = Config(winback=WinbackConfig(min_spend=Decimal("500"), message=True))
    assert await winback_job.tick(sessions, clock, config) == 2  # both tasks
    async with sessions.begin() as session:
        messages = list(
            await session.scalars(select(OutboxMessage).where(OutboxMessage.template == "winback.message"))
        )
        assert [(m.customer_id, m.params["balance"]) for m in messages] == [(kim, 500)]


async def test_the_message_honours_offers_off_and_the_contact_budget(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    """The "we miss you" message is promotional: not for a customer who turned offers off, nor for one
    whose contact budget is spent; the staff tasks are made all the same. It carries "Stop offers"."""
    async with sessions.begin() as session:
        kim, lee, max_ = [
            (await new_customer(session, n, clock.now(), name)).id
            for n, name in enumerate(("Kim", "Lee", "Max"), 1)
        ]
    for n, cid in enumerate((kim, lee, max_)):
        await _buy(sessions, clock, cid, f"b{n}", "600")
    clock.advance(days=60)
    async with sessions.begin() as session:
        await preferences.choose(session, lee, preferences.OFFERS, False, clock.now())
        for n in range(2):
            await outbox.enqueue(
                session,
                dedupe_key=f"campaign:{n}:{max_}",
                chat_id=3,
                customer_id=max_,
                template="t",
                language="en",
                now=clock.now() - timedelta(days=1),
            )
    config = Config(winback=WinbackConfig(min_spend=Decimal("500"), message=True))
    assert await winback_job.tick(sessions, clock, config) == 3
    async with sessions.begin() as session:
        messages = list(
            await session.scalars(select(OutboxMessage).where(OutboxMessage.template == "winback.message"))
        )
    assert [m.customer_id for m in messages] == [kim]
    assert messages[0].buttons == [[["@preferences.stop_offers", "pf:stop"]]]
