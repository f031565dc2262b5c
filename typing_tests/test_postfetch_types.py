"""``PostFetch`` is generic over the attached row type."""

from __future__ import annotations

from typing import Any, TypedDict, assert_type

from restflow.views import PostFetch
from tests.testapp.models import Product, Review


class ReviewRow(TypedDict):
    id: int
    rating: int


# Dict rows: name the row type.
latest = PostFetch[ReviewRow](
    queryset=Review.objects.all(),
    to_attr="latest_review",
    values=["id", "rating"],
    order_by=["-created_at"],
    product_id="id",
)
assert_type(latest, PostFetch[ReviewRow])
assert_type(latest.row_for(Product()), ReviewRow | None)
assert_type(latest.rows_for({}), list[ReviewRow])

# Dict rows, unnamed: plain dicts.
untyped = PostFetch(queryset=Review.objects.all(), to_attr="r", values=["id"], product_id="id")
assert_type(untyped, PostFetch[dict[str, Any]])

# Instance rows: the model is inferred from the queryset.
reviews = PostFetch(queryset=Review.objects.all(), to_attr="reviews", limit=None, product="pk")
assert_type(reviews, PostFetch[Review])
assert_type(reviews.rows_for(Product()), list[Review])
assert_type(reviews.limit, int | None)
