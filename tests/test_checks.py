"""The optional ``restflow`` app's system checks."""

from __future__ import annotations

import io
from typing import Any, NotRequired, TypedDict

import pytest
from django.conf import settings as django_settings
from django.core import checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings
from django.urls import include, path
from django_filters.rest_framework import (  # type: ignore[import-untyped]  # django-filter ships no type hints
    DjangoFilterBackend,
)
from rest_framework import authentication as drf_authentication
from rest_framework import permissions as drf_permissions
from rest_framework import serializers
from rest_framework import throttling as drf_throttling
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from restflow import authentication, permissions
from restflow.checks import serializer_type_messages, sync_hook_messages
from restflow.serializers import ModelSerializer, Serializer
from restflow.views import APIView, AsyncAPIView, AsyncReadOnlyModelViewSet
from tests.testapp.models import Product
from tests.testapp.serializers import ProductIn
from tests.testapp.serializers import TypedProductSerializer as Agreeing

pytestmark = [pytest.mark.urls(__name__)]


class WrongOut(TypedDict):
    id: int
    title: str
    price: str


class Disagreeing(ModelSerializer[Product, ProductIn, WrongOut]):
    class Meta:
        model = Product
        fields = ["id", "name", "price", "is_top"]


class NoteIn(TypedDict):
    text: str
    secret: str
    when: NotRequired[str]


class NoteOut(TypedDict):
    text: str
    when: str


class Note(Serializer[NoteIn, NoteOut]):
    text = serializers.CharField()
    secret = serializers.CharField(write_only=True)
    when = serializers.CharField(required=False)


class Untyped(ModelSerializer[Product]):
    class Meta:
        model = Product
        fields = ["id"]


class SyncHooked(AsyncAPIView):
    authentication_classes = [
        drf_authentication.SessionAuthentication,
        authentication.TokenAuthentication,
    ]
    permission_classes = [drf_permissions.DjangoModelPermissionsOrAnonReadOnly]
    throttle_classes = []

    async def get(self, request: Request) -> Response:
        return Response({})


class NativeHooked(AsyncAPIView):
    authentication_classes = [authentication.SessionAuthentication]
    permission_classes = [drf_permissions.IsAuthenticated, permissions.IsAdminUser]
    throttle_classes = []


class SyncView(APIView):
    authentication_classes = [drf_authentication.SessionAuthentication]


class Products(AsyncReadOnlyModelViewSet[Product, Disagreeing]):
    queryset = Product.objects.all()
    serializer_class = Disagreeing
    authentication_classes = []
    permission_classes = [drf_permissions.DjangoModelPermissionsOrAnonReadOnly]
    throttle_classes = []


router = SimpleRouter()
router.register("products", Products, basename="product")
urlpatterns = [
    path("hooked/", SyncHooked.as_view()),
    path("native/", NativeHooked.as_view()),
    path("sync/", SyncView.as_view()),
    path("", include(router.urls)),
]


def ids(messages: list[checks.CheckMessage]) -> list[tuple[str | None, Any]]:
    return [(message.id, message.obj) for message in messages]


def test_sync_hooks_on_async_views_are_reported_as_info() -> None:
    messages = sync_hook_messages([SyncHooked])
    assert ids(messages) == [("restflow.I001", SyncHooked), ("restflow.I001", SyncHooked)]
    assert all(message.level == checks.INFO for message in messages)
    assert messages[0].msg == (
        "tests.test_checks.SyncHooked.authentication_classes includes "
        "rest_framework.authentication.SessionAuthentication, a sync authentication class: "
        "on this async view it runs in a worker thread."
    )
    assert messages[0].hint == (
        "Use restflow.authentication.SessionAuthentication, its async counterpart, to keep it "
        "on the event loop."
    )
    assert "DjangoModelPermissionsOrAnonReadOnly, a sync permission class" in messages[1].msg


