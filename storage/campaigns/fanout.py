"""Sending a campaign, as a bulk job (storage.core.bulk; storage.background lists the kind): what Confirm
records, the step that decides one batch of the audience in a fixed number of statements, the preview's
counts, and what stopping it undoes.

For each customer of a batch, in this order: unreachable (blocked the bot), too late (the campaign's
local day is over where they are, storage.campaigns.sendtime), opted out (offers off), over budget
(storage.people.contact_budget, around the time it is due), held out (storage.campaigns.holdout: drawn
among those who would get it, so the hold-out is comparable to the recipients), else sent: an outbox row
due at the campaign's send time in their zone (now, without one) or when their quiet hours end, whichever
is later, with the offer's button and "🔕 Stop offers", and the image if there is one. Every decision is a
campaign_members row, insert-if-absent, and the outbox row's key is per campaign and customer."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import case, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.campaigns import holdout, sendtime
from storage.campaigns.drafts import CampaignRefused, text_for
from storage.campaigns.models import Campaign, CampaignMember, CampaignSchedule
from storage.core import bulk
from storage.core.bulk import Batch
from storage.core.config import Config
from storage.core.models import BulkJob
from storage.core.upsert import insert_ignore_many
from storage.people import contact_budget, outbox, preferences
from storage.people.models import Customer
from storage.surveys import audiences

KIND = "campaign_send"
TEMPLATE = "campaigns.message"  # "{html_text}": the campaign's own text, checked when it was drafted
SENT, HELD_OUT, UNREACHABLE, TOO_LATE = "sent", "held_out", "unreachable", "too_late"
OPTED_OUT, OVER_BUDGET = preferences.OPTED_OUT, contact_budget.OVER_BUDGET
OUTCOMES = (SENT, HELD_OUT, OPTED_OUT, OVER_BUDGET, UNREACHABLE, TOO_LATE)
CLAIM = "cp:"  # the offer's button: "cp:<campaign id>" (storage.campaigns.offers checks the presser)
PREVIEW_CHUNK = 10_000


def job_key(campaign_id: int) -> str:
    """One job per campaign: a campaign is sent once, whichever Confirm is pressed."""
    return f"{KIND}:{campaign_id}"


def message_key(campaign_id: int, customer_id: int) -> str:
    """The outbox row's key (storage.people.contact_budget.BUDGETED counts this prefix)."""
    return f"campaign:{campaign_id}:{customer_id}"


def claim_data(campaign_id: int) -> str:
    return f"{CLAIM}{campaign_id}"


def buttons(campaign: Campaign) -> list[list[tuple[str, str]]]:
    rows = [[("@campaigns.claim_button", claim_data(campaign.id))]] if campaign.reward_id else []
    return [*rows, list(preferences.STOP_OFFERS_ROW)]


async def start(
    session: AsyncSession,
    campaign: Campaign,
    *,
    requested_by: int,
    language: str,
    now: datetime,
    total: int | None,
    chat_id: int | None,
    message_id: int | None,
) -> BulkJob:
    """Confirm: the campaign's job recorded (it fans out in the background); CampaignRefused
    campaigns.already_sent when the campaign was sent before, SendTimeRefused when its day is over,
    campaigns.recurring_confirm for a recurring one (storage.campaigns.recurring: activated, not sent
    once)."""
    if await session.get(CampaignSchedule, campaign.id) is not None:
        raise CampaignRefused("recurring.confirm", name=campaign.name)
    send = sendtime.of(campaign.send_date, campaign.send_minute)
    if send is not None:
        sendtime.check(send, now)
    job = await bulk.record(
        session,
        key=job_key(campaign.id),
        kind=KIND,
        params={"campaign": campaign.id, "name": campaign.name, "audience": campaign.audience},
        requested_by=requested_by,
        language=language,
        now=now,
        total=total,
        chat_id=chat_id,
        message_id=message_id,
    )
    if job is None:
        raise CampaignRefused("campaigns.already_sent", name=campaign.name)
    campaign.status, campaign.sent_at, campaign.job_id, campaign.updated_at = "sending", now, job.id, now
    await session.flush()
    return job


