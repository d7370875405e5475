"""Drains the outbox within Telegram's limits: one long-running loop per process (Sender.run), started
in bot.app's post_init and stopped in post_stop/post_shutdown.

Why a loop and not a JobQueue tick: a 10,000-message wave takes minutes at 25/s; a loop keeps the
pace between claims (the limiter's state lives across batches) and reacts to RetryAfter by pausing,
which a 1 s tick that starts afresh each time cannot do.

Telegram's answers decide a row's fate: RetryAfter pauses every send for the time asked and tries
the same row again; Forbidden marks the customer unreachable (their later rows are skipped when due,
see storage.outbox.claim_due); BadRequest is a permanent failure with the reason kept; TimedOut and
network errors retry with exponential backoff, at most `max_attempts` times. Delivery is at least once:
a send that timed out after Telegram got it is sent again.

Crash safety: a claimed row is "sending" until its outcome is recorded. At most `max_in_flight` rows
are ever started-but-unrecorded, so a kill duplicates at most that many messages (default 16); every
other claimed row is reclaimed after the lease (claim_lease_seconds) and sent once. Answers are
recorded in batches (what 50 ms bring at the configured rate, at most half of max_in_flight, or at
once when no other send is out), one transaction and one UPDATE per outcome kind each; an answer
waiting for its batch counts as unrecorded, so batching never widens the bound.

Cost (benchmarks/outbox.py): claims are plain rows (storage.outbox.Claimed), not ORM objects; a
round picks its next row from two heaps (_Round), not a scan of the batch; what is left per message
is mostly python-telegram-bot's request and its Message.de_json of the answer, and the transport
(bot.aiohttp_request is ~10x cheaper than PTB's default httpx one under load).
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import timedelta
from heapq import heapify, heappop, heappush
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

from storage.core import localized
from storage.core.clock import Clock
from storage.core.config import SenderConfig
from storage.people import outbox
from storage.people.outbox import Claimed, Outcome

log = logging.getLogger(__name__)

Render = Callable[..., str]  # render(language, key, **params) -> str
Timer = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
# Rows whose chat is not free within this many seconds go back to the queue instead of holding a batch.
HORIZON = 2.0
RETRY_AFTER_IN_PLACE = 5  # RetryAfter answers for one row before it goes back to the queue
# Telegram counts a message when it arrives, and two requests scheduled exactly 1 s apart can arrive
# 0.999 s apart (measured against the emulator: one 429 per wave). Per-chat spacing keeps this slack.
ARRIVAL_SLACK = 0.05
# At a low rate each answer is recorded at once; batching only pays where answers come faster than this.
RECORD_EVERY = 0.05
MISSING_PARAMS_MAX = 5  # parameters a text may have gained since one of its rows was queued


def _render_key(render: Render, language: str, template: str, params: dict[str, Any]) -> str:
    """`template` may list alternatives "a.x|a.y": the first key the catalog has (tier-specific texts)."""
    keys = template.split("|")
    has = getattr(render, "has", None)
    for key in keys[:-1]:
        if has is not None and has(key):
            return render(language, key, **params)
    return render(language, keys[-1], **params)


def _markup(row: Claimed, render: Render) -> InlineKeyboardMarkup | None:
    if not row.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    render(row.language, label[1:])
                    if isinstance(label, str) and label.startswith("@")
                    else str(localized.resolve(label, row.language)),
                    callback_data=data,
                )
                for label, data in button_row
            ]
            for button_row in row.buttons
        ]
    )


def _text(row: Claimed, render: Render) -> str:
    params = dict(row.params or {})
    for _ in range(MISSING_PARAMS_MAX):
        try:
            return _render_key(render, row.language, row.template, params)
        except KeyError as missing:  # queued before its text gained a parameter: shown empty
            params[str(missing.args[0])] = ""
    return _render_key(render, row.language, row.template, params)


def _retry_after(error: RetryAfter) -> float:
    # PTB 22 warns that the int will become a timedelta; take either, without the warning.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class Limiter:
    """Telegram's limits as reservations on a monotonic timer: a global spacing of 1/rate, one
    message per `private_chat_interval` per private chat, `group_per_minute` per group (chat id < 0)
    in any 60 s window, and a global pause after RetryAfter."""

    def __init__(self, config: SenderConfig, timer: Timer) -> None:
        self.config = config
        self.timer = timer
        self.interval = 1.0 / config.rate_per_second
        self.next_global = 0.0
        self.paused_until = 0.0
        self.private_next: dict[int, float] = {}
        self.group_sent: dict[int, deque[float]] = {}

    def chat_ready_at(self, chat_id: int, extra: int = 0, now: float | None = None) -> float:
        """When the chat may get a message, with `extra` more already planned before it."""
        now = self.timer() if now is None else now
        if chat_id > 0:
            start = max(now, self.private_next.get(chat_id, 0.0))
            return start + extra * self.config.private_chat_interval
        window = self.group_sent.get(chat_id, deque())
        recent = [t for t in window if t > now - 60.0 - ARRIVAL_SLACK]
        position = len(recent) + extra - self.config.group_per_minute
        if position < 0:
            return now
        if position < len(recent):
            return recent[position] + 60.0 + ARRIVAL_SLACK
        return now + 60.0 * (1 + position // self.config.group_per_minute) + ARRIVAL_SLACK

    def reserve(self, chat_id: int) -> float:
        """Take the earliest slot this chat and the global rate allow; returns how long to wait."""
        now = self.timer()
        at = max(now, self.next_global, self.paused_until, self.chat_ready_at(chat_id, now=now))
        self.next_global = at + self.interval
        if chat_id > 0:
            self.private_next[chat_id] = at + self.config.private_chat_interval + ARRIVAL_SLACK
        else:
            window = self.group_sent.setdefault(chat_id, deque())
            while window and window[0] <= at - 60.0 - ARRIVAL_SLACK:
                window.popleft()
            window.append(at)
        return at - now

    def forget_past(self) -> None:
        """Drop chats whose limits no longer hold anything back (a private chat ready again, a group
        with no send in the last minute): they read the same as chats never seen, and a wave to
        100,000 chats keeps the limiter's memory at what the last minute sent."""
        now = self.timer()
        self.private_next = {chat: at for chat, at in self.private_next.items() if at > now}
        horizon = now - 60.0 - ARRIVAL_SLACK
        for chat in [chat for chat, window in self.group_sent.items() if not window or window[-1] <= horizon]:
            del self.group_sent[chat]

    def pause(self, seconds: float) -> None:
        self.paused_until = max(self.paused_until, self.timer() + seconds)

    def seed(self, history: list[tuple[int, float]]) -> None:
        """Count messages sent before this limiter existed: (chat_id, seconds ago), oldest first."""
        now = self.timer()
        for chat_id, age in history:
            at = now - age
            if chat_id > 0:
                ready = at + self.config.private_chat_interval + ARRIVAL_SLACK
                self.private_next[chat_id] = max(self.private_next.get(chat_id, 0.0), ready)
            else:
                self.group_sent.setdefault(chat_id, deque()).append(at)


