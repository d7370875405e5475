"""Referrals: a newcomer joining through a link is linked once; both get the bonus once, after the
newcomer's first purchase, even when that purchase is recorded twice."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.i18n import Catalog
from storage.core.clock import FakeClock
from storage.core.config import LoyaltyConfig
from storage.loyalty import ledger, purchases, referrals
from storage.loyalty.models import LedgerEntry
from storage.people.models import OutboxMessage
from tests.storage.loyalty_helpers import assert_consistent, assert_outbox_renders, new_customer

CONFIG = LoyaltyConfig(referral_bonus=100)


async def test_referral_bonus_is_paid_once(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, catalog: Catalog
) -> None:
    now = clock.now()
    async with sessions.begin() as session:
        ann = await new_customer(session, 1, now, "Ann")
        code = await referrals.code_for(session, ann.id)
        assert code == await referrals.code_for(session, ann.id) and len(code) == 8
        bob = await new_customer(session, 2, now, "Bob")
        assert not await referrals.link_on_join(session, ann, referrals.start_payload(code), now)  # own link
        assert not await referrals.link_on_join(session, bob, "ref_NOPE2345", now)
        assert not await referrals.link_on_join(session, bob, "promo", now)
        assert await referrals.link_on_join(session, bob, referrals.start_payload(code.lower()), now)
        assert not await referrals.link_on_join(session, bob, referrals.start_payload(code), now)

    for _ in range(2):  # the same purchase recorded twice (a duplicate update)
        async with sessions.begin() as session:
            await purchases.record(
                session, bob, amount=Decimal("10"), reference="tg:5:1", now=now, config=CONFIG
            )
    async with sessions.begin() as session:  # and a second, different purchase
        await purchases.record(session, bob, amount=Decimal("10"), reference="tg:5:2", now=now, config=CONFIG)
        assert await ledger.balance(session, ann.id) == 100
        assert await ledger.balance(session, bob.id) == 100 + 10 + 10
        kinds = list(await session.scalars(select(LedgerEntry.kind).where(LedgerEntry.kind == "referral")))
        assert len(kinds) == 2
        notes = list(
            await session.scalars(
                select(OutboxMessage.template).where(OutboxMessage.template.like("%referral%"))
            )
        )
        assert sorted(notes) == ["loyalty.referral_bonus_referee", "loyalty.referral_bonus_referrer"]
        assert await referrals.count_referred(session, ann.id) == (1, 1)
        await assert_consistent(session)
        await assert_outbox_renders(session, catalog)
