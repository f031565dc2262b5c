"""DRF's own test tools on restflow's views, as docs/guide/testing.md shows them.

DRF's ``force_authenticate`` on a request from restflow's factory, DRF's ``APIClient``
against async views, ``ViewSet.as_view({...})`` with an extra action, and DRF's
``ObtainAuthToken`` beside restflow's ``TokenAuthentication``.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.urls import include, path
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.test import APIClient, force_authenticate

from restflow.authentication import TokenAuthentication
from restflow.decorators import action
from restflow.permissions import IsAuthenticated
from restflow.serializers import ModelSerializer
from restflow.test import AsyncAPIRequestFactory
from restflow.views import AsyncModelViewSet
from tests.testapp.models import Product

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]


class ProductSerializer(ModelSerializer[Product]):
    class Meta:
        model = Product
        fields = ["id", "name", "price", "is_top"]


class ProductViewSet(AsyncModelViewSet[Product, ProductSerializer]):
    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    authentication_classes = [TokenAuthentication]
    permission_classes = [IsAuthenticated]
    throttle_classes = []
    pagination_class = None

    @action(detail=True, methods=["post"])
    async def promote(self, request: Request, pk: str) -> Response:
        product = await self.aget_object()
        product.is_top = True
        await product.asave(update_fields=["is_top"])
        return Response({"id": product.pk, "is_top": True})


router = DefaultRouter()
router.register("products", ProductViewSet)
urlpatterns = [
    path("api/token/", obtain_auth_token),
    path("api/", include(router.urls)),
]


async def test_drf_force_authenticate_on_a_restflow_factory_request(user: User) -> None:
    request = AsyncAPIRequestFactory().post(
        "/api/products/", {"name": "Pen", "price": "1.50"}, format="json"
    )
    force_authenticate(request, user=user)
    # drf-stubs type as_view()'s result as a sync view; restflow's async one is awaitable.
    view: Any = ProductViewSet.as_view({"post": "create"})
    response: Any = await view(request)
    assert response.status_code == 201
    assert response.data["name"] == "Pen"


def test_drf_api_client_against_async_views(user: User) -> None:
    client = APIClient()
    client.force_authenticate(user=user)
    response: Any = client.post("/api/products/", {"name": "Pen", "price": "1.50"}, format="json")
    assert response.status_code == 201
    listed: Any = client.get("/api/products/")
    assert [item["name"] for item in listed.json()] == ["Pen"]


async def test_viewset_as_view_with_an_extra_action(user: User) -> None:
    product = await Product.objects.acreate(name="Pen", price="1.50")
    request = AsyncAPIRequestFactory().post(f"/api/products/{product.pk}/promote/")
    force_authenticate(request, user=user)
    view: Any = ProductViewSet.as_view({"post": "promote"})
    response: Any = await view(request, pk=str(product.pk))
    assert (response.status_code, response.data) == (200, {"id": product.pk, "is_top": True})
    assert (await Product.objects.aget(pk=product.pk)).is_top


def test_drf_obtain_auth_token_feeds_restflow_token_authentication(user: User) -> None:
    client = APIClient()
    answer: Any = client.post(
        "/api/token/", {"username": "alice", "password": "alice-password"}, format="json"
    )
    assert answer.status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Token {answer.json()['token']}")
    response: Any = client.get("/api/products/")
    assert response.status_code == 200
    client.credentials(HTTP_AUTHORIZATION="Token wrong")
    assert client.get("/api/products/").status_code == 401
