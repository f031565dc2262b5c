"""Drive one request through DRF's ``APIClient`` or Django's ASGI ``AsyncClient``.

Both clients return the response object the view produced, so tests can read ``.data``
(DRF's ``ErrorDetail`` codes) as well as the rendered bytes and headers. The async client
is driven with ``async_to_sync`` from the test's thread, exactly as ``conftest.py`` runs
``async def`` tests: thread-sensitive hops come back to the test's DB connection.
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

from asgiref.sync import async_to_sync
from django.http.response import HttpResponseBase
from django.test import AsyncClient
from rest_framework.test import APIClient

__all__ = ["CLIENTS", "basic_auth", "on_loop", "outcome", "send"]

#: ``api``: DRF's APIClient (WSGI-style handler); ``asgi``: Django's AsyncClient.
CLIENTS = ("api", "asgi")

_COMPARED_HEADERS = ("Allow", "Content-Type", "Retry-After", "Vary", "WWW-Authenticate")


def send(
    client: str,
    method: str,
    path: str,
    *,
    body: str = "",
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> Any:
    """Send one request with ``client`` (see :data:`CLIENTS`) and return the response."""
    if client == "api":
        return APIClient().generic(
            method.upper(), path, data=body, content_type=content_type, headers=headers
        )

    async def through_asgi() -> Any:
        return await AsyncClient().generic(
            method.upper(), path, data=body, content_type=content_type, headers=headers
        )

    return async_to_sync(through_asgi)()


def outcome(response: HttpResponseBase) -> tuple[int, Any, dict[str, str | None]]:
    """What a client sees: status, decoded JSON body, and the headers DRF sets."""
    content: bytes = getattr(response, "content", b"")
    decoded = json.loads(content) if content else None
    return (
        response.status_code,
        decoded,
        {name: response.headers.get(name) for name in _COMPARED_HEADERS},
    )


def basic_auth(username: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def on_loop() -> bool:
    """True when called from a thread that is running an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
