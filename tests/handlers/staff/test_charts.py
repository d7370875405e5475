"""The survey trend chart is a valid PNG, with data, with gaps and with no answers at all."""

from __future__ import annotations

import struct
import zlib
from datetime import UTC, datetime

from handlers.staff.charts import ChartLabels, trend_png
from storage.surveys import stats
from storage.surveys.stats import Score

LABELS = ChartLabels(title="CSAT and NPS per week", csat="CSAT %", nps="NPS", week="week")


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
    assert _check_png(trend_png(summary.trend, LABELS)) == (800, 450)
    empty = stats.summarize(0, 0, [], start, end)
    assert _check_png(trend_png(empty.trend, LABELS)) == (800, 450)


def test_chinese_labels_never_fail_the_chart() -> None:
    start, end = datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)
    labels = ChartLabels(title="每周 CSAT 与 NPS", csat="CSAT %（4–5 分）", nps="NPS", week="周")
    assert _check_png(trend_png(stats.summarize(0, 0, [], start, end).trend, labels)) == (800, 450)


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
