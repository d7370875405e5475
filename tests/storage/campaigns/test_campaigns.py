"""Campaigns in storage: drafts checked before anything is stored; the hold-out drawn reproducibly
(the same people on every run, about the share asked); the fan-out as a bulk job that decides each
customer once even when a batch is done twice; the offer claimed exactly once, within stock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import background
from storage.campaigns import drafts, fanout, holdout, offers, report
from storage.campaigns.drafts import CampaignRefused
from storage.campaigns.models import CampaignMember
from storage.core import bulk
from storage.core.config import BulkConfig, Config, ContactConfig
from storage.core.models import BulkJob
from storage.core.refusals import Refused
from storage.loyalty import rewards
from storage.loyalty.models import Voucher
from storage.loyalty.redemptions import RedemptionRefused
from storage.people import customers, preferences
from storage.people.customers import TelegramProfile
from storage.people.models import Customer, OutboxMessage

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
CONFIG = Config(bulk=BulkConfig(batch=7), contact=ContactConfig(budget=2, days=7, holdout_percent=30))


def test_the_holdout_is_reproducible_and_about_the_share_asked() -> None:
    first = [c for c in range(1, 20_001) if holdout.held_out(5, c, 10)]
    assert first == [c for c in range(1, 20_001) if holdout.held_out(5, c, 10)]
    assert 1_800 <= len(first) <= 2_200
    other = {c for c in range(1, 20_001) if holdout.held_out(6, c, 10)}
    assert len(other & set(first)) < 400  # another campaign holds out other people
    assert not any(holdout.held_out(5, c, 0) for c in range(1, 1000))


@pytest.mark.parametrize(
    ("line", "code"),
    [
        ("spring | all", "campaigns.usage"),
        ("Spring Sale! | all | hi", "campaigns.bad_name"),
        ("spring | tier | hi", "surveys.audience_tier_syntax"),
        ("spring | all | <b>hi", "html.unclosed"),
        ("spring | all | <script>x</script>", "html.bad_tag"),
        ("spring | all | a & b", "html.bare"),
        ("spring | all | " + "x" * 4097, "html.too_long"),
        ("spring | all | hi | holdout 95", "campaigns.bad_holdout"),
        ("spring | all | en | zh | third", "campaigns.usage"),
    ],
)
def test_a_bad_draft_is_refused_with_its_reason(line: str, code: str) -> None:
    with pytest.raises(Refused) as refused:
        drafts.parse(line)
    assert refused.value.code == code


def test_a_draft_reads_texts_by_language_and_its_options() -> None:
    draft = drafts.parse("Spring | purchased 30d | <b>Sale</b> &amp; more | 促销 | offer #3 | holdout 5%")
    assert draft.name == "spring" and draft.audience == "purchased 30d"
    assert draft.texts == {"en": "<b>Sale</b> &amp; more", "zh": "促销"}
    assert (draft.offer, draft.holdout_percent) == ("#3", 5)


async def _business(sessions: async_sessionmaker[AsyncSession], people: int = 20) -> list[int]:
    async with sessions.begin() as session:
        ids = [
            (await customers.join(session, TelegramProfile(800 + n, f"K{n}"), CONFIG, NOW)).id
            for n in range(people)
        ]
        await rewards.add(
            session, {"title": "Coffee", "cost": "50", "stock": "3", "limit": "1"}, CONFIG.loyalty, NOW
        )
    return ids


async def _fan_out(sessions: async_sessionmaker[AsyncSession]) -> None:
    while True:
        async with sessions.begin() as session:
            _, job = await background.run_batch(session, NOW, CONFIG, limit=CONFIG.bulk.batch)
        if job is None or job.state == bulk.DONE:
            return


async def test_the_fan_out_decides_each_customer_once_and_holds_out_the_same_people(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    ids = await _business(sessions)
    async with sessions.begin() as session:
        await preferences.choose(session, ids[0], preferences.OFFERS, False, NOW)
        await session.execute(update(Customer).where(Customer.id == ids[1]).values(unreachable_at=NOW))
        campaign = await drafts.create(
            session,
            drafts.parse("spring | all | Hi | 你好 | offer Coffee"),
            created_by=1,
            now=NOW,
            holdout_percent=30,
        )
        counts = await fanout.preview(session, campaign, ids, NOW, CONFIG)
        await fanout.start(
            session,
            campaign,
            requested_by=1,
            language="en",
            now=NOW,
            total=len(ids),
            chat_id=None,
            message_id=None,
        )
        with pytest.raises(CampaignRefused):  # sent once
            await fanout.start(
                session,
                campaign,
                requested_by=1,
                language="en",
                now=NOW,
                total=1,
                chat_id=None,
                message_id=None,
            )
    await _fan_out(sessions)
    held = sorted(c for c in ids[2:] if holdout.held_out(campaign.id, c, 30))
    async with sessions.begin() as session:
        decided = dict(
            (await session.execute(select(CampaignMember.customer_id, CampaignMember.outcome))).all()
        )
        queued = await session.scalar(select(func.count()).select_from(OutboxMessage))
    assert decided[ids[0]] == "opted_out" and decided[ids[1]] == "unreachable"
    assert sorted(c for c, o in decided.items() if o == "held_out") == held
    assert queued == len(ids) - 2 - len(held)
    assert counts["audience"] == len(ids) and counts["held_out"] == len(held) and counts["sent"] == queued
    # The job's cursor lost and its decisions forgotten: a second run decides the same, queues nothing twice.
    async with sessions.begin() as session:
        await session.execute(delete(CampaignMember))
        await session.execute(update(BulkJob).values(cursor=0, state=bulk.RUNNING, due_at=NOW))
    await _fan_out(sessions)
    async with sessions.begin() as session:
        again = dict(
            (await session.execute(select(CampaignMember.customer_id, CampaignMember.outcome))).all()
        )
        assert again == decided
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == queued
        row = await session.scalar(select(OutboxMessage).order_by(OutboxMessage.id).limit(1))
        assert row.params == {"html_text": "Hi"}
        assert row.buttons[-1] == [["@preferences.stop_offers", "pf:stop"]]

    # The offer: once per recipient whatever the presses; stock holds; no points needed.
    recipients = sorted(c for c, o in decided.items() if o == "sent")
    async with sessions.begin() as session:
        kim = await session.get(Customer, recipients[0])
        first = await offers.claim(session, kim, campaign.id, now=NOW, config=CONFIG.loyalty)
        second = await offers.claim(session, kim, campaign.id, now=NOW, config=CONFIG.loyalty)
        assert not first.replayed and second.replayed and first.voucher.id == second.voucher.id
        assert first.voucher.points == 0
    for cid in recipients[1:3]:
        async with sessions.begin() as session:
            await offers.claim(
                session, await session.get(Customer, cid), campaign.id, now=NOW, config=CONFIG.loyalty
            )
    with pytest.raises(RedemptionRefused) as refused:
        async with sessions.begin() as session:
            await offers.claim(
                session,
                await session.get(Customer, recipients[3]),
                campaign.id,
                now=NOW,
                config=CONFIG.loyalty,
            )
    assert refused.value.code == "reward.refused_stock"
    with pytest.raises(CampaignRefused):  # held out: no offer for them
        async with sessions.begin() as session:
            await offers.claim(
                session, await session.get(Customer, held[0]), campaign.id, now=NOW, config=CONFIG.loyalty
            )
    async with sessions.begin() as session:
        assert await session.scalar(select(func.count()).select_from(Voucher)) == 3
        built = await report.build(session, campaign, NOW)
    assert (
        built.claimed == 3 and built.outcomes["sent"] == len(recipients) and built.pending == len(recipients)
    )
    assert built.holdout.members == len(held)
