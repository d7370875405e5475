"""The weekly /stats staff summary in the staff group: once the configured weekday and hour (staff time
zone) have come, the week's summary is queued once, keyed by the ISO week, so two instances or a
restart post it once; a week the bot was down at that hour gets it when it comes back within the week.
The text is rendered by the caller (the same as /stats staff) and carried as checked HTML."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.core.config import Config
from storage.people import outbox
from storage.people.models import OutboxMessage

PERIOD = timedelta(days=7)
TEMPLATE = "complaints.weekly_summary"  # "{html_text}": one part of the summary


def week_key(now: datetime, config: Config) -> str | None:
    """This ISO week's key once its summary time has come, else None (also when turned off or without
    a staff group)."""
    weekday, hour = config.recurring.staff_summary_weekday, config.recurring.staff_summary_hour
    if weekday is None or config.staff_chat_id is None:
        return None
    local = now.astimezone(ZoneInfo(config.staff_timezone))
    year, week, today = local.isocalendar()
    if (today, local.hour) < (weekday, hour):
        return None
    return f"staff-summary:{year}-W{week:02d}"


async def posted(session: AsyncSession, key: str) -> bool:
    return await session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)) is not None


async def post(session: AsyncSession, key: str, parts: list[str], now: datetime, config: Config) -> bool:
    """Queue the summary's parts (HTML built from catalog texts) for the staff group; False when this
    week's was queued already (the first part's key decides, in the same transaction as the rest)."""
    if config.staff_chat_id is None or not parts:
        return False
    for n, part in enumerate(parts):
        queued = await outbox.enqueue(
            session,
            dedupe_key=key if n == 0 else f"{key}:{n}",
            chat_id=config.staff_chat_id,
            template=TEMPLATE,
            language=config.default_language,
            params={"html_text": part},
            now=now,
        )
        if n == 0 and not queued:
            return False
    return True
