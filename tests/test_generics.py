"""The nine concrete generic views answer exactly as DRF's.

Each concrete view is declared three times: on DRF's class, on restflow's async class, and as
restflow's sync ``GenericAPIView`` composed with the sync mixins. Every request is sent to
DRF's view and to restflow's (through DRF's ``APIClient`` and Django's ASGI ``AsyncClient``),
each inside a savepoint that is rolled back, so both see the same rows; status, JSON body,
DRF's headers and the rows left behind must be identical (ids normalised, since a PostgreSQL
sequence does not roll back).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction
from django.urls import URLPattern, path
from rest_framework import generics as drf_generics
from rest_framework.pagination import PageNumberPagination

from restflow.serializers import ModelSerializer
from restflow.views import (
    AsyncCreateAPIView,
    AsyncDestroyAPIView,
    AsyncListAPIView,
    AsyncListCreateAPIView,
    AsyncRetrieveAPIView,
    AsyncRetrieveDestroyAPIView,
    AsyncRetrieveUpdateAPIView,
    AsyncRetrieveUpdateDestroyAPIView,
    AsyncUpdateAPIView,
    CreateModelMixin,
    DestroyModelMixin,
    GenericAPIView,
    ListModelMixin,
    RetrieveModelMixin,
    UpdateModelMixin,
)
from tests._clients import CLIENTS, outcome, send
from tests.testapp.models import Product
from tests.testapp.serializers import ProductUrlSerializer as ProductSerializer

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]


def _class(name: str, bases: tuple[type[Any], ...], attrs: dict[str, Any]) -> Any:
    """A view class built at runtime (typed ``Any``: its base is a parameter)."""
    return type(name, bases, {"__module__": __name__, **attrs})


class ProductInSerializer(ModelSerializer[Product]):
    """A request serializer without ``url``: ``Location`` must come from the response."""

    class Meta:
        model = Product
        fields = ["name", "price"]


class TwoPerPage(PageNumberPagination):
    page_size = 2


#: name -> (DRF's class, restflow's async class, the actions it provides)
CONCRETE: dict[str, tuple[type[Any], type[Any], tuple[str, ...]]] = {
    "list": (drf_generics.ListAPIView, AsyncListAPIView, ("list",)),
    "create": (drf_generics.CreateAPIView, AsyncCreateAPIView, ("create",)),
    "retrieve": (drf_generics.RetrieveAPIView, AsyncRetrieveAPIView, ("retrieve",)),
    "update": (
        drf_generics.UpdateAPIView,
        AsyncUpdateAPIView,
        ("update", "partial_update"),
    ),
    "destroy": (drf_generics.DestroyAPIView, AsyncDestroyAPIView, ("destroy",)),
    "list-create": (
        drf_generics.ListCreateAPIView,
        AsyncListCreateAPIView,
        ("list", "create"),
    ),
    "retrieve-update": (
        drf_generics.RetrieveUpdateAPIView,
        AsyncRetrieveUpdateAPIView,
        ("retrieve", "update", "partial_update"),
    ),
    "retrieve-destroy": (
        drf_generics.RetrieveDestroyAPIView,
        AsyncRetrieveDestroyAPIView,
        ("retrieve", "destroy"),
    ),
    "retrieve-update-destroy": (
        drf_generics.RetrieveUpdateDestroyAPIView,
        AsyncRetrieveUpdateDestroyAPIView,
        ("retrieve", "update", "partial_update", "destroy"),
    ),
}
_HANDLER = {
    "list": "get",
    "retrieve": "get",
    "create": "post",
    "update": "put",
    "partial_update": "patch",
    "destroy": "delete",
}
_SYNC_MIXIN: dict[str, type[Any]] = {
    "list": ListModelMixin,
    "create": CreateModelMixin,
    "retrieve": RetrieveModelMixin,
    "update": UpdateModelMixin,
    "partial_update": UpdateModelMixin,
    "destroy": DestroyModelMixin,
}
ATTRS: dict[str, Any] = {
    "queryset": Product.objects.all(),
    "serializer_class": ProductSerializer,
    "pagination_class": TwoPerPage,
    "authentication_classes": [],
    "permission_classes": [],
}


def _calls(action: str) -> Callable[..., Any]:
    def handler(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        return getattr(self, action)(request, *args, **kwargs)

    return handler


def sync_concrete(actions: tuple[str, ...]) -> Any:
    """restflow's sync counterpart of a concrete view: ``GenericAPIView`` + sync mixins."""
    mixins = tuple(dict.fromkeys(_SYNC_MIXIN[action] for action in actions))
    handlers = {_HANDLER[action]: _calls(action) for action in actions}
    return _class("SyncConcrete", (*mixins, GenericAPIView), {"__module__": __name__, **handlers})


