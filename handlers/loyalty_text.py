"""Rendering shared by the loyalty handlers: dates in the reader's time zone, ledger lines."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from handlers.context import AppContext
from storage.loyalty.models import LedgerEntry


def local_date(when: datetime, timezone: str) -> str:
    return when.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d")


def local_time(when: datetime, timezone: str) -> str:
    return when.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")


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
        date=local_date(entry.created_at, timezone),
    )
