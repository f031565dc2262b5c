"""The compiled serializer path renders exactly what DRF's serializers render."""

from __future__ import annotations

import datetime
import decimal
import uuid
import weakref
import zoneinfo
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import override_settings
from django.urls import path
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIClient

from restflow import _compiled
from restflow._compiled import serializer_data
from restflow.serializers import ModelSerializer
from restflow.views import AsyncAPIView, AsyncListAPIView
from tests.testapp.models import Category, Product, Specimen

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]

ALL = [
    "id",
    "title",
    "body",
    "slug",
    "email",
    "url",
    "token",
    "count",
    "big",
    "ratio",
    "amount",
    "flag",
    "maybe",
    "day",
    "moment",
    "stamp",
    "span",
    "size",
    "data",
    "category",
]


class PlainSpecimen(serializers.ModelSerializer[Specimen]):
    """What users bring: DRF's own ModelSerializer, unchanged."""

    class Meta:
        model = Specimen
        fields = ALL


class TypedSpecimen(ModelSerializer[Specimen]):
    class Meta:
        model = Specimen
        fields = ALL


class Shouting(serializers.CharField):
    def to_representation(self, value: Any) -> str:
        return str(value).upper()


class CategoryOut(serializers.ModelSerializer[Category]):
    class Meta:
        model = Category
        fields = ["id", "name"]


class Whole(serializers.Serializer[Any]):
    title = serializers.CharField()
    count = serializers.IntegerField(allow_null=True)


class Declared(serializers.ModelSerializer[Specimen]):
    """Declared fields: sources, formats, fallbacks, nesting, context."""

    category_name = serializers.CharField(source="category.name", allow_null=True)
    category_slug: serializers.SlugRelatedField[Category] = serializers.SlugRelatedField(
        source="category", slug_field="name", read_only=True
    )
    nested_category = CategoryOut(source="category", allow_null=True)
    whole = Whole(source="*")
    loud = Shouting(source="title")
    in_utc = serializers.DateTimeField(source="stamp", default_timezone=datetime.UTC)
    formatted = serializers.DateTimeField(source="stamp", format="%Y-%m-%d %H:%M:%S%z")
    exact = serializers.DecimalField(
        source="amount", max_digits=14, decimal_places=2, coerce_to_string=False
    )
    normal = serializers.DecimalField(
        source="amount", max_digits=20, decimal_places=6, normalize_output=True
    )
    who = serializers.SerializerMethodField()
    hex = serializers.UUIDField(source="token", format="hex")
    title_length = serializers.ReadOnlyField(source="title.__len__")
    missing = serializers.CharField(source="no_such_attribute", required=False)

    class Meta:
        model = Specimen
        fields = [
            *ALL,
            "category_name",
            "category_slug",
            "nested_category",
            "whole",
            "loud",
            "in_utc",
            "formatted",
            "exact",
            "normal",
            "who",
            "hex",
            "title_length",
            "missing",
        ]

    def get_who(self, obj: Specimen) -> str:
        return f"{self.context.get('who', '?')}:{obj.title}"


class CategoryWithSpecimens(serializers.ModelSerializer[Category]):
    specimens = PlainSpecimen(many=True, source="specimen_set")

    class Meta:
        model = Category
        fields = ["id", "name", "specimens"]


ZONES = ["UTC", "America/New_York", "Asia/Kolkata", "Pacific/Chatham"]
FORMATS = {
    "DATETIME_FORMAT": ["iso-8601", None, "%d.%m.%Y %H:%M"],
    "DATE_FORMAT": ["iso-8601", None, "%d/%m/%Y"],
    "TIME_FORMAT": ["iso-8601", None, "%H.%M"],
    "DURATION_FORMAT": ["django", "iso-8601", None],
}

text = st.text(max_size=12)
instants = st.datetimes(
    min_value=datetime.datetime(1901, 1, 1),
    max_value=datetime.datetime(2099, 12, 31),
    timezones=st.sampled_from(
        [
            None,
            datetime.UTC,
            zoneinfo.ZoneInfo("Europe/Paris"),
            datetime.timezone(datetime.timedelta(hours=-3)),
        ]
    ),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=6,
)
categories = st.none() | st.builds(
    Category, id=st.integers(1, 10**6), name=st.text(min_size=1, max_size=8)
)


@st.composite
def specimens(draw: st.DrawFn) -> Specimen:
    return Specimen(
        id=draw(st.integers(1, 2**62)),
        title=draw(text),
        body=draw(text),
        slug=draw(st.from_regex(r"[a-z0-9-]{0,8}", fullmatch=True)),
        email=draw(st.sampled_from(["", "a@example.com"])),
        url=draw(st.sampled_from(["", "https://example.com/ä"])),
        token=draw(st.none() | st.uuids()),
        count=draw(st.none() | st.integers(-(2**31), 2**31)),
        big=draw(st.none() | st.integers(-(2**63), 2**63 - 1)),
        ratio=draw(st.none() | st.floats(allow_nan=False)),
        amount=draw(
            st.none() | st.decimals(min_value=-(10**7), max_value=10**7, places=4, allow_nan=False)
        ),
        flag=draw(st.booleans()),
        maybe=draw(st.none() | st.booleans()),
        day=draw(st.none() | st.dates()),
        moment=draw(st.none() | st.times()),
        stamp=draw(st.none() | instants),
        span=draw(st.none() | st.timedeltas()),
        size=draw(st.sampled_from(["", "s", "l", "x"])),
        data=draw(json_values),
        category=draw(categories),
    )


