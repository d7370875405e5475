"""The survey trend chart as a PNG (matplotlib, Agg canvas: no display, no pyplot global state, so it
is safe off the event loop in a worker thread). The arithmetic stays in storage.survey_stats."""

from __future__ import annotations

import io
from dataclasses import dataclass

from storage.survey_stats import WeekPoint


@dataclass(frozen=True)
class ChartLabels:
    title: str
    csat: str
    nps: str
    week: str


def trend_png(points: list[WeekPoint], labels: ChartLabels) -> bytes:
    """NPS (−100..100) and CSAT % (0..100) per week; weeks without answers leave a gap."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 4.5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    weeks = [p.week for p in points]
    nan = float("nan")
    axes.plot(weeks, [p.csat if p.csat is not None else nan for p in points], marker="o", label=labels.csat)
    axes.plot(weeks, [p.nps if p.nps is not None else nan for p in points], marker="s", label=labels.nps)
    axes.axhline(0, color="grey", linewidth=0.8)
    axes.set_ylim(-105, 105)
    axes.set_title(labels.title)
    axes.set_xlabel(labels.week)
    axes.grid(True, alpha=0.3)
    axes.legend(loc="lower left")
    figure.autofmt_xdate()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
