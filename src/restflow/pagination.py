"""DRF's paginators with an async face, and one query per page.

``PageNumberPagination``, ``LimitOffsetPagination`` and ``CursorPagination`` are
DRF's classes of the same name, running DRF's algorithm: same pages, counts,
links and errors, on querysets, lists and anything else DRF's classes accept.
Two things differ, both invisible in the responses:

- on a real ``QuerySet``, a page-number or limit/offset page and the total
  count come from one query (the count as a scalar subquery of the page
  query); the separate ``COUNT`` runs only when the page comes back empty, or
  where the count cannot ride along (``union()``, ``values_list()``, a sliced
  queryset: DRF's two queries then);
- a cursor whose position the ordering field cannot hold is DRF's 404
  "Invalid cursor", never a database error.

Each adds ``apaginate_queryset``, which runs that same algorithm without
blocking the event loop:

- a ``QuerySet`` (lazy: counting and slicing query the database) is paginated
  in one worker-thread hop;
- an in-memory sequence (a list, a tuple) is paginated right on the loop, with
  no hop at all.

On restflow's async views the paginator's sync face is used inside the hop that
renders the page anyway, so a list endpoint costs one hop for page, count and
serialization together.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from django.core.exceptions import ImproperlyConfigured
from django.core.paginator import InvalidPage, Page
from django.core.paginator import Paginator as DjangoPaginator
from django.db.models import Model, QuerySet
from rest_framework import pagination as drf_pagination
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from typing_extensions import override

from restflow import _hooks as hooks
from restflow._bridge import in_thread
from restflow._introspect import keeps_library
from restflow._paging import counted_slice, position_is_valid
from restflow.protocols import AsyncBasePagination

if TYPE_CHECKING:
    from rest_framework.views import APIView

__all__ = ["CursorPagination", "LimitOffsetPagination", "PageNumberPagination"]

_M = TypeVar("_M", bound=Model)
_Row = TypeVar("_Row")

#: The hooks DRF's ``paginate_queryset`` implementations call. If a subclass
#: overrides any of them, its code may do I/O even on a list.
_SYNC_HOOKS = (hooks.PAGINATOR_PAGINATE_QUERYSET, *hooks.PAGINATOR_PARTS)
#: A user's count (a cache, an estimate) is honoured with DRF's two steps.
_GET_COUNT = tuple(hook for hook in hooks.PAGINATOR_PARTS if hook.name == "get_count")


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
    ``page_size_query_param``, ``max_page_size``, ``last_page_strings``,
    ``django_paginator_class``. An invalid or out-of-range page is a 404
    "Invalid page.", as in DRF.
    """

    @override
    def paginate_queryset(
        self, queryset: Any, request: Request, view: APIView | None = None
    ) -> list[Any] | None:
        """DRF's algorithm; on a ``QuerySet``, the page and its count in one query.

        The hooks are DRF's and are called as DRF calls them (``get_page_size``,
        ``get_page_number``); a custom ``django_paginator_class``, a page that
        comes back empty, or ``?page=last`` (which needs the count first) take
        DRF's two queries. Override to change the algorithm.
        """
        self.request = request
        page_size = self.get_page_size(request)
        if not page_size:
            return None
        paginator = self.django_paginator_class(queryset, page_size)
        page_number = self.get_page_number(request, paginator)
        try:
            self.page = _counted_page(paginator, page_number)
        except InvalidPage as exc:
            raise NotFound(
                self.invalid_page_message.format(page_number=page_number, message=str(exc))
            ) from exc
        if paginator.num_pages > 1 and self.template is not None:
            self.display_page_controls = True
        return list(self.page)


def _counted_page(paginator: DjangoPaginator[Any], number: int | str) -> Page[Any]:
    """``paginator.page(number)``, counting in the page's own query where it can."""
    if type(paginator) is not DjangoPaginator or "count" in paginator.__dict__:
        return paginator.page(number)
    wanted = _page_int(number)
    if wanted is None or wanted < 1:
        return paginator.page(number)  # PageNotAnInteger or EmptyPage, and no query
    per_page, orphans = paginator.per_page, paginator.orphans
    bottom = (wanted - 1) * per_page
    counted = counted_slice(paginator.object_list, bottom, bottom + per_page + orphans)
    rows, total = counted if counted is not None else ([], None)
    if total is None:
        # No counted page, or an empty one: the count tells a 404 from an empty first page.
        return paginator.page(number)
    paginator.__dict__["count"] = total  # Paginator.count is a cached_property
    number = paginator.validate_number(number)
    top = bottom + per_page
    if top + orphans >= total:
        top = total
    return Page(rows[: top - bottom], number, paginator)


