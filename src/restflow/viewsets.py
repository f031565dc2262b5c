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

Its type is :class:`ActionConfigs` (a ``TypedDict`` of the standard actions), so
a misspelt key is a type error. A viewset with its own ``@action`` methods
declares their keys by extending it::

    class ProductActions(ActionConfigs[Product], total=False):
        publish: ActionConfig[Product]

    class ProductViewSet(AsyncModelViewSet[Product, ProductSerializer]):
        action_configs: ProductActions = {"publish": ActionConfig(throttle_classes=[])}

Whatever the types say, a key that names no action of the class raises
``ImproperlyConfigured`` when the class is created.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeAlias, cast

from asgiref.sync import markcoroutinefunction
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from rest_framework import viewsets as drf_viewsets
from rest_framework.pagination import BasePagination
from rest_framework.parsers import BaseParser
from rest_framework.permissions import BasePermission, OperandHolder, SingleOperandHolder
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.serializers import BaseSerializer
from rest_framework.throttling import BaseThrottle
from typing_extensions import TypedDict, TypeVar

from restflow._apiview import APIView, AsyncAPIView, AsyncViewFunction
from restflow._helpers import S, SIn, SOut
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

M = TypeVar("M", bound=Model, default=Any)
M_co = TypeVar("M_co", bound=Model, covariant=True, default=Any)

#: The standard actions of a model viewset.
ActionName: TypeAlias = Literal["list", "create", "retrieve", "update", "partial_update", "destroy"]
_STANDARD_ACTIONS: frozenset[str] = frozenset(
    ("list", "create", "retrieve", "update", "partial_update", "destroy")
)

_PermissionClass: TypeAlias = type[BasePermission] | OperandHolder | SingleOperandHolder


class _Unset(enum.Enum):
    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


#: Marks an ``ActionConfig`` field that falls through to the view's attribute.
UNSET = _Unset.UNSET


@dataclass(frozen=True, kw_only=True, slots=True)
class ActionConfig(Generic[M_co]):
    """Per-action overrides for a viewset. Unset fields fall through to the class.

    Generic over the model: its serializers and ``queryset`` must be of the
    viewset's model. ``pagination_class=None`` turns pagination off for that action.
    ``queryset`` is a queryset or a callable taking the view and returning one
    (it builds a lazy queryset: do no I/O in it).
    """

    serializer_class: type[BaseSerializer[M_co]] | _Unset = UNSET
    request_serializer_class: type[BaseSerializer[M_co]] | _Unset = UNSET
    response_serializer_class: type[BaseSerializer[M_co]] | _Unset = UNSET
    permission_classes: Sequence[_PermissionClass] | _Unset = UNSET
    throttle_classes: Sequence[type[BaseThrottle]] | _Unset = UNSET
    parser_classes: Sequence[type[BaseParser]] | _Unset = UNSET
    renderer_classes: Sequence[type[BaseRenderer]] | _Unset = UNSET
    pagination_class: type[BasePagination] | _Unset | None = UNSET
    queryset: QuerySet[M_co] | Callable[[Any], QuerySet[M_co]] | _Unset = UNSET


_NO_CONFIG: ActionConfig[Any] = ActionConfig()


class ActionConfigs(TypedDict, Generic[M], total=False):
    """The type of ``action_configs``: the standard actions of a viewset of ``M``.

    Extend it with the names of a viewset's own ``@action`` methods (and of the
    methods their ``mapping`` routes to) to configure those too.
    """

    list: ActionConfig[M]
    create: ActionConfig[M]
    retrieve: ActionConfig[M]
    update: ActionConfig[M]
    partial_update: ActionConfig[M]
    destroy: ActionConfig[M]


if TYPE_CHECKING:
    from rest_framework.decorators import ViewSetAction

    from restflow._apiview import _RestflowView
    from restflow.generics import _GenericCore

    # Generic (not ``[Any, ...]``): a base listed first would hand ``Any`` to the model and
    # serializer types of every viewset built on it.
    _View = _RestflowView
    _GenericView = _GenericCore
else:
    _View = Generic

    class _GenericView(Generic[M, S, SIn, SOut]):
        pass


