"""What the bot waits for from a person, kept in the database so it survives a restart."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage.core.models import Conversation


async def expect(
    session: AsyncSession, chat_id: int, user_id: int, step: str, payload: dict[str, Any] | None = None
) -> None:
    """Wait for `step` next from this user in this chat (replacing whatever was awaited)."""
    row = await session.get(Conversation, (chat_id, user_id))
    if row is None:
        session.add(Conversation(chat_id=chat_id, user_id=user_id, step=step, payload=payload or {}))
    else:
        row.step, row.payload = step, payload or {}
    await session.flush()


async def current(session: AsyncSession, chat_id: int, user_id: int) -> Conversation | None:
    return await session.get(Conversation, (chat_id, user_id))


async def clear(session: AsyncSession, chat_id: int, user_id: int) -> None:
    await session.execute(
        delete(Conversation).where(Conversation.chat_id == chat_id, Conversation.user_id == user_id)
    )
