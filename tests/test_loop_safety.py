"""A user's sync code never runs on the event loop of an async view.

Every DRF hook a user can override with sync code (on the view, an authenticator, a
permission, a throttle or a serializer) is overridden here by a method that reads the
database, as real overrides do (per-plan throttle rates, per-tenant renderers, a permission
message that names the account). On the event loop Django refuses the query
(``SynchronousOnlyOperation``, a 500); in a worker thread it answers. Each override records
whether it ran on the loop, and the request must succeed with DRF's answer.

Requests go through Django's real ASGI handler (``AsyncClient``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, NoReturn
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.http import HttpRequest
from django.test import AsyncClient
from django.urls import path
from rest_framework import exceptions, serializers
from rest_framework import permissions as drf_permissions
from rest_framework import throttling as drf_throttling
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.validators import UniqueValidator
from rest_framework.views import APIView, exception_handler

from restflow import authentication
from restflow.protocols import AsyncBasePermission, AsyncBaseThrottle
from restflow.views import AsyncAPIView, AsyncCreateAPIView, AsyncUpdateAPIView
from tests._clients import on_loop
from tests.testapp.models import Product
from tests.testapp.serializers import ProductSerializer

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]

#: hook name -> whether its override ran on the event loop (absent: it did not run).
RAN_ON_LOOP: dict[str, bool] = {}


def touch(hook: str) -> None:
    """What a real override does: read the database (refused on the loop)."""
    RAN_ON_LOOP[hook] = on_loop()
    User.objects.exists()


@pytest.fixture(autouse=True)
def _forget() -> None:
    RAN_ON_LOOP.clear()


class Base(AsyncAPIView):
    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []
    throttle_classes: list[Any] = []

    async def get(self, request: Request) -> Response:
        return Response({"ok": True})


# -- view hooks, one override each ------------------------------------------------------


class GetPermissions(Base):
    def get_permissions(self) -> Sequence[Any]:
        touch("get_permissions")
        return super().get_permissions()


class GetThrottles(Base):
    def get_throttles(self) -> list[Any]:
        touch("get_throttles")
        return super().get_throttles()


class GetAuthenticators(Base):
    def get_authenticators(self) -> list[Any]:
        touch("get_authenticators")
        return super().get_authenticators()


class GetParsers(Base):
    def get_parsers(self) -> list[Any]:
        touch("get_parsers")
        return super().get_parsers()


class GetRenderers(Base):
    def get_renderers(self) -> list[Any]:
        touch("get_renderers")
        return super().get_renderers()


class GetContentNegotiator(Base):
    def get_content_negotiator(self) -> Any:
        touch("get_content_negotiator")
        return super().get_content_negotiator()


class GetParserContext(Base):
    def get_parser_context(self, http_request: HttpRequest) -> dict[str, Any]:
        touch("get_parser_context")
        return super().get_parser_context(http_request)


class GetFormatSuffix(Base):
    def get_format_suffix(self, **kwargs: Any) -> str | None:
        touch("get_format_suffix")
        return super().get_format_suffix(**kwargs)


class PerformContentNegotiation(Base):
    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        touch("perform_content_negotiation")
        return super().perform_content_negotiation(request, force)


class DetermineVersion(Base):
    def determine_version(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        touch("determine_version")
        return super().determine_version(request, *args, **kwargs)


class InitializeRequest(Base):
    def initialize_request(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Request:
        touch("initialize_request")
        return super().initialize_request(request, *args, **kwargs)


class FinalizeResponse(Base):
    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        touch("finalize_response")
        return super().finalize_response(request, response, *args, **kwargs)


class Deny(AsyncBasePermission):
    """Native async: the check phase stays on the loop, only the override leaves it."""

    message = "Members only."

    async def ahas_permission(self, request: Request, view: APIView) -> bool:
        return False


class PermissionDenied(Base):
    permission_classes = [Deny]

    def permission_denied(
        self, request: Request, message: str | None = None, code: str | None = None
    ) -> NoReturn:
        touch("permission_denied")
        super().permission_denied(request, message=message, code=code)


class Refuse(AsyncBaseThrottle):
    """Native async: the check phase stays on the loop, only the override leaves it."""

    async def aallow_request(self, request: Request, view: APIView) -> bool:
        return False

    def wait(self) -> float | None:
        return 30.0


class Throttled(Base):
    throttle_classes = [Refuse]

    def throttled(self, request: Request, wait: float) -> NoReturn:
        touch("throttled")
        super().throttled(request, wait)


class Missing(Base):
    async def get(self, request: Request) -> Response:
        raise exceptions.NotFound("No such thing.")


class GetExceptionHandler(Missing):
    def get_exception_handler(self) -> Any:
        touch("get_exception_handler")
        return super().get_exception_handler()


class GetExceptionHandlerContext(Missing):
    def get_exception_handler_context(self) -> dict[str, Any]:
        touch("get_exception_handler_context")
        return super().get_exception_handler_context()


#: (view, the status DRF answers): every view hook of DRF's APIView a user may override.
VIEW_HOOKS: dict[str, tuple[type[Base], int]] = {
    "get_permissions": (GetPermissions, 200),
    "get_throttles": (GetThrottles, 200),
    "get_authenticators": (GetAuthenticators, 200),
    "get_parsers": (GetParsers, 200),
    "get_renderers": (GetRenderers, 200),
    "get_content_negotiator": (GetContentNegotiator, 200),
    "get_parser_context": (GetParserContext, 200),
    "get_format_suffix": (GetFormatSuffix, 200),
    "perform_content_negotiation": (PerformContentNegotiation, 200),
    "determine_version": (DetermineVersion, 200),
    "initialize_request": (InitializeRequest, 200),
    "finalize_response": (FinalizeResponse, 200),
    "permission_denied": (PermissionDenied, 403),
    "throttled": (Throttled, 429),
    "get_exception_handler": (GetExceptionHandler, 404),
    "get_exception_handler_context": (GetExceptionHandlerContext, 404),
}


# -- battery hooks ----------------------------------------------------------------------


class CheckedSession(authentication.SessionAuthentication):
    def enforce_csrf(self, request: Any) -> None:
        touch("enforce_csrf")
        super().enforce_csrf(request)


class SessionPost(Base):
    authentication_classes = [CheckedSession]
    permission_classes = [drf_permissions.IsAuthenticated]

    async def post(self, request: Request) -> Response:
        return Response({"user": request.user.get_username()}, status=201)


class PlanRate(drf_throttling.AnonRateThrottle):
    """The rate of the client's plan, read from the database."""

    def get_rate(self) -> str:
        touch("get_rate")
        return "1/min"

    def wait(self) -> float | None:
        touch("wait")
        return super().wait()


