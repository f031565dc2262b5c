"""The serializer split and the validate / serialize / paginate helpers, sync and async.

Each endpoint is written twice (``APIView`` with the sync helpers, ``AsyncAPIView`` with
the ``a`` helpers) and answers the same; where DRF has the same endpoint (a generic
``ListCreateAPIView``) the answers are compared with DRF's too.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, TypedDict

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import URLPattern, path
from rest_framework import generics, serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from restflow._apiview import RestflowView
from restflow.serializers import Serializer
from restflow.test import hop_count
from restflow.views import APIView, AsyncAPIView
from tests._clients import CLIENTS, outcome, send
from tests.testapp.models import Product
from tests.testapp.serializers import TypedProductSerializer as ProductSerializer

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]


class NameOnly(TypedDict):
    id: int
    name: str


class ProductSummary(Serializer[dict[str, Any], NameOnly]):
    id = serializers.IntegerField()
    name = serializers.CharField()


class PlainProductSerializer(serializers.ModelSerializer[Product]):
    """A DRF serializer, untouched: restflow's helpers take it as it is."""

    class Meta:
        model = Product
        fields = ["id", "name", "price"]


class PageOfTwo(PageNumberPagination):
    page_size = 2


OPEN: dict[str, Any] = {"authentication_classes": [], "permission_classes": [AllowAny]}


class SyncProducts(APIView[ProductSerializer]):
    serializer_class = ProductSerializer
    pagination_class = PageOfTwo

    def get(self, request: Request) -> Response:
        return self.paginated_response(Product.objects.all(), headers={"X-Listed": "yes"})

    def post(self, request: Request) -> Response:
        serializer = self.validated_serializer()
        product = serializer.save()
        return self.serialized_response(product, status=201, headers={"X-Id": str(product.pk)})


class AsyncProducts(AsyncAPIView[ProductSerializer]):
    serializer_class = ProductSerializer
    pagination_class = PageOfTwo

    async def get(self, request: Request) -> Response:
        return await self.apaginated_response(Product.objects.all(), headers={"X-Listed": "yes"})

    async def post(self, request: Request) -> Response:
        serializer = await self.avalidated_serializer()
        product = await serializer.asave()
        return await self.aserialized_response(
            product, status=201, headers={"X-Id": str(product.pk)}
        )


class DrfProducts(generics.ListCreateAPIView[Product]):
    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    pagination_class = PageOfTwo


class SyncSplit(APIView[ProductSerializer, ProductSerializer, ProductSummary]):
    request_serializer_class = ProductSerializer
    response_serializer_class = ProductSummary
    pagination_class = None

    def get(self, request: Request) -> Response:
        return self.paginated_response(Product.objects.all())

    def post(self, request: Request) -> Response:
        product = self.validated_serializer().save()
        return self.serialized_response(product, status=201)


class AsyncSplit(AsyncAPIView[ProductSerializer, ProductSerializer, ProductSummary]):
    request_serializer_class = ProductSerializer
    response_serializer_class = ProductSummary
    pagination_class = None

    async def get(self, request: Request) -> Response:
        return await self.apaginated_response(Product.objects.all())

    async def post(self, request: Request) -> Response:
        serializer = await self.avalidated_serializer()
        return await self.aserialized_response(await serializer.asave(), status=201)


class SyncMany(APIView):
    serializer_class = PlainProductSerializer

    def get(self, request: Request) -> Response:
        return self.serialized_response(Product.objects.all(), many=True)

    def post(self, request: Request) -> Response:
        serializer = self.validated_serializer(serializer_class=ProductSummary)
        return Response(serializer.validated_data)


class AsyncMany(AsyncAPIView):
    serializer_class = PlainProductSerializer

    async def get(self, request: Request) -> Response:
        return await self.aserialized_response(Product.objects.all(), many=True)

    async def post(self, request: Request) -> Response:
        serializer = await self.avalidated_serializer(serializer_class=ProductSummary)
        return Response(serializer.validated_data)


class SyncContext(APIView):
    serializer_class = PlainProductSerializer

    def get(self, request: Request) -> Response:
        context = self.get_serializer().context
        return Response({"keys": sorted(context), "view": context["view"] is self})


class AsyncContext(AsyncAPIView):
    serializer_class = PlainProductSerializer

    async def get(self, request: Request) -> Response:
        context = self.get_serializer().context
        return Response({"keys": sorted(context), "view": context["view"] is self})


class SyncUnconfigured(APIView):
    def get(self, request: Request) -> Response:
        return self.serialized_response(None)


class AsyncUnconfigured(AsyncAPIView):
    async def get(self, request: Request) -> Response:
        return await self.aserialized_response(None)


VIEWS: dict[str, dict[str, Any]] = {
    "sync": {
        "products": SyncProducts,
        "split": SyncSplit,
        "many": SyncMany,
        "context": SyncContext,
        "unconfigured": SyncUnconfigured,
    },
    "async": {
        "products": AsyncProducts,
        "split": AsyncSplit,
        "many": AsyncMany,
        "context": AsyncContext,
        "unconfigured": AsyncUnconfigured,
    },
}

urlpatterns: list[URLPattern] = [
    path("drf/products/", DrfProducts.as_view(**OPEN)),
    *(
        path(f"{kind}/{name}/", view.as_view(**OPEN))
        for kind, views in VIEWS.items()
        for name, view in views.items()
    ),
]

kinds = pytest.mark.parametrize("kind", ["sync", "async"])
clients = pytest.mark.parametrize("client", CLIENTS)


