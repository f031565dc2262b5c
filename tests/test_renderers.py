"""restflow's JSON rendering writes exactly DRF's ``JSONRenderer`` bytes."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import math
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import path
from django.utils.functional import lazy
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework import renderers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIClient

from restflow import _fastjson
from restflow.renderers import JSONRenderer
from restflow.views import APIView, AsyncAPIView

pytestmark = pytest.mark.urls(__name__)

lazy_text = lazy(lambda text: text, str)


class Colour(enum.Enum):
    RED = "red"


class Size(str, enum.Enum):  # noqa: UP042 - the str mix-in is what is tested
    SMALL = "s"


@dataclasses.dataclass
class Point:
    x: int


class Iterable:
    """Iterable only (like a generator, but each render gets the items again)."""

    def __init__(self, items: list[Any]) -> None:
        self.items = items

    def __iter__(self) -> Iterator[Any]:
        return (item for item in self.items)


floats = st.floats() | st.sampled_from(
    [1e16, -0.0, 5e-324, 1e-5, 1.5e-7, 0.0001, 1e22, 123456789012345680.0, math.inf, math.nan]
)
texts = st.text() | st.sampled_from(["\u2028\u2029", "é😀", "\x00\x1f\x7f", '"\\/', "</script>"])
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**63 - 2, max_value=2**65)
    | floats
    | texts
    | st.decimals()
    | st.datetimes(timezones=st.none() | st.timezones())
    | st.dates()
    | st.times()
    | st.timedeltas()
    | st.uuids()
    | st.binary(max_size=4).map(lambda raw: raw.hex().encode())
    | texts.map(lazy_text)
    | st.sampled_from([Size.SMALL, Point(1), b"\xff"])
)
keys = texts | st.integers() | st.sampled_from([None, True, 1.5])
data = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=3).map(tuple)
        | st.sets(st.integers(), max_size=3)
        | st.dictionaries(keys, inner, max_size=4)
        | st.dictionaries(texts, inner, max_size=3).map(OrderedDict)
        | st.lists(inner, max_size=3).map(Iterable)
    ),
    max_leaves=12,
)


class MovedOrderedDict(OrderedDict[Any, Any]):
    """Its items() order differs from the dict's own order (after move_to_end)."""

    def __init__(self, items: dict[Any, Any]) -> None:
        super().__init__(items)
        if items:
            self.move_to_end(next(iter(items)))


class ReversedList(list[Any]):
    """json.dumps iterates a list subclass; orjson would read the items themselves."""

    def __iter__(self) -> Iterator[Any]:
        return reversed(list(super().__iter__()))


class PlainListSubclass(list[Any]):
    pass


class PlainDictSubclass(dict[Any, Any]):
    pass


# What serializers return: JSON's own types, None-heavy, with the floats that orjson
# writes as null (NaN, infinities) or other than repr(), and subclasses of every kind.
native_scalars = st.none() | st.none() | st.booleans() | st.integers() | floats | texts
native = st.recursive(
    native_scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(texts, inner, max_size=4)
        | st.lists(inner, max_size=3).map(PlainListSubclass)
        | st.lists(inner, max_size=3).map(ReversedList)
        | st.dictionaries(texts, inner, max_size=3).map(PlainDictSubclass)
        | st.dictionaries(texts, inner, max_size=3).map(MovedOrderedDict)
    ),
    max_leaves=16,
)
accepts = st.sampled_from(
    [None, "application/json", "application/json; indent=4", "application/json; indent=0"]
)


def _outcome(renderer: renderers.JSONRenderer, value: Any, media: str | None, context: Any) -> Any:
    try:
        return renderer.render(value, media, context)
    except Exception as error:  # DRF's error must be ours too
        return type(error)


@settings(max_examples=300, deadline=None)
@given(
    value=data | native,
    media=accepts,
    compact=st.booleans(),
    ensure_ascii=st.booleans(),
    strict=st.booleans(),
    context_indent=st.sampled_from([None, 0, 2]),
)
def test_same_bytes_as_drf(
    value: Any,
    media: str | None,
    compact: bool,
    ensure_ascii: bool,
    strict: bool,
    context_indent: int | None,
) -> None:
    context = {} if context_indent is None else {"indent": context_indent}
    drf, ours = renderers.JSONRenderer(), JSONRenderer()
    for renderer in (drf, ours):
        # As the COMPACT_JSON / UNICODE_JSON / STRICT_JSON settings set them on the class.
        vars(renderer).update(compact=compact, ensure_ascii=ensure_ascii, strict=strict)
    expected, got = _outcome(drf, value, media, context), _outcome(ours, value, media, context)
    assert got == expected


