"""TypedDicts of the serializers in shop.serializers.

Written by ``manage.py restflow_types``; do not edit: run it again instead.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, NotRequired, TypedDict

from shop.models import Product

if TYPE_CHECKING:
    from shop.serializers import ReviewRow


class ProductIn(TypedDict):
    """The validated_data of shop.serializers.ProductSerializer."""

    name: str
    price: Decimal


class ProductOut(TypedDict):
    """The data of shop.serializers.ProductSerializer."""

    id: int
    url: str
    name: str
    price: str
    latest_review: ReviewRow | None


class ReviewIn(TypedDict):
    """The validated_data of shop.serializers.ReviewSerializer."""

    product: Product
    rating: int
    comment: NotRequired[str]


class ReviewOut(TypedDict):
    """The data of shop.serializers.ReviewSerializer."""

    id: int
    product: int
    rating: int
    comment: str
    created_at: str
