"""The sandbox page's HTTP server: static files and a small JSON API, on 127.0.0.1 by default.

It runs in the bot's own event loop (asyncio streams, the emulator's HTTP/1.1 reader). Every
POST must carry the `X-PropDesk-Sandbox` header, which a cross-site form cannot send without a
CORS preflight this server never grants; on a loopback address the Host header must name that
address, so a foreign web page cannot reach the sandbox through DNS rebinding either.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from importlib import resources
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from bot.emulator import _BadHttp, _read_request

log = logging.getLogger(__name__)

STATIC_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' blob:; style-src 'self'; "
    "script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
CSRF_HEADER = "x-propdesk-sandbox"


class PageError(Exception):
    """An API refusal: HTTP status and a short English reason for the page and the log."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, Any]:
        try:
            data = json.loads(self.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise PageError(400, "the body is not JSON") from None
        if not isinstance(data, dict):
            raise PageError(400, "the body must be a JSON object")
        return data


@dataclass
class Response:
    status: int
    payload: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, data: Any, status: int = 200) -> Response:
        return cls(status, json.dumps(data, ensure_ascii=False).encode())


Route = Callable[[Request], Awaitable[Response]]


def static_file(name: str) -> Response | None:
    """A shipped page asset by its plain name (no paths), or None."""
    suffix = name[name.rfind(".") :] if "." in name else ""
    if "/" in name or "\\" in name or name.startswith(".") or suffix not in STATIC_TYPES:
        return None
    asset = resources.files("bot.sandbox").joinpath("static", name)
    if not asset.is_file():
        return None
    return Response(200, asset.read_bytes(), STATIC_TYPES[suffix])


class PageServer:
    """Serves `routes` (method, path prefix) → handler, plus `/` and `/static/<name>`."""

    def __init__(self, routes: dict[tuple[str, str], Route]) -> None:
        self.routes = routes
        self.port = 0
        self.host = "127.0.0.1"
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self, host: str, port: int) -> int:
        self.host = host
        self._server = await asyncio.start_server(self._connection, host, port)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        for task in list(self._tasks):  # pages waiting on a long poll
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None

    def _host_allowed(self, headers: dict[str, str]) -> bool:
        if self.host not in LOOPBACK:
            return True  # the operator chose to expose it; the Host header may be anything
        host = headers.get("host", "")
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        return name in LOOPBACK

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        self._writers.add(writer)
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    break
                method, target, headers, body = request
                split = urlsplit(target)
                req = Request(method, unquote(split.path), dict(parse_qsl(split.query)), headers,
                              body)  # fmt: skip
                response = await self._answer(req)
                keep = headers.get("connection", "").lower() != "close"
                await self._respond(writer, response, keep)
                if not keep:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        except _BadHttp as exc:
            with contextlib.suppress(ConnectionError):
                await self._respond(writer, Response.of({"error": str(exc)}, exc.status), False)
        finally:
            self._writers.discard(writer)
            if task is not None:
                self._tasks.discard(task)
            writer.close()

    async def _answer(self, req: Request) -> Response:
        try:
            if not self._host_allowed(req.headers):
                raise PageError(403, "unexpected Host header")
            if req.method == "POST" and req.headers.get(CSRF_HEADER) != "1":
                raise PageError(403, "missing the X-PropDesk-Sandbox header")
            if req.method == "GET" and req.path in ("/", "/index.html"):
                page = static_file("index.html")
                assert page is not None
                return page
            if req.method == "GET" and req.path == "/favicon.ico":
                return Response(204, b"", "image/x-icon")
            if req.method == "GET" and req.path.startswith("/static/"):
                found = static_file(req.path.removeprefix("/static/"))
                if found is None:
                    raise PageError(404, "not found")
                return found
            for (method, prefix), route in self.routes.items():
                if req.method == method and (
                    req.path == prefix or (prefix.endswith("/") and req.path.startswith(prefix))
                ):
                    return await route(req)
            raise PageError(404 if req.method in ("GET", "POST") else 405, "not found")
        except PageError as exc:
            return Response.of({"error": exc.reason}, exc.status)
        except Exception:  # a sandbox bug must not take the page down; the log has it
            log.exception("sandbox page request failed: %s %s", req.method, req.path)
            return Response.of({"error": "internal error (see the sandbox's log)"}, 500)

    @staticmethod
    async def _respond(writer: asyncio.StreamWriter, response: Response, keep: bool) -> None:
        try:
            phrase = HTTPStatus(response.status).phrase
        except ValueError:
            phrase = "Error"
        headers = {
            "Content-Type": response.content_type,
            "Content-Length": str(len(response.payload)),
            "Connection": "keep-alive" if keep else "close",
            **SECURITY_HEADERS,
            **response.headers,
        }
        head = f"HTTP/1.1 {response.status} {phrase}\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in headers.items()
        )
        writer.write(head.encode("latin-1") + b"\r\n" + response.payload)
        await writer.drain()
