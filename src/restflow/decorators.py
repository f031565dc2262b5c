"""Function-based views: DRF's ``@api_view``, served by restflow's views.

``@api_view`` on an ``async def`` function makes an async view that runs
:class:`~restflow.views.AsyncAPIView`'s dispatch loop; on a plain ``def`` it
behaves exactly as DRF's ``api_view``, with restflow's
:class:`~restflow.views.APIView`::

    @api_view(["GET", "POST"])
    @permission_classes([IsAuthenticated])
    async def products(request: Request) -> Response:
        ...

DRF's policy decorators (``permission_classes``, ``throttle_classes``, ...)
work unchanged below ``@api_view``. The ones re-exported here are DRF's,
typed so that they also accept ``async def`` views (DRF's stubs only accept
functions returning a response).

``@action`` is DRF's viewset action decorator (same arguments, same attributes
for routers), typed for ``def`` and ``async def`` methods alike::

    class ProductViewSet(AsyncModelViewSet[Product, ProductSerializer]):
        @action(detail=True, methods=["post"])
        async def publish(self, request: Request, pk: str) -> Response:
            ...
"""

from __future__ import annotations

import types
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from typing import (
    TYPE_CHECKING,
    Any,
    Concatenate,
    Literal,
    ParamSpec,
    Protocol,
    Self,
    TypeAlias,
    TypeVar,
    cast,
    overload,
)

from asgiref.sync import iscoroutinefunction
from django.core.exceptions import ImproperlyConfigured
from django.http.response import HttpResponseBase
from rest_framework import decorators as drf_decorators
from rest_framework import views as drf_views
from rest_framework.authentication import BaseAuthentication
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.schemas.inspectors import ViewInspector
from rest_framework.throttling import BaseThrottle

from restflow._apiview import APIView
from restflow._asyncview import AsyncAPIView
from restflow._types import AsyncViewFunction, SyncViewFunction

if TYPE_CHECKING:
    from rest_framework.permissions import _PermissionClass  # a class, or DRF's & | ~ holders

__all__ = [
    "ActionMapping",
    "ActionMethod",
    "AsyncViewFunction",
    "BoundActionMethod",
    "HttpMethod",
    "SyncViewFunction",
    "action",
    "api_view",
    "authentication_classes",
    "parser_classes",
    "permission_classes",
    "renderer_classes",
    "schema",
    "throttle_classes",
]

P = ParamSpec("P")
F = TypeVar("F", bound=Callable[..., object])
R = TypeVar("R", bound=HttpResponseBase)

V_contra = TypeVar("V_contra", contravariant=True)
#: What an action method returns: a response, or (``async def``) an awaitable of one.
A = TypeVar("A", bound=HttpResponseBase | Awaitable[HttpResponseBase])
A_co = TypeVar("A_co", covariant=True)

AsyncHandler = Callable[Concatenate[Request, P], Coroutine[Any, Any, R]]
SyncHandler = Callable[Concatenate[Request, P], R]


class _ApiView:
    """The decorator ``api_view(...)`` returns."""

    def __init__(self, http_method_names: Sequence[str]) -> None:
        self._methods = list(http_method_names)

    @overload
    def __call__(self, func: AsyncHandler[P, R], /) -> AsyncViewFunction[P, R]: ...
    @overload
    def __call__(self, func: SyncHandler[P, R], /) -> SyncViewFunction[P, R]: ...
    def __call__(self, func: Callable[..., Any], /) -> Any:
        # DRF's api_view reads the policy attributes the companion decorators set on
        # ``func``; build its class, then serve the same policies from restflow's view.
        drf_class: type[Any] = drf_decorators.api_view(self._methods)(func).cls
        is_async = iscoroutinefunction(func)
        handler = _async_handler(func) if is_async else _sync_handler(func)
        namespace: dict[str, Any] = {
            name: value for name, value in vars(drf_class).items() if not name.startswith("__")
        }
        namespace.update({method.lower(): handler for method in self._methods})
        namespace.update(
            __doc__=func.__doc__,
            __module__=func.__module__,
            __qualname__=func.__qualname__,
        )
        base: type[drf_views.APIView] = AsyncAPIView if is_async else APIView
        view_class = cast("type[drf_views.APIView]", type(func.__name__, (base,), namespace))
        return view_class.as_view()


