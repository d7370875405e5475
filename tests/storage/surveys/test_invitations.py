"""Survey storage: invitations with throttling and expiry, answers recorded once, the reward paid once,
detractors flagged, /survey's general survey, and the statistics data."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.care.models import FeedbackItem
from storage.core.clock import FakeClock
from storage.core.config import Config, LoyaltyConfig, SurveyConfig
from storage.loyalty import ledger, purchases
from storage.loyalty.models import LedgerEntry
from storage.loyalty.tiers import add_months
from storage.people import customers
from storage.people.customers import TelegramProfile
from storage.people.models import Customer, OutboxMessage
from storage.surveys import answers, audiences, invitations
from storage.surveys.definitions import builtin, parse_lines
from storage.surveys.invitations import InviteOutcome, SurveyRefused
from storage.surveys.models import Survey, SurveyAnswer

CONFIG = SurveyConfig(throttle_days=30, expire_days=7, reward_points=15)
LOYALTY = LoyaltyConfig(expiry_months=12)


async def record(*args: Any, **kwargs: Any) -> answers.SurveyProgress:
    return await answers.answer(*args, loyalty=LOYALTY, **kwargs)


async def _customer(session: AsyncSession, clock: FakeClock, tid: int, name: str = "Kim") -> Customer:
    return await customers.join(session, TelegramProfile(tid, name), Config(), clock.now())


async def _survey(session: AsyncSession, clock: FakeClock, name: str, kind: str = "csat") -> Survey:
    await invitations.create(session, builtin(name, kind), created_by=1, now=clock.now())
    return await invitations.activate(session, name, clock.now())


async def _token(session: AsyncSession, customer: Customer) -> str:
    row = await session.scalar(
        select(OutboxMessage)
        .where(OutboxMessage.customer_id == customer.id)
        .order_by(OutboxMessage.id.desc())
    )
    assert row is not None and row.buttons
    parsed = invitations.parse_data(row.buttons[0][0][1])
    assert parsed is not None
    return parsed[0]


async def test_invitation_goes_through_the_outbox_with_answer_buttons(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessions.begin() as session:
        kim = await _customer(session, clock, 100)
        survey = await _survey(session, clock, "service")
        assert (
            await invitations.invite(session, survey, kim, clock.now(), "purchase:1", config=CONFIG)
            == "invited"
        )
        assert (
            await invitations.invite(session, survey, kim, clock.now(), "purchase:1", config=CONFIG)
            == "duplicate"
        )
        row = await session.scalar(select(OutboxMessage))
    assert row is not None and row.template == "surveys.csat_question" and row.chat_id == 100
    assert [b[0][0] for b in row.buttons] == ["⭐⭐⭐⭐⭐", "⭐⭐⭐⭐", "⭐⭐⭐", "⭐⭐", "⭐"]
    assert all(len(b[0][1].encode()) <= 64 for b in row.buttons)


async def test_throttle_across_two_surveys_inside_the_window(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessions.begin() as session:
        kim = await _customer(session, clock, 100)
        csat = await _survey(session, clock, "service", "csat")
        nps = await _survey(session, clock, "loyalty", "nps")
        assert (
            await invitations.invite(session, csat, kim, clock.now(), "a", config=CONFIG)
            == InviteOutcome.INVITED
        )
    clock.advance(days=29)
    async with sessions.begin() as session:
        assert (
            await invitations.invite(session, nps, kim, clock.now(), "b", config=CONFIG)
            == InviteOutcome.THROTTLED
        )
        queued = await session.scalar(select(func.count()).select_from(OutboxMessage))
    assert queued == 1  # skipped, not queued for later
    clock.advance(days=1, seconds=1)
    async with sessions.begin() as session:
        assert (
            await invitations.invite(session, nps, kim, clock.now(), "b", config=CONFIG)
            == InviteOutcome.INVITED
        )


async def test_invite_many_counts_outcomes_and_a_second_call_invites_nobody_twice(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessions.begin() as session:
        a = await _customer(session, clock, 100, "Ann")
        b = await _customer(session, clock, 101, "Bob")
        c = await _customer(session, clock, 102, "Cid")
        c.unreachable_at = clock.now()
        survey = await _survey(session, clock, "service")
        other = await _survey(session, clock, "other", "nps")
        await invitations.invite(session, other, b, clock.now(), "earlier", config=CONFIG)
        ids = (
            await audiences.resolve(session, audiences.parse("all"), clock.now(), LoyaltyConfig())
        ).customer_ids
        assert await invitations.preview(session, ids, clock.now(), CONFIG) == {
            "invited": 1,
            "throttled": 1,
            "unreachable": 1,
        }
        keys = {cid: f"send:x1:{cid}" for cid in ids}
        counts = await invitations.invite_many(session, survey, keys, clock.now(), config=CONFIG)
        assert counts == {a.id: "invited", b.id: "throttled", c.id: "unreachable"}
        again = await invitations.invite_many(session, survey, keys, clock.now(), config=CONFIG)
        assert again == {a.id: "duplicate", b.id: "throttled", c.id: "unreachable"}
        invited = await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.customer_id == a.id)
        )
    assert invited == 1


async def test_csat_answers_complete_once_and_pay_once(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessions.begin() as session:
        kim = await _customer(session, clock, 100)
        survey = await _survey(session, clock, "service")
        await invitations.invite(session, survey, kim, clock.now(), "p1", config=CONFIG)
        token = await _token(session, kim)
    answer = dict(telegram_id=100, now=clock.now(), config=CONFIG)
    async with sessions.begin() as session:
        with pytest.raises(SurveyRefused) as refused:
            await record(session, token, 0, "5", telegram_id=999, now=clock.now(), config=CONFIG)
        assert refused.value.code == "button.not_yours"
        with pytest.raises(SurveyRefused) as refused:
            await record(session, token, 0, "9", **answer)
        assert refused.value.code == "surveys.bad_answer"
        first = await record(session, token, 0, "5", **answer)
        assert first.outcome == "next" and first.invitation.position == 1 and first.feedback is None
        again = await record(session, token, 0, "4", **answer)
        assert again.outcome == "already"
        wants_text = await record(session, token, 1, "w", **answer)
        assert wants_text.outcome == "write"
        done = await record(session, token, 1, "", text="Lovely <b>staff</b>", **answer)
        assert done.outcome == "done" and done.reward == 15
        twice = await record(session, token, 1, "s", **answer)
        assert twice.outcome == "already" and twice.reward == 0
        assert await ledger.balance(session, kim.id) == 15
        # The reward expires like every other point (it never did, silently).
        lot = await session.scalar(select(LedgerEntry).where(LedgerEntry.kind == "survey"))
        assert lot.expires_at == add_months(clock.now(), 12)
        stored = [
            (a.kind, a.score, a.text)
            for a in await session.scalars(select(SurveyAnswer).order_by(SurveyAnswer.id))
        ]
    assert stored == [("csat", 5, None), ("text", None, "Lovely <b>staff</b>")]

    # Invited again after the window: answering again pays nothing more for the same survey.
    clock.advance(days=31)
    async with sessions.begin() as session:
        await invitations.invite(session, survey, kim, clock.now(), "p2", config=CONFIG)
        token2 = await _token(session, kim)
        await record(session, token2, 0, "4", telegram_id=100, now=clock.now(), config=CONFIG)
        last = await record(session, token2, 1, "s", telegram_id=100, now=clock.now(), config=CONFIG)
        assert last.outcome == "done" and last.reward == 0
        entries = await session.scalar(select(func.count()).select_from(LedgerEntry))
    assert entries == 1


async def test_detractor_flags_feedback_and_the_comment_joins_it(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessions.begin() as session:
        kim = await _customer(session, clock, 100)
        survey = await _survey(session, clock, "loyalty", "nps")
        await invitations.invite(session, survey, kim, clock.now(), "p1", config=CONFIG)
        token = await _token(session, kim)
        low = await record(session, token, 0, "6", telegram_id=100, now=clock.now(), config=CONFIG)
        assert low.feedback is not None and low.feedback_created
        assert (low.feedback.kind, low.feedback.score_kind, low.feedback.score) == ("detractor", "nps", 6)
        done = await record(
            session, token, 1, "", text="Too slow", telegram_id=100, now=clock.now(), config=CONFIG
        )
        assert done.feedback is not None and done.feedback.id == low.feedback.id
        assert done.feedback.comment == "Too slow" and not done.feedback_created
        # A passive (7) flags nothing.
        other = await _customer(session, clock, 101, "Bob")
        await invitations.invite(session, survey, other, clock.now(), "p2", config=CONFIG)
        passive = await record(
            session, await _token(session, other), 0, "7", telegram_id=101, now=clock.now(), config=CONFIG
        )
        assert passive.feedback is None
        assert await session.scalar(select(func.count()).select_from(FeedbackItem)) == 1


async def test_closed_and_expired_surveys_refuse_answers(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessions.begin() as session:
        kim = await _customer(session, clock, 100)
        bob = await _customer(session, clock, 101, "Bob")
        survey = await _survey(session, clock, "service")
        await invitations.invite(session, survey, kim, clock.now(), "k", config=CONFIG)
        kim_token = await _token(session, kim)
        with pytest.raises(SurveyRefused) as refused:
            await record(session, "nosuchtok", 0, "5", telegram_id=100, now=clock.now(), config=CONFIG)
        assert refused.value.code == "button.stale"
    clock.advance(days=7)
    async with sessions.begin() as session:
        with pytest.raises(SurveyRefused) as refused:
            await record(session, kim_token, 0, "5", telegram_id=100, now=clock.now(), config=CONFIG)
        assert refused.value.code == "surveys.closed"
        await invitations.invite(session, survey, bob, clock.now(), "b", config=CONFIG)
        bob_token = await _token(session, bob)
        survey = await invitations.close(session, "service", clock.now())
        with pytest.raises(SurveyRefused) as refused:
            await record(session, bob_token, 0, "5", telegram_id=101, now=clock.now(), config=CONFIG)
        assert refused.value.code == "surveys.closed"
        assert await invitations.invite(session, survey, kim, clock.now(), "k2", config=CONFIG) == "closed"


async def test_custom_survey_choice_rating_and_skips(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    definition = parse_lines("lunch", "rating 0-10 Food?\nchoice Dish? | Rice | Soup\ntext? More?")
    async with sessions.begin() as session:
        kim = await _customer(session, clock, 100)
        await invitations.create(session, definition, created_by=1, now=clock.now())
        await invitations.activate(session, "lunch", clock.now())
        invitation, survey = await invitations.open_for_customer(session, kim, clock.now(), CONFIG)
        same, _ = await invitations.open_for_customer(session, kim, clock.now(), CONFIG)
        assert same.id == invitation.id  # an unfinished survey continues
        await invitations.message_sent(session, invitation.id, 100, 77)  # where it is shown, by id
        await session.refresh(invitation)
        assert (invitation.chat_id, invitation.message_id) == (100, 77)
        keyboard = invitations.question_keyboard(invitation.token, 1, survey.questions[1])
        assert [row[0][0] for row in keyboard] == ["Rice", "Soup"]
        args = dict(telegram_id=100, now=clock.now(), config=CONFIG)
        with pytest.raises(SurveyRefused):
            await record(session, invitation.token, 0, "s", **args)  # not optional
        with pytest.raises(SurveyRefused):
            await record(session, invitation.token, 2, "s", **args)  # not reached yet
        await record(session, invitation.token, 0, "0", **args)  # 0 on a rating is no detractor
        await record(session, invitation.token, 1, "1", **args)
        done = await record(session, invitation.token, 2, "s", **args)
        assert done.outcome == "done" and done.reward == 15
        with pytest.raises(SurveyRefused) as refused:
            await invitations.open_for_customer(session, kim, clock.now(), CONFIG)
        assert refused.value.code == "surveys.already_answered"
        rows = [
            (a.kind, a.score, a.skipped)
            for a in await session.scalars(select(SurveyAnswer).order_by(SurveyAnswer.id))
        ]
        assert rows == [("rating", 0, False), ("choice", 1, False), ("text", None, True)]
        assert await session.scalar(select(func.count()).select_from(FeedbackItem)) == 0


async def test_general_survey_and_stats_data(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessions.begin() as session:
        kim = await _customer(session, clock, 100)
        bob = await _customer(session, clock, 101, "Bob")
        with pytest.raises(SurveyRefused):
            await invitations.open_for_customer(session, kim, clock.now(), CONFIG)
        nps = await _survey(session, clock, "loyalty", "nps")
        clock.advance(minutes=1)
        await _survey(session, clock, "service", "csat")
        assert (await invitations.general_survey(session)).name == "service"  # the latest activated
        await invitations.make_general(session, "loyalty")
        assert (await invitations.general_survey(session)).name == "loyalty"
        await invitations.invite(session, nps, kim, clock.now(), "k", config=CONFIG)
        await invitations.invite(session, nps, bob, clock.now(), "b", config=CONFIG)
        await record(
            session, await _token(session, kim), 0, "9", telegram_id=100, now=clock.now(), config=CONFIG
        )
        data = await answers.stats_data(
            session, clock.now() - timedelta(days=1), clock.now() + timedelta(days=1)
        )
        assert (data.invited, data.responded) == (2, 1)
        assert [(s.kind, s.score) for s in data.scores] == [("nps", 9)]
        listed = {
            entry.survey.name: (entry.invited, entry.completed)
            for entry in await invitations.list_surveys(session)
        }
        assert listed == {"loyalty": (2, 0), "service": (0, 0)}
        with pytest.raises(SurveyRefused):
            await invitations.create(session, builtin("loyalty", "csat"), created_by=1, now=clock.now())


async def test_audiences_parse_and_resolve(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    assert audiences.parse("all").kind == "all"
    assert audiences.parse("tier Gold") == audiences.Audience("tier", tier="gold")
    assert audiences.parse("purchased 30d") == audiences.Audience("purchased", days=30)
    assert audiences.parse("#1, @kim 100").references == ("#1", "@kim", "100")
    for bad, code in [
        ("", "surveys.audience_missing"),
        ("purchased 30", "surveys.audience_purchased_syntax"),
        ("tier", "surveys.audience_tier_syntax"),
        ("everyone", "surveys.audience_unknown"),
    ]:
        with pytest.raises(audiences.AudienceError) as error:
            audiences.parse(bad)
        assert error.value.code == code
    async with sessions.begin() as session:
        kim = await customers.join(
            session, TelegramProfile(100, "Kim", username="kim"), Config(), clock.now()
        )
        loyalty = LoyaltyConfig()
        resolved = await audiences.resolve(session, audiences.parse("@kim #999 100"), clock.now(), loyalty)
        assert resolved.customer_ids == [kim.id] and resolved.unknown == ["#999"]
        with pytest.raises(audiences.AudienceError) as error:
            await audiences.resolve(session, audiences.parse("tier platinum"), clock.now(), loyalty)
        assert error.value.code == "surveys.audience_unknown_tier"


async def test_tier_and_purchase_audiences(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    loyalty = LoyaltyConfig()
    async with sessions.begin() as session:
        kim = await customers.join(session, TelegramProfile(100, "Kim"), Config(), clock.now())
        lee = await customers.join(session, TelegramProfile(101, "Lee"), Config(), clock.now())
        await customers.join(session, TelegramProfile(102, "Max"), Config(), clock.now())
        # Kim spends 600 (Silver) today; Lee bought 40 days ago (Member).
        await purchases.record(
            session, kim, amount=Decimal("600"), reference="p1", now=clock.now(), config=loyalty
        )
        past = clock.now() - timedelta(days=40)
        await purchases.record(session, lee, amount=Decimal("10"), reference="p2", now=past, config=loyalty)

    async def ids(text: str) -> list[int]:
        async with sessions.begin() as session:
            return (
                await audiences.resolve(session, audiences.parse(text), clock.now(), loyalty)
            ).customer_ids

    assert await ids("tier silver") == [kim.id]
    assert await ids("tier member") == [lee.id, kim.id + 2]
    assert await ids("tier gold") == []
    assert await ids("purchased 30d") == [kim.id]
    assert await ids("purchased 60d") == [kim.id, lee.id]

    async def paged(text: str) -> list[int]:
        """The audience a page of one at a time, as a bulk job reads it."""
        found, after = [], 0
        async with sessions.begin() as session:
            while True:
                page = await audiences.page(
                    session, audiences.parse(text), after=after, limit=1, now=clock.now(), loyalty=loyalty
                )
                found += page.customer_ids
                if page.read < 1:
                    return found
                after = page.last

    for text in (
        "all",
        "tier silver",
        "tier member",
        "tier gold",
        "purchased 60d",
        f"#{lee.id} #{kim.id} #999",
    ):
        expected = sorted(await ids(text)) if text != "all" else [kim.id, lee.id, kim.id + 2]
        assert await paged(text) == expected, text
