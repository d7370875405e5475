"""Tier policy, pure: the tier earned points reach, the progress towards the next one, and the
points a purchase earns. Tiers count points *earned* in a rolling window, never the balance, so
spending never demotes."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal

from storage.core.config import LoyaltyConfig, Tier


@dataclass(frozen=True)
class TierProgress:
    tier: Tier
    next_tier: Tier | None
    earned: int
    # Points still to earn for the next tier (0 at the top), and the share of the way there (0..1).
    missing: int
    fraction: float


def tier_for(earned: int, config: LoyaltyConfig) -> Tier:
    reached = [t for t in config.tiers if earned >= t.threshold]
    return reached[-1] if reached else config.tiers[0]


def rank(name: str | None, config: LoyaltyConfig) -> int:
    """A tier's position (0 = the first); unknown or None is the first tier."""
    names = [t.name.lower() for t in config.tiers]
    return names.index(name.lower()) if name and name.lower() in names else 0


def find_tier(name: str, config: LoyaltyConfig) -> Tier | None:
    return next((t for t in config.tiers if t.name.lower() == name.strip().lower()), None)


def progress(earned: int, config: LoyaltyConfig) -> TierProgress:
    tier = tier_for(earned, config)
    index = config.tiers.index(tier)
    if index + 1 >= len(config.tiers):
        return TierProgress(tier, None, earned, 0, 1.0)
    nxt = config.tiers[index + 1]
    span = nxt.threshold - tier.threshold
    return TierProgress(tier, nxt, earned, nxt.threshold - earned, (earned - tier.threshold) / span)


def bar(fraction: float, width: int = 10) -> str:
    filled = max(0, min(width, int(fraction * width)))
    return "▰" * filled + "▱" * (width - filled)


def purchase_points(amount: Decimal, tier: Tier, config: LoyaltyConfig) -> int:
    """floor(amount × rate × multiplier), in exact decimal arithmetic."""
    product = amount * config.points_per_currency * tier.multiplier
    return int(product.to_integral_value(rounding=ROUND_FLOOR))


def add_months(when: datetime, months: int) -> datetime:
    """The same wall-clock instant `months` later (or earlier), clamped to the month's last day."""
    index = when.month - 1 + months
    year, month = when.year + index // 12, index % 12 + 1
    day = min(when.day, calendar.monthrange(year, month)[1])
    return when.replace(year=year, month=month, day=day)
