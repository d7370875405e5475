"""The Bot API emulator answers like Telegram: shapes checked against the reference, errors as PTB expects."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    ChatMemberAdministrator,
    ChatMemberBanned,
    ChatMemberLeft,
    ChatMemberMember,
    ChatMemberOwner,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
)
from telegram.error import BadRequest, Conflict, Forbidden, RetryAfter

from tests.emulator import BotApiEmulator

pytestmark = pytest.mark.asyncio


@pytest.fixture(autouse=True)
def ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    """PTB 22 warns on every RetryAfter unless time periods are timedeltas (and warnings are errors here)."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator() as emulator:
        yield emulator


@pytest.fixture
async def bot(emu: BotApiEmulator) -> AsyncIterator[Bot]:
    async with Bot(emu.token, base_url=emu.base_url, base_file_url=emu.base_file_url) as b:
        yield b


async def call(emu: BotApiEmulator, method: str, token: str | None = None, **params: Any) -> tuple[int, dict]:
    url = f"{emu.base_url}{token or emu.token}/{method}"
    async with aiohttp.ClientSession() as http, http.post(url, json=params) as response:
        return response.status, await response.json()


def seconds(error: RetryAfter) -> float:
    value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else value


async def test_get_me_has_the_shape_of_the_reference(emu: BotApiEmulator, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.first_name, me.is_bot) == (123456, "engage_test_bot", "EngageBot", True)
    status, body = await call(emu, "getMe")
    assert status == 200 and body["ok"] is True
    assert emu.spec.check_object(body["result"], "User") == []
    assert emu.base_url.endswith("/bot") and emu.base_file_url.endswith("/file/bot")
    emu.assert_no_violations()


async def test_wrong_token_and_unknown_method(emu: BotApiEmulator) -> None:
    status, body = await call(emu, "getMe", token="1:WRONG")
    assert (status, body) == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    status, body = await call(emu, "sendMesage", chat_id=1, text="typo")
    assert (status, body) == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
    assert any("sendMesage" in v for v in emu.violations)


async def test_missing_unknown_and_mistyped_parameters_are_rejected(emu: BotApiEmulator) -> None:
    emu.user(7, "Ann")
    status, body = await call(emu, "sendMessage", chat_id=7)
    assert (
        status == 400 and body["description"].startswith("Bad Request:") and "'text'" in body["description"]
    )
    assert len(emu.violations) == 1 and "required" in emu.violations[0]

    status, body = await call(emu, "sendMessage", chat_id=7, text="hi", colour="blue")
    assert status == 400 and "unknown parameter 'colour'" in body["description"]

    status, body = await call(emu, "sendMessage", chat_id=7, text=5)
    assert status == 400 and "expected String" in body["description"]

    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a", "colour": "red"}]]}
    status, body = await call(emu, "sendMessage", chat_id=7, text="hi", reply_markup=markup)
    assert status == 400 and "colour" in body["description"]
    assert len(emu.violations) == 4
    with pytest.raises(AssertionError, match="Bot API violations"):
        emu.assert_no_violations()


async def test_form_encoded_and_query_string_parameters(emu: BotApiEmulator) -> None:
    emu.user(7, "Ann")
    markup = '{"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}'
    async with aiohttp.ClientSession() as http:
        form = {"chat_id": "7", "text": "form", "reply_markup": markup, "disable_notification": "true"}
        async with http.post(f"{emu.base_url}{emu.token}/sendMessage", data=form) as response:
            body = await response.json()
        assert body["ok"] and body["result"]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "a"
        async with http.get(f"{emu.base_url}{emu.token}/sendMessage?chat_id=7&text=query") as response:
            assert (await response.json())["result"]["text"] == "query"
    assert [m.text for m in emu.user(7, "Ann").messages()] == ["form", "query"]
    emu.assert_no_violations()