class _Round:
    """The rows of one claim, queued per chat in claim order. `take` hands out the first row, in claim
    order, whose chat the limiter lets through now: chats ready now wait in a heap by their first row's
    place, the others in a heap by the time they become ready, so each row costs O(log n), not a scan
    of the batch. Readiness is checked again when a chat comes up (a RetryAfter retry may have taken
    its slot meanwhile), so neither heap has to be exact."""

    def __init__(self, rows: list[Claimed], limiter: Limiter) -> None:
        self.limiter = limiter
        self.left = len(rows)
        self.queues: dict[int, deque[tuple[int, Claimed]]] = {}
        for place, row in enumerate(rows):
            self.queues.setdefault(row.chat_id, deque()).append((place, row))
        self.ready = [(queue[0][0], chat) for chat, queue in self.queues.items()]
        heapify(self.ready)
        self.waiting: list[tuple[float, int, int]] = []  # (ready at, place, chat)

    def take(self, now: float) -> Claimed | None:
        """The next row to send at `now`, or None while every chat left must wait (see `soonest`)."""
        while self.waiting and self.waiting[0][0] <= now:
            _, place, chat = heappop(self.waiting)
            heappush(self.ready, (place, chat))
        while self.ready:
            place, chat = heappop(self.ready)
            at = self.limiter.chat_ready_at(chat, now=now)
            if at > now:
                heappush(self.waiting, (at, place, chat))
                continue
            queue = self.queues[chat]
            _, row = queue.popleft()
            if queue:
                heappush(self.ready, (queue[0][0], chat))  # checked when it comes up
            else:
                del self.queues[chat]
            self.left -= 1
            return row
        return None

    def soonest(self) -> float:
        """When the first waiting chat becomes ready (call after `take` returned None)."""
        return self.waiting[0][0]


