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
        for follow_up, customer in await followups.due_reminders(session, now):
            assignee = (
                await session.get(StaffMember, follow_up.assignee_id) if follow_up.assignee_id else None
            )
            params = {
                "id": follow_up.id,
                "customer_id": customer.id,
                "name": customer.first_name,
                "username": f"@{customer.username}" if customer.username else "",
                "reason": follow_up.reason,
                "due": format_local(follow_up.due_at, config.staff_timezone),
                "assignee": assignee.name if assignee else "—",
            }
            key = followups.reminder_key(follow_up)
            queued += await outbox.enqueue(
                session,
                dedupe_key=key,
                chat_id=config.staff_chat_id,
                template="followups.overdue" if follow_up.reminders else "followups.reminder",
                language=config.default_language,
                params=params,
                now=now,
                buttons=await followups.card_buttons(session, follow_up, now),
            )
            if follow_up.assignee_id is not None:
                await outbox.enqueue(
                    session,
                    dedupe_key=f"{key}:assignee",
                    chat_id=follow_up.assignee_id,
                    template="followups.assignee_note",
                    language=config.default_language,
                    params=params,
                    now=now,
                )
            if follow_up.notify_customer and follow_up.reminders == 0:
                await outbox.enqueue_for_customer(
                    session,
                    customer,
                    dedupe_key=f"follow_up:{follow_up.id}:courtesy",
                    template="followups.courtesy",
                    params={"name": customer.first_name},
                    now=now,
                )
            followups.reminded(follow_up, now, config.followups)
    return queued
