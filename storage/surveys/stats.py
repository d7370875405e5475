"""Survey arithmetic, pure: response rate, CSAT (% of 4-5), NPS (% promoters 9-10 minus % detractors
0-6), counts per score, and the trend per day, week or month (whichever fits the period asked for).
No database, no Telegram: tested on known data."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Literal

from storage.core import inputs

CSAT_SCALE = range(1, 6)
NPS_SCALE = range(0, 11)


@dataclass(frozen=True)
class Score:
    kind: str  # csat | nps
    score: int
    at: datetime


Bucket = Literal["day", "week", "month"]
# A trend point per day up to a month (at most 32 points), per week up to half a year (at most 28),
# per month beyond: enough points to show a change, few enough to read each one.
DAILY_UP_TO = timedelta(days=31)
WEEKLY_UP_TO = timedelta(days=183)


@dataclass(frozen=True)
class TrendPoint:
    start: date  # the first day of its day, week (a Monday) or month
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
    trend: list[TrendPoint]
    bucket: Bucket


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


def bucket_for(period: timedelta) -> Bucket:
    """The trend's step for a period: days up to 31 days, weeks up to about 6 months, then months."""
    if period <= DAILY_UP_TO:
        return "day"
    return "week" if period <= WEEKLY_UP_TO else "month"


def bucket_start(day: date, bucket: Bucket) -> date:
    if bucket == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1) if bucket == "month" else day


def next_start(start: date, bucket: Bucket) -> date:
    if bucket == "month":
        return date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return start + timedelta(days=7 if bucket == "week" else 1)


def trend(
    scores: Iterable[Score], start: date, end: date, bucket: Bucket, zone: tzinfo = UTC
) -> list[TrendPoint]:
    """One point per day, week or month from start's to end's (those without answers have None); an
    answer counts on its date in `zone` (the staff's time zone)."""
    by_start: dict[date, dict[str, list[int]]] = {}
    first = bucket_start(start, bucket)
    while first <= end:
        by_start[first] = {"csat": [], "nps": []}
        first = next_start(first, bucket)
    for score in scores:
        values = by_start.get(bucket_start(score.at.astimezone(zone).date(), bucket))
        if values is not None and score.kind in values:
            values[score.kind].append(score.score)
    return [
        TrendPoint(first, csat(values["csat"]), nps(values["nps"]), len(values["csat"]), len(values["nps"]))
        for first, values in by_start.items()
    ]


def summarize(
    invited: int, responded: int, scores: list[Score], start: datetime, end: datetime, zone: tzinfo = UTC
) -> Summary:
    """The period's figures; its trend per day, week or month (bucket_for), dated in `zone`."""
    bucket = bucket_for(end - start)
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
        trend=trend(scores, start.astimezone(zone).date(), end.astimezone(zone).date(), bucket, zone),
        bucket=bucket,
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
