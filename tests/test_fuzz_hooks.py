"""One fuzz target per hook family: what a hostile client controls never makes a 5xx.

Each target sends hypothesis-generated input to restflow's sync and async views and to a DRF
view of the same shape, through DRF's ``APIClient`` and Django's ASGI ``AsyncClient``:

- **authentication**: any ``Authorization`` header, including Basic credentials that are not
  base64, not UTF-8 or have no colon;
- **permissions**: random ``&``/``|``/``~`` compositions of DRF's permissions, for an
  anonymous user, a user and an admin, on safe and unsafe methods;
- **throttles**: any ``X-Forwarded-For`` chain under every ``NUM_PROXIES``;
- **pagination**: hostile ``page``/``page_size``/``limit``/``offset`` values (non-finite and
  non-ASCII numbers among them) and crafted cursors: valid base64 around hostile ``o``/``r``/
  ``p`` tokens, on an integer and a datetime ordering;
- **filters**: any ``search`` and ``ordering`` text;
- **parsers and serializers**: JSON bodies carrying non-finite numbers (``NaN``,
  ``Infinity``, ``1e400``) anywhere, and hostile values for every field.

Where DRF answers below 500, restflow answers exactly as DRF does (status, JSON body and
DRF's headers). Where DRF itself fails with a 500 (a cursor whose position the ordering
field cannot read, a non-finite primary key), restflow answers a JSON 4xx. A rejected write
changes nothing. Hypothesis runs a bounded number of examples (no deadline, no database).
"""

from __future__ import annotations

import base64
import json
import warnings
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.cache.backends.base import CacheKeyWarning
from django.test import override_settings
from django.urls import include, path
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework import authentication as drf_authentication
from rest_framework import pagination as drf_pagination
from rest_framework import permissions as drf_permissions
from rest_framework import serializers
from rest_framework import throttling as drf_throttling
from rest_framework import views as drf_views
from rest_framework import viewsets as drf_viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.test import APIRequestFactory

from restflow import authentication, filters, pagination, parsers, permissions, throttling
from restflow.views import APIView, AsyncAPIView, AsyncModelViewSet, ModelViewSet
from tests._clients import CLIENTS, basic_auth, outcome, send
from tests.testapp.models import Category, Product, Review

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]

