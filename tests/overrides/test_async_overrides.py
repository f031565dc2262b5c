"""A user's async overrides are awaited on the loop; with both on one class, the async wins."""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models import QuerySet
from django.urls import URLPattern, URLResolver, include, path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from restflow.views import (
    AsyncModelViewSet,
)
from tests._clients import send
from tests.overrides.support import (
    CALLS,
    ProductSerializer,
    clients,
    record,
)
from tests.testapp.models import Product

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]


# -- async overrides, and both on one class ------------------------------------------


class AsyncOverrides(AsyncModelViewSet[Product, ProductSerializer]):
    serializer_class = ProductSerializer
    authentication_classes = ()
    permission_classes = ()
    pagination_class = None

    async def get_queryset(self) -> QuerySet[Product]:  # type: ignore[override]  # adrf-style async hook
        record("get_queryset")
        return Product.objects.filter(is_top=True)

    async def aget_object(self) -> Product:
        record("aget_object")
        return await Product.objects.aget(name=self.kwargs["pk"])

    async def aperform_create(self, serializer: Any) -> None:
        record("aperform_create")
        await serializer.asave(is_top=True)


class BothOverrides(AsyncModelViewSet[Product, ProductSerializer]):
    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    authentication_classes = ()
    permission_classes = ()

    def get_object(self) -> Product:
        record("get_object")
        raise AssertionError("the async override wins")

    async def aget_object(self) -> Product:
        record("aget_object")
        return await Product.objects.aget(name=self.kwargs["pk"])

    def perform_create(self, serializer: Any) -> None:
        record("perform_create")
        raise AssertionError("the async override wins")

    async def aperform_create(self, serializer: Any) -> None:
        record("aperform_create")
        await serializer.asave(name="both")


class AsyncList(AsyncModelViewSet[Product, ProductSerializer]):
    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    authentication_classes = ()
    permission_classes = ()

    async def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        record("list")
        return Response({"count": await self.get_queryset().acount()})


router = SimpleRouter()
router.register("async", AsyncOverrides, basename="async")
router.register("both", BothOverrides, basename="both")
router.register("async-list", AsyncList, basename="async-list")

urlpatterns: list[URLPattern | URLResolver] = [
    path("", include(router.urls)),
]


@clients
def test_async_overrides_are_awaited_on_the_loop(
    client: str, catalogue: dict[str, Product]
) -> None:
    listed = send(client, "get", "/async/")
    assert [item["name"] for item in listed.data] == ["apple", "leek"]
    assert send(client, "get", "/async/pear/").data["name"] == "pear"
    created = send(client, "post", "/async/", body='{"name": "fig", "price": "5.00"}')
    assert created.status_code == 201
    assert Product.objects.get(name="fig").is_top
    assert send(client, "get", "/async-list/").data == {"count": 5}
    assert CALLS == [
        ("get_queryset", True),
        ("aget_object", True),
        ("aperform_create", True),
        ("list", True),
    ]


@clients
def test_the_async_override_wins_over_the_sync_one(
    client: str, catalogue: dict[str, Product]
) -> None:
    assert send(client, "get", "/both/pear/").data["name"] == "pear"
    created = send(client, "post", "/both/", body='{"name": "fig", "price": "5.00"}')
    assert created.status_code == 201
    assert Product.objects.filter(name="both").exists()
    assert CALLS == [("aget_object", True), ("aperform_create", True)]
