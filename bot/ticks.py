"""The periodic ticks the JobQueue runs (bot.app schedules them every settings.tick_seconds): each one
calls a jobs.* function with explicit arguments; what is due is data in the database."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from handlers.context import AppContext
from jobs import birthdays, callbacks


async def birthday_tick(context: AppContext) -> None:
    runtime = context.runtime
    await birthdays.tick(runtime.sessions, runtime.clock, runtime.config)


async def callback_tick(context: AppContext) -> None:
    runtime = context.runtime
    await callbacks.tick(runtime.sessions, runtime.clock, runtime.config)


TICKS: dict[str, Callable[[AppContext], Awaitable[None]]] = {
    "birthdays": birthday_tick,
    "callbacks": callback_tick,
}
