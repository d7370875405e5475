"""The follow-up tick: reminder cards in the staff group when a follow-up is due (and once more when
it is overdue), a note to the assignee, and the optional courtesy message to the customer."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.care import followups
from storage.core.clock import Clock
from storage.core.config import Config
from storage.core.when import format_local
from storage.people import outbox
from storage.people.models import StaffMember


async def tick(sessions: async_sessionmaker[AsyncSession], clock: Clock, config: Config) -> int:
    """Queue the reminders that are due; returns how many cards were queued."""
    if config.staff_chat_id is None:
        return 0
    now = clock.now()
    queued = 0
    async with sessions.begin() as session:
        for task, customer in await followups.due_reminders(session, now):
            assignee = await session.get(StaffMember, task.assignee_id) if task.assignee_id else None
            params = {
                "id": task.id,
                "customer_id": customer.id,
                "name": customer.first_name,
                "username": f"@{customer.username}" if customer.username else "",
                "reason": task.reason,
                "due": format_local(task.due_at, config.staff_timezone),
                "assignee": assignee.name if assignee else "—",
            }
            key = followups.reminder_key(task)
            queued += await outbox.enqueue(
                session,
                dedupe_key=key,
                chat_id=config.staff_chat_id,
                template="followups.overdue" if task.reminders else "followups.reminder",
                language=config.default_language,
                params=params,
                now=now,
                buttons=await followups.card_buttons(session, task, now),
            )
            if task.assignee_id is not None:
                await outbox.enqueue(
                    session,
                    dedupe_key=f"{key}:assignee",
                    chat_id=task.assignee_id,
                    template="followups.assignee_note",
                    language=config.default_language,
                    params=params,
                    now=now,
                )
            if task.notify_customer and task.reminders == 0:
                await outbox.enqueue_for_customer(
                    session,
                    customer,
                    dedupe_key=f"task:{task.id}:courtesy",
                    template="followups.courtesy",
                    params={"name": customer.first_name},
                    now=now,
                )
            followups.reminded(task, now, config.followups)
    return queued
