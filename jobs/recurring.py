"""The recurring campaigns' tick (storage.campaigns.recurring): welcome offers whose time has come, in
batches of one transaction each, then the yearly sends whose time to be made has come (the UTC day
before their date; each recorded as a bulk job: the bulk tick fans it out, each message due at the
local hour in its customer's zone)."""

from __future__ import annotations

import logging
from collections import Counter

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from jobs.batches import drain
from storage.campaigns import recurring
from storage.core.clock import Clock
from storage.core.config import Config

log = logging.getLogger(__name__)


async def tick(sessions: async_sessionmaker[AsyncSession], clock: Clock, config: Config) -> Counter[str]:
    """One pass; the welcome offers' outcomes (sent, held_out, opted_out, …)."""
    batches = await drain(
        sessions,
        clock,
        lambda session, now, limit: recurring.welcome_batch(session, now, config, limit),
        size=config.bulk.batch,
    )
    outcomes = sum(batches, Counter[str]())
    async with sessions.begin() as session:
        started = await recurring.start_yearly(session, clock.now(), config)
    for campaign, holiday in started:
        log.info("yearly campaign %s (%s) started", campaign.name, holiday.spec)
    return outcomes
