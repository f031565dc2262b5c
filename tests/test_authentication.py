"""restflow's authentication classes answer exactly as DRF's, on sync and async views.

Every scenario sends the same request to a DRF view using DRF's class and to restflow
views (``APIView`` and ``AsyncAPIView``) using restflow's, through DRF's ``APIClient`` and
Django's ASGI ``AsyncClient``: status, JSON body and ``WWW-Authenticate`` must be identical.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth.models import User
from django.test import AsyncClient
from django.urls import path
from rest_framework import authentication as drf_authentication
from rest_framework import exceptions
from rest_framework import views as drf_views
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIClient
from typing_extensions import override

from restflow import authentication
from restflow.test import hop_count
from restflow.views import APIView, AsyncAPIView
from tests._clients import CLIENTS, basic_auth, outcome, send

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]

SCHEMES: dict[str, tuple[type[drf_authentication.BaseAuthentication], type[Any]]] = {
    "basic": (drf_authentication.BasicAuthentication, authentication.BasicAuthentication),
    "token": (drf_authentication.TokenAuthentication, authentication.TokenAuthentication),
    "session": (drf_authentication.SessionAuthentication, authentication.SessionAuthentication),
}
KINDS = ("sync", "async")


def _who(request: Request) -> dict[str, Any]:
    auth = request.auth
    return {"user": request.user.username, "auth": None if auth is None else type(auth).__name__}


class DRFWho(drf_views.APIView):
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(_who(request))

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(_who(request))


class SyncWho(APIView):
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(_who(request))

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(_who(request))


class AsyncWho(AsyncAPIView):
    async def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(_who(request))

    async def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(_who(request))


class ExpiredSync(authentication.TokenAuthentication):
    """A user's sync override of the credentials check (runs in a thread on async views)."""

    @override
    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        super().authenticate_credentials(key)  # the ORM lookup: must not run on the loop
        raise exceptions.AuthenticationFailed("Token has expired.")


class ExpiredAsync(authentication.TokenAuthentication):
    """A user's async override of the credentials check."""

    @override
    async def aauthenticate_credentials(self, key: str) -> tuple[Any, Any]:
        await super().aauthenticate_credentials(key)
        raise exceptions.AuthenticationFailed("Token has expired.")


def _view(base: type[drf_views.APIView], auth: type[Any], permission: type[Any]) -> Any:
    attrs = {
        "__module__": __name__,
        "authentication_classes": [auth],
        "permission_classes": [permission],
    }
    configured: type[drf_views.APIView] = type(base.__name__, (base,), attrs)
    return configured.as_view()


_BASES: dict[str, type[drf_views.APIView]] = {"sync": SyncWho, "async": AsyncWho}

urlpatterns = [
    *(
        path(f"drf/{name}/", _view(DRFWho, drf, IsAuthenticated))
        for name, (drf, _) in SCHEMES.items()
    ),
    *(
        path(f"{kind}/{name}/", _view(base, ours, IsAuthenticated))
        for kind, base in _BASES.items()
        for name, (_, ours) in SCHEMES.items()
    ),
    *(
        path(f"{kind}/{name}/open/", _view(base, ours, AllowAny))
        for kind, base in _BASES.items()
        for name, (_, ours) in SCHEMES.items()
    ),
    *(
        path(f"{kind}/{name}/", _view(base, auth, IsAuthenticated))
        for kind, base in _BASES.items()
        for name, auth in {"expired-sync": ExpiredSync, "expired-async": ExpiredAsync}.items()
    ),
]


@pytest.fixture
def token(user: User) -> Token:
    return Token.objects.create(user=user)


NOT_PROVIDED = {"detail": "Authentication credentials were not provided."}
ALICE_BASIC = {"user": "alice", "auth": None}
ALICE_TOKEN = {"user": "alice", "auth": "Token"}

Headers = Callable[[Token], dict[str, str]]

