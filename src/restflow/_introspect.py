"""Does this class override that hook, and with sync or async code?

The one place that answers it, once per class: the bridge (how to call a hook),
the views (which override of a view hook applies), the batteries (whether DRF's
pure algorithm may stay on the loop), the system checks and the integrations.
"Library" code is DRF's or restflow's; everything else is the user's.
"""

from __future__ import annotations

import enum
import functools
import inspect
from collections.abc import Callable
from typing import Generic, ParamSpec, TypeVar

from asgiref.sync import iscoroutinefunction

from restflow._hooks import DISPATCH_CALLS, DISPATCH_CLASSES, Hook

__all__ = [
    "Mode",
    "Override",
    "definer",
    "dispatch_blocks",
    "hook_mode",
    "is_library",
    "is_restflow",
    "keeps_library",
    "override",
    "per_class",
    "replaces",
    "user_sync_code",
]

R = TypeVar("R")
P = ParamSpec("P")

_LIBRARY_ROOTS = frozenset({"rest_framework", "restflow"})


class _ClassMemo(Generic[P, R]):
    """Memoises a function of classes and hooks (``functools.cache``, typed)."""

    def __init__(self, fn: Callable[P, R]) -> None:
        self._fn = fn
        self._cache: dict[tuple[object, ...], R] = {}
        functools.update_wrapper(self, fn)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        key = (*args, *kwargs.items())
        try:
            return self._cache[key]
        except KeyError:
            value = self._cache[key] = self._fn(*args, **kwargs)
            return value

    def cache_clear(self) -> None:
        self._cache.clear()


def per_class(fn: Callable[P, R]) -> _ClassMemo[P, R]:
    """Compute ``fn`` once per argument tuple (classes and hooks): per-class work."""
    return _ClassMemo(fn)


def definer(cls: type, name: str) -> type | None:
    """The class in ``cls``'s MRO whose own namespace defines ``name``, if any."""
    for klass in cls.__mro__:
        if name in klass.__dict__:
            return klass
    return None


def is_restflow(obj: object) -> bool:
    """Whether ``obj`` (a class or function) is restflow's own."""
    module = getattr(obj, "__module__", None) or ""
    return module == "restflow" or module.startswith("restflow.")


def is_library(klass: type) -> bool:
    """Whether ``klass`` is DRF's or restflow's (not the user's)."""
    return klass.__module__.split(".", 1)[0] in _LIBRARY_ROOTS


def replaces(cls: type, base: type, name: str) -> bool:
    """Whether ``cls`` (a subclass of ``base``) has its own ``name`` instead of ``base``'s."""
    return bool(getattr(cls, name) is not getattr(base, name))


def _index(cls: type, name: str) -> int | None:
    for index, klass in enumerate(cls.__mro__):
        if name in klass.__dict__:
            return index
    return None


class Override(enum.Enum):
    """Which implementation of a view hook a view class uses."""

    #: neither name is overridden outside DRF/restflow: use the library flow
    DEFAULT = "default"
    #: the user's ``a`` twin (or an ``async def`` under DRF's name) is awaited
    ASYNC = "async"
    #: the user's sync method runs in a worker thread on async views
    SYNC = "sync"


@per_class
def override(cls: type, hook: Hook) -> tuple[Override, str]:
    """Which override of a view hook applies, and the attribute to call.

    Users override DRF's name or restflow's ``a`` twin; when both are
    overridden the async one wins, as the design promises.
    """
    if hook.twin is not None:
        async_def = definer(cls, hook.twin)
        if async_def is not None and not is_library(async_def):
            return Override.ASYNC, hook.twin
    sync_def = definer(cls, hook.name)
    if sync_def is not None and not is_library(sync_def):
        if iscoroutinefunction(sync_def.__dict__[hook.name]):
            return Override.ASYNC, hook.name
        return Override.SYNC, hook.name
    return Override.DEFAULT, hook.name


