"""The five model mixins, sync and async, on top of a restflow generic view.

Each action is one flow, a generator function of the view that reads as DRF's
mixin does (``create``: validate → perform → respond); the sync mixin drives it
on the calling thread, the async mixin on the event loop. Writes run under the
write policy of ``restflow._writes``: validation, ``perform_*`` and rendering in
one ``transaction.atomic`` block, in one worker-thread hop on the async path.
Compose them with ``GenericAPIView`` / ``AsyncGenericAPIView``, as with DRF.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from restflow import _hooks as hooks
from restflow._bridge import Flow, drive_async, drive_sync, run_handler
from restflow._flows import (
    filtered_queryset_flow,
    object_flow,
    output_flow,
    paginated_response_flow,
    render_flow,
    validate_flow,
)
from restflow._generic import GenericCore
from restflow._writes import perform_flow, write_async, write_sync

if TYPE_CHECKING:
    View = GenericCore[Any, Any, Any, Any]

__all__ = [
    "AsyncCreateModelMixin",
    "AsyncDestroyModelMixin",
    "AsyncListModelMixin",
    "AsyncRetrieveModelMixin",
    "AsyncUpdateModelMixin",
    "CreateModelMixin",
    "DestroyModelMixin",
    "ListModelMixin",
    "RetrieveModelMixin",
    "UpdateModelMixin",
]


def _generic(mixin: object) -> View:
    """The generic view a mixin is composed with."""
    if not isinstance(mixin, GenericCore):
        raise ImproperlyConfigured(
            f"{type(mixin).__name__} uses a restflow model mixin: compose it with "
            "restflow's GenericAPIView or AsyncGenericAPIView."
        )
    return mixin


# -- list ---------------------------------------------------------------------------


def _list(view: View) -> Flow[Response]:
    queryset = yield from filtered_queryset_flow(view)
    return (yield from paginated_response_flow(view, queryset))


class ListModelMixin:
    """``list``: the filtered queryset, paginated when a paginator is configured."""

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return drive_sync(_list(_generic(self)))


class AsyncListModelMixin:
    """``list`` on the event loop: count, page and serialization in one hop."""

    async def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return await drive_async(_list(_generic(self)))


# -- create -------------------------------------------------------------------------


def _create(view: View) -> Flow[Response]:
    serializer = yield from validate_flow(view)
    yield from perform_flow(view, hooks.PERFORM_CREATE, serializer)
    data = yield from output_flow(view, serializer)
    headers = view.get_success_headers(data)
    return Response(data, status=status.HTTP_201_CREATED, headers=headers)


class CreateModelMixin:
    """``create``: validate, ``perform_create``, 201 with ``Location``."""

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        view = _generic(self)
        return write_sync(view, _create(view))


class AsyncCreateModelMixin:
    """``create`` on the event loop: validate + save + render atomically in one hop."""

    async def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        view = _generic(self)
        return await write_async(view, _create(view), hooks.PERFORM_CREATE)


# -- retrieve -----------------------------------------------------------------------


def _retrieve(view: View) -> Flow[Response]:
    instance = yield from object_flow(view)
    data = yield from render_flow(view, instance)
    return Response(data)


class RetrieveModelMixin:
    """``retrieve``: one object, looked up by ``lookup_field``."""

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return drive_sync(_retrieve(_generic(self)))


class AsyncRetrieveModelMixin:
    """``retrieve`` on the event loop: lookup + object permissions + rendering in one hop."""

    async def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return await drive_async(_retrieve(_generic(self)))


# -- update -------------------------------------------------------------------------


def _update(view: View, *, partial: bool) -> Flow[Response]:
    instance = yield from object_flow(view)
    serializer = yield from validate_flow(view, instance=instance, partial=partial)
    yield from perform_flow(view, hooks.PERFORM_UPDATE, serializer)
    if getattr(instance, "_prefetched_objects_cache", None):
        # prefetch_related results are stale after the update (as DRF).
        instance._prefetched_objects_cache = {}
    data = yield from output_flow(view, serializer)
    return Response(data)


class UpdateModelMixin:
    """``update`` / ``partial_update``: PUT on a missing object is a 404, as in DRF."""

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        view = _generic(self)
        return write_sync(view, _update(view, partial=bool(kwargs.pop("partial", False))))

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        kwargs["partial"] = True
        return self.update(request, *args, **kwargs)


class AsyncUpdateModelMixin:
    """``update`` / ``partial_update`` on the event loop, atomically in one hop."""

    async def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        view = _generic(self)
        flow = _update(view, partial=bool(kwargs.pop("partial", False)))
        return await write_async(view, flow, hooks.PERFORM_UPDATE)

    async def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        kwargs["partial"] = True
        # ``update`` may be a user's plain ``def`` override: it runs in a worker thread.
        response: Response = await run_handler(self.update, request, *args, **kwargs)
        return response


# -- destroy ------------------------------------------------------------------------


def _destroy(view: View) -> Flow[Response]:
    instance = yield from object_flow(view)
    yield from perform_flow(view, hooks.PERFORM_DESTROY, instance)
    return Response(status=status.HTTP_204_NO_CONTENT)


class DestroyModelMixin:
    """``destroy``: ``perform_destroy``, then 204."""

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        view = _generic(self)
        return write_sync(view, _destroy(view))


class AsyncDestroyModelMixin:
    """``destroy`` on the event loop, atomically in one hop."""

    async def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        view = _generic(self)
        return await write_async(view, _destroy(view), hooks.PERFORM_DESTROY)
