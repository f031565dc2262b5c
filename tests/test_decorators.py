"""``restflow.decorators.api_view``: function-based views, sync and async.

The same function body decorated with DRF's ``api_view`` and restflow's answers alike; the
``async def`` version is served by ``AsyncAPIView``'s dispatch loop (handler on the loop,
no hop), and DRF's own policy decorators configure it.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.urls import URLPattern, path
from rest_framework import decorators as drf
from rest_framework.authentication import BasicAuthentication
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView as DrfAPIView

from restflow import decorators
from restflow.test import hop_count
from restflow.views import APIView, AsyncAPIView
from tests._clients import CLIENTS, basic_auth, on_loop, outcome, send

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]


class NoThanks(BaseThrottle):
    def allow_request(self, request: Request, view: DrfAPIView) -> bool:
        return False

    def wait(self) -> float | None:
        return 4.0


class MembersOnly(BasePermission):
    message = "Members only."

    def has_permission(self, request: Request, view: DrfAPIView) -> bool:
        return False


def _body(request: Request, pk: int | None = None) -> Response:
    return Response({"method": request.method, "pk": pk, "user": request.user.username})


@drf.api_view(["GET", "POST"])
@drf.authentication_classes([])
@drf.permission_classes([AllowAny])
def drf_echo(request: Request, pk: int | None = None) -> Response:
    return _body(request, pk)


@decorators.api_view(["GET", "POST"])
@drf.authentication_classes([])
@drf.permission_classes([AllowAny])
def sync_echo(request: Request, pk: int | None = None) -> Response:
    return _body(request, pk)


@decorators.api_view(["GET", "POST"])
@decorators.authentication_classes([])
@decorators.permission_classes([AllowAny])
async def async_echo(request: Request, pk: int | None = None) -> Response:
    response = _body(request, pk)
    response["X-Loop"] = str(on_loop())
    return response


@decorators.api_view()
@decorators.authentication_classes([BasicAuthentication])
@decorators.permission_classes([IsAuthenticated])
async def async_whoami(request: Request) -> Response:
    """Who is asking."""
    return Response({"user": request.user.username})


@drf.api_view(["GET"])
@drf.throttle_classes([NoThanks])
@drf.permission_classes([MembersOnly])
def drf_policies(request: Request) -> Response:
    return Response({})


# DRF's stubs type its policy decorators for sync views only (restflow.decorators' re-exports
# accept async ones); at runtime DRF's work on an async view. mypy reports the decorator
# stack's error on its first line.
@decorators.api_view(["GET"])  # type: ignore[type-var]
@drf.throttle_classes([NoThanks])
@drf.permission_classes([MembersOnly])
async def async_policies(request: Request) -> Response:
    return Response({})


@decorators.api_view(["GET"])
@decorators.throttle_classes([NoThanks])
@decorators.authentication_classes([])
async def async_throttled(request: Request) -> Response:
    return Response({})


@decorators.api_view(["POST"])
@decorators.parser_classes([JSONParser])
@decorators.renderer_classes([JSONRenderer])
@decorators.schema(None)
@decorators.authentication_classes([])
async def async_json_only(request: Request) -> Response:
    return Response({"got": request.data})


urlpatterns: list[URLPattern] = [
    path("drf/", drf_echo),
    path("drf/<int:pk>/", drf_echo),
    path("sync/", sync_echo),
    path("sync/<int:pk>/", sync_echo),
    path("async/", async_echo),
    path("async/<int:pk>/", async_echo),
    path("whoami/", async_whoami),
    path("drf-policies/", drf_policies),
    path("async-policies/", async_policies),
    path("throttled/", async_throttled),
    path("json-only/", async_json_only),
]

kinds = pytest.mark.parametrize("kind", ["sync", "async"])
clients = pytest.mark.parametrize("client", CLIENTS)


def test_view_classes() -> None:
    assert issubclass(sync_echo.cls, APIView)
    assert not issubclass(sync_echo.cls, AsyncAPIView)
    assert issubclass(async_echo.cls, AsyncAPIView)
    assert async_echo.cls.__name__ == "async_echo"
    assert async_whoami.cls.__doc__ == "Who is asking."
    assert async_echo.csrf_exempt is True


@kinds
@clients
@pytest.mark.parametrize(("method", "url"), [("get", "/"), ("post", "/"), ("get", "/7/")])
def test_answers_like_drf(client: str, kind: str, method: str, url: str) -> None:
    expected = send(client, method, f"/drf{url}")
    actual = send(client, method, f"/{kind}{url}")
    assert outcome(actual) == outcome(expected)
    assert actual.status_code == 200
    assert actual.data["method"] == method.upper()


@kinds
@clients
def test_unlisted_method_is_405(client: str, kind: str) -> None:
    response = send(client, "delete", f"/{kind}/")
    assert outcome(response) == outcome(send(client, "delete", "/drf/"))
    assert response.status_code == 405
    assert set(response["Allow"].split(", ")) == {"GET", "POST", "OPTIONS"}


@kinds
@clients
def test_options_is_always_allowed(client: str, kind: str) -> None:
    response = send(client, "options", f"/{kind}/")
    status, body, headers = outcome(response)
    drf_status, drf_body, drf_headers = outcome(send(client, "options", "/drf/"))
    assert body.pop("name") == f"{kind.capitalize()} Echo"  # the function's name
    assert drf_body.pop("name") == "Drf Echo"
    assert (status, body, headers) == (drf_status, drf_body, drf_headers)


@clients
def test_async_function_runs_on_the_loop_without_a_hop(client: str) -> None:
    before = hop_count()
    response = send(client, "get", "/async/")
    assert response["X-Loop"] == "True"
    assert hop_count() - before == 0


@clients
def test_policy_decorators_configure_the_async_view(client: str, user: User) -> None:
    assert send(client, "get", "/whoami/").status_code == 401
    response = send(client, "get", "/whoami/", headers=basic_auth("alice", "alice-password"))
    assert response.data == {"user": "alice"}


@clients
def test_drf_policy_decorators_match_drf(client: str) -> None:
    response = send(client, "get", "/async-policies/")
    assert outcome(response) == outcome(send(client, "get", "/drf-policies/"))
    assert response.status_code == 403


@clients
def test_throttle_classes(client: str) -> None:
    response = send(client, "get", "/throttled/")
    assert response.status_code == 429
    assert response["Retry-After"] == "4"


@clients
def test_parser_and_renderer_classes(client: str) -> None:
    assert async_json_only.cls.schema is None
    ok = send(client, "post", "/json-only/", body='{"a": 1}')
    assert ok.data == {"got": {"a": 1}}
    form = send(client, "post", "/json-only/", body="a=1", content_type="text/plain")
    assert form.status_code == 415
    html = send(client, "get", "/json-only/", headers={"Accept": "text/html"})
    assert html.status_code == 406


def test_policy_decorator_above_api_view_is_refused() -> None:
    with pytest.raises(TypeError, match="must come after"):
        decorators.permission_classes([AllowAny])(sync_echo)


def test_api_view_without_method_list_is_refused() -> None:
    not_a_list: Any = sync_echo.cls.get
    with pytest.raises(ImproperlyConfigured, match="missing list of allowed HTTP methods"):
        decorators.api_view(not_a_list)
    with pytest.raises(ImproperlyConfigured, match="expected a list of strings, received str"):
        decorators.api_view("GET")
