"""Crafted pagination parameters: a 200 or DRF's JSON 404 (never a 500), as DRF where DRF answers.

Cursors are built from arbitrary payloads (``o``, ``r`` and ``p`` values of every kind,
random bytes, broken base64, huge and non-finite numbers, offsets past the cap) and sent
to restflow's ``CursorPagination`` on real async views (Django's ASGI handler), for each
kind of ordering field: integer, datetime, decimal, string, UUID, nullable, descending and
multi-field. The same request goes to a DRF view with DRF's ``CursorPagination``; where
DRF answers (it fails with a database error on many of these), restflow's answer must be
the same. Page numbers, limits, offsets and page sizes are fuzzed the same way.

Hypothesis runs a bounded number of examples per test (no deadline, no example database).
"""

from __future__ import annotations

import base64
import datetime
import json
import uuid
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from asgiref.sync import async_to_sync
from django.db import connection
from django.db.models import CharField, QuerySet, UUIDField, Value
from django.db.models.functions import Cast, LPad
from django.test import AsyncClient
from django.urls import URLPattern, path
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework import generics, serializers
from rest_framework import pagination as drf_pagination
from rest_framework.pagination import BasePagination
from rest_framework.test import APIClient

from restflow import pagination
from restflow.views import AsyncListAPIView
from tests.testapp.models import Category, Product

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]

BOUNDED = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class ProductSerializer(serializers.ModelSerializer[Product]):
    class Meta:
        model = Product
        fields = ["id", "name", "price", "category", "created_at"]


def _products() -> QuerySet[Product]:
    # ``token``: a UUID per row, for the UUID ordering.
    digits = LPad(Cast("id", CharField()), 32, Value("0"))
    return Product.objects.annotate(token=Cast(digits, UUIDField()))


#: name -> ordering; every kind of field a cursor's position is compared with
ORDERINGS: dict[str, str | tuple[str, ...]] = {
    "int": "id",
    "int-desc": "-id",
    "datetime": "created_at",
    "datetime-desc": "-created_at",
    "decimal": "price",
    "string": "name",
    "uuid": "token",
    "nullable": "category_id",
    "nullable-desc": "-category_id",
    "multi": ("-price", "id"),
}


def _list_views(
    name: str, drf_class: type[BasePagination], rf_class: type[Any]
) -> list[URLPattern]:
    class DrfList(generics.ListAPIView[Product]):
        serializer_class = ProductSerializer
        pagination_class = drf_class
        authentication_classes = ()
        permission_classes = ()

        def get_queryset(self) -> QuerySet[Product]:
            return _products()

    class AsyncList(AsyncListAPIView[Product, ProductSerializer]):
        serializer_class = ProductSerializer
        pagination_class = rf_class
        authentication_classes = ()
        permission_classes = ()
        throttle_classes = ()

        def get_queryset(self) -> QuerySet[Product]:
            return _products()

    return [path(f"drf/{name}/", DrfList.as_view()), path(f"rf/{name}/", AsyncList.as_view())]


def _cursor_views(name: str, ordering: str | tuple[str, ...]) -> list[URLPattern]:
    config = {"page_size": 3, "ordering": ordering}
    drf_class = type(f"Drf{name}", (drf_pagination.CursorPagination,), config)
    rf_class = type(f"Rf{name}", (pagination.CursorPagination,), config)
    return _list_views(f"cursor-{name}", drf_class, rf_class)


PAGES = {"page_size": 3, "page_size_query_param": "page_size", "max_page_size": 5}
LIMITS = {"default_limit": 3, "max_limit": 5}

urlpatterns = [
    *(pattern for name, ordering in ORDERINGS.items() for pattern in _cursor_views(name, ordering)),
    *_list_views(
        "page",
        type("DrfPages", (drf_pagination.PageNumberPagination,), PAGES),
        type("RfPages", (pagination.PageNumberPagination,), PAGES),
    ),
    *_list_views(
        "limit",
        type("DrfLimits", (drf_pagination.LimitOffsetPagination,), LIMITS),
        type("RfLimits", (pagination.LimitOffsetPagination,), LIMITS),
    ),
]


@pytest.fixture
def products(db: None) -> list[Product]:
    tools = Category.objects.create(name="tools")
    start = timezone.now().replace(microsecond=0)
    items = []
    for i in range(11):
        item = Product.objects.create(
            name=f"p{i:02}",
            price=Decimal(i % 4) + Decimal("0.50"),
            category=tools if i % 3 else None,
        )
        # Distinct times, a few seconds apart, some with microseconds.
        Product.objects.filter(pk=item.pk).update(
            created_at=start + datetime.timedelta(seconds=7 * i, microseconds=i % 2 * 1234)
        )
        items.append(item)
    return items


# -- the two answers ------------------------------------------------------------------------


