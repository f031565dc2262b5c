"""drf-restflow 2.0.1, idiomatically: its async views, viewsets, hooks, paginator and PostFetch.

Its import name is ``restflow`` too, so this module only runs in the side venv that
``python -m bench`` builds (``bench/sidevenv.py``), never next to our package.

- Sync hooks: plain DRF classes (``bench.targets.common``); drf-restflow runs a sync
  authenticator in a worker thread and calls sync permissions and throttles inline.
- Async hooks: its ``BaseAuthentication``/``BasePermission``/``BaseThrottle`` with the
  ``aauthenticate``/``ahas_permission``/``aallow_request`` hooks overridden.
- Writes: its ``ModelSerializer`` (``ais_valid``/``asave`` with the async ORM), the same
  fields as every other target; its ``PageNumberPagination`` (async ``acount`` + page).
- Latest review: its ``PostFetch`` passed to ``apaginated_response`` (one extra query).
- No hooks: DRF's ``AllowAny``, like every other target. drf-restflow's own ``AllowAny``
  inherits an ``ahas_object_permission`` that runs the sync check in a worker thread
  (one more hop per retrieve/update/delete), so the DRF class is the peer's faster choice.
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.urls import path
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from bench.targets import common
from tests.testapp.models import Product, Review

if metadata.version("drf-restflow") != "2.0.1":  # `restflow` here must be the peer, not ours
    raise RuntimeError("bench.targets.drf_restflow needs drf-restflow 2.0.1 (its side venv)")

from restflow.authentication import BaseAuthentication
from restflow.pagination import PageNumberPagination
from restflow.permissions import BasePermission
from restflow.serializers import ModelSerializer
from restflow.throttling import BaseThrottle
from restflow.views import AsyncAPIView, AsyncModelViewSet, PostFetch


class AsyncAuthentication(BaseAuthentication):
    async def aauthenticate(self, request: Request) -> tuple[AnonymousUser, str]:
        return common.authenticate(request)


class AsyncPermission(BasePermission):
    async def ahas_permission(self, request: Request, view: Any) -> bool:
        return request.method is not None


class AsyncThrottle(BaseThrottle):
    async def aallow_request(self, request: Request, view: Any) -> bool:
        return common.allow(request)


class Pages(PageNumberPagination):
    page_size = common.PAGE_SIZE


class ProductSerializer(ModelSerializer):
    class Meta:
        model = Product
        fields = common.PRODUCT_FIELDS


class ReviewRow(serializers.Field):
    """PostFetch's row, less the join key it adds (``product_id``): the shape the others send."""

    def to_representation(self, value: dict[str, Any]) -> dict[str, Any]:
        return {name: value[name] for name in common.REVIEW_FIELDS}


class ProductLatestSerializer(ModelSerializer):
    latest_review = ReviewRow(read_only=True, allow_null=True)

    class Meta:
        model = Product
        fields = [*common.PRODUCT_FIELDS, "latest_review"]


LATEST_REVIEW = PostFetch(
    queryset=Review.objects.all(),
    to_attr="latest_review",
    values=common.REVIEW_FIELDS,
    order_by=["-created_at", "-id"],
    limit=1,
    product_id="id",
)


class Products(AsyncModelViewSet):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []
    queryset = common.products()
    serializer_class = ProductSerializer
    pagination_class = Pages


class ProductsLatest(Products):
    serializer_class = ProductLatestSerializer

    async def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = await self.afilter_queryset(self.get_queryset())
        return await self.apaginated_response(queryset, post_fetches=[LATEST_REVIEW])


urlpatterns = [
    *common.trivial_paths(AsyncAPIView, (AsyncAuthentication, AsyncPermission, AsyncThrottle)),
    path("products/", Products.as_view({"get": "list", "post": "create"})),
    path(
        "products/<int:pk>/",
        Products.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"}),
    ),
    path("products-latest/", ProductsLatest.as_view({"get": "list"})),
]
