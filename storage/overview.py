"""A customer's whole picture across the contexts, the 360° card staff open with /find, and their
timeline: every purchase, points entry, survey score, feedback item, follow-up and note, newest first.

Above the contexts (like storage.background) because it reads all of them. Both read a fixed number of
queries: the card for any number of customers, the timeline a page at a time (one UNION ALL)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric, String, cast, func, literal, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from storage.care.models import CustomerNote, FeedbackItem, FollowUp
from storage.core import crypto
from storage.insight.models import CustomerScore
from storage.loyalty.models import LedgerEntry, LoyaltyAccount, Purchase
from storage.surveys.models import SurveyAnswer, SurveyInvitation

RECENT = 3  # purchases and scores a card shows
SPEND_DAYS = 365  # the card's spend: the last 12 months
TIMELINE_MAX = 1000  # events the timeline pages through (50 pages of 20)
SCORED = ("csat", "nps")


@dataclass(frozen=True)
class Bought:
    at: datetime
    amount: Decimal


@dataclass(frozen=True)
class Scored:
    at: datetime
    kind: str  # csat | nps
    score: int


@dataclass(frozen=True)
class Value:
    """What the card shows beside the profile: loyalty, spend, the latest purchases and scores, and the
    open work about the customer."""

    balance: int = 0
    tier: str | None = None  # the tier last announced (loyalty_accounts.tier); None: the first tier
    spend_12m: Decimal = Decimal(0)
    purchases_12m: int = 0
    last_purchases: tuple[Bought, ...] = ()
    scores: tuple[Scored, ...] = ()
    open_feedback: int = 0
    open_followups: int = 0
    # From the latest scoring (storage.insight); None until the customer has bought and been scored.
    segment: str | None = None
    level: str | None = None
    clv_12m: Decimal | None = None
    p_alive: float | None = None
    expected_purchases_90d: float | None = None


async def values(session: AsyncSession, customer_ids: Sequence[int], now: datetime) -> dict[int, Value]:
    """Each customer's Value, in seven queries whatever their number."""
    ids = list(customer_ids)
    if not ids:
        return {}
    fields: dict[int, dict[str, Any]] = {i: {} for i in ids}
    for customer_id, balance, tier in await session.execute(
        select(LoyaltyAccount.customer_id, LoyaltyAccount.balance, LoyaltyAccount.tier).where(
            LoyaltyAccount.customer_id.in_(ids)
        )
    ):
        fields[customer_id].update(balance=balance, tier=tier)
    since = now - timedelta(days=SPEND_DAYS)
    for customer_id, spend, count in await session.execute(
        select(Purchase.customer_id, func.sum(Purchase.amount), func.count())
        .where(Purchase.customer_id.in_(ids), Purchase.created_at >= since)
        .group_by(Purchase.customer_id)
    ):
        fields[customer_id].update(spend_12m=Decimal(spend), purchases_12m=count)
    for customer_id, bought in (await _last_purchases(session, ids)).items():
        fields[customer_id]["last_purchases"] = bought
    for customer_id, scored in (await _last_scores(session, ids)).items():
        fields[customer_id]["scores"] = scored
    for model, status, key in (
        (FeedbackItem, FeedbackItem.status != "resolved", "open_feedback"),
        (FollowUp, FollowUp.status == "open", "open_followups"),
    ):
        for customer_id, count in await session.execute(
            select(model.customer_id, func.count())
            .where(model.customer_id.in_(ids), status)
            .group_by(model.customer_id)
        ):
            fields[customer_id][key] = count
    for score in await session.scalars(select(CustomerScore).where(CustomerScore.customer_id.in_(ids))):
        fields[score.customer_id].update(
            segment=score.segment,
            level=score.level,
            clv_12m=Decimal(score.clv_12m),
            p_alive=score.p_alive,
            expected_purchases_90d=score.expected_purchases_90d,
        )
    return {i: Value(**fields[i]) for i in ids}


async def _last_purchases(session: AsyncSession, ids: list[int]) -> dict[int, tuple[Bought, ...]]:
    newest = (Purchase.created_at.desc(), Purchase.id.desc())
    ranked = (
        select(
            Purchase.customer_id,
            Purchase.created_at,
            Purchase.amount,
            func.row_number().over(partition_by=Purchase.customer_id, order_by=newest).label("rank"),
        )
        .where(Purchase.customer_id.in_(ids))
        .subquery()
    )
    found: dict[int, list[Bought]] = {}
    for customer_id, at, amount in await session.execute(
        select(ranked.c.customer_id, ranked.c.created_at, ranked.c.amount)
        .where(ranked.c.rank <= RECENT)
        .order_by(ranked.c.customer_id, ranked.c.rank)
    ):
        found.setdefault(customer_id, []).append(Bought(at, Decimal(amount)))
    return {customer_id: tuple(rows) for customer_id, rows in found.items()}


