"""The serializer getters' async twins are honoured where the flows build serializers.

A user's async twin (``aget_serializer_class``, ``aget_request_serializer_class``,
``aget_serializer_context``, ``aget_serializer``) is awaited on the event loop's thread;
a user's sync override runs in a worker thread; when a class defines both, the async
one runs. A view that overrides nothing takes the hops it always took.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db.models import QuerySet
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.serializers import BaseSerializer

from restflow.test import AsyncAPIRequestFactory, hop_count
from restflow.views import AsyncCreateAPIView, AsyncListAPIView
from tests.testapp.serializers import Row

#: (which getter ran, the thread it ran on)
log: list[tuple[str, int]] = []

ROWS = [{"n": 1}, {"n": 2}]


def _ran(name: str) -> None:
    log.append((name, threading.get_ident()))


class Labelled(serializers.Serializer[Any]):
    """Renders ``n`` with the context's ``tag``."""

    n = serializers.IntegerField()
    tag = serializers.SerializerMethodField()

    def get_tag(self, obj: Any) -> str:
        return str(self.context["tag"])


class Saving(serializers.Serializer[Any]):
    """Validates ``n`` and saves without I/O."""

    n = serializers.IntegerField(min_value=0)

    def create(self, validated_data: Any) -> Any:
        return dict(validated_data)


class Listing(AsyncListAPIView[Any, Any]):
    authentication_classes = []
    permission_classes = []
    throttle_classes = []

    async def aget_queryset(self) -> QuerySet[Any]:
        rows: Any = list(ROWS)  # a list stands in for a queryset, as in DRF's own tests
        return rows  # type: ignore[no-any-return]  # the list above


class Plain(Listing):
    serializer_class = Row


class AsyncClass(Listing):
    async def aget_serializer_class(self) -> type[BaseSerializer[Any]]:
        _ran("aget_serializer_class")
        return Row


class SyncClass(Listing):
    def get_serializer_class(self) -> type[BaseSerializer[Any]]:
        _ran("get_serializer_class")
        return Row


class BothClass(Listing):
    def get_serializer_class(self) -> type[BaseSerializer[Any]]:
        _ran("get_serializer_class")
        return Labelled  # would fail: no label in the context

    async def aget_serializer_class(self) -> type[BaseSerializer[Any]]:
        _ran("aget_serializer_class")
        return Row


class AsyncContext(Listing):
    serializer_class = Labelled

    async def aget_serializer_context(self) -> dict[str, Any]:
        _ran("aget_serializer_context")
        return {**self.get_serializer_context(), "tag": "async"}


class SyncContext(Listing):
    serializer_class = Labelled

    def get_serializer_context(self) -> dict[str, Any]:
        _ran("get_serializer_context")
        return {**super().get_serializer_context(), "tag": "sync"}


class AsyncBuild(Listing):
    serializer_class = Labelled

    async def aget_serializer(self, *args: Any, **kwargs: Any) -> Any:
        _ran("aget_serializer")
        kwargs["context"] = {"tag": "built"}
        return await super().aget_serializer(*args, **kwargs)  # restflow's twin: no recursion


class Creating(AsyncCreateAPIView[Any, Any]):
    authentication_classes = []
    permission_classes = []
    throttle_classes = []
    serializer_class = Row  # renders the saved row

    async def aget_request_serializer_class(self) -> type[BaseSerializer[Any]]:
        _ran("aget_request_serializer_class")
        return Saving


class CreatingThroughClass(AsyncCreateAPIView[Any, Any]):
    """Only ``aget_serializer_class``: the request and response getters' defaults reach it."""

    authentication_classes = []
    permission_classes = []
    throttle_classes = []

    async def aget_serializer_class(self) -> type[BaseSerializer[Any]]:
        _ran("aget_serializer_class")
        return Saving


factory = AsyncAPIRequestFactory()


async def _serve(view: Any, method: str = "get", **kwargs: Any) -> tuple[Any, int, int]:
    """One request: the response, the hops it took, and the loop's thread."""
    log.clear()
    before = hop_count()
    response = await view.as_view()(getattr(factory, method)("/", **kwargs))
    return response, hop_count() - before, threading.get_ident()


async def test_an_async_class_getter_is_awaited_on_the_loop() -> None:
    _, plain_hops, _ = await _serve(Plain)
    response, hops, loop = await _serve(AsyncClass)
    assert response.status_code == 200, response.data
    assert response.data == ROWS
    assert log == [("aget_serializer_class", loop)]
    assert hops == plain_hops == 1  # rendering's hop only: the getter took none


async def test_a_sync_class_getter_runs_in_a_worker_thread() -> None:
    response, hops, loop = await _serve(SyncClass)
    assert response.data == ROWS
    assert [name for name, _ in log] == ["get_serializer_class"]
    assert log[0][1] != loop
    assert hops == 1


async def test_the_async_class_getter_wins_when_both_are_defined() -> None:
    response, _, loop = await _serve(BothClass)
    assert response.data == ROWS
    assert log == [("aget_serializer_class", loop)]


async def test_an_async_context_getter_is_awaited_on_the_loop() -> None:
    _, plain_hops, _ = await _serve(Plain)
    response, hops, loop = await _serve(AsyncContext)
    assert response.data == [{"n": 1, "tag": "async"}, {"n": 2, "tag": "async"}]
    assert log == [("aget_serializer_context", loop)]
    assert hops == plain_hops


async def test_a_sync_context_getter_runs_in_a_worker_thread() -> None:
    response, _, loop = await _serve(SyncContext)
    assert response.data == [{"n": 1, "tag": "sync"}, {"n": 2, "tag": "sync"}]
    assert [name for name, _ in log] == ["get_serializer_context"]
    assert log[0][1] != loop


async def test_an_async_get_serializer_is_awaited_and_may_call_super() -> None:
    response, _, loop = await _serve(AsyncBuild)
    assert response.data == [{"n": 1, "tag": "built"}, {"n": 2, "tag": "built"}]
    assert log == [("aget_serializer", loop)]


@pytest.mark.django_db
async def test_an_async_request_class_getter_validates_the_body() -> None:
    response, _, loop = await _serve(Creating, "post", data={"n": -1}, format="json")
    assert response.status_code == 400  # Saving's min_value, not Row's
    assert "n" in response.data
    assert log == [("aget_request_serializer_class", loop)]
    response, _, _ = await _serve(Creating, "post", data={"n": 3}, format="json")
    assert response.status_code == 201, response.data
    assert response.data == {"n": 3}


@pytest.mark.django_db
async def test_the_request_and_response_defaults_reach_an_async_class_getter() -> None:
    response, _, loop = await _serve(CreatingThroughClass, "post", data={"n": 4}, format="json")
    assert response.status_code == 201, response.data
    assert response.data == {"n": 4}
    # Once to validate, once to pick the class that renders the saved row.
    assert [name for name, _ in log] == ["aget_serializer_class", "aget_serializer_class"]
    assert {thread for _, thread in log} == {loop}  # awaited on the loop, also inside the hop


async def test_the_twin_defaults_reach_the_users_other_twins() -> None:
    view = CreatingThroughClass()
    view.request = Request(factory.post("/"))
    view.format_kwarg = None
    view.kwargs = {}
    log.clear()
    assert await view.aget_request_serializer_class() is Saving
    assert await view.aget_response_serializer_class() is Saving
    assert [name for name, _ in log] == ["aget_serializer_class", "aget_serializer_class"]
