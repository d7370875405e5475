"""/purchase, /award and /deduct in the staff group: parse, find the customer (a member code, #id,
@username, Telegram id, a phone number in any format for roles that may see phones, or a name), call
storage, audit, confirm with the balance and tier after the change. Several customers by that name: a
choice of buttons that completes the same command once (the command message is its idempotency key).
The customer is told through the outbox by the storage operation, in their language."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

from handlers.authority import current_role
from handlers.common import command_args, display_name, language_for
from handlers.context import AppContext
from handlers.replies import edit_text
from storage.core import audit, buttons, inputs
from storage.core.inputs import InputRefused
from storage.core.models import Button
from storage.core.refusals import Refused
from storage.loyalty import ledger, points, purchases
from storage.people import customers, phones, references
from storage.people.models import Customer
from storage.people.staff import can_see_personal_data

KINDS = ("purchase", "award", "deduct")
PICK = {kind: f"counter/{kind}" for kind in KINDS}  # the choice buttons' actions (bot.app: their roles)
PICK_TTL = timedelta(hours=1)
BUTTON_NAME = 24  # characters of a name on a choice button
_NUMBER = re.compile(r"[0-9]+(?:[.,][0-9]+)?")


@dataclass(frozen=True)
class Order:
    """What the command asks, before its customer is known (a choice button carries it)."""

    kind: str
    value: str  # the amount ("12.50") or the points ("50"), already checked
    text: str | None  # the purchase's note or the award's reason
    key: str  # idempotency: "<kind>:<chat>:<message>", the command message
    chat_id: int

    def payload(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "value": self.value,
            "text": self.text,
            "key": self.key,
            "chat": self.chat_id,
        }


def _who(customer: Customer) -> str:
    return f"#{customer.id} {display_name(customer.first_name, customer.last_name)}"


def _by_phone(context: AppContext) -> bool:
    return can_see_personal_data(current_role(context))


def _reference(kind: str, message: Message) -> str:
    # The message identifies the command: a duplicate update is the same purchase, not a second one.
    return f"{kind}:{message.chat_id}:{message.message_id}"


def _parse(kind: str, args: str, message: Message, context: AppContext) -> tuple[str, Order]:
    """The customer reference and the order; refuses (InputRefused, PointsRefused) with a message."""
    usage = f"loyalty.{kind}_usage"
    split = references.split(
        args, lambda word: _NUMBER.fullmatch(word) is not None, context.config.default_region
    )
    if split is None or not split.rest:
        raise InputRefused(usage)
    value, rest = split.rest[0], " ".join(split.rest[1:])
    if kind == "purchase":
        amount = purchases.parse_amount(value, context.config.loyalty)
        note = inputs.bounded_text(rest, purchases.NOTE_MAX) if rest else None
        return split.reference, Order(kind, str(amount), note, _reference(kind, message), message.chat_id)
    if not rest.strip():
        raise InputRefused(usage)
    amount_points = inputs.parse_int(value, low=1, high=points.POINTS_MAX, code=usage)
    reason = inputs.bounded_text(rest, points.REASON_MAX)
    return split.reference, Order(
        kind, str(amount_points), reason, _reference(kind, message), message.chat_id
    )


async def _command(update: Update, context: AppContext, kind: str) -> None:
    message, user = update.effective_message, update.effective_user
    lang = language_for(update, context)
    try:
        reference, order = _parse(kind, command_args(message), message, context)
        async with context.unit_of_work() as session:
            found = await references.resolve(
                session, reference, by_phone=_by_phone(context), region=context.config.default_region
            )
            if found.one is not None:
                text = await _apply(session, context, lang, order, found.one, user.id)
            elif found.customers:
                text, keyboard = await _choice(session, context, lang, order, found, reference, user.id)
                context.after_commit(message.reply_text, text, reply_markup=keyboard)
                return
            else:
                text = context.t(lang, "loyalty.customer_unknown", reference=reference)
    except Refused as refused:  # rolled back: nothing changed
        await message.reply_text(context.t(lang, refused.code, **refused.params))
        return
    await message.reply_text(text)


async def _apply(
    session: AsyncSession, context: AppContext, lang: str, order: Order, customer: Customer, actor_id: int
) -> str:
    """Do what the order says, once per order.key, and say what was done (on a repeat: what was done
    the first time, never what this update asked)."""
    now, config = context.now(), context.config.loyalty
    if order.kind == "purchase":
        amount = purchases.parse_amount(order.value, config)
        recorded = await purchases.record(
            session,
            customer,
            amount=amount,
            reference=order.key,
            now=now,
            config=config,
            staff_id=actor_id,
            note=order.text,
            surveys=context.config.surveys,
            winback_config=context.config.winback,
        )
        if recorded.duplicate:  # the purchase as it was booked
            amount = recorded.purchase.amount
            customer = await customers.by_id(session, recorded.purchase.customer_id) or customer
        else:
            await audit.record(
                session,
                actor_id=actor_id,
                chat_id=order.chat_id,
                action="purchase",
                target=str(customer.id),
                # No note: the audit trail keeps no free text (it stays, encrypted, on the purchase).
                detail={"amount": str(amount), "points": recorded.points, "purchase": recorded.purchase.id},
            )
        tier = await points.current_tier(session, customer.id, now, config)
        text = context.t(
            lang,
            "loyalty.purchase_done",
            customer=_who(customer),
            amount=f"{amount:.2f}",
            points=recorded.points,
            balance=await ledger.balance(session, customer.id),
            tier=tier.name,
        )
        if recorded.tier_change:
            text += "\n" + context.t(lang, "loyalty.purchase_tier", tier=recorded.tier_change[1])
        return text
    amount_points = int(order.value)
    common = {
        "points": amount_points,
        "reason": order.text or "",
        "reference": order.key,
        "actor_id": actor_id,
        "now": now,
    }
    if order.kind == "award":
        changed = await points.award(session, customer, config=config, **common)
    else:
        changed = await points.deduct(session, customer, **common)
    if changed:
        await audit.record(
            session,
            actor_id=actor_id,
            chat_id=order.chat_id,
            action=order.kind,
            target=str(customer.id),
            detail={"points": amount_points},  # the reason stays, encrypted, on the ledger entry
        )
    tier = await points.current_tier(session, customer.id, now, config)
    return context.t(
        lang,
        f"loyalty.{order.kind}_done",
        customer=_who(customer),
        points=amount_points,
        balance=await ledger.balance(session, customer.id),
        tier=tier.name,
    )


async def _choice(
    session: AsyncSession,
    context: AppContext,
    lang: str,
    order: Order,
    found: references.Found,
    reference: str,
    user_id: int,
) -> tuple[str, InlineKeyboardMarkup]:
    """One button per customer; pressing one spends them all (buttons.issue_choice)."""
    ids = [customer.id for customer in found.customers]
    tokens = await buttons.issue_choice(
        session,
        [PICK[order.kind]] * len(ids),
        {**order.payload(), "ids": ids},
        user_id=user_id,
        now=context.now(),
        ttl=PICK_TTL,
    )
    full_phone = _by_phone(context)
    rows = [
        [InlineKeyboardButton(_label(customer, full_phone), callback_data=token)]
        for customer, token in zip(found.customers, tokens, strict=True)
    ]
    text = context.t(lang, "loyalty.choose_customer", reference=reference, count=len(ids))
    if found.more:
        text += "\n" + context.t(lang, "loyalty.choose_more", shown=len(ids))
    return text, InlineKeyboardMarkup(rows)


def _label(customer: Customer, full_phone: bool) -> str:
    name = display_name(customer.first_name, customer.last_name)
    name = name if len(name) <= BUTTON_NAME else name[: BUTTON_NAME - 1] + "…"
    parts = [f"#{customer.id} {name}", customer.member_code or ""]
    if customer.phone:
        parts.append(customer.phone if full_phone else phones.masked(customer.phone))
    return " · ".join(part for part in parts if part)


def _order(button: Button) -> tuple[Order, int] | None:
    """The order a choice button carries and its customer; None for data that does not parse."""
    payload = button.payload
    try:
        index = list(payload["choice"]).index(button.token)
        customer_id = int(payload["ids"][index])
        order = Order(
            str(payload["kind"]),
            str(payload["value"]),
            payload["text"],
            str(payload["key"]),
            int(payload["chat"]),
        )
    except (KeyError, ValueError, IndexError, TypeError):
        return None
    return (order, customer_id) if order.kind in KINDS else None


async def on_pick(update: Update, context: AppContext, button: Button) -> None:
    """A customer chosen from the choice: the command is done for them, once (a second press finds the
    buttons spent; a repeat of the same order is the same purchase by its key)."""
    query = update.callback_query
    lang = language_for(update, context)
    picked = _order(button)
    if picked is None:
        await query.answer(context.t(lang, "button.stale"), show_alert=True)
        return
    order, customer_id = picked
    try:
        async with context.unit_of_work() as session:
            customer = None
            if await session.get(Button, button.token) is not None:  # not spent by a press before this
                await buttons.consume(session, button)
                customer = await customers.by_id(session, customer_id)
            if customer is None or customer.erased_at is not None:
                context.after_commit(query.answer, context.t(lang, "button.stale"), show_alert=True)
                return
            text = await _apply(session, context, lang, order, customer, query.from_user.id)
    except Refused as refused:  # rolled back: nothing changed, the choice stays
        await query.answer(context.t(lang, refused.code, **refused.params), show_alert=True)
        return
    await query.answer()
    await edit_text(query.message, text)


async def purchase(update: Update, context: AppContext) -> None:
    """/purchase <customer> <amount> [note]"""
    await _command(update, context, "purchase")


async def award(update: Update, context: AppContext) -> None:
    """/award <customer> <points> <reason> (agents and above, at most award_max)"""
    await _command(update, context, "award")


async def deduct(update: Update, context: AppContext) -> None:
    """/deduct <customer> <points> <reason> (admins and above; never below zero)"""
    await _command(update, context, "deduct")
