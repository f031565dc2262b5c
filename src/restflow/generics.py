"""Generic views: DRF's ``GenericAPIView`` contract, typed, sync and async.

``AsyncGenericAPIView[M, S]`` is generic over the model and the serializer
(optionally request and response serializers: ``[M, S, SIn, SOut]``). It keeps
DRF's attributes and override points (``queryset``, ``serializer_class``,
``lookup_field``, ``lookup_url_kwarg``, ``filter_backends``,
``pagination_class``, ``get_queryset``, ``get_object``, ``filter_queryset``,
...) and adds async twins (``aget_object``, ``afilter_queryset``,
``apaginate_queryset``).

Each action (list, create, retrieve, update, destroy) is one flow, driven by
the sync mixins on the calling thread and by the async mixins on the event
loop, where its sync work shares a single worker-thread hop. A user's sync
override of a DRF hook runs inside that hop; an async override is awaited.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, cast

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, IntegrityError, router, transaction
from django.db.models import Model, QuerySet
from rest_framework import generics as drf_generics
from rest_framework import status as http_status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.settings import api_settings
from typing_extensions import TypeVar

from restflow._apiview import APIView, AsyncAPIView, _RestflowView
from restflow._bridge import (
    Flow,
    Override,
    Step,
    acall,
    call_step,
    drive_async,
    drive_sync,
    hook_step,
    method_mode,
    override_step,
    run_sync,
    sync_override_step,
)
from restflow._checks import object_permissions_flow
from restflow._helpers import S, SIn, SOut, _read_data
from restflow.conf import settings as restflow_settings
from restflow.mixins import (
    AsyncCreateModelMixin,
    AsyncDestroyModelMixin,
    AsyncListModelMixin,
    AsyncRetrieveModelMixin,
    AsyncUpdateModelMixin,
)

__all__ = [
    "AsyncCreateAPIView",
    "AsyncDestroyAPIView",
    "AsyncGenericAPIView",
    "AsyncListAPIView",
    "AsyncListCreateAPIView",
    "AsyncRetrieveAPIView",
    "AsyncRetrieveDestroyAPIView",
    "AsyncRetrieveUpdateAPIView",
    "AsyncRetrieveUpdateDestroyAPIView",
    "AsyncUpdateAPIView",
    "GenericAPIView",
    "get_object_or_404",
]

M = TypeVar("M", bound=Model, default=Any)


class _GenericCore(
    _RestflowView[S, SIn, SOut], drf_generics.GenericAPIView[M], Generic[M, S, SIn, SOut]
):
    """The generic view logic shared by the sync and the async generic views."""

    #: The objects the view works on (a queryset of ``M``; re-evaluated per request).
    queryset: QuerySet[M] | None = None  # pyright: ignore[reportIncompatibleVariableOverride]  # DRF's stubs also allow a manager
    # DRF types it loosely as BaseSerializer[M]; restflow keeps the declared S.
    serializer_class: type[S] | None = None  # pyright: ignore[reportIncompatibleVariableOverride]
    filter_backends: Sequence[type[Any]] = cast(
        "Sequence[type[Any]]", api_settings.DEFAULT_FILTER_BACKENDS
    )

    # -- DRF's hooks (sync faces) ---------------------------------------------

    def get_queryset(self) -> QuerySet[M]:
        """Return ``queryset`` (re-evaluated per request). Override to vary it per request."""
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
        return drive_sync(self._default_object_flow())

    def filter_queryset(self, queryset: QuerySet[M, Any]) -> QuerySet[M, Any]:
        """Narrow ``queryset`` with every backend in ``filter_backends``."""
        return drive_sync(self._default_filter_flow(queryset))

    def get_success_headers(self, data: Any) -> dict[str, str]:
        """``Location`` from the response body's ``url`` field, as DRF does."""
        try:
            return {"Location": str(data[api_settings.URL_FIELD_NAME])}
        except (TypeError, KeyError):
            return {}

    def perform_create(self, serializer: BaseSerializer[Any]) -> None:
        """Save a new object. Override to pass extra fields (``serializer.save(owner=...)``)."""
        serializer.save()

    def perform_update(self, serializer: BaseSerializer[Any]) -> None:
        """Save the updated object. Override to pass extra fields."""
        serializer.save()

    def perform_destroy(self, instance: M) -> None:
        """Delete ``instance``. Override for soft deletes and the like."""
        instance.delete()

    async def aperform_create(self, serializer: BaseSerializer[Any]) -> None:
        """Async twin of ``perform_create`` (default: it, in a worker thread)."""
        await run_sync(self.perform_create, serializer)

    async def aperform_update(self, serializer: BaseSerializer[Any]) -> None:
        """Async twin of ``perform_update`` (default: it, in a worker thread)."""
        await run_sync(self.perform_update, serializer)

    async def aperform_destroy(self, instance: M) -> None:
        """Async twin of ``perform_destroy`` (default: it, in a worker thread)."""
        await run_sync(self.perform_destroy, instance)

    # -- flows ------------------------------------------------------------------

    def _queryset_flow(self) -> Flow[QuerySet[M]]:
        step = override_step(self, "get_queryset", "aget_queryset")
        if step is None:
            return self.get_queryset()
        return cast("QuerySet[M]", (yield step))

    def _filter_flow(self, queryset: QuerySet[M, Any]) -> Flow[QuerySet[M, Any]]:
        step = override_step(self, "filter_queryset", "afilter_queryset", queryset)
        if step is None:
            return (yield from self._default_filter_flow(queryset))
        return cast("QuerySet[M, Any]", (yield step))

    def _default_filter_flow(self, queryset: QuerySet[M, Any]) -> Flow[QuerySet[M, Any]]:
        for backend_class in self.filter_backends:
            queryset = yield hook_step(
                backend_class(), "filter_queryset", "afilter_queryset", self.request, queryset, self
            )
        return queryset

    def _object_flow(self) -> Flow[M]:
        step = override_step(self, "get_object", "aget_object")
        if step is None:
            return (yield from self._default_object_flow())
        return cast(M, (yield step))

    def _default_object_flow(self) -> Flow[M]:
        queryset = yield from self._queryset_flow()
        queryset = yield from self._filter_flow(queryset)
        lookup_url_kwarg = self.lookup_url_kwarg or self.lookup_field
        if lookup_url_kwarg not in self.kwargs:
            raise ImproperlyConfigured(
                f"Expected view {type(self).__name__} to be called with a URL keyword "
                f'argument named "{lookup_url_kwarg}". Fix your URL conf, or set the '
                "`.lookup_field` attribute on the view correctly."
            )
        lookup = {self.lookup_field: self.kwargs[lookup_url_kwarg]}
        obj = yield Step.blocking(get_object_or_404, queryset, **lookup)
        step = override_step(
            self, "check_object_permissions", "acheck_object_permissions", self.request, obj
        )
        if step is None:
            yield from object_permissions_flow(self, self.request, obj)
        else:
            yield step
        return cast(M, obj)

    def _perform_step(self, name: str, target: Any) -> Step[Any]:
        step = override_step(self, name, "a" + name, target)
        return step if step is not None else Step.blocking(getattr(self, name), target)

    def _output_flow(self, serializer: BaseSerializer[Any]) -> Flow[Any]:
        # DRF renders the validated serializer itself; when the response serializer
        # (the class, an ActionConfig, a getter override) is another class, the
        # saved instance is rendered by that one instead.
        response_class = yield call_step(
            self, "get_response_serializer_class", "aget_response_serializer_class"
        )
        if response_class is type(serializer):
            return (yield Step.blocking(_read_data, serializer))
        return (yield from self._render_flow(serializer.instance, response_class, many=False))

    def _list_flow(self) -> Flow[Response]:
        queryset = yield from self._queryset_flow()
        queryset = yield from self._filter_flow(queryset)
        return (yield from self._paginated_response_flow(queryset, None, None, ()))

    def _retrieve_flow(self) -> Flow[Response]:
        instance = yield from self._object_flow()
        data = yield from self._render_flow(instance, None, many=False)
        return Response(data)

    def _create_flow(self) -> Flow[Response]:
        serializer = yield from self._validate_flow(None, None, None, False, {})
        self._writing = serializer
        yield self._perform_step("perform_create", serializer)
        data = yield from self._output_flow(serializer)
        return Response(
            data, status=http_status.HTTP_201_CREATED, headers=self.get_success_headers(data)
        )

    def _update_flow(self, partial: bool) -> Flow[Response]:
        instance = yield from self._object_flow()
        serializer = yield from self._validate_flow(None, None, instance, partial, {})
        self._writing = serializer
        yield self._perform_step("perform_update", serializer)
        if getattr(instance, "_prefetched_objects_cache", None):
            # prefetch_related results are stale after the update (as DRF).
            instance._prefetched_objects_cache = {}  # type: ignore[attr-defined]  # Django's private prefetch cache
        data = yield from self._output_flow(serializer)
        return Response(data)

    def _destroy_flow(self) -> Flow[Response]:
        instance = yield from self._object_flow()
        yield self._perform_step("perform_destroy", instance)
        return Response(status=http_status.HTTP_204_NO_CONTENT)

    # -- writes -----------------------------------------------------------------

    def _write_alias(self) -> str:
        model = getattr(self.queryset, "model", None)
        return router.db_for_write(model) if model is not None else DEFAULT_DB_ALIAS

    def _atomic_drive(self, flow: Flow[Response]) -> Response:
        try:
            with transaction.atomic(using=self._write_alias()):
                return drive_sync(flow)
        except IntegrityError as exc:
            # A concurrent request committed the same unique value after this one
            # was validated: validate again (now rolled back) for DRF's 400.
            writing: BaseSerializer[Any] | None = getattr(self, "_writing", None)
            if writing is None or not restflow_settings.REVALIDATE_ON_INTEGRITY_ERROR:
                raise
            fresh = type(writing)(
                instance=writing.instance,
                data=writing.initial_data,
                partial=writing.partial,
                context=writing.context,
            )
            try:
                fresh.is_valid(raise_exception=True)
            except ValidationError as invalid:
                raise invalid from exc
            raise  # still valid: a constraint that validation does not know about

    def _write(self, flow: Flow[Response]) -> Response:
        return self._atomic_drive(flow)

    async def _awrite(self, flow: Flow[Response], hook: str) -> Response:
        # Django refuses ATOMIC_REQUESTS on async views: the default write path
        # (and a sync perform_* override) is validated, saved and rendered in
        # one atomic block in one hop. An async override owns its transaction.
        if method_mode(type(self), hook, "a" + hook)[0] is Override.ASYNC:
            return await drive_async(flow)
        return await run_sync(self._atomic_drive, flow)


