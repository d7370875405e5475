"""A bulk job's staff message (storage.core.bulk): its progress edited in place, a Stop button while it
runs (and Pause / Resume beside it for a kind that can pause: a campaign's send), then a final summary.

`report` runs in the bulk tick (bot.ticks) after each pass: storage decides which messages are due an
edit (at most every config.bulk.report_seconds, and only when something changed) and commits that,
then the edits are made, outside any transaction. An edit Telegram finds unchanged or impossible is
logged quietly; one that did not get through (RetryAfter, the network) is shown again later. Each kind
of job renders its own text; bot.ticks hands over the renderers.

The buttons carry "bulk:stop:<job id>", "bulk:pause:<job id>", "bulk:resume:<job id>": no secret is
needed, because the authority is being an admin in the staff group (bot.app declares it for each,
handlers.authority checks it on every press), and the job must be the one the pressed message shows.
A stale button (Pause on a paused job, Resume on a running one, anything on a finished one) is
answered with what is the case and changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, RetryAfter, TelegramError

from handlers.context import AppContext, Runtime, Texts
from handlers.replies import is_quiet
from storage import background
from storage.background import Progress
from storage.core import audit, bulk, inputs
from storage.core.bulk import BulkRefused
from storage.core.config import Config

log = logging.getLogger(__name__)

PREFIX = "bulk:"
STOP = f"{PREFIX}stop:"
PAUSE, RESUME = f"{PREFIX}pause:", f"{PREFIX}resume:"
PATTERN = rf"^{PREFIX}"  # Stop, and any other "bulk:" data (forged: answered as stale)
PAUSE_PATTERN, RESUME_PATTERN = rf"^{PAUSE}", rf"^{RESUME}"

# A kind's text for its staff message: (texts, progress, config) -> HTML.
Render = Callable[[Texts, Progress, Config], str]
# What a kind does once its final summary is shown (an export sends its file): (bot, runtime, progress).
Finish = Callable[[Bot, Runtime, Progress], Awaitable[None]]


def stop_keyboard(
    texts: Texts, language: str, job_id: int, *, pausable: bool = False, paused: bool = False
) -> InlineKeyboardMarkup:
    row = [InlineKeyboardButton(texts(language, "bulk.stop_button"), callback_data=f"{STOP}{job_id}")]
    if pausable:
        label, data = ("bulk.resume_button", RESUME) if paused else ("bulk.pause_button", PAUSE)
        row.insert(0, InlineKeyboardButton(texts(language, label), callback_data=f"{data}{job_id}"))
    return InlineKeyboardMarkup([row])


def _keyboard(texts: Texts, progress: Progress) -> InlineKeyboardMarkup | None:
    """Stop (and Pause or Resume), while there is something to stop: fanning out, or messages still
    waiting in the outbox."""
    if progress.final or progress.state in (bulk.CANCELLED, bulk.FAILED):
        return None
    return stop_keyboard(
        texts, progress.language, progress.job_id, pausable=progress.pausable, paused=progress.paused
    )


async def show(
    bot: Bot,
    runtime: Runtime,
    progress: Progress,
    renderers: Mapping[str, Render],
    finishers: Mapping[str, Finish] | None = None,
) -> None:
    """Edit the job's staff message to show `progress` (call it after the transaction committed); the
    final summary shown, the kind's finisher runs."""
    render = renderers.get(progress.kind)
    if render is None or progress.chat_id is None or progress.message_id is None:
        return
    text = render(runtime.texts, progress, runtime.config)
    try:
        await bot.edit_message_text(
            text,
            chat_id=progress.chat_id,
            message_id=progress.message_id,
            reply_markup=_keyboard(runtime.texts, progress),
        )
    except BadRequest as error:
        if not is_quiet(error):
            raise
        log.info("bulk job %s: message not edited: %s", progress.job_id, error)
    except TelegramError as error:  # RetryAfter, timeouts, the network: shown again later
        await _again(runtime, progress, error)
        return
    finish = (finishers or {}).get(progress.kind)
    if finish is None or not progress.final:
        return
    try:
        await finish(bot, runtime, progress)
    except TelegramError as error:  # the summary is shown again later, and the finisher runs again
        await _again(runtime, progress, error)


async def _again(runtime: Runtime, progress: Progress, error: TelegramError) -> None:
    wait = error.retry_after if isinstance(error, RetryAfter) else runtime.config.bulk.report_seconds
    seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
    log.warning("bulk job %s: progress not shown (%s); again in %.0f s", progress.job_id, error, seconds)
    async with runtime.sessions.begin() as session:
        await bulk.report_again(session, progress.job_id, runtime.clock.now() + timedelta(seconds=seconds))


