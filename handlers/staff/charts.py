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
    # One tick per point, labelled with its own date (not matplotlib's choice of dates between them).
    positions = list(range(len(points)))
    nan = float("nan")
    csat = [p.csat if p.csat is not None else nan for p in points]
    nps = [p.nps if p.nps is not None else nan for p in points]
    axes.plot(positions, csat, marker="o", label=labels.csat)
    axes.plot(positions, nps, marker="s", label=labels.nps)
    # Each value with the answers behind it: a 100% from one answer reads as what it is.
    for x, point in zip(positions, points, strict=True):
        if point.csat is not None:
            axes.annotate(
                f"{point.csat:.0f}%\nn={point.csat_n}",
                (x, point.csat),
                xytext=(0, 6),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=7,
            )
        if point.nps is not None:
            axes.annotate(
                f"{point.nps:+.0f}\nn={point.nps_n}",
                (x, point.nps),
                xytext=(0, -6),
                textcoords="offset points",
                ha="center",
                va="top",
                fontsize=7,
            )
    axes.axhline(0, color="grey", linewidth=0.8)
    axes.set_ylim(-115, 125)
    step = max(1, len(points) // 12)  # at most about 12 labels, however long the period
    axes.set_xticks(positions[::step], [f"{p.week.day}/{p.week.month}" for p in points[::step]])
    axes.set_xlim(-0.5, len(points) - 0.5)
    axes.set_xlabel(labels.week, fontfamily=families)
    axes.grid(True, alpha=0.3)
    # The legend above the plot, beside nothing it could hide; the title above it.
    axes.legend(
        loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False, prop={"family": families}
    )
    axes.set_title(labels.title, fontfamily=families, pad=28)
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
        axes.set_ylim(0, max(recipients, holdout, 1) * 1.15)  # room for the labels under the title
        axes.set_ylabel(labels.revenue, fontfamily=families)
        axes.set_title(labels.title, fontfamily=families)
        axes.grid(True, axis="y", alpha=0.3)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        return buffer.getvalue()
