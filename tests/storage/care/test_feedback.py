"""Feedback items: submitted once per message, claimed by one member, a call-back task once,
resolved once; relayed messages found again from the message a reply points at."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.care import feedback
from storage.care.feedback import FeedbackRefused, Relay
from storage.care.models import FollowUp
from storage.core.clock import FakeClock
from storage.core.config import Config, SurveyConfig
from storage.people import customers, staff
from storage.people.customers import TelegramProfile
from storage.surveys.models import Survey
from tests.statements import statements


def test_detractor_thresholds() -> None:
    config = SurveyConfig()
    assert feedback.is_detractor("nps", 6, config) and not feedback.is_detractor("nps", 7, config)
    assert feedback.is_detractor("csat", 2, config) and not feedback.is_detractor("csat", 3, config)
    assert not feedback.is_detractor("rating", 0, config)
    assert feedback.is_detractor("csat", 3, SurveyConfig(csat_detractor_max=3))


async def test_feedback_lifecycle(sessions: async_sessionmaker[AsyncSession], clock: FakeClock) -> None:
    config = SurveyConfig(followup_hours=4)
    async with sessions.begin() as session:
        kim = await customers.join(session, TelegramProfile(100, "Kim"), Config(), clock.now())
        item, created = await feedback.submit(
            session, kim, " Cold soup ", source_ref="msg:100:5", now=clock.now()
        )
        again, created_again = await feedback.submit(
            session, kim, "Cold soup", source_ref="msg:100:5", now=clock.now()
        )
        assert created and not created_again and again.id == item.id and item.comment == "Cold soup"
        with pytest.raises(FeedbackRefused):
            await feedback.submit(session, kim, "  ", source_ref="msg:100:6", now=clock.now())

        await feedback.claim(session, item, 7, clock.now())
        await feedback.claim(session, item, 7, clock.now())  # claiming your own again is fine
        with pytest.raises(FeedbackRefused) as refused:
            await feedback.claim(session, item, 8, clock.now())
        assert refused.value.code == "feedback.claimed_by_other"

        task = await feedback.call_back(session, item, 8, clock.now(), config, "Call Kim")
        same = await feedback.call_back(session, item, 8, clock.now(), config, "Call Kim")
        assert same.id == task.id and item.follow_up_id == task.id
        assert task.due_at == clock.now().replace(hour=13) and task.assignee_id == 7 and task.kind == "call"
        assert await session.scalar(select(func.count()).select_from(FollowUp)) == 1

        await feedback.set_card(session, item, -100, 55)
        assert await feedback.find_by_message(session, -100, 55) == item
        relay = await feedback.record_relay(
            session,
            item,
            direction="to_customer",
            author_id=7,
            source_chat_id=-100,
            source_message_id=60,
            text="Sorry!",
            now=clock.now(),
        )
        assert relay is not None
        duplicate = await feedback.record_relay(
            session,
            item,
            direction="to_customer",
            author_id=7,
            source_chat_id=-100,
            source_message_id=60,
            text="Sorry!",
            now=clock.now(),
        )
        assert duplicate is None
        await feedback.set_relayed(session, relay, 100, 9)
        found = await feedback.find_by_message(session, 100, 9)
        assert isinstance(found, Relay) and found.item.id == item.id
        assert await feedback.find_by_message(session, 100, 10) is None
        [listed] = await feedback.open_items(session)
        assert (listed.id, listed.first_name, listed.status) == (item.id, "Kim", "claimed")

        await feedback.resolve(session, item, 7, clock.now())
        await feedback.set_resolution(session, item, "Refunded")
        with pytest.raises(FeedbackRefused):
            await feedback.resolve(session, item, 7, clock.now())
        with pytest.raises(FeedbackRefused):
            await feedback.call_back(session, item, 7, clock.now(), config, "x")
        assert (item.status, item.resolution) == ("resolved", "Refunded")
        assert await feedback.open_items(session) == []


async def _many_items(session: AsyncSession, clock: FakeClock, count: int, start: int) -> None:
    for n in range(start, start + count):
        person = await customers.join(session, TelegramProfile(n, f"Kim{n}", "Lee"), Config(), clock.now())
        await feedback.submit(session, person, f"Cold soup {n}", source_ref=f"msg:{n}:1", now=clock.now())


async def test_the_open_list_is_one_query_however_long(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    counts = []
    async with sessions.begin() as session:
        for start, count in ((100, 2), (200, 40)):
            await _many_items(session, clock, count, start)
            await session.flush()
            with statements(engine) as sent:
                lines = await feedback.open_items(session, limit=1000)
            counts.append(len(sent))
    assert counts == [1, 1] and len(lines) == 42
    assert (lines[0].first_name, lines[0].last_name, lines[0].comment) == ("Kim100", "Lee", "Cold soup 100")
    assert lines[-1].status == "open"


async def test_a_card_is_one_query_with_every_name(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessions.begin() as session:
        await staff.role_in_staff_group(session, 7, "Olga", "olga")
        kim = await customers.join(
            session, TelegramProfile(100, "Kim", username="kim"), Config(), clock.now()
        )
        survey = Survey(name="visit", kind="nps", questions=[])
        session.add(survey)
        await session.flush()
        item, _ = await feedback.flag_detractor(
            session,
            customer_id=kim.id,
            survey_id=survey.id,
            invitation_id=1,
            score_kind="nps",
            score=3,
            now=clock.now(),
        )
        task = await feedback.call_back(session, item, 7, clock.now(), SurveyConfig(), "Call Kim")
        await feedback.resolve(session, item, 99, clock.now())  # 99 is not on the staff (any more)
        await feedback.set_resolution(session, item, "Refunded")
        with statements(engine) as sent:
            card = await feedback.card(session, item.id)
        assert len(sent) == 1
        assert card is not None and await feedback.card(session, item.id + 1) is None
    assert (card.kind, card.score_kind, card.score, card.survey_name) == ("detractor", "nps", 3, "visit")
    assert (card.first_name, card.username, card.customer_id) == ("Kim", "kim", kim.id)
    assert (card.claimed_by, card.resolved_by, card.resolution) == ("Olga", "99", "Refunded")
    assert (card.follow_up_id, card.follow_up_due_at, card.status) == (task.id, task.due_at, "resolved")


async def test_card_and_relay_recorded_by_id_in_a_later_transaction(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    """Decide and commit, then talk: the item and the relay are committed first; where their messages
    went is recorded afterwards, in a short transaction of its own, by id."""
    async with sessions.begin() as session:
        kim = await customers.join(session, TelegramProfile(100, "Kim"), Config(), clock.now())
        item, _ = await feedback.submit(session, kim, "Cold soup", source_ref="msg:100:5", now=clock.now())
        relay = await feedback.record_relay(
            session,
            item,
            direction="to_staff",
            author_id=100,
            source_chat_id=100,
            source_message_id=6,
            text="Still cold",
            now=clock.now(),
        )
        assert relay is not None
    async with sessions.begin() as session:
        await feedback.card_posted(session, item.id, -100, 55)
        await feedback.relayed(session, relay.id, -100, 56)
    async with sessions.begin() as session:
        card = await feedback.find_by_message(session, -100, 55)
        answer = await feedback.find_by_message(session, -100, 56)
    assert isinstance(card, type(item)) and card.id == item.id
    assert isinstance(answer, Relay) and answer.message.id == relay.id and answer.item.id == item.id


async def test_the_open_list_puts_the_most_valuable_customers_first(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    from decimal import Decimal

    from storage.insight.models import CustomerScore

    async with sessions.begin() as session:
        small, key, unscored = [
            await customers.join(session, TelegramProfile(900 + n, f"P{n}"), Config(), clock.now())
            for n in range(3)
        ]
        for person in (small, unscored, key):  # written in this order: oldest first would be small
            await feedback.submit(session, person, "help", source_ref=f"msg:{person.id}", now=clock.now())
        for person, level in ((small, "small"), (key, "key")):
            session.add(
                CustomerScore(
                    customer_id=person.id,
                    last_purchase_at=clock.now(),
                    purchases=1,
                    recency_days=1,
                    frequency=1,
                    monetary=Decimal(1),
                    r_score=3,
                    f_score=3,
                    m_score=3,
                    segment="new",
                    level=level,
                    p_alive=1.0,
                    expected_purchases_90d=0.1,
                    clv_12m=Decimal(1),
                    scored_at=clock.now(),
                )
            )
    async with sessions.begin() as session:
        listed = await feedback.open_items(session)
    assert [(line.first_name, line.level) for line in listed] == [
        ("P1", "key"),
        ("P0", "small"),
        ("P2", None),
    ]