KINDS = ("sync", "async")
FUZZ = settings(
    max_examples=20,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PASSWORD = "fuzz-password-123"


class ProductSerializer(serializers.ModelSerializer[Product]):
    class Meta:
        model = Product
        fields = ["id", "name", "price", "category", "is_top"]


class ReviewSerializer(serializers.ModelSerializer[Review]):
    class Meta:
        model = Review
        fields = ["id", "product", "rating", "comment", "created_at"]


class Pages(pagination.PageNumberPagination):
    page_size = 2
    page_size_query_param = "page_size"
    max_page_size = 5


class DrfPages(drf_pagination.PageNumberPagination):
    page_size = 2
    page_size_query_param = "page_size"
    max_page_size = 5


class Offsets(pagination.LimitOffsetPagination):
    default_limit = 2
    max_limit = 5


class DrfOffsets(drf_pagination.LimitOffsetPagination):
    default_limit = 2
    max_limit = 5


class IdCursor(pagination.CursorPagination):
    page_size = 2
    ordering = "id"


class DrfIdCursor(drf_pagination.CursorPagination):
    page_size = 2
    ordering = "id"


class DateCursor(pagination.CursorPagination):
    page_size = 2
    ordering = "-created_at"


class DrfDateCursor(drf_pagination.CursorPagination):
    page_size = 2
    ordering = "-created_at"


#: The same endpoint built from DRF's batteries (``drf``) and from restflow's (sync, async).
BATTERIES: dict[str, dict[str, Any]] = {
    "drf": {
        "authentication_classes": [
            drf_authentication.TokenAuthentication,
            drf_authentication.BasicAuthentication,
            drf_authentication.SessionAuthentication,
        ],
        "permission_classes": [drf_permissions.IsAuthenticatedOrReadOnly],
        "paginators": {
            "pages": DrfPages,
            "offsets": DrfOffsets,
            "id-cursor": DrfIdCursor,
            "date-cursor": DrfDateCursor,
        },
    },
    "restflow": {
        "authentication_classes": [
            authentication.TokenAuthentication,
            authentication.BasicAuthentication,
            authentication.SessionAuthentication,
        ],
        "permission_classes": [permissions.IsAuthenticatedOrReadOnly],
        "paginators": {
            "pages": Pages,
            "offsets": Offsets,
            "id-cursor": IdCursor,
            "date-cursor": DateCursor,
        },
    },
}
BASES: dict[str, type[Any]] = {
    "drf": drf_viewsets.ModelViewSet,
    "sync": ModelViewSet,
    "async": AsyncModelViewSet,
}


def _viewset(kind: str, paginator: str, model: type[Any] = Product) -> type[Any]:
    batteries = BATTERIES["drf" if kind == "drf" else "restflow"]
    attributes: dict[str, Any] = {
        "queryset": model.objects.all(),
        "serializer_class": ProductSerializer if model is Product else ReviewSerializer,
        "authentication_classes": batteries["authentication_classes"],
        "permission_classes": batteries["permission_classes"],
        "throttle_classes": [],
        "pagination_class": batteries["paginators"][paginator],
        "filter_backends": [filters.SearchFilter, filters.OrderingFilter],
        "search_fields": ["name"] if model is Product else ["comment"],
        "ordering_fields": ["name", "price", "id"] if model is Product else ["rating", "id"],
        "parser_classes": [parsers.JSONParser],
    }
    return type(f"{kind.title()}{paginator.title()}{model.__name__}", (BASES[kind],), attributes)


_router = SimpleRouter()
for _kind in BASES:
    for _paginator in ("pages", "offsets", "id-cursor"):
        _router.register(
            f"{_kind}/{_paginator}", _viewset(_kind, _paginator), basename=f"{_kind}-{_paginator}"
        )
    _router.register(
        f"{_kind}/reviews", _viewset(_kind, "date-cursor", Review), basename=f"{_kind}-reviews"
    )


# -- permissions and throttles: plain views whose classes each example sets ---------------

#: The permission expression of the current example: DRF's classes and restflow's.
COMPOSED: dict[str, list[Any]] = {"drf": [], "restflow": []}


class DrfAnonThrottle(drf_throttling.AnonRateThrottle):
    rate = "2/min"


class AnonThrottle(throttling.AnonRateThrottle):
    rate = "2/min"


class DrfGuarded(drf_views.APIView):
    name = "Guarded"  # OPTIONS names the view: the same name for every flavour
    authentication_classes = [drf_authentication.BasicAuthentication]
    throttle_classes: list[Any] = []

    def get_permissions(self) -> list[Any]:
        return [permission() for permission in COMPOSED["drf"]]

    def get(self, request: Request) -> Response:
        return Response({"ok": True})

    def post(self, request: Request) -> Response:
        return Response({"ok": True}, status=201)


class SyncGuarded(APIView):
    name = "Guarded"  # OPTIONS names the view: the same name for every flavour
    authentication_classes = [authentication.BasicAuthentication]
    throttle_classes: list[Any] = []

    def get_permissions(self) -> list[Any]:
        return [permission() for permission in COMPOSED["restflow"]]

    def get(self, request: Request) -> Response:
        return Response({"ok": True})

    def post(self, request: Request) -> Response:
        return Response({"ok": True}, status=201)


class AsyncGuarded(AsyncAPIView):
    name = "Guarded"  # OPTIONS names the view: the same name for every flavour
    authentication_classes = [authentication.BasicAuthentication]
    throttle_classes: list[Any] = []

    def get_permissions(self) -> list[Any]:
        return [permission() for permission in COMPOSED["restflow"]]

    async def get(self, request: Request) -> Response:
        return Response({"ok": True})

    async def post(self, request: Request) -> Response:
        return Response({"ok": True}, status=201)


class DrfThrottled(drf_views.APIView):
    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []
    throttle_classes = [DrfAnonThrottle]

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


class SyncThrottled(APIView):
    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []
    throttle_classes = [AnonThrottle]

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


class AsyncThrottled(AsyncAPIView):
    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []
    throttle_classes = [AnonThrottle]

    async def get(self, request: Request) -> Response:
        return Response({"ok": True})


urlpatterns = [
    path("", include(_router.urls)),
    path("drf/guarded/", DrfGuarded.as_view()),
    path("sync/guarded/", SyncGuarded.as_view()),
    path("async/guarded/", AsyncGuarded.as_view()),
    path("drf/throttled/", DrfThrottled.as_view()),
    path("sync/throttled/", SyncThrottled.as_view()),
    path("async/throttled/", AsyncThrottled.as_view()),
]


@pytest.fixture
def shop(db: None) -> list[Product]:
    tools = Category.objects.create(name="tools")
    products = [
        Product.objects.create(name=name, price=price, category=tools)
        for name, price in [("hammer", "9.99"), ("saw", "19.50"), ("drill", "89.00")]
    ]
    for rating, product in enumerate(products, start=1):
        Review.objects.create(product=product, rating=rating, comment=f"review {rating}")
    return products


@pytest.fixture
def people(db: None) -> dict[str, dict[str, str]]:
    """The ``Authorization`` header of each identity the permission target sends."""
    User.objects.create_user("member", password=PASSWORD)
    User.objects.create_superuser("boss", password=PASSWORD)
    return {
        "anonymous": {},
        "member": basic_auth("member", PASSWORD),
        "admin": basic_auth("boss", PASSWORD),
    }


def state() -> tuple[Any, ...]:
    """Everything a rejected request must leave as it was."""
    return (
        list(Product.objects.values_list("id", "name", "price", "category_id", "is_top")),
        list(Category.objects.values_list("id", "name")),
        list(Review.objects.values_list("id", "product_id", "rating", "comment")),
    )


def as_drf(kind: str, drf_response: Any, response: Any) -> None:
    """restflow's answer is DRF's: status, JSON body and headers, URLs aligned."""
    assert response.status_code < 500, response.content[:300]
    status, body, headers = outcome(drf_response)
    aligned = json.loads(json.dumps(body).replace("/drf/", f"/{kind}/"))
    assert outcome(response) == (status, aligned, headers)


def json_4xx(response: Any) -> Any:
    assert 400 <= response.status_code < 500, response.content[:300]
    assert response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    assert body
    return body


def differential(
    kind: str, client: str, method: str, suffix: str, **kwargs: Any
) -> tuple[Any, Any]:
    """The same request to the DRF endpoint and to restflow's ``kind`` endpoint."""
    drf_response = _tolerant(lambda: send(client, method, f"/drf/{suffix}", **kwargs))
    response = send(client, method, f"/{kind}/{suffix}", **kwargs)
    return drf_response, response


def _tolerant(call: Callable[[], Any]) -> Any:
    """DRF's answer, or ``None`` where DRF itself fails with an exception (its 500)."""
    try:
        answer = call()
    except Exception:
        return None
    return None if answer.status_code >= 500 else answer


def expect(kind: str, drf_response: Any, response: Any) -> None:
    """DRF's answer where DRF has one; otherwise a JSON 4xx."""
    if drf_response is None:
        json_4xx(response)
    else:
        as_drf(kind, drf_response, response)


# -- authentication -----------------------------------------------------------------------

HEADER_TEXT = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=60)
RAW_CREDENTIALS = st.binary(max_size=40).map(lambda raw: base64.b64encode(raw).decode())
AUTHORIZATION = st.one_of(
    HEADER_TEXT,
    st.sampled_from(["Token", "Basic", "Bearer"]).flatmap(
        lambda scheme: st.one_of(HEADER_TEXT, RAW_CREDENTIALS).map(lambda rest: f"{scheme} {rest}")
    ),
    st.tuples(HEADER_TEXT, HEADER_TEXT).map(lambda pair: basic_auth(*pair)["Authorization"]),
)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("client", CLIENTS)
@FUZZ
@given(authorization=AUTHORIZATION, method=st.sampled_from(["GET", "POST"]))
def test_authentication_answers_as_drf(
    shop: list[Product], kind: str, client: str, authorization: str, method: str
) -> None:
    before = state()
    drf_response, response = differential(
        kind,
        client,
        method,
        "pages/",
        body=json.dumps({"name": "chisel", "price": "1.00"}),
        headers={"Authorization": authorization},
    )
    expect(kind, drf_response, response)
    if response.status_code >= 400:
        assert state() == before


