"""``restflow.permissions``: DRF's answers on sync and async views, and safe composition."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth.backends import BaseBackend, ModelBackend
from django.contrib.auth.models import AnonymousUser, Permission, User
from django.core.exceptions import ImproperlyConfigured
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path
from rest_framework import permissions as drf
from rest_framework import views as drf_views
from rest_framework.authentication import BasicAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory

from restflow import permissions as rf
from restflow.protocols import AsyncBaseAuthentication, AsyncBasePermission, UserAuthTuple
from restflow.test import hop_count
from restflow.views import APIView, AsyncAPIView
from tests._clients import basic_auth, outcome, send
from tests.testapp.models import Product

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]

KINDS = ("drf", "sync", "async")
_BASES: dict[str, type[drf_views.APIView]] = {
    "drf": drf_views.APIView,
    "sync": APIView,
    "async": AsyncAPIView,
}


def _ok(view: drf_views.APIView, request: Request, pk: int | None) -> Response:
    return Response({"ok": True, "method": request.method})


def _build(kind: str, permission: Any, **attrs: Any) -> Any:
    """A view on ``kind``'s base that checks ``permission`` (and, with a pk, the object)."""
    if kind == "async":

        async def handler(self: Any, request: Request, pk: int | None = None) -> Response:
            if pk is not None:
                obj = await Product.objects.aget(pk=pk)
                await self.acheck_object_permissions(request, obj)
            return _ok(self, request, pk)

    else:

        def handler(self: Any, request: Request, pk: int | None = None) -> Response:  # type: ignore[misc]  # the sync variant of the same handler
            if pk is not None:
                self.check_object_permissions(request, get_object_or_404(Product, pk=pk))
            return _ok(self, request, pk)

    namespace: dict[str, Any] = {
        "__module__": __name__,
        "permission_classes": [permission],
        "authentication_classes": [BasicAuthentication],
        "queryset": Product.objects.all(),
        **attrs,
    }
    for method in ("get", "post", "put", "delete"):
        namespace[method] = handler
    view_class: Any = type(f"{kind.title()}View", (_BASES[kind],), namespace)
    return view_class.as_view()


# -- permissions under test --------------------------------------------------------


class SyncAllow(drf.BasePermission):
    pass


class SyncDeny(drf.BasePermission):
    message = "sync says no"
    code = "sync_no"

    def has_permission(self, request: Request, view: Any) -> bool:
        return False

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        return False


class AsyncAllow(AsyncBasePermission):
    pass


class AsyncDeny(AsyncBasePermission):
    message = "async says no"
    code = "async_no"

    async def ahas_permission(self, request: Request, view: Any) -> bool:
        return False

    async def ahas_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        return False


class AdrfAllow(drf.BasePermission):
    async def has_permission(self, request: Request, view: Any) -> bool:  # type: ignore[override]  # adrf style
        return True

    async def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:  # type: ignore[override]  # adrf style
        return True


class AdrfDeny(drf.BasePermission):
    message = "adrf says no"
    code = "adrf_no"

    async def has_permission(self, request: Request, view: Any) -> bool:  # type: ignore[override]  # adrf style
        return False

    async def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:  # type: ignore[override]  # adrf style
        return False


class Boom(drf.BasePermission):
    """Fails the test if asked: proves short-circuiting."""

    def has_permission(self, request: Request, view: Any) -> bool:
        raise AssertionError("short-circuit expected")

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        raise AssertionError("short-circuit expected")


OPERANDS: dict[str, tuple[type[drf.BasePermission], bool]] = {
    "sync-allow": (SyncAllow, True),
    "sync-deny": (SyncDeny, False),
    "async-allow": (AsyncAllow, True),
    "async-deny": (AsyncDeny, False),
    "adrf-allow": (AdrfAllow, True),
    "adrf-deny": (AdrfDeny, False),
}
PAIRS = list(itertools.product(OPERANDS, repeat=2))


