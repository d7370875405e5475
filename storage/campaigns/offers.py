"""A campaign's offer, claimed by its recipient with one button ("cp:<campaign id>"): a voucher for the
campaign's reward through storage.loyalty.redemptions.redeem, as a gift (no points taken: the offer is
the campaign's to give; stock, the per-customer limit, the tier and the voucher's validity hold as for
any redemption). The voucher's key is the campaign and the customer, so a double tap, a repeated
update or a second press days later claims once and shows the same voucher."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.campaigns.drafts import CampaignRefused
from storage.campaigns.fanout import CLAIM, SENT
from storage.campaigns.models import Campaign, CampaignMember
from storage.core import inputs
from storage.core.config import LoyaltyConfig
from storage.loyalty import redemptions
from storage.loyalty.redemptions import Redeemed
from storage.people.models import Customer


def offer_key(campaign_id: int, customer_id: int) -> str:
    """The voucher's idempotency key; the report counts claims by its prefix."""
    return f"campaign:{campaign_id}:{customer_id}"


def parse_claim(data: str) -> int | None:
    """The campaign id of a claim button, or None when the data is not one."""
    if not data.startswith(CLAIM):
        return None
    return inputs.int_or_none(data.removeprefix(CLAIM), low=1, high=inputs.MAX_ID)


async def claim(
    session: AsyncSession, customer: Customer, campaign_id: int, *, now: datetime, config: LoyaltyConfig
) -> Redeemed:
    """The offer for `customer`, once: CampaignRefused button.stale when this campaign sent them no
    offer (a forged or foreign button), RedemptionRefused (nothing changed) when the reward is gone,
    out of stock or over its limit."""
    campaign = await session.get(Campaign, campaign_id)
    sent = await session.scalar(
        select(CampaignMember.outcome).where(
            CampaignMember.campaign_id == campaign_id, CampaignMember.customer_id == customer.id
        )
    )
    if campaign is None or campaign.reward_id is None or sent != SENT:
        raise CampaignRefused("button.stale")
    return await redemptions.redeem(
        session,
        customer,
        campaign.reward_id,
        key=offer_key(campaign.id, customer.id),
        now=now,
        config=config,
        free=True,
    )
