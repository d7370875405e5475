"""Redeeming a reward exactly once, and the voucher's life after: used once at the counter, or
cancelled with the points given back.

redeem() checks everything before it changes anything, under the customer's account lock, so a
refusal leaves no trace; stock is taken by a conditional UPDATE (never oversold); the Confirm
button's token is the voucher's unique idempotency key (a double press redeems once)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.core import codes, localized
from storage.core.config import LoyaltyConfig
from storage.core.db import changed_rows
from storage.core.refusals import Refused
from storage.loyalty import ledger, rewards
from storage.loyalty.models import Reward, Voucher
from storage.people import outbox
from storage.people.models import Customer

VOUCHERS_SHOWN = 20
REASON_MAX = 500  # why staff cancelled a voucher, shown to the customer


class RedemptionRefused(Refused):
    """`params` hold plain values (the transaction that raised is rolled back, so no ORM object is
    carried out of it)."""


def _facts(voucher: Voucher) -> dict[str, Any]:
    return {
        "voucher": voucher.code,
        "title": voucher.title,
        "used_at": voucher.used_at,
        "used_by": voucher.used_by,
        "cancelled_at": voucher.cancelled_at,
        "expires_at": voucher.expires_at,
    }


def title(voucher: Voucher) -> localized.Localized | str:
    """The voucher's title as redeemed, as a text parameter in every language it had."""
    return localized.value(voucher.title, voucher.titles)


@dataclass(frozen=True)
class Redeemed:
    voucher: Voucher
    balance: int
    replayed: bool = False  # this key had redeemed before: nothing changed now


def status_of(voucher: Voucher, now: datetime) -> str:
    """active | used | cancelled | expired (an active voucher past its date)."""
    if voucher.status == "active" and voucher.expires_at is not None and voucher.expires_at <= now:
        return "expired"
    return voucher.status


async def by_key(session: AsyncSession, key: str) -> Voucher | None:
    return await session.scalar(select(Voucher).where(Voucher.idempotency_key == key))


async def by_code(session: AsyncSession, code: str) -> Voucher | None:
    normalized = codes.normalize(code)
    if not normalized:
        return None
    return (
        await session.scalars(
            select(Voucher).where(Voucher.code == normalized).execution_options(populate_existing=True)
        )
    ).one_or_none()


async def _new_code(session: AsyncSession) -> str:
    while True:
        code = codes.new_code()
        if await session.scalar(select(Voucher.id).where(Voucher.code == code)) is None:
            return code


async def redeem(
    session: AsyncSession,
    customer: Customer,
    reward_id: int,
    *,
    key: str,
    now: datetime,
    config: LoyaltyConfig,
    free: bool = False,
) -> Redeemed:
    """Redeem once per key; RedemptionRefused (nothing changed) when not allowed now. `free`: a gift
    (a campaign's offer, storage.campaigns.offers): no points are taken and none are needed; stock,
    the per-customer limit, the tier and the voucher's validity hold as for any redemption."""
    account = await ledger.lock_account(session, customer.id, now)
    earlier = await by_key(session, key)
    if earlier is not None:
        if earlier.customer_id != customer.id:
            raise RedemptionRefused("reward.refused_disabled")
        return Redeemed(earlier, account.balance, replayed=True)
    reward = await rewards.get(session, reward_id)
    why = await rewards.refusal(session, customer, reward, account.balance, now, config, free=free)
    if why is not None:
        raise RedemptionRefused(why[0], **why[1])
    assert reward is not None
    if reward.stock is not None:
        # The one contended row: a conditional UPDATE, so two customers never take the last item.
        # (Unlimited rewards skip it: no row lock shared by every redemption of that reward.)
        taken = await changed_rows(
            session,
            update(Reward)
            .where(Reward.id == reward.id, Reward.active.is_(True), Reward.stock > 0)
            .values(stock=Reward.stock - 1),
        )
        if taken != 1:
            fresh = await rewards.get(session, reward.id)
            gone = fresh is None or not fresh.active
            raise RedemptionRefused("reward.refused_disabled" if gone else "reward.refused_stock")
    voucher = Voucher(
        code=await _new_code(session),
        idempotency_key=key,
        customer_id=customer.id,
        reward_id=reward.id,
        title=reward.title,
        titles=reward.titles,
        points=0 if free else reward.cost,
        status="active",
        created_at=now,
        expires_at=now + timedelta(days=config.voucher_days) if config.voucher_days else None,
    )
    session.add(voucher)
    await session.flush()
    if voucher.points:
        await ledger.debit(
            session,
            customer_id=customer.id,
            points=voucher.points,
            kind="redeem",
            reference=f"redeem:{voucher.id}",
            now=now,
            note=reward.title,
        )
    return Redeemed(voucher, await ledger.balance(session, customer.id))


