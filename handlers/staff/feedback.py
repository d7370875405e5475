"""/feedback in the staff group: the feedback items not yet resolved (paged by handlers.paging)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update

from handlers import paging
from handlers.common import display_name
from handlers.context import AppContext
from handlers.desk.cards import staff_language
from handlers.paging import Listing
from storage.care import feedback

LIST = "fb"  # /feedback (staff) in handlers.paging


async def list_open(update: Update, context: AppContext) -> None:
    """/feedback in the staff group: the items not yet resolved."""
    async with context.read_only() as session:
        listed = await listing(update, context, session)
    await paging.reply(update.effective_message, context, LIST, listed)


async def listing(update: Update, context: AppContext, session: AsyncSession) -> Listing:
    lang = staff_language(context)
    lines = []
    for line in await feedback.open_items(session, limit=paging.MAX_ROWS):
        lines.append(
            context.t(
                lang,
                "feedback.list_line",
                id=line.id,
                status=context.t(lang, f"feedback.status_{line.status}"),
                name=display_name(line.first_name, line.last_name),
                comment=(line.comment or "—")[:60],
                level=context.t(lang, f"insight.level.{line.level}") if line.level else "—",
            )
        )
    return Listing(lang, "", lines, context.t(lang, "feedback.list_empty"))
