"""DRF's search and ordering filters with an async face.

``SearchFilter`` and ``OrderingFilter`` are DRF's classes of the same name
(same query parameters, ``search_fields`` prefixes ``^ = @ $``,
``ordering_fields`` / ``"__all__"``, invalid ordering terms ignored). Each adds
``afilter_queryset``. Filtering builds a lazy queryset and queries nothing, so
it runs on the event loop with no worker-thread hop, unless it would call user
code that may do I/O (a subclass's override of one of the filter's hooks, or a
view's own ``get_serializer_class`` that ``OrderingFilter`` consults); that
code runs in one hop.

Other sync filter backends, such as django-filter's ``DjangoFilterBackend``
(install ``django-restflow[filters]``), work unchanged on async views: restflow
runs them in a worker thread, since validating a filter form may query the
database.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from django.db.models import Model, QuerySet
from rest_framework import filters as drf_filters
from rest_framework.request import Request

from restflow import _hooks as hooks
from restflow._bridge import in_thread
from restflow._introspect import Override, keeps_library, override
from restflow.protocols import AsyncBaseFilterBackend

if TYPE_CHECKING:
    from rest_framework.views import APIView

__all__ = ["OrderingFilter", "SearchFilter"]

_M = TypeVar("_M", bound=Model)
_Row = TypeVar("_Row")

# DRF's SearchFilter builds ``Q``/``Exists`` expressions on a lazy queryset and
# never queries: ``restflow._hooks`` lists it as pure. DRF's OrderingFilter is
# not: without ``ordering_fields`` it calls the view's ``get_serializer_class()``,
# which may be a user's override doing I/O. restflow's OrderingFilter below
# checks for that per view class.
_SEARCH_HOOKS = (hooks.BACKEND_FILTER_QUERYSET, *hooks.SEARCH_PARTS)
_ORDERING_HOOKS = (hooks.BACKEND_FILTER_QUERYSET, *hooks.ORDERING_PARTS)


class _DRFAlgorithm(AsyncBaseFilterBackend):
    """The async face of restflow's filters: DRF's own ``filter_queryset``, run where it belongs."""

    async def afilter_queryset(
        self, request: Request, queryset: QuerySet[_M, _Row], view: APIView
    ) -> QuerySet[_M, _Row]:
        """Async face of DRF's ``filter_queryset``, on the loop unless user code is involved.

        Override ``filter_queryset`` or DRF's hooks to change the filtering;
        restflow then runs your code in a worker thread.
        """
        if self._runs_on_loop(request, view):
            return self.filter_queryset(request, queryset, view)
        return await in_thread(self.filter_queryset, request, queryset, view)

    def _runs_on_loop(self, request: Request, view: APIView) -> bool:
        raise NotImplementedError


class SearchFilter(drf_filters.SearchFilter, _DRFAlgorithm):
    """DRF's ``SearchFilter`` (``?search=``), with :meth:`afilter_queryset`.

    Searches the view's ``search_fields``; a field prefixed ``^`` matches the
    start, ``=`` exactly, ``@`` full-text (PostgreSQL), ``$`` a regex, and no
    prefix ``icontains``.
    """

    def _runs_on_loop(self, request: Request, view: APIView) -> bool:
        # Override ``get_search_fields``, ``construct_search``, ... and restflow
        # runs your code in a worker thread.
        return keeps_library(type(self), _SEARCH_HOOKS)


class OrderingFilter(drf_filters.OrderingFilter, _DRFAlgorithm):
    """DRF's ``OrderingFilter`` (``?ordering=a,-b``), with :meth:`afilter_queryset`.

    Orders by the requested terms that are valid (the view's
    ``ordering_fields``, every model field for ``"__all__"``, or by default the
    serializer's readable fields), else by the view's ``ordering``.
    """

    def _runs_on_loop(self, request: Request, view: APIView) -> bool:
        # Override ``get_ordering``, ``get_valid_fields``, ... and restflow runs
        # your code in a worker thread.
        return keeps_library(type(self), _ORDERING_HOOKS) and not self._asks_user_serializer(
            request, view
        )

    def _asks_user_serializer(self, request: Request, view: APIView) -> bool:
        # DRF reads the serializer's fields only for a requested ordering when
        # the view sets no ``ordering_fields``; the view's own serializer
        # getter is then user code that may do I/O.
        if not request.query_params.get(self.ordering_param):
            return False
        if getattr(view, "ordering_fields", self.ordering_fields) is not None:
            return False
        return override(type(view), hooks.GET_SERIALIZER_CLASS)[0] is not Override.DEFAULT
