"""restflow: async views, native async hooks, PostFetch for the latest review.

The serializers are restflow's ``ModelSerializer``; ``bench.targets.restflow_drf`` serves
the same views with DRF's own (what users bring when they switch). The list + latest
review view builds its ``PostFetch`` inside the request, as a view may.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.urls import URLPattern, path
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from bench.targets import common
from restflow.pagination import PageNumberPagination
from restflow.protocols import AsyncBaseAuthentication, AsyncBasePermission, AsyncBaseThrottle
from restflow.serializers import ModelSerializer
from restflow.views import AsyncAPIView, AsyncModelViewSet, PostFetch
from tests.testapp.models import Product, Review


class AsyncAuthentication(AsyncBaseAuthentication):
    async def aauthenticate(self, request: Request) -> tuple[AnonymousUser, str]:
        return common.authenticate(request)


class AsyncPermission(AsyncBasePermission):
    async def ahas_permission(self, request: Request, view: Any) -> bool:
        return request.method is not None


class AsyncThrottle(AsyncBaseThrottle):
    async def aallow_request(self, request: Request, view: Any) -> bool:
        return common.allow(request)


class Pages(PageNumberPagination):
    page_size = common.PAGE_SIZE


class ProductSerializer(ModelSerializer[Product]):
    class Meta:
        model = Product
        fields = common.PRODUCT_FIELDS


class ProductLatestSerializer(ModelSerializer[Product]):
    latest_review = serializers.JSONField(read_only=True, allow_null=True)

    class Meta:
        model = Product
        fields = [*common.PRODUCT_FIELDS, "latest_review"]


def latest_review() -> PostFetch[dict[str, Any]]:
    """Built per request (a fresh queryset too): restflow shares the compiled plan."""
    return PostFetch(
        queryset=Review.objects.all(),
        to_attr="latest_review",
        values=common.REVIEW_FIELDS,
        order_by=["-created_at", "-id"],
        limit=1,
        product_id="id",
    )


def paths(serializer: type[Any], latest_serializer: type[Any]) -> list[URLPattern]:
    """Every endpoint, the products rendered by ``serializer``/``latest_serializer``."""

    class Products(AsyncModelViewSet[Product, Any]):
        authentication_classes = []
        permission_classes = [AllowAny]
        throttle_classes = []
        queryset = common.products()
        serializer_class = serializer
        pagination_class = Pages

    class ProductsLatest(Products):
        serializer_class = latest_serializer

        async def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
            queryset = await self.afilter_queryset(self.get_queryset())
            return await self.apaginated_response(queryset, post_fetches=[latest_review()])

    return [
        *common.trivial_paths(AsyncAPIView, (AsyncAuthentication, AsyncPermission, AsyncThrottle)),
        path("products/", Products.as_view({"get": "list", "post": "create"})),
        path(
            "products/<int:pk>/",
            Products.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"}),
        ),
        path("products-latest/", ProductsLatest.as_view({"get": "list"})),
    ]


urlpatterns = paths(ProductSerializer, ProductLatestSerializer)
