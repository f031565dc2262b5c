"""JSON responses of async views are rendered on the event loop, not in a worker thread.

Unless DRF's behaviour needs otherwise: ``response.render()`` stays DRF's sync call, and a
response with post-render callbacks (``cache_page``, ``decorator_from_middleware``) is
rendered, callbacks and all, in a worker thread, as Django's handler renders it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from asgiref import sync as asgiref_sync
from django.contrib.auth.models import User
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.http import HttpRequest
from django.test import AsyncClient
from django.urls import path
from django.utils.decorators import decorator_from_middleware
from django.views.decorators.cache import cache_page
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIClient, APIRequestFactory
from rest_framework.views import APIView

from restflow.asgi import get_asgi_application
from restflow.test import AsyncAPIRequestFactory
from restflow.views import AsyncAPIView
from tests._asgi import exchange


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


# -- DRF's behaviour kept: sync render(), post-render callbacks off the loop ----------


class DRFPingView(APIView):
    authentication_classes = []
    permission_classes = []
    throttle_classes = []
    renderer_classes = [JSONRenderer]

    def get(self, request: Request) -> Response:
        return Response({"pong": True})


async def test_drf_documented_factory_usage_renders_synchronously() -> None:
    # DRF's testing guide: response = view(request); response.render(); response.content
    view: Any = PingView.as_view()
    ours = await view(AsyncAPIRequestFactory().get("/ping"))
    rendered = ours.render()
    theirs = DRFPingView.as_view()(APIRequestFactory().get("/ping"))
    theirs.render()
    assert rendered is ours
    assert ours.content == theirs.content == b'{"pong":true}'


async def test_a_callback_added_after_the_view_runs_where_render_is_called() -> None:
    view: Any = PingView.as_view()
    response = await view(AsyncAPIRequestFactory().get("/ping"))
    ran: list[str] = []
    response.add_post_render_callback(lambda r: ran.append(_thread_name()))
    response.render()
    assert ran == [_thread_name()]  # DRF's sync render: the caller's thread


#: (what, thread name) for each piece of the request: the view and each callback.
seen: list[tuple[str, str]] = []


def _thread_name() -> str:
    return threading.current_thread().name


def _touch_orm(what: str) -> None:
    User.objects.count()  # raises SynchronousOnlyOperation on the event loop
    seen.append((what, _thread_name()))


class SeenPingView(PingView):
    renderer_classes = [JSONRenderer]

    async def get(self, request: Request) -> Response:
        seen.append(("view", _thread_name()))
        return Response({"pong": True})


class ORMCache(LocMemCache):
    """A cache whose ``set`` reads the database (as the database cache does)."""

    def set(self, *args: Any, **kwargs: Any) -> None:
        _touch_orm("cache_page")
        super().set(*args, **kwargs)


class ORMMiddleware:
    """A middleware whose ``process_response`` reads the database."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def process_response(self, request: HttpRequest, response: Any) -> Any:
        _touch_orm("middleware")
        response["X-Touched"] = "yes"
        return response


# django-stubs type these decorators for sync views only; Django wraps async views too.
_async_view: Any = SeenPingView.as_view()
_cached = cache_page(60, cache="orm")(_async_view)
_decorated = decorator_from_middleware(ORMMiddleware)(_async_view)

urlpatterns += [path("cached", _cached), path("decorated", _decorated)]


@pytest.fixture
def orm_cache(settings: Any) -> Iterator[None]:
    seen.clear()
    # A location of its own: the suite clears only the default cache between tests.
    settings.CACHES = {
        **settings.CACHES,
        "orm": {"BACKEND": f"{__name__}.ORMCache", "LOCATION": "render-on-loop"},
    }
    caches["orm"].clear()
    yield
    caches["orm"].clear()
    seen.clear()


async def _get_stock(url: str) -> tuple[int, Any, dict[str, str]]:
    response = await AsyncClient().get(url)
    return response.status_code, response.json(), dict(response.headers)


async def _get_pooled(url: str) -> tuple[int, Any, dict[str, str]]:
    app = get_asgi_application()
    seen_exchange = await exchange(app, url)
    await app.aclose()
    headers = {k.decode(): v.decode() for k, v in seen_exchange.headers}
    return seen_exchange.status, json.loads(seen_exchange.body), headers


HANDLERS = pytest.mark.parametrize("get", [_get_stock, _get_pooled], ids=["django", "restflow"])


@HANDLERS
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("orm_cache")
async def test_cache_page_callback_runs_in_a_worker_thread(
    get: Callable[[str], Awaitable[tuple[int, Any, dict[str, str]]]], thread_hops: list[str]
) -> None:
    status, body, _ = await get("/cached")
    assert (status, body) == (200, {"pong": True})
    (view, on_loop), *callbacks = seen
    assert view == "view"
    # UpdateCacheMiddleware's post-render callback stores the page (and its key).
    assert {what for what, _ in callbacks} == {"cache_page"}
    assert all(thread != on_loop for _, thread in callbacks)
    assert "render" in thread_hops  # rendered with its callbacks, in one hop
    seen.clear()
    status, body, _ = await get("/cached")  # served from the cache: the view did not run
    assert (status, body, seen) == (200, {"pong": True}, [])


@HANDLERS
@pytest.mark.django_db(transaction=True)
async def test_middleware_decorator_callback_runs_in_a_worker_thread(
    get: Callable[[str], Awaitable[tuple[int, Any, dict[str, str]]]], thread_hops: list[str]
) -> None:
    seen.clear()
    status, body, headers = await get("/decorated")
    assert (status, body, headers["X-Touched"]) == (200, {"pong": True}, "yes")
    [(view, on_loop), (middleware, thread)] = seen
    assert (view, middleware) == ("view", "middleware")
    assert thread != on_loop
    assert thread_hops.count("render") == 1