def _rf(url: str) -> tuple[int, Any]:
    response: Any = async_to_sync(AsyncClient().get)(url)
    assert response["Content-Type"] == "application/json", response.content[:300]
    return response.status_code, json.loads(response.content)


def _drf(url: str) -> tuple[int, Any] | None:
    """DRF's answer, or None where DRF fails (a database error, a naive-time warning)."""
    try:
        response: Any = APIClient().get(url)
    except Exception:  # DRF's 500: exactly what restflow must not do
        return None
    return response.status_code, response.json()


def _answer(kind: str, query: str, *, drf_answers: bool = False) -> tuple[int, Any]:
    """restflow's answer: a 200 or DRF's 404, and DRF's answer where DRF has one."""
    status, body = _rf(f"/rf/{kind}/?{query}")
    assert status in (200, 404), body
    if status == 404:
        message = "Invalid cursor" if kind.startswith("cursor") else "Invalid page."
        assert body == {"detail": message}
    expected = _drf(f"/drf/{kind}/?{query}")
    assert expected is not None or not drf_answers
    if expected is not None:
        aligned = json.loads(json.dumps(body).replace(f"/rf/{kind}/", f"/drf/{kind}/"))
        assert (status, aligned) == expected
    return status, body


# -- crafted cursors ------------------------------------------------------------------------

NUMBERS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.floats().map(repr),
    st.sampled_from(
        [
            "1e400",
            "-1e400",
            "NaN",
            "inf",
            "-0",
            "0x10",
            "1_0",
            " 7 ",
            "\u0661\u0662",
            "\u00b2",
            "1001",
        ]
    ),
)
TIMES = st.one_of(
    st.datetimes(timezones=st.one_of(st.none(), st.timezones())).map(str),
    st.datetimes().map(lambda moment: moment.isoformat()),
    st.dates().map(str),
    st.sampled_from(["0001-01-01 00:00:00+05:00", "9999-12-31 23:59:59-05:00"]),
)
TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)
VALUES = st.one_of(
    NUMBERS, TIMES, TEXT, st.uuids().map(str), st.just("None"), st.just(""), st.just("\x00")
)


def _encode(payload: bytes) -> str:
    return base64.b64encode(payload).decode("ascii")


CURSORS = st.one_of(
    # well-formed payloads with values of every kind
    st.fixed_dictionaries(
        {},
        optional={"o": VALUES, "r": VALUES, "p": VALUES},
    ).map(lambda tokens: _encode(urlencode(tokens).encode())),
    # repeated keys, and keys of no meaning
    st.lists(st.tuples(st.sampled_from(["o", "r", "p", "x", ""]), VALUES), max_size=4).map(
        lambda pairs: _encode(urlencode(pairs).encode())
    ),
    # random bytes, valid base64 of them, and text that is no base64 at all
    st.binary(max_size=40).map(_encode),
    st.binary(max_size=40).map(lambda raw: raw.decode("latin-1")),
    TEXT,
)


@pytest.mark.parametrize("name", ORDERINGS)
@BOUNDED
@given(cursor=CURSORS)
def test_crafted_cursor_is_a_page_or_drfs_404(
    products: list[Product], name: str, cursor: str
) -> None:
    _answer(f"cursor-{name}", urlencode({"cursor": cursor}))


#: The issue's reproductions: ``cD14`` is ``p=x``; the others put a position that the
#: ordering field cannot hold into an otherwise well-formed cursor.
ISSUE_CURSORS = [
    (name, _encode(urlencode(tokens).encode()))
    for name, positions in {
        "int": ["x", "1.5", "None", "", "1e400", "NaN", "inf"],
        "int-desc": ["x", "2**64"],
        "datetime": ["x", "None", "2026-13-01 00:00:00+00:00"],
        "datetime-desc": ["2026-01-01 00:00:00", "2026-01-01", "NaN"],
        "decimal": ["x", "NaN", "Infinity"],
        "uuid": ["x", "1"],
        "nullable": ["None", "x"],
    }.items()
    for position in positions
    for tokens in ({"p": position}, {"p": position, "r": "1", "o": "2"})
]


@pytest.mark.parametrize(
    ("name", "cursor"), [("int", "cD14"), ("datetime", "cD14"), *ISSUE_CURSORS]
)
def test_position_the_field_cannot_hold_is_invalid_cursor(
    products: list[Product], name: str, cursor: str
) -> None:
    assert _answer(f"cursor-{name}", urlencode({"cursor": cursor})) == (
        404,
        {"detail": "Invalid cursor"},
    )


