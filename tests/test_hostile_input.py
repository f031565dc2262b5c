"""Hostile input gets a clear 4xx with a JSON body in DRF's shape, never a 5xx, and changes nothing.

The endpoints have the example shop's shapes (a paginated, searchable, orderable product
list; a cursor-paginated list; create/retrieve/update/destroy by pk; token, basic and session
authentication with CSRF), on ``tests.testapp`` models, as a sync and an async viewset, driven
through DRF's ``APIClient`` and Django's ASGI ``AsyncClient``. Where DRF itself answers well
the restflow endpoints must answer exactly as a DRF viewset does; where DRF falls short
(deeply nested JSON, over-limit bodies, unique-value races) the DRF behaviour is shown too.

Hypothesis runs a bounded number of examples per test (no deadline, no example database).
"""

from __future__ import annotations

import json
from typing import Any
from unittest import mock
from urllib.parse import urlencode

import pytest
import rest_framework
from asgiref.sync import async_to_sync
from django.contrib.auth.models import User
from django.db import IntegrityError
from django.test import AsyncClient, override_settings
from django.urls import include, path
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework import parsers as drf_parsers
from rest_framework import views as drf_views
from rest_framework import viewsets as drf_viewsets
from rest_framework.authtoken.models import Token
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.test import APIClient
from rest_framework.validators import UniqueValidator

from restflow import authentication, filters, pagination, parsers, permissions
from restflow.views import APIView, AsyncAPIView, AsyncModelViewSet, ModelViewSet
from tests._clients import CLIENTS, basic_auth, outcome, send
from tests.testapp.models import Category, Product
from tests.testapp.serializers import ProductCategorySerializer as ProductSerializer

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]