# -- permissions ----------------------------------------------------------------------------

LEAVES = ("AllowAny", "IsAuthenticated", "IsAdminUser", "IsAuthenticatedOrReadOnly")


def _expressions() -> st.SearchStrategy[Any]:
    leaf = st.sampled_from(LEAVES)
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.tuples(st.just("~"), inner),
            st.tuples(st.sampled_from(["&", "|"]), inner, inner),
        ),
        max_leaves=4,
    )


def _build(expression: Any, module: Any) -> Any:
    if isinstance(expression, str):
        return getattr(module, expression)
    if expression[0] == "~":
        return ~_build(expression[1], module)
    left, right = _build(expression[1], module), _build(expression[2], module)
    return left & right if expression[0] == "&" else left | right


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("client", CLIENTS)
@FUZZ
@given(
    expression=_expressions(),
    who=st.sampled_from(["anonymous", "member", "admin"]),
    method=st.sampled_from(["GET", "POST", "OPTIONS"]),
)
def test_composed_permissions_decide_as_drf(
    people: dict[str, dict[str, str]],
    kind: str,
    client: str,
    expression: Any,
    who: str,
    method: str,
) -> None:
    COMPOSED["drf"] = [_build(expression, drf_permissions)]
    COMPOSED["restflow"] = [_build(expression, permissions)]
    drf_response, response = differential(kind, client, method, "guarded/", headers=people[who])
    assert drf_response is not None
    assert response.status_code == drf_response.status_code, (expression, who, method)
    if isinstance(expression, str):
        # A single permission: DRF's message too (composed ones name the denying operand).
        as_drf(kind, drf_response, response)
    else:
        assert response.status_code < 400 or "detail" in json_4xx(response)


