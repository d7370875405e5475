"""/rewards (the catalog as buttons → detail → Redeem → Confirm → voucher) and /myrewards.

Browsing buttons carry plain ids ("rw:open:3"): they grant nothing. Redeem and Confirm are database
buttons owned by the customer; Confirm's token is the redemption's idempotency key, so a double
press, a duplicate update or a press after a restart redeems once."""

from __future__ import annotations

import html
from datetime import timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from handlers import live
from handlers.common import joined_customer
from handlers.context import AppContext
from handlers.loyalty_text import local
from handlers.replies import edit_text
from storage.core import buttons, inputs
from storage.core.models import Button
from storage.loyalty import ledger, redemptions, rewards
from storage.loyalty.models import Reward
from storage.loyalty.redemptions import RedemptionRefused
from storage.people.models import Customer

LIST, OPEN = "rw:list", "rw:open:"
REDEEM, CONFIRM = "rewards/redeem", "rewards/confirm"
BUTTON_TTL = timedelta(days=7)


def _button(context: AppContext, lang: str, key: str, data: str, **params: object) -> InlineKeyboardButton:
    # Button labels are plain text, not HTML: undo the escaping the catalog applies to params.
    return InlineKeyboardButton(html.unescape(context.t(lang, key, **params)), callback_data=data)


async def _edit(update: Update, text: str, keyboard: InlineKeyboardMarkup | None) -> None:
    await edit_text(update.callback_query.message, text, keyboard)  # a double press re-renders: quiet


def _label(context: AppContext, lang: str, reward: Reward, rank: int) -> tuple[str, dict[str, object]]:
    if rewards.is_out_of_stock(reward):
        return "reward.item_out", {}
    if rewards.is_locked(reward, rank, context.config.loyalty):
        return "reward.item_locked", {"tier": rewards.tier_label(reward.min_tier, context.config.loyalty)}
    return "reward.item", {}


async def _catalog_view(context: AppContext, customer: Customer) -> tuple[str, InlineKeyboardMarkup | None]:
    lang = customer.language
    async with context.read_only() as session:
        items = await rewards.catalog(session)
        balance = await ledger.balance(session, customer.id)
        rank = await rewards.customer_tier_rank(session, customer, context.now(), context.config.loyalty)
    if not items:
        return context.t(lang, "reward.empty", balance=balance), None
    rows = []
    for reward in items:
        key, params = _label(context, lang, reward, rank)
        rows.append(
            [
                _button(
                    context,
                    lang,
                    key,
                    f"{OPEN}{reward.id}",
                    title=rewards.title(reward),
                    cost=reward.cost,
                    **params,
                )
            ]
        )
    return context.t(lang, "reward.title", balance=balance), InlineKeyboardMarkup(rows)


async def _customer_or_refuse(update: Update, context: AppContext) -> Customer | None:
    async with context.read_only() as session:
        customer = await joined_customer(update, context, session)
    return customer  # a stranger has been told to /start first (after the read, not inside it)


async def show(update: Update, context: AppContext) -> None:
    """/rewards: read-only, then the catalog sent is remembered as the live one (handlers.live)."""
    customer = await _customer_or_refuse(update, context)
    if customer is not None:
        text, keyboard = await _catalog_view(context, customer)
        sent = await update.effective_message.reply_text(text, reply_markup=keyboard)
        await live.remember(context, sent.chat_id, live.REWARDS, sent.message_id)


async def on_browse(update: Update, context: AppContext) -> None:
    """rw:list (back to the catalog) and rw:open:<id> (a reward's detail)."""
    query = update.callback_query
    customer = await _customer_or_refuse(update, context)
    if customer is None:
        return
    data = query.data or ""
    if data == LIST:
        await query.answer()
        await _edit(update, *await _catalog_view(context, customer))
        return
    reward_id = inputs.int_or_none(data.removeprefix(OPEN), low=1, high=inputs.MAX_ID)
    if not data.startswith(OPEN) or reward_id is None:  # a forged button
        await query.answer(context.t(customer.language, "button.stale"), show_alert=True)
        return
    await _show_detail(update, context, customer, reward_id)


def _back(context: AppContext, lang: str) -> list[InlineKeyboardButton]:
    return [_button(context, lang, "reward.back", LIST)]


