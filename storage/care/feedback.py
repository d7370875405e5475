"""Feedback items: a customer's /feedback or a detractor's score, the card staff see, who owns it,
the follow-up call, the resolution, and the messages relayed between staff and the customer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import column, or_, select, table, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.care import followups
from storage.care.models import FeedbackItem, FeedbackMessage, FollowUp
from storage.core.config import ComplaintConfig, SurveyConfig
from storage.core.refusals import Refused
from storage.core.upsert import insert_ignore
from storage.insight import pyramid
from storage.insight.models import CustomerScore
from storage.people.models import Customer, StaffMember

MAX_TEXT = 4096  # a whole Telegram message: what a customer wrote is kept whole


class FeedbackRefused(Refused):
    """`code` names the localized reason; `params` fill it."""


def is_detractor(kind: str, score: int, config: SurveyConfig) -> bool:
    """The close-the-loop rule: NPS at or below 6 or CSAT at or below 2 (configurable)."""
    if kind == "nps":
        return score <= config.nps_detractor_max
    if kind == "csat":
        return score <= config.csat_detractor_max
    return False


def touch(item: FeedbackItem, now: datetime) -> None:
    """Something happened to the item: the complaint clock (storage.care.complaints) looks at it now."""
    item.alert_at = now


async def _create(session: AsyncSession, values: dict[str, object]) -> tuple[FeedbackItem, bool]:
    # The clock looks at a new item at once (alert_at: its deadlines start from created_at).
    values = {"alert_at": values["created_at"], **values} if "created_at" in values else values
    inserted = await insert_ignore(session, FeedbackItem, values, ["source_ref"])
    item = await session.scalar(
        select(FeedbackItem)
        .where(FeedbackItem.source_ref == values["source_ref"])
        .execution_options(populate_existing=True)
    )
    assert item is not None
    return item, inserted


async def submit(
    session: AsyncSession, customer: Customer, text: str, *, source_ref: str, now: datetime
) -> tuple[FeedbackItem, bool]:
    """A customer's feedback or complaint; (item, False) when this message was already submitted."""
    text = text.strip()
    if not text:
        raise FeedbackRefused("feedback.empty")
    return await _create(
        session,
        {
            "customer_id": customer.id,
            "kind": "feedback",
            "source_ref": source_ref,
            "comment": text[:MAX_TEXT],
            "status": "open",
            "created_at": now,
            "updated_at": now,
        },
    )


async def flag_detractor(
    session: AsyncSession,
    *,
    customer_id: int,
    survey_id: int,
    invitation_id: int,
    score_kind: str,
    score: int,
    now: datetime,
) -> tuple[FeedbackItem, bool]:
    return await _create(
        session,
        {
            "customer_id": customer_id,
            "kind": "detractor",
            "source_ref": f"survey:{invitation_id}",
            "survey_id": survey_id,
            "score_kind": score_kind,
            "score": score,
            "status": "open",
            "created_at": now,
            "updated_at": now,
        },
    )


async def for_invitation(session: AsyncSession, invitation_id: int) -> FeedbackItem | None:
    return await session.scalar(
        select(FeedbackItem).where(FeedbackItem.source_ref == f"survey:{invitation_id}")
    )


async def add_comment(session: AsyncSession, item: FeedbackItem, text: str) -> None:
    item.comment = text.strip()[:MAX_TEXT] or item.comment
    await session.flush()


async def set_card(session: AsyncSession, item: FeedbackItem, chat_id: int, message_id: int) -> None:
    item.card_chat_id, item.card_message_id = chat_id, message_id
    await session.flush()


async def card_posted(session: AsyncSession, item_id: int, chat_id: int, message_id: int) -> None:
    """Where an item's card went, by id: the short transaction after the card was sent (the item itself
    was committed before anything was said)."""
    await session.execute(
        update(FeedbackItem)
        .where(FeedbackItem.id == item_id)
        .values(card_chat_id=chat_id, card_message_id=message_id)
    )


async def get(session: AsyncSession, item_id: int) -> FeedbackItem | None:
    return await session.get(FeedbackItem, item_id)


@dataclass(frozen=True)
class OpenLine:
    """One line of the staff's list of feedback not yet resolved."""

    id: int
    status: str
    first_name: str
    last_name: str | None
    comment: str | None
    level: str | None  # the customer's value level (storage.insight), None when not scored


