"""The audit trail: every staff change and every refused attempt, append-only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.core.models import AuditEntry


async def record(
    session: AsyncSession,
    *,
    actor_id: int,
    action: str,
    outcome: str = "ok",
    chat_id: int | None = None,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        actor_id=actor_id, chat_id=chat_id, action=action, outcome=outcome, target=target, detail=detail or {}
    )
    if at is not None:  # the caller's clock, when a rule counts entries by time (storage.people.setup)
        entry.at = at
    session.add(entry)
    await session.flush()
    return entry
