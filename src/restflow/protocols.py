"""The async contracts restflow's views call, and nominal bases that fulfil them.

The protocols are structural and not ``runtime_checkable``: restflow decides how
to call a hook once per class (see the private bridge), not with ``isinstance``.
Async methods carry the ``a`` prefix, so a sync ``ahas_permission`` is a type
error.

The ``Async*`` base classes subclass DRF's bases, so they fit every DRF-typed
setting and attribute. Subclass one and implement the ``a`` method; the sync
DRF method is provided for you (it runs the async one), so the class also works
on sync views.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from asgiref.sync import async_to_sync
from django.db.models import Model, QuerySet
from rest_framework.authentication import BaseAuthentication
from rest_framework.filters import BaseFilterBackend
from rest_framework.pagination import BasePagination
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

if TYPE_CHECKING:
    from rest_framework.views import APIView

__all__ = [
    "AsyncAuthenticator",
    "AsyncBaseAuthentication",
    "AsyncBaseFilterBackend",
    "AsyncBasePagination",
    "AsyncBasePermission",
    "AsyncBaseThrottle",
    "AsyncFilterBackend",
    "AsyncPaginator",
    "AsyncPermission",
    "AsyncPostFetch",
    "AsyncThrottle",
    "UserAuthTuple",
]

M = TypeVar("M", bound=Model)
_T_co = TypeVar("_T_co", covariant=True)
_Row = TypeVar("_Row")

#: What an authenticator returns on success: ``(user, auth)``.
UserAuthTuple = tuple[Any, Any]


class AsyncAuthenticator(Protocol):
    """Authenticates a request without blocking the event loop."""

    async def aauthenticate(self, request: Request) -> UserAuthTuple | None: ...

    def authenticate_header(self, request: Request) -> str | None: ...


class AsyncPermission(Protocol):
    """Grants or denies a request, and an object, without blocking the loop."""

    async def ahas_permission(self, request: Request, view: APIView) -> bool: ...

    async def ahas_object_permission(self, request: Request, view: APIView, obj: Any) -> bool: ...


class AsyncThrottle(Protocol):
    """Rate-limits requests; ``wait`` reports the seconds until the next one passes."""

    async def aallow_request(self, request: Request, view: APIView) -> bool: ...

    def wait(self) -> float | None: ...


class AsyncPaginator(Protocol[_T_co]):
    """Slices a queryset or sequence into a page, counting without blocking."""

    async def apaginate_queryset(
        self, queryset: Any, request: Request, view: APIView | None = None
    ) -> Sequence[_T_co] | None: ...


class AsyncFilterBackend(Protocol):
    """Narrows a queryset for a request without blocking the loop."""

    async def afilter_queryset(
        self, request: Request, queryset: QuerySet[M, _Row], view: APIView
    ) -> QuerySet[M, _Row]: ...


class AsyncPostFetch(Protocol):
    """Attaches related rows to already-fetched items, in one query per call."""

    def fetch(self, items: Sequence[Any]) -> None: ...

    async def afetch(self, items: Sequence[Any]) -> None: ...


class AsyncBaseAuthentication(BaseAuthentication):
    """Base for async authenticators. Override :meth:`aauthenticate`.

    The default returns None (not authenticated by this class), like DRF's.
    """

    async def aauthenticate(self, request: Request) -> UserAuthTuple | None:
        return None

    def authenticate(self, request: Request) -> UserAuthTuple | None:
        """Sync face for sync views: runs :meth:`aauthenticate`."""
        return async_to_sync(self.aauthenticate)(request)


class AsyncBasePermission(BasePermission):
    """Base for async permissions. Override the ``a`` methods; both default to True."""

    async def ahas_permission(self, request: Request, view: APIView) -> bool:
        return True

    async def ahas_object_permission(self, request: Request, view: APIView, obj: Any) -> bool:
        return True

    def has_permission(self, request: Request, view: APIView) -> bool:
        """Sync face for sync views: runs :meth:`ahas_permission`."""
        return async_to_sync(self.ahas_permission)(request, view)

    def has_object_permission(self, request: Request, view: APIView, obj: Any) -> bool:
        """Sync face for sync views: runs :meth:`ahas_object_permission`."""
        return async_to_sync(self.ahas_object_permission)(request, view, obj)


class AsyncBaseThrottle(BaseThrottle):
    """Base for async throttles. Override :meth:`aallow_request` and ``wait``."""

    async def aallow_request(self, request: Request, view: APIView) -> bool:
        raise NotImplementedError(
            f"{type(self).__name__} must implement `async def aallow_request(request, view)`."
        )

    def allow_request(self, request: Request, view: APIView) -> bool:
        """Sync face for sync views: runs :meth:`aallow_request`."""
        return async_to_sync(self.aallow_request)(request, view)


class AsyncBasePagination(BasePagination):
    """Base for async paginators. Override :meth:`apaginate_queryset`."""

    async def apaginate_queryset(
        self, queryset: Any, request: Request, view: APIView | None = None
    ) -> Sequence[Any] | None:
        raise NotImplementedError(
            f"{type(self).__name__} must implement `async def apaginate_queryset(...)`."
        )

    def paginate_queryset(
        self, queryset: Any, request: Request, view: APIView | None = None
    ) -> list[Any] | None:
        """Sync face for sync views: runs :meth:`apaginate_queryset`."""
        page = async_to_sync(self.apaginate_queryset)(queryset, request, view)
        return None if page is None else list(page)


class AsyncBaseFilterBackend(BaseFilterBackend):
    """Base for async filter backends. Override :meth:`afilter_queryset`."""

    async def afilter_queryset(
        self, request: Request, queryset: QuerySet[M, _Row], view: APIView
    ) -> QuerySet[M, _Row]:
        return queryset

    def filter_queryset(
        self, request: Request, queryset: QuerySet[M, _Row], view: APIView
    ) -> QuerySet[M, _Row]:
        """Sync face for sync views: runs :meth:`afilter_queryset`."""
        return async_to_sync(self.afilter_queryset)(request, queryset, view)
