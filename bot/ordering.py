"""Updates in parallel, in order per person: PTB's update processor with one FIFO lane per user.

Different people's updates run concurrently (up to `limit` at once); one person's updates run one after
the other in the order Telegram delivered them, so a profile step never overtakes the button before it.
Updates without a user (a channel post) are ordered per chat.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Hashable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

# PTB's own semaphore only bounds how many updates wait; lanes and `limit` decide what runs.
_WAITING = 100_000


def lane_of(update: object) -> Hashable | None:
    """The key whose updates must stay in order: the person, else the chat."""
    if not isinstance(update, Update):
        return None
    if update.effective_user is not None:
        return ("user", update.effective_user.id)
    if update.effective_chat is not None:
        return ("chat", update.effective_chat.id)
    return None


class _Lane:
    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()  # FIFO: waiters acquire in the order they asked
        self.users = 0


class PerPersonProcessor(BaseUpdateProcessor):
    def __init__(self, limit: int) -> None:
        super().__init__(max_concurrent_updates=_WAITING)
        self.limit = limit
        self._running = asyncio.BoundedSemaphore(limit)
        self._lanes: dict[Hashable, _Lane] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = lane_of(update)
        if key is None:
            async with self._running:
                await coroutine
            return
        # Taken before any await: tasks start in arrival order, so they queue on the lane in that order.
        lane = self._lanes.get(key) or self._lanes.setdefault(key, _Lane())
        lane.users += 1
        try:
            async with lane.lock, self._running:
                await coroutine
        finally:
            lane.users -= 1
            if lane.users == 0:
                del self._lanes[key]

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass
