"""/import in the staff group: a CSV document captioned /import (or /import points) becomes a bulk
job (storage.loyalty.imports reads the file and knows a purchase history from a member list); the bot
answers at once, the bulk tick imports the rows in batches, and the answer is edited with the progress
and, at the end, the summary with the bad rows by line (progress_text). The file is downloaded and
read before any transaction opens; the answer is sent after the job is committed and linked to it in
a second short transaction."""

from __future__ import annotations

from telegram import Bot, Update

from handlers.authority import current_role
from handlers.common import command_args
from handlers.context import AppContext, Runtime, Texts
from handlers.staff.bulk import announce
from storage import background
from storage.background import Progress
from storage.core import audit, bulk, csvfiles, imports
from storage.core.config import Config
from storage.core.csvfiles import FileRefused
from storage.loyalty import imports as purchase_imports
from storage.people.staff import can_see_personal_data

POINTS = "points"
SUMMARY_CHARS = 3500  # the bad rows listed stop here: the summary stays within Telegram's 4096


def _lang(context: AppContext) -> str:
    return context.config.default_language


async def usage(update: Update, context: AppContext) -> None:
    """/import typed as a text: the file is what is imported."""
    message = update.effective_message
    if message is not None:
        await message.reply_text(context.t(_lang(context), "import.usage", max=csvfiles.MAX_BYTES // 2**20))


async def upload(update: Update, context: AppContext) -> None:
    """A document captioned /import [points] in the staff group (admins and owners)."""
    message, user = update.effective_message, update.effective_user
    if message is None or message.document is None or user is None:
        return
    lang = _lang(context)
    args = command_args(message).lower()
    if args not in ("", POINTS):
        await message.reply_text(context.t(lang, "import.usage", max=csvfiles.MAX_BYTES // 2**20))
        return
    if (message.document.file_size or 0) > csvfiles.MAX_BYTES:
        await message.reply_text(context.t(lang, "import.too_big", max=csvfiles.MAX_BYTES // 2**20))
        return
    file = await message.document.get_file()  # Telegram requests: before any transaction
    data = bytes(await file.download_as_bytearray())
    try:
        kind, table = purchase_imports.read_file(data)
    except FileRefused as refused:
        await message.reply_text(context.t(lang, refused.code, **refused.params))
        return
    name = (message.document.file_name or "file.csv")[:100]
    params = {
        "file": name,
        "points": args == POINTS,
        "by_phone": can_see_personal_data(current_role(context)),
    }
    async with context.unit_of_work() as session:
        job = await imports.record(
            session,
            key=f"import:{message.chat_id}:{message.message_id}",
            kind=kind,
            rows=table.rows,
            params=params,
            requested_by=user.id,
            language=lang,
            now=context.now(),
        )
        if job is None:  # the same message delivered twice: it was answered the first time
            return
        await audit.record(
            session,
            actor_id=user.id,
            chat_id=message.chat_id,
            action="import",
            target=name,
            detail={"kind": kind, "rows": len(table.rows), "points": params["points"], "job": job.id},
        )
    started = context.t(lang, f"import.started_{kind}", file=name, rows=len(table.rows))
    await announce(context, message, job.id, started)


def _bad_rows(texts: Texts, progress: Progress, bad: int) -> str:
    """The bad rows by line, as many as fit the summary, then how many more."""
    lang, lines = progress.language, []
    size = 0
    for row in progress.params.get("bad", []):
        text = texts(lang, "import.line", line=row["line"]) + " " + texts(lang, row["code"], **row["params"])
        if size + len(text) > SUMMARY_CHARS:
            break
        lines.append(text)
        size += len(text) + 1
    if bad > len(lines):
        lines.append(texts(lang, "import.more", count=bad - len(lines)))
    return "\n".join(lines)


def progress_text(texts: Texts, progress: Progress, config: Config) -> str:
    """The staff message of an import (handlers.staff.bulk edits it), in its language."""
    lang, name = progress.language, progress.params.get("file", "")
    duplicates = progress.reasons.get(imports.DUPLICATE, 0)
    bad = progress.reasons.get(imports.BAD, 0)
    counts = {
        "file": name,
        "imported": progress.handled - progress.skipped,
        "duplicates": duplicates,
        "bad": bad,
        "handled": progress.handled,
        "total": progress.total or progress.handled,
    }
    if not progress.final:
        return texts(lang, "import.progress", **counts)
    key = {bulk.CANCELLED: "import.stopped", bulk.FAILED: "import.failed"}.get(progress.state, "import.done")
    text = texts(lang, key, **counts)
    return text + "\n\n" + _bad_rows(texts, progress, bad) if bad else text


async def finish(bot: Bot, runtime: Runtime, progress: Progress) -> None:
    """The import's summary is shown: rows a stopped import left staged go."""
    async with runtime.sessions.begin() as session:
        await background.forget(session, progress.job_id, progress.kind)
