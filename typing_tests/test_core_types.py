"""What users see: the types of restflow's serializers, views, helpers and ``@api_view``.

Checked by mypy (``warn_unused_ignores``) and basedpyright, never run. Lines marked
``# type: ignore[code]  # pyright: ignore[rule]`` must fail to type-check in both: if one
stops failing, mypy reports the ignore as unused, basedpyright reports its own as
unnecessary (``reportUnnecessaryTypeIgnoreComment`` for ``typing_tests/``, where it also
disregards ``# type: ignore``), and CI fails.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, TypedDict, assert_type

from django.db.models import QuerySet
from django.http.response import HttpResponseBase
from django.urls import path
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from restflow.decorators import AsyncViewFunction, SyncViewFunction, api_view
from restflow.protocols import AsyncBasePermission
from restflow.serializers import ModelSerializer, Serializer
from restflow.views import APIView, AsyncAPIView
from tests.testapp.models import Product
from tests.testapp.serializers import ProductIn, ProductOut


class CreateIn(TypedDict):
    name: str


# restflow's ModelSerializer accepts any ``class Meta`` in pyright too (drf-stubs' own
# ``ModelSerializer.Meta`` made each one an incompatible override there).
class ProductSerializer(ModelSerializer[Product, ProductIn, ProductOut]):
    class Meta:
        model = Product
        fields = ["id", "name", "price"]


class ProductCreateSerializer(ModelSerializer[Product, CreateIn, ProductOut]):
    class Meta:
        model = Product
        fields = ["name"]


class Untyped(Serializer):
    name = serializers.CharField()


# -- serializers --------------------------------------------------------------------------


def serializer_types(serializer: ProductSerializer, untyped: Untyped) -> None:
    assert_type(serializer.is_valid(), bool)
    assert_type(serializer.validated_data, ProductIn)
    assert_type(serializer.validated_data["price"], Decimal)
    assert_type(serializer.data, ProductOut)
    assert_type(serializer.save(), Product)
    # Unparametrised: DRF's dict shape.
    assert_type(untyped.validated_data, dict[str, Any])
    assert_type(untyped.data, dict[str, Any])


async def async_serializer_types(serializer: ProductSerializer) -> None:
    assert_type(await serializer.ais_valid(raise_exception=True), bool)
    assert_type(await serializer.asave(), Product)
    assert_type(await serializer.adata(), ProductOut)


def misspelt_key(serializer: ProductSerializer) -> None:
    serializer.validated_data["prize"]  # type: ignore[typeddict-item]  # pyright: ignore[reportGeneralTypeIssues]


async def missing_await(serializer: ProductSerializer) -> None:
    serializer.asave()  # type: ignore[unused-coroutine]  # pyright: ignore[reportUnusedCoroutine]
    product: Product = serializer.asave()  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
    body: ProductOut = serializer.adata()  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]


# -- views and helpers ----------------------------------------------------------------------


class SplitView(AsyncAPIView[ProductSerializer, ProductCreateSerializer, ProductSerializer]):
    serializer_class = ProductSerializer
    request_serializer_class = ProductCreateSerializer

    async def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = await self.avalidated_serializer()
        assert_type(serializer, ProductCreateSerializer)
        assert_type(serializer.validated_data, CreateIn)
        product = await serializer.asave()
        assert_type(product, Product)
        assert_type(self.get_serializer(), ProductSerializer)
        assert_type(self.get_serializer_class(), type[ProductSerializer])
        assert_type(self.get_request_serializer_class(), type[ProductCreateSerializer])
        assert_type(self.get_response_serializer_class(), type[ProductSerializer])
        explicit = await self.avalidated_serializer(serializer_class=Untyped)
        assert_type(explicit, Untyped)
        return await self.aserialized_response(product, status=201)

    async def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset: QuerySet[Product] = Product.objects.all()
        return await self.apaginated_response(queryset)

    async def put(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        unawaited = self.avalidated_serializer()
        unawaited.validated_data  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue]
        return Response()


class SyncView(APIView[ProductSerializer]):
    serializer_class = ProductSerializer

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.validated_serializer()
        assert_type(serializer, ProductSerializer)
        assert_type(serializer.validated_data, ProductIn)
        assert_type(serializer.save(), Product)
        response = self.serialized_response(serializer.instance, status=201, headers={"X": "1"})
        assert_type(response, Response)
        assert_type(self.paginated_response(Product.objects.all()), Response)
        return response


async def helper_types(view: AsyncAPIView[ProductSerializer]) -> None:
    assert_type(await view.avalidated_serializer(), ProductSerializer)
    assert_type(await view.aserialized_response(None, many=True), Response)
    assert_type(await view.apaginated_response([]), Response)


class SyncGetOnAsyncView(AsyncAPIView):
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:  # type: ignore[override]  # pyright: ignore[reportIncompatibleMethodOverride]
        return Response()


class HandlerReturnsDict(AsyncAPIView):
    async def get(self, request: Request, *args: Any, **kwargs: Any) -> dict[str, int]:  # type: ignore[override]  # pyright: ignore[reportIncompatibleMethodOverride]
        return {"id": 1}


class SyncHandlerReturnsDict(APIView):
    def get(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:
        return {"id": 1}  # type: ignore[return-value]  # pyright: ignore[reportReturnType]


class SyncAsyncPermission(AsyncBasePermission):
    def ahas_permission(self, request: Request, view: Any) -> bool:  # type: ignore[override]  # pyright: ignore[reportIncompatibleMethodOverride]
        return True


# -- @api_view --------------------------------------------------------------------------------


@api_view(["GET"])
async def async_function(request: Request, pk: int) -> Response:
    return Response({"pk": pk})


@api_view(["GET"])
def sync_function(request: Request, pk: int) -> Response:
    return Response({"pk": pk})


async_view: AsyncViewFunction[[int], Response] = async_function
sync_view: SyncViewFunction[[int], Response] = sync_function
assert_type(async_function.cls, type[AsyncAPIView])
assert_type(sync_function.cls, type[APIView])
urlpatterns = [path("a/<int:pk>/", async_function), path("s/<int:pk>/", sync_function)]
