"""A fake Bot for the sender (answers chosen chats with Telegram's errors) and a virtual timer, so rate
limits are measured without waiting in real time."""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

from storage.core.clock import FakeClock


class VirtualTime:
    """A monotonic timer whose sleeps advance it (and the business clock with it) at once."""

    def __init__(self, clock: FakeClock | None = None, creep: float = 0.0) -> None:
        self.now = 1000.0
        self.clock = clock
        self.creep = creep  # time a real timer moves between two readings

    def __call__(self) -> float:
        self.now += self.creep
        return self.now

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(0)  # what is ready runs now, before time moves
        if seconds > 0:
            self.now += seconds
            if self.clock is not None:
                self.clock.advance(seconds=seconds)
        await asyncio.sleep(0)


@dataclass
class Sent:
    at: float
    chat_id: int
    text: str
    reply_markup: Any


@dataclass
class FakeMessage:
    message_id: int


@dataclass
class FakeBot:
    timer: Callable[[], float]
    sent: list[Sent] = field(default_factory=list)
    # chat id -> errors to raise, one per attempt, before the chat answers normally
    errors: dict[int, list[TelegramError]] = field(default_factory=dict)
    attempts: list[tuple[float, int]] = field(default_factory=list)
    on_send: Callable[[Sent], None] | None = None

    async def send_message(self, chat_id: int, text: str, reply_markup: Any = None, **_: Any) -> FakeMessage:
        at = self.timer()  # Telegram counts a request when it arrives
        self.attempts.append((at, chat_id))
        await asyncio.sleep(0)  # the network round trip: other sends may run meanwhile
        queued = self.errors.get(chat_id)
        if queued:
            raise queued.pop(0)
        item = Sent(at, chat_id, text, reply_markup)
        self.sent.append(item)
        if self.on_send is not None:
            self.on_send(item)
        return FakeMessage(len(self.sent))

    def times(self, chat_id: int | None = None) -> list[float]:
        return [s.at for s in self.sent if chat_id is None or s.chat_id == chat_id]


def max_in_window(times: list[float], window: float) -> int:
    """The most sends in any half-open window [t, t + window)."""
    ordered = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(ordered):
        while ordered[start] <= t - window + 1e-9:  # float spacing
            start += 1
        best = max(best, end - start + 1)
    return best


def retry_after(seconds: float) -> RetryAfter:
    """RetryAfter as PTB raises it (its constructor warns about the int/timedelta change)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        return RetryAfter(timedelta(seconds=seconds))
