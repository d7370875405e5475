"""The /stats and campaign charts as PNGs (matplotlib, Agg canvas: no display, no pyplot global state,
so it is safe off the event loop in a worker thread). The arithmetic stays in storage (surveys.stats,
insight.stats, campaigns.report); the texts come translated from the handler."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from functools import cache
from typing import Any

from storage.surveys.stats import TrendPoint


@dataclass(frozen=True)
class ChartLabels:
    title: str
    csat: str
    nps: str
    axis: str  # what one point is: "day", "week (from Monday)", "month"
    answers: str  # the lower panel: answers per point
    ticks: list[str]  # each point's date as the reader writes it ("9 Jul", "7月9日", "2026年7月")


# Fewer points than this get their values written beside them; more would overlap.
ANNOTATE_UP_TO = 16
CSAT_COLOUR, NPS_COLOUR = "#2a7ab9", "#e07b39"
# At most this many date labels under the axis (31 daily points get one every 4 days).
MAX_TICKS = 10


def tick_positions(count: int, most: int = MAX_TICKS) -> list[int]:
    """Which points get a date under the axis: evenly spaced, always the latest (today, this week)."""
    step = max(1, -(-count // most))
    return sorted(range(count - 1, -1, -step))


# Fonts with Chinese glyphs, used first when installed (matplotlib falls back glyph by glyph).
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "SimHei",
    "PingFang SC",
)


# Shipped in a Python package (mplfonts: Noto Sans CJK SC, SIL Open Font License), so every install can
# draw Chinese labels without a system font package.
SHIPPED_CJK_FONT = ("mplfonts", "fonts/NotoSansCJKsc-Regular.otf")


@cache
def _font_families() -> list[str]:
    from importlib.resources import files

    from matplotlib import font_manager

    package, name = SHIPPED_CJK_FONT
    try:
        font_manager.fontManager.addfont(str(files(package).joinpath(name)))
    except (ModuleNotFoundError, FileNotFoundError):  # not installed: system fonts or boxes
        pass
    installed = {font.name for font in font_manager.fontManager.ttflist}
    return [name for name in CJK_FONTS if name in installed] + ["DejaVu Sans"]


def trend_png(points: list[TrendPoint], labels: ChartLabels) -> bytes:
    """NPS (−100..100) and CSAT % (0..100) per day, week or month, and below them the answers behind
    each point; points without answers leave a gap.

    Without a CJK font on the server, Chinese labels render as boxes rather than failing the chart
    (the missing-glyph warning is silenced for this call only; warnings filters are process-wide, so
    a concurrent chart could briefly share it, which is harmless).
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        return _render(points, labels)


def _signed(value: float) -> str:
    shown = f"{value:+.0f}".replace("-", "−")  # the axis's minus sign
    return "0" if shown in ("+0", "−0") else shown


