"""/reward add|edit|disable|enable|stock|list: the rewards catalog, every change audited."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update

from handlers import paging
from handlers.common import command_args, language_for
from handlers.context import AppContext
from handlers.paging import Listing
from storage.core import audit, inputs
from storage.core.inputs import InputRefused
from storage.loyalty import rewards
from storage.loyalty.models import Reward
from storage.loyalty.rewards import CatalogRefused


def _line(context: AppContext, lang: str, reward: Reward) -> str:
    return context.t(
        lang,
        "reward.staff_line",
        id=reward.id,
        title=reward.title,
        cost=reward.cost,
        stock=context.t(lang, "reward.unlimited") if reward.stock is None else reward.stock,
        limit=reward.per_customer_limit if reward.per_customer_limit is not None else "—",
        tier=reward.min_tier or "—",
        state=context.t(lang, "reward.state_on" if reward.active else "reward.state_off"),
    )


LIST = "rw"  # /reward list in handlers.paging


async def listing(update: Update, context: AppContext, session: AsyncSession) -> Listing:
    lang = language_for(update, context)
    items = await rewards.catalog(session, include_inactive=True)
    title = context.t(lang, "reward.staff_title")
    empty = title + "\n" + context.t(lang, "reward.staff_empty")
    return Listing(lang, title, [_line(context, lang, r) for r in items], empty)


def _reward_id(raw: str) -> int:
    return inputs.parse_int(raw, low=1, high=inputs.MAX_ID, hash_ok=True, code="reward.staff_usage")


async def manage(update: Update, context: AppContext) -> None:
    message, user = update.effective_message, update.effective_user
    lang = language_for(update, context)
    sub, _, rest = command_args(message).partition(" ")
    sub, rest = sub.lower(), rest.strip()
    config, now = context.config.loyalty, context.now()
    if sub == "list":
        async with context.read_only() as session:
            listed = await listing(update, context, session)
        await paging.reply(message, context, LIST, listed)
        return
    try:
        async with context.unit_of_work() as session:
            if sub == "add":
                reward = await rewards.add(session, rewards.parse_spec(rest), config, now)
                detail = rewards.parse_spec(rest)
            elif sub == "edit":
                raw_id, _, spec = rest.partition(" ")
                detail = rewards.parse_spec(spec)
                reward = await rewards.edit(session, _reward_id(raw_id), detail, config, now)
            elif sub in ("disable", "enable"):
                reward = await rewards.set_active(session, _reward_id(rest), sub == "enable", now)
                detail = {}
            elif sub == "stock":
                raw_id, _, amount = rest.partition(" ")
                reward = await rewards.set_stock(session, _reward_id(raw_id), amount.strip(), now)
                detail = {"stock": amount.strip()}
            else:
                raise CatalogRefused("reward.staff_usage")
            await audit.record(
                session,
                actor_id=user.id,
                chat_id=message.chat_id,
                action=f"reward_{sub}",
                target=str(reward.id),
                detail=detail,
            )
            line = _line(context, lang, reward)
    except (CatalogRefused, InputRefused) as refused:  # rolled back: the catalog is unchanged
        await message.reply_text(context.t(lang, refused.code, **refused.params))
        return
    await message.reply_text(context.t(lang, "reward.staff_saved") + "\n" + line)
