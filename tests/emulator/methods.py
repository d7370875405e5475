"""Bot API methods about chats and messages (the update methods live in updates.py)."""

from __future__ import annotations

import copy
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from tests.emulator.html_entities import EntityParseError, parse_html, trim
from tests.emulator.spec import UploadedFile
from tests.emulator.state import ApiError, ChatState, StoredFile, StoredMessage, bad_request, image_size

if TYPE_CHECKING:
    from tests.emulator.server import BotApiEmulator

Handler = Callable[["BotApiEmulator", dict[str, Any]], Awaitable[Any]]
SEND_METHODS = frozenset({"sendMessage", "sendPhoto", "sendDocument"})
_INLINE_ACTIONS = (
    "url", "callback_data", "web_app", "login_url", "switch_inline_query", "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat", "copy_text", "callback_game", "pay",
)  # fmt: skip
_CHAT_ACTIONS = {
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
    "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note",
}  # fmt: skip
_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same as a "
    "current content and reply markup of the message"
)


# ---- text, markup, targets --------------------------------------------------------------------------
def formatted(
    emu: BotApiEmulator,
    text: str,
    parse_mode: str | None,
    entities: list[dict[str, Any]] | None,
    *,
    limit: int,
) -> tuple[str, list[dict[str, Any]]]:
    """Plain text and entities as Telegram stores them, with its length limits."""
    mode = (parse_mode or "").lower()
    if entities is not None or not mode:
        plain, found = trim(text, entities or [])
    elif mode == "html":
        try:
            plain, found = parse_html(text)
        except EntityParseError as exc:
            raise bad_request(f"can't parse entities: {exc}", violation=True) from exc
    elif mode in ("markdown", "markdownv2"):
        emu.violations.append(f"parse_mode {parse_mode} is not emulated; use HTML")
        plain, found = trim(text, [])
    else:
        raise bad_request(f"unsupported parse_mode {parse_mode!r}", violation=True)
    kind = "caption" if limit == 1024 else "text"
    if len(plain) > limit:  # characters (code points): tdlib checks utf8_length, not UTF-16 units
        raise bad_request(
            "message caption is too long" if kind == "caption" else "message is too long", violation=True
        )
    if kind == "text" and not plain:
        raise bad_request("message text is empty", violation=True)
    return plain, found


