"""The survey trend chart is a valid PNG, with data, with gaps and with no answers at all."""

from __future__ import annotations

import struct
import zlib
from datetime import UTC, datetime, timedelta

from handlers.staff.charts import ChartLabels, tick_positions, trend_png
from storage.surveys import stats
from storage.surveys.stats import Score, TrendPoint


def _labels(
    points: list[TrendPoint], title: str = "CSAT and NPS per week", axis: str = "week"
) -> ChartLabels:
    ticks = [f"{p.start.day}/{p.start.month}" for p in points]
    return ChartLabels(title=title, csat="CSAT %", nps="NPS", axis=axis, answers="answers", ticks=ticks)


def _check_png(data: bytes) -> tuple[int, int]:
    """Walk the chunks, checking every CRC; returns (width, height)."""
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    position, chunks, size = 8, [], (0, 0)
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert zlib.crc32(kind + body) == crc, kind
        if kind == b"IHDR":
            size = struct.unpack(">II", body[:8])
        chunks.append(kind)
        position += 12 + length
    assert chunks[0] == b"IHDR" and chunks[-1] == b"IEND" and b"IDAT" in chunks
    return size


def test_chart_is_a_valid_png() -> None:
    start, end = datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC)
    scores = [
        Score("nps", 10, datetime(2026, 1, 6, tzinfo=UTC)),
        Score("csat", 2, datetime(2026, 2, 20, tzinfo=UTC)),
    ]
    summary = stats.summarize(4, 2, scores, start, end)
    assert _check_png(trend_png(summary.trend, _labels(summary.trend))) == (800, 500)
    empty = stats.summarize(0, 0, [], start, end)
    assert _check_png(trend_png(empty.trend, _labels(empty.trend))) == (800, 500)


def test_chinese_labels_are_drawn_with_no_missing_glyph() -> None:
    import warnings

    from handlers.staff.charts import _render

    start, end = datetime(2025, 1, 5, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)
    scores = [
        Score("csat", 5, datetime(2025, 6, 1, tzinfo=UTC)),
        Score("nps", 3, datetime(2026, 1, 9, tzinfo=UTC)),
    ]
    trend = stats.summarize(2, 2, scores, start, end).trend
    labels = ChartLabels(
        title="每月 CSAT 与 NPS，最近 12 个月",
        csat="CSAT %（4–5 分）",
        nps="NPS",
        axis="月份",
        answers="回答数",
        ticks=[f"{p.start.year}年{p.start.month}月" for p in trend],
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        chart = _render(trend, labels)
    assert not [w for w in caught if "missing from font" in str(w.message)]
    assert _check_png(chart) == (800, 500)


def test_dates_under_the_axis_are_thinned_and_keep_the_latest() -> None:
    assert tick_positions(8) == list(range(8))  # 7 days: every day
    assert tick_positions(32) == [3, 7, 11, 15, 19, 23, 27, 31]  # 31 days: every 4th, today's last
    assert tick_positions(13) == [0, 2, 4, 6, 8, 10, 12]  # 12 months: every other month
    assert len(tick_positions(121)) <= 10 and tick_positions(121)[-1] == 120
    assert tick_positions(0) == []


def test_the_customer_charts_draw_chinese_with_no_missing_glyph() -> None:
    """The install ships a CJK font (mplfonts' Noto Sans CJK SC): Chinese labels are drawn, not boxes."""
    import warnings

    from handlers.staff.charts import Bars, _render_bars

    segments = [("冠军客户", 3, 2), ("不能失去的客户", 1, 0), ("流失客户", 7, None)]
    pyramid = [("重要客户", 1, None), ("小客户", 3000, None)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        charts = [
            _render_bars(Bars("各分群客户数：现在与 2026-12-01", segments, "现在", "2026-12-01")),
            _render_bars(Bars("价值金字塔（各层级客户数）", pyramid, "", "", pyramid=True)),
        ]
    assert not [w for w in caught if "missing from font" in str(w.message)]
    for chart in charts:
        width, height = _check_png(chart)
        assert width == 800 and height > 200


def test_axis_title_and_dates_follow_the_step_in_both_languages() -> None:
    from bot.i18n import Catalog
    from handlers.staff.stats import period_label, trend_labels

    catalog = Catalog.load()
    end = datetime(2026, 7, 9, 15, tzinfo=UTC)
    seen = {}
    for period, days in (("7d", 7), ("90d", 90), ("12m", 360)):
        summary = stats.summarize(0, 0, [], end - timedelta(days=days), end)
        for lang in ("en", "zh"):
            labels = trend_labels(catalog, lang, summary, period_label(catalog, lang, period))
            seen[period, lang] = (labels.title, labels.axis, labels.ticks[-1])
    assert seen["7d", "en"] == ("CSAT and NPS per day, last 7 days", "day", "9 Jul")
    assert seen["7d", "zh"] == ("每日 CSAT 与 NPS，最近 7 天", "日期", "7月9日")
    assert seen["90d", "en"] == ("CSAT and NPS per week, last 90 days", "week (from Monday)", "6 Jul")
    assert seen["90d", "zh"] == ("每周 CSAT 与 NPS，最近 90 天", "周（自周一起）", "7月6日")
    assert seen["12m", "en"] == ("CSAT and NPS per month, last 12 months", "month", "Jul 2026")
    assert seen["12m", "zh"] == ("每月 CSAT 与 NPS，最近 12 个月", "月份", "2026年7月")
