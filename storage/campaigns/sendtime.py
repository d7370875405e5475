"""A campaign's send time: now, or a local wall-clock time (`at 10:00`, `at 2026-12-24 10:00`) that
every customer gets in their own time zone (Customer.timezone, IANA).

- `at HH:MM`: each customer's next HH:MM in their zone at or after Confirm.
- `at YYYY-MM-DD HH:MM`: HH:MM on that day in each customer's zone.
- Late (the fan-out reached them after that instant, say the job was paused): at once while it is
  still that day where they are; once their day is over, not sent (counted "too late"): a Christmas
  Eve greeting on Christmas Day is stale.
- DST: a time a change skips (02:30 when clocks jump from 02:00 to 03:00) is moved forward by the gap
  (03:30); a time it repeats is the first of the two (PEP 495 fold=0).
- Quiet hours apply on top (storage.people.contact_budget.quiet_until): the later of the two.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from storage.core.refusals import Refused

_AT = re.compile(r"(?:(\d{4})-(\d{1,2})-(\d{1,2})\s+)?(\d{1,2})(?::(\d{2}))?")
# A day begins first at UTC+14 (Kiribati) and ends last at UTC-12 (Baker Island): 50 hours in all.
EARLIEST_OFFSET, LATEST_OFFSET = timedelta(hours=14), timedelta(hours=12)
AHEAD_MAX = timedelta(days=366)


class SendTimeRefused(Refused):
    """`code`: campaigns.bad_send_time, campaigns.send_time_passed (when), campaigns.send_time_far."""


@dataclass(frozen=True)
class SendTime:
    day: date | None  # None: the next occurrence
    minute: int  # of the local day, 0..1439

    @property
    def clock(self) -> str:
        return f"{self.minute // 60:02d}:{self.minute % 60:02d}"

    def __str__(self) -> str:
        return f"{self.day.isoformat()} {self.clock}" if self.day else self.clock


def parse(spec: str) -> SendTime:
    """`10:00`, `10`, `2026-12-24 10:00`; SendTimeRefused campaigns.bad_send_time otherwise."""
    found = _AT.fullmatch(spec.strip())
    if found is None:
        raise SendTimeRefused("campaigns.bad_send_time")
    year, month, day, hour, minute = found.groups()
    if int(hour) > 23 or int(minute or 0) > 59:
        raise SendTimeRefused("campaigns.bad_send_time")
    when = None
    if year is not None:
        try:
            when = date(int(year), int(month), int(day))
        except ValueError:
            raise SendTimeRefused("campaigns.bad_send_time") from None
    return SendTime(when, int(hour) * 60 + int(minute or 0))


def of(day: date | None, minute: int | None) -> SendTime | None:
    """A campaign's stored send time (None: now)."""
    return None if minute is None else SendTime(day, minute)


def begins(day: date) -> datetime:
    """When `day` begins first anywhere (its midnight at UTC+14)."""
    return datetime.combine(day, time(), tzinfo=UTC) - EARLIEST_OFFSET


def ends(day: date) -> datetime:
    """When `day` is over everywhere (its end at UTC-12)."""
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC) + LATEST_OFFSET


def check(send: SendTime, now: datetime) -> None:
    """Refused when the day is over everywhere on Earth, or more than a year ahead."""
    if send.day is None:
        return
    if ends(send.day) <= now:
        raise SendTimeRefused("campaigns.send_time_passed", when=str(send))
    if datetime.combine(send.day, time(), tzinfo=UTC) - now > AHEAD_MAX:
        raise SendTimeRefused("campaigns.send_time_far", when=str(send))


def local_instant(day: date, minute: int, zone: ZoneInfo) -> datetime:
    """That wall-clock time on that day in `zone`, as a UTC instant. fold=0 and a round trip through
    UTC: a skipped time lands after the gap, a repeated one is the first."""
    wall = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone)
    return wall.astimezone(UTC)


def wanted(send: SendTime | None, timezone: str, *, confirmed: datetime, now: datetime) -> datetime | None:
    """When a customer in `timezone` should get the campaign, as decided at `now` (the fan-out of their
    batch) for a campaign confirmed at `confirmed`: `now` for a send now or a late one still on its
    day where they are; None when their day is over (too late)."""
    if send is None:
        return now
    zone = ZoneInfo(timezone)
    if send.day is not None:
        day = send.day
        at = local_instant(day, send.minute, zone)
    else:
        day = confirmed.astimezone(zone).date()
        at = local_instant(day, send.minute, zone)
        if at < confirmed:
            day += timedelta(days=1)
            at = local_instant(day, send.minute, zone)
    if at >= now:
        return at
    return now if now.astimezone(zone).date() == day else None


def nominal(send: SendTime | None, timezone: str, now: datetime) -> datetime:
    """The send as one instant in `timezone` (the preview's estimate of the budget window)."""
    return wanted(send, timezone, confirmed=now, now=now) or now
