"""``ActionConfig``: per-action overrides that fall through to the class when unset.

One viewset, declared on ``ModelViewSet`` and on ``AsyncModelViewSet``, configures a
different field for each action; each test shows the field applies to its action only.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import URLResolver, include, path
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser
from rest_framework.permissions import BasePermission
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.throttling import BaseThrottle

from restflow.decorators import action
from restflow.serializers import ModelSerializer
from restflow.views import ActionConfig, AsyncModelViewSet, ModelViewSet
from tests._clients import CLIENTS, send
from tests.testapp.models import Product
from tests.testapp.serializers import ProductNameSerializer as NameSerializer
from tests.testapp.serializers import ProductSerializer

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]


class TopProductIn(ModelSerializer[Product]):
    class Meta:
        model = Product
        fields = ["name", "price", "is_top"]
        extra_kwargs = {"is_top": {"required": True}}


class DeniesAll(BasePermission):
    message = "Denied by the action's config."

    def has_permission(self, request: Request, view: Any) -> bool:
        return False


class RefusesAll(BaseThrottle):
    def allow_request(self, request: Request, view: Any) -> bool:
        return False

    def wait(self) -> float:
        return 5.0


class TextRenderer(BaseRenderer):
    media_type = "text/plain"
    format = "txt"

    def render(self, data: Any, accepted_media_type: Any = None, context: Any = None) -> bytes:
        return str(data).encode()


class TwoPerPage(PageNumberPagination):
    page_size = 2


def top_products(view: Any) -> Any:
    return Product.objects.filter(is_top=True)


CONFIGS: dict[str, ActionConfig[Any]] = {
    "list": ActionConfig(pagination_class=None, queryset=top_products),
    "retrieve": ActionConfig(
        serializer_class=NameSerializer, renderer_classes=[JSONRenderer, TextRenderer]
    ),
    "create": ActionConfig(
        request_serializer_class=TopProductIn, response_serializer_class=NameSerializer
    ),
    "update": ActionConfig(throttle_classes=[RefusesAll]),
    "partial_update": ActionConfig(
        parser_classes=[FormParser], queryset=Product.objects.filter(is_top=True)
    ),
    "destroy": ActionConfig(permission_classes=[DeniesAll]),
    "paged": ActionConfig(pagination_class=TwoPerPage),
}


def configured(base: type[Any]) -> type[Any]:
    attrs = {
        "__module__": __name__,
        "queryset": Product.objects.all(),
        "serializer_class": ProductSerializer,
        "authentication_classes": [],
        "permission_classes": [],
        "pagination_class": TwoPerPage,
        "action_configs": CONFIGS,
    }
    if base is AsyncModelViewSet:

        @action(detail=False)
        async def paged(self: Any, request: Request) -> Response:
            queryset = self.filter_queryset(self.get_queryset())
            response: Response = await self.apaginated_response(queryset)
            return response

    else:

        @action(detail=False)
        def paged(self: Any, request: Request) -> Response:
            queryset = self.filter_queryset(self.get_queryset())
            response: Response = self.paginated_response(queryset)
            return response

    return type("Configured", (base,), {**attrs, "paged": paged})


router = SimpleRouter()
router.register("sync", configured(ModelViewSet), basename="sync")
router.register("async", configured(AsyncModelViewSet), basename="async")
urlpatterns: list[URLResolver] = [path("", include(router.urls))]

kinds = pytest.mark.parametrize("kind", ["sync", "async"])
clients = pytest.mark.parametrize("client", CLIENTS)


@pytest.fixture
def products(db: None) -> list[Product]:
    return [
        Product.objects.create(name=name, price="1.00", is_top=name != "pear")
        for name in ("apple", "pear", "plum")
    ]


@kinds
@clients
def test_list_config_turns_pagination_off_and_narrows_the_queryset(
    client: str, kind: str, products: list[Product]
) -> None:
    response = send(client, "get", f"/{kind}/")
    assert [item["name"] for item in response.data] == ["apple", "plum"]


@kinds
@clients
def test_pagination_class_applies_to_its_action_only(
    client: str, kind: str, products: list[Product]
) -> None:
    # ``paged`` has its own paginator; ``list``'s ``pagination_class=None`` does not leak.
    response = send(client, "get", f"/{kind}/paged/")
    assert response.data["count"] == 3
    assert len(response.data["results"]) == 2


@kinds
@clients
def test_retrieve_config_sets_serializer_and_renderers(
    client: str, kind: str, products: list[Product]
) -> None:
    pk = products[1].pk  # not top: only ``list`` and ``partial_update`` narrow the queryset
    assert send(client, "get", f"/{kind}/{pk}/").data == {"name": "pear"}
    text = send(client, "get", f"/{kind}/{pk}/", headers={"accept": "text/plain"})
    assert (text.status_code, text.content) == (200, b"{'name': 'pear'}")
    # The renderer config is retrieve's only: list cannot render text.
    assert send(client, "get", f"/{kind}/", headers={"accept": "text/plain"}).status_code == 406


@kinds
@clients
def test_create_config_splits_request_and_response_serializers(
    client: str, kind: str, products: list[Product]
) -> None:
    missing = send(client, "post", f"/{kind}/", body='{"name": "fig", "price": "1.00"}')
    assert (missing.status_code, set(missing.data)) == (400, {"is_top"})
    body = '{"name": "fig", "price": "1.00", "is_top": true}'
    created = send(client, "post", f"/{kind}/", body=body)
    assert (created.status_code, created.data) == (201, {"name": "fig"})
    assert Product.objects.get(name="fig").is_top


@kinds
@clients
def test_update_config_throttles_update_only(
    client: str, kind: str, products: list[Product]
) -> None:
    pk = products[0].pk
    body = '{"name": "apple", "price": "2.00"}'
    response = send(client, "put", f"/{kind}/{pk}/", body=body)
    assert (response.status_code, response["Retry-After"]) == (429, "5")
    assert send(client, "get", f"/{kind}/{pk}/").status_code == 200


@kinds
@clients
def test_partial_update_config_sets_parsers_and_queryset(
    client: str, kind: str, products: list[Product]
) -> None:
    apple, pear = products[0], products[1]
    json_body = send(client, "patch", f"/{kind}/{apple.pk}/", body='{"price": "2.00"}')
    assert json_body.status_code == 415
    form = "application/x-www-form-urlencoded"
    ok = send(client, "patch", f"/{kind}/{apple.pk}/", body="price=2.00", content_type=form)
    assert (ok.status_code, ok.data["price"]) == (200, "2.00")
    # pear is not top: outside partial_update's queryset.
    hidden = send(client, "patch", f"/{kind}/{pear.pk}/", body="price=2.00", content_type=form)
    assert hidden.status_code == 404


@kinds
@clients
def test_destroy_config_sets_permissions(client: str, kind: str, products: list[Product]) -> None:
    response = send(client, "delete", f"/{kind}/{products[0].pk}/")
    assert (response.status_code, response.data) == (
        403,
        {"detail": "Denied by the action's config."},
    )
    assert Product.objects.filter(pk=products[0].pk).exists()


def test_action_config_is_frozen_and_keyword_only() -> None:
    config: Any = ActionConfig(pagination_class=None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.pagination_class = TwoPerPage
    with pytest.raises(TypeError):
        ActionConfig(ProductSerializer)  # type: ignore[call-arg]  # positional on purpose


@pytest.mark.parametrize("base", [ModelViewSet, AsyncModelViewSet])
def test_a_misspelt_action_key_fails_at_class_definition(base: type[Any]) -> None:
    with pytest.raises(ImproperlyConfigured, match=r"\['retreive'\] that are not actions"):
        type("Misspelt", (base,), {"action_configs": {"retreive": ActionConfig()}})


@pytest.mark.parametrize("base", [ModelViewSet, AsyncModelViewSet])
def test_an_extra_action_is_a_valid_key(base: type[Any]) -> None:
    @action(detail=False)
    def publish(self: Any, request: Request) -> Response:
        return Response({})

    attrs = {"publish": publish, "action_configs": {"publish": ActionConfig()}}
    with_extra: Any = type("WithExtra", (base,), attrs)
    assert with_extra.action_configs == {"publish": ActionConfig()}


@pytest.mark.parametrize("base", [ModelViewSet, AsyncModelViewSet])
def test_a_method_an_action_maps_to_is_a_valid_key(base: type[Any]) -> None:
    @action(detail=False)
    def draft(self: Any, request: Request) -> Response:
        return Response({})

    def discard_draft(self: Any, request: Request) -> Response:
        return Response({})

    draft.mapping.delete(discard_draft)
    attrs = {
        "draft": draft,
        "discard_draft": discard_draft,
        "action_configs": {"discard_draft": ActionConfig()},
    }
    with_mapping: Any = type("WithMapping", (base,), attrs)
    assert with_mapping.action_configs == {"discard_draft": ActionConfig()}
    with pytest.raises(ImproperlyConfigured, match=r"WithTypo\.action_configs .*\['discard'\]"):
        type("WithTypo", (base,), {**attrs, "action_configs": {"discard": ActionConfig()}})