KINDS = ("sync", "async")
DRF_VERSION = tuple(int(part) for part in rest_framework.VERSION.split(".")[:2])
BOUNDED = settings(
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


class TwoPerPage(pagination.PageNumberPagination):
    page_size = 2
    page_size_query_param = "page_size"
    max_page_size = 5


class TwoPerCursor(pagination.CursorPagination):
    page_size = 2
    ordering = "id"


SHOP: dict[str, Any] = {
    "queryset": Product.objects.all(),
    "serializer_class": ProductSerializer,
    "authentication_classes": [
        authentication.TokenAuthentication,
        authentication.BasicAuthentication,
        authentication.SessionAuthentication,
    ],
    "permission_classes": [permissions.IsAuthenticatedOrReadOnly],
    "throttle_classes": [],
    "pagination_class": TwoPerPage,
    "filter_backends": [filters.SearchFilter, filters.OrderingFilter],
    "search_fields": ["name"],
    "ordering_fields": ["name", "price"],
    "ordering": ["id"],
}

VIEWSETS: dict[str, type[Any]] = {
    "drf": type("DrfShop", (drf_viewsets.ModelViewSet,), dict(SHOP)),
    "sync": type("SyncShop", (ModelViewSet,), dict(SHOP)),
    "async": type("AsyncShop", (AsyncModelViewSet,), dict(SHOP)),
}
_router = SimpleRouter()
for _kind, _viewset in VIEWSETS.items():
    _router.register(f"{_kind}/products", _viewset, basename=f"{_kind}-product")
    _cursor = type(f"{_viewset.__name__}Cursor", (_viewset,), {"pagination_class": TwoPerCursor})
    _router.register(f"{_kind}/cursor", _cursor, basename=f"{_kind}-cursor")


def _echo(request: Request) -> Response:
    return Response({"type": type(request.data).__name__})


class DrfParsed(drf_views.APIView):
    """restflow's JSONParser on a plain DRF view."""

    authentication_classes = []
    permission_classes = []
    parser_classes = [parsers.JSONParser]

    def post(self, request: Request) -> Response:
        return _echo(request)


class DrfDefaultParsed(DrfParsed):
    parser_classes = [drf_parsers.JSONParser]


class SyncParsed(APIView):
    authentication_classes = []
    permission_classes = []
    parser_classes = [parsers.JSONParser]

    def post(self, request: Request) -> Response:
        return _echo(request)


class AsyncParsed(AsyncAPIView):
    authentication_classes = []
    permission_classes = []
    parser_classes = [parsers.JSONParser]

    async def post(self, request: Request) -> Response:
        return _echo(request)


urlpatterns = [
    path("", include(_router.urls)),
    path("parsed/drf/", DrfParsed.as_view()),
    path("parsed/drf-default/", DrfDefaultParsed.as_view()),
    path("parsed/sync/", SyncParsed.as_view()),
    path("parsed/async/", AsyncParsed.as_view()),
]


@pytest.fixture
def shop(db: None) -> list[Product]:
    tools = Category.objects.create(name="tools")
    return [
        Product.objects.create(name=name, price=price, category=tools)
        for name, price in [("hammer", "9.99"), ("saw", "19.50"), ("drill", "89.00")]
    ]


@pytest.fixture
def token(user: User) -> str:
    key: str = Token.objects.create(user=user).key
    return key


def same_as_drf(response: Any, drf_response: Any, kind: str) -> bool:
    """Same status, JSON body and DRF headers, once the URL prefixes are aligned."""
    status, body, headers = outcome(drf_response)
    text = json.dumps(body).replace("/drf/", f"/{kind}/")
    return outcome(response) == (status, json.loads(text), headers)


def rows() -> tuple[int, int]:
    return Product.objects.count(), Category.objects.count()


def assert_json_4xx(response: Any, status: int | None = None) -> Any:
    """A client error with a JSON body: DRF's ``{"detail": ...}`` or field errors."""
    assert 400 <= response.status_code < 500, response.content[:300]
    if status is not None:
        assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    assert isinstance(body, dict)
    assert body
    return body


def post(client: str, kind: str, body: str | bytes, token: str, **kwargs: Any) -> Any:
    if isinstance(body, bytes):
        return _post_bytes(client, kind, body, token, **kwargs)
    headers = {"Authorization": f"Token {token}"}
    return send(client, "POST", f"/{kind}/products/", body=body, headers=headers, **kwargs)


def _post_bytes(client: str, kind: str, body: bytes, token: str, **kwargs: Any) -> Any:
    # Raw bytes (possibly invalid UTF-8) go through the clients' generic() untouched.
    content_type = kwargs.get("content_type", "application/json")
    headers = {"Authorization": f"Token {token}"}
    if client == "api":
        drf_client: Any = APIClient()  # drf-stubs type the body as str; Django takes bytes
        return drf_client.generic(
            "POST", f"/{kind}/products/", body, content_type=content_type, headers=headers
        )

    async def through_asgi() -> Any:
        return await AsyncClient().generic(
            "POST", f"/{kind}/products/", body, content_type=content_type, headers=headers
        )

    return async_to_sync(through_asgi)()


# -- bodies -------------------------------------------------------------------------------

VALID = json.dumps({"name": "chisel", "price": "4.20"})


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("client", CLIENTS)
@BOUNDED
@given(
    body=st.one_of(
        st.binary(min_size=1, max_size=200),
        st.integers(min_value=1, max_value=len(VALID) - 1).map(lambda cut: VALID[:cut]),
        st.sampled_from([b'{"name": "\xff\xfe"}', b"\xc3\x28", b'{"name": "ok"', b"{,}", b"nul"]),
    )
)
def test_malformed_truncated_and_non_utf8_bodies_get_400(
    shop: list[Product], token: str, kind: str, client: str, body: str | bytes
) -> None:
    before = rows()
    response = post(client, kind, body, token)
    assert_json_4xx(response, 400)
    assert rows() == before


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("depth", [5_000, 100_000])
def test_json_deep_enough_to_exhaust_recursion_gets_400(
    token: str, kind: str, client: str, depth: int
) -> None:
    # DRF's own JSONParser (the default): restflow's views translate its RecursionError.
    # Python 3.13's parser copes with depths older ones cannot; then the serializer
    # refuses the (valid) list instead. Either way: a JSON 400, nothing written.
    before = rows()
    body = "[" * depth + "]" * depth
    response = post(client, kind, body, token)
    error = assert_json_4xx(response, 400)
    if _exhausts_recursion(body):
        assert error == {"detail": "JSON parse error - nested too deeply."}
    else:
        assert error == {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}
    assert rows() == before


def _exhausts_recursion(text: str) -> bool:
    try:
        json.loads(text)
    except RecursionError:
        return True
    return False


PARSED = ("drf", "sync", "async")


def nested(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


@pytest.mark.parametrize("view", PARSED)
@pytest.mark.parametrize("client", CLIENTS)
def test_parser_limits_nesting_depth(view: str, client: str) -> None:
    assert send(client, "POST", f"/parsed/{view}/", body=nested(512)).status_code == 200
    response = send(client, "POST", f"/parsed/{view}/", body=nested(513))
    assert assert_json_4xx(response, 400) == {
        "detail": "JSON parse error - nested deeper than 512 levels."
    }


@pytest.mark.parametrize("view", PARSED)
def test_parser_depth_ignores_brackets_inside_strings(view: str) -> None:
    body = json.dumps({"text": "[{" * 2_000})
    assert send("api", "POST", f"/parsed/{view}/", body=body).status_code == 200


@pytest.mark.parametrize("view", PARSED)
@override_settings(RESTFLOW={"JSON_MAX_DEPTH": 3})
def test_parser_depth_follows_the_setting(view: str) -> None:
    assert send("api", "POST", f"/parsed/{view}/", body=nested(3)).status_code == 200
    assert send("api", "POST", f"/parsed/{view}/", body=nested(4)).status_code == 400


@pytest.mark.parametrize("view", PARSED)
@override_settings(RESTFLOW={"JSON_MAX_DEPTH": None})
def test_parser_turns_recursion_error_into_400_without_a_depth_limit(view: str) -> None:
    response = send("api", "POST", f"/parsed/{view}/", body="[" * 100_000 + "]" * 100_000)
    assert assert_json_4xx(response, 400) == {"detail": "JSON parse error - nested too deeply."}


@pytest.mark.parametrize("view", KINDS)
@pytest.mark.parametrize("client", CLIENTS)
@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=64)
def test_parser_enforces_the_upload_limit_itself(view: str, client: str) -> None:
    response = send(client, "POST", f"/parsed/{view}/", body=json.dumps({"a": "x" * 100}))
    assert assert_json_4xx(response, 413) == {
        "detail": "Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE."
    }


@pytest.mark.parametrize("view", PARSED)
@pytest.mark.parametrize("body", ['{"a": ', "[1,]", "nul", '{"a": NaN}', '"\\ud800"'])
def test_parser_reports_malformed_json_in_drfs_words(view: str, body: str) -> None:
    expected = outcome(send("api", "POST", "/parsed/drf-default/", body=body))
    assert outcome(send("api", "POST", f"/parsed/{view}/", body=body)) == expected


def test_drf_answers_deep_json_with_a_server_error(token: str) -> None:
    # What restflow improves on: DRF lets the RecursionError escape (a 500).
    with pytest.raises(RecursionError):
        post("api", "drf", "[" * 100_000 + "]" * 100_000, token)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", json.dumps({"name": "x" * 400, "price": "1.00"})),
        ("application/x-www-form-urlencoded", "price=1.00&name=" + "x" * 400),
    ],
)
@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=256)
def test_over_limit_body_gets_a_json_413(
    token: str, kind: str, client: str, content_type: str, body: str
) -> None:
    before = rows()
    response = post(client, kind, body, token, content_type=content_type)
    assert assert_json_4xx(response, 413) == {
        "detail": "Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE."
    }
    assert rows() == before


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=256)
def test_drf_answers_an_over_limit_body_with_an_html_400_or_not_at_all(token: str) -> None:
    # What restflow improves on: DRF >= 3.17 lets Django's HTML 400 page through;
    # DRF 3.16 streams the body past the limit and validates it as if it were fine.
    response = post("api", "drf", json.dumps({"name": "x" * 400}), token)
    assert response.status_code == 400
    if DRF_VERSION >= (3, 17):
        assert response["Content-Type"].startswith("text/html")
    else:
        assert response.json()["name"] == ["Ensure this field has no more than 100 characters."]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("client", CLIENTS)