class _ActionConfigs(_View[S, SIn, SOut]):
    """Applies ``action_configs[self.action]`` to the view's getters."""

    #: Per-action overrides, keyed by action name (see :class:`ActionConfigs`).
    action_configs: ActionConfigs[Any] = {}
    action: str

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Catch a misspelt action key when the class is defined, not on the
        # first request that happens to use it.
        super().__init_subclass__(**kwargs)
        configs = cls.__dict__.get("action_configs")
        if not configs:
            return
        get_extra_actions = getattr(cls, "get_extra_actions", None)
        extras: set[str] = set()
        for extra in get_extra_actions() if get_extra_actions else ():
            # An extra action's mapping routes more HTTP methods to other methods:
            # ``self.action`` is then the name of that method.
            extras.update((extra.__name__, *extra.mapping.values()))
        known = _STANDARD_ACTIONS | extras
        unknown = sorted(set(configs) - known)
        if unknown:
            raise ImproperlyConfigured(
                f"{cls.__name__}.action_configs has keys {unknown} that are not actions "
                f"of this viewset. Use one of {sorted(known)}."
            )

    def initialize_request(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Request:
        """Set ``self.action`` first, so ``get_parsers`` (called while the request is built)
        sees it, as permissions and throttles do; then DRF's ``initialize_request``."""
        method = (request.method or "").lower()
        action_map: Mapping[str, str] = getattr(self, "action_map", {})
        self.action = "metadata" if method == "options" else action_map.get(method)  # type: ignore[assignment]  # DRF's ViewSetMixin sets None for an unmapped method
        return super().initialize_request(request, *args, **kwargs)

    def _config(self) -> ActionConfig[Any]:
        action = getattr(self, "action", None)
        configs = cast("Mapping[str, ActionConfig[Any]]", self.action_configs)
        return configs.get(action, _NO_CONFIG) if action else _NO_CONFIG

    def get_serializer_class(self) -> type[S]:
        configured = self._config().serializer_class
        if configured is UNSET:
            return super().get_serializer_class()
        return cast("type[S]", configured)

    def get_request_serializer_class(self) -> type[SIn]:
        configured = self._config().request_serializer_class
        if configured is UNSET:
            return super().get_request_serializer_class()
        return cast("type[SIn]", configured)

    def get_response_serializer_class(self) -> type[SOut]:
        configured = self._config().response_serializer_class
        if configured is UNSET:
            return super().get_response_serializer_class()
        return cast("type[SOut]", configured)

    def get_permissions(self) -> Sequence[Any]:
        configured = self._config().permission_classes
        if configured is UNSET:
            return super().get_permissions()
        return [permission() for permission in configured]

    def get_throttles(self) -> list[BaseThrottle]:
        configured = self._config().throttle_classes
        if configured is UNSET:
            return super().get_throttles()
        return [throttle() for throttle in configured]

    def get_parsers(self) -> list[BaseParser]:
        configured = self._config().parser_classes
        if configured is UNSET:
            return super().get_parsers()
        return [parser() for parser in configured]

    def get_renderers(self) -> list[BaseRenderer]:
        configured = self._config().renderer_classes
        if configured is UNSET:
            return super().get_renderers()
        return [renderer() for renderer in configured]

    @property
    def paginator(self) -> BasePagination | None:
        configured = self._config().pagination_class
        if configured is UNSET:
            return super().paginator
        if not hasattr(self, "_action_paginator"):
            self._action_paginator = None if configured is None else configured()
        return self._action_paginator


class _GenericActionConfigs(
    _ActionConfigs[S, SIn, SOut], _GenericView[M, S, SIn, SOut], Generic[M, S, SIn, SOut]
):
    """Adds the per-action ``queryset`` to :class:`_ActionConfigs`."""

    #: Per-action overrides; a config's serializers and ``queryset`` are of the view's model.
    action_configs: ActionConfigs[M] = {}

    def get_queryset(self) -> QuerySet[M]:
        configured = self._config().queryset
        if configured is UNSET:
            return super().get_queryset()
        if isinstance(configured, QuerySet):
            return configured.all()
        return configured(self)


if TYPE_CHECKING:
    # The async ``as_view`` overrides DRF's sync one; with DRF's view among this mixin's
    # bases, the checkers compare the two here once, not in every viewset built on it.
    from rest_framework.views import APIView as _ViewSetBase
else:
    _ViewSetBase = object


class _AsyncViewSetMixin(drf_viewsets.ViewSetMixin, _ViewSetBase):
    """DRF's ``ViewSetMixin`` whose view function is a coroutine function."""

    @classmethod
    def as_view(  # type: ignore[override]  # DRF's stubs type every view function as sync
        cls, actions: dict[str, str | ViewSetAction[Any]] | None = None, **initkwargs: Any
    ) -> AsyncViewFunction[..., HttpResponseBase]:  # pyright: ignore[reportIncompatibleMethodOverride]
        """DRF's ``as_view(actions)``: the view function, a coroutine function."""
        view: Any = super().as_view(actions, **initkwargs)
        # DRF's wrapper returns dispatch()'s coroutine; mark it so Django awaits it.
        return cast("AsyncViewFunction[..., HttpResponseBase]", markcoroutinefunction(view))


class ViewSet(_ActionConfigs[S, SIn, SOut], drf_viewsets.ViewSetMixin, APIView[S, SIn, SOut]):
    """DRF's ``ViewSet`` with restflow's helpers and ``action_configs``."""


class GenericViewSet(
    _GenericActionConfigs[M, S, SIn, SOut],
    drf_viewsets.ViewSetMixin,
    GenericAPIView[M, S, SIn, SOut],
):
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


# pyright compares the mixin's typing-only DRF base with the async view: the async dispatch wins.
class AsyncViewSet(  # pyright: ignore[reportIncompatibleMethodOverride, reportIncompatibleVariableOverride]
    _ActionConfigs[S, SIn, SOut], _AsyncViewSetMixin, AsyncAPIView[S, SIn, SOut]
):
    """An async ``ViewSet``: actions are ``async def`` (a sync one runs in a worker thread)."""


class AsyncGenericViewSet(  # pyright: ignore[reportIncompatibleMethodOverride, reportIncompatibleVariableOverride]  # as AsyncViewSet
    _GenericActionConfigs[M, S, SIn, SOut],
    _AsyncViewSetMixin,
    AsyncGenericAPIView[M, S, SIn, SOut],
):
    """An async ``GenericViewSet``: compose the async mixins onto it."""


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
