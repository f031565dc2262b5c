"""A tiny ASGI client for the ``restflow.asgi`` tests: one HTTP exchange with an ASGI app.

The handlers are driven directly with ASGI ``scope``/``receive``/``send`` (Django's
``AsyncClient`` builds its own handler).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from restflow.asgi import ASGIHandler

__all__ = ["App", "Exchange", "call", "drained", "exchange"]

App = Callable[..., Awaitable[None]]


@dataclass
class Exchange:
    """What the client saw: the status, the response headers and the body."""

    status: int = 0
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""


async def exchange(
    app: App,
    url: str,
    *,
    query: bytes = b"",
    headers: Mapping[str, str] | None = None,
    disconnect: asyncio.Event | None = None,
) -> Exchange:
    """Send one GET to ``app`` and collect the response.

    ``disconnect``, once set, makes the client hang up (``http.disconnect``).
    """
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": url,
        "raw_path": url.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", b"testserver")]
        + [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    body_sent = False
    hang_up = disconnect if disconnect is not None else asyncio.Event()
    seen = Exchange()
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal body_sent
        if not body_sent:
            body_sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await hang_up.wait()
        return {"type": "http.disconnect"}

    async def send(message: Mapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            seen.status = message["status"]
            seen.headers = list(message.get("headers", []))
        else:
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    seen.body = b"".join(chunks)
    return seen


async def call(
    app: App,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    disconnect: asyncio.Event | None = None,
) -> tuple[int, Any]:
    """Send one GET to ``app``; return the status and the JSON body (else the raw bytes)."""
    seen = await exchange(app, url, headers=headers, disconnect=disconnect)
    try:
        return seen.status, json.loads(seen.body)
    except ValueError:
        return seen.status, seen.body


async def drained(app: ASGIHandler) -> None:
    """Wait for the work queued on the idle pooled threads (the upkeep after a request).

    That upkeep runs after the response is sent, without the loop waiting for it.
    """
    for executor in app.executors._idle:
        await asyncio.wrap_future(ThreadPoolExecutor.submit(executor, lambda: None))
