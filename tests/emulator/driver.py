"""The test's side of Telegram: people who send messages and press buttons, and what they see."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tests.emulator.html_entities import utf16_len
from tests.emulator.state import StoredMessage, chat_instance

if TYPE_CHECKING:
    from tests.emulator.server import BotApiEmulator

_query_ids = itertools.count(1)


@dataclass
class ReplyKeyboard:
    """A reply keyboard sent with a message: rows of labels; the labels that share the user's contact."""

    rows: list[list[str]]
    contact_buttons: list[str] = field(default_factory=list)
    one_time: bool = False
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def request_contact(self) -> bool:
        return bool(self.contact_buttons)

    def __bool__(self) -> bool:
        return bool(self.rows)


def _reply_keyboard(markup: dict[str, Any] | None) -> ReplyKeyboard | None:
    if not markup or "keyboard" not in markup:
        return None
    rows = [[b["text"] if isinstance(b, dict) else b for b in row] for row in markup["keyboard"]]
    contact = [
        b["text"]
        for row in markup["keyboard"]
        for b in row
        if isinstance(b, dict) and b.get("request_contact")
    ]
    return ReplyKeyboard(rows, contact, bool(markup.get("one_time_keyboard")), markup)


@dataclass
class SentMessage:
    """A bot message as the user sees it now (after edits)."""

    message_id: int
    chat_id: int
    text: str
    html: str | None
    entities: list[dict[str, Any]]
    buttons: list[list[str]]
    button_data: dict[str, str]
    reply_keyboard: ReplyKeyboard | None
    force_reply: bool
    photo: bytes | None
    document: bytes | None
    filename: str | None
    edits: int
    reply_to_message_id: int | None
    raw: dict[str, Any]

    @classmethod
    def of(cls, stored: StoredMessage) -> SentMessage:
        raw = stored.raw
        rows = (raw.get("reply_markup") or {}).get("inline_keyboard", [])
        data = {b["text"]: b["callback_data"] for row in rows for b in row if "callback_data" in b}
        file = stored.file
        return cls(
            message_id=raw["message_id"],
            chat_id=raw["chat"]["id"],
            text=raw.get("text", raw.get("caption", "")),
            html=stored.html,
            entities=list(raw.get("entities", raw.get("caption_entities", []))),
            buttons=[[b["text"] for b in row] for row in rows],
            button_data=data,
            reply_keyboard=_reply_keyboard(stored.keyboard),
            force_reply=bool((stored.keyboard or {}).get("force_reply")),
            photo=file.data if file is not None and "photo" in raw else None,
            document=file.data if file is not None and "document" in raw else None,
            filename=file.filename if file is not None else None,
            edits=len(stored.versions),
            reply_to_message_id=(raw.get("reply_to_message") or {}).get("message_id"),
            raw=raw,
        )


class GroupChat:
    def __init__(self, emu: BotApiEmulator, chat_id: int, title: str, type_: str) -> None:
        self.emu = emu
        self.chat_id = chat_id
        self.id = chat_id
        self.title = title
        self.type = type_

    def set_member(self, user_id: int, status: str) -> None:
        self.emu.set_member(self.chat_id, user_id, status)

    def messages(self) -> list[SentMessage]:
        return bot_messages(self.emu, self.chat_id)

    def last(self) -> SentMessage:
        return last_of(self.messages(), self.chat_id)


def bot_messages(emu: BotApiEmulator, chat_id: int) -> list[SentMessage]:
    chat = emu.state.chats[chat_id]
    return [SentMessage.of(m) for m in chat.messages.values() if m.from_bot]


def last_of(messages: list[SentMessage], chat_id: int) -> SentMessage:
    assert messages, f"the bot has sent nothing to chat {chat_id}"
    return messages[-1]