class GenericAPIView(_GenericCore[M, S, SIn, SOut], APIView[S, SIn, SOut]):
    """DRF's sync ``GenericAPIView``, typed, with restflow's helpers and serializer split."""


class AsyncGenericAPIView(_GenericCore[M, S, SIn, SOut], AsyncAPIView[S, SIn, SOut]):
    """DRF's ``GenericAPIView`` on the async dispatch loop, with async twins of its hooks."""

    async def aget_object(self) -> M:
        """Async twin of ``get_object``: lookup and object permissions in one hop.

        A sync ``get_object`` override on the class is honoured (in a worker thread).
        """
        step = sync_override_step(self, "get_object", "aget_object")
        if step is not None:
            return cast(M, await drive_async(_one(step)))
        return await drive_async(self._default_object_flow())

    async def afilter_queryset(self, queryset: QuerySet[M, Any]) -> QuerySet[M, Any]:
        """Async twin of ``filter_queryset``; async backends are awaited on the loop.

        A sync ``filter_queryset`` override on the class is honoured (in a worker thread).
        """
        step = sync_override_step(self, "filter_queryset", "afilter_queryset", queryset)
        if step is not None:
            return cast("QuerySet[M, Any]", await drive_async(_one(step)))
        return await drive_async(self._default_filter_flow(queryset))

    async def apaginate_queryset(
        self, queryset: QuerySet[M, Any] | Sequence[Any]
    ) -> list[Any] | None:
        """Async twin of ``paginate_queryset``: one page, or None when pagination is off.

        A sync ``paginate_queryset`` override on the class is honoured (in a worker thread).
        """
        step = sync_override_step(self, "paginate_queryset", "apaginate_queryset", queryset)
        page = await drive_async(_one(step or self._default_paginate_step(queryset)))
        return None if page is None else list(page)

    async def aget_paginated_response(self, data: Any) -> Response:
        """Async twin of ``get_paginated_response``."""
        return self.get_paginated_response(data)


