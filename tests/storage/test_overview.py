"""The 360° card's figures and the timeline: what each customer did, read in a fixed number of queries,
newest first, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage import overview
from storage.care import feedback, followups, notes
from storage.core.clock import FakeClock
from storage.core.config import LoyaltyConfig, SurveyConfig
from storage.loyalty import points, purchases
from storage.surveys import answers, definitions, invitations
from storage.surveys.models import SurveyInvitation
from tests.statements import statements
from tests.storage.loyalty_helpers import new_customer


async def _history(session: AsyncSession, clock: FakeClock, telegram_id: int) -> int:
    """A customer who bought four times (one of them 400 days ago), got an award, answered an NPS
    survey with 6, wrote feedback, has an open follow-up and a note."""
    kim = await new_customer(session, telegram_id, clock.now() - timedelta(days=400))
    config = LoyaltyConfig()
    for days, amount in ((400, "99.00"), (30, "10.00"), (20, "20.00"), (10, "30.00")):
        await purchases.record(
            session,
            kim,
            amount=Decimal(amount),
            reference=f"p{telegram_id}-{days}",
            now=clock.now() - timedelta(days=days),
            config=config,
        )
    await points.award(
        session,
        kim,
        points=5,
        reason="sorry",
        reference=f"a{telegram_id}",
        actor_id=1,
        now=clock.now(),
        config=config,
    )
    survey = await invitations.by_name(session, "nps") or await invitations.create(
        session, definitions.builtin("nps", "nps"), created_by=1, now=clock.now()
    )
    await invitations.activate(session, "nps", clock.now())
    await invitations.invite(
        session, survey, kim, clock.now(), f"nps:{telegram_id}", config=SurveyConfig(throttle_days=0)
    )
    token = await session.scalar(select(SurveyInvitation.token).where(SurveyInvitation.customer_id == kim.id))
    assert token is not None
    await answers.answer(
        session,
        token,
        0,
        "6",
        telegram_id=telegram_id,
        now=clock.now(),
        config=SurveyConfig(),
        loyalty=config,
    )
    await feedback.submit(
        session, kim, "the coffee was cold", source_ref=f"msg:{telegram_id}", now=clock.now()
    )
    await followups.create(session, customer_id=kim.id, kind="call", reason="ask again", due_at=clock.now())
    await notes.add(session, kim.id, 1, "likes oat milk", clock.now())
    return kim.id


async def test_the_card_figures_for_many_customers_in_a_fixed_number_of_queries(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessions.begin() as session:
        kim = await _history(session, clock, 1)
        lee = (await new_customer(session, 2, clock.now(), "Lee")).id
        with statements(engine) as sent:
            found = await overview.values(session, [kim, lee], clock.now())
    assert len([s for s in sent if s.lstrip().upper().startswith("SELECT")]) == 7
    value = found[kim]
    assert value.spend_12m == Decimal("60.00") and value.purchases_12m == 3  # not the one 400 days ago
    assert [b.amount for b in value.last_purchases] == [Decimal("30.00"), Decimal("20.00"), Decimal("10.00")]
    assert [(s.kind, s.score) for s in value.scores] == [("nps", 6)]
    assert value.open_feedback == 2  # the feedback and the detractor's score (6 of 10)
    assert value.open_followups == 1
    assert value.balance > 5
    assert found[lee] == overview.Value()


async def test_the_timeline_is_everything_newest_first(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessions.begin() as session:
        kim = await _history(session, clock, 1)
        await _history(session, clock, 2)  # someone else's history stays out
    async with sessions.begin() as session:
        events = await overview.timeline(session, kim)
        assert len(await overview.timeline(session, kim, limit=3)) == 3
    kinds = [e.kind for e in events]
    assert kinds.count("purchase") == 4
    assert {"points:award", "score:nps", "feedback:open", "followup:open", "note"} <= set(kinds)
    assert "points:earn" not in kinds  # earned points are on the purchase line
    assert [e.at for e in events] == sorted((e.at for e in events), reverse=True)
    assert events[-1].kind == "purchase" and events[-1].number == Decimal("99.00")
    assert any(e.text == "the coffee was cold" for e in events)