def _request(method: str = "get", user: Any = None) -> Request:
    request = Request(getattr(APIRequestFactory(), method)("/"))
    request.user = user if user is not None else AnonymousUser()
    return request


# -- composition: truth tables ----------------------------------------------------


@pytest.mark.parametrize(("left", "right"), PAIRS)
def test_and_or_truth_tables_sync_face(left: str, right: str) -> None:
    (a, a_ok), (b, b_ok) = OPERANDS[left], OPERANDS[right]
    request, view = _request(), drf_views.APIView()
    for holder, expected in (
        (rf.OperandHolder(rf.AND, a, b), a_ok and b_ok),
        (rf.OperandHolder(rf.OR, a, b), a_ok or b_ok),
    ):
        composed = holder()
        assert composed.has_permission(request, view) is expected
        assert composed.has_object_permission(request, view, object()) is expected


@pytest.mark.parametrize(("left", "right"), PAIRS)
async def test_and_or_truth_tables_async_face(left: str, right: str) -> None:
    (a, a_ok), (b, b_ok) = OPERANDS[left], OPERANDS[right]
    request, view = _request(), drf_views.APIView()
    for holder, expected in (
        (rf.OperandHolder(rf.AND, a, b), a_ok and b_ok),
        (rf.OperandHolder(rf.OR, a, b), a_ok or b_ok),
    ):
        composed: Any = holder()
        assert await composed.ahas_permission(request, view) is expected
        assert await composed.ahas_object_permission(request, view, object()) is expected


@pytest.mark.parametrize("operand", OPERANDS)
def test_not_inverts_every_kind_of_operand(operand: str) -> None:
    permission, allowed = OPERANDS[operand]
    composed: Any = rf.SingleOperandHolder(rf.NOT, permission)()
    request, view = _request(), drf_views.APIView()
    assert composed.has_permission(request, view) is (not allowed)
    assert async_to_sync(composed.ahas_permission)(request, view) is (not allowed)


@pytest.mark.parametrize(
    ("holder", "expected"),
    [
        (rf.OperandHolder(rf.AND, SyncDeny, Boom), False),
        (rf.OperandHolder(rf.AND, AdrfDeny, Boom), False),
        (rf.OperandHolder(rf.OR, SyncAllow, Boom), True),
        (rf.OperandHolder(rf.OR, AdrfAllow, Boom), True),
    ],
)
def test_composition_short_circuits_like_drf(holder: Any, expected: bool) -> None:
    composed = holder()
    request, view = _request(), drf_views.APIView()
    assert composed.has_permission(request, view) is expected
    assert async_to_sync(composed.ahas_permission)(request, view) is expected


def test_restflow_classes_compose_into_restflow_operators() -> None:
    assert type(rf.IsAuthenticated & rf.IsAdminUser) is rf.OperandHolder
    assert type(drf.IsAuthenticated & rf.IsAdminUser) is rf.OperandHolder  # reflected first
    assert type(rf.AllowAny | drf.IsAdminUser) is rf.OperandHolder
    assert type(~rf.AllowAny) is rf.SingleOperandHolder
    assert type(~rf.AllowAny & drf.AllowAny) is rf.OperandHolder
    composed = (rf.IsAuthenticated & drf.IsAdminUser)()
    assert isinstance(composed, rf.AND)
    assert isinstance(composed, drf.AND)  # restflow's views walk DRF's operators


def test_composed_permissions_keep_drf_equality_and_hashing() -> None:
    first = rf.IsAuthenticated & rf.IsAdminUser
    second = rf.IsAuthenticated & rf.IsAdminUser
    assert first == second
    assert hash(first) == hash(second)
    assert len({first, second}) == 1
    assert first != (rf.IsAuthenticated | rf.IsAdminUser)
    assert first != (rf.IsAdminUser & rf.IsAuthenticated)
    assert isinstance(first, drf.OperandHolder)


