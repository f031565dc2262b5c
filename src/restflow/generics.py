"""Generic views: DRF's ``GenericAPIView`` contract, typed, sync and async.

``AsyncGenericAPIView[M, S]`` is generic over the model and the serializer
(optionally request and response serializers: ``[M, S, SIn, SOut]``). It keeps
DRF's attributes and override points (``queryset``, ``serializer_class``,
``lookup_field``, ``filter_backends``, ``pagination_class``, ``get_queryset``,
``get_object``, ``filter_queryset``, ...) and declares the async twins restflow
honours (``aget_object``, ``afilter_queryset``, ``aperform_create``, ...): override
either; when a class overrides both, the async one runs on async views.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, cast

from django.db.models import QuerySet
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from restflow import _hooks as hooks
from restflow._apiview import APIView
from restflow._asyncview import AsyncAPIView
from restflow._bridge import drive_async, in_thread, run_handler, single, sync_override_step
from restflow._flows import (
    filter_flow,
    lookup_flow,
    page_step,
    serializer_class_flow,
    serializer_flow,
)
from restflow._generic import GenericCore
from restflow._hooks import Hook
from restflow._types import M, S, SIn, SOut
from restflow.mixins import (
    AsyncCreateModelMixin,
    AsyncDestroyModelMixin,
    AsyncListModelMixin,
    AsyncRetrieveModelMixin,
    AsyncUpdateModelMixin,
)

__all__ = [
    "AsyncCreateAPIView",
    "AsyncDestroyAPIView",
    "AsyncGenericAPIView",
    "AsyncListAPIView",
    "AsyncListCreateAPIView",
    "AsyncRetrieveAPIView",
    "AsyncRetrieveDestroyAPIView",
    "AsyncRetrieveUpdateAPIView",
    "AsyncRetrieveUpdateDestroyAPIView",
    "AsyncUpdateAPIView",
    "GenericAPIView",
    "get_object_or_404",
]


class GenericAPIView(GenericCore[M, S, SIn, SOut], APIView[S, SIn, SOut]):
    """DRF's sync ``GenericAPIView``, typed, with restflow's helpers and serializer split."""


async def _class_getter(
    view: AsyncGenericAPIView[Any, Any, Any, Any], hook: Hook
) -> type[BaseSerializer[Any]]:
    """A class getter from its async twin: restflow's chain, each getter it reaches the user's."""
    return await drive_async(serializer_class_flow(view, hook, inside=hook))


async def _sync_getter(view: AsyncGenericAPIView[Any, Any, Any, Any], hook: Hook) -> Any:
    """A view getter from its async twin: a user's sync override in a worker thread."""
    step = sync_override_step(view, hook)
    if step is None:
        return getattr(view, hook.name)()
    return await drive_async(single(step))


class AsyncGenericAPIView(GenericCore[M, S, SIn, SOut], AsyncAPIView[S, SIn, SOut]):
    """DRF's ``GenericAPIView`` on the async dispatch loop, with async twins of its hooks.

    Each ``a`` method below is the twin of DRF's hook of the same name. Its
    default runs DRF's hook where it belongs (a user's sync override in a worker
    thread, restflow's own on the loop where it can). Override the twin for
    native async code; the actions then await yours.
    """

    async def aget_queryset(self) -> QuerySet[M]:
        """Async twin of ``get_queryset`` (default: it; a sync override in a worker thread).

        Override to build the queryset from async work (a cache, a remote call).
        """
        queryset: QuerySet[M] = await _sync_getter(self, hooks.GET_QUERYSET)
        return queryset

    async def aget_object(self) -> M:
        """Async twin of ``get_object``: lookup and object permissions in one hop.

        A sync ``get_object`` override on the class is honoured (in a worker thread).
        Override for a lookup that awaits (``await Model.objects.aget(...)``); call
        ``await self.acheck_object_permissions(request, obj)`` yourself then.
        """
        step = sync_override_step(self, hooks.GET_OBJECT)
        obj: M = await drive_async(single(step) if step is not None else lookup_flow(self))
        return obj

    async def afilter_queryset(self, queryset: QuerySet[M, Any]) -> QuerySet[M, Any]:
        """Async twin of ``filter_queryset``; async backends are awaited on the loop.

        A sync ``filter_queryset`` override on the class is honoured (in a worker thread).
        """
        step = sync_override_step(self, hooks.FILTER_QUERYSET, queryset)
        if step is not None:
            filtered: QuerySet[M, Any] = await drive_async(single(step))
            return filtered
        return await drive_async(filter_flow(self, queryset))

    async def apaginate_queryset(
        self, queryset: QuerySet[M, Any] | Sequence[Any]
    ) -> list[Any] | None:
        """Async twin of ``paginate_queryset``: one page, or None when pagination is off.

        A sync ``paginate_queryset`` override on the class is honoured (in a worker thread).
        """
        step = sync_override_step(self, hooks.PAGINATE_QUERYSET, queryset)
        page = await drive_async(single(step or page_step(self, queryset)))
        return None if page is None else list(page)

    async def aget_paginated_response(self, data: Any) -> Response:
        """Async twin of ``get_paginated_response`` (default: it, on the loop).

        Override to add to the page's response from async work.
        """
        return self.get_paginated_response(data)

    async def aget_serializer_class(self) -> type[S]:
        """Async twin of ``get_serializer_class`` (default: it; a sync override in a thread)."""
        klass = await _class_getter(self, hooks.GET_SERIALIZER_CLASS)
        return cast("type[S]", klass)

    async def aget_request_serializer_class(self) -> type[SIn]:
        """Async twin of ``get_request_serializer_class``: the class that validates bodies.

        Its default reaches ``aget_serializer_class`` when the user overrides that.
        """
        klass = await _class_getter(self, hooks.GET_REQUEST_SERIALIZER_CLASS)
        return cast("type[SIn]", klass)

    async def aget_response_serializer_class(self) -> type[SOut]:
        """Async twin of ``get_response_serializer_class``: the class that renders responses.

        The create and update actions await an override of it to pick the serializer
        that renders the saved object.
        """
        klass = await _class_getter(self, hooks.GET_RESPONSE_SERIALIZER_CLASS)
        return cast("type[SOut]", klass)

    async def aget_serializer_context(self) -> dict[str, Any]:
        """Async twin of ``get_serializer_context`` (default: it; a sync override in a thread)."""
        context: dict[str, Any] = await _sync_getter(self, hooks.GET_SERIALIZER_CONTEXT)
        return context

    async def aget_serializer(
        self,
        *args: Any,
        serializer_class: type[BaseSerializer[Any]] | None = None,
        **kwargs: Any,
    ) -> S:
        """Async twin of ``get_serializer``: built as a request builds it.

        A sync override of any serializer getter runs in a worker thread.
        """
        chosen = serializer_class or hooks.GET_SERIALIZER_CLASS
        flow = serializer_flow(self, chosen, args, kwargs, inside=hooks.GET_SERIALIZER)
        serializer = await drive_async(flow)
        return cast("S", serializer)

    async def aperform_create(self, serializer: SIn) -> None:
        """Async twin of ``perform_create`` (default: it, in a worker thread).

        Override for an async save; it then owns its transaction (see the writes guide).
        """
        await in_thread(self.perform_create, serializer)

    async def aperform_update(self, serializer: SIn) -> None:
        """Async twin of ``perform_update`` (default: it, in a worker thread).

        Override for an async save; it then owns its transaction.
        """
        await in_thread(self.perform_update, serializer)

    async def aperform_destroy(self, instance: M) -> None:
        """Async twin of ``perform_destroy`` (default: it, in a worker thread).

        Override for an async delete (``await instance.adelete()``) or a soft delete.
        """
        await in_thread(self.perform_destroy, instance)


