"""The periodic ticks the JobQueue runs (bot.app schedules them every settings.tick_seconds): each one
calls a jobs.* function with explicit arguments; what is due is data in the database."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from handlers import activity
from handlers.context import AppContext
from jobs import birthdays, expiry, followups, purchase_surveys, winback
from storage.loyalty import points


async def birthday_tick(context: AppContext) -> None:
    runtime = context.runtime
    # Greetings by tier: the tier /points shows (storage.points.current_tier).
    tier_of = points.tier_of(runtime.clock.now, runtime.config.loyalty)
    await birthdays.tick(runtime.sessions, runtime.clock, runtime.config, tier_of=tier_of)


async def followup_tick(context: AppContext) -> None:
    runtime = context.runtime
    await followups.tick(runtime.sessions, runtime.clock, runtime.config)


async def expiry_tick(context: AppContext) -> None:
    runtime = context.runtime
    await expiry.tick(runtime.sessions, runtime.clock, runtime.config)


async def purchase_survey_tick(context: AppContext) -> None:
    runtime = context.runtime
    await purchase_surveys.tick(runtime.sessions, runtime.clock, runtime.config)


async def winback_tick(context: AppContext) -> None:
    runtime = context.runtime
    await winback.tick(runtime.sessions, runtime.clock, runtime.config)


async def seen_tick(context: AppContext) -> None:
    await activity.flush(context.runtime)


TICKS: dict[str, Callable[[AppContext], Awaitable[None]]] = {
    "birthdays": birthday_tick,
    "followups": followup_tick,
    "expiry": expiry_tick,
    "purchase_surveys": purchase_survey_tick,
    "winback": winback_tick,
    "seen": seen_tick,
}
