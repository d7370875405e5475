"""Webhook mode: Telegram's secret-token header is required; /healthz tells whether the database answers."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from storage.core.clock import FakeClock
from tests.databases import new_database_url
from tests.e2e.harness import Harness
from tests.emulator import BotApiEmulator

SECRET = "s3cret-Token_1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
async def webhook(
    emu: BotApiEmulator, tmp_path: Path, clock: FakeClock
) -> AsyncIterator[tuple[Harness, str]]:
    harness = Harness(emu, await new_database_url("sqlite", tmp_path), clock)
    port = _free_port()
    await harness.start_webhook(port, SECRET)
    yield harness, f"http://127.0.0.1:{port}"
    await harness.stop()


def _update(update_id: int, user_id: int, text: str) -> dict[str, object]:
    user = {"id": user_id, "is_bot": False, "first_name": "Web"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1,
            "date": 1_700_000_000,
            "chat": {"id": user_id, "type": "private", "first_name": "Web"},
            "from": user,
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}],
        },
    }


async def test_webhook_requires_the_secret(webhook: tuple[Harness, str]) -> None:
    harness, base = webhook
    url = f"{base}/telegram/hook"
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json=_update(1, 501, "/start")) as response:
            assert response.status == 403
        headers = {"X-Telegram-Bot-Api-Secret-Token": "wrong"}
        async with http.post(url, json=_update(2, 501, "/start"), headers=headers) as response:
            assert response.status == 403
        assert harness.emu.user(501, "Web").messages() == []

        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        async with http.post(url, json=_update(3, 501, "/start"), headers=headers) as response:
            assert response.status == 200
        await harness.app.metrics.wait_processed(3)
    assert "Hello, Web!" in harness.emu.user(501, "Web").last().text


async def test_updates_arrive_through_the_registered_webhook(webhook: tuple[Harness, str]) -> None:
    harness, _ = webhook
    pat = harness.customer(502, "Pat")
    await pat.send("/start")  # the emulator POSTs it to the webhook with the secret header
    await pat.press("✅ Accept")
    assert "When is your birthday?" in pat.last().text


async def test_healthz_and_metrics(webhook: tuple[Harness, str]) -> None:
    harness, base = webhook
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/healthz") as response:
            assert response.status == 200
            assert await response.json() == {"ok": True, "database": "reachable"}
        await harness.customer(503, "Quinn").send("/start")
        async with http.get(f"{base}/metrics") as response:
            assert "engagebot_updates_processed_total 1" in await response.text()