# -- throttles ------------------------------------------------------------------------------

ADDRESS = st.one_of(
    st.ip_addresses().map(str),
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20),
)
FORWARDED = st.lists(ADDRESS, max_size=4).map(", ".join) | HEADER_TEXT


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("client", CLIENTS)
@FUZZ
@given(forwarded=FORWARDED, proxies=st.sampled_from([None, 0, 1, 2, 5]))
def test_throttle_identity_and_answers_follow_drf(
    db: None, kind: str, client: str, forwarded: str, proxies: int | None
) -> None:
    flavours = {"drf": DrfAnonThrottle(), "restflow": AnonThrottle()}
    with override_settings(REST_FRAMEWORK={"NUM_PROXIES": proxies}):
        request = APIRequestFactory().get("/", HTTP_X_FORWARDED_FOR=forwarded)
        identities = {name: throttle.get_ident(request) for name, throttle in flavours.items()}
        assert identities["restflow"] == identities["drf"]
        statuses: dict[str, list[int]] = {}
        headers = {"X-Forwarded-For": forwarded}
        for flavour in ("drf", kind):
            cache.clear()
            with warnings.catch_warnings():
                if flavour == "drf":
                    # DRF stores the client's text in its key as it is; restflow digests it.
                    warnings.simplefilter("ignore", CacheKeyWarning)
                answers = [
                    send(client, "GET", f"/{flavour}/throttled/", headers=headers) for _ in range(3)
                ]
            statuses[flavour] = [answer.status_code for answer in answers]
            assert answers[-1]["Retry-After"] is not None
    assert statuses[kind] == statuses["drf"] == [200, 200, 429]


# -- pagination -----------------------------------------------------------------------------

NUMBERISH = st.one_of(
    st.sampled_from(
        ["0", "-1", "1e400", "-1e400", "NaN", "nan", "inf", "-Infinity", "1.5", "2e0", "0x10"]
    ),
    st.sampled_from(["\u0661", "\u0968", "\uff11", "\U0001d7d9"]),  # non-ASCII digits
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.text(max_size=8),
)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("client", CLIENTS)
@FUZZ
@given(
    endpoint=st.sampled_from(["pages/", "offsets/"]),
    params=st.dictionaries(
        st.sampled_from(["page", "page_size", "limit", "offset"]), NUMBERISH, min_size=1
    ),
)
def test_page_parameters_answer_as_drf(
    shop: list[Product], kind: str, client: str, endpoint: str, params: dict[str, str]
) -> None:
    drf_response, response = differential(kind, client, "GET", f"{endpoint}?{urlencode(params)}")
    expect(kind, drf_response, response)


