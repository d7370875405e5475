"""The Application subclass: measures every update (for /metrics) and lets a caller await the end of
an update's processing (tests and benchmarks use that instead of sleeping)."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import Update
from telegram.ext import Application

from bot.i18n import Catalog
from bot.settings import Settings

_REMEMBERED = 10_000


class UpdateMetrics:
    def __init__(self) -> None:
        self.processed = 0
        self.seconds_total = 0.0
        self._done: deque[int] = deque(maxlen=_REMEMBERED)
        self._done_set: set[int] = set()
        self._waiters: dict[int, asyncio.Future[None]] = {}

    def observe(self, update_id: int | None, seconds: float) -> None:
        self.processed += 1
        self.seconds_total += seconds
        if update_id is None:
            return
        if len(self._done) == self._done.maxlen:
            self._done_set.discard(self._done[0])
        self._done.append(update_id)
        self._done_set.add(update_id)
        waiter = self._waiters.pop(update_id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def wait_processed(self, update_id: int, timeout: float = 10.0) -> None:
        if update_id in self._done_set:
            return
        waiter = self._waiters.setdefault(update_id, asyncio.get_running_loop().create_future())
        await asyncio.wait_for(asyncio.shield(waiter), timeout)


class EngageApplication(Application[Any, Any, Any, Any, Any, Any]):
    # Set by bot.app.build_application right after the builder made the instance.
    settings: Settings
    engine: AsyncEngine
    read_engine: AsyncEngine  # the same as engine except on a SQLite file (storage.core.db)
    catalog: Catalog
    # The outbox sender's loop (bot.app starts it in post_init, stops it in post_stop/post_shutdown).
    sender: Any = None
    sender_task: asyncio.Task[None] | None = None
    warm_up: asyncio.Task[object] | None = None  # the time zone data, read in a thread at start

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.metrics = UpdateMetrics()

    async def process_update(self, update: object) -> None:
        started = time.perf_counter()
        try:
            await super().process_update(update)
        finally:
            update_id = update.update_id if isinstance(update, Update) else None
            self.metrics.observe(update_id, time.perf_counter() - started)
