"""/stats surveys [period] in the staff group: response rate, CSAT, NPS, counts per score, and the
weekly trend as a chart."""

from __future__ import annotations

import asyncio

from telegram import InputFile, Update

from handlers.common import command_args
from handlers.context import AppContext
from handlers.staff.charts import ChartLabels, trend_png
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
        nps=_number(summary.nps, signed=True),
        nps_n=sum(summary.nps_counts.values()),
        csat_counts=_counts(summary.csat_counts),
        nps_counts=_counts(summary.nps_counts),
    )


async def command(update: Update, context: AppContext) -> None:
    """/stats surveys [30d|12w|6m|1y]"""
    message = update.effective_message
    if message is None:
        return
    lang = context.config.default_language
    topic, _, period_text = command_args(message).partition(" ")
    if topic.lower() != "surveys":
        await message.reply_text(context.t(lang, "surveys.stats_usage"))
        return
    period = stats.parse_period(period_text)
    if period is None:
        await message.reply_text(context.t(lang, "surveys.stats_usage"))
        return
    end = context.now()
    start = end - period
    async with context.read_only() as session:
        data = await answers.stats_data(session, start, end)
    summary = stats.summarize(data.invited, data.responded, data.scores, start, end)
    label = period_text.strip() or "12w"
    await message.reply_text(summary_text(context, lang, summary, label))
    labels = ChartLabels(
        title=context.t(lang, "surveys.chart_title", period=label),
        csat=context.t(lang, "surveys.chart_csat"),
        nps=context.t(lang, "surveys.chart_nps"),
        week=context.t(lang, "surveys.chart_week"),
    )
    png = await asyncio.to_thread(trend_png, summary.trend, labels)
    await message.reply_photo(InputFile(png, filename="survey-trend.png"))
