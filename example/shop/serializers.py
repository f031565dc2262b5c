"""Serializers of the demo shop, typed by what they take in and hand out."""

from __future__ import annotations

from decimal import Decimal
from typing import TypedDict

from rest_framework import serializers

from restflow.serializers import ModelSerializer
from shop.models import Product, Review


class ReviewRow(TypedDict):
    id: int
    rating: int
    comment: str


class ProductIn(TypedDict):
    name: str
    price: Decimal


class ProductOut(TypedDict):
    id: int
    url: str
    name: str
    price: str
    latest_review: ReviewRow | None


class ReviewIn(TypedDict):
    product: Product
    rating: int
    comment: str


class ReviewOut(TypedDict):
    id: int
    product: int
    rating: int
    comment: str
    created_at: str


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
