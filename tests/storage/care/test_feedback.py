"""Feedback items: submitted once per message, claimed by one member, a call-back task once,
resolved once; relayed messages found again from the message a reply points at."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.care import feedback
from storage.care.feedback import FeedbackRefused, Relay
from storage.care.models import FollowUp
from storage.core.clock import FakeClock
from storage.core.config import Config, SurveyConfig
from storage.people import customers
from storage.people.customers import TelegramProfile


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
        [(listed, customer)] = await feedback.open_items(session)
        assert listed.id == item.id and customer.id == item.customer_id

        await feedback.resolve(session, item, 7, clock.now())
        await feedback.set_resolution(session, item, "Refunded")
        with pytest.raises(FeedbackRefused):
            await feedback.resolve(session, item, 7, clock.now())
        with pytest.raises(FeedbackRefused):
            await feedback.call_back(session, item, 7, clock.now(), config, "x")
        assert (item.status, item.resolution) == ("resolved", "Refunded")
        assert await feedback.open_items(session) == []