class PerPlan(Base):
    throttle_classes = [PlanRate]


class Explaining(AsyncBasePermission):
    @property
    def message(self) -> str:
        touch("message")
        return f"Ask one of the {User.objects.count()} admins."

    async def ahas_permission(self, request: Request, view: APIView) -> bool:
        return False


class ExplainedDenial(Base):
    permission_classes = [Explaining]


class QueryingSerializer(serializers.Serializer[Any]):
    """A serializer whose constructor reads the database (choices from a table)."""

    name = serializers.CharField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        touch("serializer __init__")
        super().__init__(*args, **kwargs)


class HelperOut(Base):
    serializer_class = QueryingSerializer

    async def get(self, request: Request) -> Response:
        return await self.aserialized_response({"name": "saw"})

    async def post(self, request: Request) -> Response:
        serializer = await self.avalidated_serializer(request.data)
        return Response(serializer.validated_data, status=201)


urlpatterns = [
    *(path(f"view/{hook}/", view.as_view()) for hook, (view, _) in VIEW_HOOKS.items()),
    path("session/", SessionPost.as_view()),
    path("plan/", PerPlan.as_view()),
    path("explained/", ExplainedDenial.as_view()),
    path("helpers/", HelperOut.as_view()),
]


@pytest.mark.parametrize("hook", sorted(VIEW_HOOKS))
async def test_a_sync_view_hook_override_runs_off_the_loop(hook: str) -> None:
    status = VIEW_HOOKS[hook][1]
    response = await AsyncClient().get(f"/view/{hook}/")
    assert response.status_code == status, response.content[:300]
    assert {hook: False} == RAN_ON_LOOP


async def test_a_sync_view_hook_override_keeps_drfs_answer() -> None:
    response = await AsyncClient().get("/view/throttled/")
    assert (response.status_code, response["Retry-After"]) == (429, "30")
    response = await AsyncClient().get("/view/permission_denied/")
    assert json.loads(response.content) == {"detail": "Members only."}


