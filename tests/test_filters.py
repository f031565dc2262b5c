"""restflow's search and ordering filters, and django-filter, against DRF's side by side."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, TypeVar

import pytest
from asgiref.sync import async_to_sync
from django.db import connection
from django.db.models import Model, QuerySet
from django.test import AsyncClient
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, path
from django_filters.rest_framework import (  # type: ignore[import-untyped]  # django-filter ships no type hints
    DjangoFilterBackend,
)
from rest_framework import filters as drf_filters
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIClient, APIRequestFactory

from restflow import _hooks as hooks
from restflow import filters, pagination
from restflow._bridge import drive_async, hook_step
from restflow._introspect import Mode, hook_mode
from restflow.test import hop_count
from restflow.views import AsyncListAPIView, GenericAPIView, ListModelMixin
from tests.testapp.models import Category, Product, Review
from tests.testapp.serializers import ProductCategorySerializer as ProductSerializer

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]

_M = TypeVar("_M", bound=Model)
_Row = TypeVar("_Row")


#: name -> the view attributes the DRF view and the restflow views share.
CONFIGS: dict[str, dict[str, Any]] = {
    "search": {
        "search_fields": ["name", "=category__name"],
        "ordering_fields": ["name", "price"],
        "ordering": ["id"],
    },
    "starts": {"search_fields": ["^name"]},
    "regex": {"search_fields": ["$name"]},
    "reviews": {"search_fields": ["reviews__comment"]},  # reverse FK: de-duplicated
    "all": {"ordering_fields": "__all__"},
    "serializer": {"ordering": "-id"},  # valid orderings: the serializer's fields
}

#: DRF's backends on the DRF view; restflow's (or the same sync one) on restflow's views.
BACKENDS: dict[str, tuple[list[type[Any]], list[type[Any]]]] = {
    "builtin": (
        [drf_filters.SearchFilter, drf_filters.OrderingFilter],
        [filters.SearchFilter, filters.OrderingFilter],
    ),
    "django-filter": ([DjangoFilterBackend], [DjangoFilterBackend]),
}


def _views(name: str, backends: str, attrs: dict[str, Any]) -> list[URLPattern]:
    drf_backends, rf_backends = BACKENDS[backends]
    common = {
        "queryset": Product.objects.all(),
        "serializer_class": ProductSerializer,
        "pagination_class": None,
        "authentication_classes": (),
        "permission_classes": (),
        "filterset_fields": ["category", "is_top"],
        **attrs,
    }

    class DrfList(generics.ListAPIView[Product]):
        filter_backends = drf_backends

    class SyncList(ListModelMixin, GenericAPIView[Product, ProductSerializer]):
        filter_backends = rf_backends

        def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
            return self.list(request, *args, **kwargs)

    class AsyncList(AsyncListAPIView[Product, ProductSerializer]):
        filter_backends = rf_backends

    for view in (DrfList, SyncList, AsyncList):
        for attr, value in common.items():
            setattr(view, attr, value)
    return [
        path(f"drf/{name}/", DrfList.as_view()),
        path(f"sync/{name}/", SyncList.as_view()),
        path(f"async/{name}/", AsyncList.as_view()),
    ]


class PairsOfProducts(pagination.PageNumberPagination):
    page_size = 2


class PagedProducts(AsyncListAPIView[Product, ProductSerializer]):
    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    authentication_classes = ()
    permission_classes = ()
    filter_backends = [filters.SearchFilter, filters.OrderingFilter]
    search_fields = ["name"]
    pagination_class = PairsOfProducts


urlpatterns = [
    *(pattern for name, attrs in CONFIGS.items() for pattern in _views(name, "builtin", attrs)),
    *_views("django-filter", "django-filter", {}),
    path("paged/", PagedProducts.as_view()),
]

VARIANTS = [("sync", "api"), ("async", "api"), ("async", "asgi")]


#: The catalogue's product names, in id order.
CATALOGUE = ["red hammer", "blue hammer", "red ball", "green ball", "hammer time", "garden shovel"]


@pytest.fixture
def catalogue(db: None) -> None:
    tools = Category.objects.create(name="Tools")
    toys = Category.objects.create(name="Toys")
    rows = [
        ("red hammer", tools, "10", True),
        ("blue hammer", tools, "12", False),
        ("red ball", toys, "3", True),
        ("green ball", toys, "3", False),
        ("hammer time", None, "7", False),
        ("garden shovel", None, "12", False),
    ]
    products = {
        name: Product.objects.create(name=name, category=category, price=Decimal(price), is_top=top)
        for name, category, price, top in rows
    }
    Review.objects.create(product=products["red ball"], rating=5, comment="great toy")
    Review.objects.create(product=products["red ball"], rating=4, comment="great fun")
    Review.objects.create(product=products["blue hammer"], rating=3, comment="solid")


def _get(client: str, url: str) -> tuple[int, Any]:
    if client == "asgi":
        response: Any = async_to_sync(AsyncClient().get)(url)
    else:
        response = APIClient().get(url)
    return response.status_code, response.json()


QUERIES = [
    ("search", "?search=hammer"),
    ("search", "?search=red hammer"),
    ("search", "?search=red,ball"),
    ("search", '?search="red hammer"'),
    ("search", "?search=tools"),  # =category__name: exact, case-insensitive
    ("search", "?search=too"),  # ... so a fragment does not match
    ("search", "?search="),
    ("search", "?search=nothing-like-this"),
    ("search", "?ordering=price"),
    ("search", "?ordering=-price"),
    ("search", "?ordering=-price,name"),
    ("search", "?ordering=bogus"),  # invalid: the view's default ordering
    ("search", "?ordering=bogus,-name"),  # invalid terms dropped
    ("search", "?ordering=is_top"),  # not in ordering_fields
    ("search", "?search=ball&ordering=-name"),
    ("starts", "?search=ham"),
    ("starts", "?search=mer"),
    ("regex", "?search=ll$"),
    ("reviews", "?search=great"),
    ("reviews", "?search=solid"),
    ("all", "?ordering=is_top,-id"),
    ("all", "?ordering=-created_at"),
    ("serializer", "?ordering=price,-name"),
    ("serializer", "?ordering=is_top"),  # not a serializer field: ignored
    ("serializer", ""),
]


@pytest.mark.parametrize(("view", "client"), VARIANTS)
@pytest.mark.parametrize(("config", "query"), QUERIES)
def test_same_status_and_body_as_drf(
    catalogue: None, view: str, client: str, config: str, query: str
) -> None:
    drf = _get("api", f"/drf/{config}/{query}")
    assert drf[0] == 200
    assert _get(client, f"/{view}/{config}/{query}") == drf


def test_the_queries_tell_the_rows_apart(catalogue: None) -> None:
    """Guards the comparison above: the chosen queries really filter and reorder."""
    _, searched = _get("api", "/drf/search/?search=red hammer")
    assert [row["name"] for row in searched] == ["red hammer"]
    _, distinct = _get("api", "/drf/reviews/?search=great")
    assert [row["name"] for row in distinct] == ["red ball"]
    _, ordered = _get("api", "/drf/search/?ordering=bogus,-name")
    assert ordered[0]["name"] == "red hammer"


# -- django-filter through the bridge ----------------------------------------------


@pytest.mark.parametrize(("view", "client"), VARIANTS)
@pytest.mark.parametrize(
    "query",
    ["?is_top=true", "?category={tools}", "?category={tools}&is_top=false", "?category=999"],
)
def test_django_filter_backend_same_as_drf(
    catalogue: None, view: str, client: str, query: str
) -> None:
    query = query.format(tools=Category.objects.get(name="Tools").pk)
    drf = _get("api", f"/drf/django-filter/{query}")
    assert _get(client, f"/{view}/django-filter/{query}") == drf


def test_django_filter_backend_is_blocking() -> None:
    assert hook_mode(DjangoFilterBackend, hooks.BACKEND_FILTER_QUERYSET) is Mode.BLOCKING


@pytest.mark.parametrize("client", ["api", "asgi"])
def test_django_filter_shares_the_list_hop(catalogue: None, client: str) -> None:
    """The choice validation queries the database: in the one hop of the list phase."""
    tools = Category.objects.get(name="Tools").pk
    before = hop_count()
    with CaptureQueriesContext(connection) as captured:
        status, body = _get(client, f"/async/django-filter/?category={tools}")
    assert status == 200
    assert [row["name"] for row in body] == ["red hammer", "blue hammer"]
    assert hop_count() - before == 1
    assert len(captured.captured_queries) == 2  # the category lookup, then the list


@pytest.mark.parametrize("client", ["api", "asgi"])
def test_filters_on_the_loop_then_page_count_and_render_in_one_hop(
    catalogue: None, client: str
) -> None:
    before = hop_count()
    with CaptureQueriesContext(connection) as captured:
        status, body = _get(client, "/paged/?search=hammer&ordering=-name&page=2")
    assert (status, body["count"]) == (200, 3)
    assert [row["name"] for row in body["results"]] == ["blue hammer"]
    assert hop_count() - before == 1
    assert len(captured.captured_queries) == 1  # the page, counted by a window


# -- on the loop, without I/O --------------------------------------------------------


class AsyncProducts(AsyncListAPIView[Product, ProductSerializer]):
    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    search_fields = ["name", "reviews__comment", "=category__name"]


class ChoosesSerializer(AsyncProducts):
    """A user's ``get_serializer_class``: user code, so it may do I/O."""

    def get_serializer_class(self) -> type[ProductSerializer]:
        return ProductSerializer


