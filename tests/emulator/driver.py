"""The test's side of Telegram: people who send messages and press buttons, and what they see.

People (UserDriver) can only do what a Telegram client lets them do; anything else fails the test with an
AssertionError instead of delivering an update Telegram never would:
- send / reply / send_document / send_photo / edit: texts up to 4096 characters, captions up to 1024
  (counted in characters, as Telegram counts them), bot_command entities computed as Telegram does
  (bot_commands.command_entities); a user who left a group, was banned or restricted there can't post in it;
- press / press_data: callback_data up to 64 bytes (any data, not only the buttons' own: clients can forge
  it); a banned user can't press in the group, nor a user who left a private group; a press on a deleted
  message (or with inaccessible=True) carries an InaccessibleMessage;
- share_contact / share_location: a contact, or a location (Bot API Location, latitude -90..90, longitude
  -180..180) sent with the keyboard's request_location button (private chats only; a one-time keyboard
  hides) or, via_button=False, from the attachment menu;
- delete_message: deletes a bot message (the bot is not told; editing it then fails "message to edit not
  found").
GroupChat.join / leave / kick / promote change a membership and deliver the chat_member update (when the
bot asked for it in allowed_updates).
"""

from __future__ import annotations

import asyncio
import copy
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tests.emulator.bot_commands import command_entities
from tests.emulator.state import ChatState, StoredMessage, chat_instance, image_size

if TYPE_CHECKING:
    from tests.emulator.server import BotApiEmulator

_query_ids = itertools.count(1)
TEXT_LIMIT = 4096  # characters (code points): tdlib counts utf8_length, not UTF-16 units
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64  # bytes of UTF-8
_CANT_POST = {"left": "left", "kicked": "was banned from", "restricted": "is restricted in"}


@dataclass
class ReplyKeyboard:
    """A reply keyboard sent with a message: rows of labels; the labels that share the user's contact,
    and those that share their location."""

    rows: list[list[str]]
    contact_buttons: list[str] = field(default_factory=list)
    one_time: bool = False
    raw: dict[str, Any] = field(default_factory=dict)
    location_buttons: list[str] = field(default_factory=list)

    @property
    def request_contact(self) -> bool:
        return bool(self.contact_buttons)

    @property
    def request_location(self) -> bool:
        return bool(self.location_buttons)

    def __bool__(self) -> bool:
        return bool(self.rows)