def _async_handler(func: Callable[..., Awaitable[object]]) -> Callable[..., Awaitable[object]]:
    async def handler(
        self: AsyncAPIView, request: Request, *args: object, **kwargs: object
    ) -> object:
        return await func(request, *args, **kwargs)

    return handler


def _sync_handler(func: Callable[..., object]) -> Callable[..., object]:
    def handler(self: APIView, request: Request, *args: object, **kwargs: object) -> object:
        return func(request, *args, **kwargs)

    return handler


def api_view(http_method_names: Sequence[str] | None = None) -> _ApiView:
    """Turn a function into a DRF view answering ``http_method_names`` (default ``["GET"]``).

    An ``async def`` function becomes an async view on :class:`AsyncAPIView`'s
    dispatch loop; a ``def`` function a sync view on :class:`APIView`, as DRF's
    ``api_view`` does. ``OPTIONS`` is always allowed; other methods answer 405.
    """
    if http_method_names is None:
        return _ApiView(["GET"])
    if isinstance(http_method_names, types.FunctionType):
        raise ImproperlyConfigured(
            "@api_view missing list of allowed HTTP methods: write @api_view(['GET'])."
        )
    if not isinstance(http_method_names, list | tuple):
        raise ImproperlyConfigured(
            f"@api_view expected a list of strings, received {type(http_method_names).__name__}."
        )
    return _ApiView(http_method_names)


# -- DRF's policy decorators, typed for async views too ----------------------------------


def _policy(name: str, decorator: Callable[[Any], Any]) -> Callable[[F], F]:
    # DRF's decorators set an attribute on the function and return it unchanged.
    def apply(func: F) -> F:
        # Above @api_view, the attribute would land on the finished view and be
        # ignored. DRF >= 3.17 refuses that; restflow does on every DRF version.
        view_class = getattr(func, "cls", None)
        if isinstance(view_class, type) and issubclass(view_class, drf_views.APIView):
            raise TypeError(
                f"@{name} must come after (below) the @api_view decorator. "
                "The correct order is:\n\n"
                "    @api_view(['GET'])\n"
                f"    @{name}(...)\n"
                "    def my_view(request):\n"
                "        ..."
            )
        result: F = decorator(func)
        return result

    return apply


def permission_classes(classes: Sequence[_PermissionClass]) -> Callable[[F], F]:
    """DRF's ``permission_classes``: the permissions of an ``@api_view`` function."""
    return _policy("permission_classes", drf_decorators.permission_classes(classes))


def authentication_classes(
    classes: Sequence[type[BaseAuthentication] | BaseAuthentication],
) -> Callable[[F], F]:
    """DRF's ``authentication_classes``: the authenticators of an ``@api_view`` function."""
    return _policy("authentication_classes", drf_decorators.authentication_classes(classes))


def throttle_classes(classes: Sequence[type[BaseThrottle] | BaseThrottle]) -> Callable[[F], F]:
    """DRF's ``throttle_classes``: the throttles of an ``@api_view`` function."""
    return _policy("throttle_classes", drf_decorators.throttle_classes(classes))


def renderer_classes(classes: Sequence[type[BaseRenderer] | BaseRenderer]) -> Callable[[F], F]:
    """DRF's ``renderer_classes``: the renderers of an ``@api_view`` function."""
    return _policy("renderer_classes", drf_decorators.renderer_classes(classes))


def parser_classes(classes: Sequence[type[BaseParser] | BaseParser]) -> Callable[[F], F]:
    """DRF's ``parser_classes``: the parsers of an ``@api_view`` function."""
    return _policy("parser_classes", drf_decorators.parser_classes(classes))


def schema(view_inspector: ViewInspector | type[ViewInspector] | None) -> Callable[[F], F]:
    """DRF's ``schema``: the schema inspector of an ``@api_view`` function (None: excluded)."""
    return _policy("schema", drf_decorators.schema(view_inspector))


# -- @action ----------------------------------------------------------------------------

#: The HTTP method names ``@action(methods=...)`` accepts (either case).
HttpMethod: TypeAlias = Literal[
    "get",
    "post",
    "put",
    "patch",
    "delete",
    "head",
    "options",
    "trace",
    "GET",
    "POST",
    "PUT",
    "PATCH",
    "DELETE",
    "HEAD",
    "OPTIONS",
    "TRACE",
]


