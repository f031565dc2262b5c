"""The lookup, filter, paginate and serialize flows, each written once as a function of the view.

The sync views drive them on the calling thread, the async views on the event
loop, where their sync work (the ORM, a user's sync override, rendering) shares
one worker-thread hop. A user's override of the DRF hook a flow stands for is
called instead: a sync one as a blocking step, an async one awaited. The model
mixins compose these into their actions (``restflow.mixins``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from restflow import _hooks as hooks
from restflow._bridge import Flow, Step, call_step, hook_step, override_step, single
from restflow._checks import object_permissions_flow
from restflow._compiled import serializer_data
from restflow._hooks import Hook
from restflow._introspect import Override, override, per_class, user_sync_code
from restflow._request import parsing_step
from restflow._request import read_data as read_body
from restflow.protocols import AsyncPostFetch

if TYPE_CHECKING:
    from restflow._apiview import RestflowView
    from restflow._generic import GenericCore

    View = RestflowView[Any, Any, Any]
    Generic = GenericCore[Any, Any, Any, Any]

__all__ = [
    "build_serializer",
    "builds_serializers_in_user_code",
    "filter_flow",
    "filtered_queryset_flow",
    "lookup_flow",
    "object_flow",
    "output_flow",
    "page_step",
    "paginate_step",
    "paginated_response_flow",
    "read_data",
    "render_flow",
    "serialized_response_flow",
    "serializer_hook_step",
    "serializer_step",
    "validate_flow",
]

#: A serializer class, or the view getter hook that picks one.
Chosen = type[BaseSerializer[Any]] | Hook

_GETTERS = (
    hooks.GET_SERIALIZER,
    hooks.GET_SERIALIZER_CLASS,
    hooks.GET_REQUEST_SERIALIZER_CLASS,
    hooks.GET_RESPONSE_SERIALIZER_CLASS,
    hooks.GET_SERIALIZER_CONTEXT,
)


@per_class
def builds_serializers_in_user_code(cls: type) -> bool:
    """Whether a view class overrides a serializer getter (its code may do I/O)."""
    return any(override(cls, hook)[0] is not Override.DEFAULT for hook in _GETTERS)


def read_data(serializer: BaseSerializer[Any]) -> Any:
    """``serializer.data`` (a blocking step: rendering may query related rows).

    Through the code compiled once per serializer class (``COMPILED_SERIALIZERS``).
    """
    return serializer_data(serializer)


# -- serializers ----------------------------------------------------------------------


def build_serializer(view: View, chosen: Chosen, *args: Any, **kwargs: Any) -> BaseSerializer[Any]:
    """Build a serializer as a request does: ``chosen`` is a class or a getter hook.

    A DRF-style ``get_serializer(self, *args, **kwargs)`` override knows no
    ``serializer_class`` keyword: it is called when it would pick the same
    class, else the chosen class is built with the view's context directly.
    """
    klass: type[BaseSerializer[Any]] = (
        getattr(view, chosen.name)() if isinstance(chosen, Hook) else chosen
    )
    built: BaseSerializer[Any]
    if override(type(view), hooks.GET_SERIALIZER)[0] is Override.DEFAULT:
        built = view.get_serializer(*args, serializer_class=klass, **kwargs)
        return built
    if klass is view.get_serializer_class():
        built = view.get_serializer(*args, **kwargs)
        return built
    kwargs.setdefault("context", view.get_serializer_context())
    return klass(*args, **kwargs)


def serializer_step(
    view: View, chosen: Chosen, *args: Any, **kwargs: Any
) -> Step[BaseSerializer[Any]]:
    """Build a serializer: on the loop, or in a worker thread if user code is reached.

    That is a getter the view class overrides, or a serializer class with its own
    constructor (it may query: choices from a table).
    """
    if builds_serializers_in_user_code(type(view)):
        return Step.blocking(build_serializer, view, chosen, *args, **kwargs)
    klass: type[BaseSerializer[Any]] = (
        getattr(view, chosen.name)() if isinstance(chosen, Hook) else chosen  # pure getters
    )
    if user_sync_code(klass, hooks.SERIALIZER_INIT):
        return Step.blocking(build_serializer, view, klass, *args, **kwargs)
    return Step.pure(build_serializer, view, klass, *args, **kwargs)


def serializer_hook_step(serializer: BaseSerializer[Any], hook: Hook, **kwargs: Any) -> Step[Any]:
    """A serializer's ``is_valid``/``save``: its own twin if its class defines one.

    restflow's ``ais_valid``/``asave`` are only a hop around the sync method;
    inside a flow that hop is shared, so only a user's override is called as such.
    """
    step = override_step(serializer, hook, **kwargs)
    return step if step is not None else Step.blocking(getattr(serializer, hook.name), **kwargs)


def validate_flow(
    view: View,
    data: Any = None,
    *,
    serializer_class: type[BaseSerializer[Any]] | None = None,
    instance: Any = None,
    partial: bool = False,
    extra: Mapping[str, Any] | None = None,
) -> Flow[BaseSerializer[Any]]:
    """Build the request serializer for ``data`` (default: the body) and validate it."""
    kwargs = dict(extra or {})
    if instance is not None:
        kwargs["instance"] = instance
    chosen = serializer_class or hooks.GET_REQUEST_SERIALIZER_CLASS
    if data is None:
        data = yield parsing_step(view.request, read_body, view.request)
    serializer = yield from single(
        serializer_step(view, chosen, data=data, partial=partial, **kwargs)
    )
    yield serializer_hook_step(serializer, hooks.IS_VALID, raise_exception=True)
    return serializer


def render_flow(
    view: View,
    instance: Any,
    *,
    serializer_class: type[BaseSerializer[Any]] | None = None,
    many: bool = False,
) -> Flow[Any]:
    """``data`` of the response serializer for ``instance``."""
    chosen = serializer_class or hooks.GET_RESPONSE_SERIALIZER_CLASS
    serializer = yield from single(serializer_step(view, chosen, instance, many=many))
    return (yield Step.blocking(read_data, serializer))


def output_flow(view: View, serializer: BaseSerializer[Any]) -> Flow[Any]:
    """The body of a create/update response.

    DRF renders the validated serializer itself; when the response serializer
    (the class, an ActionConfig, a getter override) is another class, the saved
    instance is rendered by that one instead.
    """
    response_class = yield call_step(view, hooks.GET_RESPONSE_SERIALIZER_CLASS)
    if response_class is type(serializer):
        return (yield Step.blocking(read_data, serializer))
    return (yield from render_flow(view, serializer.instance, serializer_class=response_class))


def _materialize(items: Any) -> Any:
    return list(items) if isinstance(items, QuerySet) else items


def _post_fetch_flow(items: Any, post_fetches: Iterable[AsyncPostFetch]) -> Flow[Any]:
    fetches = list(post_fetches)
    if not fetches:
        return items
    if isinstance(items, QuerySet):
        # Evaluate once, here, so the objects the fetch decorates are the ones
        # the serializer renders (and never on the event loop).
        items = yield Step.blocking(_materialize, items)
    targets = items if isinstance(items, Sequence) and not isinstance(items, Mapping) else [items]
    for fetch in fetches:
        # Rendering blocks right after: share its hop (the sync face).
        yield hook_step(fetch, hooks.FETCH, targets, prefer_sync=True)
    return items


def serialized_response_flow(
    view: View,
    instance: Any,
    *,
    serializer_class: type[BaseSerializer[Any]] | None = None,
    status: int | None = None,
    headers: Mapping[str, str] | None = None,
    many: bool = False,
    post_fetches: Iterable[AsyncPostFetch] = (),
) -> Flow[Response]:
    """Post-fetch related rows, render ``instance``, and wrap it in a Response."""
    instance = yield from _post_fetch_flow(instance, post_fetches)
    data = yield from render_flow(view, instance, serializer_class=serializer_class, many=many)
    return Response(data, status=status, headers=headers)


# -- pagination -----------------------------------------------------------------------


def _no_page() -> None:
    return None


def page_step(view: View, queryset: Any, *, prefer_sync: bool = False) -> Step[Any]:
    """The paginator's ``paginate_queryset`` as a step (None: pagination is off)."""
    paginator = view.paginator
    if paginator is None:
        return Step.pure(_no_page)
    return hook_step(
        paginator,
        hooks.PAGINATOR_PAGINATE_QUERYSET,
        queryset,
        view.request,
        view,
        prefer_sync=prefer_sync,
    )


