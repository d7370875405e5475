"""The survey after a purchase: invited once after the delay, not before; skipped when throttled or
when there is no purchase survey; off with 0 hours."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from jobs import purchase_surveys
from storage.core.clock import FakeClock
from storage.core.config import Config, LoyaltyConfig, SurveyConfig
from storage.loyalty import purchases
from storage.loyalty.models import Purchase
from storage.people.models import Customer
from storage.surveys import invitations
from storage.surveys.definitions import builtin
from storage.surveys.models import SurveyInvitation
from tests.storage.loyalty_helpers import new_customer

SURVEYS = SurveyConfig(throttle_days=30, after_purchase_hours=24)
CONFIG = Config(surveys=SURVEYS)


async def _purchase(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, customer_id: int, ref: str, **config: int
) -> int:
    async with sessions.begin() as session:
        customer = await session.get(Customer, customer_id)
        recorded = await purchases.record(
            session,
            customer,
            amount=Decimal("30"),
            reference=ref,
            now=clock.now(),
            config=LoyaltyConfig(),
            surveys=SurveyConfig(**{**{"after_purchase_hours": 24}, **config}),
        )
        return recorded.purchase.id


async def _invitations(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    async with sessions.begin() as session:
        return list(await session.scalars(select(SurveyInvitation.dedupe_key).order_by(SurveyInvitation.id)))


async def test_invited_after_the_delay_once_and_throttled_after(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessions.begin() as session:
        kim = (await new_customer(session, 1, clock.now())).id
        await invitations.create(session, builtin("service", "csat"), created_by=1, now=clock.now())
        await invitations.activate(session, "service", clock.now())
    first = await _purchase(sessions, clock, kim, "p1")

    clock.advance(hours=23, minutes=59)
    assert await purchase_surveys.tick(sessions, clock, CONFIG) == {}
    clock.advance(minutes=1)
    assert await purchase_surveys.tick(sessions, clock, CONFIG) == {"invited": 1}
    assert await purchase_surveys.tick(sessions, clock, CONFIG) == {}
    assert await _invitations(sessions) == [f"purchase-survey:{first}"]

    clock.advance(days=2)
    await _purchase(sessions, clock, kim, "p2")
    clock.advance(days=1)
    assert await purchase_surveys.tick(sessions, clock, CONFIG) == {"throttled": 1}
    assert await purchase_surveys.tick(sessions, clock, CONFIG) == {}
    assert await _invitations(sessions) == [f"purchase-survey:{first}"]
    async with sessions.begin() as session:
        pending = await session.scalar(select(func.count()).where(Purchase.survey_due_at.is_not(None)))
        assert pending == 0


async def test_no_purchase_survey_is_skipped_quietly_and_zero_hours_schedules_nothing(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessions.begin() as session:
        kim = (await new_customer(session, 1, clock.now())).id
    await _purchase(sessions, clock, kim, "p1")
    off = await _purchase(sessions, clock, kim, "p2", after_purchase_hours=0)
    clock.advance(days=1)
    assert await purchase_surveys.tick(sessions, clock, CONFIG) == {"no_survey": 1}
    assert await _invitations(sessions) == []
    async with sessions.begin() as session:
        assert (await session.get(Purchase, off)).survey_due_at is None
        # A survey activated later is not sent for purchases already handled.
        await invitations.create(session, builtin("service", "csat"), created_by=1, now=clock.now())
        await invitations.activate(session, "service", clock.now())
    assert await purchase_surveys.tick(sessions, clock, CONFIG) == {}
