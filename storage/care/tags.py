"""Labels staff give customers (/tag vip): shown on the card and usable as an audience (`tag vip`).

A tag is one word of letters, digits, `_` or `-` (any script: 老客户 is a tag), at most TAG_MAX
characters, compared in lower case; a customer has at most PER_CUSTOMER of them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.care.models import CustomerTag
from storage.core.db import changed_rows
from storage.core.refusals import Refused
from storage.core.upsert import insert_ignore

TAG_MAX = 32
PER_CUSTOMER = 20
SHAPE = re.compile(r"[^\W_][\w-]*")  # starts with a letter or digit; `\w` is any script's letters


class TagRefused(Refused):
    """`code` names the localized reason; `params` fill it."""


def normalise(word: str) -> str:
    """The stored form of a tag typed by staff ("#VIP" → "vip"); refused when it is not one."""
    tag = word.strip().removeprefix("#").casefold()
    if not SHAPE.fullmatch(tag) or len(tag) > TAG_MAX:
        raise TagRefused("tags.invalid", tag=word[:40], max=TAG_MAX)
    return tag


async def add(session: AsyncSession, customer_id: int, tag: str, staff_id: int, now: datetime) -> bool:
    """Tag a customer; False when they had the tag already. Refused past PER_CUSTOMER tags."""
    count = await session.scalar(select(func.count()).where(CustomerTag.customer_id == customer_id))
    if (count or 0) >= PER_CUSTOMER:
        raise TagRefused("tags.too_many", max=PER_CUSTOMER)
    row = {"customer_id": customer_id, "tag": tag, "staff_id": staff_id, "created_at": now}
    return await insert_ignore(session, CustomerTag, row, ["customer_id", "tag"])


async def remove(session: AsyncSession, customer_id: int, tag: str) -> bool:
    """Untag a customer; False when they did not have the tag."""
    stmt = delete(CustomerTag).where(CustomerTag.customer_id == customer_id, CustomerTag.tag == tag)
    return bool(await changed_rows(session, stmt))


async def of(session: AsyncSession, customer_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    """Each customer's tags in alphabetical order, for many cards in one query."""
    if not customer_ids:
        return {}
    rows = await session.execute(
        select(CustomerTag.customer_id, CustomerTag.tag)
        .where(CustomerTag.customer_id.in_(customer_ids))
        .order_by(CustomerTag.customer_id, CustomerTag.tag)
    )
    found: dict[int, list[str]] = {}
    for customer_id, tag in rows:
        found.setdefault(customer_id, []).append(tag)
    return {customer_id: tuple(tags) for customer_id, tags in found.items()}


def tagged(tag: str) -> Select[int]:
    """The ids of the customers with `tag`, as a subquery an audience filters by."""
    return select(CustomerTag.customer_id).where(CustomerTag.tag == tag)