class ActionMapping(Protocol):
    """An action's ``mapping``: routes more HTTP methods of the action to other methods.

    ::

        @action(detail=False)
        async def draft(self, request: Request) -> Response: ...

        @draft.mapping.delete
        async def discard_draft(self, request: Request) -> Response: ...
    """

    def get(self, func: F, /) -> F: ...
    def post(self, func: F, /) -> F: ...
    def put(self, func: F, /) -> F: ...
    def patch(self, func: F, /) -> F: ...
    def delete(self, func: F, /) -> F: ...
    def head(self, func: F, /) -> F: ...
    def options(self, func: F, /) -> F: ...
    def trace(self, func: F, /) -> F: ...
    def items(self) -> Iterable[tuple[str, str]]: ...


class _ActionAttributes(Protocol):
    __name__: str
    #: Whether the route is on one object (``/products/{pk}/publish/``) or the list.
    detail: bool
    #: The URL segment (default: the method's name).
    url_path: str
    #: The route's name suffix for ``reverse`` (default: the name with dashes).
    url_name: str
    #: Attributes set on the view for this action (``serializer_class=...``, ``name``, ...).
    kwargs: dict[str, Any]
    #: HTTP method -> name of the view method that answers it.
    mapping: ActionMapping


class BoundActionMethod(_ActionAttributes, Protocol[P, A_co]):
    """An ``@action`` method read from a view instance (``self.publish``)."""

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> A_co: ...


class ActionMethod(_ActionAttributes, Protocol[V_contra, P, A_co]):
    """An ``@action`` method: the method itself, with the attributes routers read.

    On the class (``ProductViewSet.publish``) it is this object; on an instance
    (``self.publish``) a :class:`BoundActionMethod`, sync or async as written.
    """

    def __call__(self, view: V_contra, /, *args: P.args, **kwargs: P.kwargs) -> A_co: ...
    @overload
    def __get__(self, instance: None, owner: type[object], /) -> Self: ...
    @overload
    def __get__(self, instance: V_contra, owner: type[object], /) -> BoundActionMethod[P, A_co]: ...


class _MethodMapper(drf_decorators.MethodMapper):
    """DRF's ``MethodMapper``, refusing a bad mapping with ``ImproperlyConfigured``."""

    def __init__(self, action: Callable[..., Any], methods: Sequence[str]) -> None:
        super().__init__(action, methods)
        self._action_name = action.__name__

    def _map(self, method: str, func: F) -> F:
        if method in self:
            raise ImproperlyConfigured(
                f"Method '{method}' has already been mapped to '.{self[method]}'."
            )
        if func.__name__ == self._action_name:
            raise ImproperlyConfigured(
                "Method mapping does not behave like the property decorator. You "
                "cannot use the same method name for each mapping declaration."
            )
        self[method] = func.__name__
        return func


@overload
def action(
    methods: Sequence[HttpMethod] | None,
    detail: bool,
    url_path: str | None = None,
    url_name: str | None = None,
    **kwargs: object,
) -> Callable[[Callable[Concatenate[V_contra, P], A]], ActionMethod[V_contra, P, A]]: ...
@overload
def action(
    methods: Sequence[HttpMethod] | None = None,
    *,
    detail: bool,
    url_path: str | None = None,
    url_name: str | None = None,
    **kwargs: object,
) -> Callable[[Callable[Concatenate[V_contra, P], A]], ActionMethod[V_contra, P, A]]: ...
def action(
    methods: Sequence[HttpMethod] | None = None,
    detail: bool | None = None,
    url_path: str | None = None,
    url_name: str | None = None,
    **kwargs: Any,
) -> Callable[[Callable[..., Any]], Any]:
    """DRF's ``@action``: route a viewset method (``def`` or ``async def``) as an extra action.

    ``methods`` defaults to ``["get"]``; ``detail`` (required) says whether the
    route is on one object or on the list; ``url_path`` and ``url_name`` default
    to the method's name (dashes in the URL name); other keyword arguments
    (``serializer_class=``, ``permission_classes=``, ...) are set on the view
    for this action, as in DRF. More HTTP methods go to other view methods with
    ``@<action>.mapping.<method>``.
    """
    if detail is None:
        raise ImproperlyConfigured("@action() missing required argument: 'detail'")
    drf_decorator = drf_decorators.action(methods, detail, url_path, url_name, **kwargs)

    def decorator(func: Callable[..., Any]) -> Any:
        decorated = drf_decorator(func)
        decorated.mapping = _MethodMapper(decorated, list(decorated.mapping))
        return decorated

    return decorator