@BOUNDED
@given(
    content_type=st.sampled_from(
        ["text/plain", "application/xml", "image/png", "application/jsonx", "text/json"]
    )
)
def test_unsupported_content_type_gets_415_as_drf(
    token: str, kind: str, client: str, content_type: str
) -> None:
    before = rows()
    expected = outcome(post(client, "drf", VALID, token, content_type=content_type))
    response = post(client, kind, VALID, token, content_type=content_type)
    assert_json_4xx(response, 415)
    assert outcome(response) == expected
    assert rows() == before


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("client", CLIENTS)
@BOUNDED
@given(
    payload=st.one_of(
        st.dictionaries(
            st.sampled_from(["name", "price", "category", "id", "owner", "unknown"]),
            JSON_VALUES,
        ),
        JSON_VALUES,
    )
)
def test_wrong_types_and_unknown_fields_are_400_or_create_one_row(
    shop: list[Product], token: str, kind: str, client: str, payload: Any
) -> None:
    before = Product.objects.count()
    response = post(client, kind, json.dumps(payload), token)
    if response.status_code == 201:
        assert Product.objects.count() == before + 1
        assert set(json.loads(response.content)) == {"id", "name", "price", "category"}
    else:
        assert_json_4xx(response, 400)
        assert Product.objects.count() == before


