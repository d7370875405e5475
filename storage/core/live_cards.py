"""Which message of a kind is a chat's live card (storage.core.models.LiveCard): a new card takes
the place of the old one, whose buttons the handler then removes; a press on any other card of the
kind is out of date."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.core.models import LiveCard


async def replace(
    session: AsyncSession, chat_id: int, kind: str, message_id: int, now: datetime
) -> int | None:
    """Make `message_id` the live card of `kind` in this chat; the one it replaces, if another."""
    row = await session.get(LiveCard, (chat_id, kind), with_for_update=True)
    if row is None:
        session.add(LiveCard(chat_id=chat_id, kind=kind, message_id=message_id, updated_at=now))
        await session.flush()
        return None
    old = row.message_id
    row.message_id, row.updated_at = message_id, now
    await session.flush()
    return old if old != message_id else None


async def retire(session: AsyncSession, chat_id: int, kind: str) -> int | None:
    """No card of `kind` is live any more (a step answered); the message that was, if any."""
    old = await session.scalar(
        select(LiveCard.message_id).where(LiveCard.chat_id == chat_id, LiveCard.kind == kind)
    )
    await session.execute(delete(LiveCard).where(LiveCard.chat_id == chat_id, LiveCard.kind == kind))
    return old


async def is_live(session: AsyncSession, chat_id: int, kind: str, message_id: int) -> bool:
    """Whether a press on `message_id` may act: it is the live card, or the chat has none of this kind
    (a card sent before cards were tracked)."""
    live = await session.scalar(
        select(LiveCard.message_id).where(LiveCard.chat_id == chat_id, LiveCard.kind == kind)
    )
    return live is None or live == message_id
