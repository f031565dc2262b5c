"""Exception handling: a custom ``EXCEPTION_HANDLER``, sync or ``async def``, on both views.

DRF reads ``EXCEPTION_HANDLER`` through ``api_settings``, which it reloads on Django's
``setting_changed`` signal for ``REST_FRAMEWORK``; pytest-django's ``settings`` fixture
sends that signal, so each test swaps the handler and gets DRF's defaults back afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import URLPattern, path
from pytest_django.fixtures import Settings as SettingsWrapper
from rest_framework import exceptions
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler

from restflow.views import APIView, AsyncAPIView
from tests._clients import CLIENTS, on_loop, send

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]

#: Where each handler call ran: True on the event loop.
CALLS: list[bool] = []


class Boom(Exception):
    """Not an APIException: DRF's default handler returns None for it."""


def sync_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    CALLS.append(on_loop())
    response = exception_handler(exc, context)
    if response is not None:
        response.data = {"handled": "sync", "view": type(context["view"]).__name__}
    return response


async def async_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    CALLS.append(on_loop())
    response = exception_handler(exc, context)
    if response is not None:
        response.data = {"handled": "async", "view": type(context["view"]).__name__}
    return response


def gives_up(exc: Exception, context: dict[str, Any]) -> Response | None:
    CALLS.append(on_loop())
    return None


async def agives_up(exc: Exception, context: dict[str, Any]) -> Response | None:
    CALLS.append(on_loop())
    return None


HANDLERS = {
    "sync": f"{__name__}.sync_handler",
    "async": f"{__name__}.async_handler",
    "sync-none": f"{__name__}.gives_up",
    "async-none": f"{__name__}.agives_up",
}


class SyncFails(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        raise exceptions.NotFound("nothing here")

    def post(self, request: Request) -> Response:
        raise Boom("unexpected")


class AsyncFails(AsyncAPIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    async def get(self, request: Request) -> Response:
        raise exceptions.NotFound("nothing here")

    async def post(self, request: Request) -> Response:
        raise Boom("unexpected")


urlpatterns: list[URLPattern] = [
    path("sync/", SyncFails.as_view()),
    path("async/", AsyncFails.as_view()),
]


@pytest.fixture
def use_handler(settings: SettingsWrapper) -> Iterator[Any]:
    CALLS.clear()

    def use(name: str) -> None:
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "EXCEPTION_HANDLER": HANDLERS[name]}

    yield use
    CALLS.clear()


kinds = pytest.mark.parametrize("kind", ["sync", "async"])
clients = pytest.mark.parametrize("client", CLIENTS)


@kinds
@clients
@pytest.mark.parametrize("handler", ["sync", "async"])
def test_custom_exception_handler_shapes_the_response(
    client: str, kind: str, handler: str, use_handler: Any
) -> None:
    use_handler(handler)
    response = send(client, "get", f"/{kind}/")
    assert response.status_code == 404
    view = "SyncFails" if kind == "sync" else "AsyncFails"
    assert response.data == {"handled": handler, "view": view}
    # An async handler is awaited (on the view's loop, or its own on a sync view); a sync
    # one never runs on a loop, not even on the async view.
    assert [handler == "async"] == CALLS


@kinds
@clients
@pytest.mark.parametrize("handler", ["sync-none", "async-none"])
def test_handler_returning_none_reraises(
    client: str, kind: str, handler: str, use_handler: Any
) -> None:
    use_handler(handler)
    with pytest.raises(exceptions.NotFound, match="nothing here"):
        send(client, "get", f"/{kind}/")
    assert len(CALLS) == 1


@kinds
@clients
def test_default_handler_lets_unexpected_errors_propagate(client: str, kind: str) -> None:
    with pytest.raises(Boom, match="unexpected"):
        send(client, "post", f"/{kind}/")


@kinds
@clients
def test_default_handler_renders_api_exceptions(client: str, kind: str) -> None:
    response = send(client, "get", f"/{kind}/")
    assert response.status_code == 404
    assert response.data == {"detail": "nothing here"}
    assert response.data["detail"].code == "not_found"
