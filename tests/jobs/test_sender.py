"""The outbox sender against a fake Bot: limits (on a virtual timer), Telegram's errors, a kill mid-wave."""

from __future__ import annotations

import asyncio
import itertools
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.error import BadRequest, Forbidden, TimedOut

from bot.i18n import Catalog
from jobs.sender import Sender
from storage.core.clock import FakeClock
from storage.core.config import Config, SenderConfig
from storage.people import customers, outbox
from storage.people.customers import TelegramProfile
from storage.people.models import Customer, OutboxMessage
from tests.jobs.fakes import FakeBot, VirtualTime, max_in_window, retry_after

GROUP = -100200300


async def _customer(session: AsyncSession, clock: FakeClock, tid: int) -> Customer:
    return await customers.join(session, TelegramProfile(tid, f"C{tid}"), Config(), clock.now())


async def _queue(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, chats: list[int], prefix: str = "m"
) -> None:
    async with sessions.begin() as session:
        known: dict[int, Customer] = {}
        for i, chat in enumerate(chats):
            if chat > 0 and chat not in known:
                known[chat] = await customers.get(session, chat) or await _customer(session, clock, chat)
            await outbox.enqueue(
                session,
                dedupe_key=f"{prefix}:{i}",
                chat_id=chat,
                customer_id=known[chat].id if chat > 0 else None,
                template="common.error",
                language="en",
                now=clock.now(),
            )


async def _statuses(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with sessions.begin() as session:
        rows = await session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        )
        return dict(rows.all())


def _sender(sessions, clock, catalog, vt, bot, **config) -> Sender:
    return Sender(
        bot, sessions, clock, catalog, SenderConfig(**config), timer=vt, sleep=vt.sleep, worker="w1"
    )


async def _drain(sender: Sender, rounds: int = 500) -> None:
    """Run rounds until nothing is queued or due; time passes (virtually) while rows wait for a chat."""
    for _ in range(rounds):
        if await sender.drain_once():
            continue
        async with sender.sessions.begin() as session:
            waiting = await session.scalar(
                select(func.min(OutboxMessage.not_before)).where(OutboxMessage.status == "queued")
            )
        if waiting is None or waiting > sender.clock.now() + timedelta(seconds=120):
            return
        vt: VirtualTime = sender.timer  # type: ignore[assignment]
        await vt.sleep(max((waiting - sender.clock.now()).total_seconds(), 0.5))
    raise AssertionError("the outbox never drained")


async def test_sends_everything_due_within_the_global_rate(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, catalog: Catalog
) -> None:
    await _queue(sessions, clock, list(range(1, 121)))
    vt = VirtualTime(clock)
    bot = FakeBot(vt)
    await _drain(_sender(sessions, clock, catalog, vt, bot, rate_per_second=25))
    assert len(bot.sent) == 120
    assert {s.chat_id for s in bot.sent} == set(range(1, 121))
    assert bot.sent[0].text == catalog("en", "common.error")
    assert max_in_window(bot.times(), 1.0) <= 25
    # ... and close to it: 120 messages at 25/s take about 4.8 s, not much more.
    assert bot.times()[-1] - bot.times()[0] < 5.0
    assert await _statuses(sessions) == {"sent": 120}


async def test_one_message_per_second_per_private_chat_and_twenty_per_minute_per_group(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, catalog: Catalog
) -> None:
    await _queue(sessions, clock, [7] * 5 + [GROUP] * 30 + [8] * 3)
    vt = VirtualTime(clock)
    bot = FakeBot(vt)
    await _drain(_sender(sessions, clock, catalog, vt, bot, rate_per_second=25))
    assert len(bot.sent) == 38
    for chat in (7, 8):
        times = bot.times(chat)
        assert all(b - a >= 1.0 - 1e-9 for a, b in itertools.pairwise(times))
    assert max_in_window(bot.times(GROUP), 60.0) <= 20
    assert max_in_window(bot.times(), 1.0) <= 25
    # Messages to one chat keep their order.
    assert [s.text for s in bot.sent if s.chat_id == 7] == [catalog("en", "common.error")] * 5
    assert await _statuses(sessions) == {"sent": 38}


