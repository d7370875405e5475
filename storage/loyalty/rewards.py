"""The rewards catalog: what staff manage (title, description, cost, stock or unlimited, a
per-customer limit, a minimum tier) and whether a customer may redeem an entry now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.core import inputs, localized
from storage.core.config import LoyaltyConfig
from storage.core.refusals import Refused
from storage.loyalty import ledger, tiers
from storage.loyalty.models import Reward, Voucher
from storage.people.models import Customer

FIELDS = ("title", "description", "cost", "stock", "limit", "tier")
# Fields that take a language suffix (title_zh=…): the value in that language; empty removes it.
TRANSLATED = {"title": "titles", "description": "descriptions"}
TITLE_MAX, DESCRIPTION_MAX, NUMBER_MAX = 120, 1000, 10_000_000
UNLIMITED = {"-", "unlimited", "none", "∞", "不限"}


class CatalogRefused(Refused):
    """`code` names the localized reason; `params` fill it."""


@dataclass(frozen=True)
class Offer:
    """A reward as one customer sees it now: what it costs them and why they cannot have it, if so."""

    reward: Reward
    balance: int
    refusal: str | None  # a catalog key, or None when redeemable
    params: dict[str, Any]

    @property
    def balance_after(self) -> int | None:
        """What redeeming leaves; None when it cannot be redeemed (never a negative balance to show)."""
        return None if self.refusal is not None else self.balance - self.reward.cost


def parse_spec(text: str) -> dict[str, str]:
    """ "title=Free coffee | cost=150 | stock=10" → {"title": "Free coffee", ...} (raw strings)."""
    spec: dict[str, str] = {}
    for part in (p.strip() for p in text.split("|")):
        if not part:
            continue
        key, sep, value = part.partition("=")
        key = key.strip().lower()
        base, lang = localized.split_field(key)
        if not sep or (key not in FIELDS and not (lang and base in TRANSLATED)):
            raise CatalogRefused("reward.spec_invalid", part=part)
        spec[key] = value.strip()
    return spec


def _number(field: str, value: str, *, allow_unlimited: bool, minimum: int) -> int | None:
    if allow_unlimited and value.strip().lower() in UNLIMITED:
        return None
    number = inputs.int_or_none(value, low=minimum, high=NUMBER_MAX)
    if number is None:
        raise CatalogRefused("reward.field_number", field=field, minimum=minimum)
    return number


def validate(spec: dict[str, str], config: LoyaltyConfig) -> dict[str, Any]:
    """Raw fields to model values (column names), refusing anything out of bounds."""
    values: dict[str, Any] = {}
    for key, raw_value in spec.items():
        base, lang = localized.split_field(key)
        if lang is None or base not in TRANSLATED:
            continue
        text = raw_value.strip()
        if len(text) > (TITLE_MAX if base == "title" else DESCRIPTION_MAX):
            code = "reward.field_title" if base == "title" else "reward.field_description"
            raise CatalogRefused(code, max=TITLE_MAX if base == "title" else DESCRIPTION_MAX)
        values.setdefault(TRANSLATED[base], {})[lang] = "" if text == "-" else text
    if "title" in spec:
        title = spec["title"].strip()
        if not title or len(title) > TITLE_MAX:
            raise CatalogRefused("reward.field_title", max=TITLE_MAX)
        values["title"] = title
    if "description" in spec:
        if len(spec["description"]) > DESCRIPTION_MAX:
            raise CatalogRefused("reward.field_description", max=DESCRIPTION_MAX)
        values["description"] = spec["description"].strip()
    if "cost" in spec:
        values["cost"] = _number("cost", spec["cost"], allow_unlimited=False, minimum=1)
    if "stock" in spec:
        values["stock"] = _number("stock", spec["stock"], allow_unlimited=True, minimum=0)
    if "limit" in spec:
        values["per_customer_limit"] = _number("limit", spec["limit"], allow_unlimited=True, minimum=1)
    if "tier" in spec:
        raw = spec["tier"].strip()
        if raw.lower() in UNLIMITED:
            values["min_tier"] = None
        else:
            tier = tiers.find_tier(raw, config)
            if tier is None:
                names = ", ".join(t.name for t in config.tiers)
                raise CatalogRefused("reward.field_tier", tier=raw, tiers=names)
            values["min_tier"] = None if tier == config.tiers[0] else tier.name
    return values


async def add(session: AsyncSession, spec: dict[str, str], config: LoyaltyConfig, now: datetime) -> Reward:
    values = validate(spec, config)
    if "title" not in values or "cost" not in values:
        raise CatalogRefused("reward.add_needs")
    for column in TRANSLATED.values():
        if column in values:
            values[column] = localized.merged(None, values[column])
    reward = Reward(**{"active": True, "description": "", "created_at": now, "updated_at": now, **values})
    session.add(reward)
    await session.flush()
    return reward


async def get(session: AsyncSession, reward_id: int) -> Reward | None:
    return (
        await session.scalars(
            select(Reward).where(Reward.id == reward_id).execution_options(populate_existing=True)
        )
    ).one_or_none()


async def _existing(session: AsyncSession, reward_id: int) -> Reward:
    reward = await get(session, reward_id)
    if reward is None:
        raise CatalogRefused("reward.unknown", id=reward_id)
    return reward


async def edit(
    session: AsyncSession, reward_id: int, spec: dict[str, str], config: LoyaltyConfig, now: datetime
) -> Reward:
    values = validate(spec, config)
    if not values:
        raise CatalogRefused("reward.edit_needs")
    reward = await _existing(session, reward_id)
    for key, value in values.items():
        if key in TRANSLATED.values():  # the languages written now; the others stay
            value = localized.merged(getattr(reward, key), value)
        setattr(reward, key, value)
    reward.updated_at = now
    await session.flush()
    return reward


async def set_active(session: AsyncSession, reward_id: int, active: bool, now: datetime) -> Reward:
    reward = await _existing(session, reward_id)
    reward.active, reward.updated_at = active, now
    await session.flush()
    return reward


async def set_stock(session: AsyncSession, reward_id: int, raw: str, now: datetime) -> Reward:
    stock = _number("stock", raw, allow_unlimited=True, minimum=0)
    reward = await _existing(session, reward_id)
    reward.stock, reward.updated_at = stock, now
    await session.flush()
    return reward


async def catalog(session: AsyncSession, *, include_inactive: bool = False) -> list[Reward]:
    stmt = select(Reward).order_by(Reward.cost, Reward.id)
    if not include_inactive:
        stmt = stmt.where(Reward.active.is_(True))
    return list(await session.scalars(stmt))


async def redeemed_count(session: AsyncSession, customer_id: int, reward_id: int) -> int:
    """Vouchers that count towards the per-customer limit (cancelled ones are given back)."""
    return int(
        await session.scalar(
            select(func.count(Voucher.id)).where(
                Voucher.customer_id == customer_id,
                Voucher.reward_id == reward_id,
                Voucher.status != "cancelled",
            )
        )
        or 0
    )


async def refusal(
    session: AsyncSession,
    customer: Customer,
    reward: Reward | None,
    balance: int,
    now: datetime,
    config: LoyaltyConfig,
    *,
    free: bool = False,
) -> tuple[str, dict[str, Any]] | None:
    """Why this customer cannot redeem this reward now (a catalog key and its params), or None.
    `free`: a gift, so the balance does not matter."""
    if reward is None or not reward.active:
        return "reward.refused_disabled", {}
    if reward.min_tier and tiers.rank(reward.min_tier, config) > 0:
        if is_locked(reward, await customer_tier_rank(session, customer, now, config), config):
            return "reward.refused_tier", {"tier": tier_label(reward.min_tier, config)}
    if is_out_of_stock(reward):
        return "reward.refused_stock", {}
    if reward.per_customer_limit is not None:
        if await redeemed_count(session, customer.id, reward.id) >= reward.per_customer_limit:
            return "reward.refused_limit", {"limit": reward.per_customer_limit}
    if not free and balance < reward.cost:
        return "reward.refused_points", {"missing": reward.cost - balance, "balance": balance}
    return None


async def offer(
    session: AsyncSession, customer: Customer, reward_id: int, now: datetime, config: LoyaltyConfig
) -> Offer | None:
    reward = await get(session, reward_id)
    if reward is None:
        return None
    balance = await ledger.balance(session, customer.id)
    why = await refusal(session, customer, reward, balance, now, config)
    return Offer(reward, balance, why[0] if why else None, why[1] if why else {})


def is_out_of_stock(reward: Reward) -> bool:
    return reward.stock is not None and reward.stock <= 0


def is_locked(reward: Reward, tier_rank: int, config: LoyaltyConfig) -> bool:
    """Whether a customer of this tier rank is below the reward's minimum tier."""
    return bool(reward.min_tier) and tiers.rank(reward.min_tier or "", config) > tier_rank


async def customer_tier_rank(
    session: AsyncSession, customer: Customer, now: datetime, config: LoyaltyConfig
) -> int:
    earned = await ledger.earned_in_window(session, customer.id, now, config)
    return tiers.rank(tiers.tier_for(earned, config).name, config)


def title(reward: Reward) -> localized.Localized | str:
    """The reward's title as a text parameter, in every language it was written in."""
    return localized.value(reward.title, reward.titles)


def description(reward: Reward) -> localized.Localized | str:
    return localized.value(reward.description or "", reward.descriptions)


def tier_label(name: str | None, config: LoyaltyConfig) -> dict[str, str] | str:
    """A reward's minimum tier as a text parameter, in the reader's language."""
    tier = tiers.find_tier(name or "", config)
    return tier.label() if tier is not None else name or ""
