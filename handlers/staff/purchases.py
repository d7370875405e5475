"""/purchase, /award and /deduct in the staff group: parse, call storage, audit, confirm.
The customer is told through the outbox by the storage operation, in their language."""

from __future__ import annotations

from telegram import Message, Update

from handlers.authority import current_role
from handlers.common import command_args, display_name, language_for
from handlers.context import AppContext
from storage.core import audit, inputs
from storage.core.inputs import InputRefused
from storage.loyalty import ledger, points, purchases
from storage.loyalty.points import PointsRefused
from storage.people import customers
from storage.people.models import Customer
from storage.people.staff import can_see_personal_data


def _who(customer: Customer) -> str:
    return f"#{customer.id} {display_name(customer.first_name, customer.last_name)}"


def _by_phone(context: AppContext) -> bool:
    return can_see_personal_data(current_role(context))


def _reference(kind: str, message: Message) -> str:
    # The message identifies the command: a duplicate update is the same purchase, not a second one.
    return f"{kind}:{message.chat_id}:{message.message_id}"


async def purchase(update: Update, context: AppContext) -> None:
    """/purchase <customer> <amount> [note]"""
    message, user = update.effective_message, update.effective_user
    lang = language_for(update, context)
    parts = command_args(message).split(maxsplit=2)
    if len(parts) < 2:
        await message.reply_text(context.t(lang, "loyalty.purchase_usage"))
        return
    reference, raw_amount = parts[0], parts[1]
    try:
        amount = purchases.parse_amount(raw_amount, context.config.loyalty)
        note = inputs.bounded_text(parts[2], purchases.NOTE_MAX) if len(parts) > 2 else None
    except (PointsRefused, InputRefused) as refused:
        await message.reply_text(context.t(lang, refused.code, **refused.params))
        return
    async with context.unit_of_work() as session:
        customer = await customers.find(session, reference, by_phone=_by_phone(context))
        if customer is None:
            text = context.t(lang, "loyalty.customer_unknown", reference=reference)
            context.after_commit(message.reply_text, text)
            return
        recorded = await purchases.record(
            session,
            customer,
            amount=amount,
            reference=_reference("purchase", message),
            now=context.now(),
            config=context.config.loyalty,
            staff_id=user.id,
            note=note,
            surveys=context.config.surveys,
            winback_config=context.config.winback,
        )
        if not recorded.duplicate:
            await audit.record(
                session,
                actor_id=user.id,
                chat_id=message.chat_id,
                action="purchase",
                target=str(customer.id),
                detail={"amount": str(amount), "points": recorded.points, "note": note},
            )
    text = context.t(
        lang,
        "loyalty.purchase_done",
        customer=_who(customer),
        amount=f"{amount:.2f}",
        points=recorded.points,
        balance=recorded.balance,
    )
    if recorded.tier_change:
        text += "\n" + context.t(lang, "loyalty.purchase_tier", tier=recorded.tier_change[1])
    await message.reply_text(text)


async def _adjust(update: Update, context: AppContext, kind: str) -> None:
    message, user = update.effective_message, update.effective_user
    lang = language_for(update, context)
    parts = command_args(message).split(maxsplit=2)
    usage = f"loyalty.{kind}_usage"
    try:
        if len(parts) < 3 or not parts[2].strip():
            raise InputRefused(usage)
        amount = inputs.parse_int(parts[1], low=1, high=points.POINTS_MAX, code=usage)
        reason = inputs.bounded_text(parts[2], points.REASON_MAX)
    except InputRefused as refused:
        await message.reply_text(context.t(lang, refused.code, **refused.params))
        return
    reference = parts[0]
    try:
        async with context.unit_of_work() as session:
            customer = await customers.find(session, reference, by_phone=_by_phone(context))
            if customer is None:
                text = context.t(lang, "loyalty.customer_unknown", reference=reference)
                context.after_commit(message.reply_text, text)
                return
            common = {
                "points": amount,
                "reason": reason,
                "reference": _reference(kind, message),
                "actor_id": user.id,
                "now": context.now(),
            }
            if kind == "award":
                changed = await points.award(session, customer, config=context.config.loyalty, **common)
            else:
                changed = await points.deduct(session, customer, **common)
            if changed:
                await audit.record(
                    session,
                    actor_id=user.id,
                    chat_id=message.chat_id,
                    action=kind,
                    target=str(customer.id),
                    detail={"points": amount, "reason": reason},
                )
            balance = await ledger.balance(session, customer.id)
    except PointsRefused as refused:  # rolled back: nothing changed
        await message.reply_text(context.t(lang, refused.code, **refused.params))
        return
    await message.reply_text(
        context.t(lang, f"loyalty.{kind}_done", customer=_who(customer), points=amount, balance=balance)
    )


async def award(update: Update, context: AppContext) -> None:
    """/award <customer> <points> <reason> (agents and above, at most award_max)"""
    await _adjust(update, context, "award")


async def deduct(update: Update, context: AppContext) -> None:
    """/deduct <customer> <points> <reason> (admins and above; never below zero)"""
    await _adjust(update, context, "deduct")
