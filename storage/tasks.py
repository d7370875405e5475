"""Follow-up tasks for staff (回访)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Task


async def create(
    session: AsyncSession,
    *,
    customer_id: int,
    kind: str,
    reason: str,
    due_at: datetime,
    created_by: int | None = None,
    assignee_id: int | None = None,
    source_ref: str | None = None,
) -> Task:
    """A new open task; with a source_ref, creating it again returns the existing one."""
    if source_ref is not None:
        existing = await session.scalar(select(Task).where(Task.source_ref == source_ref))
        if existing is not None:
            return existing
    task = Task(
        customer_id=customer_id,
        kind=kind,
        reason=reason,
        due_at=due_at,
        status="open",
        created_by=created_by,
        assignee_id=assignee_id,
        source_ref=source_ref,
    )
    session.add(task)
    await session.flush()
    return task
