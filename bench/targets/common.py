"""Pieces every target shares: the hooks' behaviour, querysets and serializers."""

from __future__ import annotations

import asyncio
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import JSONField, OuterRef, Subquery
from django.db.models.functions import JSONObject
from django.urls import URLPattern, path
from rest_framework import serializers
from rest_framework.authentication import BaseAuthentication
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle

from tests.testapp.models import Product, Review

PAGE_SIZE = 20
PRODUCT_FIELDS = ["id", "name", "price", "category", "is_top", "created_at"]
REVIEW_FIELDS = ["id", "rating", "comment"]
SLEEP = 0.05

_counts: dict[str, int] = {}


def authenticate(request: Request) -> tuple[AnonymousUser, str]:
    """Read a token header; no database (the bench measures the framework)."""
    return AnonymousUser(), request.META.get("HTTP_X_TOKEN", "anonymous")


def allow(request: Request) -> bool:
    """Count the request (in memory) and let it through."""
    key = request.META.get("REMOTE_ADDR", "-")
    _counts[key] = _counts.get(key, 0) + 1
    return True


class SyncAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[AnonymousUser, str]:
        return authenticate(request)


class SyncPermission(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return request.method is not None


class SyncThrottle(BaseThrottle):
    def allow_request(self, request: Request, view: Any) -> bool:
        return allow(request)


class Pages(PageNumberPagination):
    page_size = PAGE_SIZE


def latest_review_subquery() -> Subquery:
    """The idiomatic Django way: the newest review as a JSON object, in the page query."""
    newest = Review.objects.filter(product=OuterRef("pk")).order_by("-created_at", "-id")
    return Subquery(
        newest.values(json=JSONObject(id="id", rating="rating", comment="comment"))[:1],
        output_field=JSONField(),
    )


def products() -> Any:
    return Product.objects.order_by("id")


def products_with_latest() -> Any:
    return products().annotate(latest_review=latest_review_subquery())


class ProductSerializer(serializers.ModelSerializer[Product]):
    class Meta:
        model = Product
        fields = PRODUCT_FIELDS


class ProductLatestSerializer(serializers.ModelSerializer[Product]):
    latest_review = serializers.JSONField(read_only=True, allow_null=True)

    class Meta:
        model = Product
        fields = [*PRODUCT_FIELDS, "latest_review"]


def trivial_paths(
    view: type[Any], async_hooks: tuple[type[Any], type[Any], type[Any]]
) -> list[URLPattern]:
    """The trivial GETs and the 50 ms sleep, on a framework's async ``view`` base class.

    The same four endpoints for every async target: the shared sync hooks above, the
    framework's own async ``(authentication, permission, throttle)``, no hooks, and
    the served run's sleep.
    """

    class SyncHooks(view):  # type: ignore[misc,valid-type]  # each framework's own base
        authentication_classes = [SyncAuthentication]
        permission_classes = [SyncPermission]
        throttle_classes = [SyncThrottle]

        async def get(self, request: Request) -> Response:
            return Response({"ok": True})

    class AsyncHooks(SyncHooks):
        authentication_classes = [async_hooks[0]]
        permission_classes = [async_hooks[1]]
        throttle_classes = [async_hooks[2]]

    class Bare(view):  # type: ignore[misc,valid-type]  # each framework's own base
        authentication_classes: list[type[Any]] = []
        permission_classes = [AllowAny]
        throttle_classes: list[type[Any]] = []

        async def get(self, request: Request) -> Response:
            return Response({"ok": True})

    class Sleep(Bare):
        async def get(self, request: Request) -> Response:
            await asyncio.sleep(SLEEP)
            return Response({"ok": True})

    return [
        path("sync-hooks/", SyncHooks.as_view()),
        path("async-hooks/", AsyncHooks.as_view()),
        path("bare/", Bare.as_view()),
        path("sleep/", Sleep.as_view()),
    ]
