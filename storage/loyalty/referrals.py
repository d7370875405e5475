"""Referrals: each customer's invitation code, the link made when a newcomer joins through it, and
the bonus both get once, after the newcomer's first recorded purchase."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.core import codes
from storage.core.config import LoyaltyConfig
from storage.core.db import changed_rows
from storage.core.upsert import insert_ignore
from storage.loyalty import ledger, points
from storage.loyalty.models import Referral, ReferralCode
from storage.people import outbox
from storage.people.models import Customer

PAYLOAD_PREFIX = "ref_"


async def code_for(session: AsyncSession, customer_id: int) -> str:
    """The customer's invitation code, created on first use."""
    while True:
        existing = await session.scalar(
            select(ReferralCode.code).where(ReferralCode.customer_id == customer_id)
        )
        if existing is not None:
            return existing
        code = codes.new_code()
        if await session.scalar(select(ReferralCode.customer_id).where(ReferralCode.code == code)) is None:
            await insert_ignore(
                session, ReferralCode, {"customer_id": customer_id, "code": code}, ["customer_id"]
            )


def start_payload(code: str) -> str:
    return PAYLOAD_PREFIX + code


def payload_code(payload: str) -> str | None:
    """The invitation code in a /start payload ("ref_<code>"), or None when it cannot be one."""
    if not payload.startswith(PAYLOAD_PREFIX) or len(payload) > len(PAYLOAD_PREFIX) + 2 * codes.CODE_LENGTH:
        return None
    code = codes.normalize(payload[len(PAYLOAD_PREFIX) :])
    return code if codes.plausible(code) else None


def plausible_payload(payload: str) -> str:
    """A /start payload worth keeping (a referral link's), in its canonical form; "" otherwise."""
    code = payload_code(payload)
    return start_payload(code) if code else ""


async def link_on_join(session: AsyncSession, referee: Customer, payload: str, now: datetime) -> bool:
    """Link a newcomer to whoever invited them (payload "ref_<code>"); False when it is not a valid
    invitation, is their own, or they were linked already."""
    code = payload_code(payload)
    if code is None:
        return False
    referrer_id = await session.scalar(select(ReferralCode.customer_id).where(ReferralCode.code == code))
    if referrer_id is None or referrer_id == referee.id:
        return False
    return await insert_ignore(
        session,
        Referral,
        {"referee_id": referee.id, "referrer_id": referrer_id, "created_at": now},
        ["referee_id"],
    )


async def reward_after_purchase(
    session: AsyncSession, referee: Customer, now: datetime, config: LoyaltyConfig
) -> bool:
    """Pay both sides the bonus, once: the first call after a purchase claims the referral."""
    if config.referral_bonus <= 0:
        return False
    claimed = await changed_rows(
        session,
        update(Referral)
        .where(Referral.referee_id == referee.id, Referral.rewarded_at.is_(None))
        .values(rewarded_at=now),
    )
    if claimed != 1:
        return False
    referrer = await session.get(
        Customer, await session.scalar(select(Referral.referrer_id).where(Referral.referee_id == referee.id))
    )
    bonus = config.referral_bonus
    for who, role, other in ((referee, "referee", referrer), (referrer, "referrer", referee)):
        if who is None:
            continue
        reference = f"referral:{referee.id}:{role}"
        await ledger.credit(
            session,
            customer_id=who.id,
            points=bonus,
            kind="referral",
            reference=reference,
            now=now,
            config=config,
        )
        await outbox.enqueue_for_customer(
            session,
            who,
            dedupe_key=f"notify:{reference}",
            template=f"loyalty.referral_bonus_{role}",
            params={"points": bonus, "name": other.first_name if other else ""},
            now=now,
        )
        await points.refresh_tier(session, who, now, config)
    return True


async def count_referred(session: AsyncSession, referrer_id: int) -> tuple[int, int]:
    """(joined through the link, of whom rewarded)."""
    rows = list(
        await session.scalars(select(Referral.rewarded_at).where(Referral.referrer_id == referrer_id))
    )
    return len(rows), sum(1 for r in rows if r is not None)
