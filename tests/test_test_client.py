"""``restflow.test``: DRF's test-client conveniences on Django's ASGI test client."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.http import QueryDict
from django.test import TestCase, override_settings
from django.urls import path
from rest_framework import test as drf_test
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIClient, APIRequestFactory

from restflow import authentication
from restflow.test import (
    AsyncAPIClient,
    AsyncAPIRequestFactory,
    AsyncAPITestCase,
    force_authenticate,
    hop_count,
)
from restflow.views import AsyncAPIView

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]


class WhoAmI(AsyncAPIView):
    authentication_classes = [
        authentication.TokenAuthentication,
        authentication.SessionAuthentication,
    ]
    permission_classes = [IsAuthenticated]
    throttle_classes = []

    async def get(self, request: Request) -> Response:
        auth = request.auth
        return Response(
            {"user": request.user.username, "auth": None if auth is None else str(auth)}
        )

    post = get


class Echo(AsyncAPIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []

    async def post(self, request: Request) -> Response:
        data: Any = request.data
        if isinstance(data, QueryDict):
            data = data.dict()
        return Response({"content_type": request.content_type, "data": data})

    put = patch = delete = post


urlpatterns = [path("who/", WhoAmI.as_view()), path("echo/", Echo.as_view())]


@pytest.fixture
def token(user: User) -> Token:
    created: Token = Token.objects.create(user=user)
    return created


async def test_force_authenticate_authenticates_without_a_thread_hop(user: User) -> None:
    client = AsyncAPIClient()
    client.force_authenticate(user=user)
    before = hop_count()
    response = await client.get("/who/")
    assert hop_count() == before  # DRF's ForcedAuthentication runs on the loop
    assert (response.status_code, response.json()) == (200, {"user": "alice", "auth": None})


async def test_force_authenticate_passes_the_token(user: User) -> None:
    client = AsyncAPIClient()
    client.force_authenticate(user=user, token="a-token")
    response = await client.get("/who/")
    assert response.json() == {"user": "alice", "auth": "a-token"}


async def test_force_authenticate_with_nothing_ends_it(user: User) -> None:
    client = AsyncAPIClient()
    client.force_authenticate(user=user)
    client.force_authenticate()
    response = await client.get("/who/")
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}


@pytest.mark.parametrize("spelling", ["Authorization", "HTTP_AUTHORIZATION"])
async def test_credentials_are_sent_with_every_request(token: Token, spelling: str) -> None:
    client = AsyncAPIClient()
    client.credentials(**{spelling: f"Token {token.key}"})
    for _ in range(2):
        response = await client.get("/who/")
        assert (response.status_code, response.json()) == (
            200,
            {"user": "alice", "auth": token.key},
        )


async def test_credentials_without_arguments_clear_them(token: Token) -> None:
    client = AsyncAPIClient()
    client.credentials(Authorization=f"Token {token.key}")
    client.credentials()
    assert (await client.get("/who/")).status_code == 401


async def test_explicit_headers_win_over_credentials(token: Token) -> None:
    client = AsyncAPIClient()
    client.credentials(Authorization="Token wrong")
    response = await client.get("/who/", headers={"Authorization": f"Token {token.key}"})
    assert response.status_code == 200


async def test_logout_forgets_credentials_and_forced_user(user: User, token: Token) -> None:
    client = AsyncAPIClient()
    client.credentials(Authorization=f"Token {token.key}")
    client.logout()
    assert (await client.get("/who/")).status_code == 401
    client.force_authenticate(user=user)
    client.logout()
    assert (await client.get("/who/")).status_code == 401


async def test_alogout_ends_the_session(user: User) -> None:
    client = AsyncAPIClient()
    await client.aforce_login(user)
    assert (await client.get("/who/")).json()["user"] == "alice"
    await client.alogout()
    assert (await client.get("/who/")).status_code == 401


async def test_bodies_are_json_by_default() -> None:
    response = await AsyncAPIClient().post("/echo/", {"name": "Pen", "tags": ["a", "b"]})
    assert response.json() == {
        "content_type": "application/json",
        "data": {"name": "Pen", "tags": ["a", "b"]},
    }


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
async def test_every_body_method_encodes_json(method: str) -> None:
    response = await getattr(AsyncAPIClient(), method)("/echo/", {"n": 1})
    assert response.json()["data"] == {"n": 1}


async def test_format_selects_a_test_renderer() -> None:
    response = await AsyncAPIClient().post("/echo/", {"name": "Pen"}, format="multipart")
    body = response.json()
    assert body["content_type"].startswith("multipart/form-data; boundary=")
    assert body["data"] == {"name": "Pen"}


async def test_content_type_sends_the_raw_body() -> None:
    response = await AsyncAPIClient().post(
        "/echo/", "name=Pen", content_type="application/x-www-form-urlencoded"
    )
    assert response.json()["data"] == {"name": "Pen"}


async def test_default_format_follows_the_setting() -> None:
    with override_settings(REST_FRAMEWORK={"TEST_REQUEST_DEFAULT_FORMAT": "multipart"}):
        client = AsyncAPIClient()
    response = await client.post("/echo/", {"name": "Pen"})
    assert response.json()["content_type"].startswith("multipart/form-data")


def test_factory_encodes_bodies_exactly_as_drf() -> None:
    data = {"name": "Pen", "price": "1.50", "nested": {"a": [1, 2]}}
    ours = AsyncAPIRequestFactory().post("/echo/", data)
    theirs = APIRequestFactory().post("/echo/", data)
    assert ours.body == theirs.body
    assert ours.content_type == theirs.content_type == "application/json"


async def test_factory_request_drives_a_view_directly(user: User) -> None:
    request = AsyncAPIRequestFactory().get("/who/")
    force_authenticate(request, user=user)
    response = await WhoAmI.as_view()(request)
    assert response.status_code == 200
    assert response.data == {"user": "alice", "auth": None}  # type: ignore[attr-defined]  # a DRF Response; as_view() promises Django's base class


@pytest.mark.parametrize("token_value", [None, "a-token"])
async def test_force_authenticate_marks_the_request_as_drf_does(
    user: User, token_value: str | None
) -> None:
    ours, theirs = AsyncAPIRequestFactory().get("/who/"), AsyncAPIRequestFactory().get("/who/")
    force_authenticate(ours, user=user, token=token_value)
    drf_test.force_authenticate(theirs, user=user, token=None)
    theirs._force_auth_token = token_value  # type: ignore[attr-defined]  # DRF's marker, as the stub types tokens as Token
    for request in (ours, theirs):
        response: Any = await WhoAmI.as_view()(request)
        assert response.data == {"user": "alice", "auth": token_value}


@pytest.mark.parametrize("enforce", [False, True])
def test_factory_marks_the_csrf_exemption(enforce: bool) -> None:
    request = AsyncAPIRequestFactory(enforce_csrf_checks=enforce).post("/echo/", {})
    assert request._dont_enforce_csrf_checks is (not enforce)  # type: ignore[attr-defined]  # Django's test flag


@pytest.mark.parametrize(("enforce", "status"), [(False, 200), (True, 403)])
async def test_client_enforces_csrf_only_when_asked(user: User, enforce: bool, status: int) -> None:
    client = AsyncAPIClient(enforce_csrf_checks=enforce)
    await client.aforce_login(user)  # session authentication checks CSRF on unsafe methods
    response = await client.post("/who/", {})
    assert response.status_code == status


@pytest.mark.urls(__name__)
class TestInDjangoTestCase(TestCase):
    """``django.test.TestCase`` async tests use the client as ``async_client_class``."""

    async_client_class = AsyncAPIClient
    async_client: AsyncAPIClient

    async def test_force_authenticate_and_json(self) -> None:
        user = await User.objects.acreate(username="bob")
        self.async_client.force_authenticate(user=user)
        who = await self.async_client.get("/who/")
        assert who.json() == {"user": "bob", "auth": None}
        echoed = await self.async_client.post("/echo/", {"ok": True})
        assert echoed.json()["data"] == {"ok": True}


class TestAsyncAPITestCase(AsyncAPITestCase):
    """``AsyncAPITestCase``: ``self.async_client`` is restflow's, ``self.client`` DRF's."""

    async def test_async_client_is_restflows(self) -> None:
        assert type(self.async_client) is AsyncAPIClient
        assert type(self.client) is APIClient
        user = await User.objects.acreate(username="carol")
        self.async_client.force_authenticate(user=user, token="t")
        who = await self.async_client.post("/who/")
        assert who.json() == {"user": "carol", "auth": "t"}