def _reply_keyboard(markup: dict[str, Any] | None) -> ReplyKeyboard | None:
    if not markup or "keyboard" not in markup:
        return None
    rows = [[b["text"] if isinstance(b, dict) else b for b in row] for row in markup["keyboard"]]

    def asking(kind: str) -> list[str]:
        return [b["text"] for row in markup["keyboard"] for b in row if isinstance(b, dict) and b.get(kind)]

    one_time = bool(markup.get("one_time_keyboard"))
    return ReplyKeyboard(rows, asking("request_contact"), one_time, markup, asking("request_location"))


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
        """Set a status silently (no update), as if it had always been so."""
        self.emu.set_member(self.chat_id, user_id, status)

    def status(self, user: UserDriver | int) -> str:
        return self.emu.state.member_status(self._state, _user_id(user))

    # ---- membership changes: each delivers a chat_member update --------------------------------------
    async def join(self, user: UserDriver) -> dict[str, Any]:
        """The user joins (by link or by being added); banned users can't."""
        was = self.status(user)
        assert was == "left", f"user {user.user_id} can't join chat {self.chat_id}: {was}"
        return await self._change(user, "member", by=user)

    async def leave(self, user: UserDriver) -> dict[str, Any]:
        was = self.status(user)
        assert was in ("member", "administrator", "restricted"), (
            f"user {user.user_id} can't leave chat {self.chat_id}: {was}"
        )
        return await self._change(user, "left", by=user)

    async def kick(self, user: UserDriver, by: UserDriver) -> dict[str, Any]:
        """An admin bans the user (until_date 0: for ever); only the creator can ban an admin."""
        self._assert_admin(by)
        was = self.status(user)
        assert was not in ("creator", "kicked"), f"user {user.user_id} can't be banned: {was}"
        if was == "administrator":
            assert self.status(by) == "creator", "only the creator can ban an administrator"
        return await self._change(user, "kicked", by=by)

    async def promote(self, user: UserDriver, by: UserDriver | None = None) -> dict[str, Any]:
        """The user becomes an administrator (all rights); by defaults to the group's creator."""
        promoter = by if by is not None else self._creator()
        self._assert_admin(promoter)
        was = self.status(user)
        assert was in ("member", "restricted"), f"user {user.user_id} can't be promoted: {was}"
        return await self._change(user, "administrator", by=promoter)

    async def add_bot(self, by: UserDriver, status: str = "member") -> dict[str, Any]:
        """`by` (an administrator of the group) adds the bot, as a member or an administrator: the bot
        gets a my_chat_member update, as from Telegram. (Telegram also posts a service message with
        new_chat_members in the group; the bot reads none, so it is not emulated.)"""
        self._assert_admin(by)
        assert status in ("member", "administrator"), status
        bot_id = self.emu.bot_id
        was = self.status(bot_id)
        assert was in ("left", "kicked"), f"the bot is {was} in chat {self.chat_id} already"
        state = self._state
        old = self.emu.state.chat_member(state, bot_id)
        state.members[bot_id] = status
        update = {
            "chat": dict(state.chat),
            "from": by.user,
            "date": self.emu.now(),
            "old_chat_member": old,
            "new_chat_member": self.emu.state.chat_member(state, bot_id),
        }
        return await self.emu.deliver("my_chat_member", update)

    async def delete_message(self, message: SentMessage | int) -> None:
        """An admin deletes a message (Telegram does not tell the bot)."""
        remove_message(self.emu, self.chat_id, message)

    # ---- seeing ---------------------------------------------------------------------------------------
    def messages(self) -> list[SentMessage]:
        return bot_messages(self.emu, self.chat_id)

    def last(self) -> SentMessage:
        return last_of(self.messages(), self.chat_id)

    # ---- helpers --------------------------------------------------------------------------------------
    @property
    def _state(self) -> ChatState:
        return self.emu.state.chats[self.chat_id]

    def _assert_admin(self, user: UserDriver) -> None:
        status = self.status(user)
        assert status in ("creator", "administrator"), (
            f"user {user.user_id} is {status} in chat {self.chat_id}, not an administrator"
        )

    def _creator(self) -> UserDriver:
        creators = [uid for uid, status in self._state.members.items() if status == "creator"]
        assert creators, f"chat {self.chat_id} has no creator: pass by= (an administrator)"
        return self.emu._users[creators[0]]

    async def _change(self, user: UserDriver, status: str, by: UserDriver) -> dict[str, Any]:
        state = self._state
        old = self.emu.state.chat_member(state, user.user_id)
        state.members[user.user_id] = status
        update = {
            "chat": dict(state.chat),
            "from": by.user,
            "date": self.emu.now(),
            "old_chat_member": old,
            "new_chat_member": self.emu.state.chat_member(state, user.user_id),
        }
        return await self.emu.deliver("chat_member", update)


def _user_id(user: UserDriver | int) -> int:
    return user if isinstance(user, int) else user.user_id


