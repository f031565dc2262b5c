"""A user's sync overrides of DRF's hooks run in a worker thread, never on the loop."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

import pytest
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.urls import URLPattern, URLResolver, include, path
from rest_framework import generics as drf_generics
from rest_framework.authentication import BasicAuthentication
from rest_framework.filters import BaseFilterBackend
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from restflow.generics import get_object_or_404
from restflow.views import (
    AsyncGenericViewSet,
    AsyncListCreateAPIView,
    AsyncModelViewSet,
    AsyncRetrieveAPIView,
)
from tests._clients import outcome, send
from tests.overrides.support import (
    ALICE,
    ProductSerializer,
    clients,
    off_loop,
    record,
)
from tests.testapp.models import Product
from tests.testapp.serializers import ProductNameSerializer

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]


# -- sync overrides of every DRF hook -------------------------------------------------


class CategoryFilter(BaseFilterBackend):
    def filter_queryset(self, request: Request, queryset: QuerySet[Any], view: Any) -> Any:
        category = request.query_params.get("category")
        return queryset.filter(category__name=category) if category else queryset


class TopFilter(BaseFilterBackend):
    def filter_queryset(self, request: Request, queryset: QuerySet[Any], view: Any) -> Any:
        return queryset.filter(is_top=True)


class OwnedProducts(AsyncModelViewSet[Product, ProductSerializer]):
    """Sync overrides everywhere (DRF's documented examples)."""

    serializer_class = ProductSerializer
    authentication_classes = [BasicAuthentication]
    permission_classes = [IsAuthenticated]
    pagination_class = None

    def get_queryset(self) -> QuerySet[Product]:
        record("get_queryset")
        return Product.objects.filter(owner=cast(User, self.request.user))

    def filter_queryset(self, queryset: QuerySet[Product, Any]) -> QuerySet[Product, Any]:
        # The spec's example: the backends depend on the query.
        record("filter_queryset")
        backends: tuple[type[BaseFilterBackend], ...] = (CategoryFilter,)
        if "top" in self.request.query_params:
            backends = (TopFilter, CategoryFilter)
        for backend in backends:
            queryset = backend().filter_queryset(self.request, queryset, view=self)
        return queryset

    def get_serializer_class(self) -> type[ProductSerializer]:
        record("get_serializer_class")
        if self.action == "list":
            return ProductNameSerializer  # type: ignore[return-value]  # a narrower shape for lists
        return ProductSerializer

    def get_serializer_context(self) -> dict[str, Any]:
        record("get_serializer_context")
        return {**super().get_serializer_context(), "greeting": f"hi {self.request.user}"}

    def perform_create(self, serializer: Any) -> None:
        record("perform_create")
        serializer.save(owner=self.request.user)

    def perform_update(self, serializer: Any) -> None:
        record("perform_update")
        serializer.save(is_top=True)

    def perform_destroy(self, instance: Product) -> None:
        # Soft delete: keep the row, disown it.
        record("perform_destroy")
        instance.owner = None
        instance.save()


class MultipleFieldLookupMixin:
    """The spec's mixin, verbatim in behaviour."""

    lookup_fields: tuple[str, ...] = ()

    def get_object(self) -> Any:
        record("get_object")
        view: Any = self
        queryset = view.get_queryset()
        queryset = view.filter_queryset(queryset)
        filter = {}
        for field in self.lookup_fields:
            if view.kwargs[field]:
                filter[field] = view.kwargs[field]
        obj = get_object_or_404(queryset, **filter)
        view.check_object_permissions(view.request, obj)
        return obj


class DrfByCategoryAndName(MultipleFieldLookupMixin, drf_generics.RetrieveAPIView[Product]):
    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    lookup_fields = ("category", "name")
    authentication_classes = ()
    permission_classes = ()


class ByCategoryAndName(MultipleFieldLookupMixin, AsyncRetrieveAPIView[Product, ProductSerializer]):
    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    lookup_fields = ("category", "name")
    authentication_classes = ()
    permission_classes = ()


class LookupFromAsyncAction(
    MultipleFieldLookupMixin, AsyncGenericViewSet[Product, ProductSerializer]
):
    """A hand-written async action calling ``aget_object``: the sync override still applies."""

    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    lookup_fields = ("category", "name")
    authentication_classes = ()
    permission_classes = ()

    async def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return await self.aserialized_response(await self.aget_object())


class OnePage(PageNumberPagination):
    page_size = 1


class AsyncTwinsHonourSyncOverrides(AsyncGenericViewSet[Product, ProductSerializer]):
    """A hand-written async ``list`` calling the async twins of sync-overridden hooks."""

    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    pagination_class = OnePage
    authentication_classes = ()
    permission_classes = ()

    def filter_queryset(self, queryset: QuerySet[Product, Any]) -> QuerySet[Product, Any]:
        record("filter_queryset")
        return queryset.filter(is_top=True)

    def paginate_queryset(self, queryset: Any) -> list[Any] | None:
        record("paginate_queryset")
        return list(queryset.order_by("-name"))

    async def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = await self.afilter_queryset(self.get_queryset())
        page = await self.apaginate_queryset(queryset)
        assert page is not None
        return Response([product.name for product in page])


class CustomPages(AsyncListCreateAPIView[Product, ProductSerializer]):
    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    pagination_class = OnePage
    authentication_classes = ()
    permission_classes = ()

    def paginate_queryset(self, queryset: Any) -> list[Any] | None:
        record("paginate_queryset")
        return list(queryset.order_by("-name")[:2])

    def get_paginated_response(self, data: Any) -> Response:
        record("get_paginated_response")
        return Response({"custom": True, "items": data})


class SyncActions(AsyncListCreateAPIView[Product, ProductSerializer]):
    """Sync ``list``/``create`` overriding the async mixins' actions on a concrete view."""

    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    authentication_classes = ()
    permission_classes = ()

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:  # type: ignore[override]  # a sync action on an async view is allowed
        record("list")
        return Response({"names": [product.name for product in self.get_queryset()]})

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:  # type: ignore[override]  # a sync action on an async view is allowed
        record("create")
        return Response({"created": False}, status=202)


class SyncActionsViewSet(AsyncModelViewSet[Product, ProductSerializer]):
    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    authentication_classes = ()
    permission_classes = ()

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:  # type: ignore[override]  # a sync action on an async viewset is allowed
        record("list")
        return Response({"names": [product.name for product in self.get_queryset()]})

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:  # type: ignore[override]  # a sync action on an async viewset is allowed
        record("partial_update")
        return Response({"partial": True})


router = SimpleRouter()
router.register("owned", OwnedProducts, basename="owned")
router.register("by-lookup", LookupFromAsyncAction, basename="by-lookup")
router.register("sync-actions-viewset", SyncActionsViewSet, basename="sync-actions")
router.register("twins", AsyncTwinsHonourSyncOverrides, basename="twins")

urlpatterns: list[URLPattern | URLResolver] = [
    path("", include(router.urls)),
    path("drf/lookup/<int:category>/<str:name>/", DrfByCategoryAndName.as_view()),
    path("lookup/<int:category>/<str:name>/", ByCategoryAndName.as_view()),
    path(
        "lookup-action/<int:category>/<str:name>/",
        LookupFromAsyncAction.as_view({"get": "retrieve"}),
    ),
    path("custom-pages/", CustomPages.as_view()),
    path("sync-actions/", SyncActions.as_view()),
]


@clients
def test_sync_get_queryset_and_filter_queryset_run_in_a_thread(
    client: str, catalogue: dict[str, Product]
) -> None:
    response = send(client, "get", "/owned/", headers=ALICE)
    assert response.data == [{"name": "apple"}, {"name": "pear"}, {"name": "leek"}]
    response = send(client, "get", "/owned/?category=veg&top", headers=ALICE)
    assert response.data == [{"name": "leek"}]
    off_loop("get_queryset", "filter_queryset", "get_serializer_class")


@clients
def test_sync_get_queryset_scopes_the_lookup(client: str, catalogue: dict[str, Product]) -> None:
    assert send(client, "get", f"/owned/{catalogue['kale'].pk}/", headers=ALICE).status_code == 404
    response = send(client, "get", f"/owned/{catalogue['pear'].pk}/", headers=ALICE)
    assert response.status_code == 200
    off_loop("get_queryset")


@clients
def test_sync_serializer_class_and_context_apply_per_action(
    client: str, catalogue: dict[str, Product]
) -> None:
    response = send(client, "get", f"/owned/{catalogue['pear'].pk}/", headers=ALICE)
    assert response.data == {
        "id": catalogue["pear"].pk,
        "name": "pear",
        "price": "2.00",
        "greeting": "hi alice",
    }
    off_loop("get_serializer_class", "get_serializer_context")


@clients
def test_sync_perform_hooks_run_in_a_thread(
    client: str, user: User, catalogue: dict[str, Product]
) -> None:
    body = '{"name": "fig", "price": "5.00"}'
    created = send(client, "post", "/owned/", body=body, headers=ALICE)
    assert created.status_code == 201
    assert created.data["greeting"] == "hi alice"
    assert Product.objects.get(name="fig").owner == user
    pear = catalogue["pear"]
    updated = send(client, "patch", f"/owned/{pear.pk}/", body='{"price": "9.00"}', headers=ALICE)
    assert updated.status_code == 200
    pear.refresh_from_db()
    assert (pear.price, pear.is_top) == (Decimal("9.00"), True)
    assert send(client, "delete", f"/owned/{pear.pk}/", headers=ALICE).status_code == 204
    pear.refresh_from_db()
    assert pear.owner is None
    off_loop("perform_create", "perform_update", "perform_destroy")


@clients
def test_multiple_field_lookup_mixin_matches_drf(
    client: str, catalogue: dict[str, Product]
) -> None:
    fruit = catalogue["pear"].category
    assert fruit is not None
    for name in ("pear", "leek"):
        expected = send(client, "get", f"/drf/lookup/{fruit.pk}/{name}/")
        actual = send(client, "get", f"/lookup/{fruit.pk}/{name}/")
        assert outcome(actual) == outcome(expected)
        assert actual.status_code == (200 if name == "pear" else 404)
    off_loop("get_object")


@clients
def test_aget_object_honours_a_sync_get_object_override(
    client: str, catalogue: dict[str, Product]
) -> None:
    fruit = catalogue["pear"].category
    assert fruit is not None
    response = send(client, "get", f"/lookup-action/{fruit.pk}/pear/")
    assert response.status_code == 200
    assert response.data["name"] == "pear"
    assert send(client, "get", f"/lookup-action/{fruit.pk}/leek/").status_code == 404
    off_loop("get_object")


@clients
def test_sync_paginate_queryset_and_get_paginated_response(
    client: str, catalogue: dict[str, Product]
) -> None:
    response = send(client, "get", "/custom-pages/")
    assert response.status_code == 200
    assert response.data["custom"] is True
    assert [item["name"] for item in response.data["items"]] == ["pear", "leek"]
    off_loop("paginate_queryset", "get_paginated_response")


@clients
def test_async_twins_honour_sync_overrides(client: str, catalogue: dict[str, Product]) -> None:
    assert send(client, "get", "/twins/").data == ["leek", "apple"]
    off_loop("filter_queryset", "paginate_queryset")


@clients
def test_sync_actions_on_an_async_concrete_view(client: str, catalogue: dict[str, Product]) -> None:
    response = send(client, "get", "/sync-actions/")
    assert response.data == {"names": ["apple", "pear", "leek", "kale"]}
    response = send(client, "post", "/sync-actions/", body="{}")
    assert (response.status_code, response.data) == (202, {"created": False})
    off_loop("list", "create")


@clients
def test_sync_actions_on_an_async_viewset(client: str, catalogue: dict[str, Product]) -> None:
    response = send(client, "get", "/sync-actions-viewset/")
    assert response.data == {"names": ["apple", "pear", "leek", "kale"]}
    pk = catalogue["pear"].pk
    response = send(client, "patch", f"/sync-actions-viewset/{pk}/", body="{}")
    assert response.data == {"partial": True}
    off_loop("list", "partial_update")
