"""/campaign in the staff group (admins and owners): new (a draft from one line), image (a photo
captioned `/campaign image <name>` attaches it to the draft; `/campaign image <name> off` removes it:
handlers.staff.campaign_images),
preview (the message exactly as each language's customers see it, the send time, the counts, Confirm),
report and list. The send's progress message has Pause / Resume beside Stop (handlers.staff.bulk).
Confirm records the campaign's bulk job (storage.campaigns.fanout) and answers at once; the bulk tick
fans it out and handlers.staff.bulk edits the message with progress_text. Every reply is made after the
unit of work."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message, Update
from telegram.constants import ChatAction

from handlers.authority import subcommand
from handlers.context import AppContext, Texts
from handlers.loyalty_text import local
from handlers.replies import chat_action, edit_text, pack
from handlers.staff import campaign_images
from handlers.staff import recurring as staff_recurring
from handlers.staff.bulk import stop_keyboard
from handlers.staff.charts import LiftLabels, lift_png
from storage.background import Progress
from storage.campaigns import drafts, fanout, report, sendtime
from storage.campaigns.drafts import CampaignRefused
from storage.campaigns.models import Campaign
from storage.core import audit, bulk, buttons
from storage.core.config import LANGUAGES, Config
from storage.core.models import Button
from storage.core.refusals import Refused
from storage.loyalty import rewards
from storage.surveys import audiences

SEND, CANCEL = "campaigns/send", "campaigns/cancel"  # button actions (handlers.buttons routes them)
PREVIEW = "cpv:"  # the buttons of a preview copy: they only say that it is a preview
CONFIRM_TTL = timedelta(hours=1)


def _lang(context: AppContext) -> str:
    return context.config.default_language


def _user(message: Message) -> int:
    return message.from_user.id if message.from_user else 0


async def _new(context: AppContext, message: Message, rest: str) -> None:
    """Parsed and checked before any transaction opens; stored in a unit of work of its own."""
    lang = _lang(context)
    try:
        draft = drafts.parse(rest)
        async with context.unit_of_work() as session:
            campaign = await drafts.create(
                session,
                draft,
                created_by=_user(message),
                now=context.now(),
                holdout_percent=context.config.contact.holdout_percent,
            )
            await audit.record(
                session,
                actor_id=_user(message),
                chat_id=message.chat_id,
                action="campaign new",
                target=campaign.name,
                detail={"audience": campaign.audience, "reward": campaign.reward_id},
            )
    except Refused as refused:  # rolled back (or never begun): nothing stored
        await message.reply_text(context.t(lang, refused.code, **refused.params))
        return
    await message.reply_text(
        context.t(lang, "campaigns.created", name=campaign.name, when=when_text(context.t, lang, campaign))
    )


def when_text(texts: Texts, lang: str, campaign: Campaign) -> str:
    send = sendtime.of(campaign.send_date, campaign.send_minute)
    if send is None:
        return texts(lang, "campaigns.when_now")
    if send.day is None:
        return texts(lang, "campaigns.when_next", time=send.clock)
    return texts(lang, "campaigns.when_day", day=send.day, time=send.clock)


def customer_copy(texts: Texts, campaign: Campaign, language: str) -> tuple[str, InlineKeyboardMarkup]:
    """The campaign as a customer speaking `language` gets it (the sender renders the same template and
    labels); its buttons here only say that this is a preview."""
    text = texts(language, fanout.TEMPLATE, html_text=drafts.text_for(campaign, language))
    rows = [
        [InlineKeyboardButton(texts(language, label[1:]), callback_data=f"{PREVIEW}{campaign.id}")]
        for row in fanout.buttons(campaign)
        for label, _ in row
    ]
    return text, InlineKeyboardMarkup(rows)


async def _preview(context: AppContext, message: Message, name: str) -> None:
    """The counting reads (a big audience takes seconds) run on a read-only unit of work, so they never
    hold the write lock; only the Confirm buttons are written, in a short one after them."""
    lang = _lang(context)
    reply = message.reply_text
    now = context.now()
    async with context.read_only() as session:
        try:
            campaign = await drafts.named(session, name)
            if campaign.status != "draft":
                raise CampaignRefused("campaigns.already_sent", name=campaign.name)
            audience = audiences.parse(campaign.audience)
            resolved = await audiences.resolve(session, audience, now, context.config.loyalty)
        except Refused as refused:
            context.after_commit(reply, context.t(lang, refused.code, **refused.params))
            return
        counts = await fanout.preview(session, campaign, resolved.customer_ids, now, context.config)
        reward = await rewards.get(session, campaign.reward_id) if campaign.reward_id else None
    offer = context.t(lang, "campaigns.no_offer")
    if reward is not None:
        stock = "∞" if reward.stock is None else reward.stock
        offer = context.t(lang, "campaigns.offer_line", title=reward.title, stock=stock)
    text = context.t(
        lang,
        "campaigns.preview",
        name=campaign.name,
        audience=campaign.audience,
        total=counts["audience"],
        reachable=counts["audience"] - counts[fanout.UNREACHABLE],
        unreachable=counts[fanout.UNREACHABLE],
        opted_out=counts[fanout.OPTED_OUT],
        over_budget=counts[fanout.OVER_BUDGET],
        held_out=counts[fanout.HELD_OUT],
        holdout=campaign.holdout_percent,
        sent=counts[fanout.SENT],
        limit=context.config.contact.budget,
        days=context.config.contact.days,
        offer=offer,
        when=when_text(context.t, lang, campaign),
    )
    if resolved.unknown:
        text += "\n" + context.t(lang, "surveys.send_unknown", references=", ".join(resolved.unknown))
    for language in LANGUAGES:
        copy, keyboard = customer_copy(context.t, campaign, language)
        await reply(context.t(lang, "campaigns.preview_copy", language=language))
        if campaign.photo:  # as the sender sends it: the photo, the text its caption
            await message.reply_photo(campaign.photo, caption=copy, reply_markup=keyboard)
        else:
            await reply(copy, reply_markup=keyboard)
    if not counts[fanout.SENT]:
        await reply(text + "\n" + context.t(lang, "campaigns.nobody"))
        return
    async with context.unit_of_work() as session:
        confirm, cancel = await buttons.issue_choice(
            session,
            [SEND, CANCEL],
            {"campaign": campaign.id, "total": counts["audience"]},
            user_id=_user(message),
            now=now,
            ttl=CONFIRM_TTL,
        )
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(context.t(lang, "surveys.confirm_button"), callback_data=confirm),
                InlineKeyboardButton(context.t(lang, "surveys.cancel_button"), callback_data=cancel),
            ]
        ]
    )
    await reply(text, reply_markup=keyboard)


async def on_send_button(update: Update, context: AppContext, button: Button) -> None:
    """Confirm or Cancel under a preview (the button belongs to the admin who asked). Confirm records
    the campaign's job, once per campaign; the messages go out in the background."""
    query, user = update.callback_query, update.effective_user
    lang = _lang(context)
    chat_id = query.message.chat.id if query.message else None
    try:
        async with context.unit_of_work() as session:
            await buttons.consume(session, button)  # both buttons are spent once either is pressed
            if button.action == CANCEL:
                context.after_commit(query.answer)
                context.after_commit(edit_text, query.message, context.t(lang, "campaigns.cancelled"))
                return
            campaign = await session.get(Campaign, int(button.payload["campaign"]))
            if campaign is None:
                raise CampaignRefused("button.stale")
            total = int(button.payload.get("total") or 0) or None
            job = await fanout.start(
                session,
                campaign,
                requested_by=user.id,
                language=lang,
                now=context.now(),
                total=total,
                chat_id=chat_id,
                message_id=query.message.message_id if query.message else None,
            )
            await audit.record(
                session,
                actor_id=user.id,
                chat_id=chat_id,
                action="campaign send",
                target=campaign.name,
                detail={"audience": campaign.audience, "total": total, "job": job.id},
            )
            started = context.t(
                lang,
                "campaigns.started",
                name=campaign.name,
                audience=campaign.audience,
                total=total or 0,
                when=when_text(context.t, lang, campaign),
            )
            context.after_commit(query.answer)
            keyboard = stop_keyboard(context.t, lang, job.id, pausable=True)
            context.after_commit(edit_text, query.message, started, reply_markup=keyboard)
    except Refused as refused:  # rolled back: the buttons stay, nothing recorded
        await query.answer(context.t(lang, refused.code, **refused.params), show_alert=True)


