"""A minimal Bot API server for the sender's benchmarks: getMe, and sendMessage answered with one fixed,
valid Message. It checks nothing and enforces no limit; it only counts what it received per chat, so a
benchmark can count duplicates from the server's side. Where the emulator (tests/emulator: validation
against the Bot API reference, stored chats, limits) costs more CPU than the sender itself, this shows
what the sender alone can do."""

from __future__ import annotations

import json
import time
from collections import Counter

from aiohttp import web

BOT_USER = {"id": 123456, "is_bot": True, "first_name": "Stub", "username": "stub_bot"}


class StubBotApi:
    def __init__(self, token: str = "123456:STUB") -> None:
        self.token = token
        self.received: Counter[int] = Counter()  # chat_id -> sendMessage requests
        self._me = json.dumps({"ok": True, "result": BOT_USER}).encode()
        message = {
            "message_id": 1,
            "from": BOT_USER,
            "chat": {"id": 1, "type": "private", "first_name": "C"},
            "date": int(time.time()),
            "text": "ok",
        }
        self._sent = json.dumps({"ok": True, "result": message}).encode()
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    async def _call(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if method == "sendMessage":
            params = (
                await request.json() if request.content_type == "application/json" else await request.post()
            )
            self.received[int(str(params["chat_id"]))] += 1
            return web.Response(body=self._sent, content_type="application/json")
        if method == "getMe":
            return web.Response(body=self._me, content_type="application/json")
        body = {"ok": False, "error_code": 404, "description": "Not Found"}
        return web.json_response(body, status=404)

    async def __aenter__(self) -> StubBotApi:
        app = web.Application()
        app.router.add_route("*", f"/bot{self.token}/{{method}}", self._call)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}/bot"
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