def _outcome(render: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "ok", render()
    except Exception as error:  # both ways must fail alike (e.g. a nonexistent local time)
        return "error", type(error)


def _same(left: Any, right: Any) -> bool:
    """Equal values of the same types, dict keys in the same order, all the way down."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return list(left) == list(right) and all(_same(left[k], right[k]) for k in left)
    if isinstance(left, (list, tuple)):
        return len(left) == len(right) and all(map(_same, left, right))
    return bool(left == right)


@st.composite
def configurations(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "USE_TZ": draw(st.booleans()),
        "zone": draw(st.sampled_from(ZONES)),
        "REST_FRAMEWORK": {
            "COERCE_DECIMAL_TO_STRING": draw(st.booleans()),
            **{name: draw(st.sampled_from(choices)) for name, choices in FORMATS.items()},
        },
        "who": draw(text),
    }


def _configured(configuration: dict[str, Any]) -> Iterator[None]:
    with (
        override_settings(
            USE_TZ=configuration["USE_TZ"], REST_FRAMEWORK=configuration["REST_FRAMEWORK"]
        ),
        timezone.override(zoneinfo.ZoneInfo(configuration["zone"])),
    ):
        yield


def _compare(
    klass: type[serializers.BaseSerializer[Any]], instance: Any, many: bool, context: dict[str, Any]
) -> None:
    drf = _outcome(lambda: klass(instance, many=many, context=context).data)
    compiled = _outcome(lambda: serializer_data(klass(instance, many=many, context=context)))
    assert compiled[0] == drf[0], (drf, compiled)
    assert _same(drf[1], compiled[1]) if drf[0] == "ok" else drf[1] is compiled[1], (drf, compiled)
    if drf[0] == "ok":
        assert type(drf[1]) is type(compiled[1])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(specimens(), max_size=4),
    configuration=configurations(),
    klass=st.sampled_from([PlainSpecimen, TypedSpecimen, Declared]),
)
def test_compiled_rows_equal_drf(
    rows: list[Specimen],
    configuration: dict[str, Any],
    klass: type[serializers.BaseSerializer[Any]],
) -> None:
    for _ in _configured(configuration):
        context = {"who": configuration["who"]}
        _compare(klass, rows, True, context)
        for row in rows[:1]:
            _compare(klass, row, False, context)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(specimens(), max_size=3), configuration=configurations())
def test_compiled_nested_many_equal_drf(
    rows: list[Specimen], configuration: dict[str, Any]
) -> None:
    category = Category(id=1, name="c")
    prefetched = Specimen.objects.all()
    prefetched._result_cache = rows
    prefetched._prefetch_done = True  # type: ignore[attr-defined]  # as prefetch_related leaves it
    category._prefetched_objects_cache = {"specimen_set": prefetched}  # type: ignore[attr-defined]  # as prefetch_related leaves it
    holder = type("Holder", (), {"id": 2, "name": "h", "specimen_set": rows})()
    for _ in _configured(configuration):
        # The holder is no Category: its row goes through DRF's to_representation.
        _compare(CategoryWithSpecimens, [category, holder], True, {})


def test_each_class_compiles_once(monkeypatch: pytest.MonkeyPatch) -> None:
    generated: list[object] = []
    original = _compiled._generate

    def counted(spec: Any) -> Any:
        generated.append(spec)
        return original(spec)

    monkeypatch.setattr(_compiled, "_generate", counted)
    monkeypatch.setattr(_compiled, "_by_spec", {})
    monkeypatch.setattr(_compiled, "_by_class", weakref.WeakKeyDictionary())
    rows = [Specimen(id=i, title=str(i)) for i in range(3)]
    for _ in range(5):
        serializer_data(PlainSpecimen(rows, many=True))
        serializer_data(Declared(rows[0], context={"who": "x"}))
    assert len(generated) == 2


def test_a_class_that_renders_itself_keeps_drf(monkeypatch: pytest.MonkeyPatch) -> None:
    class Own(PlainSpecimen):
        def to_representation(self, instance: Any) -> Any:
            return {"own": instance.title}

    assert serializer_data(Own(Specimen(title="t"))) == {"own": "t"}


# -- the hook on restflow's views ------------------------------------------------


class Products(AsyncListAPIView[Product, Any]):
    queryset = Product.objects.order_by("id")
    serializer_class = type(
        "ProductOut",
        (serializers.ModelSerializer,),
        {
            "Meta": type(
                "Meta", (), {"model": Product, "fields": ["id", "name", "price", "created_at"]}
            )
        },
    )


class One(AsyncAPIView):
    async def get(self, request: Request) -> Response:
        product = await Product.objects.order_by("id").afirst()
        return await self.aserialized_response(product, serializer_class=Products.serializer_class)


urlpatterns = [path("products/", Products.as_view()), path("one/", One.as_view())]


@pytest.mark.parametrize("enabled", [True, False])
@pytest.mark.parametrize("url", ["/products/", "/one/"])
def test_views_render_through_the_compiled_path(
    monkeypatch: pytest.MonkeyPatch, enabled: bool, url: str
) -> None:
    Product.objects.create(name="a", price=decimal.Decimal("1.50"))
    Product.objects.create(name="b", price=decimal.Decimal("2"))
    expected = Products.serializer_class(Product.objects.order_by("id"), many=True).data
    calls: list[object] = []
    original = serializers.Serializer.to_representation

    def counted(self: Any, instance: Any) -> Any:
        calls.append(instance)
        return original(self, instance)

    monkeypatch.setattr(serializers.Serializer, "to_representation", counted)
    with override_settings(RESTFLOW={"COMPILED_SERIALIZERS": enabled}):
        body = APIClient().get(url).json()
    assert body == (expected if url == "/products/" else expected[0])
    assert bool(calls) is not enabled


def test_uuid_and_decimal_values_of_other_types() -> None:
    row = Specimen(id=1, title="t", amount=3, token=uuid.UUID(int=5))
    _compare(PlainSpecimen, row, False, {})