async def on_preview_button(update: Update, context: AppContext) -> None:
    """A button of a preview copy: nothing to claim or stop here."""
    await update.callback_query.answer(context.t(_lang(context), "campaigns.preview_button"), show_alert=True)


def progress_text(texts: Texts, progress: Progress, config: Config) -> str:
    """The staff message of a campaign's send (handlers.staff.bulk edits it), in its language."""
    lang, params, reasons = progress.language, progress.params, progress.reasons
    common = {
        "name": params["name"],
        "audience": params["audience"],
        "sent": progress.sent,
        "failed": progress.failed,
        "total": progress.total or progress.handled,
        "held_out": reasons.get(fanout.HELD_OUT, 0),
        "opted_out": reasons.get(fanout.OPTED_OUT, 0),
        "over_budget": reasons.get(fanout.OVER_BUDGET, 0),
        "too_late": reasons.get(fanout.TOO_LATE, 0),
        "unreachable": reasons.get(fanout.UNREACHABLE, 0) + progress.skipped - sum(reasons.values()),
    }
    if not progress.final:
        eta = timedelta(seconds=round(progress.eta_seconds or 0))
        text = texts(
            lang,
            "campaigns.progress",
            **common,
            handled=progress.handled,
            queued=progress.queued,
        )
        if progress.paused:
            return text + "\n" + texts(lang, "campaigns.paused")
        return text + "\n" + texts(lang, "campaigns.eta", eta=str(eta))
    if progress.state == bulk.CANCELLED:
        return texts(lang, "campaigns.stopped", **common, withdrawn=progress.withdrawn)
    if progress.state == bulk.FAILED:
        return texts(lang, "campaigns.failed", **common, handled=progress.handled)
    return texts(lang, "campaigns.done", **common)