async def _action(
    action: Callable[..., Awaitable[Response]], request: Request, *args: object, **kwargs: object
) -> Response:
    # A user may override an action with a plain ``def`` (as on DRF's generic views):
    # it must run in a worker thread, not be called on the loop and awaited.
    response: Response = await run_handler(action, request, *args, **kwargs)
    return response


# -- concrete views ---------------------------------------------------------------


class AsyncListAPIView(AsyncListModelMixin, AsyncGenericAPIView[M, S, SIn, SOut]):
    """``GET``: a (paginated) list of the queryset."""

    async def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return await _action(self.list, request, *args, **kwargs)


class AsyncCreateAPIView(AsyncCreateModelMixin, AsyncGenericAPIView[M, S, SIn, SOut]):
    """``POST``: create an object (201 with ``Location``)."""

    async def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return await _action(self.create, request, *args, **kwargs)


class AsyncRetrieveAPIView(AsyncRetrieveModelMixin, AsyncGenericAPIView[M, S, SIn, SOut]):
    """``GET``: one object."""

    async def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return await _action(self.retrieve, request, *args, **kwargs)


class AsyncDestroyAPIView(AsyncDestroyModelMixin, AsyncGenericAPIView[M, S, SIn, SOut]):
    """``DELETE``: delete one object (204)."""

    async def delete(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return await _action(self.destroy, request, *args, **kwargs)


class AsyncUpdateAPIView(AsyncUpdateModelMixin, AsyncGenericAPIView[M, S, SIn, SOut]):
    """``PUT``/``PATCH``: update one object (404 if it does not exist)."""

    async def put(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return await _action(self.update, request, *args, **kwargs)

    async def patch(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return await _action(self.partial_update, request, *args, **kwargs)


class AsyncListCreateAPIView(
    AsyncListModelMixin, AsyncCreateModelMixin, AsyncGenericAPIView[M, S, SIn, SOut]
):
    """``GET`` a list, ``POST`` to create."""

    async def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return await _action(self.list, request, *args, **kwargs)

    async def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return await _action(self.create, request, *args, **kwargs)


class AsyncRetrieveUpdateAPIView(
    AsyncRetrieveModelMixin, AsyncUpdateModelMixin, AsyncGenericAPIView[M, S, SIn, SOut]
):
    """``GET``, ``PUT``, ``PATCH`` one object."""

    async def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return await _action(self.retrieve, request, *args, **kwargs)

    async def put(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return await _action(self.update, request, *args, **kwargs)

    async def patch(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return await _action(self.partial_update, request, *args, **kwargs)


class AsyncRetrieveDestroyAPIView(
    AsyncRetrieveModelMixin, AsyncDestroyModelMixin, AsyncGenericAPIView[M, S, SIn, SOut]
):
    """``GET`` and ``DELETE`` one object."""

    async def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return await _action(self.retrieve, request, *args, **kwargs)

    async def delete(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return await _action(self.destroy, request, *args, **kwargs)


class AsyncRetrieveUpdateDestroyAPIView(
    AsyncRetrieveModelMixin,
    AsyncUpdateModelMixin,
    AsyncDestroyModelMixin,
    AsyncGenericAPIView[M, S, SIn, SOut],
):
    """``GET``, ``PUT``, ``PATCH`` and ``DELETE`` one object."""

    async def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return await _action(self.retrieve, request, *args, **kwargs)

    async def put(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return await _action(self.update, request, *args, **kwargs)

    async def patch(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return await _action(self.partial_update, request, *args, **kwargs)

    async def delete(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return await _action(self.destroy, request, *args, **kwargs)
