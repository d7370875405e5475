"""A failure inside a handler reaches the user as a polite message in their language, never as details."""

from __future__ import annotations

import pytest

from storage.people import customers
from tests.e2e.harness import Harness


async def test_an_internal_error_is_answered_politely(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("connection string postgres://secret@db")

    monkeypatch.setattr(customers, "get", broken)
    zoe = harness.customer(601, "Zoe", language_code="zh")
    await zoe.send("/start")
    reply = zoe.last().text
    assert reply == harness.t("zh", "common.error")
    assert "secret" not in reply and "RuntimeError" not in reply

    monkeypatch.undo()
    await zoe.send("/start")  # the bot keeps working
    assert "你好" in zoe.last().text
