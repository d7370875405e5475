"""/stats in the staff group: `surveys [period]` (response rate, CSAT, NPS, counts per score, and the
trend per day, week or month as a chart), `complaints [period]` (by category, response times against
their targets, the customers' verdicts), `staff [period]` (per staff member) and `customers [period]`
(segments and the value pyramid, moves since the month's snapshot, repeat and churn rates, order value
and frequency, with the pyramid and the segments as charts)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from zoneinfo import ZoneInfo

from telegram import InputFile, Update
from telegram.constants import ChatAction

from handlers.common import command_args
from handlers.context import AppContext, Texts
from handlers.replies import chat_action, pack
from handlers.staff.charts import Bars, ChartLabels, bars_png, trend_png
from storage.care import complaint_stats
from storage.care.complaint_stats import StaffLine
from storage.insight import stats as insight_stats
from storage.surveys import answers, stats
from storage.surveys.stats import Summary


def _number(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "—"
    return f"{value:+.0f}" if signed else f"{value:.0f}%"


def _counts(counts: dict[int, int]) -> str:
    return " · ".join(f"{score}: {n}" for score, n in counts.items())


def summary_text(context: AppContext, lang: str, summary: Summary, period: str) -> str:
    return context.t(
        lang,
        "surveys.stats",
        period=period,
        invited=summary.invited,
        responded=summary.responded,
        rate=_number(summary.response_rate),
        csat=_number(summary.csat),
        csat_n=sum(summary.csat_counts.values()),
        satisfied=summary.csat_counts[4] + summary.csat_counts[5],
        nps=_number(summary.nps, signed=True),
        nps_n=sum(summary.nps_counts.values()),
        promoters=summary.nps_counts[9] + summary.nps_counts[10],
        detractors=sum(n for score, n in summary.nps_counts.items() if score <= 6),
        csat_counts=_counts(summary.csat_counts),
        nps_counts=_counts(summary.nps_counts),
    )


def _duration(value: timedelta | None) -> str:
    if value is None:
        return "—"
    minutes = int(value.total_seconds() // 60)
    return f"{minutes // 60}h {minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "—"


async def command(update: Update, context: AppContext) -> None:
    """/stats surveys|complaints|staff [30d|12w|6m|1y]"""
    message = update.effective_message
    if message is None:
        return
    lang = context.config.default_language
    topic, _, period_text = command_args(message).partition(" ")
    period = stats.parse_period(period_text)
    show = TOPICS.get(topic.lower())
    if show is None or period is None:
        await message.reply_text(context.t(lang, "surveys.stats_usage"))
        return
    await chat_action(context.bot, message.chat_id, ChatAction.TYPING)  # the figures take a moment
    await show(update, context, period, period_label(context.t, lang, period_text))


def period_label(texts: Texts, lang: str, typed: str) -> str:
    """ "30d" as people say it: "30 days" / "30 天" (the text parse_period has accepted; empty: 12w)."""
    typed = typed.strip().lower() or "12w"
    return texts(lang, f"surveys.period_{typed[-1]}", n=int(typed[:-1]))


async def _complaints(update: Update, context: AppContext, period: timedelta, label: str) -> None:
    lang = context.config.default_language
    end = context.now()
    async with context.read_only() as session:
        summary = await complaint_stats.complaints(session, end - period, end)
    categories = " · ".join(
        f"{context.t(lang, 'complaints.stats_uncategorised') if not name else name}: {count}"
        for name, count in summary.by_category.items()
    )
    await update.effective_message.reply_text(
        context.t(
            lang,
            "complaints.stats",
            period=label,
            received=summary.received,
            open=summary.open,
            resolved=summary.resolved,
            categories=categories or "—",
            on_time=_share(summary.responded_on_time, summary.responded),
            on_time_n=summary.responded_on_time,
            responded=summary.responded,
            median=_duration(summary.median_first_response),
            resolved_on_time=_share(summary.resolved_on_time, summary.resolved),
            resolved_on_time_n=summary.resolved_on_time,
            yes=summary.solved_yes,
            no=summary.solved_no,
            reopened=summary.reopened,
        )
    )


async def _staff(update: Update, context: AppContext, period: timedelta, label: str) -> None:
    lang = context.config.default_language
    end = context.now()
    async with context.read_only() as session:
        lines = await complaint_stats.by_staff(session, end - period, end, context.config.followups)
    for text in staff_parts(context.t, lang, lines, label):
        await update.effective_message.reply_text(text)


def staff_parts(texts: Texts, lang: str, lines: list[StaffLine], label: str, title: str = "") -> list[str]:
    """/stats staff as messages (also the weekly summary, bot.ticks, with its `title` first)."""
    head = [title] if title else []
    if not lines:
        return ["\n".join([*head, texts(lang, "complaints.stats_staff_none", period=label)])]
    rows = [
        texts(
            lang,
            "complaints.stats_staff_line",
            name=line.name,
            done=line.followups_done,
            on_time=_share(line.followups_on_time, line.followups_done),
            claimed=line.claimed,
            median=_duration(line.median_first_response),
            resolved=line.resolved,
            yes=line.solved_yes,
            no=line.solved_no,
        )
        for line in lines
    ]
    return pack([*head, texts(lang, "complaints.stats_staff_title", period=label), *rows], "\n")


async def _surveys(update: Update, context: AppContext, period: timedelta, period_text: str) -> None:
    message = update.effective_message
    lang = context.config.default_language
    end = context.now()
    start = end - period
    async with context.read_only() as session:
        data = await answers.stats_data(session, start, end)
    zone = ZoneInfo(context.config.staff_timezone)  # an answer counts on the staff's date
    summary = stats.summarize(data.invited, data.responded, data.scores, start, end, zone)
    await message.reply_text(summary_text(context, lang, summary, period_text))
    labels = trend_labels(context.t, lang, summary, period_text)
    await chat_action(context.bot, message.chat_id, ChatAction.UPLOAD_PHOTO)
    png = await asyncio.to_thread(trend_png, summary.trend, labels)
    # The title as the caption too: what one point is (a day, a week, a month) reads in the chat.
    await message.reply_photo(InputFile(png, filename="survey-trend.png"), caption=labels.title)


def trend_labels(texts: Texts, lang: str, summary: Summary, period: str) -> ChartLabels:
    """The trend chart's texts for its bucket: "per day" with "9 Jul" ticks, ..., "per month" with
    "Jul 2026" ticks."""
    bucket = summary.bucket
    return ChartLabels(
        title=texts(lang, f"surveys.chart_title_{bucket}", period=period),
        csat=texts(lang, "surveys.chart_csat"),
        nps=texts(lang, "surveys.chart_nps"),
        axis=texts(lang, f"surveys.chart_axis_{bucket}"),
        answers=texts(lang, "surveys.chart_answers"),
        ticks=[texts(lang, f"surveys.chart_tick_{bucket}", start=p.start) for p in summary.trend],
    )


async def _customers(update: Update, context: AppContext, period: timedelta, label: str) -> None:
    message = update.effective_message
    lang = context.config.default_language
    end = context.now()
    async with context.read_only() as session:
        figures = await insight_stats.customer_stats(session, end - period, end)

    def segment(code: str) -> str:
        return context.t(lang, f"insight.segment.{code}")

    def level(code: str) -> str:
        return context.t(lang, f"insight.level.{code}")

    since = figures.since or "—"  # written as the reader writes a date: {since:date}
    await message.reply_text(
        context.t(
            lang,
            "insight.stats",
            period=label,
            segments=" · ".join(f"{segment(c)} {n}" for c, n in figures.segments.items() if n),
            levels=" · ".join(f"{level(c)} {n}" for c, n in figures.levels.items()),
            moved=figures.moved,
            since=since,
            buyers=figures.buyers,
            repeat=_share_of(figures.repeat_rate),
            repeaters=figures.repeaters,
            churn=_share_of(figures.churn_rate),
            churned=figures.churned,
            previous=figures.previous_buyers,
            aov=f"{figures.average_order:.2f}" if figures.average_order is not None else "—",
            frequency=f"{figures.frequency:.1f}" if figures.frequency is not None else "—",
        )
    )
    pyramid = Bars(
        context.t(lang, "insight.chart_pyramid"),
        [(level(c), n, None) for c, n in figures.levels.items()],
        "",
        "",
        pyramid=True,
    )
    movement = Bars(
        context.t(lang, "insight.chart_segments", since=since),
        [
            (segment(c), n, figures.before.get(c, 0) if figures.since else None)
            for c, n in figures.segments.items()
        ],
        context.t(lang, "insight.chart_now"),
        context.t(lang, "insight.chart_before", since=since),
    )
    for name, chart in (("pyramid", pyramid), ("segments", movement)):
        await chat_action(context.bot, message.chat_id, ChatAction.UPLOAD_PHOTO)
        png = await asyncio.to_thread(bars_png, chart)
        await message.reply_photo(InputFile(png, filename=f"customers-{name}.png"))


def _share_of(rate: float | None) -> str:
    return f"{100 * rate:.0f}%" if rate is not None else "—"


Topic = Callable[[Update, AppContext, timedelta, str], Awaitable[None]]
TOPICS: dict[str, Topic] = {
    "surveys": _surveys,
    "complaints": _complaints,
    "staff": _staff,
    "customers": _customers,
}
