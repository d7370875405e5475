"""Updates in parallel, in order per person (bot.ordering.PerPersonProcessor), driven with events."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from telegram import Chat, Message, Update, User

from bot.ordering import PerPersonProcessor, lane_of


def _update(update_id: int, user_id: int) -> Update:
    user = User(user_id, f"u{user_id}", is_bot=False)
    chat = Chat(user_id, Chat.PRIVATE)
    message = Message(update_id, datetime(2026, 1, 1, tzinfo=UTC), chat, from_user=user, text="hi")
    return Update(update_id, message=message)


async def test_one_persons_updates_wait_for_each_other_while_others_run() -> None:
    processor = PerPersonProcessor(limit=8)
    log: list[str] = []
    release_first = asyncio.Event()

    async def handle(name: str, gate: asyncio.Event | None = None) -> None:
        log.append(f"start {name}")
        if gate is not None:
            await gate.wait()
        log.append(f"end {name}")

    ann_1 = asyncio.create_task(processor.process_update(_update(1, 100), handle("ann 1", release_first)))
    ann_2 = asyncio.create_task(processor.process_update(_update(2, 100), handle("ann 2")))
    bob_1 = asyncio.create_task(processor.process_update(_update(3, 200), handle("bob 1")))
    await bob_1  # Bob is not held up by Ann's slow update
    assert log == ["start ann 1", "start bob 1", "end bob 1"]
    assert not ann_2.done()  # Ann's second update waits for her first
    release_first.set()
    await asyncio.gather(ann_1, ann_2)
    assert log[3:] == ["end ann 1", "start ann 2", "end ann 2"]
    assert processor._lanes == {}  # lanes are forgotten once empty


async def test_arrival_order_is_kept_for_many_updates_of_one_person() -> None:
    processor = PerPersonProcessor(limit=4)
    seen: list[int] = []

    async def handle(n: int) -> None:
        await asyncio.sleep(0)  # yield, so a wrong order would show
        seen.append(n)

    await asyncio.gather(*(processor.process_update(_update(n, 7), handle(n)) for n in range(50)))
    assert seen == list(range(50))


async def test_at_most_limit_updates_run_at_once() -> None:
    processor = PerPersonProcessor(limit=3)
    running = 0
    peak = 0
    gate, three = asyncio.Event(), asyncio.Event()

    async def handle() -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        if running == 3:
            three.set()
        await gate.wait()
        running -= 1

    tasks = [asyncio.create_task(processor.process_update(_update(n, n), handle())) for n in range(1, 11)]
    await three.wait()
    for _ in range(10):  # the other seven get every chance to start
        await asyncio.sleep(0)
    assert running == 3
    gate.set()
    await asyncio.gather(*tasks)
    assert peak == 3


def test_lane_is_the_person_else_the_chat() -> None:
    assert lane_of(_update(1, 42)) == ("user", 42)
    channel_post: Any = Update(
        5, channel_post=Message(1, _update(1, 1).message.date, Chat(-100, Chat.CHANNEL))
    )
    assert lane_of(channel_post) == ("chat", -100)
    assert lane_of("not an update") is None
