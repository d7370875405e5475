"""Recurring duties end to end through the emulator, in virtual time: a welcome offer reaches a new
customer 24 hours after they join (once, and its offer is claimed once); a Spring Festival campaign
reaches customers in Shanghai and New York at 10:00 their time on that day (the lunar date of that
year), and is listed with its next date and local time; the weekly staff
summary is posted in the staff group once per week, whatever the ticks and restarts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from storage.core.clock import FakeClock
from storage.loyalty.models import Voucher
from storage.people import customers
from storage.people.customers import TelegramProfile
from storage.people.models import Customer, OutboxMessage
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


async def test_a_spring_festival_campaign_reaches_each_customer_at_ten_on_their_date(
    emu: BotApiEmulator, tmp_path: Path
) -> None:
    clock = FakeClock(datetime(2027, 2, 4, 12, 0, tzinfo=UTC))  # 20:00 in Shanghai, two days before
    emu.clock = lambda: clock.now().timestamp()  # message dates under the virtual clock
    harness = await _harness(emu, tmp_path, clock, STAFF_TIMEZONE="Asia/Shanghai", CAMPAIGN_HOLDOUT="0")
    try:
        people = []
        async with harness.sessions.begin() as session:
            for n, (lang, zone) in enumerate((("en", "Asia/Shanghai"), ("zh", "America/New_York"))):
                person = harness.customer(6200 + n, f"P{n}", language_code=lang)
                profile = TelegramProfile(person.user_id, f"P{n}", language_code=lang)
                customer = await customers.join(
                    session, profile, harness.settings.config, clock.now() - timedelta(days=30)
                )
                await session.execute(
                    update(Customer).where(Customer.id == customer.id).values(timezone=zone)
                )
                people.append(person)
        shanghai, new_york = people
        group, owner = harness.staff_group, harness.owner
        await owner.send("/campaign new newyear | all | Happy Spring Festival! | 新春快乐！", chat=group)
        await owner.send("/campaign repeat newyear yearly easter", chat=group)
        assert "is not a yearly date" in owner.last(chat=group).text
        await owner.send("/campaign repeat newyear yearly spring-festival at 2027-02-06 10:00", chat=group)
        assert "without a date" in owner.last(chat=group).text
        await owner.send("/campaign repeat newyear yearly spring-festival at 10:00", chat=group)
        local = "next: 6 Feb 2027 (Spring Festival) at 10:00 in each customer's own time zone"
        assert local in owner.last(chat=group).text
        await owner.send("/campaign activate newyear", chat=group)
        await owner.send("/campaign list", chat=group)
        assert "newyear — recurring, active" in owner.last(chat=group).text
        assert local in owner.last(chat=group).text

        async def run() -> None:
            await harness.tick("recurring")
            for _ in range(3):
                await harness.tick("bulk")
                await harness.run_outbox()

        def greeted() -> list:
            return _got(shanghai, "Happy Spring Festival!") + _got(new_york, "新春快乐！")

        await run()  # two days before: nothing made yet
        assert not any("newyear-2027" in m.text for m in owner.messages(chat=group))
        clock.advance(hours=12)  # 00:00 UTC the day before: the year's send is made, every row queued
        await run()
        await run()
        notices = [m.text for m in owner.messages(chat=group) if "newyear-2027" in m.text]
        assert len(notices) == 1 and "on 6 Feb 2027 at 10:00 in their own time zone" in notices[0]
        assert not greeted()

        clock.advance(hours=25, minutes=59)  # 2027-02-06 01:59 UTC: 09:59 in Shanghai
        await run()
        assert not greeted()
        clock.advance(minutes=1)  # 02:00 UTC: 10:00 in Shanghai (UTC+8)
        await run()
        (message,) = _got(shanghai, "Happy Spring Festival!")
        assert message.raw["date"] == datetime(2027, 2, 6, 2, tzinfo=UTC).timestamp()
        assert not _got(new_york, "新春快乐！")  # 21:00 on the 5th in New York

        clock.advance(hours=12, minutes=59)  # 14:59 UTC: 09:59 in New York
        await run()
        assert not _got(new_york, "新春快乐！")
        clock.advance(minutes=1)  # 15:00 UTC: 10:00 in New York (EST, UTC-5)
        await harness.restart()  # as after a crash: nothing is made or sent twice
        await run()
        (message,) = _got(new_york, "新春快乐！")
        assert message.raw["date"] == datetime(2027, 2, 6, 15, tzinfo=UTC).timestamp()
        assert len(_got(shanghai, "Happy Spring Festival!")) == 1
        await owner.send("/campaign report newyear-2027", chat=group)
        assert "2 recipients" in owner.messages(chat=group)[-2].text
        clock.advance(days=1)
        await run()  # the day after: nothing more
        assert len(greeted()) == 2
        await owner.send("/campaign list", chat=group)
        assert "next: 26 Jan 2028 (Spring Festival) at 10:00" in owner.last(chat=group).text
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
        assert "No follow-ups done and no feedback handled in the last 7 days" in text
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
