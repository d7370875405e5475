"""/export customers|purchases|ledger|surveys in the staff group (admins and owners): a bulk job whose
batches write the CSV a chunk at a time (storage.core.exports); the bot answers at once, edits the
answer with the progress, and once the last batch has committed sends the file, assembled from the
chunks into a temporary file (bounded memory), outside any transaction. Phone numbers and birthdays
are in it only for a role that may see them."""

from __future__ import annotations

import tempfile

from telegram import Bot, Update
from telegram.constants import ChatAction

from handlers.authority import current_role
from handlers.common import command_args
from handlers.context import AppContext, Runtime, Texts
from handlers.replies import chat_action
from handlers.staff.bulk import announce
from storage import background
from storage.background import Progress
from storage.core import audit, bulk, exports
from storage.core.config import Config
from storage.people.staff import can_see_personal_data


def _lang(context: AppContext) -> str:
    return context.config.default_language


def _usage(context: AppContext) -> str:
    return context.t(_lang(context), "export.usage", tables="|".join(background.EXPORTS))


async def command(update: Update, context: AppContext) -> None:
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    what = command_args(message).lower()
    if what not in background.EXPORTS:
        await message.reply_text(_usage(context))
        return
    personal = can_see_personal_data(current_role(context))
    async with context.unit_of_work() as session:
        job = await background.record_export(
            session,
            what,
            key=f"export:{message.chat_id}:{message.message_id}",
            personal=personal,
            requested_by=user.id,
            language=_lang(context),
            now=context.now(),
        )
        if job is None:  # the same message delivered twice
            return
        await audit.record(
            session,
            actor_id=user.id,
            chat_id=message.chat_id,
            action="export",
            target=what,
            detail={"personal": personal, "rows": job.total, "job": job.id},
        )
    started = context.t(_lang(context), "export.started", what=what, total=job.total or 0)
    await announce(context, message, job.id, started)


def progress_text(texts: Texts, progress: Progress, config: Config) -> str:
    """The staff message of an export (handlers.staff.bulk edits it), in its language."""
    lang = progress.language
    counts = {
        "what": progress.params.get("what", ""),
        "handled": progress.handled,
        "total": progress.total or progress.handled,
    }
    if not progress.final:
        return texts(lang, "export.progress", **counts)
    key = {bulk.CANCELLED: "export.stopped", bulk.FAILED: "export.failed"}.get(progress.state, "export.done")
    return texts(lang, key, **counts)


async def finish(bot: Bot, runtime: Runtime, progress: Progress) -> None:
    """Once the export is done: the file, from its chunks, sent to the staff group; then the chunks go."""
    if progress.state == bulk.DONE and progress.chat_id is not None:
        await chat_action(bot, progress.chat_id, ChatAction.UPLOAD_DOCUMENT)
        with tempfile.TemporaryFile() as file:
            async with (runtime.reads or runtime.sessions).begin() as session:
                async for chunk in exports.chunks(session, progress.job_id):
                    file.write(chunk.encode())
            file.seek(0)  # the transaction has ended: now talk
            what = str(progress.params.get("what", "export"))
            await bot.send_document(
                progress.chat_id,
                document=file,
                filename=exports.filename(what, runtime.clock.now()),
                caption=runtime.texts(progress.language, "export.caption", what=what, total=progress.handled),
            )
    async with runtime.sessions.begin() as session:
        await background.forget(session, progress.job_id, progress.kind)
