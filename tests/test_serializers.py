"""restflow's serializers are DRF's at runtime, plus ``ais_valid``/``asave``/``adata``."""

from __future__ import annotations

import pytest
from rest_framework import serializers as drf_serializers

from restflow.serializers import ModelSerializer, Serializer
from restflow.test import hop_count
from tests.testapp.models import Product
from tests.testapp.serializers import ProductIn, ProductOut
from tests.testapp.serializers import TypedProductSerializer as Typed

pytestmark = pytest.mark.django_db


class Plain(drf_serializers.ModelSerializer[Product]):
    class Meta:
        model = Product
        fields = ["id", "name", "price"]


class Greeting(Serializer[dict[str, str], dict[str, str]]):
    name = drf_serializers.CharField(max_length=5)


class PlainGreeting(drf_serializers.Serializer[None]):
    name = drf_serializers.CharField(max_length=5)


def test_runtime_classes_are_drf_serializers() -> None:
    assert issubclass(Typed, drf_serializers.ModelSerializer)
    assert issubclass(Greeting, drf_serializers.Serializer)
    assert issubclass(Serializer, drf_serializers.Serializer)
    # Parametrising at runtime is allowed and changes nothing.
    assert ModelSerializer[Product, ProductIn, ProductOut].__origin__ is ModelSerializer  # type: ignore[attr-defined]  # typing's alias attribute


@pytest.mark.parametrize(
    "data",
    [{"name": "ok", "price": "1.50"}, {"name": "", "price": "x"}, {"price": "1"}],
)
def test_validation_matches_drf(data: dict[str, str]) -> None:
    typed, plain = Typed(data=data), Plain(data=data)
    assert typed.is_valid() == plain.is_valid()
    assert typed.errors == plain.errors
    if not typed.errors:
        assert typed.validated_data == plain.validated_data


def test_save_and_data_match_drf() -> None:
    typed = Typed(data={"name": "t", "price": "1.00"})
    typed.is_valid(raise_exception=True)
    product = typed.save()
    assert isinstance(product, Product)
    assert typed.data == Plain(product).data


def test_plain_serializer_validation_matches() -> None:
    assert Greeting(data={"name": "toolong"}).is_valid() is False
    greeting = Greeting(data={"name": "hi"})
    plain = PlainGreeting(data={"name": "hi"})
    assert greeting.is_valid()
    assert plain.is_valid()
    assert greeting.validated_data == plain.validated_data


async def test_ais_valid_asave_adata_take_one_hop_each() -> None:
    serializer = Typed(data={"name": "async", "price": "2.00"})
    before = hop_count()
    assert await serializer.ais_valid() is True
    assert hop_count() - before == 1
    product = await serializer.asave()
    assert hop_count() - before == 2
    assert isinstance(product, Product)
    assert product.pk is not None
    data = await serializer.adata()
    assert hop_count() - before == 3
    assert data == {"id": product.pk, "name": "async", "price": "2.00"}


async def test_ais_valid_raises_like_is_valid() -> None:
    serializer = Typed(data={"name": ""})
    with pytest.raises(drf_serializers.ValidationError) as raised:
        await serializer.ais_valid(raise_exception=True)
    assert set(raised.value.detail) == {"name", "price"}
    assert await serializer.ais_valid() is False
    assert not await Product.objects.aexists()


async def test_asave_passes_extra_fields() -> None:
    serializer = Typed(data={"name": "extra", "price": "3.00"})
    await serializer.ais_valid(raise_exception=True)
    product = await serializer.asave(is_top=True)
    assert product.is_top is True