async def test_a_timer_that_moves_between_readings_still_drains(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, catalog: Catalog
) -> None:
    # Regression: readiness compared two readings of a real timer, so a chat was never "ready".
    await _queue(sessions, clock, [1, 2, 3, 1])
    vt = VirtualTime(clock, creep=1e-6)
    bot = FakeBot(vt)
    await asyncio.wait_for(_drain(_sender(sessions, clock, catalog, vt, bot)), timeout=30)
    assert len(bot.sent) == 4


async def test_retry_after_pauses_every_send_for_the_time_asked(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, catalog: Catalog
) -> None:
    await _queue(sessions, clock, list(range(1, 41)))
    vt = VirtualTime(clock)
    bot = FakeBot(vt, errors={10: [retry_after(3)]})
    await _drain(_sender(sessions, clock, catalog, vt, bot, rate_per_second=25, max_in_flight=1))
    assert len(bot.sent) == 40
    refused_at = next(t for t, chat in bot.attempts if chat == 10)
    after = [s for s in bot.sent if s.at > refused_at]
    assert after[0].chat_id == 10 and after[0].at >= refused_at + 3.0
    assert not [s for s in bot.sent if refused_at < s.at < refused_at + 3.0]
    async with sessions.begin() as session:
        row = await session.scalar(select(OutboxMessage).where(OutboxMessage.chat_id == 10))
    assert row.status == "sent" and row.attempts == 1


async def test_forbidden_marks_the_customer_unreachable_until_they_write_again(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, catalog: Catalog
) -> None:
    await _queue(sessions, clock, [5, 6], prefix="a")
    vt = VirtualTime(clock)
    bot = FakeBot(vt, errors={5: [Forbidden("Forbidden: bot was blocked by the user")]})
    sender = _sender(sessions, clock, catalog, vt, bot)
    await _drain(sender)
    async with sessions.begin() as session:
        blocked = await customers.get(session, 5)
        failed = await session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == "a:0"))
    assert blocked.unreachable_at is not None
    assert failed.status == "failed" and "blocked" in failed.error
    # Later messages to them are skipped, not sent ...
    await _queue(sessions, clock, [5, 6], prefix="b")
    await _drain(sender)
    assert [s.chat_id for s in bot.sent] == [6, 6]
    async with sessions.begin() as session:
        skipped = await session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == "b:0"))
    assert skipped.status == "skipped"
    # ... until they write again.
    async with sessions.begin() as session:
        await customers.touch(session, 5, clock.now())
    await _queue(sessions, clock, [5], prefix="c")
    await _drain(sender)
    assert [s.chat_id for s in bot.sent] == [6, 6, 5]


async def test_bad_request_fails_for_good_with_the_reason(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, catalog: Catalog
) -> None:
    await _queue(sessions, clock, [5])
    vt = VirtualTime(clock)
    bot = FakeBot(vt, errors={5: [BadRequest("Chat not found")]})
    await _drain(_sender(sessions, clock, catalog, vt, bot))
    async with sessions.begin() as session:
        row = await session.scalar(select(OutboxMessage))
    assert (row.status, row.error, row.attempts) == ("failed", "bad request: Chat not found", 1)
    assert bot.sent == []


async def test_timeouts_retry_with_backoff_a_bounded_number_of_times(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, catalog: Catalog
) -> None:
    await _queue(sessions, clock, [5, 6])
    vt = VirtualTime(clock)
    bot = FakeBot(vt, errors={5: [TimedOut()] * 2, 6: [TimedOut()] * 10})
    sender = _sender(sessions, clock, catalog, vt, bot, max_attempts=3)
    for _ in range(6):  # each retry becomes due after its backoff (2 s, 4 s)
        await _drain(sender)
        clock.advance(seconds=10)
    async with sessions.begin() as session:
        rows = {r.chat_id: r for r in await session.scalars(select(OutboxMessage))}
    assert (rows[5].status, rows[5].attempts) == ("sent", 3)
    assert (rows[6].status, rows[6].attempts) == ("failed", 3)
    assert "gave up after 3 attempts" in rows[6].error
    assert [chat for _, chat in bot.attempts].count(6) == 3


