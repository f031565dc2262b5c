"""Serializers that ``tests/test_restflow_types.py`` writes TypedDicts for: one field of
each kind ``manage.py restflow_types`` knows."""

from __future__ import annotations

from typing import TypedDict

from rest_framework import serializers

from restflow.serializers import ModelSerializer, Serializer
from tests.testapp.models import Category, Product, Review


class Rating(TypedDict):
    stars: int


class CategorySerializer(ModelSerializer[Category]):
    class Meta:
        model = Category
        fields = ["id", "name"]


class ReviewSerializer(ModelSerializer[Review]):
    class Meta:
        model = Review
        fields = ["id", "product", "rating", "comment", "created_at"]
        read_only_fields = ["created_at"]


class ProductSerializer(ModelSerializer[Product]):
    category = CategorySerializer(read_only=True)
    category_id = serializers.PrimaryKeyRelatedField(
        source="category", queryset=Category.objects.all(), allow_null=True, write_only=True
    )
    reviews = ReviewSerializer(many=True, read_only=True)
    review_ids = serializers.ManyRelatedField(
        child_relation=serializers.PrimaryKeyRelatedField(queryset=Review.objects.all()),
        source="reviews",
        read_only=True,
    )
    rating = serializers.SerializerMethodField()
    as_float = serializers.DecimalField(
        source="price", max_digits=10, decimal_places=2, coerce_to_string=False, read_only=True
    )

    class Meta:
        model = Product
        fields = [
            "id",
            "name",
            "price",
            "as_float",
            "is_top",
            "category",
            "category_id",
            "reviews",
            "review_ids",
            "created_at",
            "rating",
        ]

    def get_rating(self, product: Product) -> Rating | None:
        return None


class Search(Serializer):
    query = serializers.CharField()
    page = serializers.IntegerField(required=False, default=1)
    order = serializers.ChoiceField(choices=["name", "price"])
    since = serializers.DateTimeField(allow_null=True)
    day = serializers.DateField(write_only=True)
    tags = serializers.ListField(child=serializers.CharField())
    meta = serializers.DictField(child=serializers.IntegerField())
    token = serializers.UUIDField()
    echo = serializers.CharField(read_only=True)