ROWS = [
    {
        "id": i,
        "name": f"Product ëxample {i}",
        "price": f"{i * 3}.50",
        "rating": i / 4,
        "category": i % 4 or None,
        "is_top": i % 2 == 0,
        "created_at": "2026-01-02T03:04:05.123456Z",
    }
    for i in range(20)
]
PAGE = {
    "count": 20,
    "next": "http://testserver/products/?page=2",
    "previous": None,
    "results": ROWS,
}


@pytest.fixture
def fallbacks(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The calls that went to DRF's own render code."""
    calls: list[object] = []
    original = _fastjson._DRF_RENDER

    def counted(*args: Any) -> bytes:
        calls.append(args)
        return original(*args)

    monkeypatch.setattr(_fastjson, "_DRF_RENDER", counted)
    return calls


@pytest.mark.parametrize("ensure_ascii", [True, False])
def test_a_page_with_nulls_goes_through_orjson(fallbacks: list[object], ensure_ascii: bool) -> None:
    drf, ours = renderers.JSONRenderer(), JSONRenderer()
    for renderer in (drf, ours):
        vars(renderer).update(ensure_ascii=ensure_ascii)  # as UNICODE_JSON sets it
    assert ours.render(PAGE, "application/json") == drf.render(PAGE, "application/json")
    assert fallbacks == []


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_a_non_finite_float_among_nulls_is_drfs_error(fallbacks: list[object], bad: float) -> None:
    rows: list[Any] = [*ROWS, {"id": None, "rating": bad}]
    page = {**PAGE, "results": rows}
    with pytest.raises(ValueError, match="Out of range float values"):
        renderers.JSONRenderer().render(page)
    with pytest.raises(ValueError, match="Out of range float values"):
        JSONRenderer().render(page)
    drf, ours = renderers.JSONRenderer(), JSONRenderer()
    for renderer in (drf, ours):
        vars(renderer).update(strict=False)  # as STRICT_JSON = False sets it
    assert ours.render(page) == drf.render(page)


def test_small_floats_are_written_as_python_writes_them(fallbacks: list[object]) -> None:
    value = {"a": [1.5e-7, None, 1e-5, 0.0001, 0.0, -2e-300], "b": None}
    assert JSONRenderer().render(value) == renderers.JSONRenderer().render(value)
    assert fallbacks == []


def test_a_container_inside_itself_is_drfs_error() -> None:
    loop: list[Any] = [None]
    loop.append({"again": loop})
    with pytest.raises(ValueError, match="Circular reference"):
        renderers.JSONRenderer().render(loop)
    with pytest.raises(ValueError, match="Circular reference"):
        JSONRenderer().render(loop)


def test_a_plain_enum_member_is_written_as_its_value() -> None:
    # The one documented deviation: DRF's encoder raises TypeError here.
    with pytest.raises(TypeError):
        renderers.JSONRenderer().render([Colour.RED])
    assert JSONRenderer().render([Colour.RED]) == b'["red"]'


def test_without_orjson_it_is_drfs_renderer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_fastjson, "orjson", None)
    value = {"a": [1.5e-7, decimal.Decimal("1.1"), uuid.UUID(int=1), datetime.date(2020, 1, 2)]}
    assert JSONRenderer().render(value) == renderers.JSONRenderer().render(value)


class Sync(APIView):
    def get(self, request: Request) -> Response:
        return Response(PAGE)


class Async(AsyncAPIView):
    async def get(self, request: Request) -> Response:
        return Response(PAGE)


urlpatterns = [path("sync/", Sync.as_view()), path("async/", Async.as_view())]


@pytest.mark.parametrize("url", ["/sync/", "/async/"])
@pytest.mark.parametrize("accept", ["application/json", "application/json; indent=2"])
def test_views_render_with_restflows_renderer(url: str, accept: str) -> None:
    response = APIClient().get(url, HTTP_ACCEPT=accept)
    assert type(response.accepted_renderer) is JSONRenderer
    assert response.content == renderers.JSONRenderer().render(PAGE, accept, {"request": None})
