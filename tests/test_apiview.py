"""The dispatch loop answers exactly as DRF's ``APIView`` does.

Each scenario is one view written three times, on DRF's ``APIView``, restflow's ``APIView``
and restflow's ``AsyncAPIView`` (same class name, same policies, same handler body). The
same request is sent to DRF's and to restflow's, through DRF's ``APIClient`` and Django's
ASGI ``AsyncClient``; status, JSON body and DRF's headers must be identical, and match the
values DRF documents.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast

import pytest
from django.contrib.auth.models import User
from django.urls import URLPattern, path
from rest_framework import views as drf_views
from rest_framework.authentication import BasicAuthentication
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle

from restflow.views import APIView, AsyncAPIView
from tests._clients import CLIENTS, basic_auth, on_loop, outcome, send

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]

Body = Callable[[drf_views.APIView, Request], Response]
KINDS = ("drf", "sync", "async")
_BASES: dict[str, type[drf_views.APIView]] = {
    "drf": drf_views.APIView,
    "sync": APIView,
    "async": AsyncAPIView,
}


def _handler(kind: str, body: Body) -> Callable[..., Any]:
    if kind == "async":

        async def ahandler(
            self: drf_views.APIView, request: Request, *a: Any, **k: Any
        ) -> Response:
            return body(self, request)

        return ahandler

    def handler(self: drf_views.APIView, request: Request, *a: Any, **k: Any) -> Response:
        return body(self, request)

    return handler


def build(kind: str, name: str, handlers: Mapping[str, Body], **policies: Any) -> Any:
    """``name`` on ``kind``'s base, with ``handlers`` and the policy attributes."""
    namespace: dict[str, Any] = {"__module__": __name__, **policies}
    namespace.update({method: _handler(kind, body) for method, body in handlers.items()})
    return type(name, (_BASES[kind],), namespace)


# -- handler bodies and hooks --------------------------------------------------------


def whoami(view: drf_views.APIView, request: Request) -> Response:
    return Response({"user": request.user.username, "auth": request.auth, "loop": on_loop()})


def echo(view: drf_views.APIView, request: Request) -> Response:
    return Response({"echo": request.data})


def ok(view: drf_views.APIView, request: Request) -> Response:
    return Response({"ok": True})


class MembersOnly(BasePermission):
    message = "Members only."
    code = "members_only"

    def has_permission(self, request: Request, view: drf_views.APIView) -> bool:
        return False


class Refuses(BaseThrottle):
    """Refuses every request; ``seconds`` is what ``wait()`` reports."""

    seconds: float | None = None

    def allow_request(self, request: Request, view: drf_views.APIView) -> bool:
        return False

    def wait(self) -> float | None:
        return self.seconds


class RefusesFor3(Refuses):
    seconds = 3.0


class RefusesFor7(Refuses):
    seconds = 7.0


class RefusesWithoutWait(Refuses):
    pass


class Allows(BaseThrottle):
    def allow_request(self, request: Request, view: drf_views.APIView) -> bool:
        return True


OPEN: dict[str, Any] = {"authentication_classes": [], "permission_classes": [AllowAny]}
SCENARIOS: dict[str, tuple[dict[str, Body], dict[str, Any]]] = {
    "basic": (
        {"get": whoami},
        {"authentication_classes": [BasicAuthentication], "permission_classes": [IsAuthenticated]},
    ),
    "members": ({"get": ok}, {"authentication_classes": [], "permission_classes": [MembersOnly]}),
    "throttled": (
        {"get": ok},
        {**OPEN, "throttle_classes": [RefusesFor3, Allows, RefusesFor7, RefusesWithoutWait]},
    ),
    "unknown-wait": ({"get": ok}, {**OPEN, "throttle_classes": [RefusesWithoutWait]}),
    "echo": ({"get": ok, "post": echo}, {}),
}

urlpatterns: list[URLPattern] = [
    path(f"{kind}/{slug}/", build(kind, "ProbeView", handlers, **policies).as_view())
    for kind in KINDS
    for slug, (handlers, policies) in SCENARIOS.items()
]


