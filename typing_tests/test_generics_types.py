"""Types of the generic views: the model and serializer parameters flow to every getter."""

from __future__ import annotations

from typing import Any, assert_type

from restflow.serializers import ModelSerializer
from restflow.views import (
    AsyncGenericAPIView,
    AsyncListCreateAPIView,
    AsyncRetrieveAPIView,
    GenericAPIView,
)
from tests.testapp.models import Category, Product
from tests.testapp.serializers import ProductIn, ProductOut
from tests.testapp.serializers import TypedProductSerializer as ProductSerializer


class ProductInSerializer(ModelSerializer[Product, ProductIn, ProductIn]):
    class Meta:
        model = Product
        fields = ["name", "price"]


class CategorySerializer(ModelSerializer[Category]):
    class Meta:
        model = Category
        fields = ["id", "name"]


class ProductDetail(AsyncRetrieveAPIView[Product, ProductSerializer]):
    queryset = Product.objects.all()
    serializer_class = ProductSerializer


class SyncProductDetail(GenericAPIView[Product, ProductSerializer]):
    queryset = Product.objects.all()
    serializer_class = ProductSerializer


async def lookups(view: ProductDetail, sync_view: SyncProductDetail) -> None:
    assert_type(view.get_object(), Product)
    assert_type(await view.aget_object(), Product)
    assert_type(sync_view.get_object(), Product)
    assert_type(view.get_queryset().get(), Product)
    assert_type(view.get_serializer(), ProductSerializer)
    assert_type(sync_view.get_serializer(), ProductSerializer)
    assert_type(view.get_serializer_class(), type[ProductSerializer])
    serializer = await view.avalidated_serializer()
    assert_type(serializer, ProductSerializer)
    assert_type(serializer.validated_data, ProductIn)
    assert_type(serializer.data, ProductOut)


class SplitProducts(
    AsyncListCreateAPIView[Product, ProductSerializer, ProductInSerializer, ProductSerializer]
):
    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    request_serializer_class = ProductInSerializer
    response_serializer_class = ProductSerializer


async def split(view: SplitProducts) -> None:
    assert_type(view.get_request_serializer_class(), type[ProductInSerializer])
    assert_type(view.get_response_serializer_class(), type[ProductSerializer])
    serializer = await view.avalidated_serializer()
    assert_type(serializer, ProductInSerializer)
    assert_type(serializer.validated_data, ProductIn)
    assert_type(view.validated_serializer().save(), Product)


# -- must fail ---------------------------------------------------------------------------


class SerializerOfAnotherModel(AsyncGenericAPIView[Product, ProductSerializer]):
    queryset = Product.objects.all()
    serializer_class = CategorySerializer  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]  # must fail: Category


class QuerysetOfAnotherModel(AsyncGenericAPIView[Product, ProductSerializer]):
    queryset = Category.objects.all()  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]  # must fail: Category
    serializer_class = ProductSerializer


class SyncAsyncTwin(AsyncGenericAPIView[Product, ProductSerializer]):
    def aget_object(self) -> Product:  # type: ignore[override]  # pyright: ignore[reportIncompatibleMethodOverride]  # must fail: aget_object is async
        return Product()


class SplitOfAnotherModel(
    AsyncGenericAPIView[Product, ProductSerializer, ProductInSerializer, ProductSerializer]
):
    request_serializer_class = CategorySerializer  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]  # must fail


def unused(*values: Any) -> None:
    del values
