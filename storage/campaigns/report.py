"""What a campaign did: its audience's outcomes, delivery (from the outbox rows its job queued), the
offer's claims and uses, and purchases and revenue per customer since it was sent, for the recipients
against the hold-out (the lift). A fixed number of grouped queries whatever the audience's size."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.campaigns.fanout import HELD_OUT, OUTCOMES, SENT, message_key
from storage.campaigns.models import Campaign, CampaignMember
from storage.campaigns.offers import offer_key
from storage.loyalty.models import Purchase, Voucher
from storage.people.models import OutboxMessage


@dataclass(frozen=True)
class Group:
    """Recipients or the hold-out: members, and their purchases since the send."""

    members: int = 0
    buyers: int = 0
    purchases: int = 0
    revenue: Decimal = Decimal(0)

    @property
    def revenue_each(self) -> Decimal:
        return (self.revenue / self.members).quantize(Decimal("0.01")) if self.members else Decimal(0)

    @property
    def purchases_each(self) -> Decimal:
        return (
            (Decimal(self.purchases) / self.members).quantize(Decimal("0.001"))
            if self.members
            else Decimal(0)
        )

    @property
    def conversion(self) -> Decimal:
        """Share of the group that bought, in percent."""
        return (
            (Decimal(100 * self.buyers) / self.members).quantize(Decimal("0.1"))
            if self.members
            else Decimal(0)
        )


@dataclass(frozen=True)
class Report:
    campaign: Campaign
    outcomes: dict[str, int]  # decided so far, by fanout.OUTCOMES
    pending: int  # queued, paused or being sent
    delivered: int  # sent without error
    blocked: int  # the customer blocked the bot (Forbidden now, or known before the row came due)
    failed: int  # other errors
    withdrawn: int  # stopped before it was sent
    claimed: int
    redeemed: int  # claimed vouchers used at the counter
    recipients: Group
    holdout: Group
    since: datetime | None

    @property
    def lift(self) -> Decimal | None:
        """Revenue per recipient over revenue per held-out customer, in percent (None: no base)."""
        base = self.holdout.revenue_each
        if not self.holdout.members or base == 0:
            return None
        return ((self.recipients.revenue_each - base) * 100 / base).quantize(Decimal("0.1"))


async def build(session: AsyncSession, campaign: Campaign, now: datetime) -> Report:
    outcomes = dict(
        (
            await session.execute(
                select(CampaignMember.outcome, func.count())
                .where(CampaignMember.campaign_id == campaign.id)
                .group_by(CampaignMember.outcome)
            )
        ).all()
    )
    delivery = {"pending": 0, "delivered": 0, "blocked": 0, "failed": 0, "withdrawn": 0}
    # A one-off send's rows are its job's; a welcome offer's (no job) are found by their key.
    rows = (
        OutboxMessage.bulk_job_id == campaign.job_id
        if campaign.job_id is not None
        else OutboxMessage.dedupe_key.startswith(
            message_key(campaign.id, 0).removesuffix("0"), autoescape=True
        )
    )
    if campaign.sent_at is not None:
        blocked = ((OutboxMessage.status == "failed") & OutboxMessage.error.startswith("forbidden")) | (
            (OutboxMessage.status == "skipped") & (OutboxMessage.error == "unreachable")
        )
        kind = case(
            (OutboxMessage.status.in_(("queued", "paused", "sending")), "pending"),
            (OutboxMessage.status == "sent", "delivered"),
            (blocked, "blocked"),
            (OutboxMessage.status == "failed", "failed"),
            else_="withdrawn",
        )
        for name, count in (
            await session.execute(select(kind, func.count()).where(rows).group_by(kind))
        ).all():
            delivery[str(name)] = int(count)
    prefix = offer_key(campaign.id, 0).removesuffix("0")
    claimed, redeemed = (
        await session.execute(
            select(func.count(), func.sum(case((Voucher.status == "used", 1), else_=0))).where(
                Voucher.idempotency_key.startswith(prefix, autoescape=True)
            )
        )
    ).one()
    groups = {SENT: Group(), HELD_OUT: Group()}
    if campaign.sent_at is not None:
        bought = (
            select(
                CampaignMember.outcome,
                func.count(func.distinct(Purchase.customer_id)),
                func.count(Purchase.id),
                func.coalesce(func.sum(Purchase.amount), 0),
            )
            .join(Purchase, Purchase.customer_id == CampaignMember.customer_id)
            .where(
                CampaignMember.campaign_id == campaign.id,
                CampaignMember.outcome.in_((SENT, HELD_OUT)),
                Purchase.created_at >= campaign.sent_at,
                Purchase.created_at <= now,
            )
            .group_by(CampaignMember.outcome)
        )
        for outcome, buyers, purchases, revenue in (await session.execute(bought)).all():
            groups[outcome] = Group(
                int(outcomes.get(outcome, 0)), int(buyers), int(purchases), Decimal(str(revenue))
            )
        for outcome in (SENT, HELD_OUT):
            if not groups[outcome].members:
                groups[outcome] = Group(int(outcomes.get(outcome, 0)))
    return Report(
        campaign=campaign,
        outcomes={outcome: int(outcomes.get(outcome, 0)) for outcome in OUTCOMES},
        claimed=int(claimed or 0),
        redeemed=int(redeemed or 0),
        recipients=groups[SENT],
        holdout=groups[HELD_OUT],
        since=campaign.sent_at,
        **delivery,
    )