# -- query parameters and lookups ---------------------------------------------------------

QUERY_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=12
)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("client", CLIENTS)
@BOUNDED
@given(
    params=st.dictionaries(
        st.sampled_from(["page", "page_size", "ordering", "search"]), QUERY_TEXT, min_size=1
    )
)
def test_list_parameters_answer_as_drf(
    shop: list[Product], kind: str, client: str, params: dict[str, str]
) -> None:
    query = urlencode(params)
    expected = send(client, "GET", f"/drf/products/?{query}")
    response = send(client, "GET", f"/{kind}/products/?{query}")
    assert response.status_code < 500
    assert same_as_drf(response, expected, kind)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("client", CLIENTS)
@BOUNDED
@given(cursor=st.one_of(QUERY_TEXT, st.binary(max_size=30).map(lambda raw: raw.hex())))
def test_invalid_cursor_gets_404_as_drf(
    shop: list[Product], kind: str, client: str, cursor: str
) -> None:
    query = urlencode({"cursor": cursor})
    expected = send(client, "GET", f"/drf/cursor/?{query}")
    response = send(client, "GET", f"/{kind}/cursor/?{query}")
    assert response.status_code < 500
    assert same_as_drf(response, expected, kind)


LOOKUPS = [
    "abc",
    "1,5",
    "%D9%A1%D9%A2",
    "%C3%A9",
    "-1",
    "0",
    "99999999999999999999",
    "9223372036854775808",
    "1e3",
    "%20",
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("lookup", LOOKUPS)
def test_non_numeric_and_out_of_range_lookups_get_404_as_drf(
    shop: list[Product], token: str, kind: str, client: str, method: str, lookup: str
) -> None:
    before = rows()
    headers = {"Authorization": f"Token {token}"}
    expected = outcome(
        send(client, method, f"/drf/products/{lookup}/", body=VALID, headers=headers)
    )
    response = send(client, method, f"/{kind}/products/{lookup}/", body=VALID, headers=headers)
    assert_json_4xx(response, 404)
    assert outcome(response) == expected
    assert rows() == before


# -- credentials and CSRF -----------------------------------------------------------------

HEADER_TEXT = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=0, max_size=40
)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("client", CLIENTS)
@BOUNDED
@given(
    authorization=st.one_of(
        HEADER_TEXT.map(lambda text: f"Token {text}"),
        HEADER_TEXT.map(lambda text: f"Basic {text}"),
        st.tuples(HEADER_TEXT, HEADER_TEXT).map(lambda pair: basic_auth(*pair)["Authorization"]),
        HEADER_TEXT,
    )
)
def test_bad_credentials_get_401_or_403_as_drf(
    user: User, kind: str, client: str, authorization: str
) -> None:
    before = rows()
    headers = {"Authorization": authorization}
    expected = outcome(send(client, "POST", "/drf/products/", body=VALID, headers=headers))
    response = send(client, "POST", f"/{kind}/products/", body=VALID, headers=headers)
    assert_json_4xx(response)
    assert response.status_code in (401, 403)
    assert outcome(response) == expected
    assert rows() == before


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("forged", [None, "forged-token-0123456789abcdef0123456789abcdef"])
def test_forged_csrf_with_session_auth_gets_403(user: User, kind: str, forged: str | None) -> None:
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    client.cookies["csrftoken"] = "a" * 32
    headers = {} if forged is None else {"X-CSRFToken": forged}
    before = rows()
    response = client.post(
        f"/{kind}/products/", VALID, content_type="application/json", headers=headers
    )
    body = assert_json_4xx(response, 403)
    assert body["detail"].startswith("CSRF Failed")
    assert rows() == before