async def _report(context: AppContext, message: Message, name: str) -> None:
    """The report as text, then (once sent) a chart of revenue per customer against the hold-out."""
    lang = _lang(context)
    now = context.now()
    built = None
    async with context.read_only() as session:
        try:
            campaign = await drafts.named(session, name)
        except CampaignRefused as refused:
            text = context.t(lang, refused.code, **refused.params)
        else:
            built = await report.build(session, campaign, now)
            text = report_text(context.t, lang, built, context.config.staff_timezone)
    await message.reply_text(text)
    if built is None or built.since is None:
        return
    labels = lift_labels(context.t, lang, built)
    each = (float(built.recipients.revenue_each), float(built.holdout.revenue_each))
    await chat_action(context.bot, message.chat_id, ChatAction.UPLOAD_PHOTO)
    png = await asyncio.to_thread(lift_png, *each, labels)
    await message.reply_photo(InputFile(png, filename=f"campaign-{built.campaign.name}.png"))


def lift_labels(texts: Texts, lang: str, built: report.Report) -> LiftLabels:
    def group(label: str, g: report.Group) -> str:
        return texts(lang, "campaigns.chart_group", label=texts(lang, label), members=g.members)

    return LiftLabels(
        title=texts(lang, "campaigns.chart_title", name=built.campaign.name),
        recipients=group("campaigns.recipients", built.recipients),
        holdout=group("campaigns.holdout", built.holdout),
        revenue=texts(lang, "campaigns.chart_revenue"),
        amounts=(
            texts(lang, "campaigns.chart_amount", amount=built.recipients.revenue_each),
            texts(lang, "campaigns.chart_amount", amount=built.holdout.revenue_each),
        ),
    )


def report_text(texts: Texts, lang: str, built: report.Report, zone: str) -> str:
    if built.since is None:
        return texts(lang, "campaigns.report_draft", name=built.campaign.name)
    lift = built.lift
    group = "campaigns.report_group"

    def line(label: str, g: report.Group) -> str:
        return texts(
            lang,
            group,
            label=texts(lang, label),
            members=g.members,
            buyers=g.buyers,
            conversion=g.conversion,
            purchases=g.purchases,
            revenue=f"{g.revenue:.2f}",
            each=f"{g.revenue_each:.2f}",
        )

    return texts(
        lang,
        "campaigns.report",
        name=built.campaign.name,
        since=local(built.since, zone),
        **{outcome: count for outcome, count in built.outcomes.items()},
        pending=built.pending,
        delivered=built.delivered,
        blocked=built.blocked,
        failed=built.failed,
        withdrawn=built.withdrawn,
        claimed=built.claimed,
        redeemed=built.redeemed,
        recipients=line("campaigns.recipients", built.recipients),
        holdout=line("campaigns.holdout", built.holdout),
        lift=texts(lang, "campaigns.lift", lift=f"{lift:+}")
        if lift is not None
        else texts(lang, "campaigns.no_lift"),
    )


async def _list(context: AppContext, message: Message) -> None:
    lang = _lang(context)
    async with context.read_only() as session:
        listed = await drafts.newest(session)
    if not listed:
        await message.reply_text(context.t(lang, "campaigns.list_empty"))
        return
    rules = await staff_recurring.notes(context, [c.id for c in listed])  # recurring: rule, next date
    lines = [
        context.t(
            lang,
            "campaigns.list_line",
            name=c.name,
            status=context.t(lang, f"campaigns.status_{c.status}"),
            audience=c.audience[:60],
            offer="🎁" if c.reward_id else "",
        )
        + (f" · {rules[c.id]}" if rules.get(c.id) else "")
        for c in listed
    ]
    for part in pack([context.t(lang, "campaigns.list_title"), *lines]):
        await message.reply_text(part)


async def command(update: Update, context: AppContext) -> None:
    """/campaign <new|preview|report|list|repeat|activate|stop> ... in the staff group."""
    message = update.effective_message
    if message is None:
        return
    sub, rest = subcommand(message)  # the parse the guard checked
    if sub == "new":
        await _new(context, message, rest)
    elif sub == "image":
        await campaign_images.command(context, message, rest)
    elif sub == "preview" and rest:
        await _preview(context, message, rest)
    elif sub == "report" and rest:
        await _report(context, message, rest)
    elif sub == "list":
        await _list(context, message)
    elif sub == "repeat" and rest:
        await staff_recurring.repeat(context, message, rest)
    elif sub == "activate" and rest:
        await staff_recurring.activate(context, message, rest)
    elif sub == "stop" and rest:
        await staff_recurring.stop(context, message, rest)
    else:
        await message.reply_text(context.t(_lang(context), "campaigns.usage"))
