"""Which message of a kind is a chat's live card (storage.core.models.LiveCard): the newest one sent.
A press on an older card of the kind is out of date. Message ids grow within a chat, so "older" is a
smaller id, and a record that lags behind (another instance's, not yet flushed) can only let an old
card act as before, never refuse the newest one.

Sending a card is a read path (/points, /profile, /rewards write nothing while they answer): the new
id is noted in memory (`CardBuffer`) and written with last-seen times by the `seen` tick and at stop."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.core.models import LiveCard
from storage.core.upsert import insert_ignore_many

Key = tuple[int, str]  # (chat id, kind)
_MAX_REMEMBERED = 100_000


class CardBuffer:
    """The newest card of each kind this process sent, and those not yet written."""

    def __init__(self) -> None:
        self.known: dict[Key, int] = {}
        self.pending: dict[Key, int] = {}

    def get(self, chat_id: int, kind: str) -> int | None:
        return self.known.get((chat_id, kind))

    def put(self, chat_id: int, kind: str, message_id: int) -> int | None:
        """Note the newest card; the one it replaces, if this process knew it."""
        key = (chat_id, kind)
        old = self.known.get(key)
        if old is not None and old >= message_id:
            return None
        if len(self.known) >= _MAX_REMEMBERED:
            self.known.clear()
        self.known[key] = self.pending[key] = message_id
        return old

    def take(self) -> dict[Key, int]:
        taken, self.pending = self.pending, {}
        return taken


async def live_id(session: AsyncSession, chat_id: int, kind: str) -> int | None:
    return await session.scalar(
        select(LiveCard.message_id).where(LiveCard.chat_id == chat_id, LiveCard.kind == kind)
    )


def is_live(message_id: int, live: int | None) -> bool:
    """Whether a press on `message_id` may act: no newer card of its kind is known."""
    return live is None or message_id >= live


async def record(session: AsyncSession, cards: Mapping[Key, int], now: datetime) -> None:
    """Write the buffer's cards: newer ids replace older ones, never the other way round."""
    if not cards:
        return
    rows = [{"chat_id": c, "kind": k, "message_id": m, "updated_at": now} for (c, k), m in cards.items()]
    table = cast(Table, LiveCard.__table__)
    await session.execute(
        update(table)
        .where(
            table.c.chat_id == bindparam("chat"),
            table.c.kind == bindparam("k"),
            table.c.message_id < bindparam("m"),
        )
        .values(message_id=bindparam("m"), updated_at=bindparam("at")),
        [{"chat": r["chat_id"], "k": r["kind"], "m": r["message_id"], "at": now} for r in rows],
    )
    await insert_ignore_many(session, LiveCard, rows, ["chat_id", "kind"])
