"""Drains the outbox: renders each claimed row in its recipient's language and sends it.

Telegram's answers decide a row's fate: RetryAfter pauses and requeues, Forbidden marks the customer
unreachable, BadRequest is a permanent failure, TimedOut / network errors retry with backoff a bounded
number of times (so delivery is at-least-once for a message whose send timed out after Telegram got it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from storage import outbox
from storage.clock import Clock
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

Render = Callable[..., str]  # render(language, key, **params) -> str
MAX_ATTEMPTS = 5


def _markup(row: OutboxMessage, render: Render) -> InlineKeyboardMarkup | None:
    if not row.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    render(row.language, label[1:]) if label.startswith("@") else label, callback_data=data
                )
                for label, data in button_row
            ]
            for button_row in row.buttons
        ]
    )


def _text(row: OutboxMessage, render: Render) -> str:
    params: dict[str, Any] = dict(row.params or {})
    return render(row.language, row.template, **params)


async def drain(
    bot: Bot,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    render: Render,
    *,
    worker: str = "sender",
    batch: int = 50,
) -> int:
    """Send what is due now; returns the number of messages sent."""
    async with sessions.begin() as session:
        rows = await outbox.claim_due(session, worker=worker, now=clock.now(), limit=batch)
    sent = 0
    for row in rows:
        try:
            message = await bot.send_message(
                row.chat_id, _text(row, render), reply_markup=_markup(row, render)
            )
        except RetryAfter as error:
            delay = (
                error.retry_after
                if isinstance(error.retry_after, timedelta)
                else timedelta(seconds=error.retry_after)
            )
            async with sessions.begin() as session:
                for pending in rows[rows.index(row) :]:
                    await outbox.retry_later(session, pending.id, clock.now() + delay, str(error))
            log.warning("Telegram asked to wait %s; %d messages requeued", delay, len(rows) - rows.index(row))
            break
        except Forbidden as error:
            async with sessions.begin() as session:
                await outbox.mark_failed(session, row.id, str(error))
                await outbox.mark_unreachable(session, row.chat_id, clock.now())
        except BadRequest as error:
            async with sessions.begin() as session:
                await outbox.mark_failed(session, row.id, str(error))
        except (NetworkError, TelegramError) as error:
            async with sessions.begin() as session:
                if row.attempts >= MAX_ATTEMPTS:
                    await outbox.mark_failed(session, row.id, str(error))
                else:
                    backoff = timedelta(seconds=2**row.attempts)
                    await outbox.retry_later(session, row.id, clock.now() + backoff, str(error))
        else:
            sent += 1
            async with sessions.begin() as session:
                await outbox.mark_sent(session, row.id, message.message_id, clock.now())
    return sent
