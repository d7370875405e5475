"""Every handler the application registers declares who may use it, and the declaration holds: customer
handlers never match outside a private chat, staff handlers never match outside the staff group."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from telegram import Chat, Message, MessageEntity, Update, User
from telegram.ext import BaseHandler, CommandHandler, MessageHandler

from bot.app import build_application
from bot.settings import Settings
from handlers.authority import ROUTED, Guarded

# Kinds that only answer, each checking who it answers: the bot added to a group (introduction), an
# owner's "Use this group for staff" (group_owner), a command nobody took (fallback), a member's QR
# link opened by a staff member in their private chat (staff_link: anyone else gets the customer's).
ANSWERS_ONLY = ("introduction", "group_owner", "fallback", "staff_link")

STAFF_CHAT = -100500


@pytest.fixture
def app(tmp_path: Path) -> Any:
    env = {
        "TELEGRAM_BOT_TOKEN": "123:abc",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/a.db",
        "STAFF_CHAT_ID": str(STAFF_CHAT),
    }
    application = build_application(Settings.from_env(env, env_file=None))
    application.bot._bot_user = User(1, "Bot", is_bot=True, username="engage_bot")  # getMe, offline
    return application


def _handlers(app: Any) -> list[BaseHandler[Any, Any, Any]]:
    return [h for group in sorted(app.handlers) for h in app.handlers[group]]


def _command_update(app: Any, text: str, chat: Chat) -> Update:
    command = text.split()[0]
    message = Message(
        1,
        datetime.now(UTC),
        chat,
        from_user=User(7, "Eve", is_bot=False),
        text=text,
        entities=[MessageEntity(MessageEntity.BOT_COMMAND, 0, len(command))],
    )
    message.set_bot(app.bot)
    return Update(1, message=message)


def test_every_handler_declares_its_access(app: Any) -> None:
    undeclared = [h for h in _handlers(app) if not isinstance(h.callback, Guarded)]
    assert undeclared == []
    for handler in _handlers(app):
        guarded: Guarded = handler.callback
        if guarded.access == ROUTED:  # a router: each of its routes declares its own access
            router = guarded.callback
            routes = router.routes.values()
            assert routes and all(r.access.kind in ("customer", "staff") for r in routes), router
        if guarded.access.kind == "staff":
            assert guarded.access.role is not None
        assert guarded.access.kind in ("customer", "staff", "bookkeeping", "routed", *ANSWERS_ONLY), guarded


def test_customer_commands_match_only_in_private_chats(app: Any) -> None:
    group = Chat(-42, Chat.SUPERGROUP)
    staff_group = Chat(STAFF_CHAT, Chat.SUPERGROUP)
    commands = [h for h in _handlers(app) if isinstance(h, CommandHandler)]
    customer = [h for h in commands if h.callback.access.kind == "customer"]
    assert {"start", "points", "feedback", "survey", "cancel"} <= {c for h in customer for c in h.commands}
    for handler in customer:
        for name in handler.commands:
            for chat in (group, staff_group):
                assert not handler.check_update(_command_update(app, f"/{name}", chat)), (name, chat.id)
            assert handler.check_update(_command_update(app, f"/{name}", Chat(7, Chat.PRIVATE)))


def test_staff_handlers_match_only_in_the_staff_group(app: Any) -> None:
    staff = [h for h in _handlers(app) if isinstance(h, CommandHandler) and h.callback.access.kind == "staff"]
    names = {c for h in staff for c in h.commands}
    assert {"award", "purchase", "deduct", "reward", "promote", "find", "survey", "callback"} <= names
    for handler in staff:
        for name in handler.commands:
            assert handler.check_update(_command_update(app, f"/{name} x", Chat(STAFF_CHAT, Chat.SUPERGROUP)))
            for chat in (Chat(7, Chat.PRIVATE), Chat(-42, Chat.SUPERGROUP)):
                assert not handler.check_update(_command_update(app, f"/{name} x", chat)), (name, chat.id)
    messages = [
        h for h in _handlers(app) if isinstance(h, MessageHandler) and h.callback.access.kind == "staff"
    ]
    assert messages, "the staff group's replies and uploads are staff handlers"


def test_every_staff_command_has_a_refusal_elsewhere(app: Any) -> None:
    """The last handler refuses (and audits) a staff command sent anywhere but the staff group; /help
    and /start only mean the staff's in the staff group (elsewhere they are the customers')."""
    staff_names = {
        c
        for h in _handlers(app)
        if isinstance(h, CommandHandler) and h.callback.access.kind == "staff"
        for c in h.commands
    }
    refusal = [h for h in _handlers(app) if isinstance(h, CommandHandler) and h.callback.action == "refusal"]
    assert len(refusal) == 1 and set(refusal[0].commands) == staff_names - {"help", "start"}


def test_a_button_press_is_never_read_as_a_command(app: Any) -> None:
    """The bot's own message under a button may start with a command: the guard must not take a
    subcommand (and so a role) from it."""
    from telegram import CallbackQuery

    from handlers.authority import is_command

    bot_message = _command_update(app, "/survey send f all", Chat(STAFF_CHAT, Chat.SUPERGROUP)).message
    query = CallbackQuery("1", User(7, "Eve", is_bot=False), "ci", message=bot_message, data="pg:sv:2")
    query.set_bot(app.bot)
    assert is_command(_command_update(app, "/survey send f all", Chat(STAFF_CHAT, Chat.SUPERGROUP)))
    assert not is_command(Update(2, callback_query=query))


def test_every_staff_command_has_an_example_for_help(app: Any) -> None:
    """/help in the staff group lists each staff command with an example, in every language."""
    staff_names = set(app.bot_data.commands.staff) - {"help", "start"}
    assert {"find", "reward", "promote"} <= staff_names
    missing = [name for name in sorted(staff_names) if not app.catalog.has(f"setup.example.{name}")]
    assert missing == []


def test_pausing_resuming_stopping_and_a_campaign_image_need_an_admin(app: Any) -> None:
    """Declared where registered: the bulk job's buttons and a photo captioned /campaign image."""
    from telegram.ext import CallbackQueryHandler

    from storage.people.staff import Role

    guarded = {
        h.callback.action: h.callback.access
        for h in _handlers(app)
        if isinstance(h, (CallbackQueryHandler, MessageHandler))
    }
    for action in ("bulk_stop", "bulk_pause", "bulk_resume", "campaign image"):
        assert guarded[action].kind == "staff" and guarded[action].role == Role.ADMIN, action
