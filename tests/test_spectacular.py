"""OpenAPI schemas of restflow views: ``restflow.contrib.spectacular.AutoSchema``.

The test settings make restflow's ``AutoSchema`` the default schema class. Schemas are
generated with drf-spectacular's ``SchemaGenerator`` from the small views below, and compared
with what drf-spectacular's own ``AutoSchema`` gives for the same shapes on DRF's views. The
example app's schema is generated in a subprocess (with its own settings) and validated.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from openapi_spec_validator import validate
from rest_framework import authentication as drf_authentication
from rest_framework import filters as drf_filters
from rest_framework import generics as drf_generics
from rest_framework import pagination as drf_pagination
from rest_framework import permissions as drf_permissions
from rest_framework import serializers
from rest_framework import viewsets as drf_viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from restflow import authentication, filters, pagination, permissions
from restflow.contrib.spectacular import AutoSchema
from restflow.serializers import ModelSerializer
from restflow.views import (
    ActionConfig,
    AsyncAPIView,
    AsyncListAPIView,
    AsyncListCreateAPIView,
    AsyncModelViewSet,
    AsyncReadOnlyModelViewSet,
    AsyncRetrieveUpdateDestroyAPIView,
    ModelViewSet,
)
from tests._clients import CLIENTS, outcome, send
from tests.testapp.models import Product, Review

EXAMPLE = Path(__file__).resolve().parent.parent / "example"
SCHEMA_TIMEOUT = 120

Patterns = list[URLPattern | URLResolver]

# -- serializers ----------------------------------------------------------------------------


class ProductIn(ModelSerializer[Product]):
    """What a client sends to create or change a product."""

    class Meta:
        model = Product
        fields = ["name", "price"]


class ProductOut(ModelSerializer[Product]):
    """A product as the API shows it."""

    class Meta:
        model = Product
        fields = ["id", "name", "price", "created_at"]


class ProductBrief(ModelSerializer[Product]):
    """A product in a short list."""

    class Meta:
        model = Product
        fields = ["id", "name"]


class ProductDetail(ModelSerializer[Product]):
    """A product with everything about it."""

    class Meta:
        model = Product
        fields = ["id", "name", "price", "is_top", "created_at"]


class ReviewOut(ModelSerializer[Review]):
    """A review."""

    class Meta:
        model = Review
        fields = ["id", "product", "rating", "comment"]


class Undocumented(ModelSerializer[Review]):
    class Meta:
        model = Review
        fields = ["id", "rating"]


class Pages(pagination.PageNumberPagination):
    page_size = 10


class DrfPages(drf_pagination.PageNumberPagination):
    page_size = 10


# -- restflow views ----------------------------------------------------------------------------


class AsyncSplitViewSet(AsyncModelViewSet[Product, ProductOut, ProductIn, ProductOut]):
    queryset = Product.objects.all()
    request_serializer_class = ProductIn
    response_serializer_class = ProductOut
    pagination_class = Pages


class SyncSplitViewSet(ModelViewSet[Product, ProductOut, ProductIn, ProductOut]):
    queryset = Product.objects.all()
    request_serializer_class = ProductIn
    response_serializer_class = ProductOut
    pagination_class = Pages


class ConfiguredViewSet(AsyncModelViewSet[Product, ProductOut]):
    queryset = Product.objects.all()
    serializer_class = ProductOut
    pagination_class = Pages
    action_configs = {
        "list": ActionConfig(serializer_class=ProductBrief, pagination_class=None),
        "create": ActionConfig(request_serializer_class=ProductIn),
        "retrieve": ActionConfig(response_serializer_class=ProductDetail),
    }


class OffsetListViewSet(AsyncReadOnlyModelViewSet[Review, ReviewOut]):
    queryset = Review.objects.all()
    serializer_class = ReviewOut
    pagination_class = None
    action_configs = {"list": ActionConfig(pagination_class=pagination.LimitOffsetPagination)}


class DocumentedViewSet(AsyncReadOnlyModelViewSet[Product, ProductOut]):
    """Products, documented."""

    queryset = Product.objects.all()
    serializer_class = ProductOut
    pagination_class = Pages

    async def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Every product, oldest first."""
        return await self.apaginated_response(self.get_queryset())

    @extend_schema(responses={200: ProductDetail}, description="One product, in detail.")
    async def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        product = await self.aget_object()
        return await self.aserialized_response(product, serializer_class=ProductDetail)


