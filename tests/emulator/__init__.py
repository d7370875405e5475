"""A Telegram Bot API emulator for end-to-end tests: an aiohttp server speaking the Bot API (validated against
tests/data/bot_api_subset.json) and drivers that act as people in chats."""

from tests.emulator.driver import GroupChat, ReplyKeyboard, SentMessage, UserDriver
from tests.emulator.server import BotApiEmulator

__all__ = ["BotApiEmulator", "GroupChat", "ReplyKeyboard", "SentMessage", "UserDriver"]
