"""People can do only what Telegram lets them, and the bot sees what Telegram would send: command
entities, length limits, edits, membership changes, deleted and inaccessible messages, forged presses."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, TypeHandler

from tests.emulator import BotApiEmulator
from tests.emulator.settling import settle_on

pytestmark = pytest.mark.asyncio
PICK = InlineKeyboardMarkup.from_button(InlineKeyboardButton("Go", callback_data="go"))
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + (40).to_bytes(4, "big") + (30).to_bytes(4, "big") + b"rest"


async def award(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(f"award {context.args}", do_quote=False)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text("Pick", reply_markup=PICK, do_quote=False)


async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.callback_query.answer(f"got {update.callback_query.data}")


async def run_app(
    emu: BotApiEmulator, allowed_updates: list[str] | None
) -> AsyncIterator[tuple[Application, list[Update]]]:
    application = Application.builder().token(emu.token).base_url(emu.base_url).build()
    seen: list[Update] = []

    async def record(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append(update)

    application.add_handler(TypeHandler(Update, record), group=-1)
    application.add_handler(CommandHandler("award", award))
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CallbackQueryHandler(answer))
    settle_on(application, emu)
    await application.initialize()
    await application.updater.start_polling(poll_interval=0.0, timeout=5, allowed_updates=allowed_updates)
    await application.start()
    yield application, seen
    emu.settle = None
    await application.updater.stop()
    await application.stop()
    await application.shutdown()


@pytest.fixture
async def app(emu: BotApiEmulator) -> AsyncIterator[tuple[Application, list[Update]]]:
    async for pair in run_app(emu, Update.ALL_TYPES):
        yield pair


@pytest.fixture
async def bot(emu: BotApiEmulator) -> AsyncIterator[Bot]:
    async with Bot(emu.token, base_url=emu.base_url, base_file_url=emu.base_file_url) as b:
        yield b


def spans(entities: list[dict]) -> list[tuple[str, int, int]]:
    return [(e["type"], e["offset"], e["length"]) for e in entities]


# ---- 1. commands --------------------------------------------------------------------------------------
async def test_command_entities_in_texts_and_captions(
    emu: BotApiEmulator, app: tuple[Application, list[Update]]
) -> None:
    _, seen = app
    ann = emu.user(7, "Ann")
    update = await ann.send("/award- 1 500 x")
    assert spans(update["message"]["entities"]) == [("bot_command", 0, 6)]
    assert ann.last().text == "award ['1', '500', 'x']"  # PTB's CommandHandler took "/award"
    update = await ann.send("/Award@engage_test_bot 1")
    assert spans(update["message"]["entities"]) == [("bot_command", 0, 22)]
    update = await ann.send("hi /award 2")
    assert spans(update["message"]["entities"]) == [("bot_command", 3, 6)]
    assert ann.last().text == "award ['1']"  # PTB reads only a command at offset 0
    update = await ann.send("a/b and /-x")
    assert "entities" not in update["message"]

    stranger = emu.user(8, "Sid")
    group = emu.group(-1005, "Strangers welcome")
    update = await stranger.send_document("a.txt", b"data", caption="/award.x", chat=group)
    message = update["message"]
    assert spans(message["caption_entities"]) == [("bot_command", 0, 6)]
    assert group.status(stranger) == "member"  # first seen there: let in
    update = await stranger.send_photo(PNG, caption="look /award", chat=group)
    photo = update["message"]["photo"][0]
    assert (photo["width"], photo["height"]) == (40, 30)
    assert spans(update["message"]["caption_entities"]) == [("bot_command", 5, 6)]
    update = await ann.send_photo(PNG)
    assert "caption" not in update["message"]
    received = seen[-1].message
    assert received.photo[0].file_size == len(PNG) and received.chat.type == "private"
    assert emu.file_bytes(received.photo[0].file_id) == PNG


# ---- 2. length limits ---------------------------------------------------------------------------------
async def test_people_cannot_send_what_clients_would_not(emu: BotApiEmulator) -> None:
    ann = emu.user(7, "Ann")
    await ann.send("x" * 4096)
    await ann.send("😀" * 4096)  # 8192 UTF-16 units, but 4096 characters: Telegram counts characters
    with pytest.raises(AssertionError, match="4097 characters"):
        await ann.send("x" * 4097)
    with pytest.raises(AssertionError, match="empty"):
        await ann.send("  ")
    await ann.send_document("a.txt", b"x", caption="c" * 1024)
    with pytest.raises(AssertionError, match="1025 characters"):
        await ann.send_document("a.txt", b"x", caption="c" * 1025)
    with pytest.raises(AssertionError, match="at most 1024"):
        await ann.send_photo(PNG, caption="c" * 1025)
    with pytest.raises(AssertionError, match="private chat"):
        await ann.send("hello", chat=emu.user(8, "Bo").user_id)
    assert len(emu.state.chats[7].messages) == 3  # nothing refused was stored or delivered
    assert len(emu.updates.pending) == 3


async def test_the_bot_side_limits_are_telegrams(emu: BotApiEmulator, bot: Bot) -> None:
    emu.user(7, "Ann")
    await bot.send_message(7, "😀" * 4096)  # 4096 characters (8192 UTF-16 code units) pass
    sent = await bot.send_message(7, "x" * 4096)
    with pytest.raises(BadRequest, match=r"^Message is too long$"):
        await bot.send_message(7, "x" * 4097)
    with pytest.raises(BadRequest, match=r"^Message is too long$"):
        await bot.edit_message_text("y" * 4097, chat_id=7, message_id=sent.message_id)
    with pytest.raises(BadRequest, match=r"^Message caption is too long$"):
        await bot.send_photo(7, PNG, caption="c" * 1025)
    await bot.edit_message_text("😀" * 4096, chat_id=7, message_id=sent.message_id)
    assert len(emu.violations) == 3
    emu.violations.clear()


# ---- 3. edits -----------------------------------------------------------------------------------------
async def test_an_edit_delivers_an_edited_message(
    emu: BotApiEmulator, app: tuple[Application, list[Update]]
) -> None:
    _, seen = app
    emu.clock = lambda: 1_800_000_000
    ann = emu.user(7, "Ann")
    sent = await ann.send("hello")
    emu.clock = lambda: 1_800_000_060
    update = await ann.edit(sent, "now /award 5")
    edited, original = update["edited_message"], sent["message"]
    for key in ("message_id", "chat", "from", "date"):
        assert edited[key] == original[key]
    assert edited["edit_date"] == 1_800_000_060 and edited["text"] == "now /award 5"
    assert spans(edited["entities"]) == [("bot_command", 4, 6)]
    assert original["text"] == "hello" and "edit_date" not in original  # what send returned is kept
    stored = emu.state.chats[7].messages[original["message_id"]]
    assert stored.raw["text"] == "now /award 5" and len(stored.versions) == 1
    got = seen[-1]
    assert got.edited_message is not None and got.edited_message.text == "now /award 5"

    update = await ann.edit(update, "plain again")
    assert "entities" not in update["edited_message"]
    with pytest.raises(AssertionError, match="changes nothing"):
        await ann.edit(sent, "plain again")
    with pytest.raises(AssertionError, match="4097 characters"):
        await ann.edit(sent, "x" * 4097)
    with pytest.raises(AssertionError, match="their own"):
        await emu.user(8, "Bo").edit(sent, "mine now")

    document = await ann.send_document("a.txt", b"x", caption="old")
    update = await ann.edit(document, "/award 1")
    assert update["edited_message"]["caption"] == "/award 1"
    assert spans(update["edited_message"]["caption_entities"]) == [("bot_command", 0, 6)]


# ---- 4. membership ------------------------------------------------------------------------------------
async def test_membership_changes_arrive_as_chat_member_updates(
    emu: BotApiEmulator, app: tuple[Application, list[Update]]
) -> None:
    application, seen = app
    owner, ann, bo = emu.user(1, "Olga"), emu.user(7, "Ann"), emu.user(8, "Bo")
    group = emu.group(-1009, "Club")
    group.set_member(owner.user_id, "creator")

    update = await group.join(ann)
    change = update["chat_member"]
    assert change["from"]["id"] == 7 and change["chat"]["id"] == -1009
    assert (change["old_chat_member"]["status"], change["new_chat_member"]["status"]) == ("left", "member")
    assert seen[-1].chat_member is not None and seen[-1].chat_member.new_chat_member.status == "member"
    await ann.send("hi all", chat=group)

    update = await group.promote(ann)
    new = update["chat_member"]["new_chat_member"]
    assert new["status"] == "administrator" and update["chat_member"]["from"]["id"] == 1
    assert (await application.bot.get_chat_member(-1009, 7)).status == "administrator"

    await bo.send("hello", chat=group)  # never seen there: joins on the fly
    with pytest.raises(AssertionError, match="not an administrator"):
        await group.kick(ann, by=bo)
    update = await group.kick(bo, by=ann)
    old, new = update["chat_member"]["old_chat_member"], update["chat_member"]["new_chat_member"]
    assert (old["status"], new["status"], new["until_date"]) == ("member", "kicked", 0)
    assert update["chat_member"]["from"]["id"] == 7
    assert (await application.bot.get_chat_member(-1009, 8)).status == "kicked"
    with pytest.raises(AssertionError, match="banned"):
        await bo.send("let me back", chat=group)
    with pytest.raises(AssertionError, match="can't join"):
        await group.join(bo)

    update = await group.leave(ann)
    assert update["chat_member"]["old_chat_member"]["status"] == "administrator"
    with pytest.raises(AssertionError, match="left"):
        await ann.send("one more thing", chat=group)
    with pytest.raises(AssertionError, match="left"):
        await ann.send_document("a.txt", b"x", chat=group)
    assert [u.chat_member.new_chat_member.status for u in seen if u.chat_member] == [
        "member",
        "administrator",
        "kicked",
        "left",
    ]


async def test_chat_member_updates_are_dropped_unless_asked_for(emu: BotApiEmulator) -> None:
    group = emu.group(-1009, "Club")
    ann = emu.user(7, "Ann")
    async for _, seen in run_app(emu, None):  # PTB's default: Telegram's, without chat_member
        await group.join(ann)  # returns at once: there is nothing the bot will process
        await ann.send("hi", chat=group)
        assert [u.effective_message.text for u in seen] == ["hi"]
        assert group.status(ann) == "member"


async def test_banned_and_departed_users_cannot_press(emu: BotApiEmulator, bot: Bot) -> None:
    group = emu.group(-1009, "Club")
    ann, bo = emu.user(7, "Ann"), emu.user(8, "Bo")
    group.set_member(1, "creator")
    emu.user(1, "Olga")
    await group.join(ann)
    await group.join(bo)
    await bot.send_message(-1009, "pick", reply_markup=PICK)
    await group.leave(ann)
    await group.kick(bo, by=emu.user(1, "Olga"))
    with pytest.raises(AssertionError, match="left the private group"):
        await ann.press("Go", chat=group)
    with pytest.raises(AssertionError, match="banned"):
        await bo.press("Go", chat=group)
    emu.state.chats[-1009].chat["username"] = "club"  # a public group: anyone may look and press
    await ann.press("Go", chat=group)
    with pytest.raises(AssertionError, match="banned"):
        await bo.press("Go", chat=group)


# ---- 5. deleted and inaccessible messages -------------------------------------------------------------
async def test_deleted_messages_cannot_be_edited_and_press_as_inaccessible(
    emu: BotApiEmulator, app: tuple[Application, list[Update]]
) -> None:
    application, seen = app
    ann = emu.user(7, "Ann")
    await ann.send("/start")
    pick = ann.last()
    bot = application.bot
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("Pick", chat_id=7, message_id=pick.message_id, reply_markup=PICK)

    answer = await ann.press_data("go", pick, inaccessible=True)
    query = seen[-1].callback_query
    assert answer is not None and answer["text"] == "got go"
    assert not query.message.is_accessible and query.message.message_id == pick.message_id
    assert seen[-1].callback_query.message.chat.id == 7

    await ann.delete_message(pick)
    assert ann.messages() == []
    with pytest.raises(BadRequest, match=r"^Message to edit not found$"):
        await bot.edit_message_text("changed", chat_id=7, message_id=pick.message_id)
    with pytest.raises(BadRequest, match=r"^Message to edit not found$"):
        await bot.edit_message_reply_markup(chat_id=7, message_id=pick.message_id, reply_markup=None)
    with pytest.raises(BadRequest, match=r"^Message to delete not found$"):
        await bot.delete_message(7, pick.message_id)
    update_count = len(seen)
    await ann.press_data("go", pick)  # a client still showing the deleted message
    assert len(seen) == update_count + 1 and not seen[-1].callback_query.message.is_accessible
    with pytest.raises(AssertionError, match="no message"):
        await ann.delete_message(pick)


async def test_in_groups_only_admins_delete_the_bots_messages(emu: BotApiEmulator, bot: Bot) -> None:
    group = emu.group(-1009, "Club")
    ann, adam = emu.user(7, "Ann"), emu.user(9, "Adam")
    group.set_member(7, "member")
    group.set_member(9, "administrator")
    first = await bot.send_message(-1009, "one")
    second = await bot.send_message(-1009, "two")
    with pytest.raises(AssertionError, match="can't delete"):
        await ann.delete_message(first.message_id, chat=group)
    await adam.delete_message(first.message_id, chat=group)
    await group.delete_message(second.message_id)
    assert group.messages() == []
    with pytest.raises(BadRequest, match=r"^Message to edit not found$"):
        await bot.edit_message_text("x", chat_id=-1009, message_id=second.message_id)


# ---- 6. forged presses --------------------------------------------------------------------------------
async def test_forged_presses_carry_any_data_up_to_64_bytes(
    emu: BotApiEmulator, app: tuple[Application, list[Update]]
) -> None:
    _, seen = app
    ann = emu.user(7, "Ann")
    await ann.send("/start")
    pick = ann.last()
    for data in ("not-on-the-message", "é" * 32, "x" * 64):
        answer = await ann.press_data(data, pick)
        assert answer is not None and answer["text"] == f"got {data}"
        assert seen[-1].callback_query.message.message_id == pick.message_id
    for data in ("é" * 33, "x" * 65):
        with pytest.raises(AssertionError, match="at most 64"):
            await ann.press_data(data, pick)