@pytest.fixture
def products(db: None) -> list[Product]:
    return [
        Product.objects.create(name=name, price=Decimal(price))
        for name, price in [("a", "1.00"), ("b", "2.00"), ("c", "3.00")]
    ]


def _without(headers: dict[str, str | None], *names: str) -> dict[str, str | None]:
    return {key: value for key, value in headers.items() if key not in names}


@kinds
@clients
def test_paginated_response_matches_drf(client: str, kind: str, products: list[Product]) -> None:
    response = send(client, "get", f"/{kind}/products/?page=2")
    status, body, headers = outcome(response)
    drf_status, drf_body, drf_headers = outcome(send(client, "get", "/drf/products/?page=2"))
    drf_body["previous"] = drf_body["previous"].replace("/drf/", f"/{kind}/")
    # Allow differs: DRF's generic view declares its own methods.
    assert (status, body, _without(headers, "Allow")) == (
        drf_status,
        drf_body,
        _without(drf_headers, "Allow"),
    )
    assert body["count"] == 3
    assert [item["name"] for item in body["results"]] == ["c"]
    assert response["X-Listed"] == "yes"


@kinds
@clients
def test_create_matches_drf(client: str, kind: str) -> None:
    body = '{"name": "new", "price": "4.50"}'
    response = send(client, "post", f"/{kind}/products/", body=body)
    assert response.status_code == 201
    created = Product.objects.get(name="new")
    assert response.data == {"id": created.pk, "name": "new", "price": "4.50"}
    assert response["X-Id"] == str(created.pk)
    created.delete()
    drf = send(client, "post", "/drf/products/", body=body)
    assert drf.status_code == 201
    assert {**drf.data, "id": None} == {**response.data, "id": None}


@kinds
@clients
def test_invalid_body_is_400_with_field_errors_and_saves_nothing(client: str, kind: str) -> None:
    body = '{"name": "", "price": "not a number"}'
    response = send(client, "post", f"/{kind}/products/", body=body)
    drf = send(client, "post", "/drf/products/", body=body)
    assert response.status_code == 400
    assert response.data == drf.data
    assert set(response.data) == {"name", "price"}
    assert response.data["price"][0].code == "invalid"
    assert not Product.objects.exists()


@kinds
@clients
def test_split_validates_with_request_and_renders_with_response_serializer(
    client: str, kind: str
) -> None:
    response = send(client, "post", f"/{kind}/split/", body='{"name": "x", "price": "1.00"}')
    assert response.status_code == 201
    assert response.data == {"id": Product.objects.get().pk, "name": "x"}
    invalid = send(client, "post", f"/{kind}/split/", body='{"name": "y"}')
    assert invalid.status_code == 400
    assert set(invalid.data) == {"price"}  # ProductSerializer's rule, not ProductSummary's


@kinds
@clients
def test_paginated_response_without_pagination_class_is_a_list(
    client: str, kind: str, products: list[Product]
) -> None:
    response = send(client, "get", f"/{kind}/split/")
    assert response.status_code == 200
    assert response.data == [{"id": p.pk, "name": p.name} for p in products]


@kinds
@clients
def test_serialized_response_many_with_a_plain_drf_serializer(
    client: str, kind: str, products: list[Product]
) -> None:
    response = send(client, "get", f"/{kind}/many/")
    assert response.status_code == 200
    assert response.data == PlainProductSerializer(Product.objects.all(), many=True).data


@kinds
@clients
def test_validated_serializer_takes_an_explicit_class(client: str, kind: str) -> None:
    response = send(client, "post", f"/{kind}/many/", body='{"id": 5, "name": "n"}')
    assert response.status_code == 200
    assert response.data == {"id": 5, "name": "n"}


@kinds
@clients
def test_get_serializer_context(client: str, kind: str) -> None:
    response = send(client, "get", f"/{kind}/context/")
    assert response.data == {"keys": ["format", "request", "view"], "view": True}


@kinds
@clients
def test_missing_serializer_class_is_improperly_configured(client: str, kind: str) -> None:
    name = "SyncUnconfigured" if kind == "sync" else "AsyncUnconfigured"
    message = (
        f"'{name}' should either include a `serializer_class` attribute, "
        "or override the `get_serializer_class()` method."
    )
    with pytest.raises(ImproperlyConfigured) as raised:
        send(client, "get", f"/{kind}/unconfigured/")
    assert str(raised.value) == message


def test_pagination_class_defaults_to_drf_setting() -> None:
    assert RestflowView.pagination_class is generics.GenericAPIView.pagination_class
    assert APIView.pagination_class is AsyncAPIView.pagination_class


@clients
def test_options_describes_the_declared_serializer(client: str) -> None:
    response = send(client, "options", "/async/products/")
    assert response.status_code == 200
    assert set(response.data["actions"]["POST"]) == {"id", "name", "price"}


# -- hop budgets --------------------------------------------------------------------------


@clients
def test_async_create_costs_one_hop_per_awaited_helper(client: str) -> None:
    before = hop_count()
    response = send(client, "post", "/async/products/", body='{"name": "n", "price": "1.00"}')
    assert response.status_code == 201
    # avalidated_serializer, asave, aserialized_response: one hop each, checks none.
    assert hop_count() - before == 3


@clients
def test_async_paginated_list_costs_one_hop(client: str, products: list[Product]) -> None:
    before = hop_count()
    response = send(client, "get", "/async/products/")
    assert response.status_code == 200
    assert len(response.data["results"]) == 2
    assert hop_count() - before == 1


@clients
def test_async_unpaginated_list_costs_one_hop(client: str, products: list[Product]) -> None:
    before = hop_count()
    response = send(client, "get", "/async/split/")
    assert len(response.data) == 3
    assert hop_count() - before == 1