@per_class
def keeps_library(cls: type, hooks: tuple[Hook, ...]) -> bool:
    """True when none of ``hooks`` is overridden by the user's code on ``cls``.

    Batteries use it to keep DRF's pure algorithm on the loop: a subclass that
    overrides one of the methods it calls may do I/O, so it runs in a thread.
    Only DRF's names are asked about: a user's ``a`` method that calls
    ``super()`` keeps the fast path.
    """
    return all(
        (sync_def := definer(cls, hook.name)) is None or is_library(sync_def) for hook in hooks
    )


@per_class
def user_sync_code(cls: type, hook: Hook) -> bool:
    """True when ``cls`` gets ``hook``'s method from the user's code, as sync code.

    Sync code is a plain method (or static/class method) or a property: calling or
    reading it may do I/O, so the async path runs it in a worker thread. A plain class
    attribute (``message = "..."``) and an ``async def`` are not.
    """
    klass = definer(cls, hook.name)
    if klass is None or is_library(klass):
        return False
    attribute = klass.__dict__[hook.name]
    if isinstance(attribute, property):
        return True
    if isinstance(attribute, staticmethod | classmethod):
        attribute = attribute.__func__
    return inspect.isfunction(attribute) and not iscoroutinefunction(attribute)


@per_class
def dispatch_blocks(view_class: type, call: Hook) -> bool:
    """True when dispatch's ``call`` on ``view_class`` reaches the user's sync code.

    ``call`` is a key of :data:`restflow._hooks.DISPATCH_CALLS`: the view method and
    the hooks its default reaches, on the view and on the classes it builds.
    """
    if any(user_sync_code(view_class, hook) for hook in DISPATCH_CALLS[call]):
        return True
    attribute, reached = DISPATCH_CLASSES.get(call, ("", ()))
    classes = getattr(view_class, attribute, ()) if attribute else ()
    if not isinstance(classes, list | tuple):
        return False  # a dotted path or a composed permission: built as DRF builds it
    return any(
        isinstance(klass, type) and user_sync_code(klass, hook)
        for klass in classes
        for hook in reached
    )


class Mode(enum.Enum):
    """How a hook object's hook is called from async code."""

    #: pure and non-blocking: called directly on the loop
    INLINE = "inline"
    #: the class's async twin is the library's (restflow's): awaited on the loop,
    #: and inside a worker-thread hop its sync face is used
    NATIVE = "native"
    #: the user's class defines the async twin: it is awaited, also inside a hop
    TWIN = "twin"
    #: an adrf-style hook whose DRF-named method itself is ``async def``
    ADRF = "adrf"
    #: a sync hook that may block: runs in a worker thread
    BLOCKING = "blocking"


@per_class
def hook_mode(cls: type, hook: Hook) -> Mode:
    """Classify how ``cls`` provides ``hook``. Cached per class.

    DRF's classes listed as ``pure`` on the hook are called on the loop. The
    more derived definition wins: a user's sync override of ``has_permission``
    on a subclass of a restflow async permission is honoured (in a thread)
    rather than bypassed by the inherited ``ahas_permission``.
    """
    if cls in hook.pure:
        return Mode.INLINE
    sync_at = _index(cls, hook.name)
    async_at = None if hook.twin is None else _index(cls, hook.twin)
    if async_at is not None and hook.twin is not None:
        async_def = cls.__mro__[async_at]
        sync_def = None if sync_at is None else cls.__mro__[sync_at]
        # Only a user's own sync override outranks the async twin: DRF's or
        # restflow's sync method is the library default (a restflow battery
        # lists DRF's class first in its bases, so its ``a`` method may sit
        # later in the MRO).
        if sync_def is None or sync_at is None or async_at <= sync_at or is_library(sync_def):
            return Mode.NATIVE if is_library(async_def) else Mode.TWIN
    if sync_at is not None and iscoroutinefunction(cls.__mro__[sync_at].__dict__[hook.name]):
        return Mode.ADRF
    return Mode.BLOCKING
