"""restflow's paginators: DRF's behaviour on sync and async views, in one hop at most."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pytest
from asgiref.sync import async_to_sync
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import QuerySet
from django.test import AsyncClient
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, path
from rest_framework import generics
from rest_framework import pagination as drf_pagination
from rest_framework.exceptions import NotFound
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIClient, APIRequestFactory

from restflow import _hooks as hooks
from restflow import pagination
from restflow._introspect import Mode, hook_mode
from restflow.protocols import AsyncBasePagination
from restflow.test import hop_count
from restflow.views import APIView, AsyncAPIView
from tests.testapp.models import Product
from tests.testapp.serializers import ProductSerializer

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]


# -- the same configuration on DRF's classes and on restflow's -------------------


class DrfPageNumber(drf_pagination.PageNumberPagination):
    page_size = 3
    page_size_query_param = "page_size"
    max_page_size = 5


class RfPageNumber(pagination.PageNumberPagination):
    page_size = 3
    page_size_query_param = "page_size"
    max_page_size = 5


class DrfLimitOffset(drf_pagination.LimitOffsetPagination):
    default_limit = 3
    max_limit = 5


class RfLimitOffset(pagination.LimitOffsetPagination):
    default_limit = 3
    max_limit = 5


class DrfCursor(drf_pagination.CursorPagination):
    page_size = 3
    ordering = "price"  # duplicate prices: the cursors need offsets too
    page_size_query_param = "page_size"
    max_page_size = 5


class RfCursor(pagination.CursorPagination):
    page_size = 3
    ordering = "price"
    page_size_query_param = "page_size"
    max_page_size = 5


#: kind -> (DRF's paginator, restflow's), configured alike
PAIRS: dict[str, tuple[type[drf_pagination.BasePagination], type[AsyncBasePagination]]] = {
    "page": (DrfPageNumber, RfPageNumber),
    "limit": (DrfLimitOffset, RfLimitOffset),
    "cursor": (DrfCursor, RfCursor),
}


def _products(request: Request) -> QuerySet[Product]:
    products = Product.objects.all()
    return products.none() if request.query_params.get("empty") else products


def _views(kind: str) -> list[URLPattern]:
    drf_paginator, rf_paginator = PAIRS[kind]

    class DrfList(generics.ListAPIView[Product]):
        serializer_class = ProductSerializer
        pagination_class = drf_paginator
        authentication_classes = ()
        permission_classes = ()

        def get_queryset(self) -> QuerySet[Product]:
            return _products(self.request)

    class SyncList(APIView[ProductSerializer]):
        serializer_class = ProductSerializer
        pagination_class = rf_paginator
        authentication_classes = ()
        permission_classes = ()

        def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
            return self.paginated_response(_products(request))

    class AsyncList(AsyncAPIView[ProductSerializer]):
        serializer_class = ProductSerializer
        pagination_class = rf_paginator
        authentication_classes = ()
        permission_classes: tuple[type[BasePermission], ...] = ()

        async def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
            return await self.apaginated_response(_products(request))

    return [
        path(f"drf/{kind}/", DrfList.as_view()),
        path(f"sync/{kind}/", SyncList.as_view()),
        path(f"async/{kind}/", AsyncList.as_view()),
    ]


urlpatterns = [pattern for kind in PAIRS for pattern in _views(kind)]

#: (view, client): the sync view through DRF's client, the async view through
#: DRF's client and through Django's ASGI handler.
VARIANTS = [("sync", "api"), ("async", "api"), ("async", "asgi")]


@pytest.fixture
def products(db: None) -> list[Product]:
    return [Product.objects.create(name=f"p{i:02}", price=Decimal(i % 4 + 1)) for i in range(10)]


def _get(client: str, url: str) -> tuple[int, Any]:
    if client == "asgi":
        response: Any = async_to_sync(AsyncClient().get)(url)
    else:
        response = APIClient().get(url)
    return response.status_code, response.json()


def _same_as_drf(view: str, client: str, kind: str, query: str) -> tuple[Any, Any]:
    drf_status, drf_body = _get("api", f"/drf/{kind}/{query}")
    status, body = _get(client, f"/{view}/{kind}/{query}")
    # Links are absolute URLs: only the path prefix may differ.
    normalised = json.loads(json.dumps(body).replace(f"/{view}/{kind}/", f"/drf/{kind}/"))
    return (status, normalised), (drf_status, drf_body)


QUERIES = [
    # page numbers
    ("page", ""),
    ("page", "?page=2"),
    ("page", "?page=4"),
    ("page", "?page=last"),
    ("page", "?page=5"),
    ("page", "?page=0"),
    ("page", "?page=abc"),
    ("page", "?page_size=5"),
    ("page", "?page_size=5&page=2"),
    ("page", "?page_size=100"),
    ("page", "?page_size=0"),
    ("page", "?empty=1"),
    ("page", "?empty=1&page=2"),
    # limit / offset
    ("limit", ""),
    ("limit", "?limit=2"),
    ("limit", "?limit=2&offset=4"),
    ("limit", "?offset=9"),
    ("limit", "?offset=100"),
    ("limit", "?limit=100"),
    ("limit", "?limit=abc"),
    ("limit", "?offset=-3"),
    ("limit", "?empty=1"),
    ("limit", "?empty=1&offset=3"),
    # cursors
    ("cursor", ""),
    ("cursor", "?page_size=4"),
    ("cursor", "?page_size=100"),
    ("cursor", "?cursor=garbage"),
    ("cursor", "?cursor=bz1hYmM%3D"),  # base64 of "o=abc": a non-numeric offset
    ("cursor", "?empty=1"),
]


@pytest.mark.parametrize(("view", "client"), VARIANTS)
@pytest.mark.parametrize(("kind", "query"), QUERIES)
def test_same_status_and_body_as_drf(
    products: list[Product], view: str, client: str, kind: str, query: str
) -> None:
    ours, drf = _same_as_drf(view, client, kind, query)
    assert ours == drf


@pytest.mark.parametrize(("view", "client"), VARIANTS)
@pytest.mark.parametrize(
    ("kind", "query", "detail"),
    [
        ("page", "?page=5", "Invalid page."),
        ("page", "?page=abc", "Invalid page."),
        ("page", "?empty=1&page=2", "Invalid page."),
        ("cursor", "?cursor=garbage", "Invalid cursor"),
    ],
)
def test_invalid_page_is_404_with_drf_message(
    products: list[Product], view: str, client: str, kind: str, query: str, detail: str
) -> None:
    assert _get(client, f"/{view}/{kind}/{query}") == (404, {"detail": detail})


def _walk(client: str, url: str, direction: str) -> list[Any]:
    pages = []
    while True:
        status, body = _get(client, url)
        assert status == 200
        pages.append(body)
        link = body[direction]
        if link is None:
            return pages
        parts = urlsplit(link)
        url = f"{parts.path}?{parts.query}"


@pytest.mark.parametrize(("view", "client"), VARIANTS)
def test_cursor_next_and_previous_links_walk_like_drf(
    products: list[Product], view: str, client: str
) -> None:
    def normalise(pages: list[Any]) -> Any:
        return json.loads(json.dumps(pages).replace(f"/{view}/cursor/", "/drf/cursor/"))

    drf_forward = _walk("api", "/drf/cursor/", "next")
    forward = _walk(client, f"/{view}/cursor/", "next")
    assert normalise(forward) == drf_forward
    assert len(forward) == 4  # 10 rows, 3 a page

    last = urlsplit(forward[-2]["next"])
    drf_backward = _walk("api", f"/drf/cursor/?{last.query}", "previous")
    backward = _walk(client, f"/{view}/cursor/?{last.query}", "previous")
    assert normalise(backward) == drf_backward
    assert len(backward) > 1


# -- the sync face is DRF's algorithm, on DRF's hooks -----------------------------


@pytest.mark.parametrize(
    ("ours", "drfs"),
    [
        (pagination.PageNumberPagination, drf_pagination.PageNumberPagination),
        (pagination.LimitOffsetPagination, drf_pagination.LimitOffsetPagination),
        (pagination.CursorPagination, drf_pagination.CursorPagination),
    ],
)
def test_sync_face_is_a_drf_paginator_used_natively(
    ours: type[AsyncBasePagination], drfs: type[drf_pagination.BasePagination]
) -> None:
    assert issubclass(ours, drfs)
    assert hook_mode(ours, hooks.PAGINATOR_PAGINATE_QUERYSET) is Mode.NATIVE


@pytest.mark.parametrize("kind", PAIRS)
def test_response_schema_and_parameters_are_drfs(kind: str) -> None:
    drf_paginator, rf_paginator = PAIRS[kind]
    schema = {"type": "object"}
    assert rf_paginator().get_paginated_response_schema(
        schema
    ) == drf_paginator().get_paginated_response_schema(schema)
    view = generics.ListAPIView[Product]()
    assert rf_paginator().get_schema_operation_parameters(
        view
    ) == drf_paginator().get_schema_operation_parameters(view)


# -- hops and queries --------------------------------------------------------------


def _request(query: str = "") -> Request:
    return Request(APIRequestFactory().get(f"/items/{query}"))


@pytest.mark.parametrize("kind", PAIRS)
async def test_apaginate_queryset_on_a_queryset_takes_one_hop(
    products: list[Product], kind: str
) -> None:
    paginator = PAIRS[kind][1]()
    before = hop_count()
    page = await paginator.apaginate_queryset(Product.objects.all(), _request())
    assert hop_count() - before == 1
    assert page is not None
    assert len(page) == 3


@pytest.mark.parametrize(
    ("paginator", "query", "expected"),
    [
        (RfPageNumber(), "?page=2", [3, 4, 5]),
        (RfPageNumber(), "?page_size=4&page=3", [8, 9]),
        (RfLimitOffset(), "?limit=2&offset=7", [7, 8]),
        (RfLimitOffset(), "?offset=100", []),
    ],
)
async def test_apaginate_queryset_on_a_list_takes_no_hop(
    paginator: pagination.PageNumberPagination | pagination.LimitOffsetPagination,
    query: str,
    expected: list[int],
) -> None:
    before = hop_count()
    page = await paginator.apaginate_queryset(list(range(10)), _request(query))
    assert hop_count() - before == 0
    assert page == expected


async def test_apaginate_queryset_out_of_range_list_raises_not_found() -> None:
    with pytest.raises(NotFound, match=r"Invalid page\."):
        await RfPageNumber().apaginate_queryset(list(range(10)), _request("?page=9"))


async def test_cursor_pagination_of_a_list_says_what_it_needs() -> None:
    # DRF's fails with an AttributeError on ``list.order_by``.
    before = hop_count()
    with pytest.raises(
        TypeError, match=r"RfCursor needs a queryset, or an object with order_by\(\)"
    ):
        await RfCursor().apaginate_queryset(list(range(10)), _request())
    assert hop_count() - before == 0


@pytest.mark.parametrize("sync", [True, False])
def test_cursor_misconfiguration_is_improperly_configured(
    products: list[Product], sync: bool
) -> None:
    class Unordered(pagination.CursorPagination):
        page_size = 3
        ordering = "category__name"

    paginator = Unordered()
    run = paginator.paginate_queryset if sync else async_to_sync(paginator.apaginate_queryset)
    with pytest.raises(ImproperlyConfigured, match="does not support double underscore"):
        run(Product.objects.all(), _request())


class SizeFromHeader(pagination.PageNumberPagination):
    """A user's sync hook: restflow cannot know it is pure, so it runs in a thread."""

    def get_page_size(self, request: Request) -> int:
        return int(request.headers.get("X-Size", "2"))


