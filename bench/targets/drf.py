"""DRF, sync, served by Django's WSGI handler (a threaded WSGI server when served)."""

from __future__ import annotations

import time
from typing import Any

from django.urls import path
from rest_framework import viewsets
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from bench.targets import common


class SyncHooks(APIView):
    authentication_classes = [common.SyncAuthentication]
    permission_classes = [common.SyncPermission]
    throttle_classes = [common.SyncThrottle]

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


class Bare(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


class Sleep(Bare):
    def get(self, request: Request) -> Response:
        time.sleep(common.SLEEP)
        return Response({"ok": True})


class Products(viewsets.ModelViewSet[Any]):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []
    queryset = common.products()
    serializer_class = common.ProductSerializer
    pagination_class = common.Pages


class ProductsLatest(Products):
    queryset = common.products_with_latest()
    serializer_class = common.ProductLatestSerializer


urlpatterns = [
    path("sync-hooks/", SyncHooks.as_view()),
    path("async-hooks/", SyncHooks.as_view()),  # DRF has no async hooks: the sync ones
    path("bare/", Bare.as_view()),
    path("sleep/", Sleep.as_view()),
    path("products/", Products.as_view({"get": "list", "post": "create"})),
    path(
        "products/<int:pk>/",
        Products.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"}),
    ),
    path("products-latest/", ProductsLatest.as_view({"get": "list"})),
]
