"""Survey arithmetic, pure: response rate, CSAT (% of 4-5), NPS (% promoters 9-10 minus % detractors
0-6), counts per score, and the weekly trend. No database, no Telegram: tested on known data."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from storage.core import inputs

CSAT_SCALE = range(1, 6)
NPS_SCALE = range(0, 11)


@dataclass(frozen=True)
class Score:
    kind: str  # csat | nps
    score: int
    at: datetime


@dataclass(frozen=True)
class WeekPoint:
    week: date  # the Monday the week starts on
    csat: float | None
    nps: float | None
    csat_n: int
    nps_n: int


@dataclass(frozen=True)
class Summary:
    invited: int
    responded: int
    response_rate: float | None  # percent
    csat: float | None  # percent of 4-5
    nps: float | None  # -100..100
    csat_counts: dict[int, int]
    nps_counts: dict[int, int]
    trend: list[WeekPoint]


def _percent(part: int, whole: int) -> float | None:
    return 100.0 * part / whole if whole else None


def response_rate(invited: int, responded: int) -> float | None:
    return _percent(responded, invited)


def csat(scores: Iterable[int]) -> float | None:
    """Share of satisfied answers (4 or 5 on 1-5), in percent; None without answers."""
    values = list(scores)
    return _percent(sum(1 for s in values if s >= 4), len(values))


def nps(scores: Iterable[int]) -> float | None:
    """% promoters (9-10) − % detractors (0-6), from −100 to 100; None without answers."""
    values = list(scores)
    if not values:
        return None
    promoters = sum(1 for s in values if s >= 9)
    detractors = sum(1 for s in values if s <= 6)
    return 100.0 * (promoters - detractors) / len(values)


def counts(scores: Iterable[int], scale: range) -> dict[int, int]:
    result = dict.fromkeys(scale, 0)
    for score in scores:
        if score in result:
            result[score] += 1
    return result


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def weekly_trend(scores: Iterable[Score], start: date, end: date) -> list[WeekPoint]:
    """One point per week from start's week to end's week (weeks without answers have None)."""
    by_week: dict[date, dict[str, list[int]]] = {}
    week = week_start(start)
    while week <= end:
        by_week[week] = {"csat": [], "nps": []}
        week += timedelta(days=7)
    for score in scores:
        bucket = by_week.get(week_start(score.at.date()))
        if bucket is not None and score.kind in bucket:
            bucket[score.kind].append(score.score)
    return [
        WeekPoint(week, csat(values["csat"]), nps(values["nps"]), len(values["csat"]), len(values["nps"]))
        for week, values in by_week.items()
    ]


def summarize(invited: int, responded: int, scores: list[Score], start: datetime, end: datetime) -> Summary:
    csat_scores = [s.score for s in scores if s.kind == "csat"]
    nps_scores = [s.score for s in scores if s.kind == "nps"]
    return Summary(
        invited=invited,
        responded=responded,
        response_rate=response_rate(invited, responded),
        csat=csat(csat_scores),
        nps=nps(nps_scores),
        csat_counts=counts(csat_scores, CSAT_SCALE),
        nps_counts=counts(nps_scores, NPS_SCALE),
        trend=weekly_trend(scores, start.date(), end.date()),
    )


DEFAULT_PERIOD = timedelta(weeks=12)
MAX_PERIOD_DAYS = 3650


def parse_period(text: str) -> timedelta | None:
    """ "30d", "12w", "6m" (30-day months), "1y"; empty: 12 weeks; None when not understood."""
    text = text.strip().lower()
    if not text:
        return DEFAULT_PERIOD
    count = inputs.int_or_none(text[:-1], low=1, high=MAX_PERIOD_DAYS)
    if count is None or text[-1] not in "dwmy":
        return None
    days = count * {"d": 1, "w": 7, "m": 30, "y": 365}[text[-1]]
    return timedelta(days=days) if days <= MAX_PERIOD_DAYS else None
