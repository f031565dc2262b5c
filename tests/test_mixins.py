"""The model mixins' write path, hop budget, configuration and misconfiguration.

Writes are atomic (validate + save + render in one ``transaction.atomic`` block, in one
worker-thread hop on the async path); list and retrieve take one hop; the request checks
take none when every hook is pure. ``as_view`` initkwargs, ``pagination_class``'s default
and DRF's misconfiguration messages hold as in DRF.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any, cast

import pytest
from asgiref.sync import sync_to_async
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, connection
from django.urls import URLPattern, path
from rest_framework import generics as drf_generics
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny

from restflow.serializers import ModelSerializer
from restflow.test import hop_count
from restflow.views import (
    AsyncCreateAPIView,
    AsyncListAPIView,
    AsyncListCreateAPIView,
    AsyncRetrieveAPIView,
    AsyncRetrieveUpdateDestroyAPIView,
    CreateModelMixin,
    DestroyModelMixin,
    GenericAPIView,
    ListModelMixin,
    RetrieveModelMixin,
    UpdateModelMixin,
)
from tests._clients import CLIENTS, send
from tests.testapp.models import Product, Review

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]


def _class(name: str, bases: tuple[type[Any], ...], attrs: dict[str, Any]) -> Any:
    """A view class built at runtime (typed ``Any``: its base is a parameter)."""
    return type(name, bases, {"__module__": __name__, **attrs})


#: ``len(connection.atomic_blocks)`` seen by each hook, in order
DEPTHS: list[tuple[str, int]] = []


def depth() -> int:
    return len(connection.atomic_blocks)


@pytest.fixture(autouse=True)
def _fresh_depths() -> None:
    DEPTHS.clear()


class ProductSerializer(ModelSerializer[Product]):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Product
        fields = ["id", "name", "price", "url"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        DEPTHS.append(("validate", depth()))
        return attrs

    def get_url(self, obj: Product) -> str:
        DEPTHS.append(("render", depth()))
        return f"http://testserver/products/{obj.pk}/"


class TwoRowsSerializer(ModelSerializer[Product]):
    """``create`` writes a product, then a review that violates NOT NULL."""

    class Meta:
        model = Product
        fields = ["id", "name", "price"]

    def create(self, validated_data: dict[str, Any]) -> Product:
        product = super().create(validated_data)
        Review.objects.create(product=product, rating=cast(Any, None))  # NOT NULL: fails
        return product


OPEN: dict[str, Any] = {
    "queryset": Product.objects.all(),
    "serializer_class": ProductSerializer,
    "authentication_classes": [],
    "permission_classes": [AllowAny],
    "pagination_class": None,
}


class SyncCrud(
    ListModelMixin,
    CreateModelMixin,
    RetrieveModelMixin,
    UpdateModelMixin,
    DestroyModelMixin,
    GenericAPIView[Product, ProductSerializer],
):
    def get(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        return self.retrieve(request, *args, **kwargs) if kwargs else self.list(request)

    def post(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        return self.create(request, *args, **kwargs)

    def put(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        return self.update(request, *args, **kwargs)

    def patch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        return self.partial_update(request, *args, **kwargs)

    def delete(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        return self.destroy(request, *args, **kwargs)


class FailingHooks:
    """``perform_*`` that write, then refuse: nothing may be left behind."""

    def perform_create(self, serializer: Any) -> None:
        DEPTHS.append(("perform_create", depth()))
        serializer.save()
        raise ValidationError({"name": ["refused after saving"]})

    def perform_update(self, serializer: Any) -> None:
        serializer.save()
        raise ValidationError({"name": ["refused after saving"]})

    def perform_destroy(self, instance: Any) -> None:
        instance.delete()
        raise ValidationError({"detail": "refused after deleting"})


class AsyncCollection(AsyncListCreateAPIView[Product, ProductSerializer]):
    pass


class AsyncDetail(AsyncRetrieveUpdateDestroyAPIView[Product, ProductSerializer]):
    pass


class AsyncOwnTransaction(AsyncCreateAPIView[Product, ProductSerializer]):
    async def aperform_create(self, serializer: Any) -> None:
        DEPTHS.append(("aperform_create", await sync_to_async(depth)()))
        await serializer.asave()


VIEWS: dict[str, dict[str, Any]] = {
    "sync": {"list": SyncCrud, "detail": SyncCrud},
    "async": {"list": AsyncCollection, "detail": AsyncDetail},
}
urlpatterns: list[URLPattern] = []
for _kind, _views in VIEWS.items():
    urlpatterns += [
        path(f"{_kind}/", _views["list"].as_view(**OPEN)),
        path(f"{_kind}/<int:pk>/", _views["detail"].as_view(**OPEN)),
        path(f"{_kind}/failing/", _class("F", (FailingHooks, _views["list"]), OPEN).as_view()),
        path(
            f"{_kind}/failing/<int:pk>/",
            _class("F", (FailingHooks, _views["detail"]), OPEN).as_view(),
        ),
        path(
            f"{_kind}/two-rows/",
            _views["list"].as_view(**OPEN | {"serializer_class": TwoRowsSerializer}),
        ),
    ]
urlpatterns += [
    path("async/own-transaction/", AsyncOwnTransaction.as_view(**OPEN)),
    path("async/no-checks/", AsyncListAPIView.as_view(**OPEN | {"permission_classes": []})),
]

kinds = pytest.mark.parametrize("kind", ["sync", "async"])
clients = pytest.mark.parametrize("client", CLIENTS)
_NEW = '{"name": "quince", "price": "4.50"}'


@pytest.fixture
def pear(db: None) -> Product:
    return Product.objects.create(name="pear", price="2.00")


# -- atomic writes ------------------------------------------------------------------


@kinds
@clients
def test_create_validates_saves_and_renders_in_one_atomic_block(client: str, kind: str) -> None:
    baseline = depth()
    response = send(client, "post", f"/{kind}/", body=_NEW)
    assert response.status_code == 201
    assert [("validate", baseline + 1), ("render", baseline + 1)] == DEPTHS


@kinds
@clients
def test_update_validates_saves_and_renders_in_one_atomic_block(
    client: str, kind: str, pear: Product
) -> None:
    baseline = depth()
    response = send(client, "put", f"/{kind}/{pear.pk}/", body=_NEW)
    assert response.status_code == 200
    assert [("validate", baseline + 1), ("render", baseline + 1)] == DEPTHS


@kinds
@clients
def test_a_create_refused_after_saving_leaves_no_row(client: str, kind: str) -> None:
    baseline = depth()
    response = send(client, "post", f"/{kind}/failing/", body=_NEW)
    assert response.status_code == 400
    assert response.data == {"name": ["refused after saving"]}
    assert ("perform_create", baseline + 1) in DEPTHS
    assert not Product.objects.exists()


@kinds
@clients
def test_an_update_refused_after_saving_changes_nothing(
    client: str, kind: str, pear: Product
) -> None:
    response = send(client, "put", f"/{kind}/failing/{pear.pk}/", body=_NEW)
    assert response.status_code == 400
    pear.refresh_from_db()
    assert pear.name == "pear"


@kinds
@clients
def test_a_destroy_refused_after_deleting_keeps_the_row(
    client: str, kind: str, pear: Product
) -> None:
    response = send(client, "delete", f"/{kind}/failing/{pear.pk}/")
    assert response.status_code == 400
    assert Product.objects.filter(pk=pear.pk).exists()


@kinds
@clients
def test_a_serializer_failing_on_its_second_write_leaves_no_row(client: str, kind: str) -> None:
    with pytest.raises(IntegrityError):
        send(client, "post", f"/{kind}/two-rows/", body=_NEW)
    assert not Product.objects.exists()
    assert not Review.objects.exists()


@clients
def test_an_async_perform_override_owns_its_transaction(client: str) -> None:
    baseline = depth()
    response = send(client, "post", "/async/own-transaction/", body=_NEW)
    assert response.status_code == 201
    assert ("aperform_create", baseline) in DEPTHS


# -- the hop budget -----------------------------------------------------------------


@clients
@pytest.mark.parametrize(
    ("method", "suffix", "body", "status"),
    [
        ("get", "", "", 200),
        ("get", "{pk}/", "", 200),
        ("get", "999/", "", 404),
        ("post", "", _NEW, 201),
        ("post", "", '{"price": "x"}', 400),
        ("put", "{pk}/", _NEW, 200),
        ("patch", "{pk}/", '{"price": "1.00"}', 200),
        ("delete", "{pk}/", "", 204),
    ],
)
def test_each_action_takes_one_hop(
    client: str, method: str, suffix: str, body: str, status: int, pear: Product
) -> None:
    before = hop_count()
    response = send(client, method, "/async/" + suffix.format(pk=pear.pk), body=body)
    assert response.status_code == status
    assert hop_count() - before == 1


@clients
def test_pure_checks_take_no_hop(client: str) -> None:
    # No authenticators and no permissions: the only hop is the list itself.
    before = hop_count()
    assert send(client, "get", "/async/no-checks/").status_code == 200
    assert hop_count() - before == 1


# -- as_view, pagination default, misconfiguration ----------------------------------


@pytest.mark.parametrize("base", [AsyncListAPIView, GenericAPIView, drf_generics.ListAPIView])
def test_as_view_rejects_unknown_initkwargs(base: type[Any]) -> None:
    with pytest.raises(TypeError, match="as_view only accepts arguments"):
        base.as_view(querysets=Product.objects.all())
    with pytest.raises(TypeError, match="method name get is not accepted"):
        base.as_view(get=None)


def test_pagination_class_defaults_to_the_setting() -> None:
    # DRF reads DEFAULT_PAGINATION_CLASS when the class is defined: check in a fresh process.
    code = (
        "import django; from django.conf import settings; "
        "settings.configure(INSTALLED_APPS=['django.contrib.contenttypes', "
        "'django.contrib.auth', 'rest_framework'], REST_FRAMEWORK={"
        "'DEFAULT_PAGINATION_CLASS': 'rest_framework.pagination.LimitOffsetPagination'}); "
        "django.setup(); "
        "from rest_framework.pagination import LimitOffsetPagination as L; "
        "from restflow import views as v; "
        "classes = [v.AsyncGenericAPIView, v.GenericAPIView, v.AsyncListAPIView, "
        "v.AsyncModelViewSet, v.ModelViewSet, v.AsyncAPIView, v.APIView]; "
        "assert all(c.pagination_class is L for c in classes), classes"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": ""}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


MISCONFIGURED: dict[str, tuple[str, dict[str, Any]]] = {
    "no-queryset": ("<int:pk>/", {"serializer_class": ProductSerializer}),
    "no-serializer": ("<int:pk>/", {"queryset": Product.objects.all()}),
    "no-lookup-kwarg": ("<int:id>/", {**OPEN}),
}
_MISCONFIGURED_BASES: dict[str, type[Any]] = {
    "drf": drf_generics.RetrieveAPIView,
    "sync": SyncCrud,
    "async": AsyncRetrieveAPIView,
}
for _case, (_route, _attrs) in MISCONFIGURED.items():
    for _kind, _base in _MISCONFIGURED_BASES.items():
        _view = _class("Misconfigured", (_base,), {"pagination_class": None, **_attrs})
        urlpatterns.append(path(f"{_kind}/{_case}/{_route}", _view.as_view()))


@kinds
@clients
@pytest.mark.parametrize("case", MISCONFIGURED)
def test_misconfiguration_raises_drf_s_message(
    case: str, client: str, kind: str, pear: Product
) -> None:
    with pytest.raises(AssertionError) as drf_raised:
        send(client, "get", f"/drf/{case}/{pear.pk}/")
    expected = str(drf_raised.value)
    assert "Misconfigured" in expected
    with pytest.raises(ImproperlyConfigured) as raised:
        send(client, "get", f"/{kind}/{case}/{pear.pk}/")
    assert str(raised.value) == expected
