"""Where a view's own DRF hooks run on the async path: the loop, or a worker thread.

DRF's dispatch calls a dozen view methods besides the handler (``initialize_request``,
``perform_content_negotiation``, ``get_permissions``, ``finalize_response``, …). DRF's and
restflow's versions only read request state, so they run on the loop. A user's sync
override may query the database, so the call that reaches it runs in a worker thread (in
the request phase's one hop where there is one). Each call site below names the DRF method
it makes and the methods the default implementation calls in turn.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from restflow._bridge import Step, per_class, user_sync_code

__all__ = ["CALLS", "attribute_step", "blocks", "view_step"]

T = TypeVar("T")

#: Each call dispatch makes, and the view methods a user may override beneath it.
CALLS: dict[str, tuple[str, ...]] = {
    "initialize_request": (
        "initialize_request",
        "get_parsers",
        "get_authenticators",
        "get_content_negotiator",
        "get_parser_context",
    ),
    # The first half of DRF's ``initial``: before authentication.
    "negotiate": (
        "get_format_suffix",
        "perform_content_negotiation",
        "get_content_negotiator",
        "get_renderers",
        "determine_version",
    ),
    "get_permissions": ("get_permissions",),
    "get_throttles": ("get_throttles",),
    "permission_denied": ("permission_denied",),
    "throttled": ("throttled",),
    "get_exception_handler": ("get_exception_handler",),
    "get_exception_handler_context": ("get_exception_handler_context",),
    "get_authenticate_header": ("get_authenticate_header",),
    "finalize_response": (
        "finalize_response",
        "perform_content_negotiation",
        "get_content_negotiator",
        "get_renderers",
        "get_renderer_context",
    ),
}

#: Methods of the hook classes a view instantiates: a user's sync version may do I/O when
#: ``get_permissions``/``get_throttles`` build them (DRF's rate throttles read their rate
#: in ``__init__``).
_BUILT_BY = {
    "get_permissions": ("permission_classes", ("__init__",)),
    "get_throttles": ("throttle_classes", ("__init__", "get_rate", "parse_rate")),
}


@per_class
def blocks(view_class: type, call: str) -> bool:
    """True when ``call`` on ``view_class`` reaches a user's sync code (a worker thread)."""
    if any(user_sync_code(view_class, name) for name in CALLS[call]):
        return True
    attribute, methods = _BUILT_BY.get(call, ("", ()))
    classes = getattr(view_class, attribute, ()) if attribute else ()
    return any(
        isinstance(klass, type) and user_sync_code(klass, name)
        for klass in classes
        for name in methods
    )


def view_step(view: Any, call: str, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Step[T]:
    """The step for ``fn`` (dispatch's ``call``): on the loop unless a user's code blocks."""
    if blocks(type(view), call):
        return Step.blocking(fn, *args, **kwargs)
    return Step.pure(fn, *args, **kwargs)


def attribute_step(obj: Any, name: str) -> Step[Any]:
    """Read ``obj.name`` (``None`` if missing): in a worker thread when it is a user's property."""
    if user_sync_code(type(obj), name):
        return Step.blocking(getattr, obj, name, None)
    return Step.pure(getattr, obj, name, None)
