"""Settings kept in the database (bot_settings): chosen inside Telegram, read at run time. A value from
the environment wins where it is given; the caller decides that (bot.settings knows which were given)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.core.inputs import MAX_TELEGRAM_ID, int_or_none
from storage.core.models import BotSetting

STAFF_CHAT = "staff_chat_id"


@dataclass(frozen=True)
class Stored:
    value: str
    updated_at: datetime


async def get(session: AsyncSession, key: str) -> Stored | None:
    row = (
        await session.execute(select(BotSetting.value, BotSetting.updated_at).where(BotSetting.key == key))
    ).first()
    return Stored(row.value, row.updated_at) if row is not None else None


async def put(session: AsyncSession, key: str, value: str, now: datetime) -> None:
    setting = await session.get(BotSetting, key)
    if setting is None:
        session.add(BotSetting(key=key, value=value, updated_at=now))
    else:
        setting.value, setting.updated_at = value, now
    await session.flush()


async def remove(session: AsyncSession, key: str) -> None:
    await session.execute(delete(BotSetting).where(BotSetting.key == key))


async def staff_chat_id(session: AsyncSession) -> int | None:
    """The staff group chosen with "Use this group for staff"; None when none was chosen."""
    stored = await get(session, STAFF_CHAT)
    if stored is None:
        return None
    chat_id = int_or_none(stored.value.removeprefix("-"), low=1, high=MAX_TELEGRAM_ID)
    return None if chat_id is None else (-chat_id if stored.value.startswith("-") else chat_id)


async def set_staff_chat(session: AsyncSession, chat_id: int, now: datetime) -> None:
    await put(session, STAFF_CHAT, str(chat_id), now)
