"""How ``AsyncAPIView`` calls hooks: where they run, which override wins, what it costs.

Sync work never runs on the event loop (a sync handler, a sync override of DRF's
``initial``/``check_*``/``perform_authentication``, a DB-touching sync authenticator,
permission or throttle), async work stays on it, and the whole auth/permission/throttle
phase costs one worker-thread hop at most (none when every hook is async or inline).
adrf-style hooks (``async def has_permission`` etc.) are awaited on both kinds of view.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.urls import URLPattern, path
from rest_framework import exceptions
from rest_framework import views as drf_views
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle

from restflow.protocols import AsyncBasePermission, AsyncBaseThrottle
from restflow.test import hop_count
from restflow.views import APIView, AsyncAPIView
from tests._clients import CLIENTS, on_loop, send

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]

#: (what ran, whether it ran on the event loop)
EVENTS: list[tuple[str, bool]] = []


@pytest.fixture(autouse=True)
def _events() -> Iterator[None]:
    EVENTS.clear()
    yield
    EVENTS.clear()


def record(name: str) -> None:
    EVENTS.append((name, on_loop()))


OPEN: dict[str, Any] = {
    "authentication_classes": [],
    "permission_classes": [AllowAny],
    "throttle_classes": [],
}


# -- handlers: where they run ---------------------------------------------------------


class SyncHandler(AsyncAPIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:  # type: ignore[override]  # a sync handler on an async view is supported, not typed
        record("get")
        return Response({"thread": threading.get_ident()})


class AsyncHandler(AsyncAPIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    async def get(self, request: Request) -> Response:
        record("get")
        return Response({"thread": threading.get_ident()})


@pytest.mark.parametrize("client", CLIENTS)
def test_sync_handler_runs_in_a_worker_thread(client: str) -> None:
    before = hop_count()
    response = send(client, "get", "/sync-handler/")
    assert response.status_code == 200
    assert EVENTS == [("get", False)]
    assert hop_count() - before == 1


@pytest.mark.parametrize("client", CLIENTS)
def test_async_handler_runs_on_the_loop_without_a_hop(client: str) -> None:
    before = hop_count()
    response = send(client, "get", "/async-handler/")
    assert response.status_code == 200
    assert EVENTS == [("get", True)]
    assert hop_count() - before == 0
    assert response.data["thread"] != threading.get_ident()


# -- overrides of DRF's hooks ---------------------------------------------------------


class Deny(BasePermission):
    message = "Denied by Deny."

    def has_permission(self, request: Request, view: drf_views.APIView) -> bool:
        record("Deny.has_permission")
        return False


class OverridesInitial(AsyncAPIView):
    authentication_classes = []
    permission_classes = [Deny]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        record("initial")
        super().initial(request, *args, **kwargs)

    async def get(self, request: Request) -> Response:
        return Response({})


class OverridesSyncChecks(AsyncAPIView):
    permission_classes = [Deny]

    def perform_authentication(self, request: Request) -> None:
        record("perform_authentication")
        super().perform_authentication(request)

    def check_permissions(self, request: Request) -> None:
        record("check_permissions")  # does not call super: lets the request through

    def check_throttles(self, request: Request) -> None:
        record("check_throttles")
        raise exceptions.Throttled(wait=5)

    async def get(self, request: Request) -> Response:
        return Response({})


class OverridesAsyncCheck(AsyncAPIView):
    authentication_classes = []
    permission_classes = [Deny]

    async def acheck_permissions(self, request: Request) -> None:
        record("acheck_permissions")

    async def get(self, request: Request) -> Response:
        return Response({})


class OverridesBothChecks(OverridesAsyncCheck):
    def check_permissions(self, request: Request) -> None:
        record("check_permissions")


class OverridesAsyncInitial(AsyncAPIView):
    permission_classes = [Deny]

    async def ainitial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        record("ainitial")
        await super().ainitial(request, *args, **kwargs)

    async def get(self, request: Request) -> Response:
        return Response({})


class OverridesAsyncHandleException(AsyncAPIView):
    permission_classes = [Deny]

    async def ahandle_exception(self, exc: Exception) -> Response:
        record("ahandle_exception")
        response = await super().ahandle_exception(exc)
        response["X-Handled"] = "yes"
        return response

    async def get(self, request: Request) -> Response:
        return Response({})


@pytest.mark.parametrize("client", CLIENTS)
def test_sync_initial_override_runs_off_the_loop(client: str) -> None:
    response = send(client, "get", "/initial/")
    assert response.status_code == 403  # super().initial() still ran the checks
    assert EVENTS == [("initial", False), ("Deny.has_permission", False)]


@pytest.mark.parametrize("client", CLIENTS)
def test_sync_check_overrides_run_off_the_loop(client: str) -> None:
    response = send(client, "get", "/sync-checks/")
    assert response.status_code == 429
    assert response["Retry-After"] == "5"
    assert EVENTS == [
        ("perform_authentication", False),
        ("check_permissions", False),
        ("check_throttles", False),
    ]


@pytest.mark.parametrize("client", CLIENTS)
def test_async_check_override_is_awaited_on_the_loop(client: str) -> None:
    response = send(client, "get", "/async-check/")
    assert response.status_code == 200
    assert EVENTS == [("acheck_permissions", True)]


@pytest.mark.parametrize("client", CLIENTS)
def test_async_override_wins_over_sync_override(client: str) -> None:
    response = send(client, "get", "/both-checks/")
    assert response.status_code == 200
    assert EVENTS == [("acheck_permissions", True)]


@pytest.mark.parametrize("client", CLIENTS)
def test_async_initial_override_may_call_super(client: str) -> None:
    response = send(client, "get", "/async-initial/")
    assert response.status_code == 403
    assert EVENTS == [("ainitial", True), ("Deny.has_permission", False)]


@pytest.mark.parametrize("client", CLIENTS)
def test_async_handle_exception_override_may_call_super(client: str) -> None:
    response = send(client, "get", "/async-handle-exception/")
    assert response.status_code == 403
    assert response["X-Handled"] == "yes"
    assert ("ahandle_exception", True) in EVENTS


# -- DB-touching sync hooks; the hop budget of the check phase -------------------------


class HeaderUserAuthentication(BaseAuthentication):
    """Looks the user named by ``X-User`` up in the database (sync ORM)."""

    def authenticate(self, request: Request) -> tuple[User, str] | None:
        record("authenticate")
        name = request.headers.get("X-User")
        if name is None:
            return None
        return User.objects.get(username=name), "header-token"


class ActiveInDatabase(BasePermission):
    def has_permission(self, request: Request, view: drf_views.APIView) -> bool:
        record("has_permission")
        return User.objects.filter(username=request.user.get_username(), is_active=True).exists()


class CountingThrottle(BaseThrottle):
    """A custom throttle that reads the database on every request."""

    def allow_request(self, request: Request, view: drf_views.APIView) -> bool:
        record("allow_request")
        return User.objects.count() < 100


class WhoAmI(AsyncAPIView):
    async def get(self, request: Request) -> Response:
        return Response({"user": request.user.username, "auth": request.auth})


class DatabaseHooks(WhoAmI):
    authentication_classes = [HeaderUserAuthentication]
    permission_classes = [ActiveInDatabase]
    throttle_classes = [CountingThrottle]


class OneSyncPermission(WhoAmI):
    authentication_classes = []
    permission_classes = [AllowAny, ActiveInDatabase]


class InlineOnly(WhoAmI):
    authentication_classes = []
    permission_classes = [AllowAny]


class AsyncActive(AsyncBasePermission):
    async def ahas_permission(self, request: Request, view: drf_views.APIView) -> bool:
        record("ahas_permission")
        return await User.objects.filter(
            username=request.user.get_username(), is_active=True
        ).aexists()


class AdrfHeaderAuthentication(BaseAuthentication):
    async def authenticate(self, request: Request) -> tuple[User, str] | None:  # type: ignore[override]  # adrf style
        record("authenticate")
        name = request.headers.get("X-User")
        return None if name is None else (await User.objects.aget(username=name), "adrf")


class AsyncCounting(AsyncBaseThrottle):
    async def aallow_request(self, request: Request, view: drf_views.APIView) -> bool:
        record("aallow_request")
        return await User.objects.acount() < 100


class AllAsync(WhoAmI):
    authentication_classes = [AdrfHeaderAuthentication]
    permission_classes = [IsAuthenticated, AsyncActive]
    throttle_classes = [AsyncCounting]


@pytest.mark.parametrize("client", CLIENTS)
def test_database_touching_sync_hooks_share_one_hop(client: str, user: User) -> None:
    before = hop_count()
    response = send(client, "get", "/db-hooks/", headers={"X-User": "alice"})
    assert response.status_code == 200
    assert response.data == {"user": "alice", "auth": "header-token"}
    assert EVENTS == [
        ("authenticate", False),
        ("has_permission", False),
        ("allow_request", False),
    ]
    assert hop_count() - before == 1


@pytest.mark.parametrize("client", CLIENTS)
def test_one_sync_permission_costs_one_hop(client: str) -> None:
    before = hop_count()
    response = send(client, "get", "/one-sync/")
    assert response.status_code == 403  # anonymous: not in the database
    assert EVENTS == [("has_permission", False)]
    assert hop_count() - before == 1


@pytest.mark.parametrize("client", CLIENTS)
def test_inline_checks_cost_no_hop(client: str) -> None:
    before = hop_count()
    response = send(client, "get", "/inline/")
    assert response.status_code == 200
    assert hop_count() - before == 0


@pytest.mark.parametrize("client", CLIENTS)
def test_async_hooks_stay_on_the_loop(client: str, user: User) -> None:
    before = hop_count()
    response = send(client, "get", "/all-async/", headers={"X-User": "alice"})
    assert response.status_code == 200
    assert response.data == {"user": "alice", "auth": "adrf"}
    assert EVENTS == [("authenticate", True), ("ahas_permission", True), ("aallow_request", True)]
    assert hop_count() - before == 0


# -- adrf-style hooks, on sync and async views ------------------------------------------


class AdrfDeny(BasePermission):
    message = "adrf says no."

    async def has_permission(self, request: Request, view: drf_views.APIView) -> bool:  # type: ignore[override]  # adrf style
        return False


class AdrfAllow(BasePermission):
    async def has_permission(self, request: Request, view: drf_views.APIView) -> bool:  # type: ignore[override]  # adrf style
        return True


class AdrfDenyObject(BasePermission):
    async def has_object_permission(  # type: ignore[override]  # adrf style
        self, request: Request, view: drf_views.APIView, obj: Any
    ) -> bool:
        return False


class AdrfRefuse(BaseThrottle):
    async def allow_request(self, request: Request, view: drf_views.APIView) -> bool:  # type: ignore[override]  # adrf style
        return False

    def wait(self) -> float | None:
        return 9.0


class ReturnsCoroutine(BasePermission):
    """A misdeclared hook: sync ``def`` that hands back a coroutine (always truthy)."""

    def has_permission(self, request: Request, view: drf_views.APIView) -> bool:
        return AdrfAllow().has_permission(request, view)  # type: ignore[return-value]  # the bug under test


class ObjectCheckSync(APIView):
    authentication_classes = [AdrfHeaderAuthentication]

    def get(self, request: Request) -> Response:
        self.check_object_permissions(request, object())
        return Response({"user": request.user.username})


class ObjectCheckAsync(AsyncAPIView):
    authentication_classes = [AdrfHeaderAuthentication]

    async def get(self, request: Request) -> Response:
        await self.acheck_object_permissions(request, object())
        return Response({"user": request.user.username})


_OBJECT_VIEWS: dict[str, type[drf_views.APIView]] = {
    "sync": ObjectCheckSync,
    "async": ObjectCheckAsync,
}
ADRF_CASES: dict[str, dict[str, Any]] = {
    "deny": {"permission_classes": [AdrfDeny]},
    "and": {"permission_classes": [AllowAny & AdrfDeny]},
    "not": {"permission_classes": [~AdrfAllow]},
    "object": {"permission_classes": [AdrfDenyObject]},
    "throttle": {"throttle_classes": [AdrfRefuse]},
    "allow": {"permission_classes": [AdrfAllow | AdrfDeny]},
    "coroutine": {"permission_classes": [ReturnsCoroutine]},
}

urlpatterns: list[URLPattern] = [
    path("sync-handler/", SyncHandler.as_view()),
    path("async-handler/", AsyncHandler.as_view()),
    path("initial/", OverridesInitial.as_view()),
    path("sync-checks/", OverridesSyncChecks.as_view()),
    path("async-check/", OverridesAsyncCheck.as_view()),
    path("both-checks/", OverridesBothChecks.as_view()),
    path("async-initial/", OverridesAsyncInitial.as_view()),
    path("async-handle-exception/", OverridesAsyncHandleException.as_view()),
    path("db-hooks/", DatabaseHooks.as_view()),
    path("one-sync/", OneSyncPermission.as_view()),
    path("inline/", InlineOnly.as_view()),
    path("all-async/", AllAsync.as_view()),
    *(
        path(f"{kind}/{case}/", view.as_view(**policies))
        for kind, view in _OBJECT_VIEWS.items()
        for case, policies in ADRF_CASES.items()
    ),
]

kinds = pytest.mark.parametrize("kind", ["sync", "async"])
clients = pytest.mark.parametrize("client", CLIENTS)


@kinds
@clients
@pytest.mark.parametrize("case", ["deny", "and", "not", "object"])
def test_adrf_style_permission_is_awaited_and_denies(client: str, kind: str, case: str) -> None:
    response = send(client, "get", f"/{kind}/{case}/")
    assert response.status_code == 403


@kinds
@clients
def test_adrf_style_permission_message_is_used(client: str, kind: str, user: User) -> None:
    response = send(client, "get", f"/{kind}/deny/", headers={"X-User": "alice"})
    assert response.status_code == 403
    assert response.data["detail"] == "adrf says no."


@kinds
@clients
def test_adrf_style_permission_grants(client: str, kind: str, user: User) -> None:
    response = send(client, "get", f"/{kind}/allow/", headers={"X-User": "alice"})
    assert response.status_code == 200
    assert response.data == {"user": "alice"}  # adrf-style authenticate awaited too


@kinds
@clients
def test_adrf_style_throttle_is_awaited(client: str, kind: str) -> None:
    response = send(client, "get", f"/{kind}/throttle/")
    assert response.status_code == 429
    assert response["Retry-After"] == "9"


@kinds
@clients
def test_sync_hook_returning_a_coroutine_fails_closed(client: str, kind: str) -> None:
    with pytest.raises(TypeError, match="returned an awaitable from a sync call"):
        send(client, "get", f"/{kind}/coroutine/")
