"""The serializer split and the validate / serialize / paginate helpers.

Every helper is one flow (see the bridge): ``validated_serializer`` drives it
on the calling thread, ``avalidated_serializer`` on the event loop, where all
of its sync work (validation, saving, rendering ``data``, counting and slicing
a page, post-fetches) happens in a single worker-thread hop.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Generic, cast, overload

from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet
from rest_framework import views as drf_views
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.settings import api_settings
from typing_extensions import TypeVar

from restflow._bridge import (
    Flow,
    Override,
    Step,
    call_step,
    drive_sync,
    hook_step,
    method_mode,
    override_step,
    per_class,
)
from restflow._compiled import serializer_data
from restflow._request import parsing_step, read_data
from restflow.protocols import AsyncPostFetch

__all__ = ["SX", "S", "SIn", "SOut", "SerializerHelpers"]

S = TypeVar("S", bound=BaseSerializer[Any], default=BaseSerializer[Any])
SIn = TypeVar("SIn", bound=BaseSerializer[Any], default=S)
SOut = TypeVar("SOut", bound=BaseSerializer[Any], default=S)
SX = TypeVar("SX", bound=BaseSerializer[Any])

_SERIALIZER_HOOKS = (
    "get_serializer",
    "get_serializer_class",
    "get_request_serializer_class",
    "get_response_serializer_class",
    "get_serializer_context",
)


@per_class
def _builds_serializers_in_user_code(cls: type) -> bool:
    # A user's sync override of any serializer getter may do I/O: honour it in
    # a worker thread. restflow's own getters are pure and stay on the loop.
    return any(
        method_mode(cls, name, "a" + name)[0] is not Override.DEFAULT for name in _SERIALIZER_HOOKS
    )


def _read_data(serializer: BaseSerializer[Any]) -> Any:
    return serializer_data(serializer)


def _materialize(items: Any) -> Any:
    return list(items) if isinstance(items, QuerySet) else items


class SerializerHelpers(drf_views.APIView, Generic[S, SIn, SOut]):
    """Serializer resolution and response helpers shared by every restflow view.

    ``S`` is the view's serializer; ``SIn`` (request) and ``SOut`` (response)
    default to it.
    """

    #: The serializer for both directions unless one of the two below is set.
    serializer_class: type[S] | None = None
    #: The serializer that validates request bodies (default: ``serializer_class``).
    request_serializer_class: type[SIn] | None = None
    #: The serializer that renders responses (default: ``serializer_class``).
    response_serializer_class: type[SOut] | None = None
    #: Defaults to DRF's ``DEFAULT_PAGINATION_CLASS`` setting.
    pagination_class: type[BasePagination] | None = cast(
        "type[BasePagination] | None", api_settings.DEFAULT_PAGINATION_CLASS
    )

    # -- resolution -----------------------------------------------------------

    def get_serializer_class(self) -> type[S]:
        """Return ``serializer_class``. Override to choose a class per request."""
        if self.serializer_class is None:
            raise ImproperlyConfigured(
                f"'{type(self).__name__}' should either include a `serializer_class` "
                "attribute, or override the `get_serializer_class()` method."
            )
        return self.serializer_class

    def get_request_serializer_class(self) -> type[SIn]:
        """Return ``request_serializer_class``, else :meth:`get_serializer_class`."""
        if self.request_serializer_class is not None:
            return self.request_serializer_class
        return cast("type[SIn]", self.get_serializer_class())

    def get_response_serializer_class(self) -> type[SOut]:
        """Return ``response_serializer_class``, else :meth:`get_serializer_class`."""
        if self.response_serializer_class is not None:
            return self.response_serializer_class
        return cast("type[SOut]", self.get_serializer_class())

    def get_serializer_context(self) -> dict[str, Any]:
        """Extra context for serializers: the request, the format suffix and the view."""
        return {"request": self.request, "format": self.format_kwarg, "view": self}

    def get_serializer(
        self, *args: Any, serializer_class: type[BaseSerializer[Any]] | None = None, **kwargs: Any
    ) -> S:
        """Build a serializer with the view's context.

        The class is ``serializer_class`` when given, else
        :meth:`get_serializer_class`.
        """
        klass = serializer_class if serializer_class is not None else self.get_serializer_class()
        kwargs.setdefault("context", self.get_serializer_context())
        return cast("S", klass(*args, **kwargs))

    @property
    def paginator(self) -> BasePagination | None:
        """The paginator instance for this view, or None when pagination is off."""
        if not hasattr(self, "_paginator"):
            self._paginator = None if self.pagination_class is None else self.pagination_class()
        return self._paginator

    def paginate_queryset(self, queryset: Any) -> list[Any] | None:
        """Return one page of ``queryset``, or None when pagination is off."""
        if self.paginator is None:
            return None
        page: Iterable[Any] | None = self.paginator.paginate_queryset(
            queryset, self.request, view=self
        )
        return None if page is None else list(page)

    def get_paginated_response(self, data: Any) -> Response:
        """Wrap serialized page ``data`` in the paginator's response shape."""
        if self.paginator is None:
            raise ImproperlyConfigured(
                f"'{type(self).__name__}.get_paginated_response()' needs a `pagination_class`."
            )
        return self.paginator.get_paginated_response(data)

    # -- helpers ----------------------------------------------------------------

    @overload
    def validated_serializer(
        self,
        data: Any = None,
        *,
        instance: Any = None,
        partial: bool = False,
        serializer_class: None = None,
        **kwargs: Any,
    ) -> SIn: ...
    @overload
    def validated_serializer(
        self,
        data: Any = None,
        *,
        instance: Any = None,
        partial: bool = False,
        serializer_class: type[SX],
        **kwargs: Any,
    ) -> SX: ...
    def validated_serializer(
        self,
        data: Any = None,
        *,
        instance: Any = None,
        partial: bool = False,
        serializer_class: type[BaseSerializer[Any]] | None = None,
        **kwargs: Any,
    ) -> BaseSerializer[Any]:
        """Validate ``data`` (default: ``request.data``) and return the serializer.

        Uses the request serializer (:meth:`get_request_serializer_class`)
        unless ``serializer_class`` is given. Invalid data raises DRF's
        ``ValidationError``, which becomes a 400 with the field errors.
        """
        flow = self._validate_flow(serializer_class, data, instance, partial, kwargs)
        return cast("BaseSerializer[Any]", drive_sync(flow))

    def serialized_response(
        self,
        instance: Any,
        *,
        serializer_class: type[BaseSerializer[Any]] | None = None,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
        many: bool = False,
        post_fetches: Iterable[AsyncPostFetch] = (),
    ) -> Response:
        """Serialize ``instance`` with the response serializer and return a Response.

        ``post_fetches`` attach related rows first (one query each).
        """
        flow = self._serialized_response_flow(
            instance, serializer_class, status, headers, many, post_fetches
        )
        return drive_sync(flow)

    def paginated_response(
        self,
        queryset: Any,
        *,
        serializer_class: type[BaseSerializer[Any]] | None = None,
        headers: Mapping[str, str] | None = None,
        post_fetches: Iterable[AsyncPostFetch] = (),
    ) -> Response:
        """Paginate ``queryset``, serialize the page and return the paginated Response.

        Without a paginator the whole queryset is serialized as a list, as
        DRF's ``ListModelMixin`` does.
        """
        flow = self._paginated_response_flow(queryset, serializer_class, headers, post_fetches)
        return drive_sync(flow)

    # -- flows ------------------------------------------------------------------

    def _build_serializer(
        self, klass: type[BaseSerializer[Any]] | str | None, *args: Any, **kwargs: Any
    ) -> Step[Any]:
        build = functools.partial(self._resolve_and_build, klass, *args, **kwargs)
        if _builds_serializers_in_user_code(type(self)):
            return Step.blocking(build)
        return Step.pure(build)

    def _resolve_and_build(
        self, klass: type[BaseSerializer[Any]] | Any, *args: Any, **kwargs: Any
    ) -> BaseSerializer[Any]:
        if isinstance(klass, str):
            klass = getattr(self, klass)()
        if method_mode(type(self), "get_serializer", "aget_serializer")[0] is Override.DEFAULT:
            return self.get_serializer(*args, serializer_class=klass, **kwargs)
        # A DRF-style override, ``get_serializer(self, *args, **kwargs)``, knows no
        # ``serializer_class`` keyword: call it when it would pick the same class,
        # else build the chosen class with the view's context directly.
        if klass is self.get_serializer_class():
            return self.get_serializer(*args, **kwargs)
        kwargs.setdefault("context", self.get_serializer_context())
        return cast("BaseSerializer[Any]", klass(*args, **kwargs))

    def _validate_flow(
        self,
        klass: type[BaseSerializer[Any]] | None,
        data: Any,
        instance: Any,
        partial: bool,
        kwargs: dict[str, Any],
    ) -> Flow[Any]:
        if data is None:
            data = yield parsing_step(self.request, read_data, self.request)
        if instance is not None:
            kwargs["instance"] = instance
        chosen = klass if klass is not None else "get_request_serializer_class"
        serializer = yield self._build_serializer(chosen, data=data, partial=partial, **kwargs)
        yield _serializer_step(serializer, "is_valid", "ais_valid", raise_exception=True)
        return serializer

    def _post_fetch_flow(self, items: Any, post_fetches: Iterable[AsyncPostFetch]) -> Flow[Any]:
        fetches = list(post_fetches)
        if not fetches:
            return items
        if isinstance(items, QuerySet):
            # Evaluate once, here, so the objects the fetch decorates are the
            # ones the serializer renders (and never on the event loop).
            items = yield Step.blocking(_materialize, items)
        targets = (
            items if isinstance(items, Sequence) and not isinstance(items, Mapping) else [items]
        )
        for fetch in fetches:
            # Rendering blocks right after: share its hop (the sync face).
            yield hook_step(fetch, "fetch", "afetch", targets, prefer_sync=True)
        return items

    def _render_flow(
        self, instance: Any, klass: type[BaseSerializer[Any]] | None, many: bool
    ) -> Flow[Any]:
        chosen = klass if klass is not None else "get_response_serializer_class"
        serializer = yield self._build_serializer(chosen, instance, many=many)
        return (yield Step.blocking(_read_data, serializer))

    def _serialized_response_flow(
        self,
        instance: Any,
        klass: type[BaseSerializer[Any]] | None,
        status: int | None,
        headers: Mapping[str, str] | None,
        many: bool,
        post_fetches: Iterable[AsyncPostFetch],
    ) -> Flow[Response]:
        instance = yield from self._post_fetch_flow(instance, post_fetches)
        data = yield from self._render_flow(instance, klass, many)
        return Response(data, status=status, headers=headers)

    def _paginated_response_flow(
        self,
        queryset: Any,
        klass: type[BaseSerializer[Any]] | None,
        headers: Mapping[str, str] | None,
        post_fetches: Iterable[AsyncPostFetch],
    ) -> Flow[Response]:
        page = yield self._paginate_step(queryset)
        items = queryset if page is None else page
        items = yield from self._post_fetch_flow(items, post_fetches)
        data = yield from self._render_flow(items, klass, many=True)
        if page is None:
            return Response(data, headers=headers)
        response: Response = yield call_step(
            self, "get_paginated_response", "aget_paginated_response", data
        )
        for name, value in (headers or {}).items():
            response[name] = value
        return response

    def _paginate_step(self, queryset: Any) -> Step[Any]:
        step = override_step(self, "paginate_queryset", "apaginate_queryset", queryset)
        if step is not None:
            return step
        return self._default_paginate_step(queryset, prefer_sync=True)

    def _default_paginate_step(self, queryset: Any, *, prefer_sync: bool = False) -> Step[Any]:
        paginator = self.paginator
        if paginator is None:
            return Step.pure(_no_page)
        return hook_step(
            paginator,
            "paginate_queryset",
            "apaginate_queryset",
            queryset,
            self.request,
            self,
            prefer_sync=prefer_sync,
        )


def _serializer_step(
    serializer: BaseSerializer[Any], sync_name: str, async_name: str, **kwargs: Any
) -> Step[Any]:
    # restflow's own ``ais_valid``/``asave`` are only a hop around the sync
    # method; inside a flow that hop is shared, so only a user's override is
    # called as such.
    step = override_step(serializer, sync_name, async_name, **kwargs)
    return step if step is not None else Step.blocking(getattr(serializer, sync_name), **kwargs)


def _no_page() -> None:
    return None