async def open_items(session: AsyncSession, limit: int = 20) -> list[OpenLine]:
    """The items not yet resolved, the most valuable customers first (key, major, regular, small, not
    scored), then oldest first; each with its customer's name and level (one query for the list)."""
    rows = await session.execute(
        select(FeedbackItem.id, FeedbackItem.status, Customer.first_name, Customer.last_name)
        .add_columns(FeedbackItem.comment, CustomerScore.level)
        .join(Customer, Customer.id == FeedbackItem.customer_id)
        .outerjoin(CustomerScore, CustomerScore.customer_id == FeedbackItem.customer_id)
        .where(FeedbackItem.status != "resolved")
        .order_by(pyramid.rank(CustomerScore.level), FeedbackItem.id)
        .limit(limit)
    )
    return [OpenLine(*row) for row in rows]


async def unposted(session: AsyncSession, before: datetime, limit: int = 50) -> list[int]:
    """Open items created up to `before` whose card never reached a staff group (sent while there was
    none, or the post failed), oldest first. `before` leaves out items whose card is being posted now
    (between the item's commit and the card's, on this instance or another)."""
    rows = await session.scalars(
        select(FeedbackItem.id)
        .where(
            FeedbackItem.status == "open",
            FeedbackItem.card_message_id.is_(None),
            FeedbackItem.created_at <= before,
        )
        .order_by(FeedbackItem.id)
        .limit(limit)
    )
    return list(rows)


# The surveys context sits above care, so the card reads a survey's name through the table that
# FeedbackItem.survey_id already refers to by name, not through storage.surveys.
_surveys = table("surveys", column("id"), column("name"))


@dataclass(frozen=True)
class Card:
    """What an item's card in the staff group shows, read in one query. `claimed_by` and `resolved_by`
    are staff names (a Telegram id for someone no longer on the staff), None when nobody is recorded."""

    id: int
    kind: str
    score_kind: str | None
    score: int | None
    survey_name: str | None
    customer_id: int
    first_name: str
    last_name: str | None
    username: str | None
    comment: str | None
    status: str
    claimed_by: str | None
    follow_up_id: int | None
    follow_up_due_at: datetime | None
    resolved_by: str | None
    resolution: str | None
    category: str | None = None
    level: str | None = None  # the customer's value level (storage.insight)


def _staff_name(name: str | None, telegram_id: int | None) -> str | None:
    return None if telegram_id is None else name or str(telegram_id)


async def card(session: AsyncSession, item_id: int) -> Card | None:
    claimer, resolver = aliased(StaffMember), aliased(StaffMember)
    row = (
        await session.execute(
            select(
                FeedbackItem,
                _surveys.c.name,
                Customer.first_name,
                Customer.last_name,
                Customer.username,
                claimer.name,
                FollowUp.id,
                FollowUp.due_at,
                resolver.name,
                CustomerScore.level,
            )
            .join(Customer, Customer.id == FeedbackItem.customer_id)
            .outerjoin(CustomerScore, CustomerScore.customer_id == FeedbackItem.customer_id)
            .outerjoin(_surveys, _surveys.c.id == FeedbackItem.survey_id)
            .outerjoin(claimer, claimer.telegram_id == FeedbackItem.claimed_by)
            .outerjoin(FollowUp, FollowUp.id == FeedbackItem.follow_up_id)
            .outerjoin(resolver, resolver.telegram_id == FeedbackItem.resolved_by)
            .where(FeedbackItem.id == item_id)
        )
    ).one_or_none()
    if row is None:
        return None
    (
        item,
        survey_name,
        first_name,
        last_name,
        username,
        claimer_name,
        follow_up_id,
        due_at,
        resolver_name,
        level,
    ) = row
    return Card(
        id=item.id,
        kind=item.kind,
        score_kind=item.score_kind,
        score=item.score,
        survey_name=survey_name,
        customer_id=item.customer_id,
        first_name=first_name,
        last_name=last_name,
        username=username,
        comment=item.comment,
        status=item.status,
        claimed_by=_staff_name(claimer_name, item.claimed_by),
        follow_up_id=follow_up_id,
        follow_up_due_at=due_at,
        resolved_by=_staff_name(resolver_name, item.resolved_by),
        resolution=item.resolution,
        category=item.category,
        level=level,
    )


async def claim(session: AsyncSession, item: FeedbackItem, staff_id: int, now: datetime) -> None:
    """Record who owns the item; another member's claim stands until the item is resolved."""
    if item.status == "resolved":
        raise FeedbackRefused("feedback.already_resolved")
    if item.claimed_by is not None and item.claimed_by != staff_id:
        raise FeedbackRefused("feedback.claimed_by_other")
    item.status, item.claimed_by, item.claimed_at = "claimed", staff_id, item.claimed_at or now
    touch(item, now)
    await session.flush()


