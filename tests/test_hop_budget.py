"""restflow's worker-thread hop budget, asserted as counts (never times).

Requests go through Django's ASGI handler (``AsyncClient``); the counter is
``restflow.test.hop_count()``, so only restflow's own hops are counted (Django's
handler adds its own ``sync_to_async`` calls for signals and closing the response).
Under ``restflow.asgi`` those two are gone: there, every hop a request makes is counted
and must be restflow's own (the last test).

- 0 hops on a fully async path;
- 1 hop for the whole authentication/permission/throttle phase once any hook is sync;
- 1 hop for a list (count + page + post-fetch + serialization), a retrieve (lookup +
  object permissions + serialization) and each write (validate + save + serialize).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser, Permission, User
from django.db.models import QuerySet
from django.test import AsyncClient
from django.urls import include, path
from rest_framework import serializers
from rest_framework.authentication import BaseAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView as DRFAPIView

from restflow.asgi import get_asgi_application
from restflow.authentication import TokenAuthentication
from restflow.pagination import PageNumberPagination
from restflow.permissions import DjangoModelPermissions
from restflow.protocols import AsyncBaseAuthentication, AsyncBasePermission, AsyncBaseThrottle
from restflow.test import hop_count
from restflow.views import AsyncAPIView, AsyncListAPIView, AsyncModelViewSet, PostFetch
from tests._asgi import exchange
from tests.testapp.models import Product, Review

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]


# -- hooks: the same behaviour, sync and async ----------------------------------------------


class SyncAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[AnonymousUser, None]:
        return AnonymousUser(), None


class AsyncAuthentication(AsyncBaseAuthentication):
    async def aauthenticate(self, request: Request) -> tuple[AnonymousUser, None]:
        return AnonymousUser(), None


class SyncPermission(BasePermission):
    def has_permission(self, request: Request, view: DRFAPIView) -> bool:
        return True


class AsyncPermission(AsyncBasePermission):
    async def ahas_permission(self, request: Request, view: DRFAPIView) -> bool:
        return True


class AsyncPermissionSyncObjectCheck(AsyncPermission):
    """Async request-level check; the object-level check is a user's sync override."""

    def has_object_permission(self, request: Request, view: DRFAPIView, obj: Any) -> bool:
        return True


class SyncThrottle(BaseThrottle):
    def allow_request(self, request: Request, view: DRFAPIView) -> bool:
        return True


class AsyncThrottle(AsyncBaseThrottle):
    async def aallow_request(self, request: Request, view: DRFAPIView) -> bool:
        return True


HOOKS: dict[str, tuple[type[Any], type[Any], type[Any]]] = {
    "no hooks": (AsyncAuthentication, AllowAny, AsyncThrottle),
    "async hooks": (AsyncAuthentication, AsyncPermission, AsyncThrottle),
    "sync hooks": (SyncAuthentication, SyncPermission, SyncThrottle),
    "sync authentication": (SyncAuthentication, AsyncPermission, AsyncThrottle),
    "sync permission": (AsyncAuthentication, SyncPermission, AsyncThrottle),
    "sync throttle": (AsyncAuthentication, AsyncPermission, SyncThrottle),
}


def _trivial_view(auth: type[Any], permission: type[Any], throttle: type[Any]) -> Any:
    class Trivial(AsyncAPIView):
        authentication_classes = [auth]
        permission_classes = [permission]
        throttle_classes = [throttle]

        async def get(self, request: Request) -> Response:
            return Response({"ok": True})

    return Trivial.as_view()


