"""Update delivery: the getUpdates queue (offset, limit, long polling, allowed_updates) or a webhook."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, Any

import aiohttp

from tests.emulator.state import ApiError, bad_request

if TYPE_CHECKING:
    from tests.emulator.server import BotApiEmulator

DEFAULT_ALLOWED = frozenset({"message_reaction", "message_reaction_count", "chat_member"})  # off by default


def update_kind(update: dict[str, Any]) -> str:
    return next(k for k in update if k != "update_id")


class UpdateHub:
    def __init__(self, emu: BotApiEmulator) -> None:
        self.emu = emu
        self.pending: list[dict[str, Any]] = []
        self.next_update_id = 1
        self.acknowledged: list[int] = []
        self.allowed: list[str] | None = None
        self.webhook: dict[str, Any] | None = None
        self.last_error: tuple[int, str] | None = None
        self._arrived = asyncio.Event()
        self._poll_generation = 0
        self._configured = asyncio.Event()  # set by the first getUpdates or setWebhook
        self._worker: asyncio.Task[None] | None = None
        self._http: aiohttp.ClientSession | None = None
        self.closing = False

    # ---- producing -----------------------------------------------------------------------------------
    def push(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": self.next_update_id, kind: payload}
        self.next_update_id += 1
        self.emu.check_object(update, "Update", f"update {update['update_id']}")
        self.pending.append(update)
        self._wake()
        return update

    def _wake(self) -> None:
        arrived, self._arrived = self._arrived, asyncio.Event()
        arrived.set()

    async def configured(self, timeout: float = 10.0) -> None:
        """Wait until the bot has polled or set a webhook (so allowed_updates is known)."""
        await asyncio.wait_for(self._configured.wait(), timeout)

    def allows(self, kind: str) -> bool:
        """Whether the last allowed_updates (or the default: all but DEFAULT_ALLOWED) lets kind through."""
        if not self.allowed:
            return kind not in DEFAULT_ALLOWED
        return kind in self.allowed

    def _is_allowed(self, update: dict[str, Any]) -> bool:
        return self.allows(update_kind(update))

    def _deliverable(self) -> list[dict[str, Any]]:
        """Drop updates the bot did not ask for (Telegram never stores them) and return the rest."""
        self.pending = [u for u in self.pending if self._is_allowed(u)]
        return self.pending

    # ---- polling -------------------------------------------------------------------------------------
    async def get_updates(self, p: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete "
                "the webhook first",
            )
        if "allowed_updates" in p:
            self.allowed = list(p["allowed_updates"])
        self._configured.set()
        offset = p.get("offset")
        if offset is not None:
            kept = [u for u in self.pending if u["update_id"] >= offset]
            self.acknowledged.extend(u["update_id"] for u in self.pending if u["update_id"] < offset)
            self.pending = kept
        limit = min(max(int(p.get("limit", 100)), 1), 100)
        timeout = max(0, int(p.get("timeout", 0)))
        self._poll_generation += 1
        generation = self._poll_generation
        self._wake()  # an older long poll ends with 409, as on Telegram
        deadline = time.monotonic() + timeout
        while True:
            ready = self._deliverable()
            if ready:
                return [dict(u) for u in ready[:limit]]
            left = deadline - time.monotonic()
            if left <= 0 or self.closing:
                return []
            arrived = self._arrived
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(arrived.wait(), left)
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one bot "
                    "instance is running",
                )
            if self.webhook is not None:
                return []

    # ---- webhook -------------------------------------------------------------------------------------
    async def set_webhook(self, p: dict[str, Any]) -> bool:
        url = p["url"]
        if not url:
            return await self.delete_webhook(p)
        if not url.startswith(("http://", "https://")):
            raise bad_request("bad webhook: invalid URL", violation=True)
        secret = p.get("secret_token")
        if secret is not None and not (
            1 <= len(secret) <= 256 and all(c.isalnum() or c in "_-" for c in secret)
        ):
            raise bad_request("secret token contains unallowed characters", violation=True)
        if p.get("drop_pending_updates"):
            self.pending.clear()
        if "allowed_updates" in p:
            self.allowed = list(p["allowed_updates"])
        self._configured.set()
        self.webhook = {"url": url, "secret_token": secret, "max_connections": p.get("max_connections", 40)}
        self.last_error = None
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._deliver_loop())
        self._wake()
        return True

    async def delete_webhook(self, p: dict[str, Any]) -> bool:
        if p.get("drop_pending_updates"):
            self.pending.clear()
        self.webhook = None
        self._wake()
        return True

    def webhook_info(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self.webhook["url"] if self.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._deliverable()),
        }
        if self.webhook:
            info["max_connections"] = self.webhook["max_connections"]
            if self.allowed:
                info["allowed_updates"] = list(self.allowed)
            if self.last_error:
                info["last_error_date"], info["last_error_message"] = self.last_error
        return info

    async def _deliver_loop(self) -> None:
        backoff = 0.05
        self._http = self._http or aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        while self.webhook is not None and not self.closing:
            ready = self._deliverable()
            if not ready:
                arrived = self._arrived
                await arrived.wait()
                continue
            update = ready[0]
            hook = self.webhook
            headers = (
                {"X-Telegram-Bot-Api-Secret-Token": hook["secret_token"]} if hook["secret_token"] else {}
            )
            try:
                async with self._http.post(hook["url"], json=update, headers=headers) as response:
                    delivered = 200 <= response.status < 300
                    error = f"Wrong response from the webhook: {response.status} {response.reason}"
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                delivered, error = False, f"Connection failed: {exc.__class__.__name__}"
            if delivered:
                backoff = 0.05
                if update in self.pending:
                    self.pending.remove(update)
                    self.acknowledged.append(update["update_id"])
                continue
            self.last_error = (self.emu.now(), error)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 1.0)

    async def close(self) -> None:
        self.closing = True
        self._wake()
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        if self._http is not None:
            await self._http.close()


async def get_updates(emu: BotApiEmulator, p: dict[str, Any]) -> list[dict[str, Any]]:
    return await emu.updates.get_updates(p)


async def set_webhook(emu: BotApiEmulator, p: dict[str, Any]) -> bool:
    return await emu.updates.set_webhook(p)


async def delete_webhook(emu: BotApiEmulator, p: dict[str, Any]) -> bool:
    return await emu.updates.delete_webhook(p)


async def get_webhook_info(emu: BotApiEmulator, p: dict[str, Any]) -> dict[str, Any]:
    return emu.updates.webhook_info()


UPDATE_HANDLERS = {
    "getUpdates": get_updates,
    "setWebhook": set_webhook,
    "deleteWebhook": delete_webhook,
    "getWebhookInfo": get_webhook_info,
}
