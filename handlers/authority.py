"""Who may use a handler: declared where the handler is registered, checked inside the handler's own
call (so on the very parse that matched it), and closed by default.

Every handler of the bot is built here, by `Registry.command`, `.message` or `.button`, with an `Access`:
- `CUSTOMER`: a person in their own private chat (commands and messages are filtered to private chats;
  a button must be pressed in the presser's own private chat);
- `staff_access(role)`: a current member of the staff group with at least `role`, in the staff group (bound by
  a filter for commands and messages, checked for buttons). Membership is asked of Telegram (cached
  briefly, updated by chat_member updates) before any role is honoured, so someone who left is no longer
  staff, and nobody becomes staff by pressing a button or posting a file;
- `BOOKKEEPING`: sees every update and may not answer or change anything a person asked for (last-seen,
  membership tracking);
- `ROUTED`: a router whose every route (a button action, a conversation step) declares its own access;
- `GROUP_OWNER`: an owner (recorded in the database), in a group: "Use this group for staff";
- `INTRODUCTION`: the bot's own membership changed (my_chat_member): it says what it is, changes nothing;
- `FALLBACK`: a command nobody else took: a suggestion, only to a customer in their private chat or to a
  current staff member in the staff group (checked quietly: silence for anyone else), changes nothing.
Without a staff group (neither STAFF_CHAT_ID nor one chosen in Telegram) no staff command works anywhere.
A staff command sent anywhere else is refused and audited by one handler registered last (`refusals`).
tests/bot/test_authority.py fails when a handler is registered without a declared access.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from telegram import Message, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from handlers import membership
from handlers.common import command_args, display_name, language_for
from handlers.context import AppContext, Runtime
from storage.core import audit
from storage.people import staff
from storage.people.staff import Role

log = logging.getLogger(__name__)

Callback = Callable[[Update, AppContext], Awaitable[None]]
PRIVATE = filters.ChatType.PRIVATE
NEW_MESSAGES = filters.UpdateType.MESSAGE  # an edited command is never applied again (see `edited`)


@dataclass(frozen=True)
class Access:
    kind: str  # "customer" | "staff" | "bookkeeping" | "routed"
    role: Role | None = None
    # Subcommands that need more than `role` ("/survey send" needs an admin, "/survey list" an agent).
    subcommands: Mapping[str, Role] = field(default_factory=dict)

    def needed(self, subcommand: str) -> Role:
        assert self.role is not None
        return self.subcommands.get(subcommand, self.role)


CUSTOMER = Access("customer")
BOOKKEEPING = Access("bookkeeping")
# A router (database-backed buttons, conversation steps) whose every route declares its own access,
# checked once the route is known (handlers.buttons, handlers.steps).
ROUTED = Access("routed")
GROUP_OWNER = Access("group_owner")
INTRODUCTION = Access("introduction")
FALLBACK = Access("fallback")
_ANSWERS_ONLY = ("bookkeeping", "routed", "introduction", "fallback")  # each checks what it answers


@dataclass(frozen=True)
class Route:
    handler: Any
    access: Access


def staff_access(role: Role, subcommands: Mapping[str, Role] | None = None) -> Access:
    return Access("staff", role, dict(subcommands or {}))


class StaffChat(filters.MessageFilter):
    """Messages in the staff group, read at check time: it may be chosen in Telegram while the bot runs
    (Runtime.use_staff_chat replaces the runtime's config), so never captured at registration."""

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(name="StaffChat")
        self.runtime = runtime

    def filter(self, message: Message) -> bool:
        staff_chat = self.runtime.config.staff_chat_id
        return staff_chat is not None and message.chat_id == staff_chat


class CaptionCommand(filters.MessageFilter):
    """A caption that starts with /<name> as Telegram marks it (a bot_command entity at offset 0)."""

    def __init__(self, name: str) -> None:
        super().__init__(name=f"CaptionCommand({name})")
        self.command = name

    def filter(self, message: Message) -> bool:
        return caption_command(message) == self.command


def caption_command(message: Message) -> str | None:
    """The command a caption starts with, parsed the way CommandHandler parses a text."""
    name, addressee = leading_command(message.caption or "", message.caption_entities)
    bot = message.get_bot().username or ""
    if name is None or (addressee and addressee.lower() != bot.lower()):
        return None
    return name


def leading_command(text: str, entities: tuple[Any, ...]) -> tuple[str | None, str]:
    """("award", "engage_bot") of "/Award@engage_bot …": the bot_command entity at offset 0, as
    CommandHandler reads it; (None, "") when the text does not start with one."""
    if not entities or entities[0].type != "bot_command" or entities[0].offset != 0:
        return None, ""
    name, _, addressee = text[1 : entities[0].length].partition("@")
    return name.lower(), addressee


def subcommand(message: Message) -> tuple[str, str]:
    """("send", "<rest>") of "/survey send <rest>": the one parse the guard and the handler share."""
    parts = command_args(message).split(maxsplit=1)
    if not parts:
        return "", ""
    return parts[0].lower(), parts[1].strip() if len(parts) > 1 else ""


def is_command(update: Update) -> bool:
    """A person's text or caption that starts with a command (as Telegram marks it); never the bot's
    own message under a pressed button."""
    message = update.effective_message
    if message is None or update.callback_query is not None:
        return False
    entities = message.entities or message.caption_entities
    return bool(entities and entities[0].type == "bot_command" and entities[0].offset == 0)


class Guarded:
    """A handler callback with its declared access, checked before the callback runs."""

    def __init__(self, callback: Callback, access: Access, action: str) -> None:
        self.callback = callback
        self.access = access
        self.action = action  # what the audit trail calls a refused attempt

    async def __call__(self, update: Update, context: AppContext) -> None:
        if await admit(update, context, self.access, self.action):
            await self.callback(update, context)


async def admit(update: Update, context: AppContext, access: Access, action: str) -> bool:
    """True when the sender may use a handler with `access`; otherwise they are told (and, for staff
    actions, the refusal is audited) and nothing else happens."""
    if access.kind in _ANSWERS_ONLY:
        return True
    if access.kind == "group_owner":
        return await _admit_group_owner(update, context, action)
    if access.kind == "customer":
        if _in_own_private_chat(update):
            return True
        if update.callback_query is not None:  # someone else's button, or one pressed in a group
            text = context.t(language_for(update, context), "button.not_yours")
            await update.callback_query.answer(text, show_alert=True)
        return False
    return await _admit_staff(update, context, access, action)


def _in_own_private_chat(update: Update) -> bool:
    user, chat = update.effective_user, update.effective_chat
    return user is not None and chat is not None and chat.type == "private" and chat.id == user.id


async def staff_role(update: Update, context: AppContext) -> tuple[Role | None, str]:
    """The sender's role as a current member of the staff group, in the staff group (None otherwise),
    and why not: "no_staff_group", "outside_staff_chat", "not_member"."""
    user, chat = update.effective_user, update.effective_chat
    staff_chat = context.config.staff_chat_id
    if staff_chat is None:
        return None, "no_staff_group"
    if user is None or chat is None or chat.id != staff_chat:
        return None, "outside_staff_chat"
    # Asked of Telegram before any transaction opens (no network inside a unit of work).
    status = None if user.is_bot else await membership.member_status(context, chat.id, user.id)
    if status is None:
        return None, "not_member"
    name = display_name(user.first_name, user.last_name)
    # Read first: a known member under the same name needs no write lock (a read path stays a read).
    async with context.read_only() as session:
        role = await staff.recorded_role(session, user.id, name, user.username)
    if role is None:  # a first-time member (recorded as an agent) or a new name
        async with context.unit_of_work() as session:
            role = await staff.role_in_staff_group(session, user.id, name, user.username)
    config = context.config
    return staff.effective_role(
        role, staff.group_role(status, config.group_creator_role, config.group_admin_role)
    ), ""


async def _admit_staff(update: Update, context: AppContext, access: Access, action: str) -> bool:
    user, chat, message = update.effective_user, update.effective_chat, update.effective_message
    if user is None or chat is None:
        return False
    needed = access.needed(subcommand(message)[0] if message is not None and is_command(update) else "")
    role, reason = await staff_role(update, context)
    if role is not None and role >= needed:
        context.staff_role = role
        return True
    reason = reason or "role"
    async with context.unit_of_work() as session:
        await audit.record(
            session,
            actor_id=user.id,
            chat_id=chat.id,
            action=action,
            outcome="refused",
            detail={"reason": reason, "needs": needed.label},
        )
    await _tell_refused(update, context, needed, reason)
    return False


async def _admit_group_owner(update: Update, context: AppContext, action: str) -> bool:
    """An owner pressing in a group (any group: the owner chooses which one serves the staff)."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return False
    async with context.read_only() as session:
        role = await staff.role_of(session, user.id)
    if role == Role.OWNER and chat.type in ("group", "supergroup"):
        context.staff_role = role
        return True
    async with context.unit_of_work() as session:
        await audit.record(
            session,
            actor_id=user.id,
            chat_id=chat.id,
            action=action,
            outcome="refused",
            detail={"reason": "role", "needs": Role.OWNER.label},
        )
    await _tell_refused(update, context, Role.OWNER, "role")
    return False


async def _tell_refused(update: Update, context: AppContext, needed: Role, reason: str) -> None:
    lang = language_for(update, context)
    key = {"role": "staff.refused_role", "no_staff_group": "staff.no_group"}.get(
        reason, "staff.refused_not_staff"
    )
    text = context.t(lang, key, role=context.t(lang, f"staff.role_{needed.label}"))
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    elif update.effective_message is not None and is_command(update):
        await update.effective_message.reply_text(text)
    # A plain message (a reply, a step's input) from someone who may not act is ignored quietly.


def current_role(context: AppContext) -> Role:
    """The role the guard established for this update (staff handlers run only after it)."""
    role = context.staff_role
    if role is None:
        raise RuntimeError("staff handler reached without passing its guard")
    return role


class Registry:
    """Builds every handler with its declared access and adds it to the application, in order."""

    def __init__(self, app: Any, runtime: Runtime) -> None:
        self.app = app
        self.staff_chat = StaffChat(runtime)
        self.staff_commands: set[str] = set()  # refused elsewhere (refusals)
        self.book = app.bot_data.commands

    def _chat_filter(self, access: Access) -> filters.BaseFilter:
        if access.kind == "customer":
            return PRIVATE
        if access.kind == "staff":
            return self.staff_chat
        if access.kind == "routed":
            return PRIVATE | self.staff_chat
        return filters.ALL

    def add(self, handler: BaseHandler[Any, Any, Any], group: int = 0) -> None:
        if not isinstance(handler.callback, Guarded):
            raise TypeError(f"{handler!r} has no declared access: build it with Registry")
        self.app.add_handler(handler, group)

    def command(
        self, names: str | list[str], callback: Callback, access: Access, refuse_elsewhere: bool = True
    ) -> None:
        """`refuse_elsewhere=False`: a staff command that also means something for customers (/help,
        /start) is not refused outside the staff group, it is simply not this handler there."""
        names = [names] if isinstance(names, str) else names
        flt = NEW_MESSAGES & self._chat_filter(access)
        if access.kind == "staff":
            assert access.role is not None
            if refuse_elsewhere:
                self.staff_commands.update(names)
            for name in names:
                self.book.staff.setdefault(name, access.role)
        elif access.kind == "customer":
            self.book.customer.extend(n for n in names if n not in self.book.customer)
        self.add(CommandHandler(names, Guarded(callback, access, names[0]), filters=flt))

    def message(
        self, flt: filters.BaseFilter, callback: Callback, access: Access, action: str, group: int = 0
    ) -> None:
        self.add(MessageHandler(flt & self._chat_filter(access), Guarded(callback, access, action)), group)

    def button(self, pattern: str, callback: Callback, access: Access, action: str) -> None:
        self.add(CallbackQueryHandler(Guarded(callback, access, action), pattern=pattern))

    def bookkeeping(self, handler: BaseHandler[Any, Any, Any], group: int) -> None:
        """Bookkeeping that must see updates before the capabilities do (a negative group)."""
        handler.callback = Guarded(handler.callback, BOOKKEEPING, "bookkeeping")
        self.add(handler, group)

    def fallback(self, callback: Callback) -> None:
        """After every command handler: a command none of them took (unknown, mistyped, or not one
        for this chat), new messages only."""
        self.add(
            MessageHandler(filters.COMMAND & NEW_MESSAGES, Guarded(callback, FALLBACK, "unknown_command"))
        )

    def refusals(self) -> None:
        """Last: a staff command anywhere but the staff group is refused and audited; an edited staff
        command is not applied again."""
        refuse = Guarded(_refuse_elsewhere, BOOKKEEPING, "refusal")
        self.add(CommandHandler(sorted(self.staff_commands), refuse, filters=NEW_MESSAGES & ~self.staff_chat))
        edited = Guarded(_edited_command, staff_access(Role.AGENT), "edited_command")
        self.add(
            MessageHandler(filters.UpdateType.EDITED_MESSAGE & filters.COMMAND & self.staff_chat, edited)
        )


async def _refuse_elsewhere(update: Update, context: AppContext) -> None:
    """A staff command outside the staff group (a private chat, another group)."""
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    if message is None or user is None or chat is None:
        return
    name, _ = leading_command(message.text or "", message.entities)
    await _admit_staff(update, context, staff_access(Role.AGENT), name or "")


async def _edited_command(update: Update, context: AppContext) -> None:
    message = update.effective_message
    if message is not None:
        await message.reply_text(context.t(language_for(update, context), "staff.edit_not_applied"))
