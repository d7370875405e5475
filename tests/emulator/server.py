"""BotApiEmulator: an aiohttp server speaking the Telegram Bot API, validated against the reference."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

from aiohttp import web

from tests.emulator.driver import GroupChat, UserDriver
from tests.emulator.failures import Failures, Limits
from tests.emulator.methods import HANDLERS, SEND_METHODS
from tests.emulator.spec import Spec, UploadedFile, load_spec
from tests.emulator.state import ApiError, State, StoredMessage
from tests.emulator.updates import UPDATE_HANDLERS, UpdateHub

_ALL_HANDLERS = {**HANDLERS, **UPDATE_HANDLERS}
_MEMBER_STATUSES = {"creator", "administrator", "member", "restricted", "left", "kicked"}


class BotApiEmulator:
    def __init__(
        self,
        token: str = "123456:TEST",
        bot_id: int = 123456,
        bot_username: str = "engage_test_bot",
        bot_first_name: str = "EngageBot",
        spec: Spec | None = None,
    ) -> None:
        self.token = token
        self.bot_id = bot_id
        self.bot_username = bot_username
        self.bot_user: dict[str, Any] = {
            "id": bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self.spec = spec or load_spec()
        self.state = State(self.spec, self.bot_user)
        self.failures = Failures()
        self.updates = UpdateHub(self)
        self.violations: list[str] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.ignored_params: list[tuple[str, str]] = []  # PTB Defaults sent to methods without them
        self.send_log: list[tuple[float, int | str, str, bool]] = []
        self.stats: dict[str, int] = {"429": 0, "403": 0, "400": 0, "sent": 0}
        self.settle: Callable[[int], Awaitable[Any]] | None = None
        self.clock: Callable[[], float] = time.time  # message dates; rate limits use time.monotonic
        self.default_menu_button: dict[str, Any] | None = None
        self._users: dict[int, UserDriver] = {}
        self._groups: dict[int, GroupChat] = {}
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    # ---- lifecycle -----------------------------------------------------------------------------------
    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        await self.updates.close()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> BotApiEmulator:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    # ---- people, chats, failures (for tests) ---------------------------------------------------------
    def user(
        self,
        user_id: int,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
    ) -> UserDriver:
        if user_id not in self._users:
            self.state.add_user(user_id, first_name, last_name, username, language_code)
            self._users[user_id] = UserDriver(self, user_id)
        return self._users[user_id]

    def group(self, chat_id: int, title: str, type: str = "supergroup") -> GroupChat:
        if chat_id not in self._groups:
            self.state.add_group(chat_id, title, type)
            self._groups[chat_id] = GroupChat(self, chat_id, title, type)
        return self._groups[chat_id]

    def set_member(self, chat_id: int, user_id: int, status: str) -> None:
        if status not in _MEMBER_STATUSES:
            raise ValueError(f"status must be one of {sorted(_MEMBER_STATUSES)}")
        if chat_id not in self.state.chats:
            raise ValueError(f"no chat {chat_id}: create it first with emu.group() or emu.user()")
        self.state.chats[chat_id].members[user_id] = status

    def block_chat(self, chat_id: int) -> None:
        self.failures.blocked.add(chat_id)

    def unblock_chat(self, chat_id: int) -> None:
        self.failures.blocked.discard(chat_id)
        self.failures.failing.pop(chat_id, None)

    def fail_chat(
        self, chat_id: int, code: int = 400, description: str = "Bad Request: chat not found"
    ) -> None:
        self.failures.failing[chat_id] = (code, description)

    def throttle_next(self, n: int, retry_after: int) -> None:
        self.failures.throttle_left = n
        self.failures.throttle_retry_after = retry_after

    def enforce_limits(
        self, global_per_second: int = 30, per_chat_per_second: int = 1, per_group_per_minute: int = 20
    ) -> None:
        self.failures.limits = Limits(global_per_second, per_chat_per_second, per_group_per_minute)

    def commands(self, scope: dict[str, Any] | None = None, language_code: str = "") -> list[dict[str, Any]]:
        """The command menu the bot set for exactly this scope and language (what getMyCommands answers)."""
        return self.state.get_commands(scope, language_code)

    def callback_answer(self, query_id: str) -> dict[str, Any] | None:
        return self.state.callback_answers.get(query_id)

    def file_bytes(self, file_id: str) -> bytes:
        return self.state.files[file_id].data

    @property
    def updates_acknowledged(self) -> list[int]:
        return self.updates.acknowledged

    def assert_no_violations(self) -> None:
        assert not self.violations, "Bot API violations:\n" + "\n".join(self.violations)

    # ---- helpers for methods and drivers -------------------------------------------------------------
    def now(self) -> int:
        return int(self.clock())

    def notify(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def changed(self, timeout: float) -> None:
        await asyncio.wait_for(self._changed.wait(), timeout)

    def check_object(self, value: Any, type_name: str, where: str) -> None:
        self.violations.extend(self.spec.check_object(value, type_name, where))

    def store_user_message(self, chat_id: int, raw: dict[str, Any]) -> StoredMessage:
        chat = self.state.chats[chat_id]
        raw["message_id"] = chat.take_message_id()
        return self.state.store(chat, StoredMessage(raw, from_bot=False))

    async def deliver(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Queue an update and return once the bot has processed it (via settle), unless the bot's
        allowed_updates leave it out: Telegram then drops it and there is nothing to wait for."""
        update = self.updates.push(kind, payload)
        if self.settle is None:
            return update
        await self.updates.configured()  # the first getUpdates or setWebhook says what the bot wants
        if self.updates.allows(kind):
            await self.settle(update["update_id"])
        return update

    # ---- HTTP ----------------------------------------------------------------------------------------
    async def _read_params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
        raw: dict[str, Any] = dict(request.query)
        files: dict[str, UploadedFile] = {}
        if request.method != "POST" or not request.body_exists:
            return raw, files
        if request.content_type == "application/json":
            body = await request.json()
            if not isinstance(body, dict):
                raise ApiError(400, "Bad Request: the JSON body must be an object", violation=True)
            raw.update(body)
            return raw, files
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                files[key] = UploadedFile(value.filename, value.file.read(), value.content_type)
                raw[key] = files[key]
            else:
                raw[key] = value
        return raw, files

    def _error(self, error: ApiError, method: str) -> web.Response:
        if error.violation:
            self.violations.append(f"{method}: {error.description}")
        return web.json_response(error.body(), status=error.code)

    async def _handle_method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        name = request.match_info["method"]
        try:
            raw, files = await self._read_params(request)
        except (json.JSONDecodeError, ValueError) as exc:
            return self._error(
                ApiError(400, f"Bad Request: can't parse request: {exc}", violation=True), name
            )
        except ApiError as error:
            return self._error(error, name)
        method = self.spec.method(name)
        if method is None:
            self.calls.append((name, raw))
            self.violations.append(
                f"{name}: no such method in bot_api_subset.json (a typo, or add it to METHODS)"
            )
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        name = method["name"]
        params, problems = self.spec.decode_params(method, raw, files, self.ignored_params)
        self.calls.append((name, params))
        if problems:
            return self._error(ApiError(400, "Bad Request: " + "; ".join(problems), violation=True), name)
        try:
            result = await self._call(name, params)
        except ApiError as error:
            return self._error(error, name)
        self.violations.extend(self.spec.check_value(result, method["returns"], f"{name} result"))
        return web.json_response({"ok": True, "result": result})

    async def _call(self, name: str, params: dict[str, Any]) -> Any:
        if name not in SEND_METHODS:
            return await _ALL_HANDLERS[name](self, params)
        ok = False
        try:
            result = await _ALL_HANDLERS[name](self, params)
            ok = True
            self.stats["sent"] += 1
            return result
        except ApiError as error:
            key = str(error.code)
            self.stats[key] = self.stats.get(key, 0) + 1
            raise
        finally:
            self.send_log.append((time.monotonic(), params.get("chat_id", 0), name, ok))

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        stored = self.state.files_by_path.get(request.match_info["path"])
        if stored is None:
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        return web.Response(body=stored.data, content_type=stored.mime_type or "application/octet-stream")