async def test_an_enforce_csrf_override_runs_off_the_loop(user: User) -> None:
    client = AsyncClient(enforce_csrf_checks=True)
    await client.aforce_login(user)
    response = await client.post("/session/", {"x": 1}, content_type="application/json")
    assert response.status_code == 403
    assert json.loads(response.content)["detail"].startswith("CSRF Failed")
    assert RAN_ON_LOOP == {"enforce_csrf": False}


async def test_a_throttle_rate_and_wait_from_the_database_run_off_the_loop() -> None:
    first = await AsyncClient().get("/plan/")
    second = await AsyncClient().get("/plan/")
    assert (first.status_code, second.status_code) == (200, 429)
    assert int(second["Retry-After"]) > 0
    assert RAN_ON_LOOP == {"get_rate": False, "wait": False}


async def test_a_permission_message_property_runs_off_the_loop() -> None:
    response = await AsyncClient().get("/explained/")
    assert response.status_code == 403
    assert json.loads(response.content) == {"detail": "Ask one of the 0 admins."}
    assert RAN_ON_LOOP == {"message": False}


@pytest.mark.parametrize("method", ["get", "post"])
async def test_a_serializer_built_by_the_helpers_is_built_off_the_loop(method: str) -> None:
    client = AsyncClient()
    if method == "get":
        response = await client.get("/helpers/")
    else:
        response = await client.post("/helpers/", {"name": "saw"}, content_type="application/json")
    assert response.status_code in (200, 201), response.content[:300]
    assert json.loads(response.content) == {"name": "saw"}
    assert RAN_ON_LOOP == {"serializer __init__": False}


# -- an async write hook keeps the unique-collision 400 ---------------------------------


class AsyncSave:
    """``aperform_create``/``aperform_update`` written as async code, as the docs show."""

    async def aperform_create(self, serializer: Any) -> None:
        await serializer.asave()

    async def aperform_update(self, serializer: Any) -> None:
        await serializer.asave()


class RacingCreate(AsyncSave, AsyncCreateAPIView[Product, Any]):
    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []


class RacingUpdate(AsyncSave, AsyncUpdateAPIView[Product, Any]):
    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []


urlpatterns += [
    path("racing/", RacingCreate.as_view()),
    path("racing/<int:pk>/", RacingUpdate.as_view()),
]

UNIQUE_ERROR = {"name": ["product with this name already exists."]}


def _validator_blind_once() -> Any:
    """UniqueValidator passes its first call: the rival commits right after validation."""
    real = UniqueValidator.__call__
    calls = {"n": 0}

    def call(validator: UniqueValidator, value: Any, field: Any) -> None:
        calls["n"] += 1
        if calls["n"] > 1:
            real(validator, value, field)

    return mock.patch.object(UniqueValidator, "__call__", call)


# Autocommit, as in production: Django refuses ATOMIC_REQUESTS on async views, so nothing
# wraps an async override's save in a transaction it could break.
@pytest.mark.django_db(transaction=True)
async def test_an_async_aperform_create_losing_a_unique_race_gets_400() -> None:
    await Product.objects.acreate(name="saw", price="1.00")
    with _validator_blind_once():
        response = await AsyncClient().post(
            "/racing/", {"name": "saw", "price": "2.00"}, content_type="application/json"
        )
    assert (response.status_code, json.loads(response.content)) == (400, UNIQUE_ERROR)
    assert await Product.objects.acount() == 1


@pytest.mark.django_db(transaction=True)
async def test_an_async_aperform_update_losing_a_unique_race_gets_400() -> None:
    await Product.objects.acreate(name="saw", price="1.00")
    hammer = await Product.objects.acreate(name="hammer", price="1.00")
    with _validator_blind_once():
        response = await AsyncClient().patch(
            f"/racing/{hammer.pk}/", {"name": "saw"}, content_type="application/json"
        )
    assert (response.status_code, json.loads(response.content)) == (400, UNIQUE_ERROR)
    await hammer.arefresh_from_db()
    assert hammer.name == "hammer"


def test_the_exception_handler_used_is_drfs_by_default() -> None:
    assert Missing().get_exception_handler() is exception_handler
    assert isinstance(Base().get_content_negotiator(), DefaultContentNegotiation)
