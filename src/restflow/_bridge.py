"""The one place that knows sync from async.

Everything restflow runs is expressed as a *flow*: a generator that yields
:class:`Step` objects (the I/O points) and returns a result. A flow is written
once and driven either synchronously (:func:`drive_sync`) or on the event loop
(:func:`drive_async`).

The async driver keeps native async steps on the loop. At the first step that
must block (a sync DRF hook, a sync ORM call, a user's sync override) it moves
the *rest of the flow* into one worker-thread hop, so a request phase costs at
most one hop however many sync steps it has. Inside that hop, async-capable
steps use their sync face.

Hook classes are classified once per class (:func:`hook_mode`), never probed at
call sites.
"""

from __future__ import annotations

import enum
import functools
import inspect
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass
from typing import Any, Generic, ParamSpec, TypeVar

from asgiref.sync import async_to_sync, iscoroutinefunction, sync_to_async

__all__ = [
    "Flow",
    "Mode",
    "Override",
    "Step",
    "acall",
    "call_step",
    "drive_async",
    "drive_sync",
    "flow_method",
    "hook_flow",
    "hook_mode",
    "hook_step",
    "hop_count",
    "library_hooks",
    "method_mode",
    "override_step",
    "per_class",
    "register_inline",
    "run_sync",
    "sync_override_step",
    "user_sync_code",
]

T = TypeVar("T")
R = TypeVar("R")
P = ParamSpec("P")


class _ClassMemo(Generic[P, R]):
    """Memoises a function of classes and names (``functools.cache``, typed)."""

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
    """Compute ``fn`` once per argument tuple (classes and names): per-class work."""
    return _ClassMemo(fn)


_hops = 0


def hop_count() -> int:
    """Worker-thread hops taken by this process so far (tests diff it)."""
    return _hops


