"""Viewsets, sync and async, with per-action overrides (``ActionConfig``).

They register with DRF's ``SimpleRouter``/``DefaultRouter`` unchanged;
``restflow.decorators.action`` (DRF's ``@action``, typed for sync and async
methods) works, detail or list, with extra kwargs such as ``serializer_class``;
``self.action`` is set before parsers, permissions and
throttles are resolved, as in DRF.

``action_configs`` maps action names to :class:`ActionConfig`; a field left
unset falls through to the class attribute::

    class ProductViewSet(AsyncModelViewSet[Product, ProductSerializer]):
        queryset = Product.objects.all()
        serializer_class = ProductSerializer
        action_configs = {
            "list": ActionConfig(pagination_class=CursorPagination),
            "destroy": ActionConfig(permission_classes=[IsAdminUser]),
        }

Its type is :class:`ActionConfigs` (a ``TypedDict`` of the standard actions), so
a misspelt key is a type error. A viewset with its own ``@action`` methods
declares their keys by extending it::

    class ProductActions(ActionConfigs[Product], total=False):
        update: ActionConfig[Product]  # pyright misses an inherited key named "update"
        publish: ActionConfig[Product]

    class ProductViewSet(AsyncModelViewSet[Product, ProductSerializer]):
        action_configs = ProductActions(publish=ActionConfig(throttle_classes=[]))

Whatever the types say, a key that names no action of the class raises
``ImproperlyConfigured`` when the class is created.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from asgiref.sync import markcoroutinefunction
from django.http.response import HttpResponseBase
from rest_framework import viewsets as drf_viewsets

from restflow._actions import UNSET, ActionConfig, ActionConfigs, ActionName
from restflow._apiview import APIView
from restflow._asyncview import AsyncAPIView
from restflow._types import AsyncViewFunction, M, S, SIn, SOut
from restflow.generics import AsyncGenericAPIView, GenericAPIView
from restflow.mixins import (
    AsyncCreateModelMixin,
    AsyncDestroyModelMixin,
    AsyncListModelMixin,
    AsyncRetrieveModelMixin,
    AsyncUpdateModelMixin,
    CreateModelMixin,
    DestroyModelMixin,
    ListModelMixin,
    RetrieveModelMixin,
    UpdateModelMixin,
)

if TYPE_CHECKING:
    from rest_framework.decorators import ViewSetAction

__all__ = [
    "UNSET",
    "ActionConfig",
    "ActionConfigs",
    "ActionName",
    "AsyncGenericViewSet",
    "AsyncModelViewSet",
    "AsyncReadOnlyModelViewSet",
    "AsyncViewSet",
    "GenericViewSet",
    "ModelViewSet",
    "ReadOnlyModelViewSet",
    "ViewSet",
]


def _async_view(view: Any) -> AsyncViewFunction[..., HttpResponseBase]:
    # DRF's wrapper returns dispatch()'s coroutine; mark it so Django awaits it.
    return cast("AsyncViewFunction[..., HttpResponseBase]", markcoroutinefunction(view))


class ViewSet(drf_viewsets.ViewSetMixin, APIView[S, SIn, SOut]):
    """DRF's ``ViewSet`` with restflow's helpers and ``action_configs``."""


class GenericViewSet(drf_viewsets.ViewSetMixin, GenericAPIView[M, S, SIn, SOut]):
    """DRF's ``GenericViewSet``, typed, with ``action_configs``."""


class ReadOnlyModelViewSet(RetrieveModelMixin, ListModelMixin, GenericViewSet[M, S, SIn, SOut]):
    """``list`` and ``retrieve``."""


class ModelViewSet(
    CreateModelMixin,
    RetrieveModelMixin,
    UpdateModelMixin,
    DestroyModelMixin,
    ListModelMixin,
    GenericViewSet[M, S, SIn, SOut],
):
    """``list``, ``create``, ``retrieve``, ``update``, ``partial_update``, ``destroy``."""


class AsyncViewSet(drf_viewsets.ViewSetMixin, AsyncAPIView[S, SIn, SOut]):
    """An async ``ViewSet``: actions are ``async def`` (a sync one runs in a worker thread)."""

    @classmethod
    def as_view(  # type: ignore[override]  # DRF's stubs type every view function as sync
        cls, actions: dict[str, str | ViewSetAction[Any]] | None = None, **initkwargs: object
    ) -> AsyncViewFunction[..., HttpResponseBase]:  # pyright: ignore[reportIncompatibleMethodOverride]
        """DRF's ``as_view``, marked as a coroutine function for Django (``await`` it)."""
        return _async_view(super().as_view(actions, **initkwargs))


class AsyncGenericViewSet(drf_viewsets.ViewSetMixin, AsyncGenericAPIView[M, S, SIn, SOut]):
    """An async ``GenericViewSet``: compose the async mixins onto it."""

    @classmethod
    def as_view(  # type: ignore[override]  # DRF's stubs type every view function as sync
        cls, actions: dict[str, str | ViewSetAction[Any]] | None = None, **initkwargs: object
    ) -> AsyncViewFunction[..., HttpResponseBase]:  # pyright: ignore[reportIncompatibleMethodOverride]
        """DRF's ``as_view``, marked as a coroutine function for Django (``await`` it)."""
        return _async_view(super().as_view(actions, **initkwargs))


class AsyncReadOnlyModelViewSet(
    AsyncRetrieveModelMixin, AsyncListModelMixin, AsyncGenericViewSet[M, S, SIn, SOut]
):
    """Async ``list`` and ``retrieve``."""


class AsyncModelViewSet(
    AsyncCreateModelMixin,
    AsyncRetrieveModelMixin,
    AsyncUpdateModelMixin,
    AsyncDestroyModelMixin,
    AsyncListModelMixin,
    AsyncGenericViewSet[M, S, SIn, SOut],
):
    """Async ``list``, ``create``, ``retrieve``, ``update``, ``partial_update``, ``destroy``."""
