"""The audit trail: every staff change and every refused attempt, append-only; read a page at a time
by /audit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
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


@dataclass(frozen=True)
class Filter:
    """Which entries /audit shows: since when, and optionally one target, one actor, one action, or
    only refusals."""

    since: datetime
    target: str | None = None
    actor_id: int | None = None
    action: str | None = None
    refused_only: bool = False


PAGE = 15  # entries a page of /audit shows
PAGES_MAX = 100  # pages one view may turn (1,500 entries): narrow the filter for more


async def page(session: AsyncSession, wanted: Filter, number: int) -> tuple[list[AuditEntry], bool]:
    """Page `number` (from 1) of the matching entries, newest first, and whether there is a next one."""
    query = select(AuditEntry).where(AuditEntry.at >= wanted.since)
    if wanted.target is not None:
        query = query.where(AuditEntry.target == wanted.target)
    if wanted.actor_id is not None:
        query = query.where(AuditEntry.actor_id == wanted.actor_id)
    if wanted.action is not None:
        query = query.where(AuditEntry.action == wanted.action)
    if wanted.refused_only:
        query = query.where(AuditEntry.outcome != "ok")
    rows = list(
        await session.scalars(
            query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .offset((number - 1) * PAGE)
            .limit(PAGE + 1)
        )
    )
    return rows[:PAGE], len(rows) > PAGE


async def actions(session: AsyncSession) -> list[str]:
    """The actions recorded so far (what /audit accepts as an action filter)."""
    return list(await session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))
