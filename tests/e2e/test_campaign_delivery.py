"""How a campaign is delivered, end to end through the emulator under the virtual clock: at a local hour
in each customer's own time zone, held by Pause and released by Resume on its progress message, and
with an image that arrives as a photo with the text as its caption."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from storage.core.clock import FakeClock
from storage.core.models import AuditEntry, BulkJob
from storage.people import customers
from storage.people.customers import TelegramProfile
from storage.people.models import Customer, OutboxMessage
from tests.databases import new_database_url
from tests.e2e.harness import Harness
from tests.emulator import BotApiEmulator, UserDriver

pytestmark = pytest.mark.strict_transactions

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + (40).to_bytes(4, "big") + (30).to_bytes(4, "big") + b"rest"
PAUSE, RESUME, STOP = "⏸ Pause", "▶️ Resume", "⏹ Stop"


@pytest.fixture
async def harness(emu: BotApiEmulator, tmp_path: Path, clock: FakeClock) -> AsyncIterator[Harness]:
    h = Harness(
        emu,
        await new_database_url("sqlite", tmp_path),
        clock,
        BULK_BATCH="4",
        BULK_BATCHES_PER_TICK="1",
        BULK_REPORT_SECONDS="5",
        CAMPAIGN_HOLDOUT="0",
    )
    emu.clock = lambda: clock.now().timestamp()  # message dates under the virtual clock
    await h.start()
    yield h
    await h.stop()


async def _customers(harness: Harness, zones: list[str], first: int = 8000) -> list[UserDriver]:
    people = []
    async with harness.sessions.begin() as session:
        for n, zone in enumerate(zones):
            person = harness.customer(first + n, f"C{n}")
            profile = TelegramProfile(person.user_id, person.user["first_name"], language_code="en")
            customer = await customers.join(session, profile, harness.settings.config, harness.clock.now())
            await session.execute(update(Customer).where(Customer.id == customer.id).values(timezone=zone))
            people.append(person)
    return people


def _got(person: UserDriver, text: str) -> list:
    return [m for m in person.messages() if text in m.text]


async def _fan_out(harness: Harness) -> None:
    """Every batch of the fan-out (BULK_BATCHES_PER_TICK is 1)."""
    for _ in range(10):
        await harness.tick("bulk")


async def test_every_customer_gets_it_at_ten_in_their_own_time_zone(harness: Harness) -> None:
    # The clock: 2026-03-10 09:00 UTC (17:00 in Shanghai, 10:00 in Berlin: both past 10:00 today).
    shanghai = await _customers(harness, ["Asia/Shanghai"] * 2)
    berlin = await _customers(harness, ["Europe/Berlin"] * 2, first=8100)
    group, owner = harness.staff_group, harness.owner
    await owner.send("/campaign new xmas | all | Merry <b>sale</b> | at 2026-13-01 10:00", chat=group)
    assert "24-hour clock" in owner.last(chat=group).text
    await owner.send("/campaign new xmas | all | Merry <b>sale</b> | at 2026-03-08 10:00", chat=group)
    assert "has passed everywhere" in owner.last(chat=group).text
    await owner.send("/campaign new xmas | all | Merry <b>sale</b> | at 2026-03-11 10:00", chat=group)
    assert "on 11 Mar 2026 at 10:00 in each customer's own time zone" in owner.last(chat=group).text
    await owner.send("/campaign preview xmas", chat=group)
    preview = owner.last(chat=group).text
    assert "4 will get it on 11 Mar 2026 at 10:00 in each customer's own time zone" in preview
    await owner.press("✅ Confirm", chat=group)
    assert "on 11 Mar 2026 at 10:00" in owner.last(chat=group).text
    await _fan_out(harness)
    assert await harness.run_outbox() == 0  # queued for tomorrow morning, each in their zone

    harness.clock.advance(hours=16, minutes=59)  # 01:59 UTC: 09:59 in Shanghai
    assert await harness.run_outbox() == 0
    harness.clock.advance(minutes=1)  # 02:00 UTC = 10:00 in Shanghai (UTC+8)
    assert await harness.run_outbox() == 2
    ten_in_shanghai = datetime(2026, 3, 11, 2, tzinfo=UTC).timestamp()
    for person in shanghai:
        (message,) = _got(person, "Merry sale")
        assert message.raw["date"] == ten_in_shanghai
    assert not any(_got(person, "Merry sale") for person in berlin)

    harness.clock.advance(hours=7)  # 09:00 UTC = 10:00 in Berlin (UTC+1 in March)
    assert await harness.run_outbox() == 2
    ten_in_berlin = datetime(2026, 3, 11, 9, tzinfo=UTC).timestamp()
    for person in berlin:
        (message,) = _got(person, "Merry sale")
        assert message.raw["date"] == ten_in_berlin
    assert all(len(_got(person, "Merry sale")) == 1 for person in shanghai)


async def test_a_time_without_a_date_is_the_next_one_in_each_zone(harness: Harness) -> None:
    """`at 09:30`: the next 09:30 where each customer is (Berlin, at 10:00 now: tomorrow; New York:
    today)."""
    berlin, new_york = await _customers(harness, ["Europe/Berlin", "America/New_York"])
    group, owner = harness.staff_group, harness.owner
    await owner.send("/campaign new soon | all | Soon | at 9:30", chat=group)
    await owner.send("/campaign preview soon", chat=group)
    await owner.press("✅ Confirm", chat=group)
    await _fan_out(harness)
    async with harness.sessions.begin() as session:
        due = dict((await session.execute(select(OutboxMessage.chat_id, OutboxMessage.not_before))).all())
    assert due == {
        berlin.user_id: datetime(2026, 3, 11, 8, 30, tzinfo=UTC),  # 09:30 CET tomorrow
        new_york.user_id: datetime(2026, 3, 10, 13, 30, tzinfo=UTC),  # 09:30 EDT today (DST since 8 March)
    }


async def test_pause_holds_the_fan_out_and_the_queued_messages_and_resume_releases_them(
    harness: Harness,
) -> None:
    people = await _customers(harness, ["UTC"] * 10)
    group, owner = harness.staff_group, harness.owner
    await owner.send("/campaign new hold | all | Held back", chat=group)
    await owner.send("/campaign preview hold", chat=group)
    await owner.press("✅ Confirm", chat=group)
    progress = owner.last(chat=group)
    assert progress.buttons == [[PAUSE, STOP]]
    await harness.tick("bulk")  # the first batch: 4 queued
    answer = await owner.press(PAUSE, progress)
    assert answer is not None and "4 messages wait" in answer["text"]
    shown = owner.last(chat=group)
    assert shown.message_id == progress.message_id and "Paused" in shown.text, shown.text
    assert shown.buttons == [[RESUME, STOP]]

    for _ in range(3):  # paused: no batch, nothing sent, however long
        await harness.tick("bulk")
        assert await harness.run_outbox() == 0
        harness.clock.advance(minutes=10)
    assert not any(_got(person, "Held back") for person in people)
    async with harness.sessions.begin() as session:
        job = await session.scalar(select(BulkJob))
        assert job.queued == 4 and job.paused_at is not None
        statuses = (await session.scalars(select(OutboxMessage.status))).all()
        assert statuses == ["paused"] * 4
    await owner.send("/outbox", chat=group)
    assert "paused: 4" in owner.last(chat=group).text

    # Stale or forged: a second Pause, a Resume from an agent; nothing changes.
    again = await owner.press_data(f"bulk:pause:{job.id}", shown)
    assert again is not None and again["text"] == harness.t("en", "bulk.already_paused")
    refused = await harness.agent.press(RESUME, shown)
    assert refused is not None and "⛔" in refused["text"]
    forged = await owner.press_data("bulk:resume:99999", shown)
    assert forged is not None and forged["text"] == harness.t("en", "button.stale")

    answer = await owner.press(RESUME, shown)
    assert answer is not None and "4 messages to send" in answer["text"]
    (shown,) = [m for m in owner.messages(chat=group) if m.message_id == progress.message_id]
    assert "Paused" not in shown.text and shown.buttons == [[PAUSE, STOP]]
    again = await owner.press_data(f"bulk:resume:{job.id}", shown)
    assert again is not None and again["text"] == harness.t("en", "bulk.not_paused")
    assert await harness.run_outbox() == 4  # what was held goes at once
    await _fan_out(harness)
    assert await harness.run_outbox() == 6
    assert [len(_got(person, "Held back")) for person in people] == [1] * 10
    harness.clock.advance(seconds=6)
    await harness.tick("bulk")
    (final,) = [m for m in owner.messages(chat=group) if m.message_id == progress.message_id]
    assert "10 sent" in final.text and not final.buttons
    late = await owner.press_data(f"bulk:pause:{job.id}", final)  # a finished send: nothing to pause
    assert late is not None and late["text"] == harness.t("en", "bulk.finished")
    async with harness.sessions.begin() as session:
        actions = (await session.scalars(select(AuditEntry.action).where(AuditEntry.outcome == "ok"))).all()
    assert actions.count("bulk pause") == 1 and actions.count("bulk resume") == 1


async def test_an_image_arrives_as_a_photo_with_the_text_as_its_caption(harness: Harness) -> None:
    (kim,) = await _customers(harness, ["UTC"])
    group, owner = harness.staff_group, harness.owner
    long_text = "x" * 1025
    await owner.send(f"/campaign new long | all | {long_text}", chat=group)
    await owner.send_photo(PNG, caption="/campaign image long", chat=group)
    assert "at most 1024 characters; the en text has 1025" in owner.last(chat=group).text
    await owner.send("/campaign new pic | all | <b>Fresh</b> bread | 新鲜面包", chat=group)
    await owner.send("/campaign image pic", chat=group)
    assert "send a photo with the caption: /campaign image pic" in owner.last(chat=group).text
    await owner.send_photo(PNG, caption="/campaign image pic", chat=group)
    assert "Image attached to campaign pic" in owner.last(chat=group).text
    async with harness.sessions.begin() as session:
        images = (
            await session.scalars(select(func.count()).where(AuditEntry.action == "campaign image"))
        ).one()
    assert images == 1

    await owner.send("/campaign preview pic", chat=group)
    copies = [m for m in owner.messages(chat=group) if m.photo]
    assert [m.text for m in copies] == ["Fresh bread", "新鲜面包"] and copies[0].photo == PNG
    await owner.press("✅ Confirm", chat=group)
    await _fan_out(harness)
    assert await harness.run_outbox() == 1
    message = kim.last()
    assert message.photo == PNG and message.text == "Fresh bread"
    assert message.entities == [{"type": "bold", "offset": 0, "length": 5}]
    assert message.buttons == [["🔕 Stop offers"]]
