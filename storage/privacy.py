"""A customer's data rights: everything stored about them as one document (export), and erasure.

Erasure keeps the business's books whole and forgets the person: the profile's personal data and every
free text they wrote or that was written about them are erased, outstanding vouchers are cancelled,
nothing more is scheduled or sent to them, and their Telegram id is replaced by a tombstone (minus the
row's id: Telegram ids are positive) so a later /start is a new customer and no import, referral or
button can reach the old row. Ledger entries, purchases and survey scores stay, anonymous, so
balances and reports still add up. One transaction: a crash erases all or nothing, and erasing twice
changes nothing the second time.

Above the contexts (like storage.overview) because it reads and changes all of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import String, cast, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.campaigns.models import Campaign, CampaignMember
from storage.care.models import CustomerNote, CustomerTag, FeedbackItem, FeedbackMessage, FollowUp
from storage.core.db import changed_rows
from storage.core.models import AuditEntry, Button, Conversation, LiveCard
from storage.insight.models import CustomerScore, ScoreHistory
from storage.loyalty.models import LedgerEntry, LoyaltyAccount, Purchase, ReferralCode, Voucher
from storage.people import preferences
from storage.people.models import Customer, OutboxMessage, PendingMember
from storage.surveys.models import Survey, SurveyAnswer, SurveyInvitation

ERASED_NOTE = "erased"  # why a voucher was cancelled or an unsent message skipped


def _plain(value: Any) -> Any:
    """A column value as JSON has it."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _rows(objects: Any, *columns: str) -> list[dict[str, Any]]:
    return [{c: _plain(getattr(o, c)) for c in columns} for o in objects]


async def export(session: AsyncSession, customer_id: int) -> dict[str, Any] | None:
    """Everything stored about one customer, as plain JSON values; None for an unknown or erased one.
    Nobody else's personal data is in it (staff appear by Telegram id only)."""
    customer = await session.get(Customer, customer_id)
    if customer is None or customer.erased_at is not None:
        return None
    profile = _rows(
        [customer],
        *("id", "telegram_id", "first_name", "last_name", "username", "language", "timezone"),
        *("phone", "external_id", "consent_at", "created_at"),
        "last_seen_at",
        "member_code",
        *("consent_version", "consent_withdrawn_at"),
    )[0]
    profile["birthday"] = customer.birthday.iso() if customer.birthday else None
    account = await session.get(LoyaltyAccount, customer_id)
    invitations = select(SurveyInvitation.id).where(SurveyInvitation.customer_id == customer_id)
    answers = await session.execute(
        select(Survey.name, SurveyAnswer)
        .join(Survey, Survey.id == SurveyAnswer.survey_id)
        .where(SurveyAnswer.invitation_id.in_(invitations))
        .order_by(SurveyAnswer.id)
    )
    items = list(
        await session.scalars(
            select(FeedbackItem).where(FeedbackItem.customer_id == customer_id).order_by(FeedbackItem.id)
        )
    )
    relayed: dict[int, list[FeedbackMessage]] = {}
    for message in await session.scalars(
        select(FeedbackMessage)
        .where(
            FeedbackMessage.feedback_id.in_([i.id for i in items]), FeedbackMessage.direction != "note_prompt"
        )
        .order_by(FeedbackMessage.id)
    ):
        relayed.setdefault(message.feedback_id, []).append(message)
    feedback = [
        {
            **_rows([i], *("created_at", "kind", "score_kind", "score", "comment", "status", "resolution"))[
                0
            ],
            "messages": _rows(relayed.get(i.id, []), "created_at", "direction", "text"),
        }
        for i in items
    ]

    async def of(model: Any, order: Any) -> list[Any]:
        return list(
            await session.scalars(select(model).where(model.customer_id == customer_id).order_by(order))
        )

    return {
        "profile": profile,
        "points": {
            "balance": account.balance if account else 0,
            "tier": account.tier if account else None,
            "ledger": _rows(
                await of(LedgerEntry, LedgerEntry.id),
                *("created_at", "kind", "points", "note", "expires_at", "remaining"),
            ),
        },
        "purchases": _rows(
            await of(Purchase, Purchase.id), "created_at", "amount", "points", "note", "reference"
        ),
        "vouchers": _rows(
            await of(Voucher, Voucher.id), *("created_at", "title", "code", "points", "status", "expires_at")
        ),
        "survey_answers": [
            {"survey": name, **_rows([a], "created_at", "question_id", "kind", "score", "text", "skipped")[0]}
            for name, a in answers
        ],
        "feedback": feedback,
        "follow_ups": _rows(
            await of(FollowUp, FollowUp.id), *("created_at", "kind", "reason", "due_at", "status", "outcome")
        ),
        "notes_by_staff": _rows(await of(CustomerNote, CustomerNote.id), "created_at", "text"),
        "tags": [t.tag for t in await of(CustomerTag, CustomerTag.tag)],
        "message_preferences": await preferences.of_customer(session, customer_id),
        "campaigns": [
            {"campaign": name, "outcome": outcome, "at": at.isoformat()}
            for name, outcome, at in await session.execute(
                select(Campaign.name, CampaignMember.outcome, CampaignMember.created_at)
                .join(Campaign, Campaign.id == CampaignMember.campaign_id)
                .where(CampaignMember.customer_id == customer_id)
                .order_by(CampaignMember.created_at)
            )
        ],
        "scores": _rows(
            await of(CustomerScore, CustomerScore.customer_id),
            *("scored_at", "segment", "level", "recency_days", "frequency", "monetary", "clv_12m", "p_alive"),
        ),
        "messages_sent": _rows(
            await of(OutboxMessage, OutboxMessage.id),
            *("created_at", "template", "params", "status", "sent_at"),
        ),
    }