class Sender:
    def __init__(
        self,
        bot: Bot,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        render: Render,
        config: SenderConfig | None = None,
        *,
        worker: str = "sender",
        timer: Timer | None = None,
        sleep: Sleep | None = None,
    ) -> None:
        self.bot, self.sessions, self.clock, self.render = bot, sessions, clock, render
        self.config = config or SenderConfig()
        self.worker = worker
        self.timer = timer or (lambda: asyncio.get_running_loop().time())
        self.sleep = sleep or asyncio.sleep
        self.limiter = Limiter(self.config, self.timer)
        self.lease = timedelta(seconds=self.config.claim_lease_seconds)
        self._done: list[tuple[Outcome, int | None]] = []  # (outcome, chat to mark unreachable)
        self._in_flight = 0  # started and not yet recorded (deferrals waiting to be recorded too)
        # Answers are recorded in batches of what arrives in RECORD_EVERY at the configured rate, at most
        # half of max_in_flight (or sooner, when no send is waiting for its answer): at 25/s every
        # answer at once, as before batching; at 1,000/s one transaction per 32 (with max_in_flight 64).
        self._flush_at = max(
            1, min(self.config.max_in_flight // 2, int(self.config.rate_per_second * RECORD_EVERY))
        )
        self._finished = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._stop = asyncio.Event()
        self.sent = 0

    # -- the loop ---------------------------------------------------------------------------------
    async def run(self) -> None:
        """Drain until stop(); between empty rounds wait poll_seconds."""
        await self.remember_recent_sends()
        while not self._stop.is_set():
            try:
                claimed = await self.drain_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database may be briefly unavailable; never let the loop die
                log.exception("outbox round failed")
                claimed = 0
            if claimed == 0:
                try:
                    await asyncio.wait_for(self._stop.wait(), self.config.poll_seconds)
                except TimeoutError:
                    pass

    def stop(self) -> None:
        self._stop.set()

    async def remember_recent_sends(self) -> None:
        """After a restart the per-chat and per-group windows still count what the last minute sent
        (the limiter lives in memory; the outbox remembers)."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            sent = await outbox.sent_since(session, now - timedelta(seconds=60))
        self.limiter.seed([(chat_id, (now - at).total_seconds()) for chat_id, at in sent])

    # -- one round --------------------------------------------------------------------------------
    async def drain_once(self) -> int:
        """Claim one batch and send it; returns the number of rows claimed."""
        if self._done:  # outcomes a failed flush kept
            await self._flush()
        self.limiter.forget_past()
        async with self.sessions.begin() as session:
            rows = await outbox.claim_due(
                session, worker=self.worker, now=self.clock.now(), limit=self.config.batch, lease=self.lease
            )
        if not rows:
            return 0
        pending = _Round(self._defer_busy_chats(rows), self.limiter)
        try:
            while pending.left:
                now = self.timer()
                row = pending.take(now)
                if row is None:
                    await self.sleep(max(pending.soonest() - now, 0.001))
                    continue
                await self._make_room()
                wait = self.limiter.reserve(row.chat_id)
                if wait > 0:
                    await self.sleep(wait)
                self._launch(row)
            await self._make_room(until_idle=True)
        except asyncio.CancelledError:
            # Like a kill: sends in flight stop, nothing more is recorded; the lease brings the rows back.
            for task in list(self._tasks):
                task.cancel()
            raise
        return len(rows)

    def _defer_busy_chats(self, rows: list[Claimed]) -> list[Claimed]:
        """Rows whose chat is not free within HORIZON go back to the queue (attempt not counted), so a
        busy group never holds a batch (or its claim lease) for a minute."""
        planned: dict[int, int] = {}
        keep: list[Claimed] = []
        now = self.timer()
        for row in rows:
            extra = planned.get(row.chat_id, 0)
            ready = self.limiter.chat_ready_at(row.chat_id, extra, now=now)
            if ready - now > HORIZON:
                later = self.clock.now() + timedelta(seconds=ready - now)
                self._done.append((outbox.again(row, later, None, count_attempt=False), None))
                self._in_flight += 1
            else:
                planned[row.chat_id] = extra + 1
                keep.append(row)
        return keep

    async def _make_room(self, until_idle: bool = False) -> None:
        """Record answers in batches; wait while max_in_flight sends are unrecorded (or, at the end of
        a round, until every send is recorded). A batch is recorded when it has `_flush_at` answers or
        when no send is still waiting for its answer, so a slow wave records each message at once
        (and every send pays the same small delay for it) and a fast one pays one transaction per
        `_flush_at` messages."""
        while True:
            answered = len(self._done)
            if answered and (answered >= self._flush_at or self._in_flight == answered):
                await self._flush()
                continue
            busy = self._in_flight > 0 if until_idle else self._in_flight >= self.config.max_in_flight
            if not busy:
                return
            self._finished.clear()
            await self._finished.wait()

    def _launch(self, row: Claimed) -> None:
        self._in_flight += 1
        task = asyncio.create_task(self._send(row))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _flush(self) -> None:
        done, self._done = self._done, []
        try:
            async with self.sessions.begin() as session:
                await outbox.record(session, [outcome for outcome, _ in done])
                unreachable = [chat for _, chat in done if chat is not None]
                await outbox.mark_unreachable(session, unreachable, self.clock.now())
        except Exception:
            self._done[:0] = done  # keep them for the next flush; the rows stay claimed meanwhile
            raise
        self._in_flight -= len(done)

    async def _send(self, row: Claimed) -> None:
        outcome: Outcome | None = None
        unreachable: int | None = None
        try:
            outcome, unreachable = await self._deliver(row)
        except Exception as error:  # a rendering bug must not leave the row claimed forever
            log.exception("outbox row %s could not be sent", row.id)
            outcome = outbox.failed(row, f"{type(error).__name__}: {error}")
        finally:
            if outcome is None:  # cancelled mid-send: the lease brings the row back
                self._in_flight -= 1
            else:
                self._done.append((outcome, unreachable))
            self._finished.set()

    async def _deliver(self, row: Claimed) -> tuple[Outcome, int | None]:
        text, markup = _text(row, self.render), _markup(row, self.render)
        seconds = 0.0
        for _ in range(RETRY_AFTER_IN_PLACE):
            try:
                message = await self._post(row, text, markup)
            except RetryAfter as error:
                seconds = _retry_after(error)
                self.limiter.pause(seconds)
                log.warning("Telegram asked to wait %.1f s (chat %s)", seconds, row.chat_id)
                if seconds > self.config.claim_lease_seconds / 2:  # longer than our claim may last
                    return outbox.again(row, self.clock.now() + timedelta(seconds=seconds), str(error)), None
                wait = self.limiter.reserve(row.chat_id)
                await self.sleep(wait)
                continue
            except Forbidden as error:
                return outbox.failed(row, f"forbidden: {error}"), row.chat_id if row.customer_id else None
            except (BadRequest, ChatMigrated) as error:
                return outbox.failed(row, f"bad request: {error}"), None
            except TelegramError as error:  # TimedOut, NetworkError and the rest: bounded retries
                if row.attempts >= self.config.max_attempts:
                    return outbox.failed(row, f"gave up after {row.attempts} attempts: {error}"), None
                backoff = timedelta(seconds=min(2**row.attempts, 300))
                return outbox.again(row, self.clock.now() + backoff, str(error)), None
            self.sent += 1
            return outbox.sent(row, message.message_id, self.clock.now()), None
        later = self.clock.now() + timedelta(seconds=seconds)
        return outbox.again(row, later, "RetryAfter repeatedly", count_attempt=False), None

    async def _post(self, row: Claimed, text: str, markup: InlineKeyboardMarkup | None) -> Message:
        """A text message, or a photo (by file_id) with the text as its caption (checked to fit when
        it was stored: storage.campaigns.drafts.attach_image)."""
        if row.photo:
            return await self.bot.send_photo(row.chat_id, row.photo, caption=text, reply_markup=markup)
        return await self.bot.send_message(row.chat_id, text, reply_markup=markup)

    async def shutdown(self, task: asyncio.Task[None], timeout: float = 10.0) -> None:
        """Let the loop finish its round (recording what it sent); cancel it if that takes too long."""
        self.stop()
        try:
            await asyncio.wait_for(task, timeout)
        except (TimeoutError, asyncio.CancelledError):
            pass


async def drain(
    bot: Bot,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    render: Render,
    *,
    worker: str = "sender",
    batch: int = 50,
    config: SenderConfig | None = None,
) -> int:
    """Send what is due now (one round per claim until nothing is due); returns messages sent."""
    sender = Sender(bot, sessions, clock, render, config or SenderConfig(batch=batch), worker=worker)
    while await sender.drain_once():
        pass
    return sender.sent