def remove_message(emu: BotApiEmulator, chat_id: int, message: SentMessage | int) -> None:
    message_id = message if isinstance(message, int) else message.message_id
    chat = emu.state.chats[chat_id]
    assert message_id in chat.messages, f"no message {message_id} in chat {chat_id} to delete"
    del chat.messages[message_id]
    emu.notify()


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

    def _assert_can_post(self, chat_id: int) -> None:
        """Telegram lets nobody post in a group they left or were banned or restricted in."""
        if chat_id >= 0:
            assert chat_id == self.user_id, f"user {self.user_id} can't write in {chat_id}'s private chat"
            return
        state = self.emu.state.chats[chat_id]
        status = state.members.setdefault(self.user_id, "member")  # never seen there: let them in
        assert status not in _CANT_POST, f"user {self.user_id} {_CANT_POST[status]} chat {chat_id}"

    def _assert_can_press(self, chat_id: int) -> None:
        """Banned users don't see the group; those who left see it only when it is public."""
        if chat_id >= 0:
            return
        state = self.emu.state.chats[chat_id]
        status = state.members.get(self.user_id)
        assert status != "kicked", f"user {self.user_id} was banned from chat {chat_id}"
        if status == "left":
            assert "username" in state.chat, f"user {self.user_id} left the private group {chat_id}"

    def _message(self, chat_id: int, **content: Any) -> dict[str, Any]:
        self._assert_can_post(chat_id)
        state = self.emu.state.chats[chat_id]
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
        content: dict[str, Any] = {**_text("text", text, TEXT_LIMIT, "entities"), **extra}
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

    async def edit(self, sent: dict[str, Any], new_text: str) -> dict[str, Any]:
        """Edit one's own message (sent: what send, send_document or edit returned, or the Message): the bot
        gets an edited_message with the same id, chat, from and date, an edit_date, the new text (or
        caption) and its entities computed afresh."""
        original = sent.get("message") or sent.get("edited_message") or sent
        chat_id, message_id = original["chat"]["id"], original["message_id"]
        assert original["from"]["id"] == self.user_id, "people can only edit their own messages"
        stored = self.emu.state.chats[chat_id].messages.get(message_id)
        assert stored is not None and not stored.from_bot, f"message {message_id} is gone from {chat_id}"
        self._assert_can_post(chat_id)
        raw = copy.deepcopy(stored.raw)
        if "text" in raw:
            changes = _text("text", new_text, TEXT_LIMIT, "entities")
        else:
            assert "document" in raw or "photo" in raw, "only texts and captions can be edited"
            changes = _text("caption", new_text, CAPTION_LIMIT, "caption_entities") if new_text else {}
        for key in ("text", "entities", "caption", "caption_entities"):
            raw.pop(key, None)
        raw.update(changes)
        raw.pop("edit_date", None)
        unchanged = {k: v for k, v in stored.raw.items() if k != "edit_date"}
        assert raw != unchanged, "the edit changes nothing (Telegram answers MESSAGE_NOT_MODIFIED)"
        raw["edit_date"] = self.emu.now()
        stored.versions.append(stored.raw)
        stored.raw = raw
        return await self.emu.deliver("edited_message", copy.deepcopy(raw))

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

    async def share_location(
        self,
        latitude: float,
        longitude: float,
        *,
        via_button: bool = True,
        horizontal_accuracy: float | None = None,
        chat: GroupChat | int | None = None,
    ) -> dict[str, Any]:
        """Send a location (Bot API Location): with the keyboard's request_location button (private chats
        only, as the Bot API says of the button; a one-time keyboard then hides), or with
        via_button=False from the attachment menu, in any chat the user can post in."""
        assert -90 <= latitude <= 90 and -180 <= longitude <= 180, "not a point on earth"
        chat_id = self._chat_id(chat)
        location: dict[str, Any] = {"latitude": float(latitude), "longitude": float(longitude)}
        if horizontal_accuracy is not None:
            assert 0 <= horizontal_accuracy <= 1500, "horizontal_accuracy is 0-1500 meters"
            location["horizontal_accuracy"] = float(horizontal_accuracy)
        if via_button:
            assert chat_id == self.user_id, "request_location buttons work in private chats only"
            state = self.emu.state.chats[chat_id]
            keyboard = _reply_keyboard(state.reply_keyboard)
            assert keyboard and keyboard.request_location, "no share-location button is shown"
            if keyboard.one_time:
                state.reply_keyboard = None
        return await self.emu.deliver("message", self._message(chat_id, location=location))

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
        return await self._send_media(chat, {"document": document}, caption)

    async def send_photo(
        self, data: bytes, caption: str | None = None, chat: GroupChat | int | None = None
    ) -> dict[str, Any]:
        """A photo (PNG, GIF or JPEG bytes; its size is read from them) with an optional caption."""
        stored = self.emu.state.add_file(data, "photo.jpg", "image/jpeg", "photos")
        width, height = image_size(data)
        size = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "width": width,
            "height": height,
            "file_size": len(data),
        }
        return await self._send_media(chat, {"photo": [size]}, caption)

    async def _send_media(
        self, chat: GroupChat | int | None, content: dict[str, Any], caption: str | None
    ) -> dict[str, Any]:
        if caption:
            content.update(_text("caption", caption, CAPTION_LIMIT, "caption_entities"))
        return await self.emu.deliver("message", self._message(self._chat_id(chat), **content))

    async def delete_message(self, message: SentMessage | int, chat: GroupChat | int | None = None) -> None:
        """Delete a message for everyone, as the user can: any message of their private chat with the
        bot, and in a group only as an administrator. The bot is not told."""
        chat_id = message.chat_id if isinstance(message, SentMessage) else self._chat_id(chat)
        if chat_id < 0:
            status = self.emu.state.member_status(self.emu.state.chats[chat_id], self.user_id)
            assert status in ("creator", "administrator"), (
                f"user {self.user_id} is {status} in chat {chat_id} and can't delete the bot's messages"
            )
        else:
            assert chat_id == self.user_id, f"user {self.user_id} can't see {chat_id}'s private chat"
        remove_message(self.emu, chat_id, message)

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

    async def press_data(
        self, callback_data: str, message: SentMessage, *, inaccessible: bool = False
    ) -> dict[str, Any] | None:
        """Send a callback query with any callback_data (up to 64 bytes): Telegram does not check that
        the message has a button with that data, so a modified client can forge presses (stale buttons,
        another user's data, made-up data). The query carries the message as it is now; for a message
        deleted since (a client still showing it), or with inaccessible=True, an InaccessibleMessage
        (chat, message_id, date 0), as the Bot API sends when it can't get the message.
        Returns the bot's answerCallbackQuery (None if it did not answer)."""
        size = len(callback_data.encode())
        assert size <= CALLBACK_DATA_LIMIT, f"callback_data is {size} bytes; Telegram carries at most 64"
        self._assert_can_press(message.chat_id)
        chat = self.emu.state.chats[message.chat_id]
        stored = chat.messages.get(message.message_id)
        if stored is None or inaccessible:
            shown: dict[str, Any] = {"chat": dict(chat.chat), "message_id": message.message_id, "date": 0}
        else:
            shown = dict(stored.raw)
        query_id = f"{self.user_id}{next(_query_ids):010d}"
        self.emu.state.callback_answers[query_id] = None
        query = {
            "id": query_id,
            "from": self.user,
            "message": shown,
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

    def last_text(self, chat: GroupChat | int | None = None) -> SentMessage:
        """The newest text message (not a photo or a document): /points and /profile end with a photo."""
        return [m for m in self.messages(chat) if "text" in m.raw][-1]

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


def _text(key: str, text: str, limit: int, entities_key: str) -> dict[str, Any]:
    """A text or caption as a person can send it, with the entities Telegram adds."""
    kind = "caption" if key == "caption" else "text"
    assert text.strip(), f"Telegram clients don't send an empty {kind}"
    assert len(text) <= limit, (
        f"a {kind} of {len(text)} characters: Telegram clients send at most {limit} (split it)"
    )
    entities = command_entities(text)
    return {key: text, **({entities_key: entities} if entities else {})}


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