@extend_schema_view(list=extend_schema(description="Every review."))
class AnnotatedReviews(AsyncReadOnlyModelViewSet[Review, ReviewOut]):
    queryset = Review.objects.all()
    serializer_class = ReviewOut
    pagination_class = None


class ReviewList(AsyncListAPIView[Review, ReviewOut]):
    queryset = Review.objects.all()
    serializer_class = ReviewOut
    pagination_class = Pages


class UndocumentedList(AsyncListAPIView[Review, Undocumented]):
    queryset = Review.objects.all()
    serializer_class = Undocumented
    pagination_class = None


class PingView(AsyncAPIView):
    """Liveness."""

    @extend_schema(responses=inline_serializer("Ping", {"pong": serializers.BooleanField()}))
    async def get(self, request: Request) -> Response:
        return Response({"pong": True})


class SplitView(AsyncAPIView[ProductOut, ProductIn, ProductOut]):
    request_serializer_class = ProductIn
    response_serializer_class = ProductOut

    async def put(self, request: Request) -> Response:
        return Response({})

    @extend_schema(request=ProductBrief, responses={202: ProductDetail})
    async def post(self, request: Request) -> Response:
        return Response({}, status=202)


class BareView(AsyncAPIView):
    async def get(self, request: Request) -> Response:
        return Response({})


def _router(prefix: str, viewset: type[Any]) -> URLResolver:
    router = SimpleRouter()
    router.register(prefix, viewset, basename=prefix)
    return path("", include(router.urls))


urlpatterns: Patterns = [_router("annotated", AnnotatedReviews)]
pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]


# -- helpers ----------------------------------------------------------------------------------


