"""A campaign's buttons in the customer's private chat: "🎁 Claim" (cp:<campaign id>) takes the offer
once (storage.campaigns.offers: a double tap, a repeated update or a later press shows the same voucher)
and "🔕 Stop offers" (pf:stop) turns offers off at once. Neither carries a secret: each acts for the
customer pressing it, and the claim is checked against what the campaign decided for them."""

from __future__ import annotations

from telegram import Update

from handlers.common import joined_customer
from handlers.context import AppContext
from handlers.loyalty_text import local
from handlers.replies import answer_in_chat
from storage.campaigns import offers
from storage.campaigns.drafts import CampaignRefused
from storage.loyalty import redemptions
from storage.loyalty.redemptions import RedemptionRefused
from storage.people import preferences


async def on_claim(update: Update, context: AppContext) -> None:
    query = update.callback_query
    campaign_id = offers.parse_claim(query.data or "")
    try:
        async with context.unit_of_work() as session:
            customer = await joined_customer(update, context, session)
            if customer is None:
                return
            lang = customer.language
            if campaign_id is None:
                raise CampaignRefused("button.stale")
            done = await offers.claim(
                session, customer, campaign_id, now=context.now(), config=context.config.loyalty
            )
    except (CampaignRefused, RedemptionRefused) as refused:  # rolled back: nothing taken
        await query.answer(context.t(lang, refused.code, **refused.params), show_alert=True)
        return
    voucher = done.voucher
    until = (
        context.t(lang, "reward.valid_until", date=local(voucher.expires_at, customer.timezone))
        if voucher.expires_at
        else context.t(lang, "reward.valid_forever")
    )
    text = context.t(
        lang, "campaigns.claimed", title=redemptions.title(voucher), code=voucher.code, until=until
    )
    if done.replayed:  # claimed before: the same voucher, shown where they pressed
        await query.answer(context.t(lang, "campaigns.already_claimed", code=voucher.code), show_alert=True)
        return
    await query.answer()
    await answer_in_chat(query, text)


async def on_stop_offers(update: Update, context: AppContext) -> None:
    """Offers off for whoever pressed it, at once (the next campaign's batches leave them out)."""
    query = update.callback_query
    async with context.unit_of_work() as session:
        customer = await joined_customer(update, context, session)
        if customer is None:
            return
        await preferences.choose(session, customer.id, preferences.OFFERS, False, context.now())
        lang = customer.language
    await query.answer(context.t(lang, "preferences.offers_stopped"), show_alert=True)
