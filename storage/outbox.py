"""The outbox: every proactive message is a row, written in the same transaction as its cause, with a
unique dedupe key; one sender claims due rows and records what Telegram answered."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Customer, OutboxMessage
from storage.upsert import insert_ignore

# A claim older than this is taken to belong to a sender that died mid-send.
CLAIM_TIMEOUT = timedelta(minutes=5)


async def enqueue(
    session: AsyncSession,
    *,
    dedupe_key: str,
    chat_id: int,
    template: str,
    language: str,
    now: datetime,
    params: dict[str, Any] | None = None,
    customer_id: int | None = None,
    not_before: datetime | None = None,
    buttons: list[list[tuple[str, str]]] | None = None,
) -> bool:
    """Queue a message once per dedupe key; False when that key was queued before.

    `buttons` rows hold (label, callback_data); a label starting with "@" is a template key.
    """
    return await insert_ignore(
        session,
        OutboxMessage,
        {
            "dedupe_key": dedupe_key,
            "chat_id": chat_id,
            "customer_id": customer_id,
            "template": template,
            "params": params or {},
            "language": language,
            "buttons": [[list(b) for b in row] for row in buttons] if buttons else None,
            "status": "queued",
            "not_before": not_before or now,
            "attempts": 0,
            "created_at": now,
        },
        ["dedupe_key"],
    )


async def enqueue_for_customer(
    session: AsyncSession,
    customer: Customer,
    *,
    dedupe_key: str,
    template: str,
    now: datetime,
    params: dict[str, Any] | None = None,
    not_before: datetime | None = None,
    buttons: list[list[tuple[str, str]]] | None = None,
) -> bool:
    return await enqueue(
        session,
        dedupe_key=dedupe_key,
        chat_id=customer.telegram_id,
        customer_id=customer.id,
        template=template,
        language=customer.language,
        params=params,
        now=now,
        not_before=not_before,
        buttons=buttons,
    )


async def claim_due(session: AsyncSession, *, worker: str, now: datetime, limit: int) -> list[OutboxMessage]:
    """Claim up to `limit` due rows for this worker.

    PostgreSQL: FOR UPDATE SKIP LOCKED, so two instances never claim the same row. SQLite: the
    transaction already holds the write lock (BEGIN IMMEDIATE), so select-then-update is atomic.
    """
    due = (
        select(OutboxMessage.id)
        .where(
            (
                (OutboxMessage.status == "queued")
                | ((OutboxMessage.status == "sending") & (OutboxMessage.claimed_at < now - CLAIM_TIMEOUT))
            ),
            OutboxMessage.not_before <= now,
        )
        .order_by(OutboxMessage.not_before, OutboxMessage.id)
        .limit(limit)
    )
    if session.bind.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = list(await session.scalars(due))
    if not ids:
        return []
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids))
        .values(status="sending", claimed_by=worker, claimed_at=now, attempts=OutboxMessage.attempts + 1)
    )
    rows = await session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.id.in_(ids))
        .order_by(OutboxMessage.not_before, OutboxMessage.id)
        .execution_options(populate_existing=True)
    )
    return list(rows)


async def mark_sent(session: AsyncSession, message_id: int, telegram_message_id: int, now: datetime) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(status="sent", sent_at=now, message_id=telegram_message_id, error=None)
    )


async def mark_failed(session: AsyncSession, message_id: int, error: str) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(status="failed", error=error[:2000])
    )


async def retry_later(session: AsyncSession, message_id: int, not_before: datetime, error: str) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(status="queued", not_before=not_before, claimed_by=None, claimed_at=None, error=error[:2000])
    )


async def mark_unreachable(session: AsyncSession, chat_id: int, now: datetime) -> None:
    """Telegram said the customer blocked us: stop their queued messages until they write again."""
    await session.execute(update(Customer).where(Customer.telegram_id == chat_id).values(unreachable_at=now))
