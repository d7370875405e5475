"""Inline buttons as database rows: callback_data carries a short opaque token, checked against the
person pressing it, so a button works after a restart and a forged one gets a clear answer."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage.core.models import Button
from storage.core.refusals import Refused

PREFIX = "b:"


class ButtonRefused(Refused):
    """`code`: button.stale (unknown or expired) or button.not_yours."""


async def issue(
    session: AsyncSession,
    action: str,
    payload: dict[str, Any] | None = None,
    *,
    user_id: int | None,
    now: datetime,
    ttl: timedelta | None = None,
) -> str:
    """A new button; returns its callback_data (≤ 64 bytes). handlers.buttons routes presses by action."""
    token = secrets.token_urlsafe(9)
    session.add(
        Button(
            token=token,
            action=action,
            payload=payload or {},
            user_id=user_id,
            created_at=now,
            expires_at=now + ttl if ttl else None,
        )
    )
    await session.flush()
    return PREFIX + token


async def resolve(session: AsyncSession, callback_data: str, user_id: int, now: datetime) -> Button:
    """The button behind callback_data, if it exists, is not expired and may be pressed by user_id.

    Buttons with no owner (user_id None) are for staff; the caller checks the chat.
    """
    if not callback_data.startswith(PREFIX):
        raise ButtonRefused("button.stale")
    button = await session.get(Button, callback_data[len(PREFIX) :])
    if button is None or (button.expires_at is not None and button.expires_at <= now):
        raise ButtonRefused("button.stale")
    if button.user_id is not None and button.user_id != user_id:
        raise ButtonRefused("button.not_yours")
    return button


async def issue_choice(
    session: AsyncSession,
    actions: list[str],
    payload: dict[str, Any],
    *,
    user_id: int | None,
    now: datetime,
    ttl: timedelta | None = None,
) -> list[str]:
    """Buttons that answer one question (Confirm / Cancel): pressing any one spends them all, via
    consume(). Returns their callback_data in the order of `actions`."""
    tokens = [secrets.token_urlsafe(9) for _ in actions]
    for token, action in zip(tokens, actions, strict=True):
        session.add(
            Button(
                token=token,
                action=action,
                payload={**payload, "choice": tokens},
                user_id=user_id,
                created_at=now,
                expires_at=now + ttl if ttl else None,
            )
        )
    await session.flush()
    return [PREFIX + token for token in tokens]


async def consume(session: AsyncSession, button: Button) -> None:
    """Spend a button (and the other buttons of its choice): pressing any of them again is stale."""
    tokens = button.payload.get("choice") or [button.token]
    await session.execute(delete(Button).where(Button.token.in_(tokens)))
