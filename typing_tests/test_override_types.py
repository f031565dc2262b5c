"""``@override`` accepts restflow's async twins, declared on the classes that honour them."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework.request import Request
from rest_framework.serializers import BaseSerializer
from typing_extensions import override

from restflow.permissions import IsAuthenticated
from restflow.serializers import ModelSerializer
from restflow.views import AsyncAPIView, AsyncModelViewSet
from tests.testapp.models import Product


class ProductSerializer(ModelSerializer[Product]):
    class Meta:
        model = Product
        fields = ["id", "name", "price"]


class ProductViewSet(AsyncModelViewSet[Product, ProductSerializer]):
    queryset = Product.objects.all()
    serializer_class = ProductSerializer

    @override
    async def aget_queryset(self) -> QuerySet[Product]:
        return Product.objects.all()

    @override
    async def aget_object(self) -> Product:
        return await Product.objects.aget(pk=self.kwargs["pk"])

    @override
    async def afilter_queryset(self, queryset: QuerySet[Product, Any]) -> QuerySet[Product, Any]:
        return queryset

    @override
    async def apaginate_queryset(self, queryset: Any) -> list[Any] | None:
        return None

    @override
    async def aget_serializer_class(self) -> type[ProductSerializer]:
        return ProductSerializer

    @override
    async def aget_serializer_context(self) -> dict[str, Any]:
        return {"view": self}

    @override
    async def aget_serializer(self, *args: Any, **kwargs: Any) -> ProductSerializer:
        return ProductSerializer(*args, **kwargs)

    @override
    async def aperform_create(self, serializer: BaseSerializer[Any]) -> None:
        await Product.objects.acreate(**serializer.validated_data)

    @override
    async def aperform_update(self, serializer: BaseSerializer[Any]) -> None:
        await Product.objects.filter(pk=self.kwargs["pk"]).aupdate(**serializer.validated_data)

    @override
    async def aperform_destroy(self, instance: Product) -> None:
        await instance.adelete()


class Checks(AsyncAPIView):
    @override
    async def acheck_permissions(self, request: Request) -> None:
        return None

    @override
    async def ahandle_exception(self, exc: Exception) -> Any:
        raise exc


class StaffOnly(IsAuthenticated):
    @override
    async def ahas_permission(self, request: Request, view: Any) -> bool:
        return True


# -- must fail ---------------------------------------------------------------------------


class Misspelt(AsyncModelViewSet[Product, ProductSerializer]):
    @override
    async def aget_querset(self) -> QuerySet[Product]:  # type: ignore[misc]  # pyright: ignore[reportGeneralTypeIssues]  # must fail: no such twin
        return Product.objects.all()
