"""The one place that knows sync from async: steps, flows and their two drivers.

A flow is a generator that yields :class:`Step` objects (its I/O points) and
returns a result; :func:`drive_sync` runs it on the calling thread and
:func:`drive_async` on the event loop, moving the rest of the flow into one
worker-thread hop at its first blocking step. Hooks are turned into steps here,
from their declarations (``restflow._hooks``) and the per-class answers of
``restflow._introspect``. See ``docs/internals.md``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Generator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from asgiref.sync import async_to_sync, iscoroutinefunction, sync_to_async

from restflow._hooks import Hook
from restflow._introspect import (
    Mode,
    Override,
    dispatch_blocks,
    hook_mode,
    override,
    per_class,
    user_sync_code,
)

__all__ = [
    "Flow",
    "Step",
    "attribute_step",
    "call_step",
    "drive_async",
    "drive_sync",
    "flow_method",
    "hook_flow",
    "hook_step",
    "hop_count",
    "in_thread",
    "override_step",
    "run_handler",
    "single",
    "sync_code_step",
    "sync_override_step",
    "view_step",
]

T = TypeVar("T")
R = TypeVar("R")


_hops = 0


def hop_count() -> int:
    """Worker-thread hops taken by this process so far (tests diff it)."""
    return _hops


async def in_thread(fn: Callable[..., T], /, *args: object, **kwargs: object) -> T:
    """Run ``fn`` in Django's thread-sensitive worker thread and count the hop."""
    global _hops
    _hops += 1
    return await sync_to_async(fn, thread_sensitive=True)(*args, **kwargs)


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
    def blocking(cls, fn: Callable[..., T], /, *args: object, **kwargs: object) -> Step[T]:
        return cls(functools.partial(fn, *args, **kwargs))

    @classmethod
    def pure(cls, fn: Callable[..., T], /, *args: object, **kwargs: object) -> Step[T]:
        return cls(functools.partial(fn, *args, **kwargs), inline=True)

    @classmethod
    def awaiting(
        cls, afn: Callable[..., Awaitable[T]], /, *args: object, **kwargs: object
    ) -> Step[T]:
        bound = functools.partial(afn, *args, **kwargs)
        return cls(functools.partial(_run_coroutine, bound), bound)

    @classmethod
    def either(
        cls,
        fn: Callable[..., T],
        afn: Callable[..., Awaitable[T]],
        /,
        *args: object,
        **kwargs: object,
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


def _advance(flow: Flow[R], value: object, exc: BaseException | None) -> Step[Any]:
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
            return await in_thread(_finish_sync, flow, step)
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


# --- hooks as steps ----------------------------------------------------------


def single(step: Step[T]) -> Flow[T]:
    """A flow of one step: ``yield from single(step)`` reads as ``T``."""
    value: T = yield step
    return value


@per_class
def flow_method(cls: type, hook: Hook) -> str | None:
    """The flow method behind ``cls``'s ``hook``, if it joins flows.

    A restflow hook class lists, in ``flow_methods``, the generator methods that
    implement its DRF hooks (``{ALLOW_REQUEST: "allow_flow"}``). Callers then
    ``yield from`` that flow instead of calling the hook, so its I/O shares the
    request phase's single worker-thread hop. A user's override of the hook
    (sync or async) takes precedence and is called as a hook.
    """
    methods: Mapping[Hook, str] = getattr(cls, "flow_methods", {})
    name = methods.get(hook)
    if name is None or override(cls, hook)[0] is not Override.DEFAULT:
        return None
    return name


def hook_flow(obj: object, hook: Hook, *args: object) -> Flow[Any]:
    """Call ``obj``'s ``hook``: through its own flow when it has one, else as one step."""
    name = flow_method(type(obj), hook)
    if name is not None:
        return (yield from getattr(obj, name)(*args))
    return (yield hook_step(obj, hook, *args))


def hook_step(obj: object, hook: Hook, *args: object, prefer_sync: bool = False) -> Step[Any]:
    """The step that calls ``obj``'s ``hook`` with ``args``.

    restflow's own async twin is the same algorithm as its sync face: inside a
    worker-thread hop the sync face runs. A twin the user's class defines is
    always the one that runs (awaited on the loop, also from inside a hop).
    ``prefer_sync`` is for steps whose flow blocks right after anyway (a page
    that is rendered next): restflow's async-capable hook then uses its sync
    face and shares the flow's single hop instead of taking its own.
    """
    mode = hook_mode(type(obj), hook)
    sync = getattr(obj, hook.name)
    if mode is Mode.INLINE:
        return Step.pure(sync, *args)
    if mode is Mode.BLOCKING or (mode is Mode.NATIVE and prefer_sync):
        return Step.blocking(sync, *args)
    if mode is Mode.ADRF:
        return Step.awaiting(sync, *args)
    twin = getattr(obj, hook.twin or hook.name)
    if mode is Mode.TWIN:
        return Step.awaiting(twin, *args)
    return Step.either(sync, twin, *args)


def override_step(view: object, hook: Hook, /, *args: object, **kwargs: object) -> Step[Any] | None:
    """The step that calls a user's override of a view hook, or None if there is none.

    ``None`` tells the caller to run restflow's own implementation inline in
    its flow. A sync override becomes a blocking step (a worker thread on the
    async path); an async one is awaited.
    """
    which, attr = override(type(view), hook)
    if which is Override.DEFAULT:
        return None
    method = getattr(view, attr)
    if which is Override.ASYNC:
        return Step.awaiting(method, *args, **kwargs)
    return Step.blocking(method, *args, **kwargs)


def sync_override_step(
    view: object, hook: Hook, /, *args: object, **kwargs: object
) -> Step[Any] | None:
    """Like :func:`override_step`, for use inside restflow's own twin of ``hook``.

    Only a user's override of DRF's name counts here: an override of the twin
    is the very method that called in (through ``super()``), and calling it
    again would recurse forever.
    """
    if override(type(view), hook)[1] != hook.name:
        return None
    return override_step(view, hook, *args, **kwargs)


def view_step(view: object, call: Hook, /, *args: object, **kwargs: object) -> Step[Any]:
    """The step for the view method dispatch calls as ``call`` (see ``DISPATCH_CALLS``).

    On the loop unless the user's sync code is reached: then in a worker thread.
    """
    method = getattr(view, call.name)
    if dispatch_blocks(type(view), call):
        return Step.blocking(method, *args, **kwargs)
    return Step.pure(method, *args, **kwargs)


def sync_code_step(obj: object, hook: Hook, /, *args: object, **kwargs: object) -> Step[Any]:
    """Call ``obj``'s ``hook``: in a worker thread if it is the user's sync code."""
    method = getattr(obj, hook.name)
    if user_sync_code(type(obj), hook):
        return Step.blocking(method, *args, **kwargs)
    return Step.pure(method, *args, **kwargs)


def attribute_step(obj: object, hook: Hook) -> Step[Any]:
    """Read ``obj``'s ``hook`` attribute (None if missing), off the loop if it is a property."""
    if user_sync_code(type(obj), hook):
        return Step.blocking(getattr, obj, hook.name, None)
    return Step.pure(getattr, obj, hook.name, None)


def call_step(view: object, hook: Hook, /, *args: object, **kwargs: object) -> Step[Any]:
    """Like :func:`override_step`, but the default implementation is a pure step."""
    step = override_step(view, hook, *args, **kwargs)
    return step if step is not None else Step.pure(getattr(view, hook.name), *args, **kwargs)


async def run_handler(fn: Callable[..., Any], /, *args: object, **kwargs: object) -> Any:
    """Await ``fn`` if it is async; else run it in a worker thread (awaiting what it returns)."""
    if iscoroutinefunction(fn):
        return await fn(*args, **kwargs)
    result = await in_thread(fn, *args, **kwargs)
    if inspect.isawaitable(result):
        result = await result
    return result
