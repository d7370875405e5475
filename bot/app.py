"""build_application(settings): the one place where everything is wired, in an explicit order."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from datetime import timedelta

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import (
    ApplicationBuilder,
    ChatMemberHandler,
    ContextTypes,
    Defaults,
    TypeHandler,
    filters,
)

from bot import commands, startup
from bot.i18n import Catalog
from bot.ordering import PerPersonProcessor
from bot.requests import TransactionGuard
from bot.settings import Settings
from bot.ticks import BULK_FINISH, BULK_TEXTS, FAST, SLOW, TICKS
from bot.update_metrics import EngageApplication
from handlers import activity, errors, live, membership, unknown
from handlers.authority import (
    APPROVAL_PREFIX,
    CUSTOMER,
    GROUP_OWNER,
    INTRODUCTION,
    NEW_MESSAGES,
    ROUTED,
    STAFF_LINK,
    CaptionCommand,
    Guarded,
    Registry,
    Route,
    staff_access,
)
from handlers.buttons import PATTERN as BUTTON_PATTERN
from handlers.buttons import ButtonRouter
from handlers.context import AppContext, BotData, Runtime
from handlers.customer import complaints as customer_complaints
from handlers.customer import (
    feedback,
    offers,
    onboarding,
    points,
    privacy,
    profile,
    profile_remove,
    rewards,
    setup,
    surveys,
    timezone,
    to_staff,
)
from handlers.desk import actions as desk_actions
from handlers.desk import relay as desk_relay
from handlers.staff import audit as staff_audit
from handlers.staff import bulk as staff_bulk
from handlers.staff import (
    campaign_images,
    catalog,
    exports,
    find,
    group,
    imports,
    owners,
    purchases,
    roles,
    stats,
    vouchers,
)
from handlers.staff import campaigns as staff_campaigns
from handlers.staff import erase as staff_erase
from handlers.staff import feedback as staff_feedback
from handlers.staff import followups as staff_followups
from handlers.staff import lists as staff_lists
from handlers.staff import notes as staff_notes
from handlers.staff import outbox as staff_outbox
from handlers.staff import scan as staff_scan
from handlers.staff import surveys as staff_surveys
from handlers.steps import StepRouter
from handlers.steps import cancel as steps_cancel
from jobs import birthdays, sender
from storage import migrate
from storage.campaigns import fanout
from storage.care import followups
from storage.core import crypto, db
from storage.core.clock import Clock, SystemClock
from storage.people import member_codes, preferences, staff, zone_data
from storage.people import setup as first_owner
from storage.people.staff import Role

log = logging.getLogger(__name__)
MEMBER_LINK = rf"^/start(@\w+)?\s+{member_codes.DEEP_LINK_PREFIX}"


def _register(app: EngageApplication) -> None:
    """Every handler with who may use it (handlers.authority), in the order they are tried."""
    reg = Registry(app, app.bot_data.runtime)
    # Group -3 and -2: bookkeeping that must see updates first (membership, last seen); 0: capabilities.
    reg.bookkeeping(ChatMemberHandler(membership.track, ChatMemberHandler.CHAT_MEMBER), group=-3)
    reg.bookkeeping(TypeHandler(Update, activity.touch), group=-2)

    # Set-up inside Telegram: the first owner (/setup), the bot added to a group, the staff group chosen.
    reg.command("setup", setup.command, CUSTOMER)
    reg.add(
        ChatMemberHandler(
            Guarded(group.introduce, INTRODUCTION, "introduce"), ChatMemberHandler.MY_CHAT_MEMBER
        )
    )
    reg.button(group.PATTERN, group.use_group(_staff_group_chosen), GROUP_OWNER, "staff_group_set")

    # A member's QR code opened by a staff member: their card (group -1, before the customer's /start,
    # which runs for everyone else).
    reg.command("start", find.open_member_link, STAFF_LINK, filters.Regex(MEMBER_LINK), group=-1)
    reg.command("start", onboarding.start, CUSTOMER)
    reg.command("help", onboarding.help_command, CUSTOMER)
    reg.command("profile", profile.show, CUSTOMER)
    reg.command("language", profile.choose_language, CUSTOMER)
    reg.command("skip", profile.on_skip, CUSTOMER)
    reg.button(r"^consent:", onboarding.on_consent, CUSTOMER, "consent")
    # Buttons on a card act only on the newest card of its kind (handlers.live): older ones are out of date.
    reg.button(rf"^{profile.SKIP}$", live.guarded(live.PROMPT, profile.on_skip), CUSTOMER, "profile_skip")
    removal = rf"^({profile.REMOVE}|{profile.REMOVE_SURE}|{profile.CARD}$)"
    reg.button(removal, live.guarded(live.PROFILE, profile_remove.on_button), CUSTOMER, "profile_remove")
    reg.button(r"^profile:", live.guarded(live.PROFILE, profile.on_edit), CUSTOMER, "profile_edit")
    reg.button(rf"^{timezone.CHOOSE}", timezone.on_choose, CUSTOMER, "timezone_choose")
    reg.button(r"^lang:", profile.on_language, CUSTOMER, "language")
    reg.button(rf"^{preferences.STOP_OFFERS}$", offers.on_stop_offers, CUSTOMER, "stop_offers")
    reg.button(
        rf"^{preferences.PREFIX}", live.guarded(live.PROFILE, profile.on_preference), CUSTOMER, "preferences"
    )
    reg.button(rf"^{fanout.CLAIM}", offers.on_claim, CUSTOMER, "campaign_claim")

    reg.command("points", points.show, CUSTOMER)
    reg.command("invite", points.invite, CUSTOMER)
    reg.command("rewards", rewards.show, CUSTOMER)
    reg.command("myrewards", rewards.mine, CUSTOMER)
    reg.command("privacy", privacy.show, CUSTOMER)
    reg.button(rf"^{points.PAGE_PREFIX}", live.guarded(live.POINTS, points.on_page), CUSTOMER, "points_page")
    reg.button(customer_complaints.PATTERN, customer_complaints.on_vote, CUSTOMER, "complaint_vote")
    reg.button(r"^rw:", live.guarded(live.REWARDS, rewards.on_browse), CUSTOMER, "rewards_browse")
    reg.command("survey", surveys.open_survey, CUSTOMER)
    reg.command("feedback", feedback.command, CUSTOMER)
    reg.command("cancel", steps_cancel, CUSTOMER)
    reg.button(r"^sv:", surveys.on_answer, CUSTOMER, "survey_answer")

    agent, admin, owner = staff_access(Role.AGENT), staff_access(Role.ADMIN), staff_access(Role.OWNER)
    # In the staff group /help and /start are the staff's; elsewhere they stay the customers'.
    reg.command("help", group.help_command, agent, refuse_elsewhere=False)
    reg.command("start", group.start, agent, refuse_elsewhere=False)
    reg.command("find", find.find, agent)
    reg.button(find.PATTERN, find.on_timeline, agent, "timeline")
    reg.command("note", staff_notes.note, agent)
    reg.command("erase", staff_erase.command, admin)
    reg.command("audit", staff_audit.command, admin)
    reg.command("owner", owners.command, admin)
    reg.command("tag", staff_notes.tag, agent)
    reg.command("staff", roles.list_staff, agent)
    reg.command("promote", roles.promote, owner)
    reg.button(rf"^{APPROVAL_PREFIX}", roles.on_approval, admin, "staff_approve")
    reg.command("demote", roles.demote, owner)
    reg.command("purchase", purchases.purchase, agent)
    reg.command("award", purchases.award, agent)
    reg.command("deduct", purchases.deduct, admin)
    reg.command("fulfil", vouchers.fulfil, agent)
    reg.command("cancel", vouchers.cancel, admin)
    reg.command("reward", catalog.manage, admin)
    survey_admin = dict.fromkeys(staff_surveys.CHANGES, Role.ADMIN)
    reg.command("survey", staff_surveys.command, staff_access(Role.AGENT, survey_admin))
    reg.message(
        filters.Document.FileExtension("json") & CaptionCommand("survey") & NEW_MESSAGES,
        staff_surveys.upload,
        admin,
        "survey new",
    )
    reg.command("feedback", staff_feedback.list_open, agent)
    reg.command("stats", stats.command, agent)
    reg.button(desk_actions.PATTERN, desk_actions.on_button, agent, "feedback_card")
    reg.command(["callback", "followup"], staff_followups.schedule, agent)
    reg.command(["callbacks", "followups"], staff_followups.list_open, agent)
    reg.command("outbox", staff_outbox.progress, agent)
    reg.message(filters.PHOTO & CaptionCommand("find") & NEW_MESSAGES, staff_scan.from_photo, agent, "find")
    reg.command("import", imports.usage, admin)
    reg.message(
        filters.Document.ALL & CaptionCommand("import") & NEW_MESSAGES, imports.upload, admin, "import"
    )
    reg.command("export", exports.command, admin)
    reg.command("campaign", staff_campaigns.command, admin)
    reg.message(
        filters.PHOTO & CaptionCommand("campaign") & NEW_MESSAGES,
        campaign_images.upload_image,
        admin,
        "campaign image",
    )
    reg.button(rf"^{staff_campaigns.PREVIEW}", staff_campaigns.on_preview_button, admin, "campaign_preview")
    pauser = staff_bulk.pauser(BULK_TEXTS, BULK_FINISH)
    reg.button(staff_bulk.PAUSE_PATTERN, pauser, admin, "bulk_pause")
    reg.button(staff_bulk.RESUME_PATTERN, pauser, admin, "bulk_resume")
    reg.button(staff_bulk.PATTERN, staff_bulk.stopper(BULK_TEXTS, BULK_FINISH), admin, "bulk_stop")

    # ‹ › of the staff lists ("pg:<list>:<page>"): who may turn a page is who may ask for the list.
    list_roles = {
        staff_followups.LIST: agent,
        roles.LIST: agent,
        catalog.LIST: admin,
        staff_surveys.LIST: agent,
        staff_feedback.LIST: agent,
    }
    for name, access in list_roles.items():
        reg.button(staff_lists.pattern(name), staff_lists.on_page, access, f"page {name}")
    reg.button(find.PAGES_PATTERN, staff_lists.on_page, agent, "page timeline")
    reg.button(staff_lists.PATTERN, staff_lists.on_page, agent, "page")  # forged: answered as stale

    # Every database-backed button ("b:<token>") goes through one router, by the button's action.
    buttons = ButtonRouter(
        {
            rewards.REDEEM: Route(live.guarded(live.REWARDS, rewards.on_redeem), CUSTOMER),
            rewards.CONFIRM: Route(live.guarded(live.REWARDS, rewards.on_confirm), CUSTOMER),
            privacy.EXPORT: Route(privacy.on_export, CUSTOMER),
            privacy.ERASE: Route(privacy.on_erase, CUSTOMER),
            privacy.CONFIRM: Route(privacy.on_confirm, CUSTOMER),
            privacy.WITHDRAW: Route(privacy.on_withdraw, CUSTOMER),
            privacy.WITHDRAW_CONFIRM: Route(privacy.on_withdraw_confirm, CUSTOMER),
            staff_erase.CONFIRM: Route(staff_erase.on_button, admin),
            staff_audit.PAGE: Route(staff_audit.on_page, admin),
            staff_erase.CANCEL: Route(staff_erase.on_button, admin),
            staff_surveys.SEND: Route(staff_surveys.on_send_button, admin),
            staff_surveys.CANCEL: Route(staff_surveys.on_send_button, admin),
            # The choice of customers a name matched: who may press is who may give the command.
            purchases.PICK["purchase"]: Route(purchases.on_pick, agent),
            purchases.PICK["award"]: Route(purchases.on_pick, agent),
            purchases.PICK["deduct"]: Route(purchases.on_pick, admin),
            staff_campaigns.SEND: Route(staff_campaigns.on_send_button, admin),
            staff_campaigns.CANCEL: Route(staff_campaigns.on_send_button, admin),
            **{
                f"follow_up/{action}": Route(staff_followups.on_button, agent) for action in followups.ACTIONS
            },
        }
    )
    reg.button(BUTTON_PATTERN, buttons, ROUTED, "button")

    customer_steps = {**profile.STEPS, **timezone.STEPS, **surveys.STEPS, **feedback.STEPS}
    steps = StepRouter(
        {
            **{step: Route(handler, CUSTOMER) for step, handler in customer_steps.items()},
            **{step: Route(handler, agent) for step, handler in staff_followups.STEPS.items()},
        }
    )
    # Replies first: to a feedback card or relayed message (staff group / private chat); else the steps.
    replies = filters.REPLY & filters.TEXT & ~filters.COMMAND & NEW_MESSAGES
    reg.message(replies, desk_relay.group_reply(steps), agent, "feedback_reply")
    reg.message(replies, feedback.private_reply(steps), CUSTOMER, "feedback_answer")
    # A shared location answers the time zone step (each step's route declares its access: CUSTOMER).
    answers = filters.TEXT | filters.CONTACT | filters.LOCATION
    reg.message(answers & ~filters.COMMAND & NEW_MESSAGES, steps, ROUTED, "step")
    reg.refusals()
    reg.fallback(unknown.answer)
    app.add_error_handler(errors.on_error)


async def _staff_group_chosen(context: AppContext, chat_id: int) -> None:
    """After "Use this group for staff" committed: the group's command menu, then the feedback kept
    while there was no staff group."""
    await commands.publish_staff(context.bot, context.application.catalog, chat_id)
    await to_staff.post_backlog(context, settle=timedelta(0))


def build_application(settings: Settings, clock: Clock | None = None) -> EngageApplication:
    """The Application production runs; tests build it the same way with their own settings."""
    catalog = Catalog.load(settings.config.default_language, settings.config.currency)
    if settings.secret_key:  # checked by bot.startup.check_key before; tests configure theirs
        crypto.configure(settings.secret_key, settings.old_secret_keys)
    context_types = ContextTypes(context=AppContext, bot_data=BotData)
    api = settings.telegram_api_url
    app: EngageApplication = (
        ApplicationBuilder()
        .application_class(EngageApplication)
        .token(settings.token)
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .defaults(Defaults(parse_mode=ParseMode.HTML))
        .context_types(context_types)
        .request(TransactionGuard(strict=settings.strict_transactions))
        .concurrent_updates(PerPersonProcessor(settings.concurrent_updates))
        .post_init(_post_init)
        .post_stop(_post_stop)
        .post_shutdown(_post_shutdown)
        .build()
    )
    engine = db.create_engine(settings.database_url)
    read_engine = db.create_read_engine(settings.database_url, engine)
    runtime = Runtime(
        sessions=db.create_session_factory(engine),
        reads=db.create_session_factory(read_engine),
        config=settings.config,
        clock=clock or SystemClock(),
        texts=catalog,
    )
    app.bot_data.runtime = runtime
    app.settings, app.engine, app.read_engine, app.catalog = settings, engine, read_engine, catalog
    _register(app)
    return app


async def _post_init(app: EngageApplication) -> None:
    """Startup work: migrations, owners, command menus, the periodic ticks."""
    runtime: Runtime = app.bot_data.runtime
    await migrate.upgrade(app.engine, phone_region=runtime.config.default_region)
    async with runtime.sessions.begin() as session:
        await staff.bootstrap_owners(session, runtime.config.owner_ids)
        code = await first_owner.new_code(session, runtime.clock.now())
        owners = await first_owner.owner_count(session)
    await runtime.load_stored_settings()  # the staff group chosen in Telegram, unless STAFF_CHAT_ID
    await birthdays.backfill(runtime.sessions, runtime.clock, runtime.config)
    # The city names the time zone step looks up (~1 s to read): in a thread now, not at the first customer.
    app.warm_up = asyncio.create_task(asyncio.to_thread(zone_data.load), name="time-zone-data")
    await commands.publish(app.bot, app.catalog, runtime.config)
    settings = app.settings
    log.info(
        startup.summary(
            startup.Summary(
                username=app.bot.username,
                webhook=settings.webhook_mode,
                database_url=settings.database_url,
                staff_chat=runtime.config.staff_chat_id,
                staff_chat_fixed=runtime.fixed_staff_chat,
                owners=owners,
                sender=settings.run_sender,
                tick_seconds=settings.tick_seconds,
            )
        )
    )
    if code is not None:  # nobody is an owner: the one way in, printed where only the operator looks
        log.warning(
            "set-up code: %s — send “/setup %s” to @%s in a private chat to become the owner "
            "(a new code at each start until one is used)",
            code,
            code,
            app.bot.username,
        )
    # The sender is a loop, not a tick: it keeps the pace (and RetryAfter pauses) across batches.
    if app.settings.run_sender:
        app.sender = sender.Sender(
            app.bot, runtime.sessions, runtime.clock, runtime.texts, runtime.config.sender, worker=_worker()
        )
        app.sender_task = asyncio.create_task(app.sender.run(), name="outbox-sender")
    if app.job_queue is not None and app.settings.tick_seconds > 0:
        for name, tick in TICKS.items():
            app.job_queue.run_repeating(
                tick,
                interval=max(
                    SLOW.get(name, 0.0),
                    min(FAST.get(name, app.settings.tick_seconds), app.settings.tick_seconds),
                ),
                first=1.0,  # at start: a greeting missed while the bot was down still goes out today
                name=name,
                job_kwargs={"max_instances": 1, "coalesce": True},
            )


def _worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:64]


async def _stop_sender(app: EngageApplication) -> None:
    task, app.sender_task = app.sender_task, None
    if task is not None:
        await app.sender.shutdown(task)


async def _post_stop(app: EngageApplication) -> None:
    """After updates stopped, before the bot's connections close (bot.web calls it in webhook mode too)."""
    await _stop_sender(app)
    await activity.flush(app.bot_data.runtime)


async def _post_shutdown(app: EngageApplication) -> None:
    await _post_stop(app)  # nothing left by then, unless a caller skipped post_stop
    if app.read_engine is not app.engine:
        await app.read_engine.dispose()
    await app.engine.dispose()