def compare(client: str, kind: str, method: str, slug: str, **kwargs: Any) -> Any:
    """Send the request to DRF's view and to ``kind``'s; assert both answer alike."""
    expected = send(client, method, f"/drf/{slug}/", **kwargs)
    actual = send(client, method, f"/{kind}/{slug}/", **kwargs)
    assert outcome(actual) == outcome(expected)
    return actual


restflow_kinds = pytest.mark.parametrize("kind", ["sync", "async"])
clients = pytest.mark.parametrize("client", CLIENTS)


@restflow_kinds
@clients
def test_missing_credentials_is_401_with_www_authenticate(client: str, kind: str) -> None:
    response = compare(client, kind, "get", "basic")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Basic realm="api"'
    assert response.data["detail"].code == "not_authenticated"


@restflow_kinds
@clients
def test_wrong_credentials_is_401(client: str, kind: str, user: User) -> None:
    response = compare(client, kind, "get", "basic", headers=basic_auth("alice", "wrong"))
    assert response.status_code == 401
    assert response.data["detail"].code == "authentication_failed"


@restflow_kinds
@clients
def test_authenticated_user_and_auth_reach_the_handler(client: str, kind: str, user: User) -> None:
    headers = basic_auth("alice", "alice-password")
    response = send(client, "get", f"/{kind}/basic/", headers=headers)
    assert response.status_code == 200
    # The async handler reads request.user/auth on the loop: authentication already ran.
    assert response.data == {"user": "alice", "auth": None, "loop": kind == "async"}


@restflow_kinds
@clients
def test_permission_message_and_code(client: str, kind: str) -> None:
    response = compare(client, kind, "get", "members")
    assert response.status_code == 403
    assert response.data["detail"] == "Members only."
    assert response.data["detail"].code == "members_only"


@restflow_kinds
@clients
def test_throttled_reports_the_longest_wait(client: str, kind: str) -> None:
    response = compare(client, kind, "get", "throttled")
    assert response.status_code == 429
    assert response["Retry-After"] == "7"
    assert response.data["detail"].code == "throttled"


@restflow_kinds
@clients
def test_throttled_without_a_known_wait_has_no_retry_after(client: str, kind: str) -> None:
    response = compare(client, kind, "get", "unknown-wait")
    assert response.status_code == 429
    assert "Retry-After" not in response


@restflow_kinds
@clients
def test_method_not_allowed_lists_allowed_methods(client: str, kind: str) -> None:
    response = compare(client, kind, "delete", "echo")
    assert response.status_code == 405
    assert set(response["Allow"].split(", ")) == {"GET", "POST", "HEAD", "OPTIONS"}


@restflow_kinds
@clients
def test_unacceptable_accept_header_is_406(client: str, kind: str) -> None:
    response = compare(client, kind, "get", "echo", headers={"Accept": "application/xml"})
    assert response.status_code == 406
    assert response.data["detail"].code == "not_acceptable"


@restflow_kinds
@clients
def test_unsupported_media_type_is_415(client: str, kind: str) -> None:
    response = compare(client, kind, "post", "echo", body="name=x", content_type="text/plain")
    assert response.status_code == 415
    assert response.data["detail"].code == "unsupported_media_type"


@restflow_kinds
@clients
def test_malformed_json_is_400(client: str, kind: str) -> None:
    response = compare(client, kind, "post", "echo", body='{"name": ')
    assert response.status_code == 400
    assert response.data["detail"].code == "parse_error"


@restflow_kinds
@clients
def test_json_body_is_parsed(client: str, kind: str) -> None:
    response = compare(client, kind, "post", "echo", body='{"name": "x"}')
    assert response.status_code == 200
    assert response.data == {"echo": {"name": "x"}}


@restflow_kinds
@clients
def test_options_returns_drf_metadata(client: str, kind: str) -> None:
    response = compare(client, kind, "options", "echo")
    assert response.status_code == 200
    assert response.data["name"] == "Probe"
    assert "actions" not in response.data


@clients
def test_async_view_is_served_as_a_coroutine(client: str) -> None:
    view = cast(Any, urlpatterns[KINDS.index("async") * len(SCENARIOS)].callback)
    assert view.view_class is not None
    assert drf_views.APIView in view.view_class.__mro__
    response = send(client, "get", "/async/echo/")
    assert response.status_code == 200
