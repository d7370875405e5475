"""Webhook mode: an aiohttp server that takes Telegram's updates (secret-token header checked), and
serves /healthz (database reachable) and /metrics."""

from __future__ import annotations

import asyncio
import hmac
import logging
import signal
from urllib.parse import urlsplit

from aiohttp import web
from sqlalchemy import text
from telegram import Update

from bot.update_metrics import EngageApplication

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
APP_KEY = web.AppKey("engage_app", EngageApplication)


def webhook_path(webhook_url: str) -> str:
    return urlsplit(webhook_url).path or "/"


async def _webhook(request: web.Request) -> web.Response:
    app = request.app[APP_KEY]
    expected = app.settings.webhook_secret or ""
    given = request.headers.get(SECRET_HEADER, "")
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        return web.Response(status=403, text="forbidden")
    try:
        data = await request.json()
        if not isinstance(data, dict) or type(data.get("update_id")) is not int:
            raise ValueError("not an update object")
        update = Update.de_json(data, app.bot)
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as error:
        # JSON that is not an update is the sender's mistake (or a probe): a 400, not a traceback.
        log.warning("webhook body refused as malformed: %s", type(error).__name__)
        return web.Response(status=400, text="malformed update")
    await app.update_queue.put(update)
    return web.Response(text="ok")


async def _healthz(request: web.Request) -> web.Response:
    app = request.app[APP_KEY]
    try:
        async with app.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as error:  # any failure means "not healthy"; say which
        return web.json_response({"ok": False, "database": type(error).__name__}, status=503)
    return web.json_response({"ok": True, "database": "reachable"})


async def _metrics(request: web.Request) -> web.Response:
    metrics = request.app[APP_KEY].metrics
    lines = [
        "# TYPE engagebot_updates_processed_total counter",
        f"engagebot_updates_processed_total {metrics.processed}",
        "# TYPE engagebot_update_seconds_total counter",
        f"engagebot_update_seconds_total {metrics.seconds_total:.6f}",
    ]
    return web.Response(text="\n".join(lines) + "\n", content_type="text/plain")


def make_web_app(app: EngageApplication) -> web.Application:
    web_app = web.Application()
    web_app[APP_KEY] = app
    web_app.router.add_post(webhook_path(app.settings.webhook_url or "/telegram"), _webhook)
    web_app.router.add_get("/healthz", _healthz)
    web_app.router.add_get("/metrics", _metrics)
    return web_app


async def start_webhook(app: EngageApplication) -> web.AppRunner:
    """Start the Application and the web server, then register the webhook with Telegram."""
    settings = app.settings
    await app.initialize()
    if app.post_init:
        await app.post_init(app)
    await app.start()
    runner = web.AppRunner(make_web_app(app))
    await runner.setup()
    await web.TCPSite(runner, settings.listen_host, settings.listen_port).start()
    await app.bot.set_webhook(
        settings.webhook_url or "", secret_token=settings.webhook_secret, allowed_updates=Update.ALL_TYPES
    )
    log.info("webhook mode: listening on %s:%s", settings.listen_host, settings.listen_port)
    return runner


async def stop_webhook(app: EngageApplication, runner: web.AppRunner) -> None:
    """The order run_polling uses: stop taking updates, stop, post_stop (the sender, while the bot can
    still talk), shut down, post_shutdown. PTB's Application.stop() does not call post_stop itself."""
    await runner.cleanup()
    await app.stop()
    if app.post_stop:
        await app.post_stop(app)
    await app.shutdown()
    if app.post_shutdown:
        await app.post_shutdown(app)


async def serve_webhook(app: EngageApplication) -> None:
    """Webhook mode until SIGINT/SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    runner = await start_webhook(app)
    try:
        await stop.wait()
    finally:
        await stop_webhook(app, runner)
