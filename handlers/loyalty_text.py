"""Rendering shared by the handlers: moments on the reader's clock, ledger lines."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from handlers.context import AppContext
from storage.loyalty.models import LedgerEntry


def local(when: datetime, timezone: str) -> datetime:
    """`when` on the reader's clock (their zone, or staff's): the catalog writes it as the text asks,
    `{when:date}` ("10 Mar 2026", its day there) or `{when:datetime}` ("10 Mar 2026, 14:05")."""
    return when.astimezone(ZoneInfo(timezone))


def signed(points: int) -> str:
    return f"+{points}" if points > 0 else str(points)


def entry_line(context: AppContext, lang: str, entry: LedgerEntry, timezone: str) -> str:
    # The kind label is plain catalog text and the note raw user text: both escaped once, as a param.
    reason = context.t(lang, f"points.kind_{entry.kind}")
    if entry.note:
        reason = f"{reason} — {entry.note}"
    return context.t(
        lang,
        "points.entry",
        points=signed(entry.points),
        reason=reason,
        date=local(entry.created_at, timezone),
    )