def _one(step: Step[Any]) -> Flow[Any]:
    return (yield step)


async def _action(
    action: Callable[..., Awaitable[Response]], request: Request, *args: Any, **kwargs: Any
) -> Response:
    # A user may override an action with a plain ``def`` (as on DRF's generic views):
    # it must run in a worker thread, not be called on the loop and awaited.
    response: Response = await acall(action, request, *args, **kwargs)
    return response


# -- concrete views ---------------------------------------------------------------


class AsyncListAPIView(AsyncListModelMixin, AsyncGenericAPIView[M, S, SIn, SOut]):
    """``GET``: a (paginated) list of the queryset."""

    async def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return await _action(self.list, request, *args, **kwargs)


class AsyncCreateAPIView(AsyncCreateModelMixin, AsyncGenericAPIView[M, S, SIn, SOut]):
    """``POST``: create an object (201 with ``Location``)."""

    async def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return await _action(self.create, request, *args, **kwargs)


class AsyncRetrieveAPIView(AsyncRetrieveModelMixin, AsyncGenericAPIView[M, S, SIn, SOut]):
    """``GET``: one object."""

    async def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return await _action(self.retrieve, request, *args, **kwargs)


class AsyncDestroyAPIView(AsyncDestroyModelMixin, AsyncGenericAPIView[M, S, SIn, SOut]):
    """``DELETE``: delete one object (204)."""

    async def delete(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return await _action(self.destroy, request, *args, **kwargs)


class AsyncUpdateAPIView(AsyncUpdateModelMixin, AsyncGenericAPIView[M, S, SIn, SOut]):
    """``PUT``/``PATCH``: update one object (404 if it does not exist)."""

    async def put(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return await _action(self.update, request, *args, **kwargs)

    async def patch(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return await _action(self.partial_update, request, *args, **kwargs)


class AsyncListCreateAPIView(
    AsyncListModelMixin, AsyncCreateModelMixin, AsyncGenericAPIView[M, S, SIn, SOut]
):
    """``GET`` a list, ``POST`` to create."""

    async def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return await _action(self.list, request, *args, **kwargs)

    async def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return await _action(self.create, request, *args, **kwargs)


class AsyncRetrieveUpdateAPIView(
    AsyncRetrieveModelMixin, AsyncUpdateModelMixin, AsyncGenericAPIView[M, S, SIn, SOut]
):
    """``GET``, ``PUT``, ``PATCH`` one object."""

    async def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return await _action(self.retrieve, request, *args, **kwargs)

    async def put(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return await _action(self.update, request, *args, **kwargs)

    async def patch(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return await _action(self.partial_update, request, *args, **kwargs)


class AsyncRetrieveDestroyAPIView(
    AsyncRetrieveModelMixin, AsyncDestroyModelMixin, AsyncGenericAPIView[M, S, SIn, SOut]
):
    """``GET`` and ``DELETE`` one object."""

    async def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return await _action(self.retrieve, request, *args, **kwargs)

    async def delete(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return await _action(self.destroy, request, *args, **kwargs)


class AsyncRetrieveUpdateDestroyAPIView(
    AsyncRetrieveModelMixin,
    AsyncUpdateModelMixin,
    AsyncDestroyModelMixin,
    AsyncGenericAPIView[M, S, SIn, SOut],
):
    """``GET``, ``PUT``, ``PATCH`` and ``DELETE`` one object."""

    async def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return await _action(self.retrieve, request, *args, **kwargs)

    async def put(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return await _action(self.update, request, *args, **kwargs)

    async def patch(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return await _action(self.partial_update, request, *args, **kwargs)

    async def delete(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return await _action(self.destroy, request, *args, **kwargs)