def _generate(patterns: Patterns) -> tuple[dict[str, Any], list[str]]:
    """The schema of ``patterns`` and drf-spectacular's warnings and errors about it."""
    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        # drf-spectacular leaves the generator unannotated.
        generator = SchemaGenerator(patterns=patterns)  # type: ignore[no-untyped-call]  # see above
        schema: dict[str, Any] = generator.get_schema(request=None, public=True)  # type: ignore[no-untyped-call]  # see above
    messages = [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
    GENERATOR_STATS.reset()
    return schema, messages


def _schema(patterns: Patterns) -> dict[str, Any]:
    schema, messages = _generate(patterns)
    assert messages == []
    return schema


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _request(schema: dict[str, Any], route: str, method: str) -> Any:
    return schema["paths"][route][method]["requestBody"]["content"]["application/json"]["schema"]


def _response(schema: dict[str, Any], route: str, method: str, status: str = "200") -> Any:
    responses = schema["paths"][route][method]["responses"]
    return responses[status]["content"]["application/json"]["schema"]


def _parameters(schema: dict[str, Any], route: str, method: str) -> list[str]:
    return [p["name"] for p in schema["paths"][route][method].get("parameters", [])]


# -- the serializer split ------------------------------------------------------------------


@pytest.mark.parametrize("viewset", [AsyncSplitViewSet, SyncSplitViewSet], ids=["async", "sync"])
def test_split_request_body_is_request_serializer_response_is_response_serializer(
    viewset: type[Any],
) -> None:
    schema = _schema([_router("products", viewset)])

    for method in ("post", "put"):
        route = "/products/" if method == "post" else "/products/{id}/"
        assert _request(schema, route, method) == _ref("ProductIn")
    assert _request(schema, "/products/{id}/", "patch") == _ref("PatchedProductIn")
    assert list(schema["paths"]["/products/"]["post"]["responses"]) == ["201"]
    assert _response(schema, "/products/", "post", "201") == _ref("ProductOut")
    for method in ("get", "put", "patch"):
        assert _response(schema, "/products/{id}/", method) == _ref("ProductOut")
    components = schema["components"]["schemas"]
    assert list(components["ProductIn"]["properties"]) == ["name", "price"]
    out = components["ProductOut"]["properties"]
    assert list(out) == ["id", "name", "price", "created_at"]
    assert out["id"]["readOnly"] is True
    assert out["created_at"]["readOnly"] is True


@pytest.mark.parametrize("viewset", [AsyncSplitViewSet, SyncSplitViewSet], ids=["async", "sync"])
def test_paginated_list_is_the_envelope_of_the_response_serializer(viewset: type[Any]) -> None:
    schema = _schema([_router("products", viewset)])

    assert schema["paths"]["/products/"]["get"]["operationId"] == "products_list"
    assert _response(schema, "/products/", "get") == _ref("PaginatedProductOutList")
    envelope = schema["components"]["schemas"]["PaginatedProductOutList"]
    assert envelope["properties"]["results"] == {"type": "array", "items": _ref("ProductOut")}
    assert _parameters(schema, "/products/", "get") == ["page"]


def test_split_on_a_plain_async_apiview() -> None:
    schema = _schema([path("split/", SplitView.as_view())])

    assert _request(schema, "/split/", "put") == _ref("ProductIn")
    assert _response(schema, "/split/", "put") == _ref("ProductOut")


# -- ActionConfig -----------------------------------------------------------------------------


def test_action_config_serializers_per_action() -> None:
    schema = _schema([_router("products", ConfiguredViewSet)])

    assert _request(schema, "/products/", "post") == _ref("ProductIn")
    assert _response(schema, "/products/", "post", "201") == _ref("ProductOut")
    assert _response(schema, "/products/{id}/", "get") == _ref("ProductDetail")
    assert _request(schema, "/products/{id}/", "put") == _ref("ProductOut")
    assert _response(schema, "/products/{id}/", "put") == _ref("ProductOut")


def test_action_config_pagination_none_lists_a_plain_array() -> None:
    schema = _schema([_router("products", ConfiguredViewSet)])

    assert _response(schema, "/products/", "get") == {
        "type": "array",
        "items": _ref("ProductBrief"),
    }
    assert _parameters(schema, "/products/", "get") == []
    assert not any(name.startswith("Paginated") for name in schema["components"]["schemas"])


def test_action_config_pagination_class_gives_its_envelope() -> None:
    schema = _schema([_router("reviews", OffsetListViewSet)])

    assert _response(schema, "/reviews/", "get") == _ref("PaginatedReviewOutList")
    envelope = schema["components"]["schemas"]["PaginatedReviewOutList"]
    assert envelope["properties"]["results"] == {"type": "array", "items": _ref("ReviewOut")}
    assert sorted(_parameters(schema, "/reviews/", "get")) == ["limit", "offset"]
    # The detail route has no paginator: the class says None.
    assert _response(schema, "/reviews/{id}/", "get") == _ref("ReviewOut")


# -- list detection, docstrings and @extend_schema ------------------------------------------


def test_async_list_api_view_is_a_list() -> None:
    schema = _schema([path("reviews/", ReviewList.as_view())])

    operation = schema["paths"]["/reviews/"]["get"]
    assert operation["operationId"] == "reviews_list"
    assert _response(schema, "/reviews/", "get") == _ref("PaginatedReviewOutList")
    assert _parameters(schema, "/reviews/", "get") == ["page"]


def test_own_async_list_action_is_a_list_and_its_docstring_describes_it() -> None:
    schema = _schema([_router("products", DocumentedViewSet)])

    operation = schema["paths"]["/products/"]["get"]
    assert operation["description"] == "Every product, oldest first."
    assert _response(schema, "/products/", "get") == _ref("PaginatedProductOutList")


def test_restflow_docstrings_never_describe_the_api() -> None:
    schema = _schema([path("reviews/", UndocumentedList.as_view())])

    assert "description" not in schema["paths"]["/reviews/"]["get"]
    assert "description" not in schema["components"]["schemas"]["Undocumented"]
    assert _response(schema, "/reviews/", "get") == {"type": "array", "items": _ref("Undocumented")}


def test_view_and_serializer_docstrings_describe_the_api() -> None:
    schema = _schema([_router("products", DocumentedViewSet)])

    operation = schema["paths"]["/products/{id}/"]["get"]
    assert operation["description"] == "One product, in detail."
    description = schema["components"]["schemas"]["ProductOut"]["description"]
    assert description == "A product as the API shows it."


def test_extend_schema_overrides_the_response_serializer() -> None:
    schema = _schema([_router("products", DocumentedViewSet)])

    assert _response(schema, "/products/{id}/", "get") == _ref("ProductDetail")


def test_extend_schema_overrides_the_split() -> None:
    schema = _schema([path("split/", SplitView.as_view())])

    assert _request(schema, "/split/", "post") == _ref("ProductBrief")
    assert list(schema["paths"]["/split/"]["post"]["responses"]) == ["202"]
    assert _response(schema, "/split/", "post", "202") == _ref("ProductDetail")


def test_extend_schema_describes_an_async_apiview_without_serializer() -> None:
    schema = _schema([path("ping/", PingView.as_view())])

    assert _response(schema, "/ping/", "get") == _ref("Ping")
    assert schema["components"]["schemas"]["Ping"]["properties"] == {"pong": {"type": "boolean"}}
    assert schema["paths"]["/ping/"]["get"]["description"] == "Liveness."


def test_a_view_without_serializer_or_annotation_is_reported() -> None:
    schema, messages = _generate([path("bare/", BareView.as_view())])

    assert len(messages) == 1
    assert "could not build the serializer of BareView" in messages[0]
    assert "@extend_schema" in messages[0]
    assert "content" not in schema["paths"]["/bare/"]["get"]["responses"]["200"]


def test_extend_schema_view_on_an_inherited_async_action() -> None:
    schema = _schema([_router("annotated", AnnotatedReviews)])

    assert schema["paths"]["/annotated/"]["get"]["description"] == "Every review."
    assert _response(schema, "/annotated/", "get") == {"type": "array", "items": _ref("ReviewOut")}


@pytest.mark.parametrize("client", CLIENTS)
def test_extend_schema_view_on_an_inherited_async_action_still_serves(client: str) -> None:
    # drf-spectacular replaces the inherited ``async def list`` with a sync wrapper that
    # returns its coroutine: the view still answers (the dispatcher awaits what it gets).
    product = Product.objects.create(name="lamp", price="9.50")
    review = Review.objects.create(product=product, rating=4, comment="bright")

    status, body, _ = outcome(send(client, "get", "/annotated/"))

    assert status == 200
    assert body == [{"id": review.pk, "product": product.pk, "rating": 4, "comment": "bright"}]


# -- the same shapes as DRF views under drf-spectacular's own AutoSchema --------------------


class DrfProducts(drf_viewsets.ModelViewSet[Product]):
    """Products."""

    schema = SpectacularAutoSchema()
    queryset = Product.objects.all()
    serializer_class = ProductOut
    pagination_class = DrfPages
    authentication_classes = [
        drf_authentication.SessionAuthentication,
        drf_authentication.BasicAuthentication,
        drf_authentication.TokenAuthentication,
    ]
    permission_classes = [drf_permissions.IsAuthenticatedOrReadOnly]
    filter_backends = [drf_filters.SearchFilter, drf_filters.OrderingFilter]
    search_fields = ["name"]
    ordering_fields = ["name"]


class Products(AsyncModelViewSet[Product, ProductOut]):
    """Products."""

    queryset = Product.objects.all()
    serializer_class = ProductOut
    pagination_class = Pages
    authentication_classes = [
        authentication.SessionAuthentication,
        authentication.BasicAuthentication,
        authentication.TokenAuthentication,
    ]
    permission_classes = [permissions.IsAuthenticatedOrReadOnly]
    filter_backends = [filters.SearchFilter, filters.OrderingFilter]
    search_fields = ["name"]
    ordering_fields = ["name"]


class SyncProducts(ModelViewSet[Product, ProductOut]):
    """Products."""

    queryset = Product.objects.all()
    serializer_class = ProductOut
    pagination_class = Pages
    authentication_classes = [
        authentication.SessionAuthentication,
        authentication.BasicAuthentication,
        authentication.TokenAuthentication,
    ]
    permission_classes = [permissions.IsAuthenticatedOrReadOnly]
    filter_backends = [filters.SearchFilter, filters.OrderingFilter]
    search_fields = ["name"]
    ordering_fields = ["name"]


class DrfUnpaginatedProducts(drf_viewsets.ModelViewSet[Product]):
    schema = SpectacularAutoSchema()
    queryset = Product.objects.all()
    serializer_class = ProductOut
    pagination_class = None


class ActionUnpaginatedProducts(AsyncModelViewSet[Product, ProductOut]):
    queryset = Product.objects.all()
    serializer_class = ProductOut
    pagination_class = Pages
    action_configs = {"list": ActionConfig(pagination_class=None)}


class DrfReviewList(drf_generics.ListAPIView[Review]):
    schema = SpectacularAutoSchema()
    queryset = Review.objects.all()
    serializer_class = ReviewOut
    pagination_class = DrfPages
    permission_classes = [drf_permissions.AllowAny]


class AllowAnyReviewList(AsyncListAPIView[Review, ReviewOut]):
    queryset = Review.objects.all()
    serializer_class = ReviewOut
    pagination_class = Pages
    permission_classes = [permissions.AllowAny]


class DrfListCreate(drf_generics.ListCreateAPIView[Product]):
    schema = SpectacularAutoSchema()
    queryset = Product.objects.all()
    serializer_class = ProductOut
    pagination_class = None


class ListCreate(AsyncListCreateAPIView[Product, ProductOut]):
    queryset = Product.objects.all()
    serializer_class = ProductOut
    pagination_class = None


class DrfDetail(drf_generics.RetrieveUpdateDestroyAPIView[Product]):
    schema = SpectacularAutoSchema()
    queryset = Product.objects.all()
    serializer_class = ProductDetail


class Detail(AsyncRetrieveUpdateDestroyAPIView[Product, ProductDetail]):
    queryset = Product.objects.all()
    serializer_class = ProductDetail


@extend_schema(responses=OpenApiTypes.OBJECT)
class DrfObjectList(drf_generics.ListAPIView[Review]):
    schema = SpectacularAutoSchema()
    queryset = Review.objects.all()
    serializer_class = ReviewOut
    pagination_class = DrfPages


class ObjectList(AsyncListAPIView[Review, ReviewOut]):
    queryset = Review.objects.all()
    serializer_class = ReviewOut
    pagination_class = Pages

    @extend_schema(responses=OpenApiTypes.OBJECT)
    async def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return await self.list(request, *args, **kwargs)


def _generic(view: type[Any], *, detail: bool = False) -> Patterns:
    route = "products/<int:pk>/" if detail else "products/"
    return [path(route, view.as_view())]


PAIRS: dict[str, tuple[Patterns, Patterns]] = {
    "async viewset": ([_router("products", DrfProducts)], [_router("products", Products)]),
    "sync viewset": ([_router("products", DrfProducts)], [_router("products", SyncProducts)]),
    "action pagination None": (
        [_router("products", DrfUnpaginatedProducts)],
        [_router("products", ActionUnpaginatedProducts)],
    ),
    "list view": (_generic(DrfReviewList), _generic(AllowAnyReviewList)),
    "list-create view": (_generic(DrfListCreate), _generic(ListCreate)),
    "detail view": (_generic(DrfDetail, detail=True), _generic(Detail, detail=True)),
    "extend_schema basic type": (_generic(DrfObjectList), _generic(ObjectList)),
}


@pytest.mark.parametrize(("drf", "restflow"), list(PAIRS.values()), ids=list(PAIRS))
def test_same_schema_as_drf_views_of_the_same_shape(drf: Patterns, restflow: Patterns) -> None:
    assert _schema(restflow) == _schema(drf)


def test_restflow_schema_class_describes_drf_views_as_drf_spectacular_does() -> None:
    expected = _schema([_router("products", DrfProducts)])
    DrfProducts.schema = AutoSchema()
    try:
        assert _schema([_router("products", DrfProducts)]) == expected
    finally:
        DrfProducts.schema = SpectacularAutoSchema()


def test_plain_drf_spectacular_gets_restflow_views_wrong() -> None:
    # Why the integration exists: drf-spectacular's own AutoSchema sees no list here.
    class Plain(ReviewList):
        schema = SpectacularAutoSchema()

    schema = _schema([path("reviews/", Plain.as_view())])
    assert _response(schema, "/reviews/", "get") == _ref("ReviewOut")


# -- the example app ------------------------------------------------------------------------


def test_example_app_schema_is_valid_openapi_without_warnings(tmp_path: Path) -> None:
    target = tmp_path / "schema.json"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "shop_project.settings",
        "SHOP_DB": str(tmp_path / "shop.sqlite3"),
    }
    command = [
        sys.executable,
        "manage.py",
        "spectacular",
        "--format",
        "openapi-json",
        "--file",
        str(target),
        "--validate",
        "--fail-on-warn",
    ]
    completed = subprocess.run(
        command,
        cwd=EXAMPLE,
        env=env,
        capture_output=True,
        text=True,
        timeout=SCHEMA_TIMEOUT,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "Warning" not in completed.stderr
    assert "Error" not in completed.stderr

    schema: dict[str, Any] = json.loads(target.read_text())
    validate(schema)
    assert _response(schema, "/api/products/", "get") == _ref("PaginatedProductList")
    assert _response(schema, "/api/reviews/", "get") == {"type": "array", "items": _ref("Review")}
    assert _request(schema, "/api/products/", "post") == _ref("Product")
    assert _response(schema, "/api/products/", "post", "201") == _ref("Product")
    assert _response(schema, "/api/health/", "get") == _ref("Health")