def _page_int(number: int | float | str) -> int | None:
    # Django's own test of a page number, before it asks for the count.
    if isinstance(number, float) and not number.is_integer():
        return None
    try:
        return int(number)
    except (TypeError, ValueError):
        return None


class LimitOffsetPagination(drf_pagination.LimitOffsetPagination, _DRFAlgorithm):
    """DRF's ``LimitOffsetPagination`` (``?limit=&offset=``), with :meth:`apaginate_queryset`.

    Configure it as DRF's: ``default_limit``, ``limit_query_param``,
    ``offset_query_param``, ``max_limit``.
    """

    @override
    def paginate_queryset(
        self, queryset: Any, request: Request, view: APIView | None = None
    ) -> list[Any] | None:
        """DRF's algorithm; on a ``QuerySet``, the page and its count in one query.

        The count query runs only when the page comes back empty (or where a
        count cannot ride along: see the module). A ``get_count`` override is
        honoured with DRF's two steps. Override to change the algorithm.
        """
        if not keeps_library(type(self), _GET_COUNT):
            return super().paginate_queryset(queryset, request, view)
        self.request = request
        limit = self.get_limit(request)
        if limit is None:
            return None
        self.limit = limit
        self.offset = offset = self.get_offset(request)
        counted = counted_slice(queryset, offset, offset + limit)
        rows: list[Any] | None = None if counted is None else counted[0]
        count = None if counted is None else counted[1]
        if count is None:
            count = self.get_count(queryset)
        self.count = count
        if count > limit and self.template is not None:
            self.display_page_controls = True
        if count == 0 or offset > count:
            return []
        return rows if rows is not None else list(queryset[offset : offset + limit])


class CursorPagination(drf_pagination.CursorPagination, _DRFAlgorithm):
    """DRF's ``CursorPagination`` (``?cursor=``), with :meth:`apaginate_queryset`.

    Configure it as DRF's: ``ordering`` (default ``"-created"``), ``page_size``,
    ``page_size_query_param``, ``max_page_size``, ``offset_cutoff``. It pages
    anything DRF's does: a ``QuerySet``, or an object with ``order_by()``,
    ``filter()`` and slicing. A malformed cursor is a 404 "Invalid cursor", as
    in DRF, and so is a cursor whose position the ordering field cannot hold
    (``p=x`` on an integer field, a null value, a date past what the database
    stores), where DRF's query fails with a 500.
    """

    _cursor_rows: Any = None

    @override
    def paginate_queryset(
        self, queryset: Any, request: Request, view: APIView | None = None
    ) -> list[Any] | None:
        """DRF's algorithm (one query, no count). Override to change it."""
        if not callable(getattr(queryset, "order_by", None)):
            raise TypeError(
                f"{type(self).__name__} needs a queryset, or an object with order_by(), "
                f"filter() and slicing, got {type(queryset).__name__}. Paginate in-memory "
                "sequences with PageNumberPagination or LimitOffsetPagination."
            )
        self._cursor_rows = queryset
        page: list[Any] | None = super().paginate_queryset(queryset, request, view)
        return page

    @override
    def decode_cursor(self, request: Request) -> drf_pagination.Cursor | None:
        """DRF's decoding, and a 404 for a position the ordering field cannot hold.

        Override to change the cursor format; call ``super()`` to keep the check.
        """
        cursor = super().decode_cursor(request)
        if (
            cursor is not None
            and cursor.position is not None
            and not position_is_valid(self._cursor_rows, self.ordering[0], str(cursor.position))
        ):
            raise NotFound(self.invalid_cursor_message)
        return cursor

    @override
    def get_ordering(self, request: Request, queryset: Any, view: Any) -> tuple[str, ...]:
        """DRF's ordering: an ``OrderingFilter`` on the view, else :attr:`ordering`.

        Misconfigurations DRF asserts on (no ordering, ``__`` lookups, a wrong
        type) raise ``ImproperlyConfigured`` with DRF's message. Override to
        compute the ordering per request.
        """
        try:
            return super().get_ordering(request, queryset, view)
        except AssertionError as exc:
            raise ImproperlyConfigured(str(exc)) from exc
