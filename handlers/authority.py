"""Who may use a handler: declared where the handler is registered, checked inside the handler's own
call (so on the very parse that matched it), and closed by default.

Every handler of the bot is built here, by `Registry.command`, `.message` or `.button`, with an `Access`:
- `CUSTOMER`: a person in their own private chat (commands and messages are filtered to private chats;
  a button must be pressed in the presser's own private chat);
- `staff_access(role)`: a current member of the staff group with at least `role`, in the staff group (bound by
  a filter for commands and messages, checked for buttons). Membership is asked of Telegram (cached
  briefly, updated by chat_member updates) before any role is honoured, so someone who left is no longer
  staff, and nobody becomes staff by pressing a button or posting a file;
- `STAFF_LINK`: a current member of the staff group (any role) in their own private chat, for a
  deep link staff open with their phone (a member's QR code); anyone else is let through to the next
  handler quietly (the link then means what it means to a customer);
- `BOOKKEEPING`: sees every update and may not answer or change anything a person asked for (last-seen,
  membership tracking);
- `ROUTED`: a router whose every route (a button action, a conversation step) declares its own access.
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
from handlers.context import AppContext
from storage.core import audit
from storage.core.config import Config
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
# A staff member in their own private chat (registered in a group before the customer's handler, which
# runs when this one is not for them).
STAFF_LINK = Access("staff_link", Role.AGENT)
BOOKKEEPING = Access("bookkeeping")
# A router (database-backed buttons, conversation steps) whose every route declares its own access,
# checked once the route is known (handlers.buttons, handlers.steps).
ROUTED = Access("routed")


@dataclass(frozen=True)
class Route:
    handler: Any
    access: Access


def staff_access(role: Role, subcommands: Mapping[str, Role] | None = None) -> Access:
    return Access("staff", role, dict(subcommands or {}))


class StaffChat(filters.MessageFilter):
    """Messages in the configured staff group (read at check time: the setting may change)."""

    def __init__(self, config: Config) -> None:
        super().__init__(name="StaffChat")
        self.config = config

    def filter(self, message: Message) -> bool:
        return self.config.staff_chat_id is not None and message.chat_id == self.config.staff_chat_id


class CaptionCommand(filters.MessageFilter):
    """A caption that starts with /<name> as Telegram marks it (a bot_command entity at offset 0)."""

    def __init__(self, name: str) -> None:
        super().__init__(name=f"CaptionCommand({name})")
        self.command = name

    def filter(self, message: Message) -> bool:
        return caption_command(message) == self.command


def caption_command(message: Message) -> str | None:
    """The command a caption starts with, parsed the way CommandHandler parses a text."""
    name, addressee = _leading_command(message.caption or "", message.caption_entities)
    bot = message.get_bot().username or ""
    if name is None or (addressee and addressee.lower() != bot.lower()):
        return None
    return name


def _leading_command(text: str, entities: tuple[Any, ...]) -> tuple[str | None, str]:
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
    if access.kind in ("bookkeeping", "routed"):
        return True
    if access.kind == "staff_link":
        role = await _staff_role(update, context) if _in_own_private_chat(update) else None
        if role is None or role < access.needed(""):
            return False  # not refused: the next handler (the customer's) answers
        context.staff_role = role
        return True
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


async def _admit_staff(update: Update, context: AppContext, access: Access, action: str) -> bool:
    user, chat, message = update.effective_user, update.effective_chat, update.effective_message
    if user is None or chat is None:
        return False
    needed = access.needed(subcommand(message)[0] if message is not None and is_command(update) else "")
    in_staff_chat = context.config.staff_chat_id is not None and chat.id == context.config.staff_chat_id
    role = await _staff_role(update, context) if in_staff_chat else None
    member = role is not None
    if role is not None and role >= needed:
        context.staff_role = role
        return True
    reason = "outside_staff_chat" if not in_staff_chat else "not_member" if not member else "role"
    async with context.unit_of_work() as session:
        await audit.record(
            session,
            actor_id=user.id,
            chat_id=chat.id,
            action=action,
            outcome="refused",
            detail={"reason": reason, "needs": needed.label},
        )
    await _tell_refused(update, context, needed, known_staff=role is not None)
    return False


async def _staff_role(update: Update, context: AppContext) -> Role | None:
    """The sender's role if they are a member of the staff group now, else None."""
    user, staff_chat = update.effective_user, context.config.staff_chat_id
    if user is None or staff_chat is None or user.is_bot:
        return None
    # Asked of Telegram before any transaction opens (no network inside a unit of work).
    if not await membership.is_member(context, staff_chat, user.id):
        return None
    name = display_name(user.first_name, user.last_name)
    # Read first: a known member under the same name needs no write lock (a read path stays a read).
    async with context.read_only() as session:
        role = await staff.recorded_role(session, user.id, name, user.username)
    if role is None:  # a first-time member (recorded as an agent) or a new name
        async with context.unit_of_work() as session:
            role = await staff.role_in_staff_group(session, user.id, name, user.username)
    return role


async def _tell_refused(update: Update, context: AppContext, needed: Role, known_staff: bool) -> None:
    lang = language_for(update, context)
    key = "staff.refused_role" if known_staff else "staff.refused_not_staff"
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

    def __init__(self, app: Any, config: Config) -> None:
        self.app = app
        self.staff_chat = StaffChat(config)
        self.staff_commands: set[str] = set()

    def _chat_filter(self, access: Access) -> filters.BaseFilter:
        if access.kind in ("customer", "staff_link"):
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
        self,
        names: str | list[str],
        callback: Callback,
        access: Access,
        flt: filters.BaseFilter | None = None,
        group: int = 0,
    ) -> None:
        names = [names] if isinstance(names, str) else names
        flt = NEW_MESSAGES & self._chat_filter(access) & (flt or filters.ALL)
        if access.kind == "staff":
            self.staff_commands.update(names)
        self.add(CommandHandler(names, Guarded(callback, access, names[0]), filters=flt), group)

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
    name, _ = _leading_command(message.text or "", message.entities)
    await _admit_staff(update, context, staff_access(Role.AGENT), name or "")


async def _edited_command(update: Update, context: AppContext) -> None:
    message = update.effective_message
    if message is not None:
        await message.reply_text(context.t(language_for(update, context), "staff.edit_not_applied"))