async def test_kill_mid_wave_loses_nothing_and_duplicates_at_most_the_messages_in_flight(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, catalog: Catalog
) -> None:
    total, in_flight = 300, 8
    await _queue(sessions, clock, list(range(1, total + 1)))
    vt = VirtualTime(clock)
    killed = asyncio.Event()
    bot = FakeBot(vt, on_send=lambda s: killed.set() if len(bot.sent) == 137 else None)
    first = _sender(sessions, clock, catalog, vt, bot, max_in_flight=in_flight, batch=50)
    task = asyncio.create_task(first.run())
    await killed.wait()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    sent_before = len(bot.sent)
    statuses = await _statuses(sessions)
    assert statuses["sent"] < sent_before  # some were sent but not recorded: the in-flight ones

    # A new process: rows the dead one claimed come back once its lease is over.
    clock.advance(seconds=SenderConfig().claim_lease_seconds + 1)
    second = _sender(sessions, clock, catalog, vt, bot, max_in_flight=in_flight, batch=50)
    await _drain(second)
    chats = [s.chat_id for s in bot.sent]
    assert set(chats) == set(range(1, total + 1))  # nothing lost
    duplicates = len(chats) - len(set(chats))
    assert duplicates <= in_flight
    assert await _statuses(sessions) == {"sent": total}


async def test_two_senders_never_send_the_same_row(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, catalog: Catalog
) -> None:
    await _queue(sessions, clock, list(range(1, 201)))
    vt = VirtualTime(clock)
    bot = FakeBot(vt)
    one = Sender(bot, sessions, clock, catalog, SenderConfig(batch=7), worker="a", timer=vt, sleep=vt.sleep)
    two = Sender(bot, sessions, clock, catalog, SenderConfig(batch=7), worker="b", timer=vt, sleep=vt.sleep)
    await asyncio.gather(_drain(one), _drain(two))
    chats = [s.chat_id for s in bot.sent]
    assert sorted(chats) == list(range(1, 201))


async def test_progress_counts_for_staff(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, catalog: Catalog
) -> None:
    await _queue(sessions, clock, list(range(1, 31)))
    vt = VirtualTime(clock)
    bot = FakeBot(vt, errors={3: [BadRequest("x")]})
    await _sender(sessions, clock, catalog, vt, bot, batch=10).drain_once()
    async with sessions.begin() as session:
        p = await outbox.progress(session, clock.now())
    assert (p.queued_due, p.sending, p.sent_last_minute, p.failed_last_day) == (20, 0, 9, 1)
    assert p.eta_seconds(25.0) == 20 / (9 / 60)
    clock.advance(minutes=5)
    async with sessions.begin() as session:
        p = await outbox.progress(session, clock.now())
    assert p.eta_seconds(25.0) == 20 / 25.0


async def test_a_restarted_sender_still_counts_the_last_minute(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, catalog: Catalog
) -> None:
    """The limiter lives in memory; a new process reads the last minute's sends from the outbox."""
    vt = VirtualTime(clock)
    bot = FakeBot(vt)
    await _queue(sessions, clock, [GROUP] * 20 + [7], prefix="before")
    await _drain(_sender(sessions, clock, catalog, vt, bot, rate_per_second=25))
    assert len(bot.sent) == 21

    await _queue(sessions, clock, [GROUP] * 3 + [7], prefix="after")
    restarted = _sender(sessions, clock, catalog, vt, bot, rate_per_second=25)
    await restarted.remember_recent_sends()
    await _drain(restarted)
    assert len(bot.sent) == 25
    assert max_in_window(bot.times(GROUP), 60.0) <= 20  # a fresh limiter alone would send at once
    seven = bot.times(7)
    assert seven[1] - seven[0] >= 1.0


def test_a_row_queued_before_its_text_gained_a_parameter_still_renders() -> None:
    """A follow-up reminder queued by the previous version has no "value" (the customer's level, added
    since): it is sent with that part empty, not failed."""
    from bot.i18n import Catalog
    from jobs.sender import _text
    from storage.people.outbox import Claimed

    params = {"id": 7, "customer_id": 3, "name": "Kim", "username": "@kim", "reason": "call", "due": "today"}
    row = Claimed(1, 42, 3, "followups.reminder", {**params, "assignee": "—"}, "en", None, 1)
    text = _text(row, Catalog.load())
    assert "Follow-up #7 is due" in text and "Customer: #3 Kim @kim" in text and "{value}" not in text
