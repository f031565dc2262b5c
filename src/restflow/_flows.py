"""The lookup, filter, paginate and serialize flows, each written once as a function of the view.

The sync views drive them on the calling thread, the async views on the event
loop, where their sync work (the ORM, a user's sync override, rendering) shares
one worker-thread hop. A user's override of the DRF hook a flow stands for is
called instead: a sync one as a blocking step, an async one awaited. The model
mixins compose these into their actions (``restflow.mixins``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model, QuerySet
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from restflow import _hooks as hooks
from restflow._actions import UNSET, action_config
from restflow._bridge import (
    Flow,
    Step,
    call_step,
    drive_sync,
    hook_step,
    override_step,
    single,
    sync_override_step,
)
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
    "configured_serializer_class",
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
    "serializer_class_flow",
    "serializer_flow",
    "serializer_hook_step",
    "validate_flow",
]

#: A queryset that filtering hands back as the same type.
QS = TypeVar("QS", bound=QuerySet[Model, object])

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


def configured_serializer_class(view: View, hook: Hook) -> type[BaseSerializer[Any]] | None:
    """The class the action's config or the view's attribute sets for ``hook``'s direction.

    ``hook`` is the request or response class getter; None means "ask
    ``get_serializer_class``" (the default of both getters).
    """
    config = action_config(view)
    if hook is hooks.GET_REQUEST_SERIALIZER_CLASS:
        configured, attribute = config.request_serializer_class, view.request_serializer_class
    else:
        configured, attribute = config.response_serializer_class, view.response_serializer_class
    return attribute if configured is UNSET else configured


def _user_getter(
    view: View, hook: Hook, inside: Hook | None, /, *args: object, **kwargs: object
) -> Step[Any] | None:
    # Inside restflow's own twin of ``hook`` (reached through a user's ``super()``),
    # the user's twin is the caller: only an override of DRF's name counts there.
    if hook is inside:
        return sync_override_step(view, hook, *args, **kwargs)
    return override_step(view, hook, *args, **kwargs)


def serializer_class_flow(
    view: View, hook: Hook, *, inside: Hook | None = None
) -> Flow[type[BaseSerializer[Any]]]:
    """The class a getter picks: the user's override of either twin, else restflow's chain.

    The chain (action config, the view's attribute, ``get_serializer_class``) is
    pure and stays on the loop; each getter it reaches is the user's where the
    user overrides it (an async twin awaited, a sync one in a worker thread).
    ``inside`` names the getter whose restflow twin is driving this flow.
    """
    step = _user_getter(view, hook, inside)
    if step is not None:
        chosen: type[BaseSerializer[Any]] = yield from single(step)
        return chosen
    if hook is hooks.GET_SERIALIZER_CLASS:
        return view.get_serializer_class()
    configured = configured_serializer_class(view, hook)
    if configured is not None:
        return configured
    return (yield from serializer_class_flow(view, hooks.GET_SERIALIZER_CLASS, inside=inside))


def _context_flow(view: View, inside: Hook | None) -> Flow[dict[str, Any]]:
    step = _user_getter(view, hooks.GET_SERIALIZER_CONTEXT, inside)
    if step is None:
        return view.get_serializer_context()
    context: dict[str, Any] = yield from single(step)
    return context


def serializer_flow(
    view: View,
    chosen: Chosen,
    args: tuple[object, ...] = (),
    kwargs: Mapping[str, object] | None = None,
    *,
    inside: Hook | None = None,
) -> Flow[BaseSerializer[Any]]:
    """Build a serializer as a request does: ``chosen`` is a class or a getter hook.

    Every getter reached is the user's where the user overrides it: an async twin
    is awaited on the loop, a sync override runs in a worker thread (so does a
    serializer class with its own constructor: it may query choices), restflow's
    defaults stay on the loop. A DRF-style ``get_serializer(self, *args, **kwargs)``
    override knows no ``serializer_class`` keyword: it is called when it would
    pick the same class, else the chosen class is built with the view's context.
    """
    options = dict(kwargs or {})
    if isinstance(chosen, Hook):
        klass = yield from serializer_class_flow(view, chosen, inside=inside)
    else:
        klass = chosen
    if _user_getter(view, hooks.GET_SERIALIZER, inside) is not None:
        default = klass
        if chosen is not hooks.GET_SERIALIZER_CLASS:
            default = yield from serializer_class_flow(
                view, hooks.GET_SERIALIZER_CLASS, inside=inside
            )
        if klass is default:
            step = _user_getter(view, hooks.GET_SERIALIZER, inside, *args, **options)
            if step is not None:
                built: BaseSerializer[Any] = yield from single(step)
                return built
    if "context" not in options:
        options["context"] = yield from _context_flow(view, inside)
    build = Step.blocking if user_sync_code(klass, hooks.SERIALIZER_INIT) else Step.pure
    serializer: BaseSerializer[Any] = yield build(klass, *args, **options)
    return serializer


def build_serializer(view: View, chosen: Chosen, **kwargs: object) -> BaseSerializer[Any]:
    """:func:`serializer_flow` driven synchronously (schema generation builds one)."""
    return drive_sync(serializer_flow(view, chosen, (), kwargs))


def serializer_hook_step(
    serializer: BaseSerializer[Any], hook: Hook, **kwargs: object
) -> Step[Any]:
    """A serializer's ``is_valid``/``save``: its own twin if its class defines one.

    restflow's ``ais_valid``/``asave`` are only a hop around the sync method;
    inside a flow that hop is shared, so only a user's override is called as such.
    """
    step = override_step(serializer, hook, **kwargs)
    return step if step is not None else Step.blocking(getattr(serializer, hook.name), **kwargs)


def validate_flow(
    view: View,
    data: object = None,
    *,
    serializer_class: type[BaseSerializer[Any]] | None = None,
    instance: object = None,
    partial: bool = False,
    extra: Mapping[str, object] | None = None,
) -> Flow[BaseSerializer[Any]]:
    """Build the request serializer for ``data`` (default: the body) and validate it."""
    kwargs = dict(extra or {})
    if instance is not None:
        kwargs["instance"] = instance
    chosen = serializer_class or hooks.GET_REQUEST_SERIALIZER_CLASS
    if data is None:
        data = yield parsing_step(view.request, read_body, view.request)
    kwargs.update(data=data, partial=partial)
    serializer = yield from serializer_flow(view, chosen, (), kwargs)
    yield serializer_hook_step(serializer, hooks.IS_VALID, raise_exception=True)
    return serializer


def render_flow(
    view: View,
    instance: object,
    *,
    serializer_class: type[BaseSerializer[Any]] | None = None,
    many: bool = False,
) -> Flow[Any]:
    """``data`` of the response serializer for ``instance``."""
    chosen = serializer_class or hooks.GET_RESPONSE_SERIALIZER_CLASS
    serializer = yield from serializer_flow(view, chosen, (instance,), {"many": many})
    return (yield Step.blocking(read_data, serializer))


def output_flow(view: View, serializer: BaseSerializer[Any]) -> Flow[Any]:
    """The body of a create/update response.

    DRF renders the validated serializer itself; when the response serializer
    (the class, an ActionConfig, a getter override) is another class, the saved
    instance is rendered by that one instead.
    """
    response_class = yield from serializer_class_flow(view, hooks.GET_RESPONSE_SERIALIZER_CLASS)
    if response_class is type(serializer):
        return (yield Step.blocking(read_data, serializer))
    return (yield from render_flow(view, serializer.instance, serializer_class=response_class))


def _materialize(items: object) -> object:
    return list(items) if isinstance(items, QuerySet) else items


def _post_fetch_flow(items: object, post_fetches: Iterable[AsyncPostFetch]) -> Flow[object]:
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
    instance: object,
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


def page_step(view: View, queryset: object, *, prefer_sync: bool = False) -> Step[Any]:
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


def paginate_step(view: View, queryset: object) -> Step[Any]:
    """The view's ``paginate_queryset``: the user's override, else the paginator's."""
    step = override_step(view, hooks.PAGINATE_QUERYSET, queryset)
    return step if step is not None else page_step(view, queryset, prefer_sync=True)


def paginated_response_flow(
    view: View,
    queryset: object,
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


def _queryset_flow(view: Generic) -> Flow[QuerySet[Model, object]]:
    step = override_step(view, hooks.GET_QUERYSET)
    if step is None:
        return view.get_queryset()
    queryset: QuerySet[Model, object] = yield from single(step)
    return queryset


def filtered_queryset_flow(view: Generic) -> Flow[QuerySet[Model, object]]:
    """``filter_queryset(get_queryset())``, each the user's override where there is one."""
    queryset = yield from _queryset_flow(view)
    step = override_step(view, hooks.FILTER_QUERYSET, queryset)
    if step is None:
        return (yield from filter_flow(view, queryset))
    filtered: QuerySet[Model, object] = yield from single(step)
    return filtered


def filter_flow(view: Generic, queryset: QS) -> Flow[QS]:
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
