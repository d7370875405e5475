"""build_application(settings): the one place where everything is wired, in an explicit order."""

from __future__ import annotations

import asyncio
import logging
import os
import socket

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import commands
from bot.application import EngageApplication
from bot.i18n import Catalog
from bot.settings import Settings
from bot.ticks import TICKS
from handlers import activity, errors, feedback, onboarding, points, profile, rewards, surveys
from handlers.buttons import PATTERN as BUTTON_PATTERN
from handlers.buttons import ButtonRouter
from handlers.context import AppContext, BotData, Runtime
from handlers.staff import access, catalog, feedback_cards, find, purchases, roles, stats, vouchers
from handlers.staff import callbacks as staff_callbacks
from handlers.staff import lists as staff_lists
from handlers.staff import outbox as staff_outbox
from handlers.staff import surveys as staff_surveys
from handlers.steps import StepRouter
from handlers.steps import cancel as steps_cancel
from jobs import birthdays, sender
from storage import db, migrate, staff, tasks
from storage.clock import Clock, SystemClock

log = logging.getLogger(__name__)

PRIVATE = filters.ChatType.PRIVATE
GROUPS = filters.ChatType.GROUPS  # the gate has already refused staff commands in any other group


def _register(app: EngageApplication) -> None:
    # Group -2: bookkeeping that must see every update; -1: the staff gate; 0: the capabilities.
    app.add_handler(TypeHandler(Update, activity.touch), group=-2)
    app.add_handler(MessageHandler(filters.COMMAND, access.gate), group=-1)

    app.add_handler(CommandHandler("start", onboarding.start, filters=PRIVATE))
    app.add_handler(CommandHandler("help", onboarding.help_command, filters=PRIVATE))
    app.add_handler(CommandHandler("profile", profile.show, filters=PRIVATE))
    app.add_handler(CommandHandler("language", profile.choose_language, filters=PRIVATE))
    app.add_handler(CommandHandler("skip", profile.on_skip, filters=PRIVATE))
    app.add_handler(CallbackQueryHandler(onboarding.on_consent, pattern=r"^consent:"))
    app.add_handler(CallbackQueryHandler(profile.on_skip, pattern=rf"^{profile.SKIP}$"))
    app.add_handler(CallbackQueryHandler(profile.on_edit, pattern=r"^profile:"))
    app.add_handler(CallbackQueryHandler(profile.on_language, pattern=r"^lang:"))

    app.add_handler(CommandHandler("points", points.show, filters=PRIVATE))
    app.add_handler(CommandHandler("invite", points.invite, filters=PRIVATE))
    app.add_handler(CommandHandler("rewards", rewards.show, filters=PRIVATE))
    app.add_handler(CommandHandler("myrewards", rewards.mine, filters=PRIVATE))
    app.add_handler(CallbackQueryHandler(points.on_page, pattern=rf"^{points.PAGE_PREFIX}"))
    app.add_handler(CallbackQueryHandler(rewards.on_browse, pattern=r"^rw:"))

    app.add_handler(CommandHandler("find", find.find))
    app.add_handler(CommandHandler("staff", roles.list_staff))
    app.add_handler(CommandHandler("promote", roles.promote))
    app.add_handler(CommandHandler("demote", roles.demote))
    app.add_handler(CommandHandler("purchase", purchases.purchase))
    app.add_handler(CommandHandler("award", purchases.award))
    app.add_handler(CommandHandler("deduct", purchases.deduct))
    app.add_handler(CommandHandler("fulfil", vouchers.fulfil))
    app.add_handler(CommandHandler("cancel", steps_cancel, filters=PRIVATE))
    app.add_handler(CommandHandler("cancel", vouchers.cancel, filters=GROUPS))
    app.add_handler(CommandHandler("reward", catalog.manage))

    app.add_handler(CommandHandler("survey", surveys.open_survey, filters=PRIVATE))
    app.add_handler(CommandHandler("feedback", feedback.command, filters=PRIVATE))
    app.add_handler(CallbackQueryHandler(surveys.on_answer, pattern=r"^sv:"))
    app.add_handler(CommandHandler("survey", staff_surveys.command, filters=GROUPS))
    app.add_handler(CommandHandler("feedback", feedback_cards.list_open, filters=GROUPS))
    app.add_handler(CommandHandler("stats", stats.command))
    app.add_handler(CallbackQueryHandler(feedback_cards.on_button, pattern=rf"^{feedback_cards.PREFIX}"))
    app.add_handler(MessageHandler(filters.Document.FileExtension("json") & GROUPS, staff_surveys.upload))

    app.add_handler(CommandHandler("callback", staff_callbacks.schedule))
    app.add_handler(CommandHandler("callbacks", staff_callbacks.list_open))
    app.add_handler(CommandHandler("outbox", staff_outbox.progress))

    # ‹ › of the staff lists ("pg:<list>:<page>"): staff group only, checked inside (is_staff_chat).
    app.add_handler(CallbackQueryHandler(staff_lists.on_page, pattern=staff_lists.PATTERN))

    # Every database-backed button ("b:<token>") goes through one router, by the button's action.
    buttons = ButtonRouter(
        {
            rewards.REDEEM: rewards.on_redeem,
            rewards.CONFIRM: rewards.on_confirm,
            staff_surveys.SEND: staff_surveys.on_send_button,
            staff_surveys.CANCEL: staff_surveys.on_send_button,
            **{f"task/{action}": staff_callbacks.on_button for action in tasks.ACTIONS},
        }
    )
    app.add_handler(CallbackQueryHandler(buttons, pattern=BUTTON_PATTERN))

    steps = StepRouter({**profile.STEPS, **surveys.STEPS, **feedback.STEPS, **staff_callbacks.STEPS})
    # Replies first: to a feedback card or relayed message (staff group / private chat); else the steps.
    app.add_handler(
        MessageHandler(
            filters.REPLY & filters.TEXT & ~filters.COMMAND & GROUPS, feedback_cards.group_reply(steps)
        )
    )
    app.add_handler(
        MessageHandler(
            filters.REPLY & filters.TEXT & ~filters.COMMAND & PRIVATE, feedback.private_reply(steps)
        )
    )
    app.add_handler(MessageHandler((filters.TEXT | filters.CONTACT) & ~filters.COMMAND, steps))
    app.add_error_handler(errors.on_error)


def build_application(settings: Settings, clock: Clock | None = None) -> EngageApplication:
    """The Application production runs; tests build it the same way with their own settings."""
    catalog = Catalog.load(settings.config.default_language)
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
        .post_init(_post_init)
        .post_stop(_stop_sender)
        .post_shutdown(_post_shutdown)
        .build()
    )
    engine = db.create_engine(settings.database_url)
    runtime = Runtime(
        sessions=db.create_session_factory(engine),
        config=settings.config,
        clock=clock or SystemClock(),
        texts=catalog,
    )
    app.bot_data.runtime = runtime
    app.settings, app.engine, app.catalog = settings, engine, catalog
    _register(app)
    return app


async def _post_init(app: EngageApplication) -> None:
    """Startup work: migrations, owners, command menus, the periodic ticks."""
    runtime: Runtime = app.bot_data.runtime
    await migrate.upgrade(app.engine)
    async with runtime.sessions.begin() as session:
        await staff.bootstrap_owners(session, runtime.config.owner_ids)
    await birthdays.backfill(runtime.sessions, runtime.clock, runtime.config)
    await commands.publish(app.bot, app.catalog, runtime.config)
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
                interval=app.settings.tick_seconds,
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


async def _post_shutdown(app: EngageApplication) -> None:
    await _stop_sender(app)
    await app.engine.dispose()
