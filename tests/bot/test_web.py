"""The webhook server: /healthz answers 503 without a database; a body that is not an update is a 400."""

from __future__ import annotations

import asyncio
import logging
import socket
from types import SimpleNamespace

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.update_metrics import UpdateMetrics
from bot.web import SECRET_HEADER, make_web_app
from storage.core import db


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens there once the socket closes


async def test_healthz_reports_an_unreachable_database() -> None:
    engine = db.create_engine(f"postgresql+asyncpg://nobody@127.0.0.1:{_closed_port()}/none")
    app = SimpleNamespace(
        settings=SimpleNamespace(webhook_url="https://example.org/hook", webhook_secret="x"),
        engine=engine,
        metrics=UpdateMetrics(),
    )
    async with TestClient(TestServer(make_web_app(app))) as client:  # type: ignore[arg-type]
        response = await client.get("/healthz")
        assert response.status == 503
        assert (await response.json())["ok"] is False
        forbidden = await client.post("/hook", json={})
        assert forbidden.status == 403
    await engine.dispose()


BAD_BODIES = ["[]", '"x"', "1", "null", '{"foo": 1}', '{"update_id": "x"}', '{"update_id": true}',
              '{"update_id": 1, "message": "x"}', '{"update_id": 1, "message": {"x": 1}}',
              "[" * 100_000 + "]" * 100_000, "{not json"]  # fmt: skip


async def test_a_body_that_is_not_an_update_is_a_quiet_400(caplog: pytest.LogCaptureFixture) -> None:
    queue: asyncio.Queue[object] = asyncio.Queue()
    app = SimpleNamespace(
        settings=SimpleNamespace(webhook_url="https://example.org/hook", webhook_secret="s3cret"),
        bot=None,
        update_queue=queue,
    )
    caplog.set_level(logging.WARNING, logger="bot.web")
    async with TestClient(TestServer(make_web_app(app))) as client:  # type: ignore[arg-type]
        for body in BAD_BODIES:
            response = await client.post(
                "/hook", data=body, headers={SECRET_HEADER: "s3cret", "Content-Type": "application/json"}
            )
            assert response.status == 400, body[:40]
    assert queue.empty()
    refused = [r for r in caplog.records if r.name == "bot.web"]
    assert len(refused) == len(BAD_BODIES)
    assert all(r.levelno == logging.WARNING and r.exc_info is None for r in refused)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