#: (scheme, case, headers, status, body, WWW-Authenticate)
HEADER_CASES: list[tuple[str, str, Headers, int, dict[str, Any], str]] = [
    ("basic", "valid", lambda t: basic_auth("alice", "alice-password"), 200, ALICE_BASIC, ""),
    (
        "basic",
        "wrong-password",
        lambda t: basic_auth("alice", "nope"),
        401,
        {"detail": "Invalid username/password."},
        'Basic realm="api"',
    ),
    (
        "basic",
        "unknown-user",
        lambda t: basic_auth("mallory", "alice-password"),
        401,
        {"detail": "Invalid username/password."},
        'Basic realm="api"',
    ),
    (
        "basic",
        "no-credentials",
        lambda t: {"Authorization": "Basic"},
        401,
        {"detail": "Invalid basic header. No credentials provided."},
        'Basic realm="api"',
    ),
    (
        "basic",
        "spaces",
        lambda t: {"Authorization": "Basic abc def"},
        401,
        {"detail": "Invalid basic header. Credentials string should not contain spaces."},
        'Basic realm="api"',
    ),
    (
        "basic",
        "not-base64",
        lambda t: {"Authorization": "Basic !!!"},
        401,
        {"detail": "Invalid basic header. Credentials not correctly base64 encoded."},
        'Basic realm="api"',
    ),
    ("basic", "no-header", lambda t: {}, 401, NOT_PROVIDED, 'Basic realm="api"'),
    (
        "basic",
        "other-scheme",
        lambda t: {"Authorization": "Bearer abc"},
        401,
        NOT_PROVIDED,
        'Basic realm="api"',
    ),
    ("token", "valid", lambda t: {"Authorization": f"Token {t.key}"}, 200, ALICE_TOKEN, ""),
    (
        "token",
        "unknown",
        lambda t: {"Authorization": "Token 0123456789abcdef"},
        401,
        {"detail": "Invalid token."},
        "Token",
    ),
    (
        "token",
        "no-credentials",
        lambda t: {"Authorization": "Token"},
        401,
        {"detail": "Invalid token header. No credentials provided."},
        "Token",
    ),
    (
        "token",
        "spaces",
        lambda t: {"Authorization": f"Token {t.key} extra"},
        401,
        {"detail": "Invalid token header. Token string should not contain spaces."},
        "Token",
    ),
    (
        "token",
        "invalid-characters",
        lambda t: {"Authorization": "Token caf\xe9"},
        401,
        {"detail": "Invalid token header. Token string should not contain invalid characters."},
        "Token",
    ),
    ("token", "no-header", lambda t: {}, 401, NOT_PROVIDED, "Token"),
]


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("scheme", "headers", "status", "body", "challenge"),
    [pytest.param(*case[:1], *case[2:], id=f"{case[0]}-{case[1]}") for case in HEADER_CASES],
)
def test_header_schemes_answer_as_drf(
    scheme: str,
    headers: Headers,
    status: int,
    body: dict[str, Any],
    challenge: str,
    kind: str,
    client: str,
    token: Token,
) -> None:
    ours = outcome(send(client, "get", f"/{kind}/{scheme}/", headers=headers(token)))
    drf = outcome(send(client, "get", f"/drf/{scheme}/", headers=headers(token)))
    assert ours == drf
    assert ours[:2] == (status, body)
    assert ours[2]["WWW-Authenticate"] == (challenge or None)


@pytest.fixture
def inactive(user: User) -> User:
    user.is_active = False
    user.save()
    return user


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("kind", KINDS)
def test_inactive_token_user_is_rejected_as_drf(
    kind: str, client: str, token: Token, inactive: User
) -> None:
    headers = {"Authorization": f"Token {token.key}"}
    ours = outcome(send(client, "get", f"/{kind}/token/", headers=headers))
    assert ours == outcome(send(client, "get", "/drf/token/", headers=headers))
    assert ours[:2] == (401, {"detail": "User inactive or deleted."})


@pytest.mark.parametrize(
    ("backend", "message"),
    [
        # Django's default backend refuses inactive users itself.
        ("django.contrib.auth.backends.ModelBackend", "Invalid username/password."),
        ("django.contrib.auth.backends.AllowAllUsersModelBackend", "User inactive or deleted."),
    ],
)
@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("kind", KINDS)
def test_inactive_basic_user_is_rejected_as_drf(
    kind: str, client: str, backend: str, message: str, inactive: User, settings: Any
) -> None:
    settings.AUTHENTICATION_BACKENDS = [backend]
    headers = basic_auth("alice", "alice-password")
    ours = outcome(send(client, "get", f"/{kind}/basic/", headers=headers))
    assert ours == outcome(send(client, "get", "/drf/basic/", headers=headers))
    assert ours[:2] == (401, {"detail": message})


