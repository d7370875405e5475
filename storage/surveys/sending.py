"""A survey sent to an audience, as a bulk job (storage.core.bulk): what Confirm records, the step that
invites one batch of the audience with a few statements (audiences.page, invitations.invite_many), and
what stopping it undoes (the invitations whose message was never sent)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage.core.bulk import Batch
from storage.core.config import Config
from storage.core.models import BulkJob
from storage.people import contact_budget, preferences
from storage.surveys import audiences, invitations
from storage.surveys.invitations import InviteOutcome
from storage.surveys.models import Survey, SurveyInvitation

KIND = "survey_send"
# Reasons a customer of the audience is left out (Batch.skipped), as invitations.InviteOutcome names them;
# before those, the customer's preference (surveys off) and the contact budget (contact_budget.screen).
REASONS = (InviteOutcome.THROTTLED, InviteOutcome.UNREACHABLE, InviteOutcome.DUPLICATE, InviteOutcome.CLOSED)


def job_key(campaign: str) -> str:
    """The job's idempotency key: one job per Confirm button."""
    return f"{KIND}:{campaign}"


def params(survey_id: int, name: str, audience: str, campaign: str) -> dict[str, Any]:
    return {"survey": survey_id, "name": name, "audience": audience, "campaign": campaign}


def invitation_key(campaign: str, customer_id: int) -> str:
    """One invitation per customer and campaign: a batch done twice invites nobody twice."""
    return f"send:{campaign}:{customer_id}"


async def step(session: AsyncSession, job: BulkJob, now: datetime, limit: int, config: Config) -> Batch:
    """Invite the next `limit` customers of the audience (as it was when the job was recorded)."""
    audience = audiences.parse(job.params["audience"])
    page = await audiences.page(
        session, audience, after=job.cursor, limit=limit, now=job.created_at, loyalty=config.loyalty
    )
    if not page.customer_ids:
        return Batch(read=page.read, cursor=page.last)
    campaign = job.params["campaign"]
    survey = await session.get(Survey, job.params["survey"])
    screened = await contact_budget.screen(
        session, page.customer_ids, preferences.SURVEYS, now, config.contact
    )
    outcomes = await invitations.invite_many(
        session,
        survey,
        {cid: invitation_key(campaign, cid) for cid in screened.due},
        now,
        config=config.surveys,
        source="send",
        bulk_job_id=job.id,
        due=screened.due,
    )
    counts = Counter(outcomes.values())
    return Batch(
        read=page.read,
        cursor=page.last,
        queued=counts[InviteOutcome.INVITED],
        skipped={
            **screened.skipped(),
            **{str(reason): counts[reason] for reason in REASONS if counts[reason]},
        },
    )


async def withdraw(session: AsyncSession, job: BulkJob, customer_ids: list[int]) -> None:
    """The job was stopped and these customers' invitations were never sent: they are forgotten, so
    they count neither as invited nor against the throttle."""
    campaign = job.params["campaign"]
    for start in range(0, len(customer_ids), 1000):
        keys = [invitation_key(campaign, cid) for cid in customer_ids[start : start + 1000]]
        await session.execute(
            delete(SurveyInvitation).where(
                SurveyInvitation.dedupe_key.in_(keys), SurveyInvitation.status == "invited"
            )
        )