@dataclass(frozen=True)
class Erased:
    customer_id: int
    vouchers_cancelled: int


async def erase(session: AsyncSession, customer_id: int, now: datetime) -> Erased | None:
    """Erase one customer (see the module's docstring); None when unknown or erased already."""
    customer = await session.get(Customer, customer_id, with_for_update=True)  # first: the lock order
    if customer is None or customer.erased_at is not None:
        return None
    telegram_id = customer.telegram_id
    # Why staff cancelled a voucher of theirs before: staff's words about them (the active ones get ours).
    await session.execute(
        update(Voucher).where(Voucher.customer_id == customer_id).values(cancel_reason=None)
    )
    await _forget_staff_messages(session, customer_id)
    cancelled = await changed_rows(
        session,
        update(Voucher)
        .where(Voucher.customer_id == customer_id, Voucher.status == "active")
        .values(status="cancelled", cancelled_at=now, cancel_reason=ERASED_NOTE),
    )
    mine: dict[Any, tuple[Any, dict[str, Any]]] = {
        # A message being sent right now keeps its words until the sender has recorded it.
        OutboxMessage: (
            (OutboxMessage.customer_id == customer_id) & (OutboxMessage.status != "sending"),
            {"params": {}, "buttons": None},
        ),
        LedgerEntry: (LedgerEntry.customer_id == customer_id, {"note": None, "warn_at": None}),
        Purchase: (Purchase.customer_id == customer_id, {"note": None, "survey_due_at": None}),
        LoyaltyAccount: (LoyaltyAccount.customer_id == customer_id, {"winback_due_at": None}),
        FeedbackItem: (FeedbackItem.customer_id == customer_id, {"comment": None, "resolution": None}),
        FollowUp: (FollowUp.customer_id == customer_id, {"reason": "", "outcome": None, "remind_at": None}),
    }
    # Unsent messages are never sent; what was sent keeps its row (the counts) but not its words.
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.customer_id == customer_id, OutboxMessage.status.in_(("queued", "paused")))
        .values(status="skipped", error=ERASED_NOTE)
    )
    await session.execute(
        update(FollowUp)
        .where(FollowUp.customer_id == customer_id, FollowUp.status == "open")
        .values(status="cancelled")
    )
    for model, (mine_only, values) in mine.items():
        await session.execute(update(model).where(mine_only).values(**values))
    items = select(FeedbackItem.id).where(FeedbackItem.customer_id == customer_id)
    await session.execute(
        update(FeedbackMessage).where(FeedbackMessage.feedback_id.in_(items)).values(text=None)
    )
    invitations = select(SurveyInvitation.id).where(SurveyInvitation.customer_id == customer_id)
    await session.execute(
        update(SurveyAnswer).where(SurveyAnswer.invitation_id.in_(invitations)).values(text=None)
    )
    for model in (CustomerNote, CustomerTag, ReferralCode, CustomerScore, ScoreHistory):
        await session.execute(delete(model).where(model.customer_id == customer_id))
    await session.execute(delete(Conversation).where(Conversation.user_id == telegram_id))
    await session.execute(delete(LiveCard).where(LiveCard.chat_id == telegram_id))
    await session.execute(delete(Button).where(Button.user_id == telegram_id))
    # The imported member record they were linked from: its phone becomes a tombstone too (it is unique).
    await session.execute(
        update(PendingMember)
        .where(PendingMember.linked_customer_id == customer_id)
        .values(
            name="",
            phone_hash="erased:" + cast(PendingMember.id, String),
            phone=None,
            birthday=None,
            external_id=None,
        )
    )
    for field in (
        *("last_name", "username", "phone", "birthday", "external_id"),
        "member_code",  # a scanned card of an erased customer names nobody
    ):
        setattr(customer, field, None)
    customer.first_name = ""
    customer.telegram_id = -customer.id  # the tombstone
    customer.next_birthday_at = None
    customer.last_seen_at = None
    customer.unreachable_at = now  # nothing is ever sent to a tombstone
    customer.erased_at = now
    await session.flush()
    return Erased(customer_id, cancelled)


