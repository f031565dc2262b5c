"""``APIView`` and ``AsyncAPIView``: DRF's view with restflow's helpers.

Both run DRF's request checks through restflow's flows, so async-only hooks
(restflow's own, or adrf-style ``async def has_permission``) are awaited on
either kind of view and never read as a truthy coroutine.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, cast, overload

from asgiref.sync import iscoroutinefunction
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from rest_framework import exceptions, status
from rest_framework import views as drf_views
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from restflow._bridge import (
    Flow,
    Mode,
    Step,
    acall,
    drive_async,
    drive_sync,
    hook_mode,
    override_step,
    register_inline,
    sync_override_step,
)
from restflow._checks import (
    authentication_flow,
    object_permissions_flow,
    permissions_flow,
    throttles_flow,
)
from restflow._fastjson import JSONRenderer as FastJSONRenderer
from restflow._fastjson import use_fast_json
from restflow._helpers import (
    SX,
    S,
    SerializerHelpers,
    SIn,
    SOut,
    _builds_serializers_in_user_code,
)
from restflow._request import BoundedRequest
from restflow.parsers import translate_body_error
from restflow.protocols import AsyncPostFetch

__all__ = ["APIView", "AsyncAPIView"]


def _exception_flow(view: drf_views.APIView, exc: Exception) -> Flow[Response]:
    """DRF's ``handle_exception``, with the exception handler as a step."""
    # Hostile bodies that DRF leaves as a 500 or Django's HTML 400 get a JSON 4xx.
    exc = translate_body_error(exc, view.request)
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        # WWW-Authenticate header for 401 responses, else coerce to 403 (as DRF).
        auth_header = view.get_authenticate_header(view.request)
        if auth_header:
            auth_exc: Any = exc  # DRF's exception handler reads this ad-hoc attribute
            auth_exc.auth_header = auth_header
        else:
            exc.status_code = status.HTTP_403_FORBIDDEN
    handler = view.get_exception_handler()
    context = view.get_exception_handler_context()
    if iscoroutinefunction(handler):
        step: Step[Any] = Step.awaiting(handler, exc, context)
    elif handler is drf_views.exception_handler:
        step = Step.pure(handler, exc, context)
    else:
        step = Step.blocking(handler, exc, context)
    response = yield step
    if response is None:
        view.raise_uncaught_exception(exc)
    response.exception = True
    return cast(Response, response)


