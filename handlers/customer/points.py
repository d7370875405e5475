"""/points (balance, tier progress, points expiring soon, history paged by editing the message) and
/invite (the referral link)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from handlers import live
from handlers.common import joined_customer
from handlers.context import AppContext
from handlers.customer import member_card
from handlers.loyalty_text import entry_line, local
from handlers.replies import edit_text
from storage.core import inputs
from storage.loyalty import ledger, points, referrals, tiers
from storage.people.models import Customer

PAGE = 10
MAX_OFFSET = 100_000  # no history is that long: a larger offset is a forged button
PAGE_PREFIX = "pts:"  # "pts:<offset>": only ever shows the presser's own history


async def _render(
    context: AppContext, session: AsyncSession, customer: Customer, offset: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    lang, tz, config = customer.language, customer.timezone, context.config.loyalty
    status = await points.status(session, customer, context.now(), config)
    progress = status.progress
    parts = [context.t(lang, "points.balance", balance=status.balance, tier=progress.tier.label())]
    if progress.next_tier is not None:
        parts.append(
            context.t(
                lang,
                "points.progress",
                bar=tiers.bar(progress.fraction),
                missing=progress.missing,
                next=progress.next_tier.label(),
                months=config.tier_window_months,
            )
        )
    else:
        parts.append(context.t(lang, "points.top_tier", bar=tiers.bar(1.0)))
    if status.expiring:
        lines = [
            context.t(lang, "points.expiring_line", points=lot.points, date=local(lot.expires_at, tz))
            for lot in status.expiring
        ]
        parts.append(context.t(lang, "points.expiring_title") + "\n" + "\n".join(lines))
    entries, more = await ledger.history(session, customer.id, offset=offset, limit=PAGE)
    if entries:
        title = context.t(lang, "points.history_title", first=offset + 1, last=offset + len(entries))
        parts.append(title + "\n" + "\n".join(entry_line(context, lang, e, tz) for e in entries))
    else:
        parts.append(context.t(lang, "points.history_empty"))
    if customer.member_code:
        parts.append(context.t(lang, "points.member_code", code=customer.member_code))
    parts.append(context.t(lang, "points.invite_hint"))
    row = []
    if offset > 0:
        row.append(
            InlineKeyboardButton(
                context.t(lang, "points.newer"), callback_data=f"{PAGE_PREFIX}{max(0, offset - PAGE)}"
            )
        )
    if more:
        row.append(
            InlineKeyboardButton(
                context.t(lang, "points.more"), callback_data=f"{PAGE_PREFIX}{offset + PAGE}"
            )
        )
    return "\n\n".join(parts), InlineKeyboardMarkup([row]) if row else None


async def show(update: Update, context: AppContext) -> None:
    """/points: read-only, then the card sent is remembered as the live one (handlers.live)."""
    message = update.effective_message
    async with context.read_only() as session:
        customer = await joined_customer(update, context, session)
        if customer is None:
            return
        text, keyboard = await _render(context, session, customer, 0)
    sent = await message.reply_text(text, reply_markup=keyboard)
    await live.remember(context, sent.chat_id, live.POINTS, sent.message_id)
    await member_card.send_qr(message, context, customer)


async def on_page(update: Update, context: AppContext) -> None:
    """The More / Newer buttons: the same message, another page of the presser's own history."""
    query = update.callback_query
    offset = inputs.int_or_none((query.data or "")[len(PAGE_PREFIX) :], low=0, high=MAX_OFFSET)
    async with context.read_only() as session:
        customer = await joined_customer(update, context, session)
        if customer is None:
            return
        page = await _render(context, session, customer, offset) if offset is not None else None
    if page is None:  # forged page data: answered after the transaction, like every reply
        await query.answer(context.t(customer.language, "button.stale"), show_alert=True)
        return
    text, keyboard = page
    await query.answer()
    await edit_text(query.message, text, keyboard)  # a double press shows the same page: quiet


async def invite(update: Update, context: AppContext) -> None:
    """/invite: the customer's referral link and how many joined through it."""
    message = update.effective_message
    async with context.unit_of_work() as session:
        customer = await joined_customer(update, context, session)
        if customer is None:
            return
        code = await referrals.code_for(session, customer.id)
        joined, rewarded = await referrals.count_referred(session, customer.id)
    link = f"https://t.me/{context.bot.username}?start={referrals.start_payload(code)}"
    await message.reply_text(
        context.t(
            customer.language,
            "points.invite",
            link=link,
            bonus=context.config.loyalty.referral_bonus,
            joined=joined,
            rewarded=rewarded,
        )
    )
