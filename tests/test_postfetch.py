"""``PostFetch``: one query per call, the per-item limit in SQL, on dicts and instances."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, path
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response

from restflow.test import hop_count
from restflow.views import APIView, AsyncAPIView, PostFetch
from tests._clients import CLIENTS, send
from tests.testapp.models import Product, Review

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]


@pytest.fixture
def catalog() -> list[Product]:
    """Four products with 0, 1, 3 and 5 reviews; rating i on the i-th review."""
    products = [Product.objects.create(name=f"p{i}", price=Decimal(i)) for i in range(4)]
    for product, count in zip(products, (0, 1, 3, 5), strict=True):
        for rating in range(count):
            Review.objects.create(
                product=product, rating=rating, comment=f"{product.name}-{rating}"
            )
    return products


def _reviews(product: Product, *, best_first: bool = True) -> list[dict[str, Any]]:
    ordering = "-rating" if best_first else "rating"
    return [dict(row) for row in product.reviews.order_by(ordering).values("id", "rating")]


def latest(limit: int | None = 1, **extra: Any) -> PostFetch[dict[str, Any]]:
    return PostFetch(
        queryset=Review.objects.all(),
        to_attr="top",
        values=["id", "rating"],
        order_by=["-rating"],
        limit=limit,
        product_id="id",
        **extra,
    )


def test_limit_one_attaches_the_first_row_or_none_in_one_query(catalog: list[Product]) -> None:
    items: list[dict[str, Any]] = [dict(row) for row in Product.objects.values("id", "name")]
    with CaptureQueriesContext(connection) as queries:
        latest().fetch(items)
    assert len(queries) == 1
    assert [item["top"] for item in items] == [
        None,
        *(_reviews(product)[0] for product in catalog[1:]),
    ]


def test_limit_is_applied_in_sql_with_a_window(catalog: list[Product]) -> None:
    post_fetch = latest(limit=2)
    items: list[dict[str, Any]] = [dict(row) for row in Product.objects.values("id")]
    with CaptureQueriesContext(connection) as queries:
        post_fetch.fetch(items)
    assert "ROW_NUMBER" in queries[0]["sql"].upper()
    assert "PARTITION BY" in queries[0]["sql"].upper()
    # The query itself returns at most `limit` rows per key (2 + 1 + 2 + 0 of 9 reviews).
    keys = [(product.pk,) for product in catalog]
    assert len(list(post_fetch.get_queryset(keys))) == 5


@pytest.mark.parametrize("size", [1, 3])
def test_query_count_does_not_grow_with_the_number_of_items(
    catalog: list[Product], size: int
) -> None:
    items: list[dict[str, Any]] = [dict(row) for row in Product.objects.values("id")[:size]]
    with CaptureQueriesContext(connection) as queries:
        latest().fetch(items)
    assert len(queries) == 1


def test_limit_n_attaches_an_ordered_list_of_at_most_n(catalog: list[Product]) -> None:
    items: list[dict[str, Any]] = [dict(row) for row in Product.objects.values("id")]
    latest(limit=2).fetch(items)
    assert [item["top"] for item in items] == [_reviews(product)[:2] for product in catalog]


def test_limit_none_attaches_every_row_without_a_window(catalog: list[Product]) -> None:
    items: list[dict[str, Any]] = [dict(row) for row in Product.objects.values("id")]
    with CaptureQueriesContext(connection) as queries:
        latest(limit=None).fetch(items)
    assert "ROW_NUMBER" not in queries[0]["sql"].upper()
    assert [item["top"] for item in items] == [_reviews(product) for product in catalog]


def test_without_values_rows_are_model_instances_on_instance_items(
    catalog: list[Product],
) -> None:
    post_fetch = PostFetch(
        queryset=Review.objects.all(), to_attr="first_review", product="pk", limit=2
    )
    products = list(Product.objects.all())
    with CaptureQueriesContext(connection) as queries:
        post_fetch.fetch(products)
    assert len(queries) == 1
    attached = [product.first_review for product in products]  # type: ignore[attr-defined]  # set by the fetch
    expected = [list(product.reviews.order_by("id")[:2]) for product in catalog]
    assert attached == expected
    review = attached[3][0]
    assert isinstance(review, Review)
    assert not {name for name in vars(review) if name.startswith("_restflow")}


def test_instance_items_with_dict_rows(catalog: list[Product]) -> None:
    products = list(Product.objects.all())
    latest().fetch(products)
    assert products[2].top == _reviews(catalog[2])[0]  # type: ignore[attr-defined]  # set by the fetch


def test_several_join_keys_must_all_match(catalog: list[Product]) -> None:
    post_fetch = PostFetch(
        queryset=Review.objects.all(),
        to_attr="match",
        values=["comment"],
        limit=None,
        product_id="id",
        rating="wanted",
    )
    items: list[dict[str, Any]] = [
        {"id": catalog[3].pk, "wanted": 4},
        {"id": catalog[2].pk, "wanted": 4},  # p2 has ratings 0..2 only
        {"id": catalog[1].pk, "wanted": 0},
    ]
    with CaptureQueriesContext(connection) as queries:
        post_fetch.fetch(items)
    assert len(queries) == 1
    assert [item["match"] for item in items] == [
        [{"comment": "p3-4"}],
        [],
        [{"comment": "p1-0"}],
    ]


def test_several_join_keys_with_a_limit_partition_by_both(catalog: list[Product]) -> None:
    Review.objects.create(product=catalog[3], rating=4, comment="again")
    post_fetch = PostFetch(
        queryset=Review.objects.all(),
        to_attr="match",
        values=["comment"],
        order_by=["-id"],
        limit=1,
        product_id="id",
        rating="wanted",
    )
    items: list[dict[str, Any]] = [
        {"id": catalog[3].pk, "wanted": 4},
        {"id": catalog[3].pk, "wanted": 1},
    ]
    post_fetch.fetch(items)
    assert [item["match"] for item in items] == [{"comment": "again"}, {"comment": "p3-1"}]


def test_no_items_no_query() -> None:
    with CaptureQueriesContext(connection) as queries:
        latest().fetch([])
    assert len(queries) == 0


def test_items_without_a_key_get_nothing_and_cost_no_query() -> None:
    items: list[dict[str, Any]] = [{"id": None}]
    with CaptureQueriesContext(connection) as queries:
        latest(limit=3).fetch(items)
    assert len(queries) == 0
    assert items == [{"id": None, "top": []}]


def test_afetch_takes_one_hop_and_one_query(catalog: list[Product]) -> None:
    items: list[dict[str, Any]] = [{"id": product.pk} for product in catalog]
    before = hop_count()
    with CaptureQueriesContext(connection) as queries:
        async_to_sync(latest().afetch)(items)
    assert hop_count() - before == 1
    assert len(queries) == 1
    assert items[3]["top"] == _reviews(catalog[3])[0]


async def test_afetch_on_no_items_takes_no_hop() -> None:
    before = hop_count()
    await latest().afetch([])
    assert hop_count() == before


def test_afetch_evaluates_a_lazy_queryset_in_its_hop(catalog: list[Product]) -> None:
    # On the loop, evaluating it would raise SynchronousOnlyOperation.
    products = Product.objects.order_by("id")
    before = hop_count()
    with CaptureQueriesContext(connection) as queries:
        async_to_sync(latest().afetch)(products)  # type: ignore[arg-type]  # a QuerySet is accepted at runtime
    assert hop_count() - before == 1
    assert len(queries) == 2  # the base rows, then the post-fetch
    assert products[3].top == _reviews(catalog[3])[0]  # type: ignore[attr-defined]  # same cached objects


def test_a_missing_base_field_names_the_fix() -> None:
    with pytest.raises(ImproperlyConfigured, match="has no key 'id'"):
        latest().fetch([{"pk": 1}])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({}, ImproperlyConfigured, "needs at least one join"),
        ({"to_attr": "not valid", "product_id": "id"}, ImproperlyConfigured, "to_attr"),
        ({"to_attr": "class", "product_id": "id"}, ImproperlyConfigured, "identifier"),
        ({"product_id": 1}, TypeError, r'product_id="id"'),
        ({"limit": 0, "product_id": "id"}, ImproperlyConfigured, "at least 1"),
        ({"limit": True, "product_id": "id"}, TypeError, "positive int"),
        ({"values": "rating", "product_id": "id"}, TypeError, r'values=\["rating"\]'),
        ({"order_by": "-id", "product_id": "id"}, TypeError, "order_by"),
        ({"queryset": [1], "product_id": "id"}, TypeError, "must be a QuerySet"),
        (
            {"queryset": Review.objects.all()[:3], "product_id": "id"},
            ImproperlyConfigured,
            "sliced",
        ),
    ],
)
def test_misconfiguration_is_refused_with_the_fix(
    kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    arguments: dict[str, Any] = {"queryset": Review.objects.all(), "to_attr": "top"}
    arguments.update(kwargs)
    with pytest.raises(error, match=match):
        PostFetch(**arguments)


def test_typed_readers(catalog: list[Product]) -> None:
    one, many = latest(), latest(limit=None)
    items = [{"id": catalog[0].pk}, {"id": catalog[2].pk}]
    one.fetch(items)
    assert (one.row_for(items[0]), one.rows_for(items[0])) == (None, [])
    assert one.rows_for(items[1]) == [_reviews(catalog[2])[0]]
    many.fetch(items)
    assert many.row_for(items[1]) == _reviews(catalog[2])[0]
    assert many.rows_for(items[1]) == _reviews(catalog[2])


# -- through the view helpers -------------------------------------------------------


LATEST_REVIEW = latest()


class ProductRow(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()
    top = serializers.JSONField(read_only=True)


class _Pages(PageNumberPagination):
    page_size = 2


class AsyncPaged(AsyncAPIView):
    serializer_class = ProductRow
    pagination_class = _Pages
    authentication_classes = ()
    permission_classes = ()

    async def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        products = Product.objects.order_by("id")
        return await self.apaginated_response(products, post_fetches=[LATEST_REVIEW])


class SyncPaged(APIView):
    serializer_class = ProductRow
    pagination_class = _Pages
    authentication_classes = ()
    permission_classes = ()

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.paginated_response(Product.objects.order_by("id"), post_fetches=[LATEST_REVIEW])


class AsyncUnpaged(AsyncAPIView):
    serializer_class = ProductRow
    pagination_class = None
    authentication_classes = ()
    permission_classes = ()

    async def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return await self.aserialized_response(
            Product.objects.order_by("id"), many=True, post_fetches=[LATEST_REVIEW]
        )


class SyncUnpaged(APIView):
    serializer_class = ProductRow
    pagination_class = None
    authentication_classes = ()
    permission_classes = ()

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.serialized_response(
            Product.objects.order_by("id"), many=True, post_fetches=[LATEST_REVIEW]
        )


urlpatterns: list[URLPattern] = [
    path("async-paged/", AsyncPaged.as_view()),
    path("sync-paged/", SyncPaged.as_view()),
    path("async-unpaged/", AsyncUnpaged.as_view()),
    path("sync-unpaged/", SyncUnpaged.as_view()),
]


def _expected(products: list[Product]) -> list[dict[str, Any]]:
    return [
        {
            "id": product.pk,
            "name": product.name,
            "top": next(iter(_reviews(product)), None),
        }
        for product in products
    ]


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize(("kind", "hops"), [("async", 1), ("sync", 0)])
def test_paginated_list_costs_count_page_and_one_post_fetch_in_one_hop(
    catalog: list[Product], client: str, kind: str, hops: int
) -> None:
    before = hop_count()
    with CaptureQueriesContext(connection) as queries:
        response = send(client, "get", f"/{kind}-paged/?page=2")
    assert response.status_code == 200
    assert hop_count() - before == hops
    assert len(queries) == 3  # count + page + post-fetch
    assert response.data["count"] == 4
    assert response.data["results"] == _expected(catalog[2:])


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize(("kind", "hops"), [("async", 1), ("sync", 0)])
def test_serialized_list_costs_the_rows_and_one_post_fetch(
    catalog: list[Product], client: str, kind: str, hops: int
) -> None:
    before = hop_count()
    with CaptureQueriesContext(connection) as queries:
        response = send(client, "get", f"/{kind}-unpaged/")
    assert response.status_code == 200
    assert hop_count() - before == hops
    assert len(queries) == 2  # the rows + post-fetch
    assert response.data == _expected(catalog)
