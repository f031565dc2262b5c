"""A DRF-style ``get_serializer(self, *args, **kwargs)`` override keeps working with the helpers."""

from typing import Any

import pytest
from django.urls import path
from rest_framework import serializers

from restflow.views import AsyncListCreateAPIView
from tests.testapp.models import Product


class PS(serializers.ModelSerializer[Product]):
    class Meta:
        model = Product
        fields = ["id", "name", "price"]


class V(AsyncListCreateAPIView[Product, PS]):
    pagination_class = None
    queryset = Product.objects.all()
    serializer_class = PS
    authentication_classes = []
    permission_classes = []

    def get_serializer(self, *args: Any, **kwargs: Any) -> PS:
        kwargs.setdefault("context", self.get_serializer_context())
        return PS(*args, **kwargs)


urlpatterns = [path("p", V.as_view())]
pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]


async def test_drf_style_get_serializer_override(async_client: Any) -> None:
    r = await async_client.post(
        "/p", {"name": "a", "price": "1.00"}, content_type="application/json"
    )
    assert r.status_code == 201, r.content
    assert r.json()["name"] == "a"
    r = await async_client.get("/p")
    assert r.status_code == 200
    assert [row["name"] for row in r.json()] == ["a"]
