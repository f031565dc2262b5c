"""Serializers shared by the test modules (a test that needs its own declares it beside it)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, TypedDict

from rest_framework import serializers

from restflow.serializers import ModelSerializer
from tests.testapp.models import Product


class ProductSerializer(ModelSerializer[Product]):
    """``id``, ``name``, ``price``."""

    class Meta:
        model = Product
        fields = ["id", "name", "price"]


class ProductCategorySerializer(ModelSerializer[Product]):
    """``id``, ``name``, ``price`` and the ``category`` key."""

    class Meta:
        model = Product
        fields = ["id", "name", "price", "category"]


class ProductUrlSerializer(ModelSerializer[Product]):
    """``id``, ``name``, ``price`` and a ``url`` (DRF's ``Location`` header source)."""

    url = serializers.SerializerMethodField()

    class Meta:
        model = Product
        fields = ["id", "name", "price", "url"]

    def get_url(self, obj: Product) -> str:
        return f"http://testserver/products/{obj.pk}/"


class ProductNameSerializer(ModelSerializer[Product]):
    """``name`` only."""

    class Meta:
        model = Product
        fields = ["name"]


class ProductIn(TypedDict):
    """What :class:`TypedProductSerializer` validates."""

    name: str
    price: Decimal


class ProductOut(TypedDict):
    """What :class:`TypedProductSerializer` renders."""

    id: int
    name: str
    price: str


class TypedProductSerializer(ModelSerializer[Product, ProductIn, ProductOut]):
    """``id``, ``name``, ``price``, with their types (``ProductIn``/``ProductOut``)."""

    class Meta:
        model = Product
        fields = ["id", "name", "price"]


class Row(serializers.Serializer[Any]):
    """One integer ``n``: for views over plain rows (a list standing in for a queryset)."""

    n = serializers.IntegerField()
