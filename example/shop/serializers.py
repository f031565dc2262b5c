"""Serializers of the demo shop, typed by what they take in and hand out.

``shop.serializer_types`` (their ``...In``/``...Out`` TypedDicts) is written from these
serializers; after changing a field, run from ``example/``:
``python manage.py restflow_types shop.serializers --out shop/serializer_types.py``
"""

from __future__ import annotations

from typing import TypedDict

from rest_framework import serializers

from restflow.serializers import ModelSerializer
from shop.models import Product, Review
from shop.serializer_types import ProductIn, ProductOut, ReviewIn, ReviewOut


class ReviewRow(TypedDict):
    id: int
    rating: int
    comment: str


class ProductSerializer(ModelSerializer[Product, ProductIn, ProductOut]):
    url = serializers.HyperlinkedIdentityField(view_name="product-detail")
    latest_review = serializers.SerializerMethodField()

    class Meta:
        model = Product
        fields = ["id", "url", "name", "price", "latest_review"]

    def get_latest_review(self, product: Product) -> ReviewRow | None:
        # Attached by the LATEST_REVIEW post-fetch on list pages; absent elsewhere.
        row: ReviewRow | None = getattr(product, "latest_review", None)
        return row


class ReviewSerializer(ModelSerializer[Review, ReviewIn, ReviewOut]):
    rating = serializers.IntegerField(min_value=1, max_value=5)

    class Meta:
        model = Review
        fields = ["id", "product", "rating", "comment", "created_at"]
        read_only_fields = ["created_at"]