async def fulfil(session: AsyncSession, code: str, *, actor_id: int, now: datetime) -> Voucher:
    """Mark a voucher used, once. A second time: RedemptionRefused("reward.fulfil_used", voucher)."""
    voucher = await by_code(session, code)
    if voucher is None:
        raise RedemptionRefused("reward.voucher_unknown", voucher=code)
    marked = await changed_rows(
        session,
        update(Voucher)
        .where(
            Voucher.id == voucher.id,
            Voucher.status == "active",
            (Voucher.expires_at.is_(None)) | (Voucher.expires_at > now),
        )
        .values(status="used", used_at=now, used_by=actor_id),
    )
    voucher = await by_code(session, code)
    assert voucher is not None
    if marked != 1:
        raise RedemptionRefused(f"reward.fulfil_{status_of(voucher, now)}", **_facts(voucher))
    customer = await session.get(Customer, voucher.customer_id)
    if customer is not None:
        await outbox.enqueue_for_customer(
            session,
            customer,
            dedupe_key=f"voucher-used:{voucher.id}",
            template="loyalty.voucher_used",
            params={"title": title(voucher), "code": voucher.code},
            now=now,
        )
    return voucher


async def cancel(
    session: AsyncSession, code: str, *, reason: str, actor_id: int, now: datetime, config: LoyaltyConfig
) -> Voucher:
    """Cancel an unused voucher: the points come back (as a new lot), the stock too."""
    voucher = await by_code(session, code)
    if voucher is None:
        raise RedemptionRefused("reward.voucher_unknown", voucher=code)
    await ledger.lock_account(session, voucher.customer_id, now)  # same lock order as redeem
    marked = await changed_rows(
        session,
        update(Voucher)
        .where(Voucher.id == voucher.id, Voucher.status == "active")
        .values(status="cancelled", cancelled_at=now, cancelled_by=actor_id, cancel_reason=reason),
    )
    voucher = await by_code(session, code)
    assert voucher is not None
    if marked != 1:
        raise RedemptionRefused(f"reward.cancel_{voucher.status}", **_facts(voucher))
    await session.execute(
        update(Reward)
        .where(Reward.id == voucher.reward_id, Reward.stock.is_not(None))
        .values(stock=Reward.stock + 1)
    )
    if voucher.points:  # a gift (a campaign's offer) took none
        await ledger.credit(
            session,
            customer_id=voucher.customer_id,
            points=voucher.points,
            kind="refund",
            reference=f"refund:{voucher.id}",
            now=now,
            note=reason,
            actor_id=actor_id,
            config=config,
        )
    customer = await session.get(Customer, voucher.customer_id)
    if customer is not None:
        await outbox.enqueue_for_customer(
            session,
            customer,
            dedupe_key=f"voucher-cancelled:{voucher.id}",
            template="loyalty.voucher_cancelled",
            params={
                "title": title(voucher),
                "code": voucher.code,
                "points": voucher.points,
                "reason": reason,
                "balance": await ledger.balance(session, customer.id),
            },
            now=now,
        )
    return voucher


async def of_customer(session: AsyncSession, customer_id: int, limit: int = VOUCHERS_SHOWN) -> list[Voucher]:
    return list(
        await session.scalars(
            select(Voucher)
            .where(Voucher.customer_id == customer_id)
            .order_by(Voucher.created_at.desc(), Voucher.id.desc())
            .limit(limit)
        )
    )