def paginate_step(view: View, queryset: Any) -> Step[Any]:
    """The view's ``paginate_queryset``: the user's override, else the paginator's."""
    step = override_step(view, hooks.PAGINATE_QUERYSET, queryset)
    return step if step is not None else page_step(view, queryset, prefer_sync=True)


def paginated_response_flow(
    view: View,
    queryset: Any,
    *,
    serializer_class: type[BaseSerializer[Any]] | None = None,
    headers: Mapping[str, str] | None = None,
    post_fetches: Iterable[AsyncPostFetch] = (),
) -> Flow[Response]:
    """Paginate, post-fetch, render, and wrap the page in the paginator's response."""
    page = yield paginate_step(view, queryset)
    items = yield from _post_fetch_flow(queryset if page is None else page, post_fetches)
    data = yield from render_flow(view, items, serializer_class=serializer_class, many=True)
    if page is None:
        return Response(data, headers=headers)
    response: Response = yield call_step(view, hooks.GET_PAGINATED_RESPONSE, data)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


# -- lookups (generic views) -----------------------------------------------------------


def _queryset_flow(view: Generic) -> Flow[QuerySet[Any]]:
    step = override_step(view, hooks.GET_QUERYSET)
    if step is None:
        return view.get_queryset()
    queryset: QuerySet[Any] = yield from single(step)
    return queryset


