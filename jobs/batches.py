"""Bulk work in batches of one transaction each, so a tick never holds the database for long and a
crash loses at most the batch in flight (its rows are still due, and the next tick takes them)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.core.clock import Clock

BATCH = 500
T = TypeVar("T")
# One batch: (session, now, limit) -> (rows read, result); fewer rows read than the limit ends the pass.
Step = Callable[[AsyncSession, datetime, int], Awaitable[tuple[int, T]]]


async def drain(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, step: Step[T], *, size: int = BATCH
) -> list[T]:
    """Run `step` batch after batch until one reads fewer than `size` rows; the results in order."""
    results: list[T] = []
    while True:
        async with sessions.begin() as session:
            read, result = await step(session, clock.now(), size)
        results.append(result)
        if read < size:
            return results
