"""Who a survey (or, later, a broadcast) goes to: "all", "tier <name>", "purchased <N>d", or a list of
customer references ("#12 @kim +4930123 123456789").

Parsing is complete now; resolving is a table of resolvers by kind, so the loyalty audiences (tier,
purchased) plug in with one entry each once their tables exist. Until then they answer
"surveys.audience_unavailable".
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import customers
from storage.models import Customer

MAX_DAYS = 3650
REFERENCE = re.compile(r"#\d{1,12}|@\w{1,64}|\+?\d{1,15}")


class AudienceError(Exception):
    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class Audience:
    kind: str  # all | tier | purchased | list
    tier: str | None = None
    days: int | None = None
    references: tuple[str, ...] = ()


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
        match = re.fullmatch(r"(\d{1,4})d", words[1].lower()) if len(words) == 2 else None
        if match is None or not 1 <= int(match[1]) <= MAX_DAYS:
            raise AudienceError("surveys.audience_purchased_syntax", max=MAX_DAYS)
        return Audience("purchased", days=int(match[1]))
    bad = [w for w in words if not REFERENCE.fullmatch(w)]
    if bad:
        raise AudienceError("surveys.audience_unknown", word=bad[0][:40])
    return Audience("list", references=tuple(dict.fromkeys(words)))


async def _all(session: AsyncSession, audience: Audience, now: datetime) -> Resolved:
    return Resolved(list(await session.scalars(select(Customer.id).order_by(Customer.id))))


async def _list(session: AsyncSession, audience: Audience, now: datetime) -> Resolved:
    ids: list[int] = []
    unknown: list[str] = []
    for reference in audience.references:
        customer = await customers.find(session, reference)
        if customer is None:
            unknown.append(reference)
        elif customer.id not in ids:
            ids.append(customer.id)
    return Resolved(ids, unknown)


Resolver = Callable[[AsyncSession, Audience, datetime], Awaitable[Resolved]]

# "tier" and "purchased" join here when the loyalty tables are on main.
RESOLVERS: dict[str, Resolver] = {"all": _all, "list": _list}


async def resolve(session: AsyncSession, audience: Audience, now: datetime) -> Resolved:
    resolver = RESOLVERS.get(audience.kind)
    if resolver is None:
        raise AudienceError("surveys.audience_unavailable", kind=audience.kind)
    return await resolver(session, audience, now)
