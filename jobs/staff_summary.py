"""The weekly staff summary's tick: when the week's time has come and it was not queued yet, the /stats
staff figures of the last seven days, rendered by the caller, queued once for the staff group."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.care import complaint_stats, staff_summary
from storage.care.complaint_stats import StaffLine
from storage.core.clock import Clock
from storage.core.config import Config

Render = Callable[[list[StaffLine]], list[str]]  # the figures → the message's parts (HTML)


async def tick(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, config: Config, *, render: Render
) -> bool:
    """One pass; True when this week's summary was queued now. An idle pass is one indexed read."""
    now = clock.now()
    key = staff_summary.week_key(now, config)
    if key is None:
        return False
    async with sessions.begin() as session:
        if await staff_summary.posted(session, key):
            return False
        lines = await complaint_stats.by_staff(session, now - staff_summary.PERIOD, now, config.followups)
        return await staff_summary.post(session, key, render(lines), now, config)
