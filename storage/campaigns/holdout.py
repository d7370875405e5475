"""Who of a campaign's audience is held out: chosen at random, but reproducibly, by a hash of the
campaign and the customer, so a fan-out resumed after a crash, a preview and the report all agree on
the same people without storing a random draw first."""

from __future__ import annotations

import hashlib

SCALE = 10_000  # basis points: percentages with two decimals would fit too


def bucket(campaign_id: int, customer_id: int) -> int:
    """A number in [0, SCALE), uniform over customers for one campaign and independent across campaigns."""
    digest = hashlib.sha256(f"holdout:{campaign_id}:{customer_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % SCALE


def held_out(campaign_id: int, customer_id: int, percent: int) -> bool:
    return bucket(campaign_id, customer_id) < percent * SCALE // 100
