"""Who a survey (or, later, a broadcast) goes to: "all", "tier <name>", "purchased <N>d", "segment <name>",
"level <level>", "inactive <N>d", "clv > <amount>", "tag <tag>", or a list of customer references ("#12
@kim +4930123 123456789"). Customers who erased their data are in none of them.

Resolving is a table of resolvers by kind; the tier audience uses the same rule as /points (points
earned in the rolling window), the purchase audience the purchases table. The insight audiences read
the customers' scores (storage.insight): a segment or a level by its code, English or Chinese name
(storage.insight.names); inactive: buyers whose last purchase is more than N days old (customers who
never bought are not inactive, they are not customers of the shop yet); clv: a 12-month CLV above the
amount. Scores follow a purchase within seconds (the scoring tick), so these are as current as that.
`page` reads an audience a batch at a time in customer id order (a bulk job's cursor), with a fixed
number of queries per page.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.care import tags
from storage.care.models import CustomerTag
from storage.core.config import LoyaltyConfig
from storage.core.refusals import Refused
from storage.insight import names, pyramid, rfm
from storage.insight.models import CustomerScore
from storage.loyalty.ledger import TIER_KINDS
from storage.loyalty.models import LedgerEntry, Purchase
from storage.loyalty.tiers import add_months, find_tier, tier_for
from storage.people import customers
from storage.people.models import Customer

MAX_DAYS = 3650
CLV = re.compile(r"clv\s*>\s*([0-9]{1,9}(?:\.[0-9]{1,2})?)", re.IGNORECASE)
SCORED = ("segment", "level", "inactive", "clv")  # the audiences read from customer_scores
REFERENCE = re.compile(r"#[0-9]{1,10}|@\w{1,64}|\+?[0-9]{1,19}")  # ids: storage.inputs bounds them


class AudienceError(Refused):
    """A refusal: see storage.refusals."""


@dataclass(frozen=True)
class Audience:
    kind: str  # all | tier | purchased | segment | level | inactive | clv | tag | list
    tier: str | None = None
    days: int | None = None
    references: tuple[str, ...] = ()
    segment: str | None = None  # a code of storage.insight.rfm.SEGMENTS
    level: str | None = None  # a code of storage.insight.pyramid.LEVELS
    amount: Decimal | None = None
    tag: str | None = None  # storage.care.tags' stored form


@dataclass(frozen=True)
class Resolved:
    customer_ids: list[int]
    unknown: list[str] = field(default_factory=list)


def parse(text: str) -> Audience:
    words = text.replace(",", " ").split()
    if not words:
        raise AudienceError("surveys.audience_missing")
    head = words[0].lower()
    if head == "all" and len(words) == 1:
        return Audience("all")
    if head == "tier":
        if len(words) != 2:
            raise AudienceError("surveys.audience_tier_syntax")
        return Audience("tier", tier=words[1].lower())
    if head == "purchased":
        match = re.fullmatch(r"([0-9]{1,4})d", words[1].lower()) if len(words) == 2 else None
        if match is None or not 1 <= int(match[1]) <= MAX_DAYS:
            raise AudienceError("surveys.audience_purchased_syntax", max=MAX_DAYS)
        return Audience("purchased", days=int(match[1]))
    if head == "tag":
        if len(words) != 2:
            raise AudienceError("surveys.audience_tag_syntax")
        try:
            return Audience("tag", tag=tags.normalise(words[1]))
        except tags.TagRefused as refused:
            raise AudienceError(refused.code, **refused.params) from None
    if head in ("segment", "level", "inactive") or head.startswith("clv"):
        return _scored(head, words, text)
    bad = [w for w in words if not REFERENCE.fullmatch(w)]
    if bad:
        raise AudienceError("surveys.audience_unknown", word=bad[0][:40])
    return Audience("list", references=tuple(dict.fromkeys(words)))


def _scored(head: str, words: list[str], text: str) -> Audience:
    """segment <name> | level <level> | inactive <N>d | clv > <amount>."""
    rest = " ".join(words[1:])
    if head == "segment":
        segments = ", ".join(rfm.SEGMENTS)
        if not rest:
            raise AudienceError("surveys.audience_segment_syntax", segments=segments)
        code = names.find_segment(rest)
        if code is None:
            raise AudienceError("surveys.audience_unknown_segment", segment=rest[:40], segments=segments)
        return Audience("segment", segment=code)
    if head == "level":
        levels = ", ".join(pyramid.LEVELS)
        if not rest:
            raise AudienceError("surveys.audience_level_syntax", levels=levels)
        code = names.find_level(rest)
        if code is None:
            raise AudienceError("surveys.audience_unknown_level", level=rest[:40], levels=levels)
        return Audience("level", level=code)
    if head == "inactive":
        match = re.fullmatch(r"([0-9]{1,4})d", rest.lower())
        if match is None or not 1 <= int(match[1]) <= MAX_DAYS:
            raise AudienceError("surveys.audience_inactive_syntax", max=MAX_DAYS)
        return Audience("inactive", days=int(match[1]))
    match = CLV.fullmatch(text.strip())
    if match is None:
        raise AudienceError("surveys.audience_clv_syntax")
    return Audience("clv", amount=Decimal(match[1]))


def _score_condition(audience: Audience, now: datetime) -> Any:
    """Which customer_scores rows an insight audience takes."""
    if audience.kind == "segment":
        return CustomerScore.segment == audience.segment
    if audience.kind == "level":
        return CustomerScore.level == audience.level
    if audience.kind == "inactive":
        return CustomerScore.last_purchase_at < now - timedelta(days=audience.days or 0)
    return CustomerScore.clv_12m > (audience.amount or 0)


async def _scored_ids(
    session: AsyncSession, audience: Audience, now: datetime, loyalty: LoyaltyConfig
) -> Resolved:
    ids = await session.scalars(
        select(CustomerScore.customer_id)
        .where(_score_condition(audience, now))
        .order_by(CustomerScore.customer_id)
    )
    return Resolved(list(ids))


async def _all(session: AsyncSession, audience: Audience, now: datetime, loyalty: LoyaltyConfig) -> Resolved:
    return Resolved(list(await session.scalars(select(Customer.id).order_by(Customer.id))))


async def _list(session: AsyncSession, audience: Audience, now: datetime, loyalty: LoyaltyConfig) -> Resolved:
    ids: list[int] = []
    unknown: list[str] = []
    for reference in audience.references:
        customer = await customers.find(session, reference, by_phone=True)  # admins send
        if customer is None:
            unknown.append(reference)
        elif customer.id not in ids:
            ids.append(customer.id)
    return Resolved(ids, unknown)


async def _tier(session: AsyncSession, audience: Audience, now: datetime, loyalty: LoyaltyConfig) -> Resolved:
    wanted = _wanted_tier(audience, loyalty)
    since = add_months(now, -loyalty.tier_window_months)
    earned = dict(
        (
            await session.execute(
                select(LedgerEntry.customer_id, func.sum(LedgerEntry.points))
                .where(LedgerEntry.kind.in_(TIER_KINDS), LedgerEntry.created_at > since)
                .group_by(LedgerEntry.customer_id)
            )
        ).all()
    )
    ids = await session.scalars(select(Customer.id).order_by(Customer.id))
    return Resolved([cid for cid in ids if tier_for(int(earned.get(cid) or 0), loyalty).name == wanted])


def _wanted_tier(audience: Audience, loyalty: LoyaltyConfig) -> str:
    wanted = find_tier(audience.tier or "", loyalty)
    if wanted is None:
        names = ", ".join(t.name for t in loyalty.tiers)
        raise AudienceError("surveys.audience_unknown_tier", tier=audience.tier or "", tiers=names)
    return wanted.name


async def _purchased(
    session: AsyncSession, audience: Audience, now: datetime, loyalty: LoyaltyConfig
) -> Resolved:
    since = now - timedelta(days=audience.days or 0)
    ids = await session.scalars(
        select(Purchase.customer_id)
        .where(Purchase.created_at >= since)
        .distinct()
        .order_by(Purchase.customer_id)
    )
    return Resolved(list(ids))


Resolver = Callable[[AsyncSession, Audience, datetime, LoyaltyConfig], Awaitable[Resolved]]

RESOLVERS: dict[str, Resolver] = {
    "all": _all,
    "list": _list,
    "tier": _tier,
    "purchased": _purchased,
    **dict.fromkeys(SCORED, _scored_ids),
}


async def _tagged(
    session: AsyncSession, audience: Audience, now: datetime, loyalty: LoyaltyConfig
) -> Resolved:
    ids = await session.scalars(
        select(CustomerTag.customer_id)
        .where(CustomerTag.tag == audience.tag)
        .order_by(CustomerTag.customer_id)
    )
    return Resolved(list(ids))


RESOLVERS["tag"] = _tagged


async def _without_erased(session: AsyncSession, ids: list[int]) -> list[int]:
    """Customers who erased their data (storage.privacy) are in no audience, whatever their history."""
    if not ids:
        return ids
    erased = set(
        await session.scalars(
            select(Customer.id).where(Customer.id.in_(ids), Customer.erased_at.is_not(None))
        )
    )
    return [i for i in ids if i not in erased] if erased else ids


async def resolve(
    session: AsyncSession, audience: Audience, now: datetime, loyalty: LoyaltyConfig
) -> Resolved:
    found = await RESOLVERS[audience.kind](session, audience, now, loyalty)
    return Resolved(await _without_erased(session, found.customer_ids), found.unknown)


@dataclass(frozen=True)
class Page:
    """The audience's customers among the next keys after a cursor: `read` keys were looked at (fewer
    than the limit: the audience is exhausted), the last of them `last` (the next cursor)."""

    customer_ids: list[int]
    read: int
    last: int


async def page(
    session: AsyncSession,
    audience: Audience,
    *,
    after: int,
    limit: int,
    now: datetime,
    loyalty: LoyaltyConfig,
) -> Page:
    """The audience, `limit` customer ids (or list entries) after `after`, in id order, without the
    customers who erased their data."""
    found = await _page(session, audience, after=after, limit=limit, now=now, loyalty=loyalty)
    return Page(await _without_erased(session, found.customer_ids), found.read, found.last)


async def _page(
    session: AsyncSession,
    audience: Audience,
    *,
    after: int,
    limit: int,
    now: datetime,
    loyalty: LoyaltyConfig,
) -> Page:
    if audience.kind == "list":  # a typed list (a message's worth): resolved whole, cut to the page
        ids = sorted(i for i in (await _list(session, audience, now, loyalty)).customer_ids if i > after)
        ids = ids[:limit]
        return Page(ids, len(ids), ids[-1] if ids else after)
    if audience.kind == "purchased":
        since = now - timedelta(days=audience.days or 0)
        ids = list(
            await session.scalars(
                select(Purchase.customer_id)
                .where(Purchase.created_at >= since, Purchase.customer_id > after)
                .distinct()
                .order_by(Purchase.customer_id)
                .limit(limit)
            )
        )
        return Page(ids, len(ids), ids[-1] if ids else after)
    if audience.kind == "tag":
        ids = list(
            await session.scalars(
                select(CustomerTag.customer_id)
                .where(CustomerTag.tag == audience.tag, CustomerTag.customer_id > after)
                .order_by(CustomerTag.customer_id)
                .limit(limit)
            )
        )
        return Page(ids, len(ids), ids[-1] if ids else after)
    if audience.kind in SCORED:
        ids = list(
            await session.scalars(
                select(CustomerScore.customer_id)
                .where(_score_condition(audience, now), CustomerScore.customer_id > after)
                .order_by(CustomerScore.customer_id)
                .limit(limit)
            )
        )
        return Page(ids, len(ids), ids[-1] if ids else after)
    scanned = list(
        await session.scalars(
            select(Customer.id).where(Customer.id > after).order_by(Customer.id).limit(limit)
        )
    )
    last = scanned[-1] if scanned else after
    if audience.kind == "all":
        return Page(scanned, len(scanned), last)
    wanted = _wanted_tier(audience, loyalty)
    earned = dict(
        (
            await session.execute(
                select(LedgerEntry.customer_id, func.sum(LedgerEntry.points))
                .where(
                    LedgerEntry.customer_id.in_(scanned),
                    LedgerEntry.kind.in_(TIER_KINDS),
                    LedgerEntry.created_at > add_months(now, -loyalty.tier_window_months),
                )
                .group_by(LedgerEntry.customer_id)
            )
        ).all()
    )
    ids = [cid for cid in scanned if tier_for(int(earned.get(cid) or 0), loyalty).name == wanted]
    return Page(ids, len(scanned), last)
