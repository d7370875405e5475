"""/survey in the staff group: define surveys (built-in CSAT/NPS, custom by short lines or an uploaded
JSON file), list, activate, close, choose the general one, and send to an audience after a preview
and a Confirm button. Confirm records a bulk job and answers at once; the bulk tick sends the
invitations in the background and edits the message with the progress (handlers.staff.bulk, with the
text from progress_text). Every reply is made after the unit of work ends."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

from handlers import paging
from handlers.authority import subcommand
from handlers.context import AppContext, Texts
from handlers.paging import Listing
from handlers.replies import edit_text
from handlers.staff.bulk import stop_keyboard
from storage.background import Progress
from storage.core import audit, bulk, buttons
from storage.core.config import Config
from storage.core.models import Button
from storage.people import contact_budget, preferences
from storage.surveys import audiences, invitations, sending
from storage.surveys.audiences import AudienceError
from storage.surveys.definitions import Definition, DefinitionError, builtin, parse_json, parse_lines
from storage.surveys.invitations import InviteOutcome, SurveyRefused

LIST = "sv"  # /survey list in handlers.paging
SEND, CANCEL = "surveys/send", "surveys/cancel"  # button actions (handlers.buttons routes them)
CONFIRM_TTL = timedelta(hours=1)
MAX_FILE = 64 * 1024
# Subcommand → the text confirming it.
MANAGE = {"activate": "surveys.activated", "close": "surveys.closed_ok", "general": "surveys.general_set"}
# The subcommands that change data (bot.app declares that they need an admin).
CHANGES = ("new", "send", *MANAGE)


def _lang(context: AppContext) -> str:
    return context.config.default_language


def _problems(context: AppContext, error: DefinitionError) -> str:
    lang = _lang(context)
    lines = [context.t(lang, "surveys.def_invalid")]
    for problem in error.problems:
        text = context.t(lang, problem.code, **problem.params)
        lines.append(
            context.t(lang, "surveys.def_at_line", line=problem.line, problem=text)
            if problem.line
            else f"• {text}"
        )
    return "\n".join(lines)


async def _create(context: AppContext, message: Message, definition: Definition) -> None:
    """Record a parsed definition in a unit of work of its own; say what happened once it has ended."""
    lang = _lang(context)
    user_id = message.from_user.id if message.from_user else 0
    try:
        async with context.unit_of_work() as session:
            survey = await invitations.create(session, definition, created_by=user_id, now=context.now())
            await audit.record(
                session, actor_id=user_id, chat_id=message.chat_id, action="survey new", target=survey.name
            )
    except SurveyRefused as refused:  # rolled back: nothing recorded
        await message.reply_text(context.t(lang, refused.code, **refused.params))
        return
    await message.reply_text(
        context.t(
            lang, "surveys.created", name=survey.name, kind=survey.kind, questions=len(survey.questions)
        )
    )


async def _new(context: AppContext, message: Message, rest: str) -> None:
    """Parsed before any transaction opens: a malformed definition is answered without one."""
    lang = _lang(context)
    first_line, _, body = rest.partition("\n")
    words = first_line.split()
    if len(words) != 2:
        await message.reply_text(context.t(lang, "surveys.new_usage"))
        return
    name, kind = words[0], words[1].lower()
    try:
        definition = parse_lines(name, body) if kind == "custom" else builtin(name, kind)
    except DefinitionError as error:
        await message.reply_text(_problems(context, error))
        return
    await _create(context, message, definition)


async def listing(update: Update, context: AppContext, session: AsyncSession) -> Listing:
    """/survey list (paged by handlers.paging)."""
    lang = _lang(context)
    lines = []
    for entry in await invitations.list_surveys(session):
        survey = entry.survey
        lines.append(
            context.t(
                lang,
                "surveys.list_line",
                name=survey.name,
                kind=survey.kind,
                status=context.t(lang, f"surveys.status_{survey.status}"),
                general=context.t(lang, "surveys.general_mark") if survey.general else "",
                invited=entry.invited,
                completed=entry.completed,
            )
        )
    title = context.t(lang, "surveys.list_title")
    return Listing(lang, title, lines, context.t(lang, "surveys.list_empty"))


async def _manage(context: AppContext, message: Message, sub: str, name: str) -> None:
    lang = _lang(context)
    if not name:
        await message.reply_text(context.t(lang, "surveys.usage"))
        return
    now = context.now()
    user_id = message.from_user.id if message.from_user else 0
    try:
        async with context.unit_of_work() as session:
            if sub == "activate":
                survey = await invitations.activate(session, name, now)
            elif sub == "close":
                survey = await invitations.close(session, name, now)
            else:
                survey = await invitations.make_general(session, name)
            await audit.record(
                session, actor_id=user_id, chat_id=message.chat_id, action=f"survey {sub}", target=survey.name
            )
    except SurveyRefused as refused:  # rolled back: nothing changed
        await message.reply_text(context.t(lang, refused.code, **refused.params))
        return
    await message.reply_text(context.t(lang, MANAGE[sub], name=survey.name))


async def _send_preview(context: AppContext, session: AsyncSession, message: Message, rest: str) -> None:
    lang = _lang(context)
    reply = message.reply_text
    name, _, audience_text = rest.partition(" ")
    if not name or not audience_text.strip():
        context.after_commit(reply, context.t(lang, "surveys.send_usage"))
        return
    survey = await invitations.by_name(session, name)
    if survey is None or survey.status != "active":
        code = "surveys.unknown" if survey is None else "surveys.not_active"
        context.after_commit(reply, context.t(lang, code, name=name))
        return
    try:
        audience = audiences.parse(audience_text)
        resolved = await audiences.resolve(session, audience, context.now(), context.config.loyalty)
    except AudienceError as error:
        context.after_commit(reply, context.t(lang, error.code, **error.params))
        return
    counts = await invitations.preview(
        session, resolved.customer_ids, context.now(), context.config.surveys, context.config.contact
    )
    total = len(resolved.customer_ids)
    text = context.t(
        lang,
        "surveys.send_preview",
        name=survey.name,
        audience=audience_text.strip(),
        total=total,
        invited=counts[InviteOutcome.INVITED],
        throttled=counts[InviteOutcome.THROTTLED],
        unreachable=counts[InviteOutcome.UNREACHABLE],
        days=context.config.surveys.throttle_days,
        opted_out=counts[preferences.OPTED_OUT],
        over_budget=counts[contact_budget.OVER_BUDGET],
        limit=context.config.contact.budget,
        budget_days=context.config.contact.days,
    )
    if resolved.unknown:
        text += "\n" + context.t(lang, "surveys.send_unknown", references=", ".join(resolved.unknown))
    if not counts[InviteOutcome.INVITED]:
        context.after_commit(reply, text + "\n" + context.t(lang, "surveys.send_nobody"))
        return
    user_id = message.from_user.id if message.from_user else 0
    payload = {"survey": survey.id, "name": survey.name, "audience": audience_text.strip(), "total": total}
    confirm, cancel = await buttons.issue_choice(
        session,
        [SEND, CANCEL],
        payload,
        user_id=user_id,
        now=context.now(),
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
    context.after_commit(reply, text, reply_markup=keyboard)


async def on_send_button(update: Update, context: AppContext, button: Button) -> None:
    """Confirm or Cancel under a send preview (routed by handlers.buttons; the button belongs to the
    staff member who asked). Confirm only records the job (a bulk job: storage.surveys.sending) and
    answers; the invitations go out in the background and this message shows their progress."""
    query, user = update.callback_query, update.effective_user
    lang = _lang(context)
    payload = dict(button.payload)
    async with context.unit_of_work() as session:
        # Both buttons of the preview are spent once either is pressed (a second press is stale).
        await buttons.consume(session, button)
        if button.action == CANCEL:
            context.after_commit(query.answer)
            context.after_commit(edit_text, query.message, context.t(lang, "surveys.send_cancelled"))
            return
        if "name" not in payload:  # a preview shown before Confirm became a bulk job
            payload["name"] = (await invitations.get_survey(session, int(payload["survey"]))).name
        name, audience = str(payload["name"]), str(payload["audience"])
        total = int(payload.get("total") or 0) or None
        job = await bulk.record(
            session,
            key=sending.job_key(button.token),
            kind=sending.KIND,
            params=sending.params(int(payload["survey"]), name, audience, button.token),
            requested_by=user.id,
            language=lang,
            now=context.now(),
            total=total,
            chat_id=query.message.chat.id if query.message else None,
            message_id=query.message.message_id if query.message else None,
        )
        if job is None:  # the same Confirm, pressed twice at once
            context.after_commit(query.answer, context.t(lang, "button.stale"), show_alert=True)
            return
        await audit.record(
            session,
            actor_id=user.id,
            chat_id=query.message.chat.id if query.message else None,
            action="survey send",
            target=name,
            detail={"audience": audience, "total": total, "job": job.id},
        )
        context.after_commit(query.answer)
        context.after_commit(
            edit_text,
            query.message,
            context.t(lang, "surveys.send_started", name=name, audience=audience, total=total or 0),
            reply_markup=stop_keyboard(context.t, lang, job.id),
        )


def progress_text(texts: Texts, progress: Progress, config: Config) -> str:
    """The staff message of a survey send (handlers.staff.bulk edits it), in its language."""
    lang, params = progress.language, progress.params
    common = {"name": params["name"], "audience": params["audience"]}
    counts = {"sent": progress.sent, "failed": progress.failed, "total": progress.total or progress.handled}
    if not progress.final:
        eta = timedelta(seconds=round(progress.eta_seconds or 0))
        return texts(
            lang,
            "surveys.send_progress",
            **common,
            **counts,
            handled=progress.handled,
            queued=progress.queued,
            skipped=progress.skipped,
            eta=str(eta),
        )
    if progress.state == bulk.CANCELLED:
        return texts(
            lang,
            "surveys.send_stopped",
            **common,
            **counts,
            withdrawn=progress.withdrawn,
            skipped=progress.skipped,
        )
    if progress.state == bulk.FAILED:
        return texts(lang, "surveys.send_failed", **common, **counts, handled=progress.handled)
    throttled = progress.reasons.get(InviteOutcome.THROTTLED, 0)
    opted_out = progress.reasons.get(preferences.OPTED_OUT, 0)
    over_budget = progress.reasons.get(contact_budget.OVER_BUDGET, 0)
    return texts(
        lang,
        "surveys.send_done",
        **common,
        **counts,
        throttled=throttled,
        opted_out=opted_out,
        over_budget=over_budget,
        skipped=progress.skipped - throttled - opted_out - over_budget,
        days=config.surveys.throttle_days,
    )


async def command(update: Update, context: AppContext) -> None:
    """/survey <new|list|activate|close|general|send> ... in the staff group."""
    message = update.effective_message
    if message is None:
        return
    lang = _lang(context)
    sub, rest = subcommand(message)  # the parse the guard checked the subcommand's role on
    if sub == "list":
        async with context.read_only() as session:
            listed = await listing(update, context, session)
        await paging.reply(message, context, LIST, listed)
        return
    if sub == "new":
        await _new(context, message, rest)
    elif sub in MANAGE:
        await _manage(context, message, sub, rest)
    elif sub == "send":
        async with context.unit_of_work() as session:
            await _send_preview(context, session, message, rest)
    else:
        await message.reply_text(context.t(lang, "surveys.usage"))


async def upload(update: Update, context: AppContext) -> None:
    """A JSON file captioned /survey in the staff group: a custom survey definition."""
    message = update.effective_message
    if message is None or message.document is None:
        return
    lang = _lang(context)
    # Fetched and parsed before any transaction opens (getFile and the download are Telegram requests).
    if (message.document.file_size or 0) > MAX_FILE:
        await message.reply_text(context.t(lang, "surveys.file_too_big", max=MAX_FILE // 1024))
        return
    file = await message.document.get_file()
    data = bytes(await file.download_as_bytearray())
    try:
        definition = parse_json(data)
    except DefinitionError as error:
        await message.reply_text(_problems(context, error))
        return
    await _create(context, message, definition)
