"""Object permissions are checked on the async lookup; a sync one may query the database."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, include, path
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from restflow.views import (
    AsyncGenericViewSet,
    AsyncRetrieveUpdateDestroyAPIView,
)
from tests._clients import send
from tests.overrides.support import (
    ProductSerializer,
    clients,
    off_loop,
    record,
)
from tests.testapp.models import Product, Review

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]


# -- object permissions ---------------------------------------------------------------


class HasReviews(BasePermission):
    """A sync object permission that queries the database."""

    message = "Reviewed products only."

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        record("has_object_permission")
        return Review.objects.filter(product=obj).exists()


class ReviewedOnly(AsyncRetrieveUpdateDestroyAPIView[Product, ProductSerializer]):
    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    authentication_classes = ()
    permission_classes = [HasReviews]


class ReviewedOnlyAction(AsyncGenericViewSet[Product, ProductSerializer]):
    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    authentication_classes = ()
    permission_classes = [HasReviews]

    async def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return await self.aserialized_response(await self.aget_object())


router = SimpleRouter()


router = SimpleRouter()
router.register("reviewed-action", ReviewedOnlyAction, basename="reviewed-action")

urlpatterns: list[URLPattern | URLResolver] = [
    path("", include(router.urls)),
    path("reviewed/<int:pk>/", ReviewedOnly.as_view()),
]


# -- object permissions ---------------------------------------------------------------


@clients
@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_object_permissions_are_checked_on_the_async_lookup(
    method: str, client: str, catalogue: dict[str, Product]
) -> None:
    pear, leek = catalogue["pear"], catalogue["leek"]
    Review.objects.create(product=leek, rating=5)
    body = '{"name": "x", "price": "1.00"}'
    denied = send(client, method, f"/reviewed/{pear.pk}/", body=body)
    assert denied.status_code == 403
    assert denied.data == {"detail": "Reviewed products only."}
    allowed = send(client, method, f"/reviewed/{leek.pk}/", body=body)
    assert allowed.status_code == (204 if method == "delete" else 200)
    off_loop("has_object_permission")


@clients
def test_aget_object_checks_object_permissions(client: str, catalogue: dict[str, Product]) -> None:
    pear, leek = catalogue["pear"], catalogue["leek"]
    Review.objects.create(product=leek, rating=5)
    assert send(client, "get", f"/reviewed-action/{pear.pk}/").status_code == 403
    assert send(client, "get", f"/reviewed-action/{leek.pk}/").status_code == 200
    off_loop("has_object_permission")
