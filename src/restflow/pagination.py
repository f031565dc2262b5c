"""DRF's paginators with an async face.

``PageNumberPagination``, ``LimitOffsetPagination`` and ``CursorPagination`` are
DRF's classes of the same name: their sync ``paginate_queryset`` *is* DRF's, so
sync views, settings and schema generators see no difference. Each adds
``apaginate_queryset``, which runs that same algorithm without blocking the
event loop:

- a ``QuerySet`` (lazy: counting and slicing query the database) is paginated
  in one worker-thread hop, count and page fetch together;
- an in-memory sequence (a list, a tuple) is paginated right on the loop, with
  no hop at all.

On restflow's async views the paginator's sync face is used inside the hop that
renders the page anyway, so a list endpoint costs one hop for count, page and
serialization together.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model, QuerySet
from rest_framework import pagination as drf_pagination
from rest_framework.request import Request

from restflow import _hooks as hooks
from restflow._bridge import in_thread
from restflow._introspect import keeps_library
from restflow.protocols import AsyncBasePagination

if TYPE_CHECKING:
    from rest_framework.views import APIView

__all__ = ["CursorPagination", "LimitOffsetPagination", "PageNumberPagination"]

_M = TypeVar("_M", bound=Model)
_Row = TypeVar("_Row")

#: The hooks DRF's ``paginate_queryset`` implementations call. If a subclass
#: overrides any of them, its code may do I/O even on a list.
_SYNC_HOOKS = (hooks.PAGINATOR_PAGINATE_QUERYSET, *hooks.PAGINATOR_PARTS)


class _DRFAlgorithm(AsyncBasePagination):
    """The async face of restflow's paginators: DRF's own algorithm, run where it belongs."""

    async def apaginate_queryset(
        self,
        queryset: QuerySet[_M, _Row] | Sequence[_Row],
        request: Request,
        view: APIView | None = None,
    ) -> list[_Row] | None:
        """Async face of DRF's ``paginate_queryset``: one hop for a queryset, none for a list.

        Override ``paginate_queryset`` (or its DRF hooks) to change the
        algorithm; restflow then runs your code in a worker thread.
        """
        # One algorithm, the sync face (DRF's). Only where it runs is decided here.
        if isinstance(queryset, Sequence) and keeps_library(type(self), _SYNC_HOOKS):
            return self.paginate_queryset(queryset, request, view)
        return await in_thread(self.paginate_queryset, queryset, request, view)


class PageNumberPagination(drf_pagination.PageNumberPagination, _DRFAlgorithm):
    """DRF's ``PageNumberPagination`` (``?page=``), with :meth:`apaginate_queryset`.

    Configure it as DRF's: ``page_size``, ``page_query_param``,
    ``page_size_query_param``, ``max_page_size``, ``last_page_strings``. An
    invalid or out-of-range page is a 404 "Invalid page.", as in DRF.
    """


class LimitOffsetPagination(drf_pagination.LimitOffsetPagination, _DRFAlgorithm):
    """DRF's ``LimitOffsetPagination`` (``?limit=&offset=``), with :meth:`apaginate_queryset`.

    Configure it as DRF's: ``default_limit``, ``limit_query_param``,
    ``offset_query_param``, ``max_limit``.
    """


class CursorPagination(drf_pagination.CursorPagination, _DRFAlgorithm):
    """DRF's ``CursorPagination`` (``?cursor=``), with :meth:`apaginate_queryset`.

    Configure it as DRF's: ``ordering`` (default ``"-created"``), ``page_size``,
    ``page_size_query_param``, ``max_page_size``, ``offset_cutoff``. A malformed
    cursor is a 404 "Invalid cursor", as in DRF. Cursor pagination orders the
    queryset in SQL, so it needs a ``QuerySet``, not a list.
    """

    def get_ordering(self, request: Request, queryset: Any, view: Any) -> tuple[str, ...]:
        """DRF's ordering: an ``OrderingFilter`` on the view, else :attr:`ordering`.

        Misconfigurations DRF asserts on (no ordering, ``__`` lookups, a wrong
        type) raise ``ImproperlyConfigured`` with DRF's message; a list or
        other sequence raises ``TypeError`` instead of DRF's ``AttributeError``.
        Override to compute the ordering per request.
        """
        if not isinstance(queryset, QuerySet):
            raise TypeError(
                f"{type(self).__name__} orders rows in SQL and needs a QuerySet, got "
                f"{type(queryset).__name__}. Pass a queryset, or paginate in-memory "
                "sequences with PageNumberPagination or LimitOffsetPagination."
            )
        try:
            return super().get_ordering(request, queryset, view)
        except AssertionError as exc:
            raise ImproperlyConfigured(str(exc)) from exc
