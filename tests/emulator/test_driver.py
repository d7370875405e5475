"""The test driver acts as people against a real python-telegram-bot Application polling the emulator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    filters,
)

from tests.emulator import BotApiEmulator
from tests.emulator.settling import settle_on

pytestmark = pytest.mark.asyncio
CHOICE = InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="yes"), InlineKeyboardButton(
    "No", callback_data="no"
)]])  # fmt: skip


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text("Pick <b>one</b>, please", reply_markup=CHOICE)


async def chosen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    await query.answer(f"Noted: {query.data}")
    await query.edit_message_text(f"You chose <i>{query.data}</i>")
    keyboard = ReplyKeyboardMarkup(
        [[KeyboardButton("Share", request_contact=True)], ["Skip"]], one_time_keyboard=True
    )
    await query.message.chat.send_message("Your phone?", reply_markup=keyboard)


async def contact(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    await message.reply_text(
        f"Got {message.contact.phone_number}", reply_markup=ReplyKeyboardRemove(), do_quote=True
    )


async def location(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    where = update.effective_message.location
    await update.effective_message.reply_text(
        f"At {where.latitude}, {where.longitude} ±{where.horizontal_accuracy}",
        reply_markup=ReplyKeyboardRemove(),
    )


async def document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    file = await message.document.get_file()
    data = bytes(await file.download_as_bytearray())
    await message.reply_document(data.upper(), filename="UPPER.txt", caption=f"<b>{len(data)}</b> bytes")


async def text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message.reply_to_message is not None:
        await message.reply_text(f"You replied to {message.reply_to_message.message_id}")
    elif message.text == "where":
        button = KeyboardButton("Send my location", request_location=True)
        keyboard = ReplyKeyboardMarkup([[button]], one_time_keyboard=True)
        await message.reply_text("Where are you?", reply_markup=keyboard)
    elif message.text == "delete":
        sent = await message.reply_text("short-lived")
        await sent.delete()
    else:
        await message.reply_text(f"Echo: {message.text}", do_quote=False)


@pytest.fixture
async def app(emu: BotApiEmulator) -> AsyncIterator[Application]:
    application = (
        Application.builder()
        .token(emu.token)
        .base_url(emu.base_url)
        .base_file_url(emu.base_file_url)
        .defaults(Defaults(parse_mode=ParseMode.HTML))
        .build()
    )
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CallbackQueryHandler(chosen))
    application.add_handler(MessageHandler(filters.CONTACT, contact))
    application.add_handler(MessageHandler(filters.LOCATION, location))
    application.add_handler(MessageHandler(filters.Document.ALL, document))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, text))

    settle_on(application, emu)
    await application.initialize()
    await application.updater.start_polling(poll_interval=0.0, timeout=5)
    await application.start()
    yield application
    emu.settle = None
    await application.updater.stop()
    await application.stop()
    await application.shutdown()


async def test_a_conversation_with_buttons_edits_keyboards_and_replies(
    emu: BotApiEmulator, app: Application
) -> None:
    ann = emu.user(101, "Ann", username="ann")
    update = await ann.send("/start")
    entity = update["message"]["entities"][0]
    assert (entity["type"], entity["offset"], entity["length"]) == ("bot_command", 0, 6)
    pick = ann.last()
    assert pick.text == "Pick one, please" and pick.html == "Pick <b>one</b>, please"
    assert pick.entities == [{"type": "bold", "offset": 5, "length": 3}]
    assert pick.buttons == [["Yes", "No"]] and pick.button_data == {"Yes": "yes", "No": "no"}

    answer = await ann.press("Yes")
    assert answer == {"text": "Noted: yes", "show_alert": False, "url": None, "cache_time": 0}
    edited = ann.messages()[0]
    assert (edited.message_id, edited.text, edited.buttons, edited.edits) == (
        pick.message_id,
        "You chose yes",
        [],
        1,
    )
    phone = ann.last()
    assert phone.reply_keyboard and phone.reply_keyboard.rows == [["Share"], ["Skip"]]
    assert phone.reply_keyboard.request_contact and phone.reply_keyboard.contact_buttons == ["Share"]
    assert ann.keyboard() is not None

    with pytest.raises(AssertionError, match="no button 'Maybe'"):
        await ann.press("Maybe")

    shared = await ann.share_contact("+44 7700 900123")
    assert shared["message"]["contact"]["user_id"] == 101
    got = ann.last()
    assert got.text == "Got +44 7700 900123" and got.reply_to_message_id == shared["message"]["message_id"]
    assert ann.keyboard() is None  # removed

    await ann.reply(got, "this one")
    assert ann.last().text == f"You replied to {got.message_id}"
    ids = [m.message_id for m in ann.messages()]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


async def test_documents_travel_both_ways(emu: BotApiEmulator, app: Application) -> None:
    bo = emu.user(102, "Bo")
    await bo.send_document("notes.txt", b"hello", caption="mine")
    reply = bo.last()
    assert (reply.document, reply.filename, reply.text) == (b"HELLO", "UPPER.txt", "5 bytes")
    assert reply.photo is None and reply.raw["document"]["file_size"] == 5


async def test_forged_presses_deletes_and_groups(emu: BotApiEmulator, app: Application) -> None:
    cy = emu.user(103, "Cy")
    await cy.send("/start")
    old = cy.last()
    await cy.press("No", message=old)
    answer = await cy.press_data("yes", old)  # the keyboard is gone, but a forged press still arrives
    assert answer is not None and answer["text"] == "Noted: yes"

    before = len(cy.messages())
    await cy.send("delete")
    assert len(cy.messages()) == before  # sent and deleted

    group = emu.group(-100777, "Team")
    await cy.send("hello team", chat=group)
    assert group.last().text == "Echo: hello team" and cy.last(chat=group).chat_id == -100777
    member = await app.bot.get_chat_member(group.chat_id, 103)
    assert member.status == "member"


async def test_a_location_shared_with_the_button_or_the_attachment_menu(
    emu: BotApiEmulator, app: Application
) -> None:
    eve = emu.user(105, "Eve")
    with pytest.raises(AssertionError, match="no share-location button"):
        await eve.share_location(48.137, 11.576)
    await eve.send("where")
    keyboard = eve.last().reply_keyboard
    assert keyboard and keyboard.request_location and keyboard.location_buttons == ["Send my location"]
    assert not keyboard.request_contact
    shared = await eve.share_location(48.137, 11.576, horizontal_accuracy=20)
    sent = shared["message"]["location"]
    assert sent == {"latitude": 48.137, "longitude": 11.576, "horizontal_accuracy": 20.0}
    assert eve.last().text == "At 48.137, 11.576 ±20.0"
    assert eve.keyboard() is None
    await eve.share_location(-33.87, 151.21, via_button=False)  # the attachment menu needs no button
    assert eve.last().text == "At -33.87, 151.21 ±None"
    with pytest.raises(AssertionError, match="not a point on earth"):
        await eve.share_location(91, 0, via_button=False)
    group = emu.group(-100778, "Walkers")
    with pytest.raises(AssertionError, match="private chats only"):
        await eve.share_location(1, 1, chat=group)


async def test_wait_for_wakes_on_new_messages(emu: BotApiEmulator) -> None:
    dee = emu.user(104, "Dee")
    async with Bot(emu.token, base_url=emu.base_url) as bot:
        waiting = asyncio.create_task(dee.wait_for(lambda m: m.text == "second", timeout=5))
        await bot.send_message(104, "first")
        await asyncio.sleep(0)
        assert not waiting.done()
        await bot.send_message(104, "second")
        found = await waiting
        assert found.text == "second"
        sent = await bot.send_message(104, "to edit")
        edited = asyncio.create_task(dee.wait_for(lambda m: m.edits > 0))
        await bot.edit_message_text("edited", chat_id=104, message_id=sent.message_id)
        assert (await edited).text == "edited"
        with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
            await bot.edit_message_text("edited", chat_id=104, message_id=sent.message_id)
        with pytest.raises(BadRequest, match=r"(?i)query is too old"):
            await bot.answer_callback_query("no-such-query")
    with pytest.raises(AssertionError, match="no matching bot message"):
        await dee.wait_for(lambda m: m.text == "never", timeout=0.05)
