"""Viewsets registered with DRF's routers answer exactly as DRF's viewsets.

Every viewset flavour is declared on DRF's class, on restflow's sync twin and on restflow's
async class, registered with DRF's ``DefaultRouter`` and ``SimpleRouter``, and driven
through DRF's ``APIClient`` and Django's ``AsyncClient``. Each request is compared with the
same request to DRF's viewset (status, body, DRF's headers, ``Location``, rows left behind).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse
from django.shortcuts import aget_object_or_404, get_object_or_404
from django.urls import URLPattern, URLResolver, include, path
from rest_framework import mixins as drf_mixins
from rest_framework import viewsets as drf_viewsets
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter, SimpleRouter

from restflow import mixins
from restflow.decorators import action
from restflow.views import (
    AsyncGenericViewSet,
    AsyncModelViewSet,
    AsyncReadOnlyModelViewSet,
    AsyncViewSet,
    GenericViewSet,
    ModelViewSet,
    ReadOnlyModelViewSet,
    ViewSet,
)
from tests._clients import CLIENTS, on_loop, send
from tests.test_generics import TwoPerPage, form_parts, observe
from tests.testapp.models import Product
from tests.testapp.serializers import ProductNameSerializer as NameSerializer
from tests.testapp.serializers import ProductUrlSerializer as ProductSerializer

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]

ATTRS: dict[str, Any] = {
    "queryset": Product.objects.all(),
    "serializer_class": ProductSerializer,
    "authentication_classes": [],
    "permission_classes": [],
}


# -- a hand-written ViewSet: list, create, retrieve ------------------------------------


class DrfHandWritten(drf_viewsets.ViewSet):
    authentication_classes = ()
    permission_classes = ()

    def list(self, request: Request) -> Response:
        return Response(ProductSerializer(Product.objects.all(), many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(ProductSerializer(get_object_or_404(Product, pk=pk)).data)

    def create(self, request: Request) -> Response:
        serializer = ProductSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        serializer.save()
        return Response(serializer.data, status=201)


class SyncHandWritten(ViewSet[ProductSerializer]):
    serializer_class = ProductSerializer
    authentication_classes = ()
    permission_classes = ()

    def list(self, request: Request) -> Response:
        return self.serialized_response(Product.objects.all(), many=True)

    def retrieve(self, request: Request, pk: str) -> Response:
        return self.serialized_response(get_object_or_404(Product, pk=pk))

    def create(self, request: Request) -> Response:
        serializer = self.validated_serializer()
        serializer.save()
        return self.serialized_response(serializer.instance, status=201)


class AsyncHandWritten(AsyncViewSet[ProductSerializer]):
    serializer_class = ProductSerializer
    authentication_classes = ()
    permission_classes = ()

    async def list(self, request: Request) -> Response:
        return await self.aserialized_response(Product.objects.all(), many=True)

    async def retrieve(self, request: Request, pk: str) -> Response:
        return await self.aserialized_response(await aget_object_or_404(Product, pk=pk))

    async def create(self, request: Request) -> Response:
        serializer = await self.avalidated_serializer()
        await serializer.asave()
        return await self.aserialized_response(serializer.instance, status=201)


# -- extra actions --------------------------------------------------------------------

#: (where, view.action) as seen by each hook
SEEN: list[tuple[str, str | None]] = []


class RecordsAction(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        SEEN.append(("permission", view.action))
        return True


class RefusesAll(BasePermission):
    message = "Refused by the action's permission."

    def has_permission(self, request: Request, view: Any) -> bool:
        return False


def _action_viewsets() -> dict[str, type[Any]]:
    made: dict[str, type[Any]] = {}
    for kind, base in (("sync", ModelViewSet), ("async", AsyncModelViewSet)):

        class Actions(base):  # type: ignore[valid-type,misc]  # a base chosen at runtime
            queryset = Product.objects.all()
            serializer_class = ProductSerializer
            authentication_classes = ()
            permission_classes = (RecordsAction,)
            pagination_class = None

            def get_parsers(self) -> Any:
                SEEN.append(("parsers", getattr(self, "action", None)))
                return super().get_parsers()

            def get_throttles(self) -> Any:
                SEEN.append(("throttles", self.action))
                return super().get_throttles()

            @action(detail=True, methods=["post"], serializer_class=NameSerializer)
            def rename(self, request: Request, pk: str) -> Response:
                product = self.get_object()
                serializer = self.validated_serializer(instance=product)
                serializer.save()
                return Response({**serializer.data, "on_loop": on_loop()})

            @action(detail=False, permission_classes=[RefusesAll])
            def forbidden(self, request: Request) -> Response:
                return Response({})

            @action(detail=False, url_path="links")
            def links(self, request: Request) -> Response:
                return Response(
                    {
                        "detail": self.reverse_action("detail", args=[1]),
                        "rename": self.reverse_action(self.rename.url_name, args=[1]),
                        "extra": self.get_extra_action_url_map(),
                    }
                )

        if kind == "async":

            class AsyncActions(Actions):
                @action(detail=True, methods=["post"], serializer_class=NameSerializer)
                async def rename(self, request: Request, pk: str) -> Response:  # type: ignore[override]  # the async twin of the sync action
                    product = await self.aget_object()
                    serializer = await self.avalidated_serializer(instance=product)
                    await serializer.asave()
                    return Response({**serializer.data, "on_loop": on_loop()})

                @action(detail=False, permission_classes=[RefusesAll])
                async def forbidden(self, request: Request) -> Response:  # type: ignore[override]  # the async twin of the sync action
                    return Response({})

            made[kind] = AsyncActions
        else:
            made[kind] = Actions
    return made


ACTION_ROUTER = DefaultRouter()
for _kind, _viewset in _action_viewsets().items():
    ACTION_ROUTER.register(_kind, _viewset, basename=f"actions-{_kind}")


def _composed(base: type[Any], mixin_module: Any, prefix: str) -> tuple[type[Any], ...]:
    names = ("ListModelMixin", "CreateModelMixin", "RetrieveModelMixin", "DestroyModelMixin")
    return (*(getattr(mixin_module, prefix + name) for name in names), base)


#: flavour -> kind -> bases, and the class attributes of the flavour
FLAVOURS: dict[str, tuple[dict[str, tuple[type[Any], ...]], dict[str, Any]]] = {
    "model": (
        {
            "drf": (drf_viewsets.ModelViewSet,),
            "sync": (ModelViewSet,),
            "async": (AsyncModelViewSet,),
        },
        {**ATTRS, "pagination_class": TwoPerPage},
    ),
    "read-only": (
        {
            "drf": (drf_viewsets.ReadOnlyModelViewSet,),
            "sync": (ReadOnlyModelViewSet,),
            "async": (AsyncReadOnlyModelViewSet,),
        },
        {**ATTRS, "pagination_class": None},
    ),
    "composed": (
        {
            "drf": _composed(drf_viewsets.GenericViewSet, drf_mixins, ""),
            "sync": _composed(GenericViewSet, mixins, ""),
            "async": _composed(AsyncGenericViewSet, mixins, "Async"),
        },
        {**ATTRS, "pagination_class": TwoPerPage},
    ),
    "hand-written": (
        {"drf": (DrfHandWritten,), "sync": (SyncHandWritten,), "async": (AsyncHandWritten,)},
        {},
    ),
}
#: flavour -> the actions it provides
ACTIONS: dict[str, set[str]] = {
    "model": {"list", "create", "retrieve", "update", "destroy"},
    "read-only": {"list", "retrieve"},
    "composed": {"list", "create", "retrieve", "destroy"},
    "hand-written": {"list", "create", "retrieve"},
}
ROUTERS = {"default": DefaultRouter, "simple": SimpleRouter}


def plain(request: HttpRequest) -> HttpResponse:
    return HttpResponse("plain")


urlpatterns: list[URLPattern | URLResolver] = [
    path("actions/", include(ACTION_ROUTER.urls)),
    path("plain/", plain),
]
for _router_name, _router_class in ROUTERS.items():
    for _kind in ("drf", "sync", "async"):
        _router = _router_class()
        for _flavour, (_bases, _attrs) in FLAVOURS.items():
            _viewset = type("ProductViewSet", _bases[_kind], {"__module__": __name__, **_attrs})
            _router.register(_flavour, _viewset, basename=f"{_router_name}-{_kind}-{_flavour}")
        urlpatterns.append(path(f"{_router_name}/{_kind}/", include(_router.urls)))


def compare(client: str, router: str, kind: str, method: str, suffix: str, body: str = "") -> Any:
    drf, ours = f"/{router}/drf/", f"/{router}/{kind}/"
    _, expected, expected_rows = observe(client, method, drf + suffix, body, drf)
    response, actual, actual_rows = observe(client, method, ours + suffix, body, ours)
    assert actual == expected
    assert actual_rows == expected_rows
    return response


@pytest.fixture
def products(db: None) -> list[Product]:
    return [
        Product.objects.create(name=name, price=price)
        for name, price in (("apple", "1.00"), ("pear", "2.00"), ("plum", "3.00"))
    ]


_NEW = '{"name": "quince", "price": "4.50"}'
_INVALID = '{"name": "", "price": "cheap"}'


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("router", ROUTERS)
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_viewset_answers_every_route_as_drf(
    flavour: str, router: str, client: str, kind: str, products: list[Product]
) -> None:
    actions = ACTIONS[flavour]
    pk = products[1].pk

    def check(method: str, suffix: str, code: int, body: str = _NEW) -> Any:
        response = compare(client, router, kind, method, f"{flavour}/{suffix}", body)
        assert response.status_code == code, (method, suffix)
        return response

    listed = check("get", "", 200)
    if FLAVOURS[flavour][1].get("pagination_class"):
        assert listed.data["count"] == 3
        assert [item["name"] for item in listed.data["results"]] == ["apple", "pear"]
    else:
        assert [item["name"] for item in listed.data] == ["apple", "pear", "plum"]
    check("head", "", 200)
    check("delete", "", 405)
    created = check("post", "", 201 if "create" in actions else 405)
    if "create" in actions:
        assert created.data["url"].startswith("http://testserver/products/")
        check("post", "", 400, _INVALID)
    check("get", f"{pk}/", 200)
    check("head", f"{pk}/", 200)
    check("post", f"{pk}/", 405)
    check("put", f"{pk}/", 200 if "update" in actions else 405)
    check("patch", f"{pk}/", 200 if "update" in actions else 405, '{"price": "9.99"}')
    check("delete", f"{pk}/", 204 if "destroy" in actions else 405)
    if "update" in actions:
        check("put", f"{pk}/", 400, _INVALID)
    for lookup in ("999999", "not-a-number") if flavour != "hand-written" else ("999999",):
        check("get", f"{lookup}/", 404)
        check("put", f"{lookup}/", 404 if "update" in actions else 405)
        check("delete", f"{lookup}/", 404 if "destroy" in actions else 405)


@pytest.mark.parametrize("client", CLIENTS)
def test_create_location_is_the_response_url(client: str, products: list[Product]) -> None:
    for kind in ("sync", "async"):
        response, _, _ = observe(client, "post", f"/default/{kind}/model/", _NEW)
        assert response.status_code == 201
        assert response["Location"] == response.data["url"]


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("router", ROUTERS)
# A hand-written restflow ViewSet that declares ``serializer_class`` describes it in OPTIONS;
# DRF's ViewSet has no serializer to describe: only the generic flavours compare.
@pytest.mark.parametrize("flavour", ["model", "read-only", "composed"])
def test_options_and_browsable_api_match_drf(
    flavour: str, router: str, client: str, kind: str, products: list[Product]
) -> None:
    for suffix in (f"{flavour}/", f"{flavour}/{products[0].pk}/"):
        response = compare(client, router, kind, "options", suffix)
        assert response.status_code == 200
        html = {"accept": "text/html"}
        expected = send(client, "get", f"/{router}/drf/{suffix}", headers=html)
        actual = send(client, "get", f"/{router}/{kind}/{suffix}", headers=html)
        assert actual.status_code == expected.status_code == 200
        assert form_parts(actual.content.decode()) == form_parts(expected.content.decode())


@pytest.fixture(autouse=True)
def _fresh_seen() -> None:
    SEEN.clear()


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("client", CLIENTS)
def test_detail_action_with_serializer_class(
    client: str, kind: str, products: list[Product]
) -> None:
    pk = products[0].pk
    response = send(client, "post", f"/actions/{kind}/{pk}/rename/", body='{"name": "fig"}')
    assert response.status_code == 200
    assert response.data == {"name": "fig", "on_loop": kind == "async"}
    assert Product.objects.get(pk=pk).name == "fig"
    assert send(client, "post", f"/actions/{kind}/{pk}/rename/", body="{}").status_code == 400
    assert send(client, "post", "/actions/{kind}/999999/rename/", body="{}").status_code == 404


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("client", CLIENTS)
def test_list_action_with_permission_classes(client: str, kind: str) -> None:
    response = send(client, "get", f"/actions/{kind}/forbidden/")
    assert response.status_code == 403
    assert response.data == {"detail": "Refused by the action's permission."}


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("client", CLIENTS)
def test_action_is_set_before_parsers_permissions_and_throttles(client: str, kind: str) -> None:
    assert send(client, "get", f"/actions/{kind}/").status_code == 200
    assert send(client, "post", f"/actions/{kind}/", body=_NEW).status_code == 201
    assert SEEN == [
        ("parsers", "list"),
        ("permission", "list"),
        ("throttles", "list"),
        ("parsers", "create"),
        ("permission", "create"),
        ("throttles", "create"),
    ]


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("client", CLIENTS)
def test_reverse_action_and_extra_action_url_map(client: str, kind: str) -> None:
    response = send(client, "get", f"/actions/{kind}/links/")
    assert response.status_code == 200
    assert response.data["detail"] == f"http://testserver/actions/{kind}/1/"
    assert response.data["rename"] == f"http://testserver/actions/{kind}/1/rename/"
    assert response.data["extra"] == {
        "Forbidden": f"http://testserver/actions/{kind}/forbidden/",
        "Links": f"http://testserver/actions/{kind}/links/",
    }


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("target", ["default/async/model/", "actions/async/", "simple/sync/model/"])
def test_login_required_middleware_exempts_restflow_views(
    client: str, target: str, settings: Any, products: list[Product]
) -> None:
    settings.MIDDLEWARE = [
        *settings.MIDDLEWARE,
        "django.contrib.auth.middleware.LoginRequiredMiddleware",
    ]
    # The middleware is on: a plain Django view redirects to the login page.
    assert send(client, "get", "/plain/").status_code == 302
    assert send(client, "get", f"/{target}").status_code == 200