class ChoosesSerializerWithFields(ChoosesSerializer):
    ordering_fields = ["name"]


def _request(query: str) -> Request:
    return Request(APIRequestFactory().get(f"/products/{query}"))


@pytest.mark.parametrize(
    ("backend", "query"),
    [
        (filters.SearchFilter(), "?search=great red"),
        (filters.OrderingFilter(), "?ordering=-price,name"),
        (filters.OrderingFilter(), "?ordering=bogus"),
    ],
)
async def test_afilter_queryset_runs_on_the_loop_without_queries(
    catalogue: None, backend: filters.SearchFilter | filters.OrderingFilter, query: str
) -> None:
    """On the loop, a query would raise ``SynchronousOnlyOperation``; no hop is taken."""
    request = _request(query)
    before = hop_count()
    queryset = await backend.afilter_queryset(request, Product.objects.all(), AsyncProducts())
    assert hop_count() - before == 0
    # The same queryset DRF's sync face builds.
    expected = backend.filter_queryset(request, Product.objects.all(), AsyncProducts())
    assert str(queryset.query) == str(expected.query)
    assert await _anames(queryset) == await _anames(expected)


def _filter_flow(backend: Any, request: Request, view: Any) -> Any:
    queryset = yield hook_step(
        backend, hooks.BACKEND_FILTER_QUERYSET, request, Product.objects.all(), view
    )
    return queryset


