"""The survey invitation a purchase leads to, some hours later (purchases.survey_due_at, indexed): the
purchase survey (storage.surveys.purchase_survey) through storage.surveys.invite, which applies the
throttle. Each due purchase is handled once, invited or not."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.core.claims import claim_due
from storage.core.config import SurveyConfig
from storage.loyalty.models import Purchase
from storage.people.models import Customer
from storage.surveys import invitations


def invitation_key(purchase_id: int) -> str:
    return f"purchase-survey:{purchase_id}"


async def invite_due(
    session: AsyncSession, now: datetime, config: SurveyConfig, *, limit: int = 500
) -> tuple[int, Counter[str]]:
    """Invite the customers whose purchase survey is due; returns (purchases read, outcomes by
    surveys.InviteOutcome). Without an active purchase survey the due purchases are dropped quietly
    (a survey activated later is not sent for old purchases)."""
    rows = await claim_due(
        session, Purchase.survey_due_at, Purchase.id, Purchase.customer_id, until=now, limit=limit
    )
    outcomes: Counter[str] = Counter()
    if not rows:
        return 0, outcomes
    survey = await invitations.purchase_survey(session, config)
    if survey is None:
        outcomes["no_survey"] += len(rows)
        return len(rows), outcomes
    customers = {
        customer.id: customer
        for customer in await session.scalars(
            select(Customer).where(Customer.id.in_({customer_id for _, customer_id in rows}))
        )
    }
    for purchase_id, customer_id in rows:
        customer = customers.get(customer_id)
        if customer is None:
            continue
        outcome = await invitations.invite(
            session, survey, customer, now, invitation_key(purchase_id), config=config, source="purchase"
        )
        outcomes[outcome] += 1
    return len(rows), outcomes
