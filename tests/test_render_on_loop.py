"""JSON responses of async views are rendered on the event loop, not in a worker thread."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref import sync as asgiref_sync
from django.test import AsyncClient
from django.urls import path
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIClient

from restflow.views import AsyncAPIView


class PingView(AsyncAPIView):
    authentication_classes = []
    permission_classes = []
    throttle_classes = []
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer]

    async def get(self, request: Request) -> Response:
        return Response({"pong": True})


class PrettyJSONRenderer(JSONRenderer):
    """A subclass may do anything in ``render``: it keeps the worker-thread render."""


class SubclassRendererView(PingView):
    renderer_classes = [PrettyJSONRenderer]


urlpatterns = [path("ping", PingView.as_view()), path("sub", SubclassRendererView.as_view())]
pytestmark = pytest.mark.urls(__name__)


@pytest.fixture
def thread_hops(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of every callable Django or restflow sends to a worker thread."""
    calls: list[str] = []
    original = asgiref_sync.SyncToAsync.__call__

    async def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(getattr(self.func, "__name__", repr(self.func)))
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(asgiref_sync.SyncToAsync, "__call__", counting)
    return calls


async def test_json_is_rendered_without_a_thread_hop(thread_hops: list[str]) -> None:
    response = await AsyncClient().get("/ping")
    assert response.status_code == 200
    assert response.json() == {"pong": True}
    assert "render" not in thread_hops


async def test_browsable_api_still_renders_in_a_worker_thread(thread_hops: list[str]) -> None:
    response = await AsyncClient().get("/ping", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert b"pong" in response.content
    assert "render" in thread_hops


async def test_renderer_subclass_keeps_the_worker_thread(thread_hops: list[str]) -> None:
    response = await AsyncClient().get("/sub")
    assert response.json() == {"pong": True}
    assert "render" in thread_hops


def test_sync_handler_path_is_unchanged() -> None:
    # Under WSGI (DRF's APIClient) Django renders synchronously: nothing to change.
    response = APIClient().get("/ping")
    assert response.status_code == 200
    assert response.json() == {"pong": True}
