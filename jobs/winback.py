"""The win-back tick: customers whose lapse time has come get a follow-up and a card in the staff
group (the follow-up's first reminder: the follow-ups tick reminds once more when it stays open)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.care import followups, winback
from storage.core.clock import Clock
from storage.core.config import Config
from storage.people import outbox

BATCH = 500


async def tick(sessions: async_sessionmaker[AsyncSession], clock: Clock, config: Config) -> int:
    """One pass, one transaction per batch; returns how many win-back tasks were created."""
    created = 0
    while True:
        async with sessions.begin() as session:
            now = clock.now()
            read, lapses = await winback.handle_due(session, now, config.winback, limit=BATCH)
            for lapse in lapses:
                created += 1
                if config.staff_chat_id is None:
                    continue  # the follow-up waits in /followups; the follow-ups tick has no group either
                customer, follow_up = lapse.customer, lapse.follow_up
                await outbox.enqueue(
                    session,
                    dedupe_key=followups.reminder_key(follow_up),
                    chat_id=config.staff_chat_id,
                    template="winback.card",
                    language=config.default_language,
                    params={
                        "id": follow_up.id,
                        "customer_id": customer.id,
                        "name": customer.first_name,
                        "username": f"@{customer.username}" if customer.username else "",
                        "days": lapse.days,
                        "spent": f"{lapse.spent:.2f}",
                    },
                    now=now,
                    buttons=await followups.card_buttons(session, follow_up, now),
                )
                followups.reminded(follow_up, now, config.followups)
        if read < BATCH:
            return created
