"""A class that defines both twins has its async twin run, also inside a worker-thread hop.

Each view puts a plain sync hook first, so the rest of the phase runs in one worker
thread; the class after it defines DRF's method and restflow's ``a`` twin. The twin must
be the one that runs, on the event loop's thread (issue 10, item 10), and the hop budget
stays one hop for the phase.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import pytest
from django.db.models import QuerySet
from rest_framework import serializers
from rest_framework.filters import BaseFilterBackend
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle

from restflow.test import AsyncAPIRequestFactory, hop_count
from restflow.views import AsyncAPIView, AsyncCreateAPIView, AsyncListAPIView
from tests.testapp.serializers import Row

#: (what ran, the thread it ran on)
Log = list[tuple[str, int]]
log: Log = []


def _ran(name: str) -> None:
    log.append((name, threading.get_ident()))


factory = AsyncAPIRequestFactory()


async def _run(view: Any, method: str, **kwargs: Any) -> tuple[Any, int, int]:
    """Serve one request; return the response, the hops it took and the loop's thread."""
    log.clear()
    before = hop_count()
    request = getattr(factory, method)("/", **kwargs)
    response = await view.as_view()(request)
    return response, hop_count() - before, threading.get_ident()


# -- permissions and throttles ---------------------------------------------------


class SyncFirst(BasePermission):
    """A plain sync permission: it moves the rest of the phase into a worker thread."""

    def has_permission(self, request: Request, view: Any) -> bool:
        _ran("sync-first")
        return True


class BothPermission(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        _ran("has_permission")
        return False  # the legacy sync path would deny

    async def ahas_permission(self, request: Request, view: Any) -> bool:
        _ran("ahas_permission")
        return True


class SyncThrottle(BaseThrottle):
    def allow_request(self, request: Request, view: Any) -> bool:
        _ran("sync-first")
        return True


class BothThrottle(BaseThrottle):
    def allow_request(self, request: Request, view: Any) -> bool:
        _ran("allow_request")
        return False

    async def aallow_request(self, request: Request, view: Any) -> bool:
        _ran("aallow_request")
        return True


class ChecksView(AsyncAPIView):
    authentication_classes = []
    permission_classes = [SyncFirst, BothPermission]
    throttle_classes = [SyncThrottle, BothThrottle]

    async def get(self, request: Request) -> Response:
        return Response({"ok": True})


async def test_permission_and_throttle_twins_win_inside_the_hop() -> None:
    response, hops, loop_thread = await _run(ChecksView, "get")
    assert response.status_code == 200, response.data
    names = [name for name, _ in log]
    assert names == ["sync-first", "ahas_permission", "sync-first", "aallow_request"]
    threads = dict((name, thread) for name, thread in log if name != "sync-first")
    assert set(threads.values()) == {loop_thread}  # awaited on the loop
    assert log[0][1] != loop_thread  # ... from inside the phase's worker thread
    assert hops == 1


# -- filter backends and paginators -----------------------------------------------


ROWS = [{"n": n} for n in range(5)]


class SyncBackend(BaseFilterBackend):
    def filter_queryset(self, request: Request, queryset: Any, view: Any) -> Any:
        _ran("sync-first")
        return queryset


class BothBackend(BaseFilterBackend):
    def filter_queryset(self, request: Request, queryset: Any, view: Any) -> Any:
        _ran("filter_queryset")
        return queryset

    async def afilter_queryset(self, request: Request, queryset: Any, view: Any) -> Any:
        _ran("afilter_queryset")
        return queryset[1:]


class BothPaginator(PageNumberPagination):
    page_size = 2

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> Any:
        _ran("paginate_queryset")
        return super().paginate_queryset(queryset, request, view)

    async def apaginate_queryset(
        self, queryset: Sequence[Any], request: Request, view: Any = None
    ) -> list[Any] | None:
        _ran("apaginate_queryset")
        return super().paginate_queryset(queryset, request, view)  # a list: no I/O


class ListView(AsyncListAPIView[Any, Row]):
    authentication_classes = []
    permission_classes = []
    throttle_classes = []
    serializer_class = Row
    filter_backends = [SyncBackend, BothBackend]
    pagination_class = BothPaginator

    def get_queryset(self) -> QuerySet[Any]:
        rows: Any = list(ROWS)  # a list stands in for a queryset, as in DRF's own tests
        return rows  # type: ignore[no-any-return]  # the list above


async def test_filter_backend_and_paginator_twins_win_inside_the_hop() -> None:
    response, hops, loop_thread = await _run(ListView, "get")
    assert response.status_code == 200
    assert [row["n"] for row in response.data["results"]] == [1, 2]
    names = [name for name, _ in log]
    assert names == ["sync-first", "afilter_queryset", "apaginate_queryset"]
    assert {thread for name, thread in log if name != "sync-first"} == {loop_thread}
    assert hops == 1


# -- serializers ------------------------------------------------------------------


class BothSerializer(serializers.Serializer[Any]):
    n = serializers.IntegerField()

    def is_valid(self, *, raise_exception: bool = False) -> bool:
        _ran("is_valid")
        return super().is_valid(raise_exception=raise_exception)

    async def ais_valid(self, *, raise_exception: bool = False) -> bool:
        _ran("ais_valid")
        return super().is_valid(raise_exception=raise_exception)  # no I/O

    def save(self, **kwargs: Any) -> Any:
        _ran("save")
        return super().save(**kwargs)

    async def asave(self, **kwargs: Any) -> Any:
        _ran("asave")
        return super().save(**kwargs)  # create() below does no I/O

    def create(self, validated_data: Any) -> Any:
        return dict(validated_data)


class CreateView(AsyncCreateAPIView[Any, BothSerializer]):
    authentication_classes = []
    permission_classes = []
    throttle_classes = []
    serializer_class = BothSerializer


@pytest.mark.django_db
async def test_serializer_twins_win_inside_the_write_hop() -> None:
    response, hops, loop_thread = await _run(CreateView, "post", data={"n": 7}, format="json")
    assert response.status_code == 201, response.data
    assert response.data == {"n": 7}
    assert [name for name, _ in log] == ["ais_valid", "asave"]
    assert {thread for _, thread in log} == {loop_thread}
    assert hops == 1
