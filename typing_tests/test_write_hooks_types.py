"""Types of the write hooks: ``perform_*`` and their ``aperform_*`` twins take the view's
request serializer, so an override annotated with it type-checks and ``validated_data`` is
its ``TIn``."""

from __future__ import annotations

from decimal import Decimal
from typing import TypedDict, assert_type

from typing_extensions import override

from restflow.serializers import ModelSerializer
from restflow.views import AsyncListCreateAPIView, AsyncModelViewSet, ModelViewSet
from tests.testapp.models import Product
from tests.testapp.serializers import ProductIn
from tests.testapp.serializers import TypedProductSerializer as ProductSerializer
from typing_tests.test_generics_types import CategorySerializer


class NameIn(TypedDict):
    name: str


class NameSerializer(ModelSerializer[Product, NameIn, NameIn]):
    class Meta:
        model = Product
        fields = ["name"]


class Products(AsyncModelViewSet[Product, ProductSerializer]):
    @override
    def perform_create(self, serializer: ProductSerializer) -> None:
        assert_type(serializer.validated_data, ProductIn)
        assert_type(serializer.validated_data["price"], Decimal)
        serializer.save()

    @override
    def perform_update(self, serializer: ProductSerializer) -> None:
        assert_type(serializer.save(), Product)

    @override
    def perform_destroy(self, instance: Product) -> None:
        instance.delete()

    @override
    async def aperform_create(self, serializer: ProductSerializer) -> None:
        assert_type(serializer.validated_data, ProductIn)
        assert_type(await serializer.asave(), Product)

    @override
    async def aperform_update(self, serializer: ProductSerializer) -> None:
        await serializer.asave()

    @override
    async def aperform_destroy(self, instance: Product) -> None:
        await instance.adelete()


class SyncProducts(ModelViewSet[Product, ProductSerializer]):
    @override
    def perform_create(self, serializer: ProductSerializer) -> None:
        assert_type(serializer.validated_data, ProductIn)


class SplitProducts(
    AsyncListCreateAPIView[Product, ProductSerializer, NameSerializer, ProductSerializer]
):
    @override
    def perform_create(self, serializer: NameSerializer) -> None:
        # The request serializer validated the body: its TIn.
        assert_type(serializer.validated_data, NameIn)


async def serializers(view: Products) -> None:
    assert_type(view.get_serializer(), ProductSerializer)
    assert_type(await view.aget_serializer(), ProductSerializer)
    assert_type(await view.aget_serializer_class(), type[ProductSerializer])


# -- must fail ---------------------------------------------------------------------------


class HookOfAnotherSerializer(AsyncModelViewSet[Product, ProductSerializer]):
    @override
    def perform_create(self, serializer: CategorySerializer) -> None:  # type: ignore[override]  # pyright: ignore[reportIncompatibleMethodOverride]  # must fail
        serializer.save()


class ResponseSerializerInAHook(
    AsyncListCreateAPIView[Product, ProductSerializer, NameSerializer, ProductSerializer]
):
    @override
    async def aperform_create(self, serializer: ProductSerializer) -> None:  # type: ignore[override]  # pyright: ignore[reportIncompatibleMethodOverride]  # must fail: NameSerializer validates
        await serializer.asave()


def misspelt_key(serializer: ProductSerializer) -> None:
    serializer.validated_data["prize"]  # type: ignore[typeddict-item]  # pyright: ignore[reportGeneralTypeIssues]  # must fail
