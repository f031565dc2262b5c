"""Types of the viewsets and ``ActionConfig``."""

from __future__ import annotations

from typing import Any, assert_type

from django.db.models import QuerySet
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response

from restflow.decorators import action
from restflow.serializers import ModelSerializer
from restflow.views import (
    ActionConfig,
    ActionConfigs,
    AsyncGenericViewSet,
    AsyncListModelMixin,
    AsyncModelViewSet,
    AsyncReadOnlyModelViewSet,
    ModelViewSet,
)
from tests.testapp.models import Category, Product


class ProductSerializer(ModelSerializer[Product]):
    class Meta:
        model = Product
        fields = ["id", "name", "price"]


class NameSerializer(ModelSerializer[Product]):
    class Meta:
        model = Product
        fields = ["name"]


class CategorySerializer(ModelSerializer[Category]):
    class Meta:
        model = Category
        fields = ["id", "name"]


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


class ProductActions(ActionConfigs[Product], total=False):
    # pyright does not see a TypedDict key named like a dict method (``update``) in a
    # subclass: declaring it again keeps ProductActions an ActionConfigs[Product] there.
    update: ActionConfig[Product]
    publish: ActionConfig[Product]
    unpublish: ActionConfig[Product]


class WithExtraActions(AsyncModelViewSet[Product, ProductSerializer]):
    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    action_configs = ProductActions(
        list=ActionConfig(pagination_class=None),
        publish=ActionConfig(serializer_class=NameSerializer, throttle_classes=[]),
    )

    @action(detail=True, methods=["post"])
    async def publish(self, request: Request, pk: str) -> Response:
        assert_type(await self.aget_object(), Product)
        return Response({})

    @publish.mapping.delete
    async def unpublish(self, request: Request, pk: str) -> Response:
        return Response({})


config = ActionConfig(queryset=Product.objects.all())
assert_type(config, ActionConfig[Product])


# -- must fail ---------------------------------------------------------------------------


class MisspeltAction(AsyncModelViewSet[Product, ProductSerializer]):
    action_configs = {"retreive": ActionConfig()}  # type: ignore[typeddict-unknown-key]  # pyright: ignore[reportAssignmentType]  # must fail: not an action


class ConfigOfAnotherModel(AsyncModelViewSet[Product, ProductSerializer]):
    action_configs = {"list": ActionConfig(queryset=Category.objects.all())}  # type: ignore[arg-type]  # pyright: ignore[reportAssignmentType]  # must fail: Category


class UnknownExtraKey(AsyncModelViewSet[Product, ProductSerializer]):
    action_configs = ProductActions(publsh=ActionConfig())  # type: ignore[typeddict-unknown-key]  # pyright: ignore[reportCallIssue]  # must fail


class ExtraConfigOfAnotherModel(AsyncModelViewSet[Product, ProductSerializer]):
    action_configs = ProductActions(publish=ActionConfig(serializer_class=CategorySerializer))  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]  # must fail: Category


class SerializerConfigOfAnotherModel(AsyncModelViewSet[Product, ProductSerializer]):
    action_configs = {"list": ActionConfig(serializer_class=CategorySerializer)}  # type: ignore[arg-type]  # pyright: ignore[reportAssignmentType]  # must fail: Category


class ResponseSerializerOfAnotherModel(AsyncModelViewSet[Product, ProductSerializer]):
    action_configs = {"create": ActionConfig(response_serializer_class=CategorySerializer)}  # type: ignore[arg-type]  # pyright: ignore[reportAssignmentType]  # must fail


def frozen(config: ActionConfig[Product]) -> None:
    config.pagination_class = None  # type: ignore[misc]  # pyright: ignore[reportAttributeAccessIssue]  # must fail: frozen