def check_markup(markup: dict[str, Any] | None) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(inline keyboard for the Message, reply keyboard / remove / force reply for the chat)."""
    if markup is None:
        return None, None
    if "inline_keyboard" in markup:
        for row in markup["inline_keyboard"]:
            for button in row:
                if not button.get("text"):
                    raise bad_request("inline keyboard button text must be non-empty", violation=True)
                actions = [a for a in _INLINE_ACTIONS if a in button]
                if len(actions) != 1:
                    raise bad_request(
                        "can't parse inline keyboard button: exactly one of the optional fields must be used "
                        f"(button {button['text']!r} has {actions or 'none'})",
                        violation=True,
                    )
                if "callback_data" in button and not 1 <= len(button["callback_data"].encode()) <= 64:
                    raise bad_request(
                        f"BUTTON_DATA_INVALID ({button['callback_data']!r}: 1-64 bytes)", violation=True
                    )
        return markup, None
    if "keyboard" in markup:
        for row in markup["keyboard"]:
            for button in row:
                if not (button.get("text") if isinstance(button, dict) else button):
                    raise bad_request("keyboard button text must be non-empty", violation=True)
    return None, markup


def target_message(emu: BotApiEmulator, p: dict[str, Any], verb: str) -> tuple[ChatState, StoredMessage]:
    if "inline_message_id" in p:
        raise bad_request("inline messages are not emulated", violation=True)
    if "chat_id" not in p or "message_id" not in p:
        raise bad_request("chat_id and message_id are required without inline_message_id", violation=True)
    chat = emu.state.resolve_chat(p["chat_id"])
    emu.failures.check_chat(chat.id)
    message = emu.state.find_message(chat, p["message_id"])
    if message is None:
        raise bad_request(f"message to {verb} not found")
    return chat, message


def message_copy(message: StoredMessage) -> dict[str, Any]:
    return copy.deepcopy(message.raw)


def quoted(message: StoredMessage) -> dict[str, Any]:
    """A message as it appears in reply_to_message (without its own reply_to_message)."""
    raw = message_copy(message)
    raw.pop("reply_to_message", None)
    return raw


# ---- sending ------------------------------------------------------------------------------------------
async def _send(
    emu: BotApiEmulator,
    p: dict[str, Any],
    content: dict[str, Any],
    html: str | None,
    file: StoredFile | None = None,
) -> dict[str, Any]:
    chat = emu.state.resolve_chat(p["chat_id"])
    emu.failures.check_chat(chat.id)
    inline, keyboard = check_markup(p.get("reply_markup"))
    extra: dict[str, Any] = {}
    reply = p.get("reply_parameters")
    if reply is not None:
        target_chat = emu.state.resolve_chat(reply["chat_id"]) if "chat_id" in reply else chat
        target = emu.state.find_message(target_chat, reply["message_id"])
        if target is not None:
            extra["reply_to_message"] = quoted(target)
        elif not reply.get("allow_sending_without_reply"):
            raise bad_request("message to be replied not found")
    emu.failures.check_send(chat.id)
    raw = {
        "message_id": chat.take_message_id(),
        "from": emu.bot_user,
        "chat": chat.chat,
        "date": emu.now(),
        **extra,
        **content,
    }
    if inline is not None:
        raw["reply_markup"] = inline
    message = emu.state.store(
        chat, StoredMessage(raw, from_bot=True, html=html, keyboard=keyboard, file=file)
    )
    if keyboard is not None:
        chat.force_reply = bool(keyboard.get("force_reply"))
        if "keyboard" in keyboard:
            chat.reply_keyboard = keyboard
        elif keyboard.get("remove_keyboard"):
            chat.reply_keyboard = None
    emu.notify()
    return message_copy(message)


def _with_entities(key: str, text: str, entities: list[dict[str, Any]], entities_key: str) -> dict[str, Any]:
    return {key: text, **({entities_key: entities} if entities else {})}


async def send_message(emu: BotApiEmulator, p: dict[str, Any]) -> dict[str, Any]:
    text, entities = formatted(emu, p["text"], p.get("parse_mode"), p.get("entities"), limit=4096)
    html = p["text"] if (p.get("parse_mode") or "").lower() == "html" else None
    return await _send(emu, p, _with_entities("text", text, entities, "entities"), html)


def _input_file(emu: BotApiEmulator, value: UploadedFile | str, folder: str) -> StoredFile:
    if isinstance(value, UploadedFile):
        return emu.state.add_file(value.data, value.filename, value.content_type, folder)
    if value in emu.state.files:
        return emu.state.files[value]
    if value.startswith(("http://", "https://")):
        return emu.state.add_file(b"", value.rsplit("/", 1)[-1] or None, None, folder, url=value)
    raise bad_request("wrong file identifier/HTTP URL specified")


def _caption(emu: BotApiEmulator, p: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    if "caption" not in p:
        return {}, None
    text, entities = formatted(emu, p["caption"], p.get("parse_mode"), p.get("caption_entities"), limit=1024)
    html = p["caption"] if (p.get("parse_mode") or "").lower() == "html" else None
    return (_with_entities("caption", text, entities, "caption_entities") if text else {}), html


async def send_photo(emu: BotApiEmulator, p: dict[str, Any]) -> dict[str, Any]:
    emu.state.resolve_chat(p["chat_id"])
    caption, html = _caption(emu, p)
    stored = _input_file(emu, p["photo"], "photos")
    width, height = image_size(stored.data)
    size = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "width": width,
        "height": height,
    }
    photo = [{**size, "file_size": len(stored.data)}]
    return await _send(emu, p, {"photo": photo, **caption}, html, stored)


async def send_document(emu: BotApiEmulator, p: dict[str, Any]) -> dict[str, Any]:
    emu.state.resolve_chat(p["chat_id"])
    caption, html = _caption(emu, p)
    stored = _input_file(emu, p["document"], "documents")
    document = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.data),
    }
    if stored.filename:
        document["file_name"] = stored.filename
    if stored.mime_type:
        document["mime_type"] = stored.mime_type
    return await _send(emu, p, {"document": document, **caption}, html, stored)


# ---- editing and deleting -----------------------------------------------------------------------------
async def edit_message_text(emu: BotApiEmulator, p: dict[str, Any]) -> dict[str, Any]:
    _chat, message = target_message(emu, p, "edit")
    if not message.from_bot:
        raise bad_request("message can't be edited")
    if "text" not in message.raw:
        raise bad_request("there is no text in the message to edit")
    if "text" not in p:
        raise bad_request("text is required (rich messages are not emulated)", violation=True)
    text, entities = formatted(emu, p["text"], p.get("parse_mode"), p.get("entities"), limit=4096)
    inline, _ = check_markup(p.get("reply_markup"))
    changes = _with_entities("text", text, entities, "entities")
    same_text = message.raw["text"] == text and message.raw.get("entities", []) == entities
    if same_text and message.raw.get("reply_markup") == inline:
        raise bad_request(_NOT_MODIFIED)
    if inline is not None:
        changes["reply_markup"] = inline
    emu.state.edit(message, changes, emu.now(), drop=("entities", "reply_markup"))
    if (p.get("parse_mode") or "").lower() == "html":
        message.html = p["text"]
    else:
        message.html = None
    emu.notify()
    return message_copy(message)


async def edit_message_reply_markup(emu: BotApiEmulator, p: dict[str, Any]) -> dict[str, Any]:
    _chat, message = target_message(emu, p, "edit")
    if not message.from_bot:
        raise bad_request("message can't be edited")
    inline, _ = check_markup(p.get("reply_markup"))
    if message.raw.get("reply_markup") == inline:
        raise bad_request(_NOT_MODIFIED)
    emu.state.edit(message, {"reply_markup": inline} if inline else {}, emu.now(), drop=("reply_markup",))
    emu.notify()
    return message_copy(message)


async def delete_message(emu: BotApiEmulator, p: dict[str, Any]) -> bool:
    chat, message = target_message(emu, p, "delete")
    del chat.messages[message.message_id]
    emu.notify()
    return True


# ---- callbacks, commands, chats, files ----------------------------------------------------------------
async def answer_callback_query(emu: BotApiEmulator, p: dict[str, Any]) -> bool:
    query_id = p["callback_query_id"]
    if query_id not in emu.state.callback_answers or emu.state.callback_answers[query_id] is not None:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    if len(p.get("text", "")) > 200:
        raise bad_request(
            "MESSAGE_TOO_LONG (callback answer text is limited to 200 characters)", violation=True
        )
    emu.state.callback_answers[query_id] = {
        "text": p.get("text"),
        "show_alert": bool(p.get("show_alert", False)),
        "url": p.get("url"),
        "cache_time": p.get("cache_time", 0),
    }
    emu.notify()
    return True


def _scope_and_language(emu: BotApiEmulator, p: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    scope = p.get("scope")
    if scope and "chat_id" in scope:
        emu.state.resolve_chat(scope["chat_id"])
    language = p.get("language_code", "")
    if language and not re.fullmatch(r"[a-z]{2}", language):
        raise bad_request(
            f"invalid language_code {language!r} (two-letter ISO 639-1 or empty)", violation=True
        )
    return scope, language


async def set_my_commands(emu: BotApiEmulator, p: dict[str, Any]) -> bool:
    scope, language = _scope_and_language(emu, p)
    commands = p["commands"]
    if len(commands) > 100:
        raise bad_request("too many commands (at most 100)", violation=True)
    for command in commands:
        if not _COMMAND.match(command["command"]):
            raise bad_request(f"BOT_COMMAND_INVALID ({command['command']!r})", violation=True)
        if not 1 <= len(command["description"]) <= 256:
            raise bad_request(f"BOT_COMMAND_DESCRIPTION_INVALID ({command['command']!r})", violation=True)
    emu.state.set_commands(scope, language, commands)
    return True


async def delete_my_commands(emu: BotApiEmulator, p: dict[str, Any]) -> bool:
    scope, language = _scope_and_language(emu, p)
    emu.state.commands.pop((emu.state.scope_key(scope), language), None)
    return True


async def get_my_commands(emu: BotApiEmulator, p: dict[str, Any]) -> list[dict[str, Any]]:
    scope, language = _scope_and_language(emu, p)
    return emu.state.get_commands(scope, language)


async def get_chat_member(emu: BotApiEmulator, p: dict[str, Any]) -> dict[str, Any]:
    chat = emu.state.resolve_chat(p["chat_id"])
    return emu.state.chat_member(chat, p["user_id"])


async def get_chat(emu: BotApiEmulator, p: dict[str, Any]) -> dict[str, Any]:
    return emu.state.chat_full_info(emu.state.resolve_chat(p["chat_id"]))


async def get_file(emu: BotApiEmulator, p: dict[str, Any]) -> dict[str, Any]:
    stored = emu.state.files.get(p["file_id"])
    if stored is None:
        raise bad_request("invalid file_id")
    if len(stored.data) > 20 * 1024 * 1024:
        raise bad_request("file is too big")
    return stored.as_file()


async def send_chat_action(emu: BotApiEmulator, p: dict[str, Any]) -> bool:
    chat = emu.state.resolve_chat(p["chat_id"])
    emu.failures.check_chat(chat.id)
    if p["action"] not in _CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request", violation=True)
    emu.state.chat_actions.append((chat.id, p["action"], max(chat.messages, default=0)))
    return True


async def set_chat_menu_button(emu: BotApiEmulator, p: dict[str, Any]) -> bool:
    if "chat_id" in p:
        emu.state.resolve_chat(p["chat_id"]).menu_button = p.get("menu_button")
    else:
        emu.default_menu_button = p.get("menu_button")
    return True


async def get_me(emu: BotApiEmulator, p: dict[str, Any]) -> dict[str, Any]:
    return {
        **emu.bot_user,
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


async def ok(emu: BotApiEmulator, p: dict[str, Any]) -> bool:
    return True


HANDLERS: dict[str, Handler] = {
    "getMe": get_me,
    "sendMessage": send_message,
    "sendPhoto": send_photo,
    "sendDocument": send_document,
    "editMessageText": edit_message_text,
    "editMessageReplyMarkup": edit_message_reply_markup,
    "deleteMessage": delete_message,
    "answerCallbackQuery": answer_callback_query,
    "setMyCommands": set_my_commands,
    "deleteMyCommands": delete_my_commands,
    "getMyCommands": get_my_commands,
    "getChatMember": get_chat_member,
    "getChat": get_chat,
    "getFile": get_file,
    "sendChatAction": send_chat_action,
    "setChatMenuButton": set_chat_menu_button,
    "close": ok,
    "logOut": ok,
}

__all__ = ["HANDLERS", "SEND_METHODS", "ApiError"]
