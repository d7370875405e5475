"""One contact budget for every proactive, non-transactional message: at most `budget` of them per
customer in any `days` days, and none delivered in the customer's local quiet hours (a message due
inside them waits until they end; it is not skipped).

What counts is data (BUDGETED, below): outbox rows whose dedupe key starts with one of the prefixes,
sent or still to be sent (queued, paused, sending). A message due at t has room when fewer than `budget`
such rows are due within `days` of t, before or after it: a campaign scheduled for next week counts in
next week's windows, and a row already queued for later counts against a message due before it.
Outside the budget, because the customer caused them or asked for them: birthday greetings (their own
preference), vouchers, points and purchase notices, replies, staff alerts, and the survey after a
purchase.

Over budget is decided per batch in one query (`admit`): skipped and counted by the caller, never
queued, so nothing waits forever for room in the budget.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.core.config import ContactConfig
from storage.people import consent, outbox, preferences
from storage.people.models import Customer, OutboxMessage

# The outbox rows that count, by dedupe key prefix (each sender's key, beside the code that writes it):
BUDGETED = (
    "campaign:",  # storage.campaigns.fanout.message_key
    "survey:send:",  # a survey sent to an audience (storage.surveys.sending.invitation_key)
    "winback:",  # the "we miss you" message (storage.care.winback.task_ref)
)
COUNTED = ("queued", "paused", "sending", "sent")  # failed, skipped and withdrawn rows reached nobody
OVER_BUDGET = "over_budget"  # the reason a bulk job's step gives for a customer left out


def _budgeted() -> ColumnElement[bool]:
    return or_(*(OutboxMessage.dedupe_key.startswith(prefix, autoescape=True) for prefix in BUDGETED))


def window_start(now: datetime, config: ContactConfig) -> datetime:
    return now - timedelta(days=config.days)


async def used(
    session: AsyncSession,
    customer_ids: Collection[int],
    now: datetime,
    config: ContactConfig,
    *,
    at: Mapping[int, datetime] | None = None,
) -> dict[int, int]:
    """Budgeted messages per customer due within `days` of their message's time (`at`, else `now`);
    customers with none are absent. One query over ix_outbox_customer for the whole batch (the rows of
    the span the batch's windows cover, a few per customer), counted per customer's own window."""
    if not customer_ids:
        return {}
    span = timedelta(days=config.days)
    centre = {customer_id: (at or {}).get(customer_id, now) for customer_id in customer_ids}
    rows = await session.execute(
        select(OutboxMessage.customer_id, OutboxMessage.not_before).where(
            OutboxMessage.customer_id.in_(list(centre)),
            OutboxMessage.not_before > min(centre.values()) - span,
            OutboxMessage.not_before < max(centre.values()) + span,
            OutboxMessage.status.in_(COUNTED),
            _budgeted(),
        )
    )
    counts: dict[int, int] = {}
    for customer_id, due in rows.all():
        if customer_id is not None and abs(due - centre[customer_id]) < span:
            counts[customer_id] = counts.get(customer_id, 0) + 1
    return counts


def over_budget(at: datetime, config: ContactConfig) -> ColumnElement[bool]:
    """The customer (Customer.id in the enclosing query) has no room left for a message due at `at`:
    for counting queries (a preview)."""
    span = timedelta(days=config.days)
    recent = (
        select(func.count())
        .where(
            OutboxMessage.customer_id == Customer.id,
            OutboxMessage.not_before > at - span,
            OutboxMessage.not_before < at + span,
            OutboxMessage.status.in_(COUNTED),
            _budgeted(),
        )
        .scalar_subquery()
    )
    return recent >= config.budget


def quiet_until(now: datetime, timezone: str, config: ContactConfig) -> datetime:
    """When a message due `now` may be delivered to someone in `timezone`: `now`, or the end of their
    quiet hours when `now` falls inside them (their local wall clock; across midnight when start > end)."""
    start, end = config.quiet_start, config.quiet_end
    if start == end:
        return now
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    hour = local.hour
    quiet = start <= hour < end if start < end else (hour >= start or hour < end)
    if not quiet:
        return now
    day = local.date() if hour < end else local.date() + timedelta(days=1)
    # fold=0 and a round trip through UTC: a wall-clock hour a DST change skips still gives an instant.
    return datetime.combine(day, time(end), tzinfo=zone).astimezone(now.tzinfo)


@dataclass(frozen=True)
class Admitted:
    """A batch under the budget: when each admitted customer's message may go (not_before), and who
    is left out because their budget is spent."""

    due: dict[int, datetime]
    over: set[int]


async def admit(
    session: AsyncSession,
    people: dict[int, str],
    now: datetime,
    config: ContactConfig,
    *,
    each: int = 1,
    at: Mapping[int, datetime] | None = None,
) -> Admitted:
    """People (customer id → time zone) who may get `each` more budgeted message, wanted `now` or at
    their time in `at` (a campaign's local hour), and when: that time, or the end of their quiet hours
    when it falls inside them (the later of the two)."""
    wanted = {
        customer_id: quiet_until((at or {}).get(customer_id, now), tz, config)
        for customer_id, tz in people.items()
    }
    spent = await used(session, people, now, config, at=wanted)
    due: dict[int, datetime] = {}
    over: set[int] = set()
    for customer_id in people:
        if spent.get(customer_id, 0) + each > config.budget:
            over.add(customer_id)
        else:
            due[customer_id] = wanted[customer_id]
    return Admitted(due, over)


@dataclass(frozen=True)
class Screened:
    """A batch of an audience screened for one kind of budgeted message: who gets it and when, who
    turned that kind off, who has no budget left."""

    due: dict[int, datetime]
    opted_out: set[int]
    over: set[int]

    def skipped(self) -> dict[str, int]:
        """Left out, by reason (a bulk job's Batch.skipped)."""
        reasons = {preferences.OPTED_OUT: len(self.opted_out), OVER_BUDGET: len(self.over)}
        return {reason: count for reason, count in reasons.items() if count}


async def screen(
    session: AsyncSession,
    customer_ids: Collection[int],
    kind: str,
    now: datetime,
    config: ContactConfig,
    *,
    at: Mapping[int, datetime] | None = None,
) -> Screened:
    """Preferences, then the budget and quiet hours, for a batch (each wanted `now` or at their time in
    `at`): two queries whatever its size."""
    if not customer_ids:
        return Screened({}, set(), set())
    rows = await session.execute(
        select(Customer.id, Customer.timezone, preferences.is_opted_out(kind)).where(
            Customer.id.in_(list(customer_ids))
        )
    )
    zones: dict[int, str] = {}
    opted: set[int] = set()
    for customer_id, timezone, off in rows.all():
        if off:
            opted.add(customer_id)
        else:
            zones[customer_id] = timezone
    admitted = await admit(session, zones, now, config, at=at)
    await consent.ask_again(session, opted, now)  # those whose notice is out of date: the new one
    return Screened(admitted.due, opted, admitted.over)


async def after_quiet_hours(session: AsyncSession, job_id: int, now: datetime, config: ContactConfig) -> int:
    """A bulk job's queued messages that came due while it was paused, moved to the end of their
    recipients' quiet hours where `now` falls inside them (Resume at night must not wake anyone): one
    UPDATE per time zone that is quiet now; how many rows moved."""
    came_due = (
        OutboxMessage.bulk_job_id == job_id,
        OutboxMessage.status == outbox.QUEUED,
        OutboxMessage.not_before <= now,
    )
    zones = await session.scalars(
        select(Customer.timezone)
        .join(OutboxMessage, OutboxMessage.customer_id == Customer.id)
        .where(*came_due)
        .distinct()
    )
    moved = 0
    for zone in list(zones):
        until = quiet_until(now, zone, config)
        if until <= now:
            continue
        in_zone = select(Customer.id).where(Customer.timezone == zone)
        result = await session.execute(
            update(OutboxMessage)
            .where(*came_due, OutboxMessage.customer_id.in_(in_zone))
            .values(not_before=until)
        )
        moved += int(getattr(result, "rowcount", 0) or 0)
    return moved
