"""The survey trend chart as a PNG (matplotlib, Agg canvas: no display, no pyplot global state, so it
is safe off the event loop in a worker thread). The arithmetic stays in storage.survey_stats."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from functools import cache

from storage.surveys.stats import WeekPoint


@dataclass(frozen=True)
class ChartLabels:
    title: str
    csat: str
    nps: str
    week: str


# Fonts with Chinese glyphs, used first when installed (matplotlib falls back glyph by glyph).
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "SimHei",
    "PingFang SC",
)


@cache
def _font_families() -> list[str]:
    from matplotlib import font_manager

    installed = {font.name for font in font_manager.fontManager.ttflist}
    return [name for name in CJK_FONTS if name in installed] + ["DejaVu Sans"]


def trend_png(points: list[WeekPoint], labels: ChartLabels) -> bytes:
    """NPS (−100..100) and CSAT % (0..100) per week; weeks without answers leave a gap.

    Without a CJK font on the server, Chinese labels render as boxes rather than failing the chart
    (the missing-glyph warning is silenced for this call only; warnings filters are process-wide, so
    a concurrent chart could briefly share it, which is harmless).
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        return _render(points, labels)


def _render(points: list[WeekPoint], labels: ChartLabels) -> bytes:
    # Imported here: matplotlib costs a noticeable import time that only /stats needs.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    families = _font_families()  # per text, not rcParams: no global state touched
    figure = Figure(figsize=(8, 4.5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    weeks = [p.week for p in points]
    nan = float("nan")
    axes.plot(weeks, [p.csat if p.csat is not None else nan for p in points], marker="o", label=labels.csat)
    axes.plot(weeks, [p.nps if p.nps is not None else nan for p in points], marker="s", label=labels.nps)
    axes.axhline(0, color="grey", linewidth=0.8)
    axes.set_ylim(-105, 105)
    axes.set_title(labels.title, fontfamily=families)
    axes.set_xlabel(labels.week, fontfamily=families)
    axes.grid(True, alpha=0.3)
    axes.legend(loc="lower left", prop={"family": families})
    figure.autofmt_xdate()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


@dataclass(frozen=True)
class LiftLabels:
    title: str
    recipients: str
    holdout: str
    revenue: str  # the axis: revenue per customer


def lift_png(recipients: float, holdout: float, labels: LiftLabels) -> bytes:
    """Revenue per customer since a campaign's send: its recipients beside its hold-out (two bars)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        families = _font_families()
        figure = Figure(figsize=(6, 4), dpi=100)
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        bars = axes.bar([0, 1], [recipients, holdout], color=["#2a7ab9", "#9aa5ad"], width=0.6)
        axes.set_xticks([0, 1], [labels.recipients, labels.holdout], fontfamily=families)
        axes.bar_label(bars, fmt="%.2f")
        axes.set_ylabel(labels.revenue, fontfamily=families)
        axes.set_title(labels.title, fontfamily=families)
        axes.grid(True, axis="y", alpha=0.3)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        return buffer.getvalue()
