"""/audit [customer] [by <staff>] [action] [refused] [<N>d] for admins and owners: the audit trail,
newest first, a page at a time. The page buttons are database rows holding the filter, so ‹ › read the
trail again with the same question."""

from __future__ import annotations

import html
import json
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from handlers.common import command_args, language_for
from handlers.context import AppContext
from handlers.loyalty_text import local
from handlers.replies import edit_text, pack
from storage.core import audit, buttons, inputs
from storage.core.audit import Filter
from storage.core.models import AuditEntry, Button
from storage.people import customers, staff

PAGE = "audit/page"
BUTTON_TTL = timedelta(days=1)
DEFAULT_DAYS, MAX_DAYS = 7, 3650
REFUSED = ("refused", "拒绝")
# Each part of an entry's line, at most, as HTML (escaped: what handlers.replies.pack measures): a full
# page (storage.core.audit.PAGE lines of 16 + 4 × 24 + 96 and their separators) is one message.
DETAIL, NAME = 96, 24


class BadFilter(Exception):
    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code, self.params = code, params


async def _filter(session: AsyncSession, words: list[str], now: datetime) -> Filter:
    """The question the words ask; BadFilter names what could not be read."""
    fields: dict[str, Any] = {"since": now - timedelta(days=DEFAULT_DAYS)}
    known = await audit.actions(session)
    rest: list[str] = []
    index = 0
    while index < len(words):
        word = words[index]
        lower = word.lower()
        if lower in REFUSED:
            fields["refused_only"] = True
        elif lower.endswith("d") and lower[:-1].isdigit():
            days = inputs.int_or_none(lower[:-1], low=1, high=MAX_DAYS)
            if days is None:
                raise BadFilter("audit.bad_period", max=MAX_DAYS)
            fields["since"] = now - timedelta(days=days)
        elif lower == "by" and index + 1 < len(words):
            member = await staff.find_member(session, words[index + 1])
            if member is None:
                raise BadFilter("audit.unknown_staff", reference=words[index + 1])
            fields["actor_id"] = member.telegram_id
            index += 1
        elif word[:1] in "#@+" or word.isdigit():
            customer = await customers.find(session, word, by_phone=True)  # admins and owners only
            if customer is None:
                raise BadFilter("audit.unknown_customer", reference=word)
            fields["target"] = str(customer.id)
        else:
            rest.append(word)
        index += 1
    if rest:
        action = " ".join(rest)
        if action not in known:
            raise BadFilter("audit.unknown_action", action=action, known=", ".join(known) or "—")
        fields["action"] = action
    return Filter(**fields)


def _stored(wanted: Filter) -> dict[str, Any]:
    return {**asdict(wanted), "since": wanted.since.isoformat()}


def _loaded(payload: dict[str, Any]) -> Filter:
    return Filter(**{**payload, "since": datetime.fromisoformat(payload["since"])})


async def command(update: Update, context: AppContext) -> None:
    """/audit …"""
    message = update.effective_message
    lang = language_for(update, context)
    words = command_args(message).split()
    try:
        async with context.unit_of_work() as session:  # writes the page buttons
            wanted = await _filter(session, words, context.now())
            text, keyboard = await _page(context, session, update, wanted, 1)
    except BadFilter as bad:
        await message.reply_text(
            context.t(lang, bad.code, **bad.params) + "\n" + context.t(lang, "audit.usage")
        )
        return
    await message.reply_text(text, reply_markup=keyboard)


async def on_page(update: Update, context: AppContext, button: Button) -> None:
    """‹ ›: the same question, another page, read again."""
    query = update.callback_query
    async with context.unit_of_work() as session:
        text, keyboard = await _page(
            context, session, update, _loaded(button.payload["filter"]), int(button.payload["page"])
        )
    await query.answer()
    await edit_text(query.message, text, keyboard)


async def _page(
    context: AppContext, session: AsyncSession, update: Update, wanted: Filter, number: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    lang = language_for(update, context)
    entries, more = await audit.page(session, wanted, number)
    if not entries:
        return context.t(lang, "audit.none"), None
    names = await staff.names(session, {e.actor_id for e in entries})
    title = context.t(
        lang, "audit.title", page=number, since=local(wanted.since, context.config.staff_timezone)
    )
    lines = [_line(context, lang, e, names) for e in entries]
    text = pack([title, *lines], "\n")[0]  # a page's lines are clipped (DETAIL, NAME): one message
    row = []
    owner = update.effective_user.id if update.effective_user else None
    for label, target in (("common.page_previous", number - 1), ("common.page_next", number + 1)):
        if (target < number and number > 1) or (target > number and more and target <= audit.PAGES_MAX):
            data = await buttons.issue(
                session,
                PAGE,
                {"filter": _stored(wanted), "page": target},
                user_id=owner,
                now=context.now(),
                ttl=BUTTON_TTL,
            )
            row.append(InlineKeyboardButton(html.unescape(context.t(lang, label)), callback_data=data))
    return text, InlineKeyboardMarkup([row]) if row else None


def _line(context: AppContext, lang: str, entry: AuditEntry, names: dict[int, str]) -> str:
    detail = json.dumps(entry.detail, ensure_ascii=False, sort_keys=True) if entry.detail else ""
    target = f"#{entry.target}" if entry.target and entry.target.isdigit() else (entry.target or "—")
    return context.t(
        lang,
        "audit.line" if entry.outcome == "ok" else "audit.line_refused",
        at=local(entry.at, context.config.staff_timezone),
        actor=_clip(names.get(entry.actor_id, str(entry.actor_id)), NAME),
        action=_clip(entry.action, NAME),
        outcome=_clip(entry.outcome, NAME),
        target=_clip(target, NAME),
        detail=_clip(detail, DETAIL),
    )


def _clip(text: str, limit: int) -> str:
    """`text` whose escaped HTML is at most `limit` characters, cut with "…" when it was longer."""
    if len(html.escape(text)) <= limit:
        return text
    while len(html.escape(text)) > limit - 1:
        text = text[: min(len(text) - 1, len(text) * (limit - 1) // len(html.escape(text)))]
    return text + "…"
