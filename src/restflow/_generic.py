"""``GenericCore``: DRF's ``GenericAPIView`` hooks, shared by the sync and async generic views.

The hooks' defaults run the flows of ``restflow._flows``; the async twins live on
``AsyncGenericAPIView`` (``restflow.generics``), where restflow honours them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet
from rest_framework import generics as drf_generics
from rest_framework.settings import api_settings

from restflow._actions import UNSET, ActionConfigs, action_config
from restflow._apiview import RestflowView
from restflow._bridge import drive_sync
from restflow._flows import filter_flow, lookup_flow
from restflow._types import M, S, SIn, SOut, Typed

__all__ = ["GenericCore"]


class GenericCore(
    RestflowView[S, SIn, SOut], drf_generics.GenericAPIView[M], Typed[M, S, SIn, SOut]
):
    """The generic view logic shared by the sync and the async generic views."""

    #: The objects the view works on (a queryset of ``M``; re-evaluated per request).
    queryset: QuerySet[M] | None = None  # pyright: ignore[reportIncompatibleVariableOverride]  # DRF's stubs also allow a manager
    # DRF types it loosely as BaseSerializer[M]; restflow keeps the declared S.
    serializer_class: type[S] | None = None  # pyright: ignore[reportIncompatibleVariableOverride]
    filter_backends: Sequence[type[Any]] = cast(
        "Sequence[type[Any]]", api_settings.DEFAULT_FILTER_BACKENDS
    )
    #: Per-action overrides; a config's serializers and ``queryset`` are of the view's model.
    action_configs: ActionConfigs[M] = {}

    def get_queryset(self) -> QuerySet[M]:
        """The action's ``ActionConfig.queryset``, else ``queryset`` (re-evaluated per request).

        Override to vary it per request.
        """
        configured = action_config(self).queryset
        if configured is not UNSET:
            if isinstance(configured, QuerySet):
                return configured.all()
            chosen: QuerySet[M] = configured(self)
            return chosen
        if self.queryset is None:
            raise ImproperlyConfigured(
                f"'{type(self).__name__}' should either include a `queryset` attribute, "
                "or override the `get_queryset()` method."
            )
        queryset = self.queryset
        if isinstance(queryset, QuerySet):
            queryset = queryset.all()
        return queryset

    def get_object(self) -> M:
        """Look the object up by ``lookup_field`` (404 if missing) and check object permissions.

        Override for non-standard lookups; the async views run a sync override
        in a worker thread.
        """
        obj: M = drive_sync(lookup_flow(self))
        return obj

    def filter_queryset(self, queryset: QuerySet[M, Any]) -> QuerySet[M, Any]:
        """Narrow ``queryset`` with every backend in ``filter_backends``."""
        return drive_sync(filter_flow(self, queryset))

    def get_success_headers(self, data: Any) -> dict[str, str]:
        """``Location`` from the response body's ``url`` field, as DRF does."""
        try:
            return {"Location": str(data[api_settings.URL_FIELD_NAME])}
        except (TypeError, KeyError):
            return {}

    def perform_create(self, serializer: SIn) -> None:
        """Save a new object. Override to pass extra fields (``serializer.save(owner=...)``).

        ``serializer`` is the view's validated request serializer (``SIn``, by default
        ``S``): annotate an override with that class, and ``validated_data`` is its ``TIn``.
        """
        serializer.save()

    def perform_update(self, serializer: SIn) -> None:
        """Save the updated object. Override to pass extra fields.

        ``serializer`` is the view's validated request serializer (``SIn``, by default ``S``).
        """
        serializer.save()

    def perform_destroy(self, instance: M) -> None:
        """Delete ``instance``. Override for soft deletes and the like."""
        instance.delete()