async def _show_detail(update: Update, context: AppContext, customer: Customer, reward_id: int) -> None:
    lang, query = customer.language, update.callback_query
    async with context.unit_of_work() as session:
        offer = await rewards.offer(session, customer, reward_id, context.now(), context.config.loyalty)
        redeem = None
        if offer is not None and offer.refusal is None:
            payload = {"reward": reward_id}
            redeem = await buttons.issue(
                session, REDEEM, payload, user_id=customer.telegram_id, now=context.now(), ttl=BUTTON_TTL
            )
    await query.answer()
    if offer is None:
        await _edit(
            update, context.t(lang, "reward.refused_disabled"), InlineKeyboardMarkup([_back(context, lang)])
        )
        return
    reward = offer.reward
    stock = context.t(lang, "reward.unlimited") if reward.stock is None else str(reward.stock)
    text = context.t(
        lang,
        "reward.detail",
        title=rewards.title(reward),
        description=rewards.description(reward),
        cost=reward.cost,
        stock=stock,
    )
    if offer.balance_after is None:
        text += "\n" + context.t(lang, "reward.balance_now", balance=offer.balance)
    else:
        text += "\n" + context.t(
            lang, "reward.balance_after", balance=offer.balance, after=offer.balance_after
        )
    if offer.refusal is not None:
        text += "\n\n" + context.t(lang, offer.refusal, **offer.params)
    row = [_button(context, lang, "reward.redeem", redeem)] if redeem else []
    await _edit(update, text, InlineKeyboardMarkup([row + _back(context, lang)]))


async def on_redeem(update: Update, context: AppContext, button: Button) -> None:
    """Redeem: ask for confirmation (nothing changes yet)."""
    customer = await _customer_or_refuse(update, context)
    if customer is None:
        return
    lang, reward_id = customer.language, int(button.payload["reward"])
    async with context.unit_of_work() as session:
        offer = await rewards.offer(session, customer, reward_id, context.now(), context.config.loyalty)
        confirm = None
        if offer is not None and offer.refusal is None:
            confirm = await buttons.issue(
                session,
                CONFIRM,
                {"reward": reward_id},
                user_id=customer.telegram_id,
                now=context.now(),
                ttl=BUTTON_TTL,
            )
    if offer is None or offer.refusal is not None or confirm is None:
        await _show_detail(update, context, customer, reward_id)
        return
    await update.callback_query.answer()
    text = context.t(
        lang,
        "reward.confirm_question",
        title=rewards.title(offer.reward),
        cost=offer.reward.cost,
        after=offer.balance_after,
    )
    keyboard = InlineKeyboardMarkup(
        [
            [
                _button(context, lang, "reward.confirm", confirm),
                _button(context, lang, "reward.back", f"{OPEN}{reward_id}"),
            ]
        ]
    )
    await _edit(update, text, keyboard)


async def on_confirm(update: Update, context: AppContext, button: Button) -> None:
    """Confirm: redeem once per button (its token is the idempotency key) and show the voucher."""
    query = update.callback_query
    customer = await _customer_or_refuse(update, context)
    if customer is None:
        return
    lang = customer.language
    try:
        async with context.unit_of_work() as session:
            done = await redemptions.redeem(
                session,
                customer,
                int(button.payload["reward"]),
                key=button.token,
                now=context.now(),
                config=context.config.loyalty,
            )
    except RedemptionRefused as refused:  # rolled back: nothing deducted
        await query.answer()
        text = context.t(lang, refused.code, **refused.params)
        await _edit(update, text, InlineKeyboardMarkup([_back(context, lang)]))
        return
    await query.answer(context.t(lang, "reward.already_redeemed") if done.replayed else None)
    voucher = done.voucher
    until = (
        context.t(lang, "reward.valid_until", date=local(voucher.expires_at, customer.timezone))
        if voucher.expires_at
        else context.t(lang, "reward.valid_forever")
    )
    text = context.t(
        lang,
        "reward.voucher",
        title=redemptions.title(voucher),
        code=voucher.code,
        balance=done.balance,
        until=until,
    )
    await _edit(update, text, InlineKeyboardMarkup([_back(context, lang)]))


async def mine(update: Update, context: AppContext) -> None:
    """/myrewards: read-only."""
    customer = await _customer_or_refuse(update, context)
    if customer is None:
        return
    lang = customer.language
    async with context.read_only() as session:
        vouchers = await redemptions.of_customer(session, customer.id)
    if not vouchers:
        await update.effective_message.reply_text(context.t(lang, "reward.mine_empty"))
        return
    now = context.now()
    lines = [
        context.t(
            lang,
            "reward.mine_line",
            title=redemptions.title(v),
            code=v.code,
            status=context.t(lang, f"reward.status_{redemptions.status_of(v, now)}"),
            date=local(v.created_at, customer.timezone),
        )
        for v in vouchers
    ]
    await update.effective_message.reply_text(context.t(lang, "reward.mine_title") + "\n" + "\n".join(lines))
