"""The five model mixins, sync and async, on top of a restflow generic view.

Each action is one flow on the generic view (see ``restflow.generics``); a sync
mixin drives it on the calling thread, an async mixin on the event loop. Writes
(create, update, destroy) run validation, the ``perform_*`` hook and rendering
inside one ``transaction.atomic`` block, in one worker-thread hop on the async
path. Compose them with ``GenericAPIView`` / ``AsyncGenericAPIView`` for
non-standard endpoints, as with DRF.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from rest_framework.request import Request
from rest_framework.response import Response

from restflow import _hooks as hooks
from restflow._bridge import drive_async, drive_sync, run_handler

if TYPE_CHECKING:
    from restflow._bridge import Flow
    from restflow._hooks import Hook

    class _Flows(Protocol):
        """What a mixin needs from the generic view it is composed with.

        The mixins are typed through ``self`` rather than by subclassing a generic view
        parametrised with ``Any``: a base listed first would hand ``Any`` to the model and
        serializer types of every class composed with it.
        """

        def _list_flow(self) -> Flow[Response]: ...
        def _retrieve_flow(self) -> Flow[Response]: ...
        def _create_flow(self) -> Flow[Response]: ...
        def _update_flow(self, partial: bool) -> Flow[Response]: ...
        def _destroy_flow(self) -> Flow[Response]: ...
        def _write(self, flow: Flow[Response]) -> Response: ...
        async def _awrite(self, flow: Flow[Response], hook: Hook) -> Response: ...

    class _SyncUpdates(_Flows, Protocol):
        def update(self, request: Request, *args: Any, **kwargs: Any) -> Response: ...

    class _AsyncUpdates(_Flows, Protocol):
        def update(self, request: Request, *args: Any, **kwargs: Any) -> Any: ...


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


class ListModelMixin:
    """``list``: the filtered queryset, paginated when a paginator is configured."""

    def list(self: _Flows, request: Request, *args: Any, **kwargs: Any) -> Response:
        return drive_sync(self._list_flow())


class AsyncListModelMixin:
    """``list`` on the event loop: count, page and serialization in one hop."""

    async def list(self: _Flows, request: Request, *args: Any, **kwargs: Any) -> Response:
        return await drive_async(self._list_flow())


class CreateModelMixin:
    """``create``: validate, ``perform_create``, 201 with ``Location``."""

    def create(self: _Flows, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._write(self._create_flow())


class AsyncCreateModelMixin:
    """``create`` on the event loop: validate + save + render atomically in one hop."""

    async def create(self: _Flows, request: Request, *args: Any, **kwargs: Any) -> Response:
        return await self._awrite(self._create_flow(), hooks.PERFORM_CREATE)


class RetrieveModelMixin:
    """``retrieve``: one object, looked up by ``lookup_field``."""

    def retrieve(self: _Flows, request: Request, *args: Any, **kwargs: Any) -> Response:
        return drive_sync(self._retrieve_flow())


class AsyncRetrieveModelMixin:
    """``retrieve`` on the event loop: lookup + object permissions + rendering in one hop."""

    async def retrieve(self: _Flows, request: Request, *args: Any, **kwargs: Any) -> Response:
        return await drive_async(self._retrieve_flow())


class UpdateModelMixin:
    """``update`` / ``partial_update``: PUT on a missing object is a 404, as in DRF."""

    def update(self: _Flows, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._write(self._update_flow(bool(kwargs.pop("partial", False))))

    def partial_update(self: _SyncUpdates, request: Request, *args: Any, **kwargs: Any) -> Response:
        kwargs["partial"] = True
        return self.update(request, *args, **kwargs)


class AsyncUpdateModelMixin:
    """``update`` / ``partial_update`` on the event loop, atomically in one hop."""

    async def update(self: _Flows, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = bool(kwargs.pop("partial", False))
        return await self._awrite(self._update_flow(partial), hooks.PERFORM_UPDATE)

    async def partial_update(
        self: _AsyncUpdates, request: Request, *args: Any, **kwargs: Any
    ) -> Response:
        kwargs["partial"] = True
        response: Response = await run_handler(self.update, request, *args, **kwargs)
        return response


class DestroyModelMixin:
    """``destroy``: ``perform_destroy``, then 204."""

    def destroy(self: _Flows, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._write(self._destroy_flow())


class AsyncDestroyModelMixin:
    """``destroy`` on the event loop, atomically in one hop."""

    async def destroy(self: _Flows, request: Request, *args: Any, **kwargs: Any) -> Response:
        return await self._awrite(self._destroy_flow(), hooks.PERFORM_DESTROY)
