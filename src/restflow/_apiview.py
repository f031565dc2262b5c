"""``APIView``: DRF's view with restflow's serializer split, helpers and checks.

``RestflowView`` is what the sync ``APIView`` and the ``AsyncAPIView`` share:
the serializer getters (``ActionConfig``-aware), the ``validated_serializer`` /
``serialized_response`` / ``paginated_response`` helpers, and DRF's request
checks run through restflow's flows, so an async-only hook (restflow's, or an
adrf-style ``async def has_permission``) is awaited and never read as a truthy
coroutine.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast, overload

from asgiref.sync import iscoroutinefunction
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from rest_framework import exceptions, status
from rest_framework import views as drf_views
from rest_framework import viewsets as drf_viewsets
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.pagination import BasePagination
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from restflow import _hooks as hooks
from restflow._actions import (
    UNSET,
    ActionConfigs,
    action_config,
    check_action_keys,
    instances,
)
from restflow._bridge import Flow, Step, drive_sync, view_step
from restflow._checks import (
    authentication_flow,
    object_permissions_flow,
    permissions_flow,
    throttles_flow,
)
from restflow._fastjson import use_fast_json
from restflow._flows import (
    builds_serializers_in_user_code,
    configured_serializer_class,
    paginated_response_flow,
    serialized_response_flow,
    validate_flow,
)
from restflow._request import BoundedRequest
from restflow._types import SX, S, SIn, SOut, Typed
from restflow.parsers import translate_body_error
from restflow.protocols import AsyncPostFetch

__all__ = ["APIView", "RestflowView", "exception_flow"]


def exception_flow(view: drf_views.APIView, exc: Exception) -> Flow[Response]:
    """DRF's ``handle_exception`` as a flow: the exception handler is a step."""
    # Hostile bodies that DRF leaves as a 500 or Django's HTML 400 get a JSON 4xx.
    exc = translate_body_error(exc, view.request)
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        # WWW-Authenticate header for 401 responses, else coerce to 403 (as DRF).
        auth_header = yield view_step(view, hooks.GET_AUTHENTICATE_HEADER, view.request)
        if auth_header:
            auth_exc: Any = exc  # DRF's exception handler reads this ad-hoc attribute
            auth_exc.auth_header = auth_header
        else:
            exc.status_code = status.HTTP_403_FORBIDDEN
    handler = yield view_step(view, hooks.GET_EXCEPTION_HANDLER)
    context = yield view_step(view, hooks.GET_EXCEPTION_HANDLER_CONTEXT)
    if iscoroutinefunction(handler):
        step: Step[Any] = Step.awaiting(handler, exc, context)
    elif handler is drf_views.exception_handler:
        step = Step.pure(handler, exc, context)
    else:
        step = Step.blocking(handler, exc, context)
    response: Response | None = yield step
    if response is None:
        view.raise_uncaught_exception(exc)
    response.exception = True
    done: Response = response
    return done