async def _forget_staff_messages(session: AsyncSession, customer_id: int) -> None:
    """The staff group's messages about the customer (follow-up reminders quoting the reason, complaint
    alerts naming them) keep their rows, not their words: found by the keys their senders give them
    (storage.care.followups.reminder_key, storage.care.complaints._key)."""
    follow_ups = await session.scalars(select(FollowUp.id).where(FollowUp.customer_id == customer_id))
    items = await session.scalars(select(FeedbackItem.id).where(FeedbackItem.customer_id == customer_id))
    prefixes = [f"follow_up:{fid}:" for fid in follow_ups] + [f"complaint:{iid}:" for iid in items]
    for start in range(0, len(prefixes), 100):
        about = or_(
            *(OutboxMessage.dedupe_key.startswith(p, autoescape=True) for p in prefixes[start : start + 100])
        )
        await session.execute(  # not sent yet: never sent (the follow-ups are cancelled, the items closed)
            update(OutboxMessage)
            .where(about, OutboxMessage.status == "queued")
            .values(status="skipped", error=ERASED_NOTE)
        )
        await session.execute(
            update(OutboxMessage)
            .where(about, OutboxMessage.status != "sending")
            .values(params={}, buttons=None)
        )


async def inactive(session: AsyncSession, now: datetime, days: int, *, limit: int) -> list[int]:
    """Customers not seen and with no purchase for `days` (the retention period), oldest ids first."""
    since = now - timedelta(days=days)
    recent_buyers = select(Purchase.customer_id).where(Purchase.created_at >= since)
    return list(
        await session.scalars(
            select(Customer.id)
            .where(
                Customer.erased_at.is_(None),
                func.coalesce(Customer.last_seen_at, Customer.created_at) < since,
                Customer.id.not_in(recent_buyers),
            )
            .order_by(Customer.id)
            .limit(limit)
        )
    )


async def retain(session: AsyncSession, now: datetime, days: int, *, limit: int) -> tuple[int, int]:
    """One batch of the retention rule: erase up to `limit` inactive customers, each audited as done by
    the bot (actor 0). Returns (customers read, erased); fewer read than `limit`: nothing more is due."""
    due = await inactive(session, now, days, limit=limit)
    erased = 0
    for customer_id in due:
        if await erase(session, customer_id, now) is not None:
            erased += 1
            session.add(
                AuditEntry(
                    at=now,
                    actor_id=0,
                    action="retention",
                    outcome="ok",
                    target=str(customer_id),
                    detail={"days": days},
                )
            )
    await session.flush()
    return len(due), erased