CSRF = "a" * 32


def _session_send(client: str, method: str, path: str, user: User | None, csrf: bool) -> Any:
    """One request from a browser-like client: logged in as ``user``, CSRF checks on."""
    headers = {"X-CSRFToken": CSRF} if csrf else {}
    if client == "api":
        api = APIClient(enforce_csrf_checks=True)
        if user is not None:
            api.force_login(user)
        if csrf:
            api.cookies["csrftoken"] = CSRF
        return api.generic(method, path, headers=headers)
    asgi = AsyncClient(enforce_csrf_checks=True)
    if user is not None:
        asgi.force_login(user)
    if csrf:
        asgi.cookies["csrftoken"] = CSRF

    async def through_asgi() -> Any:
        return await asgi.generic(method, path, headers=headers)

    return async_to_sync(through_asgi)()


#: (case, method, logged in, active, CSRF token sent, status, body)
SESSION_CASES: list[tuple[str, str, bool, bool, bool, int, dict[str, Any]]] = [
    ("anonymous", "GET", False, True, False, 403, NOT_PROVIDED),
    ("logged-in", "GET", True, True, False, 200, ALICE_BASIC),
    (
        "unsafe-without-csrf",
        "POST",
        True,
        True,
        False,
        403,
        {"detail": "CSRF Failed: CSRF cookie not set."},
    ),
    ("unsafe-with-csrf", "POST", True, True, True, 200, ALICE_BASIC),
    ("anonymous-unsafe", "POST", False, True, False, 403, NOT_PROVIDED),
    ("inactive", "GET", True, False, False, 403, NOT_PROVIDED),
]


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("method", "logged_in", "active", "csrf", "status", "body"),
    [pytest.param(*case[1:], id=case[0]) for case in SESSION_CASES],
)
def test_session_answers_as_drf(
    method: str,
    logged_in: bool,
    active: bool,
    csrf: bool,
    status: int,
    body: dict[str, Any],
    kind: str,
    client: str,
    user: User,
) -> None:
    if not active:
        user.is_active = False
        user.save()
    who = user if logged_in else None
    ours = outcome(_session_send(client, method, f"/{kind}/session/", who, csrf))
    drf = outcome(_session_send(client, method, "/drf/session/", who, csrf))
    assert ours == drf
    assert ours[:2] == (status, body)
    assert ours[2]["WWW-Authenticate"] is None  # session failures are 403, never 401


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("override", ["expired-sync", "expired-async"])
def test_credentials_check_overrides_are_honoured_on_async_views(
    override: str, client: str, token: Token
) -> None:
    headers = {"Authorization": f"Token {token.key}"}
    ours = outcome(send(client, "get", f"/async/{override}/", headers=headers))
    assert ours[:2] == (401, {"detail": "Token has expired."})
    assert ours[2]["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize(
    ("scheme", "case", "hops"),
    [
        # Without the scheme's header the class answers on the loop.
        ("basic", "none", 0),
        ("token", "none", 0),
        ("session", "none", 0),
        # Checking credentials is one hop: the hasher / the ORM query run in a thread.
        ("basic", "valid", 1),
        ("token", "valid", 1),
    ],
)
async def test_authentication_hops_on_an_async_view(
    scheme: str, case: str, hops: int, token: Token
) -> None:
    headers = {
        "none": {},
        "valid": {
            "basic": basic_auth("alice", "alice-password"),
            "token": {"Authorization": f"Token {token.key}"},
        }.get(scheme, {}),
    }[case]
    before = hop_count()
    response = await AsyncClient().get(f"/async/{scheme}/open/", headers=headers)
    assert response.status_code == 200
    assert hop_count() - before == hops
    expected = {"none": "", "valid": "alice"}[case]
    assert response.json()["user"] == expected