class OwnPermission(drf_permissions.BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return True


class FilteredByDjangoFilter(AsyncAPIView):
    authentication_classes = []
    permission_classes = [OwnPermission]
    throttle_classes = []
    filter_backends = [DjangoFilterBackend]


def test_a_hook_restflow_has_no_counterpart_of_is_given_a_real_way_out() -> None:
    permission, backend = sync_hook_messages([FilteredByDjangoFilter])
    assert permission.hint == (
        "It works as it is. To keep it on the event loop, give the permission class (or a "
        "subclass) an `async def ahas_permission` doing the same work."
    )
    assert "django_filters.rest_framework.backends.DjangoFilterBackend" in backend.msg
    assert backend.hint == (
        "It works as it is. To keep it on the event loop, give the filter backend (or a "
        "subclass) an `async def afilter_queryset` doing the same work."
    )


def test_native_and_pure_hooks_and_sync_views_are_not_reported() -> None:
    assert sync_hook_messages([NativeHooked, SyncView]) == []


def test_matching_typed_dicts_and_untyped_serializers_pass() -> None:
    assert serializer_type_messages([Agreeing, Untyped]) == []


def test_typed_dicts_follow_write_only_read_only_and_optional_fields() -> None:
    messages = serializer_type_messages([Note])
    assert messages == []


class CheckerOnlyOut(TypedDict):
    # Names imported under TYPE_CHECKING (as in generated modules) do not exist at runtime.
    id: int
    name: NameOnlyTheCheckersSee  # type: ignore[name-defined]  # noqa: F821  # unresolvable at runtime


class CheckerOnlySerializer(ModelSerializer[Product, Any, CheckerOnlyOut]):
    class Meta:
        model = Product
        fields = ["id", "name", "price"]


def test_typed_dict_keys_are_read_without_evaluating_annotations() -> None:
    messages = serializer_type_messages([CheckerOnlySerializer])
    assert [message.id for message in messages] == ["restflow.W001"]
    assert "fields missing from TOut: ['price']" in messages[0].msg


def test_a_disagreeing_tout_is_a_warning_naming_both_sides() -> None:
    messages = serializer_type_messages([Disagreeing])
    assert ids(messages) == [("restflow.W001", Disagreeing), ("restflow.W001", Disagreeing)]
    tin, tout = messages
    assert tin.level == checks.WARNING
    assert tin.msg == (
        "tests.test_checks.Disagreeing declares TIn ProductIn that disagrees with its writable "
        "fields: fields missing from TIn: ['is_top']."
    )
    assert tout.msg == (
        "tests.test_checks.Disagreeing declares TOut WrongOut that disagrees with its readable "
        "fields: fields missing from TOut: ['is_top', 'name']; TOut keys that are not readable "
        "fields: ['title']."
    )


@override_settings(
    INSTALLED_APPS=["restflow.apps.RestflowConfig"], RESTFLOW={"REPORT_SYNC_HOOKS": True}
)
def test_the_app_registers_both_checks_for_the_urlconf_and_imported_serializers() -> None:
    messages = checks.run_checks(tags=["restflow"])
    found = set(ids(messages))
    assert ("restflow.I001", SyncHooked) in found
    assert ("restflow.I001", Products) in found
    assert ("restflow.W001", Disagreeing) in found
    assert ("restflow.W001", Agreeing) not in found


WITH_RESTFLOW = [*django_settings.INSTALLED_APPS, "restflow.apps.RestflowConfig"]


@override_settings(INSTALLED_APPS=["restflow.apps.RestflowConfig"])
def test_sync_hooks_are_not_reported_unless_asked_for() -> None:
    assert [m for m in checks.run_checks(tags=["restflow"]) if m.id == "restflow.I001"] == []


@pytest.mark.parametrize(
    ("restflow", "message"),
    [
        (
            {"JSON_MAX_DEPT": 64},
            "settings.RESTFLOW has unknown keys ['JSON_MAX_DEPT']; restflow reads "
            "['COMPILED_SERIALIZERS', 'JSON_MAX_DEPTH', 'REPORT_SYNC_HOOKS', "
            "'REVALIDATE_ON_INTEGRITY_ERROR'].",
        ),
        (
            {"JSON_MAX_DEPTH": "64"},
            "settings.RESTFLOW['JSON_MAX_DEPTH'] must be int or None, not '64'.",
        ),
    ],
)
# On Django 6 ``manage.py check`` asks the database whether it supports JSONField (the
# test app's ``Specimen`` has one): these tests run the real command, so they may.
@pytest.mark.django_db
def test_a_bad_restflow_setting_fails_manage_py_check(
    restflow: dict[str, object], message: str
) -> None:
    with (
        override_settings(INSTALLED_APPS=WITH_RESTFLOW, RESTFLOW=restflow),
        pytest.raises(SystemCheckError) as failed,
    ):
        call_command("check", stdout=io.StringIO(), stderr=io.StringIO())
    assert f"?: (restflow.E001) {message}" in str(failed.value)
    # The other checks read the same settings: they stay quiet instead of crashing.
    assert "I001" not in str(failed.value)


@pytest.mark.django_db
@override_settings(INSTALLED_APPS=WITH_RESTFLOW, RESTFLOW={"JSON_MAX_DEPTH": 8})
def test_a_valid_restflow_setting_passes_manage_py_check() -> None:
    call_command("check", stdout=io.StringIO(), stderr=io.StringIO())


class OverridesDispatchHooks(AsyncAPIView):
    authentication_classes: list[Any] = []
    permission_classes = [permissions.AllowAny]

    def get_permissions(self) -> list[Any]:
        return [permission() for permission in self.permission_classes]

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        return super().finalize_response(request, response, *args, **kwargs)


class PlanRate(drf_throttling.AnonRateThrottle):
    def get_rate(self) -> str:
        return "5/min"


class BuildsADatabaseRate(AsyncAPIView):
    authentication_classes: list[Any] = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = [PlanRate]


def test_i001_names_view_overrides_that_dispatch_runs_in_a_thread() -> None:
    messages = sync_hook_messages([OverridesDispatchHooks])
    texts = sorted(message.msg for message in messages)
    assert [message.id for message in messages] == ["restflow.I001", "restflow.I001"]
    assert "overrides finalize_response with sync code" in texts[0]
    assert "dispatch's finalize_response step runs in a worker thread" in texts[0]
    assert "overrides get_permissions with sync code" in texts[1]


def test_i001_names_a_throttle_whose_rate_is_read_in_a_thread() -> None:
    (drf_sync, built) = sync_hook_messages([BuildsADatabaseRate])
    assert "PlanRate, a sync throttle class" in drf_sync.msg
    assert "builds throttle_classes whose sync methods it reaches" in built.msg
    assert "get_throttles step" in built.msg