class _RestflowView(SerializerHelpers[S, SIn, SOut], drf_views.APIView):
    """What ``APIView`` and ``AsyncAPIView`` share: helpers and bridge-aware checks."""

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        """DRF's ``finalize_response``; DRF's ``JSONRenderer`` writes its bytes via orjson.

        See ``restflow.renderers.JSONRenderer``: the same bytes as DRF's, faster.
        """
        response = super().finalize_response(request, response, *args, **kwargs)
        use_fast_json(response)
        return response

    def initialize_request(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Request:
        """DRF's request wrapper; JSON and form bodies respect Django's size limit."""
        return BoundedRequest(
            request,
            parsers=self.get_parsers(),
            authenticators=self.get_authenticators(),
            negotiator=self.get_content_negotiator(),
            parser_context=self.get_parser_context(request),
        )

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
        return drive_sync(_exception_flow(self, exc))

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


def _declares_serializer(view: SerializerHelpers[Any, Any, Any]) -> bool:
    return (
        view.serializer_class is not None
        or view.request_serializer_class is not None
        or view.response_serializer_class is not None
        or _builds_serializers_in_user_code(type(view))
    )


class _WithoutSerializer:
    """A view as DRF's metadata sees a plain ``APIView``: without ``get_serializer``."""

    def __init__(self, view: drf_views.APIView) -> None:
        self._view = view

    def __getattr__(self, name: str) -> Any:
        if name == "get_serializer":
            raise AttributeError(name)
        return getattr(self._view, name)


class APIView(_RestflowView[S, SIn, SOut]):
    """DRF's sync ``APIView`` with restflow's serializer split and helpers.

    Handlers are plain ``def`` methods returning a response.
    """

    if TYPE_CHECKING:

        def get(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase: ...
        def post(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase: ...
        def put(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase: ...
        def patch(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase: ...
        def delete(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase: ...


_CHECK_PHASES = (
    ("perform_authentication", "aperform_authentication"),
    ("check_permissions", "acheck_permissions"),
    ("check_throttles", "acheck_throttles"),
)


class AsyncAPIView(_RestflowView[S, SIn, SOut]):
    """DRF's ``APIView`` with an ``async def dispatch``.

    The loop is DRF's: content negotiation, versioning, authentication,
    permissions, throttles, the handler, exception handling, finalize. Async
    hooks are awaited on the event loop; from the first sync hook on, the rest
    of the phase runs in one worker thread. A sync handler runs in a worker
    thread too. ``request.user`` and ``request.auth`` are set before the handler
    runs, so async handlers read them without touching the database.
    """

    #: Always served as an async view, whatever its handlers are.
    view_is_async = True

    if TYPE_CHECKING:

        async def get(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase: ...
        async def post(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase: ...
        async def put(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase: ...
        async def patch(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase: ...
        async def delete(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase: ...

    async def dispatch(  # type: ignore[override]  # DRF's dispatch is sync; this view's is a coroutine
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        """Run DRF's request/response cycle without blocking the event loop."""
        self.args = args
        self.kwargs = kwargs
        drf_request = self.initialize_request(request, *args, **kwargs)
        self.request = drf_request
        self.headers = self.default_response_headers
        try:
            await self.ainitial(drf_request, *args, **kwargs)
            response = await self._acall_handler(drf_request, *args, **kwargs)
        except Exception as exc:
            response = await self.ahandle_exception(exc)
        self.response = self.finalize_response(drf_request, response, *args, **kwargs)
        if isinstance(request, ASGIRequest):
            _render_on_loop_if_pure(self.response)
        return self.response

    async def ainitial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        """DRF's ``initial`` on the loop; a sync override of ``initial`` runs in a thread."""
        # A user's ``ainitial`` reached this through super(): only a sync-name
        # override is a different method (override_step would recurse into theirs).
        override = sync_override_step(self, "initial", "ainitial", request, *args, **kwargs)
        if override is not None:
            await drive_async(_single(override))
            return
        self.format_kwarg = self.get_format_suffix(**kwargs)
        request.accepted_renderer, request.accepted_media_type = self.perform_content_negotiation(
            request
        )
        request.version, request.versioning_scheme = self.determine_version(
            request, *args, **kwargs
        )
        await drive_async(self._checks_flow(request))

    def _checks_flow(self, request: Request) -> Flow[None]:
        # Authentication, permissions and throttles as one flow: one hop at most.
        for sync_name, async_name in _CHECK_PHASES:
            override = override_step(self, sync_name, async_name, request)
            if override is not None:
                yield override
            elif sync_name == "perform_authentication":
                yield from authentication_flow(request)
            elif sync_name == "check_permissions":
                yield from permissions_flow(self, request)
            else:
                yield from throttles_flow(self, request)

    async def aperform_authentication(self, request: Request) -> None:
        """Authenticate the request; sets ``request.user`` and ``request.auth``."""
        await drive_async(authentication_flow(request))

    async def acheck_permissions(self, request: Request) -> None:
        """Async twin of ``check_permissions``."""
        await drive_async(permissions_flow(self, request))

    async def acheck_object_permissions(self, request: Request, obj: Any) -> None:
        """Async twin of ``check_object_permissions``."""
        await drive_async(object_permissions_flow(self, request, obj))

    async def acheck_throttles(self, request: Request) -> None:
        """Async twin of ``check_throttles``."""
        await drive_async(throttles_flow(self, request))

    async def ahandle_exception(self, exc: Exception) -> Response:
        """Async twin of ``handle_exception``; an async ``EXCEPTION_HANDLER`` is awaited."""
        # As in ainitial: a user's ``ahandle_exception`` is the caller, not an override.
        override = sync_override_step(self, "handle_exception", "ahandle_exception", exc)
        if override is not None:
            return cast(Response, await drive_async(_single(override)))
        return await drive_async(_exception_flow(self, exc))

    async def _acall_handler(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        method = (request.method or "").lower()
        if method in self.http_method_names:
            handler = getattr(self, method, self.http_method_not_allowed)
        else:
            handler = self.http_method_not_allowed
        if getattr(handler, "__func__", None) is drf_views.APIView.http_method_not_allowed:
            return handler(request, *args, **kwargs)  # raises 405: nothing to block on
        return await acall(handler, request, *args, **kwargs)

    # -- async helpers (one implementation with the sync ones: the flows) ---------

    @overload
    async def avalidated_serializer(
        self,
        data: Any = None,
        *,
        instance: Any = None,
        partial: bool = False,
        serializer_class: None = None,
        **kwargs: Any,
    ) -> SIn: ...
    @overload
    async def avalidated_serializer(
        self,
        data: Any = None,
        *,
        instance: Any = None,
        partial: bool = False,
        serializer_class: type[SX],
        **kwargs: Any,
    ) -> SX: ...
    async def avalidated_serializer(
        self,
        data: Any = None,
        *,
        instance: Any = None,
        partial: bool = False,
        serializer_class: type[BaseSerializer[Any]] | None = None,
        **kwargs: Any,
    ) -> BaseSerializer[Any]:
        """Async twin of :meth:`validated_serializer` (validation in one hop)."""
        flow = self._validate_flow(serializer_class, data, instance, partial, kwargs)
        return cast("BaseSerializer[Any]", await drive_async(flow))

    async def aserialized_response(
        self,
        instance: Any,
        *,
        serializer_class: type[BaseSerializer[Any]] | None = None,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
        many: bool = False,
        post_fetches: Iterable[AsyncPostFetch] = (),
    ) -> Response:
        """Async twin of :meth:`serialized_response` (post-fetches + rendering in one hop)."""
        flow = self._serialized_response_flow(
            instance, serializer_class, status, headers, many, post_fetches
        )
        return await drive_async(flow)

    async def apaginated_response(
        self,
        queryset: Any,
        *,
        serializer_class: type[BaseSerializer[Any]] | None = None,
        headers: Mapping[str, str] | None = None,
        post_fetches: Iterable[AsyncPostFetch] = (),
    ) -> Response:
        """Async twin of :meth:`paginated_response`: count, page, post-fetch, render in one hop."""
        flow = self._paginated_response_flow(queryset, serializer_class, headers, post_fetches)
        return await drive_async(flow)


def _single(step: Step[Any]) -> Flow[Any]:
    return (yield step)


# DRF's JSON renderer encodes already-serialized data: pure CPU, safe on the loop.
register_inline("render", JSONRenderer, FastJSONRenderer)


def _render_on_loop_if_pure(response: HttpResponseBase) -> None:
    """Let Django's async handler render ``response`` on the loop when that is safe.

    Django's handler awaits ``response.render`` if it is a coroutine function and
    otherwise moves it to a worker thread: one hop per request just to encode
    JSON. For a renderer registered as pure, a coroutine ``render`` is set on
    the instance; once called, it removes itself, so any later (sync) call uses
    the class's own idempotent ``render``. Renderers that may do I/O (the
    browsable API, templates) keep Django's worker-thread rendering.
    """
    if not isinstance(response, Response) or response.is_rendered:
        return
    renderer = getattr(response, "accepted_renderer", None)
    if renderer is None or hook_mode(type(renderer), "render", "arender") is not Mode.INLINE:
        return
    sync_render = response.render

    async def render() -> Response:
        del response.__dict__["render"]
        sync_render()
        return response

    response.__dict__["render"] = render
