"""Failure injection: blocked chats, failing chats, forced 429s and Telegram-like rate limits."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from tests.emulator.state import ApiError


@dataclass
class Limits:
    global_per_second: int
    per_chat_per_second: int
    per_group_per_minute: int


class Failures:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.blocked: set[int] = set()
        self.failing: dict[int, tuple[int, str]] = {}
        self.throttle_left = 0
        self.throttle_retry_after = 1
        self.limits: Limits | None = None
        self._global: deque[float] = deque()
        self._per_chat: dict[int, deque[float]] = {}

    def check_chat(self, chat_id: int) -> None:
        """Blocked and failing chats: for every call that targets the chat."""
        if chat_id in self.blocked:
            if chat_id < 0:
                raise ApiError(403, "Forbidden: bot was kicked from the supergroup chat")
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if chat_id in self.failing:
            code, description = self.failing[chat_id]
            raise ApiError(code, description)

    def check_send(self, chat_id: int) -> None:
        """Forced 429s and rate limits: for send calls; a send that passes is counted in the windows."""
        if self.throttle_left > 0:
            self.throttle_left -= 1
            raise too_many(self.throttle_retry_after)
        if self.limits is None:
            return
        now = self.clock()
        limits = self.limits
        window, cap = (
            (60.0, limits.per_group_per_minute) if chat_id < 0 else (1.0, limits.per_chat_per_second)
        )
        per_chat = self._per_chat.setdefault(chat_id, deque())
        _expire(self._global, now - 1.0)
        _expire(per_chat, now - window)
        waits = []
        if len(self._global) >= limits.global_per_second:
            waits.append(self._global[len(self._global) - limits.global_per_second] + 1.0 - now)
        if len(per_chat) >= cap:
            waits.append(per_chat[len(per_chat) - cap] + window - now)
        if waits:
            raise too_many(max(1, math.ceil(max(waits))))
        self._global.append(now)
        per_chat.append(now)


def too_many(retry_after: int) -> ApiError:
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)


def _expire(window: deque[float], before: float) -> None:
    while window and window[0] <= before:
        window.popleft()
