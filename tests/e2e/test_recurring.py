"""Recurring duties end to end through the emulator, in virtual time: a welcome offer reaches a new
customer 24 hours after they join (once, and its offer is claimed once); a Spring Festival campaign goes
out on that day (the lunar date of that year) and is listed with its next date; the weekly staff
summary is posted in the staff group once per week, whatever the ticks and restarts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from storage.core.clock import FakeClock
from storage.loyalty.models import Voucher
from storage.people import customers
from storage.people.customers import TelegramProfile
from storage.people.models import OutboxMessage
from tests.databases import new_database_url
from tests.e2e.harness import Harness
from tests.emulator import BotApiEmulator, UserDriver

pytestmark = pytest.mark.strict_transactions

CLAIM = "🎁 Claim the offer"


async def _harness(emu: BotApiEmulator, tmp_path: Path, clock: FakeClock, **env: str) -> Harness:
    h = Harness(emu, await new_database_url("sqlite", tmp_path), clock, **env)
    await h.start()
    return h


@pytest.fixture
async def harness(emu: BotApiEmulator, tmp_path: Path, clock: FakeClock) -> AsyncIterator[Harness]:
    h = await _harness(emu, tmp_path, clock, CAMPAIGN_HOLDOUT="0")
    yield h
    await h.stop()


def _got(person: UserDriver, text: str) -> list:
    return [m for m in person.messages() if text in m.text]


async def test_a_new_customer_gets_the_welcome_offer_a_day_later_and_claims_it_once(harness: Harness) -> None:
    group, owner = harness.staff_group, harness.owner
    await owner.send("/reward add title=Coffee | cost=50 | stock=100 | limit=1", chat=group)
    await owner.send(
        "/campaign new hello | all | Welcome! Your first coffee is on us | 欢迎！ | offer Coffee", chat=group
    )
    await owner.send("/campaign repeat hello welcome soon", chat=group)
    assert "hours after joining" in owner.last(chat=group).text
    await owner.send("/campaign repeat hello welcome 24h", chat=group)
    assert "Nothing goes out until you start it" in owner.last(chat=group).text
    # Joined more than a day before the offer was active (their welcome time has passed): not welcomed.
    early = harness.customer(6100, "Early")
    await harness.join(early)
    # Confirm under a preview does not send a recurring campaign once.
    await owner.send("/campaign preview hello", chat=group)
    answer = await owner.press("✅ Confirm", chat=group)
    assert answer is not None and "/campaign activate hello" in answer["text"]
    harness.clock.advance(hours=25)
    await owner.send("/campaign activate hello", chat=group)
    assert "is active" in owner.last(chat=group).text
    await owner.send("/campaign list", chat=group)
    assert "welcome offer, 24 h after each customer joins" in owner.last(chat=group).text

    kim = harness.customer(6101, "Kim")
    await harness.join(kim)
    harness.clock.advance(hours=23, minutes=59)
    await harness.tick("recurring")
    await harness.run_outbox()
    assert not _got(kim, "Welcome!")
    harness.clock.advance(minutes=2)
    await harness.tick("recurring")
    await harness.run_outbox()
    await harness.restart()  # as after a crash: nothing is sent twice
    await harness.tick("recurring")
    await harness.run_outbox()
    welcome = _got(kim, "Welcome!")
    assert len(welcome) == 1 and welcome[0].buttons == [[CLAIM], ["🔕 Stop offers"]]
    assert not _got(early, "Welcome!")

    claim = welcome[0].button_data[CLAIM]
    first, second = await asyncio.gather(kim.press_data(claim, welcome[0]), kim.press_data(claim, welcome[0]))
    async with harness.sessions.begin() as session:
        vouchers = list(await session.scalars(select(Voucher)))
    assert len(vouchers) == 1 and vouchers[0].points == 0
    assert sum(vouchers[0].code in ((a or {}).get("text") or "") for a in (first, second)) == 1
    await owner.send("/campaign report hello", chat=group)
    report = owner.messages(chat=group)[-2].text
    assert "1 recipient" in report and "1 delivered" in report and "1 claimed" in report, report

    await owner.send("/campaign stop hello", chat=group)
    assert "is stopped" in owner.last(chat=group).text
    lee = harness.customer(6102, "Lee")
    await harness.join(lee)
    harness.clock.advance(hours=25)
    await harness.tick("recurring")
    await harness.run_outbox()
    assert not _got(lee, "Welcome!")


async def test_a_spring_festival_campaign_goes_out_on_that_day(emu: BotApiEmulator, tmp_path: Path) -> None:
    clock = FakeClock(datetime(2027, 2, 5, 12, 0, tzinfo=UTC))  # 20:00 in Shanghai, the day before
    harness = await _harness(
        emu, tmp_path, clock, STAFF_TIMEZONE="Asia/Shanghai", QUIET_HOURS="off", CAMPAIGN_HOLDOUT="0"
    )
    try:
        people = []
        async with harness.sessions.begin() as session:
            for n, lang in enumerate(("en", "zh")):
                person = harness.customer(6200 + n, f"P{n}", language_code=lang)
                profile = TelegramProfile(person.user_id, f"P{n}", language_code=lang)
                await customers.join(
                    session, profile, harness.settings.config, clock.now() - timedelta(days=30)
                )
                people.append(person)
        group, owner = harness.staff_group, harness.owner
        await owner.send("/campaign new newyear | all | Happy Spring Festival! | 新春快乐！", chat=group)
        await owner.send("/campaign repeat newyear yearly easter", chat=group)
        assert "is not a yearly date" in owner.last(chat=group).text
        await owner.send("/campaign repeat newyear yearly spring-festival", chat=group)
        assert "next: 6 Feb 2027 (Spring Festival)" in owner.last(chat=group).text
        await owner.send("/campaign activate newyear", chat=group)
        await owner.send("/campaign list", chat=group)
        assert "newyear — recurring, active" in owner.last(chat=group).text
        assert "next: 6 Feb 2027 (Spring Festival)" in owner.last(chat=group).text

        await harness.tick("recurring")  # the eve: nothing
        await harness.tick("bulk")
        await harness.run_outbox()
        assert not any(_got(p, "Spring Festival") or _got(p, "新春") for p in people)
        clock.advance(hours=14)  # 2027-02-06 10:00 in Shanghai
        for _ in range(2):
            await harness.tick("recurring")
            for _ in range(3):
                await harness.tick("bulk")
                await harness.run_outbox()
                clock.advance(seconds=6)
        assert len(_got(people[0], "Happy Spring Festival!")) == 1
        assert len(_got(people[1], "新春快乐！")) == 1
        assert (
            sum("newyear-2027" in m.text and "going out today" in m.text for m in owner.messages(chat=group))
            == 1
        )
        await owner.send("/campaign report newyear-2027", chat=group)
        assert "2 recipients" in owner.messages(chat=group)[-2].text
        clock.advance(days=1)
        await harness.tick("recurring")  # the day after: nothing more
        await owner.send("/campaign list", chat=group)
        assert "next: 26 Jan 2028 (Spring Festival)" in owner.last(chat=group).text
    finally:
        await harness.stop()


async def test_the_weekly_staff_summary_is_posted_once(emu: BotApiEmulator, tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 3, 9, 0, 30, tzinfo=UTC))  # Monday 08:30 in Shanghai
    harness = await _harness(emu, tmp_path, clock, STAFF_TIMEZONE="Asia/Shanghai")
    try:
        group = harness.staff_group

        def summaries() -> int:
            return sum("Weekly summary" in m.text for m in harness.owner.messages(chat=group))

        await harness.tick("staff_summary")
        await harness.run_outbox()
        assert summaries() == 0
        clock.advance(minutes=30)  # 09:00
        await harness.tick("staff_summary")
        await harness.tick("staff_summary")
        await harness.restart()
        await harness.tick("staff_summary")
        await harness.run_outbox()
        assert summaries() == 1
        text = next(m.text for m in harness.owner.messages(chat=group) if "Weekly summary" in m.text)
        assert "No follow-ups done and no feedback handled in the last 7d" in text
        clock.advance(days=3)
        await harness.tick("staff_summary")
        await harness.run_outbox()
        assert summaries() == 1
        clock.advance(days=4)  # the next Monday
        await harness.tick("staff_summary")
        await harness.run_outbox()
        assert summaries() == 2
    finally:
        await harness.stop()


async def test_the_weekly_summary_can_be_turned_off(emu: BotApiEmulator, tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 3, 9, 12, 0, tzinfo=UTC))
    harness = await _harness(emu, tmp_path, clock, STAFF_SUMMARY_WEEKDAY="off")
    try:
        await harness.tick("staff_summary")
        await harness.run_outbox()
        async with harness.sessions.begin() as session:
            count = await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.dedupe_key.startswith("staff-"))
            )
        assert count == 0
    finally:
        await harness.stop()
