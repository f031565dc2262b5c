"""Types of ``@action``, ``as_view()`` and ``restflow.test`` (``AsyncAPITestCase``,
``force_authenticate``)."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, assert_type

from django.contrib.auth.models import User
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from rest_framework.request import Request
from rest_framework.response import Response
from typing_extensions import override

from restflow.decorators import ActionMapping, ActionMethod, BoundActionMethod, action
from restflow.serializers import ModelSerializer
from restflow.test import AsyncAPIClient, AsyncAPITestCase, force_authenticate
from restflow.views import AsyncAPIView, AsyncModelViewSet, AsyncRetrieveAPIView
from tests.testapp.models import Product


class ProductSerializer(ModelSerializer[Product]):
    class Meta:
        model = Product
        fields = ["id", "name"]


class ProductViewSet(AsyncModelViewSet[Product, ProductSerializer]):
    queryset = Product.objects.all()
    serializer_class = ProductSerializer

    @action(detail=True, methods=["post"], url_path="go-live")
    async def publish(self, request: Request, pk: str) -> Response:
        assert_type(await self.aget_object(), Product)
        return Response({})

    @publish.mapping.delete
    async def unpublish(self, request: Request, pk: str) -> Response:
        return Response({})

    @action(["get"], False)
    def top(self, request: Request) -> Response:
        return Response({})


async def actions(view: ProductViewSet, request: Request) -> None:
    assert_type(await view.publish(request, "1"), Response)
    assert_type(view.top(request), Response)
    assert_type(view.publish.url_name, str)
    assert_type(ProductViewSet.publish.detail, bool)
    assert_type(ProductViewSet.publish.mapping, ActionMapping)
    assert_type(ProductViewSet.publish.kwargs, dict[str, Any])
    publish: ActionMethod[ProductViewSet, ..., Coroutine[Any, Any, Response]]
    publish = ProductViewSet.publish
    top: BoundActionMethod[..., Response] = view.top


class ProductDetail(AsyncRetrieveAPIView[Product, ProductSerializer]):
    queryset = Product.objects.all()
    serializer_class = ProductSerializer


class Health(AsyncAPIView):
    async def get(self, request: Request) -> Response:
        return Response({})


async def views(request: HttpRequest) -> None:
    assert_type(await ProductDetail.as_view()(request, pk=1), HttpResponseBase)
    assert_type(await Health.as_view()(request), HttpResponseBase)
    assert_type(await ProductViewSet.as_view({"get": "list"})(request), HttpResponseBase)
    assert_type(Health.as_view().view_class, type[AsyncAPIView])


class ProductTests(AsyncAPITestCase):
    async def test_it(self) -> None:
        assert_type(self.async_client, AsyncAPIClient)
        user = await User.objects.acreate(username="a")
        self.async_client.force_authenticate(user=user)
        response = await self.async_client.get("/products/")
        assert_type(response.status_code, int)


def force(request: HttpRequest, user: User) -> None:
    assert_type(force_authenticate(request, user=user, token="t"), None)
    force_authenticate(request)


# -- must fail ---------------------------------------------------------------------------


class NotAResponse(AsyncModelViewSet[Product, ProductSerializer]):
    @action(detail=True)  # type: ignore[type-var]  # pyright: ignore[reportArgumentType]  # must fail: not a response
    async def publish(self, request: Request) -> dict[str, int]:
        return {}


class NoDetail(AsyncModelViewSet[Product, ProductSerializer]):
    @action(methods=["get"])  # type: ignore[call-overload, untyped-decorator]  # pyright: ignore[reportCallIssue]  # must fail: detail
    async def publish(self, request: Request) -> Response:
        return Response({})


class UnknownMethod(AsyncModelViewSet[Product, ProductSerializer]):
    @action(detail=True, methods=["fetch"])  # type: ignore[list-item]  # pyright: ignore[reportCallIssue, reportArgumentType]  # must fail: not an HTTP method
    async def publish(self, request: Request) -> Response:
        return Response({})


async def unawaited(request: HttpRequest, view: ProductViewSet, drf_request: Request) -> None:
    response: HttpResponseBase = Health.as_view()(request)  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]  # must fail: a coroutine
    result: Response = view.publish(drf_request, "1")  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]  # must fail: a coroutine
    view.publish.mapping.post("not a function")  # type: ignore[type-var]  # pyright: ignore[reportArgumentType]  # must fail


class MisspeltHook(AsyncModelViewSet[Product, ProductSerializer]):
    @override
    def perform_creat(self, serializer: ProductSerializer) -> None:  # type: ignore[misc]  # pyright: ignore[reportGeneralTypeIssues]  # must fail: no such hook
        serializer.save()


def misspelt(case: ProductTests) -> None:
    case.async_client.force_authenticat()  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue]  # must fail


def unused(*values: Any) -> None:
    del values
