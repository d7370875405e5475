"""A python-telegram-bot transport on aiohttp: `Bot(token, request=AiohttpRequest(...))`.

PTB's default transport (HTTPXRequest) costs ~2 ms of CPU per request under load (httpx, httpcore's
pool scanning every connection for each request, anyio); the outbox sender at 1,000 messages/s has
1 ms for everything. This one costs ~0.25 ms (benchmarks/outbox.py). It implements only
`BaseRequest.do_request`: PTB keeps building the request and mapping Telegram's answers to its errors
(RetryAfter, Forbidden, BadRequest, ChatMigrated, …), so a caller sees the same exceptions as with
HTTPXRequest. Network failures become TimedOut (any timeout) or NetworkError (anything else), as there.

Timeouts: aiohttp has no write timeout. `pool_timeout` + `connect_timeout` bound getting a connection
(aiohttp's `connect`, which includes waiting for a free one), `connect_timeout` the TCP connect,
`read_timeout` each read of the answer; a request with files is bounded as a whole by
`media_write_timeout` + `read_timeout`.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

_JSON = {"Content-Type": "application/json"}


def _given(value: ODVInput[float], default: float | None) -> float | None:
    return default if isinstance(value, DefaultValue) else value


class AiohttpRequest(BaseRequest):
    __slots__ = (
        "_connect_timeout",
        "_default_timeout",
        "_media_write_timeout",
        "_pool_size",
        "_pool_timeout",
        "_read_timeout",
        "_session",
    )

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._default_timeout = self._timeout(read_timeout, connect_timeout, pool_timeout, None)
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=self._default_timeout,
                headers={"User-Agent": self.USER_AGENT},
                cookie_jar=aiohttp.DummyCookieJar(),  # the Bot API sets no cookies
            )

    async def shutdown(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    @staticmethod
    def _timeout(
        read: float | None, connect: float | None, pool: float | None, total: float | None
    ) -> aiohttp.ClientTimeout:
        getting = None if connect is None or pool is None else connect + pool
        return aiohttp.ClientTimeout(total=total, connect=getting, sock_connect=connect, sock_read=read)

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data is not None else None
        timeout = self._default_timeout
        defaults = (read_timeout, write_timeout, connect_timeout, pool_timeout)
        if files or not all(isinstance(value, DefaultValue) for value in defaults):
            read = _given(read_timeout, self._read_timeout)
            write = _given(write_timeout, self._media_write_timeout if files else None)
            total = None if not files or write is None or read is None else write + read
            timeout = self._timeout(
                read,
                _given(connect_timeout, self._connect_timeout),
                _given(pool_timeout, self._pool_timeout),
                total,
            )
        kwargs: dict[str, Any] = {"timeout": timeout}
        if files:
            form = aiohttp.FormData()
            for name, value in (request_data.json_parameters if request_data else {}).items():
                form.add_field(name, value)
            for name, (filename, content, mimetype) in files.items():
                form.add_field(name, content, filename=filename, content_type=mimetype)
            kwargs["data"] = form
        elif request_data is not None and (parameters := request_data.parameters):
            # One JSON body (the Bot API takes it) costs a third of encoding each parameter for a form.
            kwargs["data"] = json.dumps(parameters).encode()
            kwargs["headers"] = _JSON
        try:
            async with session.request(method, url, **kwargs) as response:
                return response.status, await response.read()
        except TimeoutError as error:  # aiohttp's timeouts (ServerTimeoutError, ConnectionTimeoutError, …)
            if isinstance(error, aiohttp.ConnectionTimeoutError):
                raise TimedOut(
                    "No connection in time (a full pool or a slow connect): the request was not sent"
                ) from error
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error
