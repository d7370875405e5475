"""/fulfil <code> (mark a voucher used, once) and /cancel <code> <reason> (refund; admins)."""

from __future__ import annotations

from datetime import datetime

from telegram import Update

from handlers.common import command_args, language_for
from handlers.context import AppContext
from handlers.loyalty_text import local
from storage.core import audit, inputs
from storage.core.inputs import InputRefused
from storage.loyalty import redemptions
from storage.loyalty.redemptions import RedemptionRefused
from storage.people import staff


async def _refusal_text(context: AppContext, lang: str, refused: RedemptionRefused) -> str:
    params = dict(refused.params)
    tz = context.config.staff_timezone
    for key in ("used_at", "cancelled_at", "expires_at"):
        if isinstance(params.get(key), datetime):
            params[key] = local(params[key], tz)
    if (used_by := params.get("used_by")) is not None:
        async with context.read_only() as session:
            names = await staff.names(session, [used_by])
        params["used_by"] = names.get(used_by, str(used_by))
    return context.t(lang, refused.code, **params)


async def fulfil(update: Update, context: AppContext) -> None:
    message, user = update.effective_message, update.effective_user
    lang = language_for(update, context)
    code = command_args(message).split(maxsplit=1)[0] if command_args(message) else ""
    if not code:
        await message.reply_text(context.t(lang, "loyalty.fulfil_usage"))
        return
    try:
        async with context.unit_of_work() as session:
            voucher = await redemptions.fulfil(session, code, actor_id=user.id, now=context.now())
            await audit.record(
                session, actor_id=user.id, chat_id=message.chat_id, action="fulfil", target=voucher.code
            )
    except RedemptionRefused as refused:
        await message.reply_text(await _refusal_text(context, lang, refused))
        return
    await message.reply_text(
        context.t(lang, "loyalty.fulfil_done", voucher=voucher.code, title=voucher.title)
    )


async def cancel(update: Update, context: AppContext) -> None:
    message, user = update.effective_message, update.effective_user
    lang = language_for(update, context)
    parts = command_args(message).split(maxsplit=1)
    if len(parts) < 2 or not parts[1].strip():
        await message.reply_text(context.t(lang, "loyalty.cancel_usage"))
        return
    code = parts[0]
    try:
        reason = inputs.bounded_text(parts[1], redemptions.REASON_MAX)
    except InputRefused as refused:
        await message.reply_text(context.t(lang, refused.code, **refused.params))
        return
    try:
        async with context.unit_of_work() as session:
            voucher = await redemptions.cancel(
                session,
                code,
                reason=reason,
                actor_id=user.id,
                now=context.now(),
                config=context.config.loyalty,
            )
            await audit.record(
                session,
                actor_id=user.id,
                chat_id=message.chat_id,
                action="cancel",
                target=voucher.code,
                detail={"points": voucher.points},  # the reason stays, encrypted, on the voucher
            )
    except RedemptionRefused as refused:
        await message.reply_text(await _refusal_text(context, lang, refused))
        return
    await message.reply_text(
        context.t(
            lang, "loyalty.cancel_done", voucher=voucher.code, title=voucher.title, points=voucher.points
        )
    )