async def _last_scores(session: AsyncSession, ids: list[int]) -> dict[int, tuple[Scored, ...]]:
    newest = (SurveyAnswer.created_at.desc(), SurveyAnswer.id.desc())
    ranked = (
        select(
            SurveyInvitation.customer_id,
            SurveyAnswer.created_at,
            SurveyAnswer.kind,
            SurveyAnswer.score,
            func.row_number().over(partition_by=SurveyInvitation.customer_id, order_by=newest).label("rank"),
        )
        .join(SurveyInvitation, SurveyInvitation.id == SurveyAnswer.invitation_id)
        .where(
            SurveyInvitation.customer_id.in_(ids),
            SurveyAnswer.kind.in_(SCORED),
            SurveyAnswer.score.is_not(None),
        )
        .subquery()
    )
    found: dict[int, list[Scored]] = {}
    for customer_id, at, kind, score in await session.execute(
        select(ranked.c.customer_id, ranked.c.created_at, ranked.c.kind, ranked.c.score)
        .where(ranked.c.rank <= RECENT)
        .order_by(ranked.c.customer_id, ranked.c.rank)
    ):
        found.setdefault(customer_id, []).append(Scored(at, kind, score))
    return {customer_id: tuple(rows) for customer_id, rows in found.items()}


# -- the timeline -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Event:
    """One line of the timeline. `kind` names what happened ("purchase", "points:award", "score:nps",
    "feedback:detractor", "followup:done", "note"); `number` and `text` are its figure and words."""

    at: datetime
    kind: str
    number: Decimal | None
    text: str | None


def _events(customer_id: int) -> list[Any]:
    text, number = String(), Numeric(12, 2)

    def row(at: Any, kind: Any, amount: Any, words: Any, seq: Any) -> list[Any]:
        return [
            at.label("at"),
            seq.label("seq"),  # the row's id: events at the same instant in the order they were made
            kind.label("kind"),
            cast(amount, number).label("number"),
            cast(words, text).label("text"),
        ]

    return [
        select(
            *row(Purchase.created_at, literal("purchase"), Purchase.amount, Purchase.note, Purchase.id)
        ).where(Purchase.customer_id == customer_id),
        # Earned points are on the purchase's line already.
        select(
            *row(
                LedgerEntry.created_at,
                "points:" + LedgerEntry.kind,
                LedgerEntry.points,
                LedgerEntry.note,
                LedgerEntry.id,
            )
        ).where(LedgerEntry.customer_id == customer_id, LedgerEntry.kind != "earn"),
        select(
            *row(
                SurveyAnswer.created_at,
                "score:" + SurveyAnswer.kind,
                SurveyAnswer.score,
                null(),
                SurveyAnswer.id,
            )
        )
        .join(SurveyInvitation, SurveyInvitation.id == SurveyAnswer.invitation_id)
        .where(
            SurveyInvitation.customer_id == customer_id,
            SurveyAnswer.kind.in_(SCORED),
            SurveyAnswer.score.is_not(None),
        ),
        select(
            *row(
                FeedbackItem.created_at,
                "feedback:" + FeedbackItem.status,
                FeedbackItem.score,
                FeedbackItem.comment,
                FeedbackItem.id,
            )
        ).where(FeedbackItem.customer_id == customer_id),
        select(
            *row(
                func.coalesce(FollowUp.closed_at, FollowUp.due_at),
                "followup:" + FollowUp.status,
                null(),
                func.coalesce(FollowUp.outcome, FollowUp.reason),
                FollowUp.id,
            )
        ).where(FollowUp.customer_id == customer_id),
        select(
            *row(CustomerNote.created_at, literal("note"), null(), CustomerNote.text, CustomerNote.id)
        ).where(CustomerNote.customer_id == customer_id),
    ]


async def timeline(session: AsyncSession, customer_id: int, limit: int = TIMELINE_MAX) -> list[Event]:
    """The customer's newest `limit` events, newest first, in one query."""
    events = union_all(*_events(customer_id)).subquery()
    rows = await session.execute(
        select(events.c.at, events.c.kind, events.c.number, events.c.text)
        .order_by(events.c.at.desc(), events.c.seq.desc(), events.c.kind)
        .limit(limit)
    )
    return [
        Event(at, kind, Decimal(number) if number is not None else None, _plain(words))
        for at, kind, number, words in rows
    ]


def _plain(words: str | None) -> str | None:
    """The union's text column is cast to a plain string, so the texts (every one is encrypted:
    purchase and ledger notes, feedback, follow-ups, staff notes; storage.core.crypto) arrive as
    tokens and are decrypted here."""
    return None if words is None else crypto.keyring().decrypt(words)