async def test_user_sync_hook_on_a_list_runs_in_one_hop_and_is_honoured() -> None:
    before = hop_count()
    page = await SizeFromHeader().apaginate_queryset(list(range(10)), _request())
    assert hop_count() - before == 1
    assert page == [0, 1]


@pytest.mark.parametrize(("kind", "queries"), [("page", 1), ("limit", 1), ("cursor", 1)])
@pytest.mark.parametrize(
    ("view", "client", "hops"), [(v, c, int(v == "async")) for v, c in VARIANTS]
)
def test_list_endpoint_hops_and_queries(
    products: list[Product], kind: str, queries: int, view: str, client: str, hops: int
) -> None:
    """Page and count in one query; with serialization in one hop on the async view."""
    before = hop_count()
    with CaptureQueriesContext(connection) as captured:
        status, body = _get(client, f"/{view}/{kind}/")
    assert status == 200
    assert len(body["results"]) == 3
    assert hop_count() - before == hops
    assert len(captured.captured_queries) == queries


class Doubled(RfPageNumber):
    """A user's async override that extends restflow's through ``super()``."""

    async def apaginate_queryset(
        self, queryset: Any, request: Request, view: Any = None
    ) -> list[Any] | None:
        page: list[int] | None = await super().apaginate_queryset(queryset, request, view)
        return None if page is None else [item * 2 for item in page]


async def test_async_override_calling_super_takes_no_hop_on_a_list() -> None:
    before = hop_count()
    page = await Doubled().apaginate_queryset(list(range(10)), _request("?page=2"))
    assert hop_count() - before == 0
    assert page == [6, 8, 10]
