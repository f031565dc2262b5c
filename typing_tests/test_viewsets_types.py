"""Types of the viewsets and ``ActionConfig``."""

from __future__ import annotations

from typing import Any, assert_type

from django.db.models import QuerySet
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import IsAdminUser

from restflow.serializers import ModelSerializer
from restflow.views import (
    ActionConfig,
    AsyncGenericViewSet,
    AsyncListModelMixin,
    AsyncModelViewSet,
    AsyncReadOnlyModelViewSet,
    ModelViewSet,
)
from tests.testapp.models import Category, Product


class ProductSerializer(ModelSerializer[Product]):
    class Meta:  # pyright: ignore[reportIncompatibleVariableOverride]  # drf-stubs types Meta loosely
        model = Product
        fields = ["id", "name", "price"]


class NameSerializer(ModelSerializer[Product]):
    class Meta:  # pyright: ignore[reportIncompatibleVariableOverride]  # drf-stubs types Meta loosely
        model = Product
        fields = ["name"]


def top_products(view: Any) -> QuerySet[Product]:
    return Product.objects.filter(is_top=True)


class ProductViewSet(AsyncModelViewSet[Product, ProductSerializer]):
    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    action_configs = {
        "list": ActionConfig(pagination_class=CursorPagination, queryset=top_products),
        "retrieve": ActionConfig(serializer_class=NameSerializer),
        "destroy": ActionConfig(permission_classes=[IsAdminUser]),
        "partial_update": ActionConfig(queryset=Product.objects.filter(is_top=True)),
        "update": ActionConfig(pagination_class=None),
    }


class SyncProductViewSet(ModelViewSet[Product, ProductSerializer]):
    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    action_configs = {"create": ActionConfig(response_serializer_class=NameSerializer)}


class Composed(AsyncListModelMixin, AsyncGenericViewSet[Product, ProductSerializer]):
    queryset = Product.objects.all()
    serializer_class = ProductSerializer


async def lookups(
    view: ProductViewSet,
    sync_view: SyncProductViewSet,
    read_only: AsyncReadOnlyModelViewSet[Product, ProductSerializer],
    composed: Composed,
) -> None:
    assert_type(await view.aget_object(), Product)
    assert_type(view.get_serializer(), ProductSerializer)
    assert_type(sync_view.get_object(), Product)
    assert_type(await read_only.aget_object(), Product)
    assert_type(await composed.aget_object(), Product)
    assert_type(composed.get_serializer(), ProductSerializer)


config = ActionConfig(queryset=Product.objects.all())
assert_type(config, ActionConfig[Product])


# -- must fail ---------------------------------------------------------------------------


class MisspeltAction(AsyncModelViewSet[Product, ProductSerializer]):
    action_configs = {"retreive": ActionConfig()}  # type: ignore[dict-item]  # must fail: not an action


class ConfigOfAnotherModel(AsyncModelViewSet[Product, ProductSerializer]):
    action_configs = {"list": ActionConfig(queryset=Category.objects.all())}  # type: ignore[arg-type]  # must fail: Category


def frozen(config: ActionConfig[Product]) -> None:
    config.pagination_class = None  # type: ignore[misc]  # must fail: frozen
