"""The command menus (setMyCommands): one for private chats per language, one for the staff group."""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat
from telegram.error import TelegramError

from bot.i18n import Catalog
from storage.core.config import Config

log = logging.getLogger(__name__)

CUSTOMER_COMMANDS = (
    "start",
    "points",
    "rewards",
    "myrewards",
    "invite",
    "survey",
    "feedback",
    "profile",
    "language",
    "privacy",
    "cancel",
    "help",
)
STAFF_COMMANDS = (
    "help", "find", "note", "tag", "purchase", "award", "deduct", "fulfil", "cancel", "reward",
    "survey", "feedback", "stats", "callback", "callbacks", "followup", "followups", "outbox", "import",
    "export", "campaign", "staff", "promote", "demote", "erase", "audit", "owner",
)  # fmt: skip


def _commands(
    catalog: Catalog, language: str, names: tuple[str, ...], staff: bool = False
) -> list[BotCommand]:
    """A command's description; in the staff menu "commands.staff_<name>" when it means something else
    there (e.g. /survey answers a survey for customers and manages surveys for staff)."""

    def key(name: str) -> str:
        return (
            f"commands.staff_{name}"
            if staff and catalog.has(f"commands.staff_{name}")
            else f"commands.{name}"
        )

    return [BotCommand(name, catalog(language, key(name))) for name in names]


async def publish(bot: Bot, catalog: Catalog, config: Config) -> None:
    private = BotCommandScopeAllPrivateChats()
    for language in catalog.catalogs:
        code = None if language == catalog.default_language else language
        await bot.set_my_commands(
            _commands(catalog, language, CUSTOMER_COMMANDS), scope=private, language_code=code
        )
    if config.staff_chat_id is not None:
        await publish_staff(bot, catalog, config.staff_chat_id)


async def publish_staff(bot: Bot, catalog: Catalog, chat_id: int) -> None:
    """The staff group's menu (at start, and when a group is chosen in Telegram)."""
    try:
        await bot.set_my_commands(
            _commands(catalog, catalog.default_language, STAFF_COMMANDS, staff=True),
            scope=BotCommandScopeChat(chat_id),
        )
    except TelegramError as error:  # the bot may not be in the group yet; the bot still works
        log.warning("could not set the staff group's commands (is the bot in chat %s?): %s", chat_id, error)