async def call_back(
    session: AsyncSession, item: FeedbackItem, staff_id: int, now: datetime, config: SurveyConfig, reason: str
) -> FollowUp:
    """A follow-up call due within the configured hours; once per item (pressing again shows it)."""
    if item.status == "resolved":
        raise FeedbackRefused("feedback.already_resolved")
    follow_up = await followups.create(
        session,
        customer_id=item.customer_id,
        kind="call",
        reason=reason,
        due_at=now + timedelta(hours=config.followup_hours),
        created_by=staff_id,
        assignee_id=item.claimed_by or staff_id,
        source_ref=f"feedback:{item.id}:call",
    )
    item.follow_up_id = follow_up.id
    if item.claimed_by is None:
        item.status, item.claimed_by, item.claimed_at = "claimed", staff_id, now
    touch(item, now)
    await session.flush()
    return follow_up


async def resolve(session: AsyncSession, item: FeedbackItem, staff_id: int, now: datetime) -> None:
    if item.status == "resolved":
        raise FeedbackRefused("feedback.already_resolved")
    item.status, item.resolved_by, item.resolved_at = "resolved", staff_id, now
    touch(item, now)
    await session.flush()


async def set_category(
    session: AsyncSession, item: FeedbackItem, category: str, config: ComplaintConfig
) -> None:
    """What the item is about, one of the configured categories (for /stats complaints)."""
    if category not in config.categories:
        raise FeedbackRefused("feedback.unknown_category")
    item.category = category
    await session.flush()


async def set_resolution(session: AsyncSession, item: FeedbackItem, note: str) -> None:
    item.resolution = note.strip()[:MAX_TEXT] or None
    await session.flush()


@dataclass(frozen=True)
class Relay:
    item: FeedbackItem
    message: FeedbackMessage


async def record_relay(
    session: AsyncSession,
    item: FeedbackItem,
    *,
    direction: str,
    author_id: int,
    source_chat_id: int,
    source_message_id: int,
    text: str | None,
    now: datetime,
) -> FeedbackMessage | None:
    """Record a message about to be relayed; None when this source message was relayed before."""
    inserted = await insert_ignore(
        session,
        FeedbackMessage,
        {
            "feedback_id": item.id,
            "direction": direction,
            "author_id": author_id,
            "source_chat_id": source_chat_id,
            "source_message_id": source_message_id,
            "text": (text or "")[:MAX_TEXT] or None,
            "created_at": now,
        },
        ["source_chat_id", "source_message_id"],
    )
    if not inserted:
        return None
    if direction == "to_customer":
        touch(item, now)  # a reply to the customer is a response
    return await session.scalar(
        select(FeedbackMessage).where(
            FeedbackMessage.source_chat_id == source_chat_id,
            FeedbackMessage.source_message_id == source_message_id,
        )
    )


async def set_relayed(session: AsyncSession, message: FeedbackMessage, chat_id: int, message_id: int) -> None:
    message.relay_chat_id, message.relay_message_id = chat_id, message_id
    await session.flush()


async def relayed(session: AsyncSession, relay_id: int, chat_id: int, message_id: int) -> None:
    """Where a recorded relay was delivered, by id: the short transaction after it was sent."""
    await session.execute(
        update(FeedbackMessage)
        .where(FeedbackMessage.id == relay_id)
        .values(relay_chat_id=chat_id, relay_message_id=message_id)
    )


async def find_by_message(
    session: AsyncSession, chat_id: int, message_id: int
) -> Relay | FeedbackItem | None:
    """What a Telegram reply points at: a card (the item), or a relayed message / note prompt (Relay)."""
    item = await session.scalar(
        select(FeedbackItem).where(
            FeedbackItem.card_chat_id == chat_id, FeedbackItem.card_message_id == message_id
        )
    )
    if item is not None:
        return item
    message = await session.scalar(
        select(FeedbackMessage).where(
            or_(
                (FeedbackMessage.relay_chat_id == chat_id) & (FeedbackMessage.relay_message_id == message_id),
                (FeedbackMessage.source_chat_id == chat_id)
                & (FeedbackMessage.source_message_id == message_id),
            )
        )
    )
    if message is None:
        return None
    found = await session.get(FeedbackItem, message.feedback_id)
    assert found is not None
    return Relay(found, message)
