"""``AsyncAPIView``: DRF's ``APIView`` with an ``async def dispatch``.

The request cycle is DRF's; async hooks are awaited on the event loop, and from
a phase's first sync hook on, the rest of that phase runs in one worker thread.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final, cast, overload

from asgiref.sync import markcoroutinefunction
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from rest_framework import views as drf_views
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from restflow import _hooks as hooks
from restflow._apiview import RestflowView, exception_flow
from restflow._bridge import (
    Flow,
    Step,
    drive_async,
    in_thread,
    override_step,
    run_handler,
    single,
    sync_override_step,
    view_step,
)
from restflow._checks import (
    authentication_flow,
    object_permissions_flow,
    permissions_flow,
    throttles_flow,
)
from restflow._flows import paginated_response_flow, serialized_response_flow, validate_flow
from restflow._introspect import Mode, dispatch_blocks, hook_mode
from restflow._types import SX, AsyncViewFunction, S, SIn, SOut
from restflow.protocols import AsyncPostFetch

__all__ = ["AsyncAPIView"]

_CHECK_PHASES = (hooks.PERFORM_AUTHENTICATION, hooks.CHECK_PERMISSIONS, hooks.CHECK_THROTTLES)


class AsyncAPIView(RestflowView[S, SIn, SOut]):
    """DRF's ``APIView`` with an ``async def dispatch``.

    The loop is DRF's: content negotiation, versioning, authentication,
    permissions, throttles, the handler, exception handling, finalize. Async
    hooks are awaited on the event loop; from the first sync hook on, the rest
    of the phase runs in one worker thread. A sync handler runs in a worker
    thread too. ``request.user`` and ``request.auth`` are set before the handler
    runs, so async handlers read them without touching the database.
    """

    #: Always served as an async view, whatever its handlers are.
    view_is_async: bool = True  # pyright: ignore[reportIncompatibleVariableOverride]  # Django: bool or class property

    @classmethod
    def as_view(  # type: ignore[override]  # DRF's stubs type every view function as sync
        cls, **initkwargs: object
    ) -> AsyncViewFunction[..., HttpResponseBase]:  # pyright: ignore[reportIncompatibleMethodOverride]
        """DRF's ``as_view()``: the view function, a coroutine function (``await view(req)``)."""
        view: Any = super().as_view(**initkwargs)
        return cast("AsyncViewFunction[..., HttpResponseBase]", view)

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
        drf_request: Request = await drive_async(
            single(view_step(self, hooks.INITIALIZE_REQUEST, request, *args, **kwargs))
        )
        self.request = drf_request
        self.headers: dict[str, str] = self.default_response_headers
        try:
            await self.ainitial(drf_request, *args, **kwargs)
            response = await _call_handler(self, drf_request, *args, **kwargs)
        except Exception as exc:
            response = await self.ahandle_exception(exc)
        self.response: Response = await drive_async(
            single(view_step(self, hooks.FINALIZE_RESPONSE, drf_request, response, *args, **kwargs))
        )
        if isinstance(request, ASGIRequest):
            _render_on_loop_if_pure(self.response)
        return self.response

    async def ainitial(self, request: Request, *args: object, **kwargs: object) -> None:
        """DRF's ``initial`` on the loop; a sync override of ``initial`` runs in a thread."""
        # A user's ``ainitial`` reached this through super(): only a sync-name
        # override is a different method (override_step would recurse into theirs).
        override = sync_override_step(self, hooks.INITIAL, request, *args, **kwargs)
        if override is not None:
            await drive_async(single(override))
            return
        await drive_async(_checks_flow(self, request, args, kwargs))

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
        override = sync_override_step(self, hooks.HANDLE_EXCEPTION, exc)
        if override is not None:
            handled: Response = await drive_async(single(override))
            return handled
        return await drive_async(exception_flow(self, exc))

    # -- async helpers (one implementation with the sync ones: the flows) ---------

    @overload
    async def avalidated_serializer(
        self,
        data: object = None,
        *,
        instance: object = None,
        partial: bool = False,
        serializer_class: None = None,
        **kwargs: object,
    ) -> SIn: ...
    @overload
    async def avalidated_serializer(
        self,
        data: object = None,
        *,
        instance: object = None,
        partial: bool = False,
        serializer_class: type[SX],
        **kwargs: object,
    ) -> SX: ...
    async def avalidated_serializer(
        self,
        data: object = None,
        *,
        instance: object = None,
        partial: bool = False,
        serializer_class: type[BaseSerializer[Any]] | None = None,
        **kwargs: object,
    ) -> BaseSerializer[Any]:
        """Async twin of :meth:`validated_serializer` (validation in one hop)."""
        return await drive_async(
            validate_flow(
                self,
                data,
                serializer_class=serializer_class,
                instance=instance,
                partial=partial,
                extra=kwargs,
            )
        )

    async def aserialized_response(
        self,
        instance: object,
        *,
        serializer_class: type[BaseSerializer[Any]] | None = None,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
        many: bool = False,
        post_fetches: Iterable[AsyncPostFetch] = (),
    ) -> Response:
        """Async twin of :meth:`serialized_response` (post-fetches + rendering in one hop)."""
        return await drive_async(
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

    async def apaginated_response(
        self,
        queryset: object,
        *,
        serializer_class: type[BaseSerializer[Any]] | None = None,
        headers: Mapping[str, str] | None = None,
        post_fetches: Iterable[AsyncPostFetch] = (),
    ) -> Response:
        """Async twin of :meth:`paginated_response`: count, page, post-fetch, render in one hop."""
        return await drive_async(
            paginated_response_flow(
                self,
                queryset,
                serializer_class=serializer_class,
                headers=headers,
                post_fetches=post_fetches,
            )
        )


def _negotiate(
    view: AsyncAPIView[Any, Any, Any],
    request: Request,
    args: tuple[object, ...],
    kwargs: dict[str, object],
) -> None:
    """The first half of DRF's ``initial``: format suffix, content negotiation, version."""
    view.format_kwarg = view.get_format_suffix(**kwargs)
    request.accepted_renderer, request.accepted_media_type = view.perform_content_negotiation(
        request
    )
    request.version, request.versioning_scheme = view.determine_version(request, *args, **kwargs)


def _checks_flow(
    view: AsyncAPIView[Any, Any, Any],
    request: Request,
    args: tuple[object, ...],
    kwargs: dict[str, object],
) -> Flow[None]:
    """Negotiation, authentication, permissions and throttles as one flow: one hop at most."""
    # DRF's own negotiation is pure; a user's sync override of any of its parts is not.
    negotiate = Step.blocking if dispatch_blocks(type(view), hooks.INITIAL) else Step.pure
    yield negotiate(_negotiate, view, request, args, kwargs)
    for hook in _CHECK_PHASES:
        override = override_step(view, hook, request)
        if override is not None:
            yield override
        elif hook is hooks.PERFORM_AUTHENTICATION:
            yield from authentication_flow(request)
        elif hook is hooks.CHECK_PERMISSIONS:
            yield from permissions_flow(view, request)
        else:
            yield from throttles_flow(view, request)


async def _call_handler(
    view: AsyncAPIView[Any, Any, Any], request: Request, *args: object, **kwargs: object
) -> object:
    method = (request.method or "").lower()
    if method in view.http_method_names:
        handler = getattr(view, method, view.http_method_not_allowed)
    else:
        handler = view.http_method_not_allowed
    if getattr(handler, "__func__", None) is drf_views.APIView.http_method_not_allowed:
        return handler(request, *args, **kwargs)  # raises 405: nothing to block on
    return await run_handler(handler, request, *args, **kwargs)


def _render_on_loop_if_pure(response: HttpResponseBase) -> None:
    """Let Django's async handler render ``response`` on the loop when that is safe.

    Django's handler awaits ``response.render`` if it is a coroutine function and
    otherwise moves it to a worker thread: one hop per request just to encode
    JSON. For a renderer registered as pure, ``response.render`` becomes a
    :class:`_AsyncPathRender`. Renderers that may do I/O (the browsable API,
    templates) keep Django's worker-thread rendering.
    """
    if not isinstance(response, Response) or response.is_rendered:
        return
    renderer = getattr(response, "accepted_renderer", None)
    if renderer is None or hook_mode(type(renderer), hooks.RENDER) is not Mode.INLINE:
        return
    response.__dict__["render"] = _AsyncPathRender(response)


def _coroutine_marks() -> dict[str, object]:
    """The attributes asgiref's ``markcoroutinefunction`` sets (they differ by Python)."""

    def probe() -> None: ...

    return dict(vars(markcoroutinefunction(probe)))


class _AsyncPathRender:
    """``response.render`` of a pure-renderer response on the async path.

    Called as DRF documents it (``response.render(); response.content``, e.g. on
    a response from ``await view(request)``), it is DRF's sync ``render``. Django's
    async handler first asks whether ``render`` is a coroutine function (the
    marks below answer yes) and then calls it: that caller gets a coroutine,
    which renders on the loop, or, when post-render callbacks are registered
    (``cache_page``, ``decorator_from_middleware``, your own, which may touch the
    ORM), renders and runs them in a worker thread, as Django's handler would.
    Either way the response's own ``render`` is back once this one is called.
    """

    _MARKS: Final = _coroutine_marks()

    def __init__(self, response: Response) -> None:
        self._response = response
        self._awaited = False

    def __getattr__(self, name: str) -> object:
        if name in _AsyncPathRender._MARKS:
            self._awaited = True  # asked by a caller that awaits what it gets
            return _AsyncPathRender._MARKS[name]
        raise AttributeError(name)

    def __call__(self) -> Any:
        response = self._response
        response.__dict__.pop("render", None)
        if self._awaited:
            return self._arender()
        return response.render()

    async def _arender(self) -> Any:
        response = self._response
        if getattr(response, "_post_render_callbacks", None):  # Django's, not in the stubs
            return await in_thread(response.render)
        return response.render()
