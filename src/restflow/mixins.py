"""The five model mixins, sync and async, on top of a restflow generic view.

Each action is one flow on the generic view (see ``restflow.generics``); a sync
mixin drives it on the calling thread, an async mixin on the event loop. Writes
(create, update, destroy) run validation, the ``perform_*`` hook and rendering
inside one ``transaction.atomic`` block, in one worker-thread hop on the async
path. Compose them with ``GenericAPIView`` / ``AsyncGenericAPIView`` for
non-standard endpoints, as with DRF.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rest_framework.request import Request
from rest_framework.response import Response

from restflow._bridge import acall, drive_async, drive_sync

if TYPE_CHECKING:
    from restflow.generics import AsyncGenericAPIView, GenericAPIView

    _Generic = GenericAPIView[Any, Any, Any, Any]
    _AsyncGeneric = AsyncGenericAPIView[Any, Any, Any, Any]
else:
    _Generic = _AsyncGeneric = object

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


class ListModelMixin(_Generic):
    """``list``: the filtered queryset, paginated when a paginator is configured."""

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return drive_sync(self._list_flow())


class AsyncListModelMixin(_AsyncGeneric):
    """``list`` on the event loop: count, page and serialization in one hop."""

    async def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return await drive_async(self._list_flow())


class CreateModelMixin(_Generic):
    """``create``: validate, ``perform_create``, 201 with ``Location``."""

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._write(self._create_flow())


class AsyncCreateModelMixin(_AsyncGeneric):
    """``create`` on the event loop: validate + save + render atomically in one hop."""

    async def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return await self._awrite(self._create_flow(), "perform_create")


class RetrieveModelMixin(_Generic):
    """``retrieve``: one object, looked up by ``lookup_field``."""

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return drive_sync(self._retrieve_flow())


class AsyncRetrieveModelMixin(_AsyncGeneric):
    """``retrieve`` on the event loop: lookup + object permissions + rendering in one hop."""

    async def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return await drive_async(self._retrieve_flow())


class UpdateModelMixin(_Generic):
    """``update`` / ``partial_update``: PUT on a missing object is a 404, as in DRF."""

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._write(self._update_flow(bool(kwargs.pop("partial", False))))

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        kwargs["partial"] = True
        return self.update(request, *args, **kwargs)


class AsyncUpdateModelMixin(_AsyncGeneric):
    """``update`` / ``partial_update`` on the event loop, atomically in one hop."""

    async def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = bool(kwargs.pop("partial", False))
        return await self._awrite(self._update_flow(partial), "perform_update")

    async def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        kwargs["partial"] = True
        response: Response = await acall(self.update, request, *args, **kwargs)
        return response


class DestroyModelMixin(_Generic):
    """``destroy``: ``perform_destroy``, then 204."""

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._write(self._destroy_flow())


class AsyncDestroyModelMixin(_AsyncGeneric):
    """``destroy`` on the event loop, atomically in one hop."""

    async def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return await self._awrite(self._destroy_flow(), "perform_destroy")