def test_a_denial_carries_the_failing_operands_message_and_code() -> None:
    request, view = _request(), drf_views.APIView()
    composed: Any = (rf.AllowAny & AdrfDeny)()
    assert composed.has_permission(request, view) is False
    assert (composed.message, composed.code) == ("adrf says no", "adrf_no")
    negated: Any = (~rf.AllowAny)()
    assert negated.has_permission(request, view) is False
    assert (negated.message, negated.code) == (None, None)  # DRF's default text


# -- composition on views ------------------------------------------------------------

VIEW_CASES: list[tuple[str, Any, int, str | None]] = [
    ("rf-and-adrf-deny", rf.AllowAny & AdrfDeny, 403, "adrf says no"),
    ("rf-and-async-deny", AsyncDeny & rf.AllowAny, 403, "async says no"),
    ("rf-or-adrf-deny", rf.OperandHolder(rf.OR, SyncDeny, AdrfDeny), 403, "adrf says no"),
    ("rf-or-allow", rf.OperandHolder(rf.OR, AdrfDeny, AsyncAllow), 200, None),
    ("rf-not-adrf-allow", ~rf.AllowAny | rf.SingleOperandHolder(rf.NOT, AdrfAllow), 403, None),
    ("drf-and-adrf-deny", drf.AllowAny & AdrfDeny, 403, "adrf says no"),
    ("drf-or-adrf-allow", SyncDeny | AdrfAllow, 200, None),
    ("drf-not-adrf-allow", ~AdrfAllow, 403, None),
]
DEFAULT_DENIAL = "You do not have permission to perform this action."

urlpatterns: list[URLPattern] = []
for _name, _permission, _status, _message in VIEW_CASES:
    for _kind in ("sync", "async"):
        urlpatterns.append(
            path(
                f"compose/{_kind}/{_name}/",
                _build(_kind, _permission, authentication_classes=[]),
            )
        )


@pytest.mark.parametrize(("name", "permission", "status", "message"), VIEW_CASES)
@pytest.mark.parametrize(("kind", "client"), [("sync", "api"), ("async", "api"), ("async", "asgi")])
def test_composition_on_views_awaits_async_operands(
    name: str, permission: Any, status: int, message: str | None, kind: str, client: str
) -> None:
    response = send(client, "get", f"/compose/{kind}/{name}/")
    assert response.status_code == status
    if status == 403:
        assert response.data["detail"] == (message or DEFAULT_DENIAL)


def test_drf_own_view_reads_a_restflow_composition_safely() -> None:
    """A plain DRF view calls the sync face: the adrf coroutine is awaited, not truthy."""
    view = _build("drf", rf.AllowAny & AdrfDeny, authentication_classes=[])
    response = view(APIRequestFactory().get("/"))
    assert response.status_code == 403
    assert response.data["detail"] == "adrf says no"
    assert response.data["detail"].code == "adrf_no"


# -- the stock classes, side by side with DRF ---------------------------------------

PAIRED = {
    "AllowAny": (drf.AllowAny, rf.AllowAny),
    "IsAuthenticated": (drf.IsAuthenticated, rf.IsAuthenticated),
    "IsAdminUser": (drf.IsAdminUser, rf.IsAdminUser),
    "IsAuthenticatedOrReadOnly": (drf.IsAuthenticatedOrReadOnly, rf.IsAuthenticatedOrReadOnly),
    "DjangoModelPermissions": (drf.DjangoModelPermissions, rf.DjangoModelPermissions),
    "DjangoModelPermissionsOrAnonReadOnly": (
        drf.DjangoModelPermissionsOrAnonReadOnly,
        rf.DjangoModelPermissionsOrAnonReadOnly,
    ),
}
for _name, (_drf_class, _rf_class) in PAIRED.items():
    for _kind in KINDS:
        _class = _drf_class if _kind == "drf" else _rf_class
        urlpatterns.append(path(f"stock/{_kind}/{_name}/", _build(_kind, _class)))


