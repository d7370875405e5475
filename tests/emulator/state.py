"""What the emulated Telegram knows: users, chats with their message history and members, files, commands."""

from __future__ import annotations

import copy
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from tests.emulator.spec import Spec


class ApiError(Exception):
    """An error answer: {"ok": false, "error_code": code, "description": ..., "parameters": ...}.
    `violation` marks errors that mean the bot is wrong (recorded in emu.violations)."""

    def __init__(
        self, code: int, description: str, *, retry_after: int | None = None, violation: bool = False
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after
        self.violation = violation

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(text: str, *, violation: bool = False) -> ApiError:
    return ApiError(400, f"Bad Request: {text}", violation=violation)


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    data: bytes
    filename: str | None
    mime_type: str | None
    path: str
    url: str | None = None

    def as_file(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "file_path": self.path,
        }


@dataclass
class StoredMessage:
    raw: dict[str, Any]  # the Message as Telegram returns it now (after edits)
    from_bot: bool
    html: str | None = None  # text or caption as the bot sent it (parse_mode HTML)
    versions: list[dict[str, Any]] = field(default_factory=list)  # earlier versions, oldest first
    # the ReplyKeyboardMarkup / ReplyKeyboardRemove / ForceReply sent with it
    keyboard: dict[str, Any] | None = None
    file: StoredFile | None = None

    @property
    def message_id(self) -> int:
        return self.raw["message_id"]


@dataclass
class ChatState:
    chat: dict[str, Any]  # the Chat object
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    next_message_id: int = 1
    members: dict[int, str] = field(default_factory=dict)  # user id → status
    reply_keyboard: dict[str, Any] | None = None  # the ReplyKeyboardMarkup shown now
    force_reply: bool = False
    menu_button: dict[str, Any] | None = None

    @property
    def id(self) -> int:
        return self.chat["id"]

    def take_message_id(self) -> int:
        mid = self.next_message_id
        self.next_message_id += 1
        return mid


def chat_instance(chat_id: int) -> str:
    return str((chat_id * 2654435761 + 97531) % 10**18)


class State:
    def __init__(self, spec: Spec, bot: dict[str, Any]) -> None:
        self.spec = spec
        self.bot = bot
        self.users: dict[int, dict[str, Any]] = {bot["id"]: bot}
        self.chats: dict[int, ChatState] = {}
        self.files: dict[str, StoredFile] = {}
        self.files_by_path: dict[str, StoredFile] = {}
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.callback_answers: dict[str, dict[str, Any] | None] = {}
        # sendChatAction calls, in order: (chat id, action, the chat's newest message id then): what the
        # person sees as "typing…", and whether it came before the message it announced.
        self.chat_actions: list[tuple[int, str, int]] = []
        self._file_ids = itertools.count(1)

    # ---- users and chats -------------------------------------------------------------------------
    def add_user(
        self,
        user_id: int,
        first_name: str,
        last_name: str | None,
        username: str | None,
        language_code: str | None,
    ) -> dict[str, Any]:
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        for key, value in (
            ("last_name", last_name),
            ("username", username),
            ("language_code", language_code),
        ):
            if value is not None:
                user[key] = value
        self.users[user_id] = user
        chat = {k: v for k, v in user.items() if k in ("id", "first_name", "last_name", "username")}
        if user_id in self.chats:
            self.chats[user_id].chat = {**chat, "type": "private"}
        else:
            self.chats[user_id] = ChatState({**chat, "type": "private"})
        return user

    def add_group(self, chat_id: int, title: str, type_: str) -> ChatState:
        if chat_id >= 0:
            raise ValueError("group and supergroup ids are negative")
        if type_ not in ("group", "supergroup"):
            raise ValueError(f"unsupported chat type {type_!r}")
        if chat_id not in self.chats:
            self.chats[chat_id] = ChatState({"id": chat_id, "type": type_, "title": title})
        return self.chats[chat_id]

    def resolve_chat(self, chat_id: int | str) -> ChatState:
        if isinstance(chat_id, str):
            if not chat_id.startswith("@"):
                raise bad_request("chat not found")
            for state in self.chats.values():
                if state.chat.get("username", "").lower() == chat_id[1:].lower():
                    return state
            raise bad_request("chat not found")
        if chat_id not in self.chats:
            raise bad_request("chat not found")
        return self.chats[chat_id]

    def member_status(self, chat: ChatState, user_id: int) -> str:
        if chat.chat["type"] == "private":
            return "member" if user_id in (chat.id, self.bot["id"]) else "left"
        return chat.members.get(user_id, "left")

    def chat_member(self, chat: ChatState, user_id: int) -> dict[str, Any]:
        user = self.users.get(user_id)
        if user is None:
            raise bad_request("user not found")
        status = self.member_status(chat, user_id)
        if status == "creator":
            return {"status": status, "user": user, "is_anonymous": False}
        if status == "administrator":
            rights = {
                f["name"]: f["name"].startswith("can_") and f["name"] != "can_be_edited"
                for f in self.spec.types["ChatMemberAdministrator"]["fields"]
                if f["required"] and f["types"] == ["Boolean"]
            }
            return {"status": status, "user": user, **rights}
        if status == "restricted":
            return self.spec.fill_required("ChatMemberRestricted", status=status, user=user, is_member=True)
        if status == "kicked":
            return {"status": status, "user": user, "until_date": 0}
        if status in ("member", "left"):
            return {"status": status, "user": user}
        raise ValueError(f"unknown member status {status!r}")

    def chat_full_info(self, chat: ChatState) -> dict[str, Any]:
        return self.spec.fill_required("ChatFullInfo", **chat.chat, max_reaction_count=11)

    # ---- messages --------------------------------------------------------------------------------
    def find_message(self, chat: ChatState, message_id: int) -> StoredMessage | None:
        return chat.messages.get(message_id)

    def store(self, chat: ChatState, message: StoredMessage) -> StoredMessage:
        chat.messages[message.message_id] = message
        return message

    def edit(
        self, message: StoredMessage, changes: dict[str, Any], date: int, drop: tuple[str, ...] = ()
    ) -> None:
        message.versions.append(copy.deepcopy(message.raw))
        for key in drop:
            message.raw.pop(key, None)
        message.raw.update(changes)
        message.raw["edit_date"] = date

    # ---- files -----------------------------------------------------------------------------------
    def add_file(
        self, data: bytes, filename: str | None, mime_type: str | None, folder: str, url: str | None = None
    ) -> StoredFile:
        n = next(self._file_ids)
        ext = (filename or "").rpartition(".")[2] if filename and "." in filename else "bin"
        stored = StoredFile(
            file_id=f"BQACAgIAAx{n:06d}{folder[:3].upper()}",
            file_unique_id=f"AgAD{n:06d}",
            data=data,
            filename=filename,
            mime_type=mime_type,
            path=f"{folder}/file_{n}.{ext}",
            url=url,
        )
        self.files[stored.file_id] = stored
        self.files_by_path[stored.path] = stored
        return stored

    # ---- commands --------------------------------------------------------------------------------
    @staticmethod
    def scope_key(scope: dict[str, Any] | None) -> str:
        return json.dumps(scope or {"type": "default"}, sort_keys=True)

    def set_commands(
        self, scope: dict[str, Any] | None, language_code: str, commands: list[dict[str, Any]]
    ) -> None:
        self.commands[(self.scope_key(scope), language_code)] = [dict(c) for c in commands]

    def get_commands(self, scope: dict[str, Any] | None, language_code: str) -> list[dict[str, Any]]:
        return [dict(c) for c in self.commands.get((self.scope_key(scope), language_code), [])]


def image_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG, GIF or JPEG (Telegram reports them); 512x512 when unknown."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return int.from_bytes(data[6:8], "little"), int.from_bytes(data[8:10], "little")
    i = 2
    while data[:2] == b"\xff\xd8" and i + 9 < len(data):
        if data[i] != 0xFF:
            break
        marker, length = data[i + 1], int.from_bytes(data[i + 2 : i + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return int.from_bytes(data[i + 7 : i + 9], "big"), int.from_bytes(data[i + 5 : i + 7], "big")
        i += 2 + length
    return 512, 512
