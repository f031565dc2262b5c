"""Page-number and limit/offset pages on a real queryset: the page and its count in one query.

Every queryset shape is paginated by DRF's class and by restflow's in the same test, with
the same page, count and links required. One query for a non-empty page; DRF's two
where the count cannot ride along in the page query (``union()``, ``values_list()``, a
sliced queryset; none for an evaluated one) or must come first (``?page=last``); the
separate count after an empty page. Cursor pagination never counts.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from django.core.paginator import Paginator as DjangoPaginator
from django.db import connection
from django.db.models import Count, F, QuerySet
from django.test.utils import CaptureQueriesContext
from rest_framework import pagination as drf_pagination
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from restflow import pagination
from tests.testapp.models import Category, Product, Review

if TYPE_CHECKING:
    AnyPaginator = DjangoPaginator[Any]
else:  # Django's Paginator takes no type arguments at run time
    AnyPaginator = DjangoPaginator

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(db: None) -> None:
    tools = Category.objects.create(name="tools")
    for i in range(11):
        product = Product.objects.create(
            name=f"p{i:02}", price=Decimal(i % 3), category=tools if i % 2 else None
        )
        for rating in range(i % 3):
            Review.objects.create(product=product, rating=rating + 1)


def _products() -> QuerySet[Product]:
    return Product.objects.all()


def _evaluated() -> QuerySet[Product]:
    queryset = Product.objects.all()
    list(queryset)
    return queryset


#: name -> (queryset factory, queries for a non-empty middle page)
SHAPES: dict[str, tuple[Callable[[], Any], int]] = {
    "plain": (_products, 1),
    "filtered": (lambda: Product.objects.filter(price__gte=1).order_by("-name"), 1),
    "select_related": (lambda: Product.objects.select_related("category"), 1),
    "prefetch_related": (lambda: Product.objects.prefetch_related("reviews"), 2),
    "annotated": (lambda: Product.objects.annotate(double=F("price") * 2), 1),
    "aggregated": (lambda: Product.objects.annotate(reviews_n=Count("reviews")).order_by("id"), 1),
    "values": (lambda: Product.objects.values("id", "name"), 1),
    "values-aggregated": (
        lambda: Product.objects.values("price").annotate(n=Count("id")).order_by("price"),
        1,
    ),
    "values_list": (lambda: Product.objects.values_list("id", "name"), 2),
    "values_list-flat": (lambda: Product.objects.values_list("name", flat=True), 2),
    "distinct": (lambda: Product.objects.filter(reviews__rating__gte=1).distinct(), 1),
    "union": (
        lambda: (
            Product.objects.filter(price=0)
            .order_by()
            .union(Product.objects.filter(price=2).order_by())
            .order_by("id")
        ),
        2,
    ),
    "sliced": (lambda: Product.objects.all()[2:9], 2),
    "evaluated": (_evaluated, 0),
}

PAGES = {"page_size": 2}
LIMITS = {"default_limit": 2}
KINDS: dict[str, tuple[type[Any], type[Any], dict[str, int]]] = {
    "page": (drf_pagination.PageNumberPagination, pagination.PageNumberPagination, PAGES),
    "limit": (drf_pagination.LimitOffsetPagination, pagination.LimitOffsetPagination, LIMITS),
}


def _paginate(paginator_class: type[Any], config: dict[str, int], queryset: Any, query: str) -> Any:
    paginator = type("Configured", (paginator_class,), config)()
    request = Request(APIRequestFactory().get(f"/items/{query}"))
    try:
        page = paginator.paginate_queryset(queryset, request)
    except NotFound as exc:
        return ("404", str(exc.detail))
    rows = [row if isinstance(row, (dict, tuple, str)) else _row(row) for row in page]
    return rows, paginator.get_paginated_response(rows).data


def _row(product: Product) -> dict[str, Any]:
    # Everything the serializer could read, prefetches included.
    data = {key: value for key, value in vars(product).items() if not key.startswith("_")}
    cache = getattr(product, "_prefetched_objects_cache", {})
    data["prefetched"] = {name: [r.pk for r in rows] for name, rows in cache.items()}
    return data


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", SHAPES)
def test_middle_page_same_as_drf_in_the_counted_number_of_queries(
    catalogue: None, kind: str, shape: str
) -> None:
    drf_class, rf_class, config = KINDS[kind]
    make, queries = SHAPES[shape]
    query = "?page=2" if kind == "page" else "?offset=2"
    expected = _paginate(drf_class, config, make(), query)
    queryset = make()
    with CaptureQueriesContext(connection) as captured:
        ours = _paginate(rf_class, config, queryset, query)
    assert ours == expected
    assert len(captured.captured_queries) == queries


@pytest.mark.parametrize(
    ("kind", "query", "queries"),
    [
        ("page", "", 1),
        ("page", "?page=6", 1),  # the last, short page
        ("page", "?page=last", 2),  # DRF's: the count decides which page
        ("page", "?page=7", 2),  # past the end: an empty page, then the count -> 404
        ("page", "?page=0", None),  # 404 before the page query: as many as DRF's (0, or
        ("page", "?page=x", None),  # the count on Django 6, which counts before validating)
        ("page", f"?page={2**70}", 1),  # past 64 bits: DRF's count, then 404
        ("limit", "?offset=10", 1),
        ("limit", "?offset=11", 2),  # empty: the count says how many there are
        ("limit", "?offset=500", 2),
        ("limit", f"?offset={2**70}", 1),
        ("limit", "?limit=0", 1),
    ],
)
def test_edges_same_as_drf_in_the_counted_number_of_queries(
    catalogue: None, kind: str, query: str, queries: int | None
) -> None:
    drf_class, rf_class, config = KINDS[kind]
    with CaptureQueriesContext(connection) as drfs:
        expected = _paginate(drf_class, config, _products(), query)
    if queries is None:
        queries = len(drfs.captured_queries)
    with CaptureQueriesContext(connection) as captured:
        ours = _paginate(rf_class, config, _products(), query)
    assert ours == expected
    assert len(captured.captured_queries) == queries


@pytest.mark.parametrize("kind", KINDS)
def test_empty_queryset_same_as_drf(db: None, kind: str) -> None:
    drf_class, rf_class, config = KINDS[kind]
    for make in (_products, lambda: Product.objects.none()):
        assert _paginate(rf_class, config, make(), "") == _paginate(drf_class, config, make(), "")


def test_orphans_are_counted_like_djangos(catalogue: None) -> None:
    class Orphans(drf_pagination.PageNumberPagination):
        page_size = 3

        class django_paginator_class(AnyPaginator):  # DRF's attribute name
            def __init__(self, object_list: Any, per_page: int) -> None:
                super().__init__(object_list, per_page, orphans=2)

    assert _paginate(pagination.PageNumberPagination, {"page_size": 3}, _products(), "?page=4")[
        0
    ] == [
        _row(Product.objects.get(name="p09")),
        _row(Product.objects.get(name="p10")),
    ]
    # A custom Django paginator (here: orphans) keeps DRF's path and its answers.
    for query in ("?page=3", "?page=4"):
        assert _paginate(
            type(
                "Rf",
                (pagination.PageNumberPagination,),
                {"django_paginator_class": Orphans.django_paginator_class},
            ),
            {"page_size": 3},
            _products(),
            query,
        ) == _paginate(Orphans, {}, _products(), query)


def test_the_count_column_never_reaches_the_rows(catalogue: None) -> None:
    page = type("P", (pagination.PageNumberPagination,), PAGES)().paginate_queryset(
        Product.objects.values(), Request(APIRequestFactory().get("/"))
    )
    assert page is not None
    assert set(page[0]) == {field.attname for field in Product._meta.concrete_fields}
    instances = type("P", (pagination.LimitOffsetPagination,), LIMITS)().paginate_queryset(
        _products(), Request(APIRequestFactory().get("/"))
    )
    assert instances is not None
    assert not [key for row in instances for key in vars(row) if "restflow" in key]


def test_user_get_count_override_is_honoured(catalogue: None) -> None:
    class Capped(pagination.LimitOffsetPagination):
        default_limit = 2

        def get_count(self, queryset: Any) -> int:
            return 5

    paginator = Capped()
    with CaptureQueriesContext(connection) as captured:
        page = paginator.paginate_queryset(_products(), Request(APIRequestFactory().get("/")))
    assert page is not None
    assert (len(page), paginator.count, len(captured.captured_queries)) == (2, 5, 1)
