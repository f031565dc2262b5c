"""TypedDicts of the serializers in tests.typegen_serializers.

Written by ``manage.py restflow_types``; do not edit: run it again instead.
"""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Literal, NotRequired, TypedDict

from tests.testapp.models import Category, Product

if TYPE_CHECKING:
    from tests.typegen_serializers import Rating


class CategoryIn(TypedDict):
    """The validated_data of tests.typegen_serializers.CategorySerializer."""

    name: str


class CategoryOut(TypedDict):
    """The data of tests.typegen_serializers.CategorySerializer."""

    id: int
    name: str


class ReviewIn(TypedDict):
    """The validated_data of tests.typegen_serializers.ReviewSerializer."""

    product: Product
    rating: int
    comment: NotRequired[str]


class ReviewOut(TypedDict):
    """The data of tests.typegen_serializers.ReviewSerializer."""

    id: int
    product: int
    rating: int
    comment: str
    created_at: str


class ProductIn(TypedDict):
    """The validated_data of tests.typegen_serializers.ProductSerializer."""

    name: str
    price: Decimal
    is_top: NotRequired[bool]
    category: Category | None


class ProductOut(TypedDict):
    """The data of tests.typegen_serializers.ProductSerializer."""

    id: int
    name: str
    price: str
    as_float: float
    is_top: bool
    category: CategoryOut
    reviews: list[ReviewOut]
    review_ids: list[int]
    created_at: str
    rating: Rating | None


class SearchIn(TypedDict):
    """The validated_data of tests.typegen_serializers.Search."""

    query: str
    page: NotRequired[int]
    order: Literal["name", "price"]
    since: datetime.datetime | None
    day: datetime.date
    tags: list[str]
    meta: dict[str, int]
    token: uuid.UUID


class SearchOut(TypedDict):
    """The data of tests.typegen_serializers.Search."""

    query: str
    page: int
    order: Literal["name", "price"]
    since: str | None
    tags: list[str]
    meta: dict[str, int]
    token: str
    echo: str
