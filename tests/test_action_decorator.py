"""``restflow.decorators.action``: DRF's ``@action``, typed for sync and async methods.

Differential: each case decorates the same function with DRF's ``action`` and with
restflow's and compares what routers read (``detail``, ``url_path``, ``url_name``,
``kwargs``, ``mapping``) and the URLs a router builds from them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import URLResolver, include, path
from rest_framework import decorators as drf
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from restflow.decorators import ActionMethod, action
from restflow.serializers import ModelSerializer
from restflow.views import AsyncModelViewSet, AsyncViewSet
from tests._clients import CLIENTS, on_loop, send
from tests.testapp.models import Product

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]

#: (positional args, keyword args) of one @action call
CASES: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
    ((), {"detail": True}),
    ((), {"detail": False, "methods": ["POST", "get"]}),
    ((["put"], True), {}),
    ((), {"detail": False, "url_path": "by-name/(?P<name>[^/.]+)", "url_name": "by_name"}),
    ((), {"detail": True, "name": "Publish it"}),
    ((), {"detail": True, "suffix": "Publication", "permission_classes": []}),
]


def _sync_method(self: Any, request: Request, pk: str | None = None) -> Response:
    """Publish the product."""
    return Response({})


async def _async_method(self: Any, request: Request, pk: str | None = None) -> Response:
    return Response({})


def _fresh(func: Callable[..., Any]) -> Callable[..., Any]:
    # Both decorators set attributes on the function: give each its own copy.
    def copy(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    copy.__name__ = "publish_now"
    copy.__doc__ = func.__doc__
    return copy


def _routed(decorated: Any) -> dict[str, Any]:
    return {
        "detail": decorated.detail,
        "url_path": decorated.url_path,
        "url_name": decorated.url_name,
        "kwargs": decorated.kwargs,
        "mapping": dict(decorated.mapping),
    }


@pytest.mark.parametrize("func", [_sync_method, _async_method], ids=["sync", "async"])
@pytest.mark.parametrize(("args", "kwargs"), CASES)
def test_action_sets_what_drf_sets(
    func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    theirs = drf.action(*args, **kwargs)(_fresh(func))
    ours: Any = action(*args, **kwargs)(_fresh(func))
    assert _routed(ours) == _routed(theirs)


def test_mapping_adds_methods_as_drf_does() -> None:
    theirs: Any = drf.action(detail=False)(_fresh(_async_method))
    ours: Any = action(detail=False)(_fresh(_async_method))
    for decorated in (theirs, ours):

        async def discard(self: Any, request: Request) -> Response:
            return Response({})

        assert decorated.mapping.delete(discard) is discard
    assert dict(ours.mapping) == dict(theirs.mapping) == {"get": "publish_now", "delete": "discard"}


def test_missing_detail_is_improperly_configured() -> None:
    with pytest.raises(ImproperlyConfigured, match="missing required argument: 'detail'"):
        action()  # type: ignore[call-overload]  # must fail: detail is required


def test_name_and_suffix_are_exclusive_as_in_drf() -> None:
    with pytest.raises(TypeError, match="mutually exclusive"):
        action(detail=True, name="A", suffix="B")


def test_a_bad_mapping_is_improperly_configured() -> None:
    decorated: Any = action(detail=False)(_fresh(_sync_method))
    with pytest.raises(ImproperlyConfigured, match=r"already been mapped to '\.publish_now'"):
        decorated.mapping.get(_sync_method)
    with pytest.raises(ImproperlyConfigured, match="same method name"):
        decorated.mapping.post(_fresh(_sync_method))


# -- routers -------------------------------------------------------------------------------


class ProductSerializer(ModelSerializer[Product]):
    class Meta:
        model = Product
        fields = ["id", "name"]


def _viewset(
    decorate: Callable[..., Callable[[Callable[..., Any]], ActionMethod[Any, ..., Any]]],
) -> type[Any]:
    class Products(AsyncModelViewSet[Product, ProductSerializer]):
        queryset = Product.objects.all()
        serializer_class = ProductSerializer
        authentication_classes = []
        permission_classes = []

        @decorate(detail=True, methods=["post"], url_path="go-live")
        async def publish(self, request: Request, pk: str) -> Response:
            product = await self.aget_object()
            return Response({"published": product.name, "on_loop": on_loop()})

        @publish.mapping.delete
        async def unpublish(self, request: Request, pk: str) -> Response:
            return Response({"unpublished": pk, "on_loop": on_loop()})

        @decorate(detail=False, url_name="top")
        def top_products(self, request: Request) -> Response:
            return Response({"top": True, "on_loop": on_loop()})

    return Products


def _patterns(viewset: type[Any]) -> list[tuple[str, str | None]]:
    router = DefaultRouter()
    router.register("products", viewset, basename="products")
    return [(str(url.pattern), getattr(url, "name", None)) for url in router.urls]


def test_a_router_builds_the_urls_drf_builds() -> None:
    drf_action: Any = drf.action  # the same attributes at runtime; typed for sync methods only
    ours, theirs = _viewset(action), _viewset(drf_action)
    assert _patterns(ours) == _patterns(theirs)
    assert sorted(extra.__name__ for extra in ours.get_extra_actions()) == [
        "publish",
        "top_products",
    ]


class Plain(AsyncViewSet):
    authentication_classes = []
    permission_classes = []

    @action(detail=False)
    async def ping(self, request: Request) -> Response:
        return Response({"pong": True})


_router = DefaultRouter()
_router.register("products", _viewset(action), basename="products")
_router.register("plain", Plain, basename="plain")
urlpatterns: list[URLResolver] = [path("", include(_router.urls))]


@pytest.mark.parametrize("client", CLIENTS)
def test_async_action_and_its_mapping_answer(client: str) -> None:
    product = Product.objects.create(name="Pen", price="1.50")
    published = send(client, "post", f"/products/{product.pk}/go-live/")
    assert (published.status_code, published.data["published"]) == (200, "Pen")
    unpublished = send(client, "delete", f"/products/{product.pk}/go-live/")
    assert unpublished.data["unpublished"] == str(product.pk)
    assert send(client, "get", "/products/top_products/").data["top"] is True
    assert send(client, "get", "/plain/ping/").data == {"pong": True}