@pytest.mark.parametrize(
    ("name", "position"),
    [
        ("int", "4"),
        ("int", "99999999999999999999"),  # past the column's range: Django answers, so do we
        ("int", "\u0663"),  # int() reads any Unicode digits, as DRF's filter does
        ("datetime", "2000-01-01 00:00:00+00:00"),
        ("decimal", "1.5"),
        ("decimal", "1e50"),
        ("string", "p05"),
        ("uuid", str(uuid.UUID(int=5))),
        ("nullable", "1"),
    ],
)
def test_position_the_field_can_hold_pages_as_drf(
    products: list[Product], name: str, position: str
) -> None:
    cursor = _encode(urlencode({"p": position}).encode())
    status, _ = _answer(f"cursor-{name}", urlencode({"cursor": cursor}), drf_answers=True)
    assert status == 200


@pytest.mark.parametrize(
    ("name", "position"),
    [
        ("decimal", "1e999999"),
        ("decimal", "1e-20000"),
        ("string", "\x00"),
        ("nullable", "99999999999999999999999999"),
        ("string", "x\x00"),
        ("datetime", "9999-12-31 23:59:59-05:00"),
        ("datetime", "0001-01-01 00:00:00+05:00"),
    ],
)
def test_position_past_the_backends_limits_is_drfs_answer_or_404(
    products: list[Product], name: str, position: str
) -> None:
    # What the database can compare depends on the backend (PostgreSQL's numeric and
    # text, SQLite's 64-bit integers and UTC conversion): DRF's answer where DRF has
    # one, else 404.
    _answer(f"cursor-{name}", urlencode({"cursor": _encode(urlencode({"p": position}).encode())}))


def _walk(url: str, direction: str, fetch: Any) -> list[Any]:
    pages = []
    while url:
        answer = fetch(url)
        assert answer is not None
        status, body = answer
        assert status == 200
        pages.append(body)
        link = body[direction]
        url = "" if link is None else f"{urlsplit(link).path}?{urlsplit(link).query}"
    return pages


@pytest.mark.parametrize("name", [name for name in ORDERINGS if not name.startswith("nullable")])
def test_links_walk_every_ordering_as_drf(products: list[Product], name: str) -> None:
    forward = _walk(f"/rf/cursor-{name}/", "next", _rf)
    expected = _walk(f"/drf/cursor-{name}/", "next", _drf)
    assert json.loads(json.dumps(forward).replace("/rf/", "/drf/")) == expected
    assert sum(len(page["results"]) for page in forward) == len(products)
    last = urlsplit(forward[-1]["previous"]).query
    backward = _walk(f"/rf/cursor-{name}/?{last}", "previous", _rf)
    expected = _walk(f"/drf/cursor-{name}/?{last}", "previous", _drf)
    assert json.loads(json.dumps(backward).replace("/rf/", "/drf/")) == expected


def test_nullable_ordering_answers_404_where_drf_fails(products: list[Product]) -> None:
    # A page that ends on a NULL value links to ``p=None``; DRF's filter then fails.
    # NULLs come first: ascending on SQLite, descending on PostgreSQL.
    name = "nullable-desc" if connection.features.nulls_order_largest else "nullable"
    link = ""
    while "p=None" not in base64.b64decode(link.removeprefix("cursor=") + "==").decode():
        status, body = _rf(f"/rf/cursor-{name}/?{link}")
        assert status == 200
        link = urlsplit(body["next"]).query.replace("%3D", "=")
    assert _drf(f"/drf/cursor-{name}/?{link}") is None
    assert _rf(f"/rf/cursor-{name}/?{link}") == (404, {"detail": "Invalid cursor"})


# -- crafted page numbers, sizes, limits and offsets ----------------------------------------

COUNTS = st.one_of(
    NUMBERS,
    st.sampled_from(["last", "0", "-1", "", "1" * 30, "\u0661", "\u0663", "9" * 4400]),
    TEXT,
)


@pytest.mark.parametrize(
    ("kind", "names"), [("page", ["page", "page_size"]), ("limit", ["limit", "offset"])]
)
@BOUNDED
@given(data=st.data())
def test_crafted_counts_answer_as_drf(
    products: list[Product], kind: str, names: list[str], data: st.DataObject
) -> None:
    params = data.draw(st.dictionaries(st.sampled_from(names), COUNTS, min_size=1))
    _answer(kind, urlencode(params), drf_answers=True)


@pytest.mark.parametrize(
    ("kind", "query"),
    [
        ("page", "page=1e400"),
        ("page", "page=NaN"),
        ("page", "page=-1"),
        ("page", f"page={2**64}"),
        ("page", "page=%D9%A2"),  # Arabic-Indic two: page 2, as in DRF
        ("page", "page_size=1e400"),
        ("page", "page_size=-5&page=2"),
        ("limit", "offset=1e400"),
        ("limit", f"offset={2**64}"),
        ("limit", f"offset={2**63 - 2}&limit=5"),
        ("limit", "limit=NaN&offset=-1"),
        ("limit", "limit=%D9%A2&offset=%D9%A9"),
    ],
)
def test_edge_parameters_answer_as_drf(products: list[Product], kind: str, query: str) -> None:
    _answer(kind, query, drf_answers=True)