async def test_html_is_parsed_like_telegram(emu: BotApiEmulator, bot: Bot) -> None:
    ann = emu.user(7, "Ann")
    sent = await bot.send_message(7, "<b>Tom</b> &amp; <i>Jerry</i> 😀 <u>x</u>", parse_mode="HTML")
    assert sent.text == "Tom & Jerry 😀 x"
    entities = [(e.type, e.offset, e.length) for e in sent.entities]
    assert entities == [("bold", 0, 3), ("italic", 6, 5), ("underline", 15, 1)]  # 😀 is two UTF-16 units
    assert ann.last().html == "<b>Tom</b> &amp; <i>Jerry</i> 😀 <u>x</u>"

    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(7, "a <x>tag</x>", parse_mode="HTML")
    assert len(emu.violations) == 1 and "Unsupported start tag" in emu.violations[0]
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(7, "Tom & Jerry", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(7, "<b>open", parse_mode="HTML")
    assert ann.last().text == "Tom & Jerry 😀 x"  # nothing else was sent


async def test_text_and_button_limits(emu: BotApiEmulator, bot: Bot) -> None:
    emu.user(7, "Ann")
    await bot.send_message(7, "x" * 4096)
    with pytest.raises(BadRequest, match=r"(?i)too long"):
        await bot.send_message(7, "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)empty"):
        await bot.send_message(7, "<b> </b>", parse_mode="HTML")
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Go", callback_data="é" * 33)]])
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(7, "buttons", reply_markup=markup)
    assert len(emu.violations) == 3


async def test_long_polling_returns_as_soon_as_an_update_arrives(emu: BotApiEmulator, bot: Bot) -> None:
    ann = emu.user(7, "Ann")
    await ann.send("one")
    await ann.send("two")
    first = await bot.get_updates(timeout=0)
    assert [u.message.text for u in first] == ["one", "two"]
    again = await bot.get_updates(offset=first[0].update_id + 1, timeout=0)
    assert [u.message.text for u in again] == ["two"]
    assert emu.updates_acknowledged == [first[0].update_id]

    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(offset=first[1].update_id + 1, timeout=10))
    await asyncio.sleep(0.1)
    assert not poll.done()
    await ann.send("/start@engage_test_bot")
    updates = await asyncio.wait_for(poll, 5)
    assert time.monotonic() - started < 3
    message = updates[0].message
    assert message.text == "/start@engage_test_bot"
    assert [(e.type, e.offset, e.length) for e in message.entities] == [("bot_command", 0, 22)]
    assert await bot.get_updates(offset=updates[0].update_id + 1, timeout=0) == ()
    emu.assert_no_violations()


async def test_allowed_updates_filter_what_is_delivered(emu: BotApiEmulator, bot: Bot) -> None:
    ann = emu.user(7, "Ann")
    sent = await bot.send_message(7, "pick", reply_markup=InlineKeyboardMarkup.from_button(
        InlineKeyboardButton("A", callback_data="a")
    ))  # fmt: skip
    await ann.send("text")
    await ann.press("A")
    updates = await bot.get_updates(allowed_updates=["callback_query"], timeout=0)
    assert [u.callback_query.data for u in updates] == ["a"]
    assert updates[0].callback_query.message.message_id == sent.message_id


async def test_429_surfaces_as_retry_after(emu: BotApiEmulator, bot: Bot) -> None:
    emu.user(7, "Ann")
    emu.throttle_next(2, retry_after=7)
    for _ in range(2):
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(7, "hi")
        assert seconds(caught.value) == 7
    await bot.send_message(7, "hi")
    assert emu.stats["429"] == 2
    assert [(chat, method, ok) for _, chat, method, ok in emu.send_log] == [
        (7, "sendMessage", False),
        (7, "sendMessage", False),
        (7, "sendMessage", True),
    ]
    status, body = await call(emu, "getMe")
    emu.throttle_next(1, retry_after=3)
    status, body = await call(emu, "sendMessage", chat_id=7, text="x")
    assert (status, body) == (
        429,
        {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 3",
         "parameters": {"retry_after": 3}},
    )  # fmt: skip


async def test_blocked_and_failing_chats(emu: BotApiEmulator, bot: Bot) -> None:
    emu.user(7, "Ann")
    emu.block_chat(7)
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(7, "hi")
    emu.unblock_chat(7)
    await bot.send_message(7, "hi")
    emu.fail_chat(7)
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(7, "hi")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(999, "nobody")
    emu.assert_no_violations()


async def test_enforced_limits_per_chat_group_and_globally(emu: BotApiEmulator, bot: Bot) -> None:
    emu.enforce_limits(global_per_second=5, per_chat_per_second=1, per_group_per_minute=3)
    for uid in range(1, 8):
        emu.user(uid, f"U{uid}")
    group = emu.group(-100, "Group")
    await bot.send_message(1, "first")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(1, "second in the same second")
    assert seconds(caught.value) >= 1
    for _ in range(3):
        await bot.send_message(group.chat_id, "group")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(group.chat_id, "fourth in a minute")
    assert 1 <= seconds(caught.value) <= 60
    await bot.send_message(2, "fifth this second")  # 1 + 3 + 1 = the global 5
    with pytest.raises(RetryAfter):
        await bot.send_message(3, "sixth this second")
    assert emu.stats["429"] == 3
    ok = [entry for entry in emu.send_log if entry[3]]
    assert len(ok) == 5 and ok[-1][0] - ok[0][0] < 1


