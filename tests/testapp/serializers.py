"""Serializers shared by the test modules (a test that needs its own declares it beside it)."""

from __future__ import annotations

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
