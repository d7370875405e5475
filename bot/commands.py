"""The command menus (setMyCommands): one for private chats per language, one for the staff group."""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat
from telegram.error import TelegramError

from bot.i18n import Catalog
from storage.config import Config

log = logging.getLogger(__name__)

CUSTOMER_COMMANDS = ("start", "profile", "language", "help")
STAFF_COMMANDS = ("find", "staff", "promote", "demote", "callback", "callbacks", "outbox")


def _commands(catalog: Catalog, language: str, names: tuple[str, ...]) -> list[BotCommand]:
    return [BotCommand(name, catalog(language, f"commands.{name}")) for name in names]


async def publish(bot: Bot, catalog: Catalog, config: Config) -> None:
    private = BotCommandScopeAllPrivateChats()
    for language in catalog.catalogs:
        code = None if language == catalog.default_language else language
        await bot.set_my_commands(
            _commands(catalog, language, CUSTOMER_COMMANDS), scope=private, language_code=code
        )
    if config.staff_chat_id is None:
        return
    try:
        await bot.set_my_commands(
            _commands(catalog, catalog.default_language, STAFF_COMMANDS),
            scope=BotCommandScopeChat(config.staff_chat_id),
        )
    except TelegramError as error:  # the bot may not be in the group yet; the bot still works
        log.warning(
            "could not set the staff group's commands (is the bot in chat %s?): %s",
            config.staff_chat_id,
            error,
        )