class RestflowView(drf_views.APIView, Typed[S, SIn, SOut]):
    """What ``APIView`` and ``AsyncAPIView`` share.

    ``S`` is the view's serializer; ``SIn`` (request) and ``SOut`` (response)
    default to it. Like DRF's ``GenericAPIView``, the class is generic for type
    checkers only: subscripting it at runtime returns the class itself.
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
    #: Per-action overrides (viewsets): ``{"list": ActionConfig(...)}`` (see ``ActionConfigs``).
    action_configs: ActionConfigs[Any] = {}

    if not TYPE_CHECKING:

        def __class_getitem__(cls, params: object) -> type:
            return cls

    def __init_subclass__(cls, **kwargs: object) -> None:
        # Catch a misspelt action key when the class is defined, not on the
        # first request that happens to use it.
        super().__init_subclass__(**kwargs)
        check_action_keys(cls)

    # -- serializer resolution --------------------------------------------------

    def get_serializer_class(self) -> type[S]:
        """The action's ``ActionConfig.serializer_class``, else ``serializer_class``.

        Override to choose a class per request.
        """
        configured = action_config(self).serializer_class
        if configured is not UNSET:
            return cast("type[S]", configured)
        if self.serializer_class is None:
            raise ImproperlyConfigured(
                f"'{type(self).__name__}' should either include a `serializer_class` "
                "attribute, or override the `get_serializer_class()` method."
            )
        return self.serializer_class

    def get_request_serializer_class(self) -> type[SIn]:
        """The serializer that validates bodies: the action's config, else
        ``request_serializer_class``, else :meth:`get_serializer_class`."""
        configured = configured_serializer_class(self, hooks.GET_REQUEST_SERIALIZER_CLASS)
        return cast("type[SIn]", configured or self.get_serializer_class())

    def get_response_serializer_class(self) -> type[SOut]:
        """The serializer that renders responses: the action's config, else
        ``response_serializer_class``, else :meth:`get_serializer_class`."""
        configured = configured_serializer_class(self, hooks.GET_RESPONSE_SERIALIZER_CLASS)
        return cast("type[SOut]", configured or self.get_serializer_class())

    def get_serializer_context(self) -> dict[str, Any]:
        """Extra context for serializers: the request, the format suffix and the view."""
        return {"request": self.request, "format": self.format_kwarg, "view": self}

    def get_serializer(
        self,
        *args: Any,
        serializer_class: type[BaseSerializer[Any]] | None = None,
        **kwargs: Any,
    ) -> S:
        """Build a serializer with the view's context.

        The class is ``serializer_class`` when given, else
        :meth:`get_serializer_class`.
        """
        klass = serializer_class if serializer_class is not None else self.get_serializer_class()
        kwargs.setdefault("context", self.get_serializer_context())
        return cast("S", klass(*args, **kwargs))

    # -- the action's configuration ---------------------------------------------

    def finalize_response(
        self, request: Request, response: Response, *args: object, **kwargs: object
    ) -> Response:
        """DRF's ``finalize_response``; DRF's ``JSONRenderer`` writes its bytes via orjson.

        See ``restflow.renderers.JSONRenderer``: the same bytes as DRF's, faster.
        """
        response = super().finalize_response(request, response, *args, **kwargs)
        use_fast_json(response)
        return response

    def initialize_request(self, request: HttpRequest, *args: object, **kwargs: object) -> Request:
        """DRF's request wrapper; JSON and form bodies respect Django's size limit.

        On a viewset, ``self.action`` is set first, so ``get_parsers`` (called
        while the request is built) sees it, as permissions and throttles do.
        """
        if isinstance(self, drf_viewsets.ViewSetMixin):
            method = (request.method or "").lower()
            action_map: Mapping[str, str] = getattr(self, "action_map", {})
            viewset: Any = self  # DRF's ViewSetMixin sets ``action`` (None if unmapped)
            viewset.action = "metadata" if method == "options" else action_map.get(method)
        return BoundedRequest(
            request,
            parsers=self.get_parsers(),
            authenticators=self.get_authenticators(),
            negotiator=self.get_content_negotiator(),
            parser_context=self.get_parser_context(request),
        )

    def get_permissions(self) -> Sequence[Any]:
        """The action's ``permission_classes``, else the view's, instantiated."""
        return instances(action_config(self).permission_classes, super().get_permissions)

    def get_throttles(self) -> list[BaseThrottle]:
        """The action's ``throttle_classes``, else the view's, instantiated."""
        return instances(action_config(self).throttle_classes, super().get_throttles)

    def get_parsers(self) -> list[BaseParser]:
        """The action's ``parser_classes``, else the view's, instantiated."""
        return instances(action_config(self).parser_classes, super().get_parsers)

    def get_renderers(self) -> list[BaseRenderer]:
        """The action's ``renderer_classes``, else the view's, instantiated."""
        return instances(action_config(self).renderer_classes, super().get_renderers)

    # -- pagination ---------------------------------------------------------------

    @property
    def paginator(self) -> BasePagination | None:
        """The paginator for this request (the action's ``pagination_class``, else
        the view's), or None when pagination is off."""
        if not hasattr(self, "_paginator"):
            configured = action_config(self).pagination_class
            klass = self.pagination_class if configured is UNSET else configured
            self._paginator = None if klass is None else klass()
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

    # -- helpers ------------------------------------------------------------------

    @overload
    def validated_serializer(
        self,
        data: object = None,
        *,
        instance: object = None,
        partial: bool = False,
        serializer_class: None = None,
        **kwargs: object,
    ) -> SIn: ...
    @overload
    def validated_serializer(
        self,
        data: object = None,
        *,
        instance: object = None,
        partial: bool = False,
        serializer_class: type[SX],
        **kwargs: object,
    ) -> SX: ...
    def validated_serializer(
        self,
        data: object = None,
        *,
        instance: object = None,
        partial: bool = False,
        serializer_class: type[BaseSerializer[Any]] | None = None,
        **kwargs: object,
    ) -> BaseSerializer[Any]:
        """Validate ``data`` (default: ``request.data``) and return the serializer.

        Uses the request serializer (:meth:`get_request_serializer_class`)
        unless ``serializer_class`` is given. Invalid data raises DRF's
        ``ValidationError``, which becomes a 400 with the field errors.
        """
        return drive_sync(
            validate_flow(
                self,
                data,
                serializer_class=serializer_class,
                instance=instance,
                partial=partial,
                extra=kwargs,
            )
        )

    def serialized_response(
        self,
        instance: object,
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
        return drive_sync(
            serialized_response_flow(
                self,
                instance,
                serializer_class=serializer_class,
                status=status,
                headers=headers,
                many=many,
                post_fetches=post_fetches,
            )
        )

    def paginated_response(
        self,
        queryset: object,
        *,
        serializer_class: type[BaseSerializer[Any]] | None = None,
        headers: Mapping[str, str] | None = None,
        post_fetches: Iterable[AsyncPostFetch] = (),
    ) -> Response:
        """Paginate ``queryset``, serialize the page and return the paginated Response.

        Without a paginator the whole queryset is serialized as a list, as
        DRF's ``ListModelMixin`` does.
        """
        return drive_sync(
            paginated_response_flow(
                self,
                queryset,
                serializer_class=serializer_class,
                headers=headers,
                post_fetches=post_fetches,
            )
        )

    # -- DRF's request cycle ------------------------------------------------------

    def perform_content_negotiation(
        self, request: Request, force: bool = False
    ) -> tuple[BaseRenderer, str]:
        """DRF's content negotiation; a request that accepts anything skips the parsing.

        With DRF's negotiator, no format suffix or ``?format=``, no ``Accept`` header
        or ``Accept: */*``, and a plain first renderer type (``application/json``),
        DRF picks the first renderer and its media type: restflow returns that
        without parsing and ranking the header.
        """
        negotiator = self.get_content_negotiator()
        if (
            type(negotiator) is DefaultContentNegotiation
            and request.META.get("HTTP_ACCEPT", "*/*") == "*/*"
            and not self.format_kwarg
            and not request.query_params.get(negotiator.settings.URL_FORMAT_OVERRIDE)
        ):
            renderers = self.get_renderers()
            # A wildcard or parameters in the renderer's own type change DRF's matching.
            if renderers and not any(mark in renderers[0].media_type for mark in "*;"):
                return renderers[0], renderers[0].media_type
        return super().perform_content_negotiation(request, force)

    def perform_authentication(self, request: Request) -> None:
        """Authenticate now (DRF does it lazily on ``request.user``)."""
        drive_sync(authentication_flow(request))

    def check_permissions(self, request: Request) -> None:
        """Raise ``PermissionDenied``/``NotAuthenticated`` if a permission denies."""
        drive_sync(permissions_flow(self, request))

    def check_object_permissions(self, request: Request, obj: Any) -> None:
        """Raise ``PermissionDenied``/``NotAuthenticated`` if a permission denies ``obj``."""
        drive_sync(object_permissions_flow(self, request, obj))

    def check_throttles(self, request: Request) -> None:
        """Raise ``Throttled`` (429 with ``Retry-After``) if any throttle refuses."""
        drive_sync(throttles_flow(self, request))

    def handle_exception(self, exc: Exception) -> Response:
        """Turn ``exc`` into a response with the configured exception handler."""
        return drive_sync(exception_flow(self, exc))

    def options(  # type: ignore[override]  # DRF's handler signature (a Request), as DRF's stubs
        self, request: Request, *args: Any, **kwargs: Any
    ) -> Response:
        """DRF's OPTIONS handler: the ``metadata_class``'s description of the view.

        A view that declares no serializer answers as DRF's plain ``APIView`` (no
        ``actions``). DRF's ``SimpleMetadata`` describes a serializer whenever the view has
        a ``get_serializer`` method, and with nothing configured that raises
        ``ImproperlyConfigured`` (a 500 where DRF answers 200). Override to describe the
        endpoint yourself.
        """
        metadata_class = self.metadata_class
        if not isinstance(metadata_class, type) or _declares_serializer(self):
            # None (405) or a dotted path: DRF's handler deals with both.
            return super().options(request, *args, **kwargs)
        plain: Any = _WithoutSerializer(self)  # duck-types the view for the metadata class
        data = metadata_class().determine_metadata(request, plain)
        return Response(data, status=status.HTTP_200_OK)


def _declares_serializer(view: RestflowView[Any, Any, Any]) -> bool:
    return (
        view.serializer_class is not None
        or view.request_serializer_class is not None
        or view.response_serializer_class is not None
        or builds_serializers_in_user_code(type(view))
    )


class _WithoutSerializer:
    """A view as DRF's metadata sees a plain ``APIView``: without ``get_serializer``."""

    def __init__(self, view: drf_views.APIView) -> None:
        self._view = view

    def __getattr__(self, name: str) -> Any:
        if name == "get_serializer":
            raise AttributeError(name)
        return getattr(self._view, name)


class APIView(RestflowView[S, SIn, SOut]):
    """DRF's sync ``APIView`` with restflow's serializer split and helpers.

    Handlers are plain ``def`` methods returning a response.
    """

    if TYPE_CHECKING:

        def get(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase: ...
        def post(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase: ...
        def put(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase: ...
        def patch(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase: ...
        def delete(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase: ...
