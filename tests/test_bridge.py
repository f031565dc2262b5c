"""The bridge: hook classification, override detection, and the two flow drivers."""

from __future__ import annotations

import importlib
import threading
from typing import Any

import pytest
from rest_framework import views as drf_views
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request

from restflow import _hooks as hooks
from restflow._bridge import Flow, Step, drive_async, drive_sync, override_step, sync_override_step
from restflow._hooks import Hook
from restflow._introspect import Mode, Override, hook_mode, override
from restflow.protocols import AsyncBasePermission
from restflow.test import hop_count
from restflow.views import AsyncAPIView

# -- hook_mode --------------------------------------------------------------------------


class SyncPermission(BasePermission):
    def has_permission(self, request: Request, view: drf_views.APIView) -> bool:
        return True


class NativePermission(AsyncBasePermission):
    async def ahas_permission(self, request: Request, view: drf_views.APIView) -> bool:
        return True


class SyncOverrideOfNative(NativePermission):
    def has_permission(self, request: Request, view: drf_views.APIView) -> bool:
        return False


class AsyncOverrideOfSyncOverride(SyncOverrideOfNative):
    async def ahas_permission(self, request: Request, view: drf_views.APIView) -> bool:
        return True


class AdrfPermission(BasePermission):
    async def has_permission(self, request: Request, view: drf_views.APIView) -> bool:  # type: ignore[override]  # adrf style
        return True


class AllowAnySubclass(AllowAny):
    pass


@pytest.mark.parametrize(
    ("cls", "mode"),
    [
        (SyncPermission, Mode.BLOCKING),
        (BasePermission, Mode.BLOCKING),
        # The user's own async twin: awaited, also from inside a worker-thread hop.
        (NativePermission, Mode.TWIN),
        # restflow's own twin: inside a hop, its sync face (the same algorithm) runs.
        (AsyncBasePermission, Mode.NATIVE),
        # A user's sync override of a restflow async class is honoured, in a thread.
        (SyncOverrideOfNative, Mode.BLOCKING),
        (AsyncOverrideOfSyncOverride, Mode.TWIN),
        (AdrfPermission, Mode.ADRF),
        (AllowAny, Mode.INLINE),
        # Only the registered classes themselves are inline: a subclass may do I/O.
        (AllowAnySubclass, Mode.BLOCKING),
    ],
)
def test_hook_mode(cls: type, mode: Mode) -> None:
    assert hook_mode(cls, hooks.HAS_PERMISSION) is mode


def test_hook_mode_is_computed_once_per_class() -> None:
    class Later(BasePermission):
        def has_permission(self, request: Request, view: drf_views.APIView) -> bool:
            return True

    assert hook_mode(Later, hooks.HAS_PERMISSION) is Mode.BLOCKING

    async def ahas_permission(self: Any, request: Request, view: drf_views.APIView) -> bool:
        return True

    Later.ahas_permission = ahas_permission  # type: ignore[attr-defined]  # changes the class after classification
    assert hook_mode(Later, hooks.HAS_PERMISSION) is Mode.BLOCKING


# -- override / override_step --------------------------------------------------------


class NoOverrides(AsyncAPIView):
    pass


class SyncOverride(AsyncAPIView):
    def check_permissions(self, request: Request) -> None:
        pass


class AsyncDefOnSyncName(AsyncAPIView):
    async def check_permissions(self, request: Request) -> None:  # type: ignore[override]  # the case under test
        pass


class AsyncOverride(AsyncAPIView):
    async def acheck_permissions(self, request: Request) -> None:
        pass


class BothOverrides(SyncOverride):
    async def acheck_permissions(self, request: Request) -> None:
        pass


@pytest.mark.parametrize(
    ("cls", "expected"),
    [
        (drf_views.APIView, (Override.DEFAULT, "check_permissions")),
        (NoOverrides, (Override.DEFAULT, "check_permissions")),
        (SyncOverride, (Override.SYNC, "check_permissions")),
        (AsyncDefOnSyncName, (Override.ASYNC, "check_permissions")),
        (AsyncOverride, (Override.ASYNC, "acheck_permissions")),
        (BothOverrides, (Override.ASYNC, "acheck_permissions")),
    ],
)
def test_override_precedence(cls: type, expected: tuple[Override, str]) -> None:
    assert override(cls, hooks.CHECK_PERMISSIONS) == expected


def test_override_step_kinds() -> None:
    request: Any = object()
    assert override_step(NoOverrides(), hooks.CHECK_PERMISSIONS) is None
    sync = override_step(SyncOverride(), hooks.CHECK_PERMISSIONS, request)
    assert sync is not None
    assert sync.arun is None
    assert not sync.inline
    asynchronous = override_step(AsyncOverride(), hooks.CHECK_PERMISSIONS)
    assert asynchronous is not None
    assert asynchronous.arun is not None


def test_sync_override_step_ignores_the_async_twin() -> None:
    request: Any = object()
    assert sync_override_step(AsyncOverride(), hooks.CHECK_PERMISSIONS) is None
    step = sync_override_step(SyncOverride(), hooks.CHECK_PERMISSIONS, request)
    assert step is not None


# -- drivers ------------------------------------------------------------------------------


Log = list[tuple[str, int]]


def _record(log: Log, name: str) -> str:
    log.append((name, threading.get_ident()))
    return name


async def _arecord(log: Log, name: str) -> str:
    return _record(log, name)


