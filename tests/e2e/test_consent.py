"""Consent has a version and can be withdrawn: a customer who withdrew gets no campaign (counted as
opted out), staff see it on the card, and /privacy gives it back; a customer who accepted an earlier
privacy notice gets the new notice instead of the next campaign, accepts it, and gets the one after."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select, update

from storage.campaigns.models import Campaign
from storage.core import bulk
from storage.core.clock import FakeClock
from storage.core.models import AuditEntry, BulkJob
from storage.people import consent
from storage.people.models import Customer
from tests.databases import new_database_url
from tests.e2e.harness import Harness
from tests.emulator import BotApiEmulator, UserDriver

pytestmark = pytest.mark.strict_transactions


@pytest.fixture
async def harness(emu: BotApiEmulator, tmp_path: Path, clock: FakeClock) -> AsyncIterator[Harness]:
    h = Harness(emu, await new_database_url("sqlite", tmp_path), clock, CAMPAIGN_HOLDOUT="0")
    await h.start()
    yield h
    await h.stop()


async def _campaign(harness: Harness, name: str, text: str) -> None:
    """Draft, preview, confirm and fan out a campaign to everyone; deliver it."""
    group, owner = harness.staff_group, harness.owner
    await owner.send(f"/campaign new {name} | all | {text}", chat=group)
    await owner.send(f"/campaign preview {name}", chat=group)
    await owner.press("✅ Confirm", chat=group)
    for _ in range(10):
        await harness.tick("bulk")
        await harness.run_outbox()
        harness.clock.advance(seconds=6)
        async with harness.sessions.begin() as session:
            campaign_id = await session.scalar(select(Campaign.id).where(Campaign.name == name))
            job = await session.scalar(select(BulkJob).where(BulkJob.key.endswith(f":{campaign_id}")))
        if job is not None and job.state == bulk.DONE:
            break
    await harness.run_outbox()
    harness.clock.advance(seconds=6)
    await harness.tick("bulk")  # the progress message's last edit


def _texts(person: UserDriver) -> list[str]:
    return [m.text for m in person.messages()]


async def _id(harness: Harness, person: UserDriver) -> int:
    async with harness.sessions.begin() as session:
        return await session.scalar(select(Customer.id).where(Customer.telegram_id == person.user_id))


async def test_withdrawn_consent_stops_campaigns_and_can_be_given_again(harness: Harness) -> None:
    kim, lee = harness.customer(401, "Kim", username="kimmy"), harness.customer(402, "Lee")
    await harness.join(kim)
    await harness.join(lee)

    await kim.send("/privacy")
    assert "Consent: given on" in kim.last().text
    await kim.press("✋ Withdraw my consent")
    assert "Withdraw your consent?" in kim.last().text and "points and vouchers stay yours" in kim.last().text
    await kim.press("✋ Yes, withdraw")
    assert "your consent is withdrawn" in kim.last().text
    assert kim.last().buttons == []

    await _campaign(harness, "winter", "Winter sale!")
    assert "Winter sale!" in _texts(lee)
    assert "Winter sale!" not in _texts(kim)
    assert not any("privacy notice has changed" in t for t in _texts(kim))  # withdrawn: never nagged
    summary = harness.owner.last(chat=harness.staff_group).text
    assert "1 sent" in summary and "1 opted out" in summary, summary

    await harness.agent.send("/find @kimmy", chat=harness.staff_group)
    assert "Consent withdrawn on" in harness.agent.last(chat=harness.staff_group).text

    await kim.send("/start")  # the way back: the notice again, with Accept
    assert "you withdrew your consent" in kim.last().text and "Privacy" in kim.last().text
    await kim.send("/privacy")
    assert "Consent: withdrawn on" in kim.last().text
    await kim.press("✅ Give my consent again")
    assert "Privacy" in kim.last().text
    await kim.press("✅ Accept")
    assert kim.last().text == "Thank you, Kim! You're all set."
    await _campaign(harness, "spring", "Spring sale!")
    assert "Spring sale!" in _texts(kim)
    async with harness.sessions.begin() as session:
        actions = list(
            await session.scalars(
                select(AuditEntry.action).where(AuditEntry.actor_id == kim.user_id).order_by(AuditEntry.id)
            )
        )
    assert actions == ["consent withdraw", "consent accept"]


async def test_an_earlier_notice_is_asked_again_before_the_next_campaign(harness: Harness) -> None:
    kim, lee = harness.customer(411, "Kim", language_code="zh"), harness.customer(412, "Lee")
    await harness.join(kim, "zh")
    await harness.join(lee)
    kim_id = await _id(harness, kim)
    async with harness.sessions.begin() as session:  # Kim accepted the notice before it last changed
        await session.execute(update(Customer).where(Customer.id == kim_id).values(consent_version="1"))

    await _campaign(harness, "winter", "Winter sale! | 冬季促销！")
    assert "冬季促销！" not in _texts(kim) and "Winter sale!" in _texts(lee)
    asked = [m for m in kim.messages() if "隐私声明已更新" in m.text]
    assert len(asked) == 1 and asked[0].buttons == [["📄 阅读声明"]]
    await _campaign(harness, "autumn", "Autumn! | 秋季！")
    assert len([t for t in _texts(kim) if "隐私声明已更新" in t]) == 1  # asked once per version

    await kim.press("📄 阅读声明", message=asked[0])
    shown = kim.last()
    assert "隐私说明" in shown.text and "撤回同意" in shown.text and shown.buttons == [["✅ 同意"]]
    await kim.press("✅ 同意")
    assert kim.last().text == "谢谢您，Kim！一切就绪。"
    async with harness.sessions.begin() as session:
        customer = await session.get(Customer, kim_id)
        assert customer is not None and customer.consent_version == consent.NOTICE_VERSION
    await _campaign(harness, "spring", "Spring! | 春季！")
    assert "春季！" in _texts(kim)