class Bare(AsyncAPIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []

    async def get(self, request: Request) -> Response:
        return Response({"ok": True})


# -- a product API ------------------------------------------------------------------------


class ProductSerializer(serializers.ModelSerializer[Product]):
    latest_review = serializers.DictField(read_only=True, allow_null=True, default=None)

    class Meta:
        model = Product
        fields = ["id", "name", "price", "latest_review"]


class Pages(PageNumberPagination):
    page_size = 20


LATEST_REVIEW: PostFetch[dict[str, Any]] = PostFetch(
    queryset=Review.objects.all(),
    to_attr="latest_review",
    values=["id", "rating"],
    order_by=["-created_at", "-id"],
    limit=1,
    product_id="id",
)


class ProductViewSet(AsyncModelViewSet[Product, ProductSerializer]):
    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    pagination_class = Pages
    authentication_classes = []
    permission_classes = [AsyncPermissionSyncObjectCheck]
    throttle_classes = []


class ProductList(AsyncListAPIView[Product, ProductSerializer]):
    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    pagination_class = Pages
    authentication_classes = []
    permission_classes = [AsyncPermission]
    throttle_classes = []


class ProductListWithReviews(ProductList):
    async def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset: QuerySet[Product] = await self.afilter_queryset(self.get_queryset())
        return await self.apaginated_response(queryset, post_fetches=[LATEST_REVIEW])


class TokenModelPermissionView(AsyncAPIView):
    """restflow's own I/O-bound hooks join the check phase's flow: one hop for the phase."""

    authentication_classes = [TokenAuthentication]
    permission_classes = [DjangoModelPermissions]
    throttle_classes = []
    queryset = Product.objects.all()

    async def post(self, request: Request) -> Response:
        return Response({"user": request.user.get_username()}, status=201)


router = SimpleRouter()
router.register("viewset/products", ProductViewSet, basename="product")

urlpatterns = [
    path("bare/", Bare.as_view()),
    path("token-model-permissions/", TokenModelPermissionView.as_view()),
    *(path(f"trivial/{name}/", _trivial_view(*hooks)) for name, hooks in HOOKS.items()),
    path("generic/products/", ProductList.as_view()),
    path("generic/products-with-reviews/", ProductListWithReviews.as_view()),
    path("", include(router.urls)),
]


@pytest.fixture
def products(db: None) -> list[Product]:
    items = [Product.objects.create(name=f"p{i}", price=Decimal("1.00")) for i in range(25)]
    for item in items[:10]:
        Review.objects.create(product=item, rating=4)
        Review.objects.create(product=item, rating=5)
    return items


async def _hops(client: AsyncClient, method: str, url: str, **kwargs: Any) -> tuple[int, int]:
    before = hop_count()
    response = await getattr(client, method)(url, content_type="application/json", **kwargs)
    return response.status_code, hop_count() - before


# -- the request checks ---------------------------------------------------------------------


async def test_fully_async_path_takes_no_hop(async_client: AsyncClient) -> None:
    assert await _hops(async_client, "get", "/bare/") == (200, 0)


@pytest.mark.parametrize(
    ("hooks", "hops"),
    [
        ("no hooks", 0),
        ("async hooks", 0),
        ("sync hooks", 1),
        ("sync authentication", 1),
        ("sync permission", 1),
        ("sync throttle", 1),
    ],
)
async def test_the_check_phase_takes_at_most_one_hop(
    async_client: AsyncClient, hooks: str, hops: int
) -> None:
    assert await _hops(async_client, "get", f"/trivial/{hooks}/") == (200, hops)


# -- lists, retrieve, writes ----------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["/generic/products/", "/generic/products-with-reviews/", "/viewset/products/"],
)
async def test_a_list_page_takes_one_hop(
    async_client: AsyncClient, products: list[Product], url: str
) -> None:
    assert await _hops(async_client, "get", url + "?page=2") == (200, 1)


async def test_the_post_fetch_shares_the_list_hop(
    async_client: AsyncClient, products: list[Product]
) -> None:
    before = hop_count()
    response = await async_client.get("/generic/products-with-reviews/")
    assert hop_count() - before == 1
    latest = {row["id"]: row["latest_review"] for row in response.json()["results"]}
    assert latest[products[0].pk]["rating"] == 5
    assert latest[products[15].pk] is None


async def test_retrieve_takes_one_hop(async_client: AsyncClient, products: list[Product]) -> None:
    url = f"/viewset/products/{products[0].pk}/"
    assert await _hops(async_client, "get", url) == (200, 1)


async def test_create_takes_one_hop(async_client: AsyncClient, products: list[Product]) -> None:
    body = {"name": "new", "price": "2.50"}
    assert await _hops(async_client, "post", "/viewset/products/", data=body) == (201, 1)


@pytest.mark.parametrize("method", ["put", "patch"])
async def test_update_takes_one_hop(
    async_client: AsyncClient, products: list[Product], method: str
) -> None:
    url = f"/viewset/products/{products[0].pk}/"
    body = {"name": "renamed", "price": "3.00"}
    assert await _hops(async_client, method, url, data=body) == (200, 1)


async def test_delete_takes_one_hop(async_client: AsyncClient, products: list[Product]) -> None:
    url = f"/viewset/products/{products[0].pk}/"
    assert await _hops(async_client, "delete", url) == (204, 1)


# -- the whole request under restflow.asgi --------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("url", "budget"),
    [
        ("/bare/", 0),
        ("/trivial/async hooks/", 0),
        ("/trivial/sync hooks/", 1),
        ("/generic/products/?page=2", 1),
        ("/generic/products-with-reviews/", 1),
        ("/viewset/products/1/", 1),
    ],
)
async def test_under_restflow_asgi_every_hop_is_restflows_own(
    settings: Any, hops: list[str], url: str, budget: int
) -> None:
    settings.MIDDLEWARE = []  # sync middleware would hop; the budget is restflow's
    await Product.objects.abulk_create(
        Product(pk=i, name=f"p{i}", price=Decimal("1.00")) for i in range(1, 26)
    )
    hops.clear()
    app = get_asgi_application()
    before = hop_count()
    path, _, query = url.partition("?")
    response = await exchange(app, path, query=query.encode())
    assert response.status == 200
    assert len(hops) == hop_count() - before == budget
    await app.aclose()


# -- restflow's I/O-bound batteries share the check phase's hop --------------------------


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
        "/token-model-permissions/",
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
        "/token-model-permissions/",
        {},
        content_type="application/json",
        headers={"authorization": f"Token {token}"},
    )
    assert response.status_code == 403
    assert hop_count() - before == 1