def _steps(log: Log) -> Flow[list[str]]:
    seen = [
        (yield Step.awaiting(_arecord, log, "native-1")),
        (yield Step.pure(_record, log, "pure-1")),
        (yield Step.either(_record, _arecord, log, "either-1")),
        (yield Step.blocking(_record, log, "blocking")),
        (yield Step.awaiting(_arecord, log, "native-2")),
        (yield Step.either(_record, _arecord, log, "either-2")),
        (yield Step.pure(_record, log, "pure-2")),
    ]
    return seen


NAMES = ["native-1", "pure-1", "either-1", "blocking", "native-2", "either-2", "pure-2"]


async def test_drive_async_moves_the_rest_of_the_flow_into_one_hop() -> None:
    log: Log = []
    loop_thread = threading.get_ident()
    before = hop_count()
    assert await drive_async(_steps(log)) == NAMES
    assert hop_count() - before == 1
    # Everything before the first blocking step ran on the loop's thread; everything from
    # it on ran in the worker thread, async-capable steps through their sync face. (An
    # async-only step's face is async_to_sync, which asgiref sends back to the outer loop
    # while the worker waits.)
    assert [name for name, _ in log] == NAMES
    on_loop_thread = [thread == loop_thread for _, thread in log]
    assert on_loop_thread == [True, True, True, False, True, False, False]


def test_drive_sync_runs_every_step_on_the_calling_thread() -> None:
    log: Log = []
    before = hop_count()
    assert drive_sync(_steps(log)) == NAMES
    assert hop_count() - before == 0
    assert [name for name, _ in log] == NAMES
    # Async-capable steps use their sync face here; only async-only steps leave the thread.
    here = threading.get_ident()
    assert [thread == here for _, thread in log] == [False, True, True, True, False, True, True]


async def test_drive_async_without_blocking_steps_takes_no_hop() -> None:
    def flow() -> Flow[str]:
        first: str = yield Step.awaiting(_arecord, [], "a")
        second: str = yield Step.pure(_record, [], "b")
        return first + second

    before = hop_count()
    assert await drive_async(flow()) == "ab"
    assert hop_count() - before == 0


class Oops(Exception):
    pass


def _fail() -> None:
    raise Oops("sync")


async def _afail() -> None:
    raise Oops("async")


def _catching(step: Step[Any]) -> Flow[str]:
    try:
        yield step
    except Oops as error:
        return f"caught {error}"
    return "not raised"


def _not_catching(step: Step[Any]) -> Flow[str]:
    yield step
    return "not raised"


STEPS = {
    "blocking": lambda: Step.blocking(_fail),
    "awaiting": lambda: Step.awaiting(_afail),
    "pure": lambda: Step.pure(_fail),
}


@pytest.mark.parametrize("kind", list(STEPS))
async def test_step_errors_are_thrown_into_the_flow_async(kind: str) -> None:
    expected = "caught async" if kind == "awaiting" else "caught sync"
    assert await drive_async(_catching(STEPS[kind]())) == expected
    with pytest.raises(Oops):
        await drive_async(_not_catching(STEPS[kind]()))


@pytest.mark.parametrize("kind", list(STEPS))
def test_step_errors_are_thrown_into_the_flow_sync(kind: str) -> None:
    expected = "caught async" if kind == "awaiting" else "caught sync"
    assert drive_sync(_catching(STEPS[kind]())) == expected
    with pytest.raises(Oops):
        drive_sync(_not_catching(STEPS[kind]()))


async def test_an_error_raised_by_the_flow_after_the_hop_propagates() -> None:
    def flow() -> Flow[None]:
        yield Step.blocking(_record, [], "x")
        raise Oops("after the hop")

    with pytest.raises(Oops, match="after the hop"):
        await drive_async(flow())


async def _coroutine() -> bool:
    return True


def _returns_coroutine() -> Any:
    return _coroutine()


@pytest.mark.parametrize("make", [Step.blocking, Step.pure])
async def test_a_sync_face_returning_an_awaitable_fails_closed(make: Any) -> None:
    def flow() -> Flow[bool]:
        return bool((yield make(_returns_coroutine)))

    with pytest.raises(TypeError, match="returned an awaitable from a sync call"):
        await drive_async(flow())
    with pytest.raises(TypeError, match="returned an awaitable from a sync call"):
        drive_sync(flow())


@pytest.mark.parametrize(
    ("hook_class", "hook"),
    [
        ("restflow.authentication.BasicAuthentication", hooks.AUTHENTICATE),
        ("restflow.authentication.TokenAuthentication", hooks.AUTHENTICATE),
        ("restflow.authentication.SessionAuthentication", hooks.AUTHENTICATE),
        ("restflow.throttling.AnonRateThrottle", hooks.ALLOW_REQUEST),
        ("restflow.throttling.ScopedRateThrottle", hooks.ALLOW_REQUEST),
        ("restflow.pagination.PageNumberPagination", hooks.PAGINATOR_PAGINATE_QUERYSET),
        ("restflow.pagination.CursorPagination", hooks.PAGINATOR_PAGINATE_QUERYSET),
        ("restflow.filters.OrderingFilter", hooks.BACKEND_FILTER_QUERYSET),
        ("restflow.permissions.DjangoModelPermissions", hooks.HAS_PERMISSION),
    ],
)
def test_restflow_batteries_are_native_whatever_their_base_order(
    hook_class: str, hook: Hook
) -> None:
    # A battery lists DRF's class first, so DRF's sync method precedes restflow's
    # async one in the MRO; a library sync method must not outrank the async twin.
    module_name, _, class_name = hook_class.rpartition(".")
    cls = getattr(importlib.import_module(module_name), class_name)
    assert hook_mode(cls, hook) is Mode.NATIVE
