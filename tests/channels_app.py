"""The demo shop's API mounted in a Django Channels ``ProtocolTypeRouter``.

HTTP goes to restflow's ASGI handler (the demo's REST API), and ``/ws/echo/`` to a
websocket consumer. Served by Daphne in ``tests/test_servers.py``, from ``example/``::

    daphne -b 127.0.0.1 -p 8000 tests.channels_app:application
"""

from __future__ import annotations

import os

from restflow.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop_project.settings")
# Django is set up (by restflow's handler, as by Django's) before consumers are imported.
http_application = get_asgi_application()

from channels.generic.websocket import (  # type: ignore[import-untyped]  # noqa: E402  # channels ships no type hints
    AsyncWebsocketConsumer,
)
from channels.routing import (  # type: ignore[import-untyped]  # noqa: E402  # channels ships no type hints
    ProtocolTypeRouter,
    URLRouter,
)
from django.urls import path  # noqa: E402


class Echo(AsyncWebsocketConsumer):  # type: ignore[misc]  # an untyped base class (channels)
    """Answers every text message with ``echo: <message>``."""

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        await self.send(text_data=f"echo: {text_data}")


application = ProtocolTypeRouter(
    {
        "http": http_application,
        "websocket": URLRouter([path("ws/echo/", Echo.as_asgi())]),
    }
)