def views(name: str) -> dict[str, type[Any]]:
    drf_class, async_class, actions = CONCRETE[name]
    bases = {"drf": drf_class, "async": async_class, "sync": sync_concrete(actions)}
    return {kind: _class("ProductView", (base,), {**ATTRS}) for kind, base in bases.items()}


urlpatterns: list[URLPattern] = []
for _name in CONCRETE:
    for _kind, _view in views(_name).items():
        urlpatterns += [
            path(f"{_kind}/{_name}/", _view.as_view()),
            path(f"{_kind}/{_name}/<str:pk>/", _view.as_view()),
        ]
# The serializer split: the request serializer has no ``url``, the response one does.
urlpatterns += [
    path(
        "async/split/",
        _class(
            "ProductView",
            (AsyncListCreateAPIView,),
            {**ATTRS, "request_serializer_class": ProductInSerializer},
        ).as_view(),
    ),
    path(
        "async/split-response/",
        _class(
            "ProductView",
            (AsyncListCreateAPIView,),
            {
                **ATTRS,
                "serializer_class": ProductInSerializer,
                "response_serializer_class": ProductSerializer,
            },
        ).as_view(),
    ),
]

_ID = re.compile(r"/products/\d+/")


def normalise(value: Any, prefix: str) -> Any:
    """Replace ids (a PostgreSQL sequence does not roll back with a savepoint) and the
    view's URL prefix (in pagination links)."""
    if isinstance(value, dict):
        return {k: "<id>" if k == "id" else normalise(v, prefix) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [normalise(item, prefix) for item in value]
    if isinstance(value, str):
        return _ID.sub("/products/<id>/", value).replace(prefix, "/<view>/")
    return value


def rows() -> list[Any]:
    return list(Product.objects.order_by("name").values("name", "price"))


def observe(
    client: str, method: str, path: str, body: str, prefix: str | None = None
) -> tuple[Any, Any, Any]:
    """Send the request in a savepoint; return (response, what a client sees, rows left).

    ``prefix`` (default: the path's first segment) is the part of the path naming the view,
    normalised away in links."""
    with transaction.atomic():  # a savepoint inside the test's transaction
        try:
            response = send(client, method, path, body=body)
            status, data, headers = outcome(response)
            headers["Location"] = response.headers.get("Location")
            prefix = prefix or "/" + path.split("/")[1] + "/"
            return response, normalise((status, data, headers), prefix), rows()
        finally:
            transaction.set_rollback(True)


def compare(client: str, kind: str, method: str, suffix: str, body: str = "") -> Any:
    """Send one request to DRF's view and to ``kind``'s; assert they answer alike."""
    _, expected, expected_rows = observe(client, method, f"/drf/{suffix}", body)
    response, actual, actual_rows = observe(client, method, f"/{kind}/{suffix}", body)
    assert actual == expected
    assert actual_rows == expected_rows
    return response


@pytest.fixture
def products(db: None) -> list[Product]:
    return [
        Product.objects.create(name=name, price=price)
        for name, price in (("apple", "1.00"), ("pear", "2.00"), ("plum", "3.00"))
    ]


kinds = pytest.mark.parametrize("kind", ["sync", "async"])
clients = pytest.mark.parametrize("client", CLIENTS)
collection_views = pytest.mark.parametrize(
    "name", [name for name, (_, _, actions) in CONCRETE.items() if {"list", "create"} & {*actions}]
)
detail_views = pytest.mark.parametrize(
    "name",
    [name for name, (_, _, actions) in CONCRETE.items() if not {"list", "create"} & {*actions}],
)
_NEW = '{"name": "quince", "price": "4.50"}'
_INVALID = '{"name": "", "price": "cheap"}'


@kinds
@clients
@collection_views
def test_collection_view_answers_every_method_as_drf(
    name: str, client: str, kind: str, products: list[Product]
) -> None:
    actions = CONCRETE[name][2]
    listed = compare(client, kind, "get", f"{name}/")
    if "list" in actions:
        assert listed.status_code == 200
        assert listed.data["count"] == 3
        assert [item["name"] for item in listed.data["results"]] == ["apple", "pear"]
        assert compare(client, kind, "get", f"{name}/?page=2").data["next"] is None
        assert compare(client, kind, "head", f"{name}/").status_code == 200
    else:
        assert listed.status_code == 405
    created = compare(client, kind, "post", f"{name}/", _NEW)
    invalid = compare(client, kind, "post", f"{name}/", _INVALID)
    if "create" in actions:
        assert created.status_code == 201
        assert created["Location"] == created.data["url"]
        assert invalid.status_code == 400
        assert set(invalid.data) == {"name", "price"}
    else:
        assert created.status_code == invalid.status_code == 405
    for method in ("put", "patch", "delete"):
        assert compare(client, kind, method, f"{name}/", _NEW).status_code == 405


@kinds
@clients
@detail_views
def test_detail_view_answers_every_method_as_drf(
    name: str, client: str, kind: str, products: list[Product]
) -> None:
    actions = CONCRETE[name][2]
    pk = products[1].pk
    expected = {
        ("get", f"{name}/{pk}/"): 200 if "retrieve" in actions else 405,
        ("head", f"{name}/{pk}/"): 200 if "retrieve" in actions else 405,
        ("put", f"{name}/{pk}/"): 200 if "update" in actions else 405,
        ("patch", f"{name}/{pk}/"): 200 if "update" in actions else 405,
        ("delete", f"{name}/{pk}/"): 204 if "destroy" in actions else 405,
        ("post", f"{name}/{pk}/"): 405,
    }
    for (method, suffix), code in expected.items():
        body = '{"price": "9.99"}' if method == "patch" else _NEW
        response = compare(client, kind, method, suffix, body)
        assert response.status_code == code, (method, suffix)
    # A missing object (Django's message names the model), and a lookup value the pk field
    # cannot even convert (DRF's bare 404): the same 404 bodies as DRF.
    missing = {"999999": "No Product matches the given query.", "not-a-number": "Not found."}
    for lookup, detail in missing.items():
        for method in ("get", "put", "patch", "delete"):
            response = compare(client, kind, method, f"{name}/{lookup}/", _NEW)
            if response.status_code != 405:
                assert response.status_code == 404
                assert response.data == {"detail": detail}
    if "update" in actions:
        invalid = compare(client, kind, "put", f"{name}/{pk}/", _INVALID)
        assert invalid.status_code == 400
        assert set(invalid.data) == {"name", "price"}
        # The 200 body is the updated object.
        assert (
            compare(client, kind, "patch", f"{name}/{pk}/", '{"price": "9.99"}').data["price"]
            == "9.99"
        )


@clients
@pytest.mark.parametrize("path", ["async/split/", "async/split-response/"])
def test_location_comes_from_the_response_serializer(
    path: str, client: str, products: list[Product]
) -> None:
    response = send(client, "post", f"/{path}", body=_NEW)
    assert response.status_code == 201
    created = Product.objects.get(name="quince")
    assert response.data == {
        "id": created.pk,
        "name": "quince",
        "price": "4.50",
        "url": f"http://testserver/products/{created.pk}/",
    }
    assert response["Location"] == f"http://testserver/products/{created.pk}/"


@clients
def test_split_view_validates_with_the_request_serializer(
    client: str, products: list[Product]
) -> None:
    # ``url`` is read-only on the response serializer; the request serializer rejects
    # nothing it does not declare, and requires what it declares.
    response = send(client, "post", "/async/split/", body='{"name": "quince"}')
    assert response.status_code == 400
    assert set(response.data) == {"price"}
    assert not Product.objects.filter(name="quince").exists()


def _detail_or_collection(name: str, pk: int) -> str:
    actions = CONCRETE[name][2]
    return f"{name}/" if {"list", "create"} & {*actions} else f"{name}/{pk}/"


@kinds
@clients
@pytest.mark.parametrize("name", CONCRETE)
def test_options_metadata_matches_drf(
    name: str, client: str, kind: str, products: list[Product]
) -> None:
    response = compare(client, kind, "options", _detail_or_collection(name, products[0].pk))
    assert response.status_code == 200
    writes = {"create": "POST", "update": "PUT"}
    expected = {method for action, method in writes.items() if action in CONCRETE[name][2]}
    assert set(response.data.get("actions", {})) == expected
    for method in expected:
        assert set(response.data["actions"][method]) == {"id", "name", "price", "url"}


_FORM_PARTS = re.compile(r'<form[^>]*method="(\w+)"|name="(\w+)"')


def form_parts(html: str) -> list[tuple[str, str]]:
    """The forms (by method) and the named inputs of a browsable API page."""
    return sorted(_FORM_PARTS.findall(html))


@kinds
@clients
@pytest.mark.parametrize("name", CONCRETE)
@pytest.mark.parametrize("how", ["accept", "format"])
def test_browsable_api_renders_the_same_forms_as_drf(
    how: str, name: str, client: str, kind: str, products: list[Product]
) -> None:
    suffix = _detail_or_collection(name, products[0].pk)
    headers = {"accept": "text/html"} if how == "accept" else None
    query = "?format=api" if how == "format" else ""
    expected = send(client, "get", f"/drf/{suffix}{query}", headers=headers)
    response = send(client, "get", f"/{kind}/{suffix}{query}", headers=headers)
    assert response.status_code == expected.status_code
    assert response["Content-Type"] == "text/html; charset=utf-8"
    html = response.content.decode()
    assert form_parts(html) == form_parts(expected.content.decode())
    actions = CONCRETE[name][2]
    if {"create", "update"} & {*actions}:
        assert 'name="_content"' in html  # the raw data form
        assert 'name="price"' in html  # the HTML form
