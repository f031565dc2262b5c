"""restflow's own I/O-bound hooks join the check phase's flow: one hop for the phase."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.test import AsyncClient
from django.urls import path
from rest_framework.authtoken.models import Token
from rest_framework.request import Request
from rest_framework.response import Response

from restflow.authentication import TokenAuthentication
from restflow.permissions import DjangoModelPermissions
from restflow.test import hop_count
from restflow.views import AsyncAPIView
from tests.testapp.models import Product


class ProductsView(AsyncAPIView):
    authentication_classes = [TokenAuthentication]
    permission_classes = [DjangoModelPermissions]
    throttle_classes = []
    queryset = Product.objects.all()

    async def post(self, request: Request) -> Response:
        return Response({"user": request.user.get_username()}, status=201)


urlpatterns = [path("products", ProductsView.as_view())]
pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]


@pytest.fixture
def token() -> str:
    user = User.objects.create_user("clerk", password="pw")
    user.user_permissions.add(Permission.objects.get(codename="add_product"))
    key: str = Token.objects.create(user=user).key
    return key


async def test_token_auth_and_model_permissions_share_one_hop(token: str) -> None:
    client = AsyncClient()
    before = hop_count()
    response = await client.post(
        "/products",
        {},
        content_type="application/json",
        headers={"authorization": f"Token {token}"},
    )
    assert response.status_code == 201, response.content
    assert response.json() == {"user": "clerk"}
    # Token lookup and the permission query run in the same worker-thread hop.
    assert hop_count() - before == 1


async def test_denied_request_also_costs_one_hop(token: str) -> None:
    user = await User.objects.aget(username="clerk")
    await user.user_permissions.aclear()
    client = AsyncClient()
    before = hop_count()
    response: Any = await client.post(
        "/products",
        {},
        content_type="application/json",
        headers={"authorization": f"Token {token}"},
    )
    assert response.status_code == 403
    assert hop_count() - before == 1