@pytest.fixture
def people() -> dict[str, dict[str, str]]:
    """Request headers for: nobody, a plain user, a staff user, a user who may add products."""
    User.objects.create_user("plain", password="pw")
    User.objects.create_user("staff", password="pw", is_staff=True)
    adder = User.objects.create_user("adder", password="pw")
    adder.user_permissions.add(Permission.objects.get(codename="add_product"))
    return {
        "anonymous": {},
        "plain": basic_auth("plain", "pw"),
        "staff": basic_auth("staff", "pw"),
        "adder": basic_auth("adder", "pw"),
    }


@pytest.mark.parametrize("name", PAIRED)
@pytest.mark.parametrize("method", ["get", "post", "delete"])
@pytest.mark.parametrize("who", ["anonymous", "plain", "staff", "adder"])
def test_stock_permissions_answer_as_drf(
    people: dict[str, dict[str, str]], name: str, method: str, who: str
) -> None:
    headers = people[who]
    expected = outcome(send("api", method, f"/stock/drf/{name}/", headers=headers))
    for kind, client in (("sync", "api"), ("async", "api"), ("async", "asgi")):
        response = send(client, method, f"/stock/{kind}/{name}/", headers=headers)
        assert outcome(response) == expected, (kind, client)


# -- hop budgets --------------------------------------------------------------------


class HeaderAuthentication(AsyncBaseAuthentication):
    """Native async authentication (async ORM), so a test sees the permissions' own hops."""

    async def aauthenticate(self, request: Request) -> UserAuthTuple | None:
        username = request.headers.get("X-User")
        if username is None:
            return None
        return await User.objects.aget(username=username), None


PURE = [rf.AllowAny, rf.IsAuthenticated, rf.IsAdminUser, rf.IsAuthenticatedOrReadOnly]
for _class in PURE:
    urlpatterns.append(
        path(f"hops/{_class.__name__}/", _build("async", _class, authentication_classes=[]))
    )
for _class in (rf.DjangoModelPermissions, rf.DjangoModelPermissionsOrAnonReadOnly):
    urlpatterns.append(
        path(
            f"hops/{_class.__name__}/",
            _build("async", _class, authentication_classes=[HeaderAuthentication]),
        )
    )


@pytest.mark.parametrize("permission", PURE)
@pytest.mark.parametrize("method", ["get", "post"])
def test_request_only_permissions_take_no_hop(permission: type[Any], method: str) -> None:
    before = hop_count()
    response = send("asgi", method, f"/hops/{permission.__name__}/")
    assert response.status_code in (200, 403)
    assert hop_count() == before


@pytest.mark.parametrize(
    ("name", "method", "who", "status", "hops"),
    [
        # No permission is required for a read: no query, no hop.
        ("DjangoModelPermissions", "get", "plain", 200, 0),
        ("DjangoModelPermissionsOrAnonReadOnly", "get", None, 200, 0),
        # A write asks the auth backends: one hop.
        ("DjangoModelPermissions", "post", "plain", 403, 1),
        ("DjangoModelPermissions", "post", "adder", 200, 1),
        # Anonymous writes are asked too (a backend may grant them), as DRF does.
        ("DjangoModelPermissionsOrAnonReadOnly", "post", None, 403, 1),
    ],
)
def test_model_permissions_hop_only_to_ask_the_backends(
    people: dict[str, dict[str, str]],
    name: str,
    method: str,
    who: str | None,
    status: int,
    hops: int,
) -> None:
    headers = {} if who is None else {"X-User": who}
    before = hop_count()
    response = send("asgi", method, f"/hops/{name}/", headers=headers)
    assert response.status_code == status
    assert hop_count() - before == hops


# -- DjangoModelPermissions and the view's queryset ------------------------------------


class _OnlyReviewsQueryset:
    """A user ``get_queryset`` that names another model: the permission must follow it."""

    def get_queryset(self) -> Any:
        from tests.testapp.models import Review

        return Review.objects.all()