# -- unique-value races -------------------------------------------------------------------


class _BlindOnce:
    """Makes DRF's UniqueValidator pass its first call: the rival committed just after it."""

    def __init__(self) -> None:
        self.calls = 0
        self.real = UniqueValidator.__call__

    def __call__(self, validator: UniqueValidator, value: Any, field: Any) -> None:
        self.calls += 1
        if self.calls > 1:
            self.real(validator, value, field)


def _racing(method: str, url: str, body: dict[str, Any], token: str, client: str) -> Any:
    blind = _BlindOnce()

    def call(validator: UniqueValidator, value: Any, field: Any) -> None:
        blind(validator, value, field)

    with mock.patch.object(UniqueValidator, "__call__", call):
        response = send(
            client,
            method,
            url,
            body=json.dumps(body),
            headers={"Authorization": f"Token {token}"},
        )
    assert blind.calls >= 1
    return response


UNIQUE_ERROR = {"name": ["product with this name already exists."]}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("client", CLIENTS)
def test_create_losing_a_unique_race_gets_400_with_the_field_error(
    shop: list[Product], token: str, kind: str, client: str
) -> None:
    before = rows()
    response = _racing(
        "POST", f"/{kind}/products/", {"name": "saw", "price": "1.00"}, token, client
    )
    assert assert_json_4xx(response, 400) == UNIQUE_ERROR
    assert rows() == before


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("client", CLIENTS)
def test_update_losing_a_unique_race_gets_400_and_changes_nothing(
    shop: list[Product], token: str, kind: str, client: str
) -> None:
    hammer = shop[0]
    response = _racing("PATCH", f"/{kind}/products/{hammer.pk}/", {"name": "saw"}, token, client)
    assert assert_json_4xx(response, 400) == UNIQUE_ERROR
    hammer.refresh_from_db()
    assert hammer.name == "hammer"


@override_settings(RESTFLOW={"REVALIDATE_ON_INTEGRITY_ERROR": False})
def test_the_race_is_a_server_error_when_revalidation_is_off(
    shop: list[Product], token: str
) -> None:
    with pytest.raises(IntegrityError):
        _racing("POST", "/sync/products/", {"name": "saw", "price": "1.00"}, token, "api")


# -- non-finite numbers ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("number", ["1e400", "-1e400"])
def test_infinity_for_a_primary_key_through_drfs_parser_is_a_400(
    shop: list[Product], token: str, kind: str, client: str, number: str
) -> None:
    # The shop's parsers are DRF's defaults: DRF's JSONParser turns 1e400 into inf.
    body = f'{{"name": "plane", "price": "1.00", "category": {number}}}'
    with pytest.raises(OverflowError):  # DRF itself: a server error
        post("api", "drf", body, token)
    before = rows()
    response = post(client, kind, body, token)
    assert outcome(response)[:2] == (
        400,
        {"category": ["Incorrect type. Expected pk value, received float."]},
    )
    assert rows() == before


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e400", "Infinity"])
@pytest.mark.parametrize("field", ["category", "price"])
def test_non_finite_form_values_are_answered_as_drf_does(
    shop: list[Product], token: str, kind: str, client: str, value: str, field: str
) -> None:
    values = {"name": "plane", "price": "1.00", "category": str(shop[0].category_id), field: value}
    body = urlencode(values)
    form = "application/x-www-form-urlencoded"
    drf_response = post("api", "drf", body, token, content_type=form)
    assert drf_response.status_code == 400
    before = rows()
    assert same_as_drf(post(client, kind, body, token, content_type=form), drf_response, kind)
    assert rows() == before