def filtered_queryset_flow(view: Generic) -> Flow[QuerySet[Any]]:
    """``filter_queryset(get_queryset())``, each the user's override where there is one."""
    queryset = yield from _queryset_flow(view)
    step = override_step(view, hooks.FILTER_QUERYSET, queryset)
    if step is None:
        return (yield from filter_flow(view, queryset))
    filtered: QuerySet[Any] = yield from single(step)
    return filtered


def filter_flow(view: Generic, queryset: QuerySet[Any]) -> Flow[QuerySet[Any]]:
    """Narrow ``queryset`` with each of the view's ``filter_backends``."""
    for backend_class in view.filter_backends:
        backend = backend_class()
        queryset = yield hook_step(
            backend, hooks.BACKEND_FILTER_QUERYSET, view.request, queryset, view
        )
    return queryset


def object_flow(view: Generic) -> Flow[Any]:
    """``get_object()``: the user's override, else :func:`lookup_flow`."""
    step = override_step(view, hooks.GET_OBJECT)
    if step is None:
        return (yield from lookup_flow(view))
    return (yield from single(step))


def lookup_flow(view: Generic) -> Flow[Any]:
    """DRF's ``get_object``: look up by ``lookup_field`` (404), then object permissions."""
    queryset = yield from filtered_queryset_flow(view)
    lookup_url_kwarg = view.lookup_url_kwarg or view.lookup_field
    if lookup_url_kwarg not in view.kwargs:
        raise ImproperlyConfigured(
            f"Expected view {type(view).__name__} to be called with a URL keyword "
            f'argument named "{lookup_url_kwarg}". Fix your URL conf, or set the '
            "`.lookup_field` attribute on the view correctly."
        )
    lookup = {view.lookup_field: view.kwargs[lookup_url_kwarg]}
    obj = yield Step.blocking(get_object_or_404, queryset, **lookup)
    step = override_step(view, hooks.CHECK_OBJECT_PERMISSIONS, view.request, obj)
    if step is None:
        yield from object_permissions_flow(view, view.request, obj)
    else:
        yield step
    return obj
