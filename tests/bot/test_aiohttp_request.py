"""bot.aiohttp_request against the Bot API emulator: python-telegram-bot's own mapping of Telegram's
answers to its errors still applies, network failures become TimedOut / NetworkError as with httpx,
and files still go as multipart."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.aiohttp_request import AiohttpRequest
from tests.emulator import BotApiEmulator


@pytest.fixture
async def bot(emu: BotApiEmulator) -> AsyncIterator[Bot]:
    emu.user(7, "Ann")
    request = AiohttpRequest(connection_pool_size=8)
    async with Bot(emu.token, base_url=emu.base_url, request=request) as real_bot:
        yield real_bot


async def test_messages_go_out_and_come_back_as_ptb_objects(emu: BotApiEmulator, bot: Bot) -> None:
    assert bot.username == emu.bot_username  # getMe, on initialize
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Yes ✓", callback_data="y:1")]])
    message = await bot.send_message(7, "<b>Hi</b> &amp; welcome", parse_mode="HTML", reply_markup=markup)
    assert message.chat.id == 7 and message.text == "Hi & welcome"
    stored = next(iter(emu.state.chats[7].messages.values()))
    assert stored.raw["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "y:1"


async def test_telegrams_errors_are_ptbs_errors(emu: BotApiEmulator, bot: Bot) -> None:
    emu.user(8, "Bo")
    emu.user(9, "Cy")
    emu.block_chat(8)
    emu.fail_chat(9, 400, "Bad Request: chat not found")
    with pytest.raises(Forbidden, match="blocked"):
        await bot.send_message(8, "x")
    with pytest.raises(BadRequest, match="not found"):
        await bot.send_message(9, "x")
    emu.throttle_next(1, retry_after=3)
    with pytest.raises(RetryAfter) as raised:
        await bot.send_message(7, "x")
    assert raised.value.retry_after == timedelta(seconds=3)  # PTB_TIMEDELTA is set in conftest


async def test_files_go_as_multipart(emu: BotApiEmulator, bot: Bot) -> None:
    message = await bot.send_document(7, InputFile(b"a,b\n1,2\n", filename="report.csv"), caption="Report")
    assert message.document is not None and message.document.file_name == "report.csv"
    assert message.caption == "Report"


async def test_a_silent_server_is_a_timeout_and_a_closed_port_a_network_error() -> None:
    finished = asyncio.Event()

    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)  # the request; no answer ...
        await reader.read()  # ... until the client hangs up
        writer.close()
        await writer.wait_closed()
        finished.set()

    server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with AiohttpRequest(read_timeout=0.2) as request:
            with pytest.raises(TimedOut):
                await request.post(f"http://127.0.0.1:{port}/bot1:x/getMe")
        await asyncio.wait_for(finished.wait(), 5)
    finally:
        server.close()
        await server.wait_closed()

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    async with AiohttpRequest() as request:
        with pytest.raises(NetworkError) as raised:
            await request.post(f"http://127.0.0.1:{closed}/bot1:x/getMe")
    assert not isinstance(raised.value, TimedOut)


async def test_it_refuses_to_send_before_initialize_and_after_shutdown() -> None:
    request = AiohttpRequest()
    with pytest.raises(NetworkError, match="not initialized"):  # PTB wraps what do_request raises
        await request.post("http://127.0.0.1:1/bot1:x/getMe")
    await request.initialize()
    await request.shutdown()
    with pytest.raises(NetworkError, match="not initialized"):  # PTB wraps what do_request raises
        await request.post("http://127.0.0.1:1/bot1:x/getMe")
