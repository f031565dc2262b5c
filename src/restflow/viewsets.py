"""Viewsets, sync and async, with per-action overrides (``ActionConfig``).

They register with DRF's ``SimpleRouter``/``DefaultRouter`` unchanged; DRF's
``@action`` works (sync or async, detail or list, with extra kwargs such as
``serializer_class``); ``self.action`` is set before parsers, permissions and
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
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from asgiref.sync import markcoroutinefunction
from rest_framework import viewsets as drf_viewsets

from restflow._actions import UNSET, ActionConfig, ActionName
from restflow._apiview import APIView
from restflow._asyncview import AsyncAPIView
from restflow._types import M, S, SIn, SOut
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
    from rest_framework.views import AsView, GenericView

__all__ = [
    "UNSET",
    "ActionConfig",
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


def _async_view(view: AsView[GenericView]) -> AsView[GenericView]:
    # DRF's wrapper returns dispatch()'s coroutine; mark it so Django awaits it.
    return markcoroutinefunction(view)


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
    def as_view(
        cls, actions: dict[str, str | ViewSetAction[Any]] | None = None, **initkwargs: Any
    ) -> AsView[GenericView]:
        """DRF's ``as_view``, marked as a coroutine function for Django."""
        return _async_view(super().as_view(actions, **initkwargs))


class AsyncGenericViewSet(drf_viewsets.ViewSetMixin, AsyncGenericAPIView[M, S, SIn, SOut]):
    """An async ``GenericViewSet``: compose the async mixins onto it."""

    @classmethod
    def as_view(
        cls, actions: dict[str, str | ViewSetAction[Any]] | None = None, **initkwargs: Any
    ) -> AsView[GenericView]:
        """DRF's ``as_view``, marked as a coroutine function for Django."""
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