async def announce(context: AppContext, message: Message, job_id: int, text: str) -> None:
    """Answer the command that recorded a job (committed by now) and make that answer the job's
    progress message, in a second short transaction (a crash between the two leaves the job running
    without a message, never a message without a job)."""
    lang = context.config.default_language
    sent = await message.reply_text(text, reply_markup=stop_keyboard(context.t, lang, job_id))
    async with context.unit_of_work() as session:
        await bulk.attach(session, job_id, sent.chat_id, sent.message_id, context.now())


async def report(
    bot: Bot, runtime: Runtime, renderers: Mapping[str, Render], finishers: Mapping[str, Finish] | None = None
) -> int:
    """Edit the staff messages of the jobs whose progress is due and changed; how many were edited."""
    reads = runtime.reads or runtime.sessions
    async with reads.begin() as session:  # an idle tick reads, and never waits for the write lock
        _, due = await bulk.has_work(session, runtime.clock.now())
    if not due:
        return 0
    async with runtime.sessions.begin() as session:
        changed = await background.reports(session, runtime.clock.now(), runtime.config)
    for progress in changed:  # committed: now talk
        await show(bot, runtime, progress, renderers, finishers)
    return len(changed)


def _job_id(data: str, prefix: str) -> int | None:
    return (
        inputs.int_or_none(data.removeprefix(prefix), low=1, high=inputs.MAX_ID)
        if data.startswith(prefix)
        else None
    )


def pauser(
    renderers: Mapping[str, Render], finishers: Mapping[str, Finish] | None = None
) -> Callable[[Update, AppContext], object]:
    """The Pause and Resume buttons' handler (registered by bot.app, each with the admin role)."""

    async def on_pause(update: Update, context: AppContext) -> None:
        query = update.callback_query
        if query is None:
            return
        lang = context.config.default_language
        data = query.data or ""
        paused = data.startswith(PAUSE)
        job_id = _job_id(data, PAUSE if paused else RESUME)
        if job_id is None or query.message is None:
            await query.answer(context.t(lang, "button.stale"), show_alert=True)
            return
        chat_id, message_id = query.message.chat.id, query.message.message_id
        async with context.unit_of_work() as session:
            try:
                shown = await background.pause(
                    session,
                    job_id,
                    context.now(),
                    context.config,
                    chat_id=chat_id,
                    message_id=message_id,
                    paused=paused,
                )
            except BulkRefused as refused:
                context.after_commit(query.answer, context.t(lang, refused.code), show_alert=True)
                return
            await audit.record(
                session,
                actor_id=query.from_user.id,
                chat_id=chat_id,
                action="bulk pause" if paused else "bulk resume",
                target=f"{shown.kind}:{job_id}",
                detail={"sent": shown.sent, "waiting": shown.queued, "handled": shown.handled},
            )
            answer = context.t(lang, "bulk.paused" if paused else "bulk.resumed", waiting=shown.queued)
            context.after_commit(query.answer, answer)
            context.after_commit(show, query.get_bot(), context.runtime, shown, renderers, finishers)

    return on_pause


def stopper(
    renderers: Mapping[str, Render], finishers: Mapping[str, Finish] | None = None
) -> Callable[[Update, AppContext], object]:
    """The Stop button's handler (registered by bot.app with the admin role)."""

    async def on_stop(update: Update, context: AppContext) -> None:
        query = update.callback_query
        if query is None:
            return
        lang = context.config.default_language
        job_id = _job_id(query.data or "", STOP)
        if job_id is None or query.message is None:
            await query.answer(context.t(lang, "button.stale"), show_alert=True)
            return
        chat_id, message_id = query.message.chat.id, query.message.message_id
        async with context.unit_of_work() as session:
            try:
                stopped = await background.stop(
                    session, job_id, context.now(), context.config, chat_id=chat_id, message_id=message_id
                )
            except BulkRefused as refused:
                context.after_commit(query.answer, context.t(lang, refused.code), show_alert=True)
                return
            await audit.record(
                session,
                actor_id=query.from_user.id,
                chat_id=chat_id,
                action="bulk stop",
                target=f"{stopped.kind}:{job_id}",
                detail={"sent": stopped.sent, "withdrawn": stopped.withdrawn, "handled": stopped.handled},
            )
            context.after_commit(query.answer, context.t(lang, "bulk.stopped", withdrawn=stopped.withdrawn))
            context.after_commit(show, query.get_bot(), context.runtime, stopped, renderers, finishers)

    return on_stop