async def step(session: AsyncSession, job: BulkJob, now: datetime, limit: int, config: Config) -> Batch:
    """Decide the next `limit` customers of the audience (as it was when the job was recorded)."""
    campaign = await session.get(Campaign, job.params["campaign"])
    audience = audiences.parse(job.params["audience"])
    page = await audiences.page(
        session, audience, after=job.cursor, limit=limit, now=job.created_at, loyalty=config.loyalty
    )
    if not page.customer_ids or campaign is None:
        return Batch(read=page.read, cursor=page.last)
    people = {
        row.id: row
        for row in await session.execute(
            select(
                Customer.id,
                Customer.telegram_id,
                Customer.language,
                Customer.unreachable_at,
                Customer.timezone,
            ).where(Customer.id.in_(page.customer_ids))
        )
    }
    outcome = {cid: UNREACHABLE for cid, row in people.items() if row.unreachable_at is not None}
    send = sendtime.of(campaign.send_date, campaign.send_minute)
    at: dict[int, datetime] = {}
    for cid, row in people.items():
        if cid in outcome:
            continue
        wanted = sendtime.wanted(send, row.timezone, confirmed=job.created_at, now=now)
        if wanted is None:
            outcome[cid] = TOO_LATE
        else:
            at[cid] = wanted
    screened = await contact_budget.screen(session, at, preferences.OFFERS, now, config.contact, at=at)
    outcome.update(dict.fromkeys(screened.opted_out, OPTED_OUT))
    outcome.update(dict.fromkeys(screened.over, OVER_BUDGET))
    messages = []
    for cid, due in screened.due.items():
        if holdout.held_out(campaign.id, cid, campaign.holdout_percent):
            outcome[cid] = HELD_OUT
            continue
        outcome[cid] = SENT
        person = people[cid]
        messages.append(
            outbox.Message(
                cid,
                person.telegram_id,
                person.language,
                dedupe_key=message_key(campaign.id, cid),
                template=TEMPLATE,
                params={"html_text": text_for(campaign, person.language)},
                buttons=buttons(campaign),
                not_before=due,
                photo=campaign.photo,
            )
        )
    await insert_ignore_many(
        session,
        CampaignMember,
        [
            {"campaign_id": campaign.id, "customer_id": cid, "outcome": decided, "created_at": now}
            for cid, decided in outcome.items()
        ],
        ["campaign_id", "customer_id"],
    )
    await outbox.enqueue_many(session, messages, now=now, bulk_job_id=job.id)
    counts = Counter(outcome.values())
    return Batch(
        read=page.read,
        cursor=page.last,
        queued=counts[SENT],
        skipped={reason: counts[reason] for reason in OUTCOMES[1:] if counts[reason]},
    )


async def withdraw(session: AsyncSession, job: BulkJob, customer_ids: list[int]) -> None:
    """Stopped: these customers' messages were never sent; they count as not decided (the report
    leaves them out of both groups)."""
    campaign_id = job.params["campaign"]
    for start_at in range(0, len(customer_ids), 1000):
        await session.execute(
            delete(CampaignMember).where(
                CampaignMember.campaign_id == campaign_id,
                CampaignMember.customer_id.in_(customer_ids[start_at : start_at + 1000]),
                CampaignMember.outcome == SENT,
            )
        )


async def preview(
    session: AsyncSession, campaign: Campaign, customer_ids: Sequence[int], now: datetime, config: Config
) -> Counter[str]:
    """How a send confirmed now would go, by outcome, plus "audience": two queries per 10,000 customers
    (the counts, then the ids that would get it, for the hold-out's draw). The budget is judged around
    the send time in the default time zone (an estimate: customers' zones shift it by hours)."""
    counts: Counter[str] = Counter()
    unreachable = Customer.unreachable_at.is_not(None)
    opted = preferences.is_opted_out(preferences.OFFERS)
    send = sendtime.of(campaign.send_date, campaign.send_minute)
    over = contact_budget.over_budget(sendtime.nominal(send, config.default_timezone, now), config.contact)
    for start_at in range(0, len(customer_ids), PREVIEW_CHUNK):
        chunk = list(customer_ids[start_at : start_at + PREVIEW_CHUNK])
        row = (
            await session.execute(
                select(
                    func.count(),
                    func.sum(case((unreachable, 1), else_=0)),
                    func.sum(case((~unreachable & opted, 1), else_=0)),
                    func.sum(case((~unreachable & ~opted & over, 1), else_=0)),
                ).where(Customer.id.in_(chunk))
            )
        ).one()
        counts["audience"] += row[0] or 0
        counts[UNREACHABLE] += row[1] or 0
        counts[OPTED_OUT] += row[2] or 0
        counts[OVER_BUDGET] += row[3] or 0
        eligible = await session.scalars(
            select(Customer.id).where(Customer.id.in_(chunk), ~unreachable, ~opted, ~over)
        )
        for cid in eligible:
            counts[HELD_OUT if holdout.held_out(campaign.id, cid, campaign.holdout_percent) else SENT] += 1
    return counts