POSITIONS = st.one_of(
    NUMBERISH,
    st.datetimes().map(str),
    st.sampled_from(["2024-02-30 10:00:00", "9999-12-31T23:59:59+14:00", "x", "", "None"]),
)
CRAFTED_CURSORS = st.fixed_dictionaries(
    {},
    optional={"o": NUMBERISH, "r": NUMBERISH | st.sampled_from(["0", "1"]), "p": POSITIONS},
).map(lambda tokens: base64.b64encode(urlencode(tokens).encode()).decode())
CURSORS = st.one_of(
    CRAFTED_CURSORS,
    st.binary(max_size=30).map(lambda raw: base64.b64encode(raw).decode()),
    st.text(max_size=20),
)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("client", CLIENTS)
@FUZZ
@given(endpoint=st.sampled_from(["id-cursor/", "reviews/"]), cursor=CURSORS)
def test_crafted_cursors_are_a_page_or_a_json_404(
    shop: list[Product], kind: str, client: str, endpoint: str, cursor: str
) -> None:
    query = urlencode({"cursor": cursor})
    drf_response, response = differential(kind, client, "GET", f"{endpoint}?{query}")
    expect(kind, drf_response, response)
    if response.status_code != 200:
        assert (response.status_code, json_4xx(response)) == (404, {"detail": "Invalid cursor"})


# -- filters --------------------------------------------------------------------------------

FILTER_TEXT = st.text(max_size=30) | st.sampled_from(['"', '""', "%", "_", "\\", "\x00", ","])
ORDERING = st.lists(
    st.sampled_from(["name", "-name", "price", "-id", "?", "category__name", "pk", "-", ""])
    | st.text(max_size=6),
    max_size=4,
).map(",".join)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("client", CLIENTS)
@FUZZ
@given(search=FILTER_TEXT, ordering=ORDERING)
def test_search_and_ordering_answer_as_drf(
    shop: list[Product], kind: str, client: str, search: str, ordering: str
) -> None:
    query = urlencode({"search": search, "ordering": ordering})
    drf_response, response = differential(kind, client, "GET", f"pages/?{query}")
    expect(kind, drf_response, response)


# -- parsers and serializers ----------------------------------------------------------------

NON_FINITE = st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1E999"])
FIELD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)


def _with_non_finite(document: dict[str, Any], field: str, number: str) -> str:
    # json.dumps cannot write 1e400 (it is inf by then): splice the literal into the text.
    marker = "__NON_FINITE__"
    return json.dumps({**document, field: marker}).replace(f'"{marker}"', number)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("client", CLIENTS)
@FUZZ
@given(
    document=st.fixed_dictionaries(
        {"name": st.text(min_size=1, max_size=10)},
        optional={"price": FIELD_VALUES, "category": FIELD_VALUES, "is_top": FIELD_VALUES},
    ),
    field=st.sampled_from(["price", "category", "is_top", "name", "nested"]),
    number=NON_FINITE,
    nested=st.booleans(),
)
def test_non_finite_numbers_are_a_json_400_that_changes_nothing(
    shop: list[Product],
    people: dict[str, dict[str, str]],
    kind: str,
    client: str,
    document: dict[str, Any],
    field: str,
    number: str,
    nested: bool,
) -> None:
    body = _with_non_finite(document, field, f'[{{"x": {number}}}]' if nested else number)
    before = state()
    response = send(client, "POST", f"/{kind}/pages/", body=body, headers=people["admin"])
    assert response.status_code == 400, response.content[:300]
    detail = json_4xx(response)["detail"]
    assert "non-finite" in detail.lower() or "out of range" in detail.lower(), detail
    assert state() == before


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("client", CLIENTS)
@FUZZ
@given(
    document=st.dictionaries(
        st.sampled_from(["name", "price", "category", "is_top", "id", "unknown"]), FIELD_VALUES
    )
)
def test_field_values_are_a_row_or_drfs_400(
    shop: list[Product],
    people: dict[str, dict[str, str]],
    kind: str,
    client: str,
    document: dict[str, Any],
) -> None:
    before = state()
    body = json.dumps(document)
    drf_response = _tolerant(
        lambda: send(client, "POST", "/drf/pages/", body=body, headers=people["admin"])
    )
    if drf_response is not None and drf_response.status_code == 201:
        Product.objects.filter(pk=json.loads(drf_response.content)["id"]).delete()
    response = send(client, "POST", f"/{kind}/pages/", body=body, headers=people["admin"])
    assert response.status_code < 500, response.content[:300]
    if drf_response is not None:
        assert response.status_code == drf_response.status_code
        if response.status_code == 400:
            assert json.loads(response.content) == json.loads(drf_response.content)
    if response.status_code >= 400:
        json_4xx(response)
        assert state() == before
