"""The periodic ticks the JobQueue runs (bot.app schedules them every settings.tick_seconds, the ones
in FAST more often): each one calls a jobs.* function with explicit arguments; what is due is data in
the database."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from handlers import activity
from handlers.context import AppContext
from handlers.customer import to_staff
from handlers.staff import bulk as staff_bulk
from handlers.staff import campaigns as staff_campaigns
from handlers.staff import exports as staff_exports
from handlers.staff import imports as staff_imports
from handlers.staff import stats as staff_stats
from handlers.staff import surveys as staff_surveys
from jobs import (
    birthdays,
    bulk,
    cadences,
    churn,
    complaints,
    expiry,
    followups,
    purchase_surveys,
    recurring,
    retention,
    scoring,
    staff_summary,
    winback,
)
from storage import background
from storage.campaigns import fanout
from storage.care.complaint_stats import StaffLine
from storage.loyalty import points
from storage.surveys import sending

# How each kind of bulk job's staff message reads (storage.background.KINDS lists the kinds).
BULK_TEXTS: Mapping[str, staff_bulk.Render] = {
    sending.KIND: staff_surveys.progress_text,
    fanout.KIND: staff_campaigns.progress_text,
    **dict.fromkeys(background.IMPORTS, staff_imports.progress_text),
    **{background.export_kind(what): staff_exports.progress_text for what in background.EXPORTS},
}
# What a kind does once its summary is shown: an export sends its file; both clear what they staged.
BULK_FINISH: Mapping[str, staff_bulk.Finish] = {
    **dict.fromkeys(background.IMPORTS, staff_imports.finish),
    **{background.export_kind(what): staff_exports.finish for what in background.EXPORTS},
}


async def birthday_tick(context: AppContext) -> None:
    runtime = context.runtime
    # Greetings by tier: the tier /points shows (storage.points.current_tier).
    tier_of = points.tier_of(runtime.clock.now, runtime.config.loyalty)
    await birthdays.tick(runtime.sessions, runtime.clock, runtime.config, tier_of=tier_of)


# A duty's tick as it is called: (sessions, clock, config) -> anything (its own counts, unused here).
Duty = Callable[..., Awaitable[object]]


def _duty(tick: Duty) -> Callable[[AppContext], Awaitable[None]]:
    """The tick of a job that needs nothing but the runtime's sessions, clock and config."""

    async def run(context: AppContext) -> None:
        runtime = context.runtime
        await tick(runtime.sessions, runtime.clock, runtime.config)

    return run


async def staff_summary_tick(context: AppContext) -> None:
    """The weekly /stats staff summary for the staff group, rendered as /stats staff 7d is."""
    runtime = context.runtime
    lang = runtime.config.default_language
    title = runtime.texts(lang, "complaints.weekly_title")

    def render(lines: list[StaffLine]) -> list[str]:
        return staff_stats.staff_parts(
            runtime.texts, lang, lines, staff_stats.period_label(runtime.texts, lang, "7d"), title
        )

    await staff_summary.tick(runtime.sessions, runtime.clock, runtime.config, render=render)


async def bulk_tick(context: AppContext) -> None:
    """Fan out bulk jobs a few batches at a time, then show their progress (after those commits)."""
    runtime = context.runtime
    await bulk.tick(runtime.sessions, runtime.clock, runtime.config, reads=runtime.reads)
    await staff_bulk.report(context.bot, runtime, BULK_TEXTS, BULK_FINISH)


async def scoring_tick(context: AppContext) -> None:
    """Re-score customers whose purchases changed; the nightly run over everyone, a few batches a pass."""
    runtime = context.runtime
    await scoring.tick(runtime.sessions, runtime.clock, runtime.config, reads=runtime.reads)


async def staff_group_tick(context: AppContext) -> None:
    """The staff group another instance chose (bot_settings), then the feedback kept without one."""
    await context.runtime.load_stored_settings()
    await to_staff.post_backlog(context)


async def seen_tick(context: AppContext) -> None:
    await activity.flush(context.runtime)


TICKS: dict[str, Callable[[AppContext], Awaitable[None]]] = {
    "birthdays": birthday_tick,
    "followups": _duty(followups.tick),
    "complaints": _duty(complaints.tick),
    "cadences": _duty(cadences.tick),
    "churn": _duty(churn.tick),
    "retention": _duty(retention.tick),
    "expiry": _duty(expiry.tick),
    "purchase_surveys": _duty(purchase_surveys.tick),
    "winback": _duty(winback.tick),
    "recurring": _duty(recurring.tick),  # welcome offers whose time has come, today's yearly sends
    "staff_summary": staff_summary_tick,
    "seen": seen_tick,
    "bulk": bulk_tick,
    "scoring": scoring_tick,
    "staff_group": staff_group_tick,
}
# Ticks that run more often than settings.tick_seconds (at most every this many seconds): a bulk job's
# progress is edited every few seconds, and an idle pass is two index reads; a purchase's customer is
# re-scored within seconds (an idle pass: an index range and the latest run's row).
FAST: dict[str, float] = {"bulk": 2.0, "scoring": 5.0}
# Ticks that run less often (at least every this many seconds): regular care is planned in days.
SLOW: dict[str, float] = {"cadences": 3600.0, "churn": 3600.0, "retention": 3600.0}
