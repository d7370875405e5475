"""/healthz answers 503 when the database does not."""

from __future__ import annotations

import socket
from types import SimpleNamespace

from aiohttp.test_utils import TestClient, TestServer

from bot.application import UpdateMetrics
from bot.web import make_web_app
from storage import db


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