class UserDriver:
    def __init__(self, emu: BotApiEmulator, user_id: int) -> None:
        self.emu = emu
        self.user_id = user_id

    @property
    def user(self) -> dict[str, Any]:
        return dict(self.emu.state.users[self.user_id])

    def _chat_id(self, chat: GroupChat | int | None) -> int:
        if chat is None:
            return self.user_id
        return chat if isinstance(chat, int) else chat.chat_id

    def _message(self, chat_id: int, **content: Any) -> dict[str, Any]:
        state = self.emu.state.chats[chat_id]
        if chat_id < 0:
            state.members.setdefault(self.user_id, "member")
        raw = {
            "message_id": 0,
            "from": self.user,
            "chat": dict(state.chat),
            "date": self.emu.now(),
            **content,
        }
        self.emu.store_user_message(chat_id, raw)
        return raw

    # ---- acting ---------------------------------------------------------------------------------------
    async def send(self, text: str, chat: GroupChat | int | None = None, **extra: Any) -> dict[str, Any]:
        chat_id = self._chat_id(chat)
        content: dict[str, Any] = {"text": text, **extra}
        if text.startswith("/") and len(text) > 1:
            command = text.split()[0]
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(command)}]
        state = self.emu.state.chats[chat_id]
        keyboard = _reply_keyboard(state.reply_keyboard)
        if keyboard and keyboard.one_time and any(text in row for row in keyboard.rows):
            state.reply_keyboard = None
        state.force_reply = False
        return await self.emu.deliver("message", self._message(chat_id, **content))

    async def reply(
        self, to_message: SentMessage | dict[str, Any], text: str, chat: GroupChat | int | None = None
    ) -> dict[str, Any]:
        raw = to_message.raw if isinstance(to_message, SentMessage) else to_message
        chat_id = self._chat_id(chat) if chat is not None else raw["chat"]["id"]
        quoted = {k: v for k, v in raw.items() if k != "reply_to_message"}
        return await self.send(text, chat=chat_id, reply_to_message=quoted)

    async def share_contact(
        self, phone_number: str, user_id: int | None = None, first_name: str | None = None
    ) -> dict[str, Any]:
        me = self.user
        own = user_id is None or user_id == self.user_id
        contact: dict[str, Any] = {
            "phone_number": phone_number,
            "first_name": first_name or (me["first_name"] if own else "Contact"),
            "user_id": self.user_id if user_id is None else user_id,
        }
        if own and "last_name" in me:
            contact["last_name"] = me["last_name"]
        state = self.emu.state.chats[self.user_id]
        keyboard = _reply_keyboard(state.reply_keyboard)
        if keyboard and keyboard.one_time:
            state.reply_keyboard = None
        return await self.emu.deliver("message", self._message(self.user_id, contact=contact))

    async def send_document(
        self, filename: str, data: bytes, caption: str | None = None, chat: GroupChat | int | None = None
    ) -> dict[str, Any]:
        stored = self.emu.state.add_file(data, filename, _mime(filename), "documents")
        document = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": filename,
            "mime_type": stored.mime_type,
            "file_size": len(data),
        }
        content: dict[str, Any] = {"document": document}
        if caption:
            content["caption"] = caption
        return await self.emu.deliver("message", self._message(self._chat_id(chat), **content))

    async def press(
        self, label: str, message: SentMessage | None = None, chat: GroupChat | int | None = None
    ) -> dict[str, Any] | None:
        chat_id = message.chat_id if message is not None else self._chat_id(chat)
        candidates = self.messages(chat_id)
        if message is not None:
            candidates = [m for m in candidates if m.message_id == message.message_id]
            assert candidates, f"message {message.message_id} is gone from chat {chat_id}"
        for m in reversed(candidates):
            if any(label in row for row in m.buttons):
                assert label in m.button_data, (
                    f"button {label!r} has no callback_data: {m.raw['reply_markup']}"
                )
                return await self.press_data(m.button_data[label], m)
        available = [(m.message_id, m.buttons) for m in candidates if m.buttons]
        raise AssertionError(f"no button {label!r} in chat {chat_id}; buttons by message id: {available}")

    async def press_data(self, callback_data: str, message: SentMessage) -> dict[str, Any] | None:
        chat = self.emu.state.chats[message.chat_id]
        stored = chat.messages.get(message.message_id)
        current = stored.raw if stored is not None else message.raw
        query_id = f"{self.user_id}{next(_query_ids):010d}"
        self.emu.state.callback_answers[query_id] = None
        query = {
            "id": query_id,
            "from": self.user,
            "message": dict(current),
            "chat_instance": chat_instance(message.chat_id),
            "data": callback_data,
        }
        await self.emu.deliver("callback_query", query)
        return self.emu.state.callback_answers.get(query_id)

    # ---- seeing ---------------------------------------------------------------------------------------
    def messages(self, chat: GroupChat | int | None = None) -> list[SentMessage]:
        return bot_messages(self.emu, self._chat_id(chat))

    def last(self, chat: GroupChat | int | None = None) -> SentMessage:
        return last_of(self.messages(chat), self._chat_id(chat))

    def keyboard(self, chat: GroupChat | int | None = None) -> ReplyKeyboard | None:
        """The reply keyboard shown now in the chat (None when removed or never sent)."""
        return _reply_keyboard(self.emu.state.chats[self._chat_id(chat)].reply_keyboard)

    async def wait_for(
        self,
        predicate: Callable[[SentMessage], bool],
        chat: GroupChat | int | None = None,
        timeout: float = 5.0,
    ) -> SentMessage:
        """The newest bot message matching predicate; wakes on every new, edited or deleted message."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            changed = self.emu._changed
            messages = self.messages(chat)
            for m in reversed(messages):
                if predicate(m):
                    return m
            left = deadline - loop.time()
            if left <= 0:
                seen = [m.text[:60] for m in messages[-5:]]
                raise AssertionError(f"no matching bot message within {timeout}s; the last ones: {seen}")
            try:
                await asyncio.wait_for(changed.wait(), left)
            except TimeoutError:
                continue


def _mime(filename: str) -> str:
    ext = filename.rpartition(".")[2].lower()
    return {
        "txt": "text/plain",
        "csv": "text/csv",
        "pdf": "application/pdf",
        "json": "application/json",
        "png": "image/png",
        "jpg": "image/jpeg",
        "jpeg": "image/jpeg",
    }.get(ext, "application/octet-stream")