async def test_webhook_delivery_with_the_secret_header(emu: BotApiEmulator, bot: Bot) -> None:
    received: list[tuple[str | None, dict]] = []
    arrived = asyncio.Event()

    async def hook(request: web.Request) -> web.Response:
        received.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json()))
        arrived.set()
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        ann = emu.user(7, "Ann")
        assert await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cret-Token_1")
        info = await bot.get_webhook_info()
        assert info.url.endswith("/hook") and info.pending_update_count == 0
        with pytest.raises(Conflict, match=r"(?i)webhook is active"):
            await bot.get_updates()
        update = await ann.send("/start")
        await asyncio.wait_for(arrived.wait(), 5)
        assert received == [("s3cret-Token_1", update)]
        assert emu.updates_acknowledged == [update["update_id"]]

        assert await bot.delete_webhook()
        await ann.send("polling again")
        assert [u.message.text for u in await bot.get_updates(timeout=0)] == ["polling again"]
        assert (await bot.get_webhook_info()).url == ""
    finally:
        await runner.cleanup()
    emu.assert_no_violations()


async def test_get_chat_member_returns_the_right_subtype(emu: BotApiEmulator, bot: Bot) -> None:
    group = emu.group(-1001, "Staff")
    expected = {
        "creator": ChatMemberOwner,
        "administrator": ChatMemberAdministrator,
        "member": ChatMemberMember,
        "left": ChatMemberLeft,
        "kicked": ChatMemberBanned,
    }
    for uid, status in enumerate(expected, start=1):
        emu.user(uid, f"U{uid}")
        if status != "left":
            emu.set_member(group.chat_id, uid, status)
    for uid, (status, cls) in enumerate(expected.items(), start=1):
        member = await bot.get_chat_member(group.chat_id, uid)
        assert type(member) is cls and member.status == status and member.user.id == uid
    admin = await bot.get_chat_member(group.chat_id, 2)
    assert admin.can_delete_messages and not admin.can_be_edited
    chat = await bot.get_chat(group.chat_id)
    assert (chat.id, chat.type, chat.title) == (-1001, "supergroup", "Staff")
    emu.assert_no_violations()  # each ChatMember* and the ChatFullInfo validated against the reference


async def test_commands_per_scope_and_language(emu: BotApiEmulator, bot: Bot) -> None:
    scope = BotCommandScopeAllPrivateChats()
    await bot.set_my_commands([BotCommand("start", "Start"), BotCommand("help", "Help")], scope=scope)
    await bot.set_my_commands([BotCommand("start", "开始")], scope=scope, language_code="zh")
    assert [c.command for c in await bot.get_my_commands(scope=scope)] == ["start", "help"]
    assert await bot.get_my_commands() == ()
    assert emu.commands({"type": "all_private_chats"}, "zh") == [{"command": "start", "description": "开始"}]
    await bot.delete_my_commands(scope=scope, language_code="zh")
    assert emu.commands({"type": "all_private_chats"}, "zh") == []
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Bad-Name", "x")])
    assert len(emu.violations) == 1


async def test_object_validation_finds_what_is_wrong(emu: BotApiEmulator) -> None:
    spec = emu.spec
    assert spec.check_object({"id": 1, "is_bot": False, "first_name": "A"}, "User") == []
    problems = spec.check_object({"id": "1", "first_name": "A", "nick": "x"}, "User")
    assert (
        len(problems) == 3 and any("'is_bot'" in p for p in problems) and any("nick" in p for p in problems)
    )
    user = {"id": 1, "is_bot": False, "first_name": "A"}
    assert spec.check_object({"status": "member", "user": user}, "ChatMember") == []
    assert spec.check_object({"status": "administrator", "user": user}, "ChatMember") != []
    assert spec.check_object({"type": "all_private_chats"}, "BotCommandScope") == []
    assert spec.check_object({"type": "chat"}, "BotCommandScope") != []
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    assert spec.check_value(markup, ["InlineKeyboardMarkup", "ReplyKeyboardMarkup"], "reply_markup") == []


async def test_photos_are_stored_and_files_downloadable(emu: BotApiEmulator, bot: Bot) -> None:
    ann = emu.user(7, "Ann")
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + (40).to_bytes(4, "big") + (30).to_bytes(4, "big") + b"rest"
    sent = await bot.send_photo(7, png, caption="<b>pic</b>", parse_mode="HTML")
    assert (sent.photo[-1].width, sent.photo[-1].height, sent.caption) == (40, 30, "pic")
    assert ann.last().photo == png and ann.last().entities == [{"type": "bold", "offset": 0, "length": 3}]
    again = await bot.send_photo(7, sent.photo[-1].file_id)  # by file_id
    assert again.photo[-1].file_id == sent.photo[-1].file_id
    update = await ann.send_document("a.csv", b"x,y\n1,2\n")
    file = await bot.get_file(update["message"]["document"]["file_id"])
    assert bytes(await file.download_as_bytearray()) == b"x,y\n1,2\n"
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_photo(7, "not-a-file-id")
    emu.assert_no_violations()