async def run_sync(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run ``fn`` in Django's thread-sensitive worker thread and count the hop."""
    global _hops
    _hops += 1
    return await sync_to_async(fn, thread_sensitive=True)(*args, **kwargs)


class Mode(enum.Enum):
    """How a hook is called from async code."""

    #: pure and non-blocking: called directly on the loop
    INLINE = "inline"
    #: a restflow async hook: ``a<name>`` is awaited, ``<name>`` is its sync face
    NATIVE = "native"
    #: an adrf-style hook whose DRF-named method itself is ``async def``
    ADRF = "adrf"
    #: a sync hook that may block: runs in a worker thread
    BLOCKING = "blocking"


@dataclass(frozen=True, slots=True)
class Step(Generic[T]):
    """One I/O point of a flow.

    ``run`` is the sync face (may block). ``arun`` is the async face, or None
    when the step can only run synchronously. ``inline`` marks a sync face that
    is safe to call on the event loop.
    """

    run: Callable[[], T]
    arun: Callable[[], Awaitable[T]] | None = None
    inline: bool = False

    @classmethod
    def blocking(cls, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Step[T]:
        return cls(functools.partial(fn, *args, **kwargs))

    @classmethod
    def pure(cls, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Step[T]:
        return cls(functools.partial(fn, *args, **kwargs), inline=True)

    @classmethod
    def awaiting(cls, afn: Callable[..., Awaitable[T]], /, *args: Any, **kwargs: Any) -> Step[T]:
        bound = functools.partial(afn, *args, **kwargs)
        return cls(functools.partial(_run_coroutine, bound), bound)

    @classmethod
    def either(
        cls,
        fn: Callable[..., T],
        afn: Callable[..., Awaitable[T]],
        /,
        *args: Any,
        **kwargs: Any,
    ) -> Step[T]:
        return cls(functools.partial(fn, *args, **kwargs), functools.partial(afn, *args, **kwargs))


#: A flow yields steps, is sent each step's result, and returns R.
Flow = Generator[Step[Any], Any, R]


def _run_coroutine(afn: Callable[[], Awaitable[T]]) -> T:
    async def call() -> T:
        return await afn()

    return async_to_sync(call)()


def _checked(value: T, step: Step[Any]) -> T:
    # A sync face that hands back an awaitable is a misdeclared hook. Refuse it
    # rather than let a coroutine be read as a truth value (fail closed).
    if inspect.isawaitable(value):
        close = getattr(value, "close", None)
        if close is not None:
            close()
        raise TypeError(
            f"{step.run!r} returned an awaitable from a sync call. Declare the "
            "hook `async def` so restflow awaits it."
        )
    return value


def _advance(flow: Flow[R], value: Any, exc: BaseException | None) -> Step[Any]:
    if exc is not None:
        return flow.throw(exc)
    return flow.send(value)


def _finish_sync(flow: Flow[R], step: Step[Any]) -> R:
    """Run ``step`` and the rest of ``flow`` synchronously."""
    while True:
        try:
            value, exc = _checked(step.run(), step), None
        except Exception as error:
            value, exc = None, error
        try:
            step = _advance(flow, value, exc)
        except StopIteration as stop:
            result: R = stop.value
            return result


def drive_sync(flow: Flow[R]) -> R:
    """Drive a flow to completion on the current thread."""
    try:
        first = next(flow)
    except StopIteration as stop:
        result: R = stop.value
        return result
    return _finish_sync(flow, first)


async def drive_async(flow: Flow[R]) -> R:
    """Drive a flow on the event loop, hopping to a thread at most once."""
    try:
        step = next(flow)
    except StopIteration as stop:
        result: R = stop.value
        return result
    while True:
        if step.arun is None and not step.inline:
            return await run_sync(_finish_sync, flow, step)
        try:
            if step.arun is not None:
                value, exc = await step.arun(), None
            else:
                value, exc = _checked(step.run(), step), None
        except Exception as error:
            value, exc = None, error
        try:
            step = _advance(flow, value, exc)
        except StopIteration as stop:
            done: R = stop.value
            return done


# --- classifying hooks, once per class ------------------------------------

_LIBRARY_ROOTS = frozenset({"rest_framework", "restflow"})


def _definer(cls: type, name: str) -> tuple[int, type] | None:
    for index, klass in enumerate(cls.__mro__):
        if name in klass.__dict__:
            return index, klass
    return None


def _is_library(klass: type) -> bool:
    return klass.__module__.split(".", 1)[0] in _LIBRARY_ROOTS


#: DRF classes whose sync hook is pure (reads request state only): called on
#: the loop without a hop. Exact classes only: a subclass may do I/O.
_INLINE_SAFE: dict[str, frozenset[type]] = {}


def register_inline(sync_name: str, *classes: type) -> None:
    """Declare ``classes``' ``sync_name`` hook pure enough for the event loop."""
    _INLINE_SAFE[sync_name] = _INLINE_SAFE.get(sync_name, frozenset()) | frozenset(classes)
    hook_mode.cache_clear()


@per_class
def hook_mode(cls: type, sync_name: str, async_name: str) -> Mode:
    """Classify how ``cls`` provides a hook. Cached per class.

    The more derived definition wins: a user's sync override of
    ``has_permission`` on a subclass of a restflow async permission is honoured
    (in a thread) rather than bypassed by the inherited ``ahas_permission``.
    """
    if cls in _INLINE_SAFE.get(sync_name, frozenset()):
        return Mode.INLINE
    sync_def = _definer(cls, sync_name)
    async_def = _definer(cls, async_name)
    if async_def is not None and (
        sync_def is None or async_def[0] <= sync_def[0] or _is_library(sync_def[1])
    ):
        # Only a user's own sync override outranks the async twin: DRF's or
        # restflow's sync method is the library default (a restflow battery lists
        # DRF's class first in its bases, so its ``a`` method may sit later in the MRO).
        return Mode.NATIVE
    if sync_def is not None and iscoroutinefunction(sync_def[1].__dict__[sync_name]):
        return Mode.ADRF
    return Mode.BLOCKING


@per_class
def flow_method(cls: type, sync_name: str, async_name: str) -> str | None:
    """The flow method behind ``cls``'s hook ``sync_name``, if it joins flows.

    A restflow hook class lists, in ``flow_methods``, the generator methods
    that implement its DRF hooks (``{"allow_request": "allow_flow"}``). Callers
    then ``yield from`` that flow instead of calling the hook, so its I/O shares
    the request phase's single worker-thread hop. A user's override of the hook
    (sync or async) takes precedence and is called as a hook.
    """
    name: str | None = getattr(cls, "flow_methods", {}).get(sync_name)
    if name is None or method_mode(cls, sync_name, async_name)[0] is not Override.DEFAULT:
        return None
    return name


def hook_flow(hook: Any, sync_name: str, async_name: str, *args: Any) -> Flow[Any]:
    """Call ``hook``'s hook: through its own flow when it has one, else as one step."""
    name = flow_method(type(hook), sync_name, async_name)
    if name is not None:
        return (yield from getattr(hook, name)(*args))
    return (yield hook_step(hook, sync_name, async_name, *args))


def hook_step(
    hook: Any, sync_name: str, async_name: str, *args: Any, prefer_sync: bool = False
) -> Step[Any]:
    """The step that calls ``hook``'s hook method with ``args``.

    ``prefer_sync`` is for steps whose flow blocks right after anyway (a page
    that is rendered next): an async-capable hook then uses its sync face and
    shares the flow's single worker-thread hop instead of taking its own.
    """
    mode = hook_mode(type(hook), sync_name, async_name)
    if mode is Mode.NATIVE and prefer_sync:
        return Step.blocking(getattr(hook, sync_name), *args)
    if mode is Mode.NATIVE:
        return Step.either(getattr(hook, sync_name), getattr(hook, async_name), *args)
    if mode is Mode.ADRF:
        return Step.awaiting(getattr(hook, sync_name), *args)
    if mode is Mode.INLINE:
        return Step.pure(getattr(hook, sync_name), *args)
    return Step.blocking(getattr(hook, sync_name), *args)


@per_class
def user_sync_code(cls: type, name: str) -> bool:
    """True when ``cls`` gets ``name`` from a class outside DRF and restflow, as sync code.

    Sync code is a plain method (or static/class method) or a property: reading or calling
    it may do I/O, so the async path runs it in a worker thread. A plain class attribute
    (``message = "..."``) and an ``async def`` are not.
    """
    found = _definer(cls, name)
    if found is None or _is_library(found[1]):
        return False
    attribute = found[1].__dict__[name]
    if isinstance(attribute, property):
        return True
    if isinstance(attribute, staticmethod | classmethod):
        attribute = attribute.__func__
    return inspect.isfunction(attribute) and not iscoroutinefunction(attribute)


class Override(enum.Enum):
    """Which implementation of a view hook a view class uses."""

    #: neither name is overridden outside DRF/restflow: use the library flow
    DEFAULT = "default"
    #: the user's ``a<name>`` (or an ``async def <name>``) is awaited
    ASYNC = "async"
    #: the user's sync ``<name>`` runs in a worker thread
    SYNC = "sync"


@per_class
def method_mode(cls: type, sync_name: str, async_name: str) -> tuple[Override, str]:
    """Which override of a view hook pair applies, and the attribute to call.

    Users override DRF's sync name or restflow's ``a`` twin; when both are
    overridden the async one wins, as the design promises.
    """
    async_def = _definer(cls, async_name)
    if async_def is not None and not _is_library(async_def[1]):
        return Override.ASYNC, async_name
    sync_def = _definer(cls, sync_name)
    if sync_def is not None and not _is_library(sync_def[1]):
        if iscoroutinefunction(sync_def[1].__dict__[sync_name]):
            return Override.ASYNC, sync_name
        return Override.SYNC, sync_name
    return Override.DEFAULT, sync_name


@per_class
def library_hooks(cls: type, names: tuple[str, ...]) -> bool:
    """True when none of ``cls``'s sync hooks ``names`` is a user's override.

    Batteries use it to keep DRF's pure algorithm on the loop: a subclass that
    overrides one of the hooks it calls may do I/O, so it runs in a thread.
    Only the sync names are asked about: a user's ``a`` method that calls
    ``super()`` keeps the fast path.
    """
    return all(method_mode(cls, name, name)[0] is Override.DEFAULT for name in names)


def override_step(
    view: Any, sync_name: str, async_name: str, /, *args: Any, **kwargs: Any
) -> Step[Any] | None:
    """The step that calls a user's override of a view hook, or None if there is none.

    ``None`` tells the caller to run restflow's own implementation inline in
    its flow. A sync override becomes a blocking step (a worker thread on the
    async path); an async one is awaited.
    """
    override, attr = method_mode(type(view), sync_name, async_name)
    if override is Override.DEFAULT:
        return None
    method = getattr(view, attr)
    if override is Override.ASYNC:
        return Step.awaiting(method, *args, **kwargs)
    return Step.blocking(method, *args, **kwargs)


def sync_override_step(
    view: Any, sync_name: str, async_name: str, /, *args: Any, **kwargs: Any
) -> Step[Any] | None:
    """Like :func:`override_step`, for use inside restflow's own ``async_name`` method.

    Only a user's override of DRF's ``sync_name`` counts here: an override of
    ``async_name`` is the very method that called in (through ``super()``), and
    calling it again would recurse forever.
    """
    if method_mode(type(view), sync_name, async_name)[1] != sync_name:
        return None
    return override_step(view, sync_name, async_name, *args, **kwargs)


def call_step(
    view: Any, sync_name: str, async_name: str, /, *args: Any, **kwargs: Any
) -> Step[Any]:
    """Like :func:`override_step`, but the default implementation is a pure step."""
    step = override_step(view, sync_name, async_name, *args, **kwargs)
    return step if step is not None else Step.pure(getattr(view, sync_name), *args, **kwargs)


async def acall(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """Await ``fn`` if it is async; else run it in a worker thread (awaiting what it returns)."""
    if iscoroutinefunction(fn):
        return await fn(*args, **kwargs)
    result = await run_sync(fn, *args, **kwargs)
    if inspect.isawaitable(result):
        result = await result
    return result