for _kind in ("sync", "async"):
    urlpatterns.append(
        path(
            f"queryset/{_kind}/",
            _build(
                _kind,
                rf.DjangoModelPermissions,
                get_queryset=_OnlyReviewsQueryset.get_queryset,
                authentication_classes=[HeaderAuthentication],
            ),
        )
    )
    urlpatterns.append(
        path(
            f"no-queryset/{_kind}/",
            _build(_kind, rf.DjangoModelPermissions, queryset=None),
        )
    )


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_user_get_queryset_decides_the_model(
    people: dict[str, dict[str, str]], kind: str
) -> None:
    # "adder" may add products, not reviews: the override names Review.
    response = send("api", "post", f"/queryset/{kind}/", headers={"X-User": "adder"})
    assert response.status_code == 403
    user = User.objects.get(username="adder")
    user.user_permissions.add(Permission.objects.get(codename="add_review"))
    response = send("api", "post", f"/queryset/{kind}/", headers={"X-User": "adder"})
    assert response.status_code == 200


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_view_without_a_queryset_is_refused_with_drf_text(
    people: dict[str, dict[str, str]], kind: str
) -> None:
    with pytest.raises(ImproperlyConfigured, match=r"does not set `\.queryset`"):
        send("api", "post", f"/no-queryset/{kind}/", headers=people["plain"])


# -- DjangoObjectPermissions: 404 versus 403 --------------------------------------------


class OwnerBackend(BaseBackend):
    """Object permissions: owners may change; anyone may view a top product."""

    def has_perm(self, user_obj: Any, perm: str, obj: Any = None) -> bool:
        if obj is None:  # model level: every active user
            return bool(user_obj.is_active)
        if perm.startswith("testapp.view_"):
            return bool(obj.is_top or obj.owner_id == user_obj.pk)
        return bool(obj.owner_id == user_obj.pk)


class _ReadChecked:
    perms_map = {
        **drf.DjangoObjectPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
    }


class DrfOwnerPermissions(_ReadChecked, drf.DjangoObjectPermissions):
    pass


class RfOwnerPermissions(_ReadChecked, rf.DjangoObjectPermissions):
    pass


for _kind in KINDS:
    _class = DrfOwnerPermissions if _kind == "drf" else RfOwnerPermissions
    urlpatterns.append(path(f"objects/{_kind}/<int:pk>/", _build(_kind, _class)))


@pytest.fixture
def owned(settings: Any) -> dict[str, int]:
    settings.AUTHENTICATION_BACKENDS = [
        f"{ModelBackend.__module__}.ModelBackend",
        f"{__name__}.OwnerBackend",
    ]
    owner = User.objects.create_user("owner", password="pw")
    User.objects.create_user("other", password="pw")
    public = Product.objects.create(name="public", price=1, owner=owner, is_top=True)
    private = Product.objects.create(name="private", price=1, owner=owner)
    return {"public": public.pk, "private": private.pk}


@pytest.mark.parametrize(
    ("who", "method", "product", "status"),
    [
        ("owner", "put", "private", 200),
        ("owner", "get", "private", 200),
        ("other", "get", "public", 200),
        ("other", "put", "public", 403),  # may read it: told no
        ("other", "put", "private", 404),  # may not even read it: not found
        ("other", "get", "private", 404),
        ("other", "delete", "private", 404),
    ],
)
def test_object_permissions_answer_as_drf(
    owned: dict[str, int], who: str, method: str, product: str, status: int
) -> None:
    headers = basic_auth(who, "pw")
    url = f"/objects/{{}}/{owned[product]}/"
    expected = outcome(send("api", method, url.format("drf"), headers=headers))
    assert expected[0] == status
    for kind, client in (("sync", "api"), ("async", "api"), ("async", "asgi")):
        response = send(client, method, url.format(kind), headers=headers)
        assert outcome(response) == expected, (kind, client)