def _annotate(axes: Any, x: int, point: TrendPoint) -> None:
    """Each value beside its point: with both, the higher one (CSAT on a tie) above its point and the
    other below, so the two never sit on each other or on the other line's marker; on a white ground
    over the lines."""
    csat_above = point.nps is None or point.csat is None or point.csat >= point.nps
    for value, text, colour, above in (
        (point.csat, f"{point.csat or 0:.0f}%", CSAT_COLOUR, csat_above),
        (point.nps, _signed(point.nps or 0), NPS_COLOUR, point.csat is None or not csat_above),
    ):
        if value is None:
            continue
        axes.annotate(
            text, (x, value), xytext=(0, 7 if above else -8), textcoords="offset points",
            ha="center", va="bottom" if above else "top", fontsize=8, color=colour,
            bbox={"boxstyle": "round,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.85},
        )  # fmt: skip


def _render(points: list[TrendPoint], labels: ChartLabels) -> bytes:
    # Imported here: matplotlib costs a noticeable import time that only /stats needs.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    families = _font_families()  # per text, not rcParams: no global state touched
    figure = Figure(figsize=(8, 5), dpi=100)
    FigureCanvasAgg(figure)
    axes, below = figure.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    # One position per point, labelled with its own date (not matplotlib's choice of dates between them).
    positions = list(range(len(points)))
    nan = float("nan")
    csat = [p.csat if p.csat is not None else nan for p in points]
    nps = [p.nps if p.nps is not None else nan for p in points]
    axes.plot(positions, csat, marker="o", color=CSAT_COLOUR, label=labels.csat)
    axes.plot(positions, nps, marker="s", color=NPS_COLOUR, label=labels.nps)
    if len(points) <= ANNOTATE_UP_TO:
        for x, point in zip(positions, points, strict=True):
            _annotate(axes, x, point)
    axes.axhline(0, color="grey", linewidth=0.8)
    axes.set_ylim(-135, 130)  # room for a value written under −100 or over 100
    axes.set_yticks([-100, -50, 0, 50, 100])
    axes.grid(True, alpha=0.3)
    # The legend above the plot, beside nothing it could hide; the title above it.
    axes.legend(
        loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False, prop={"family": families}
    )
    axes.set_title(labels.title, fontfamily=families, pad=26)
    # Below: how many answers each point stands on (a 100% from one answer reads as what it is).
    answers = [p.csat_n + p.nps_n for p in points]
    bars = below.bar(positions, answers, color="#b8c4cf", width=0.7)
    if len(points) <= 2 * ANNOTATE_UP_TO:
        below.bar_label(bars, [str(n) if n else "" for n in answers], fontsize=7, padding=1)
    below.set_ylim(0, max([*answers, 1]) * 1.35)
    below.yaxis.set_major_locator(MaxNLocator(3, integer=True))
    below.set_ylabel(labels.answers, fontfamily=families, fontsize=9)
    for side in ("top", "right"):
        below.spines[side].set_visible(False)
    shown = tick_positions(len(points))
    below.set_xticks(shown, [labels.ticks[i] for i in shown], fontfamily=families)
    below.set_xlim(-0.5, len(points) - 0.5)
    below.set_xlabel(labels.axis, fontfamily=families)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


@dataclass(frozen=True)
class Bars:
    """A horizontal bar chart: one bar per row (top to bottom), optionally a second, lighter bar for
    a comparison (the start of the period), each labelled with its count."""

    title: str
    rows: list[tuple[str, int, int | None]]  # label, now, before (None: no comparison)
    now: str  # legend of the bars, e.g. "now"
    before: str  # legend of the comparison bars, e.g. "1 Nov"
    pyramid: bool = False  # bars centred, widest at the bottom: the value pyramid


def bars_png(chart: Bars) -> bytes:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        return _render_bars(chart)


def _render_bars(chart: Bars) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    families = _font_families()
    figure = Figure(figsize=(8, 0.6 * len(chart.rows) + 1.6), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    labels = [label for label, _, _ in chart.rows]
    now = [value for _, value, _ in chart.rows]
    positions = list(range(len(chart.rows)))[::-1]  # the first row on top
    compare = any(before is not None for _, _, before in chart.rows)
    height = 0.4 if compare else 0.7
    if chart.pyramid:
        least = max(now, default=0) * 0.04  # the top stays visible beside a wide base
        widths = [max(v, least) for v in now]
        axes.barh(positions, widths, left=[-w / 2 for w in widths], height=0.8, color="#4c72b0")
        axes.set_xticks([])
        axes.spines["bottom"].set_visible(False)  # no scale: each level's count is written in its bar
        for y, value in zip(positions, now, strict=True):
            axes.text(0, y, f"{value:,}", ha="center", va="center", color="white", fontweight="bold")
    else:
        shift = height / 2 if compare else 0
        axes.barh([p + shift for p in positions], now, height=height, color="#4c72b0", label=chart.now)
        if compare:
            before = [b or 0 for _, _, b in chart.rows]
            axes.barh(
                [p - shift for p in positions], before, height=height, color="#c7d3e8", label=chart.before
            )
            # Above the bars, never over them.
            axes.legend(
                loc="lower center",
                bbox_to_anchor=(0.5, 1.0),
                ncol=2,
                prop={"family": families},
                frameon=False,
            )
            for y, value in zip(positions, before, strict=True):
                axes.text(value, y - shift, f" {value:,}", va="center", color="#5a6b86", fontsize=9)
        for y, value in zip(positions, now, strict=True):
            axes.text(value, y + shift, f" {value:,}", va="center")
        axes.set_xlim(0, max([*now, *(b or 0 for _, _, b in chart.rows), 1]) * 1.15)
    axes.set_yticks(positions, labels, fontfamily=families)
    axes.set_title(chart.title, fontfamily=families, pad=24 if compare and not chart.pyramid else 6)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


@dataclass(frozen=True)
class LiftLabels:
    title: str
    recipients: str  # under the bars: each group with its size ("Recipients\n120 customers")
    holdout: str
    revenue: str  # the axis: revenue per customer
    amounts: tuple[str, str] = ("", "")  # over the bars, as money is written ("€14.30"); "": plain


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
        shown = [a or f"{v:.2f}" for a, v in zip(labels.amounts, (recipients, holdout), strict=True)]
        axes.bar_label(bars, shown)
        axes.set_ylim(0, max(recipients, holdout, 1) * 1.15)  # room for the labels under the title
        axes.set_ylabel(labels.revenue, fontfamily=families)
        axes.set_title(labels.title, fontfamily=families)
        axes.grid(True, axis="y", alpha=0.3)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        return buffer.getvalue()
