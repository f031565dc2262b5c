"""adrf (async DRF), idiomatically: adrf views, viewsets and serializers, async hooks."""

from __future__ import annotations

from typing import Any

from adrf import serializers as adrf_serializers
from adrf import viewsets
from adrf.views import APIView
from django.contrib.auth.models import AnonymousUser
from django.urls import path
from rest_framework import serializers
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from bench.targets import common
from tests.testapp.models import Product


class AsyncAuthentication(BaseAuthentication):
    async def authenticate(self, request: Request) -> tuple[AnonymousUser, str]:  # type: ignore[override]
        return common.authenticate(request)


class AsyncPermission(BasePermission):
    async def has_permission(self, request: Request, view: Any) -> bool:  # type: ignore[override]
        return request.method is not None


class AsyncThrottle(BaseThrottle):
    async def allow_request(self, request: Request, view: Any) -> bool:  # type: ignore[override]
        return common.allow(request)


class ProductSerializer(adrf_serializers.ModelSerializer):  # type: ignore[misc]
    class Meta:
        model = Product
        fields = common.PRODUCT_FIELDS


class ProductLatestSerializer(adrf_serializers.ModelSerializer):  # type: ignore[misc]
    latest_review = serializers.JSONField(read_only=True, allow_null=True)

    class Meta:
        model = Product
        fields = [*common.PRODUCT_FIELDS, "latest_review"]


class Products(viewsets.ModelViewSet):  # type: ignore[misc]
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []
    queryset = common.products()
    serializer_class = ProductSerializer
    pagination_class = common.Pages


class ProductsLatest(Products):
    queryset = common.products_with_latest()
    serializer_class = ProductLatestSerializer


urlpatterns = [
    *common.trivial_paths(APIView, (AsyncAuthentication, AsyncPermission, AsyncThrottle)),
    path("products/", Products.as_view({"get": "alist", "post": "acreate"})),
    path(
        "products/<int:pk>/",
        Products.as_view({"get": "aretrieve", "patch": "partial_aupdate", "delete": "adestroy"}),
    ),
    path("products-latest/", ProductsLatest.as_view({"get": "alist"})),
]