async def test_drfs_search_filter_is_registered_inline(catalogue: None) -> None:
    """DRF's own SearchFilter does no I/O (see restflow.filters): no hop on async views."""
    assert hook_mode(drf_filters.SearchFilter, hooks.BACKEND_FILTER_QUERYSET) is Mode.INLINE
    before = hop_count()
    queryset = await drive_async(
        _filter_flow(drf_filters.SearchFilter(), _request("?search=hammer"), AsyncProducts())
    )
    assert hop_count() - before == 0
    assert await _anames(queryset) == ["red hammer", "blue hammer", "hammer time"]


async def _anames(queryset: QuerySet[Product]) -> list[str]:
    return [product.name async for product in queryset]


@pytest.mark.parametrize(
    ("view", "query", "hops"),
    [
        (AsyncProducts(), "?ordering=-name", 0),
        (ChoosesSerializer(), "?ordering=-name", 1),  # DRF would call the user's getter
        (ChoosesSerializer(), "", 0),  # no ordering asked: the getter is not called
        (ChoosesSerializerWithFields(), "?ordering=-name", 0),  # ordering_fields: not called
    ],
)
async def test_ordering_filter_hops_only_for_a_users_serializer_getter(
    catalogue: None, view: AsyncProducts, query: str, hops: int
) -> None:
    before = hop_count()
    queryset = await filters.OrderingFilter().afilter_queryset(
        _request(query), Product.objects.all(), view
    )
    assert hop_count() - before == hops
    expected = sorted(CATALOGUE, reverse=True) if query else CATALOGUE
    assert await _anames(queryset) == expected


class StartsWithOnly(filters.SearchFilter):
    """A user's sync hook on a restflow filter: honoured, in a worker thread."""

    def get_search_fields(self, view: Any, request: Request) -> list[str]:
        return ["^name"]


async def test_user_override_of_a_filter_hook_runs_in_one_hop(catalogue: None) -> None:
    before = hop_count()
    queryset = await StartsWithOnly().afilter_queryset(
        _request("?search=ham"), Product.objects.all(), AsyncProducts()
    )
    assert hop_count() - before == 1
    assert await _anames(queryset) == ["hammer time"]


@pytest.mark.parametrize("backend", [filters.SearchFilter, filters.OrderingFilter])
def test_restflow_filters_are_native_and_keep_drfs_sync_face(backend: type[Any]) -> None:
    assert hook_mode(backend, hooks.BACKEND_FILTER_QUERYSET) is Mode.NATIVE
    drf_backend = getattr(drf_filters, backend.__name__)
    assert issubclass(backend, drf_backend)
    assert backend.filter_queryset is drf_backend.filter_queryset


class TopFirstSearch(filters.SearchFilter):
    """A user's async override that extends restflow's through ``super()``."""

    async def afilter_queryset(
        self, request: Request, queryset: QuerySet[_M, _Row], view: Any
    ) -> QuerySet[_M, _Row]:
        queryset = await super().afilter_queryset(request, queryset, view)
        return queryset.order_by("-is_top", "id")


async def test_async_override_calling_super_stays_on_the_loop(catalogue: None) -> None:
    before = hop_count()
    queryset = await TopFirstSearch().afilter_queryset(
        _request("?search=hammer"), Product.objects.all(), AsyncProducts()
    )
    assert hop_count() - before == 0
    assert await _anames(queryset) == ["red hammer", "blue hammer", "hammer time"]
