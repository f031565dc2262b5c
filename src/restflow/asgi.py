"""``get_asgi_application()``: Django's ASGI handler with pooled request threads.

Each request borrows a single-thread executor from a pool instead of starting a
new one, so threads and the database connections Django keeps on them are
reused; Django's own request signals cost no thread hop. Serve it as Django's
own (``application = get_asgi_application()``); it also answers ``lifespan``.
Sizing: ``max_executors`` (``RESTFLOW_ASGI_MAX_EXECUTORS``, default 256) and
``max_idle_executors`` (``RESTFLOW_ASGI_MAX_IDLE_EXECUTORS``, default 64). How it
works, and what changes against Django's handler: ``docs/internals.md``.
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
import itertools
import logging
import threading
import weakref
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import closing, suppress
from typing import Any, Final, ParamSpec, TypeVar

import django
from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.conf import settings
from django.core import signals
from django.core.cache import caches, close_caches
from django.core.cache.backends.base import BaseCache
from django.core.exceptions import RequestAborted
from django.core.handlers import asgi as django_asgi
from django.core.handlers.base import reset_urlconf
from django.db import close_old_connections, connections, reset_queries
from django.dispatch import Signal
from django.http import HttpRequest, HttpResponseBase
from django.urls import set_script_prefix

from restflow._eager_accept import new_eager_uvloop

__all__ = ["ASGIHandler", "ExecutorPool", "eager_uvloop", "get_asgi_application"]

Receive = Callable[[], Awaitable[Mapping[str, Any]]]
Send = Callable[[Mapping[str, Any]], Awaitable[None]]

#: Default for ``max_executors`` (setting ``RESTFLOW_ASGI_MAX_EXECUTORS``).
DEFAULT_MAX_EXECUTORS: Final = 256
#: Default for ``max_idle_executors`` (setting ``RESTFLOW_ASGI_MAX_IDLE_EXECUTORS``).
DEFAULT_MAX_IDLE_EXECUTORS: Final = 64


_numbers = itertools.count(1)
_P = ParamSpec("_P")
_T = TypeVar("_T")
logger: logging.Logger = logging.getLogger("restflow.asgi")


def _close_all_connections() -> None:
    connections.close_all()


def _log_failure(future: Future[object]) -> None:
    if not future.cancelled() and (error := future.exception()) is not None:
        logger.error("Upkeep after a request failed on its thread", exc_info=error)


class RequestThread(ThreadPoolExecutor):
    """A one-thread executor that :class:`ExecutorPool` lends to one request at a time.

    Besides running the request's sync work, it holds the request's thread upkeep:
    :meth:`before_first_job` work runs on the thread just before the request's first
    job (and not at all if there is none), :meth:`after_request` work only if the
    request used the thread. :attr:`used` says whether it did.
    """

    def __init__(self) -> None:
        super().__init__(max_workers=1, thread_name_prefix=f"restflow-asgi-{next(_numbers)}")
        self.used: bool = False
        self._before_first: Callable[[], object] | None = None

    def lend(self) -> None:
        """Start a new request: forget the previous one's use of the thread."""
        self.used = False
        self._before_first = None

    def before_first_job(self, job: Callable[[], object]) -> None:
        """Run ``job`` on the thread before this request's first job there, if any."""
        self._before_first = job

    def after_request(self, job: Callable[[], object]) -> None:
        """Queue ``job`` on the thread now (ahead of later requests), if this request used it.

        The loop does not wait for it; a failure is logged (logger ``restflow.asgi``).
        """
        if self.used:
            ThreadPoolExecutor.submit(self, job).add_done_callback(_log_failure)

    def submit(self, fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> Future[_T]:
        self.used = True
        job, self._before_first = self._before_first, None
        if job is None:
            return super().submit(fn, *args, **kwargs)

        def upkeep_first() -> _T:
            job()
            return fn(*args, **kwargs)

        return super().submit(upkeep_first)


class ExecutorPool:
    """Single-thread executors lent to one request at a time.

    Executors are created on demand up to ``max_executors``; a returned one is
    kept for reuse (most recently used first, so few threads and connections
    stay warm) unless ``max_idle`` are already idle. ``acquire`` waits, first
    come first served, when every executor is lent out. Safe to share between
    event loops (a server's loop, test clients' loops).
    """

    def __init__(self, max_executors: int, max_idle: int) -> None:
        if max_executors < 1:
            raise ValueError(f"ExecutorPool(max_executors={max_executors!r}) must be at least 1.")
        if max_idle < 0:
            raise ValueError(f"ExecutorPool(max_idle={max_idle!r}) must be 0 or more.")
        self.max_executors = max_executors
        self.max_idle = max_idle
        self._lock = threading.Lock()
        self._idle: list[RequestThread] = []
        self._waiters: collections.deque[asyncio.Future[RequestThread]] = collections.deque()
        self._size = 0
        self._closed = False

    @property
    def size(self) -> int:
        """Executors that exist now (lent out or idle)."""
        return self._size

    @property
    def idle(self) -> int:
        """Executors waiting in the pool to be lent."""
        return len(self._idle)

    async def acquire(self) -> RequestThread:
        """Lend an executor: an idle one, a new one, or (at the limit) the next one returned."""
        with self._lock:
            if self._closed:
                raise RuntimeError("ExecutorPool is closed; the server is shutting down.")
            if self._idle:
                executor = self._idle.pop()
                executor.lend()
                return executor
            if self._size < self.max_executors:
                self._size += 1
                return RequestThread()
            waiter: asyncio.Future[RequestThread] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
        try:
            executor = await waiter
            executor.lend()
            return executor
        except asyncio.CancelledError:
            with self._lock:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
            if waiter.done() and not waiter.cancelled():
                # Handed an executor just as the request was cancelled: pass it on.
                self.release(waiter.result())
            raise

    def lend_background(self) -> RequestThread:
        """An executor for the work a finished request left behind; never waits.

        An idle executor if there is one, else a new one. It does not count
        against ``max_executors`` while it is out (work left behind must never
        make a request wait); :meth:`return_background` takes it back.
        """
        with self._lock:
            executor = self._idle.pop() if self._idle and not self._closed else None
            if executor is not None:
                self._size -= 1
        if executor is None:
            executor = RequestThread()
        executor.lend()
        return executor

    def return_background(self, executor: RequestThread) -> None:
        """Take back an executor from :meth:`lend_background` (callable from any thread).

        ``close_old_connections`` is queued on its thread first if it was used. It
        rejoins the pool only if the pool is below ``max_executors``.
        """
        with self._lock:
            rejoin = self._size < self.max_executors and not self._closed
            if rejoin:
                self._size += 1
        if rejoin:
            self.release(executor, finished=False)
        else:
            executor.after_request(close_old_connections)
            _retire(executor)

    def release(self, executor: RequestThread, *, finished: bool = True) -> None:
        """Take ``executor`` back.

        ``finished=False`` says the request ended without Django's
        ``request_finished`` signal: if it used the thread, ``close_old_connections``
        is queued there first, so the next request never inherits a connection
        that should have been closed.
        """
        if not finished:
            executor.after_request(close_old_connections)
        while True:
            with self._lock:
                if self._closed:
                    self._size -= 1
                    waiter = None
                elif self._waiters:
                    waiter = self._waiters.popleft()
                elif len(self._idle) < self.max_idle:
                    self._idle.append(executor)
                    return
                else:
                    self._size -= 1
                    waiter = None
            if waiter is None:
                _retire(executor)
                return
            if self._hand_over(waiter, executor):
                return

    def _hand_over(self, waiter: asyncio.Future[RequestThread], executor: RequestThread) -> bool:
        """Give ``executor`` to a waiting request; False if that request is gone."""
        if waiter.done():
            return False
        loop = waiter.get_loop()
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            waiter.set_result(executor)
            return True
        # A request on another event loop: resolve its future on its own loop.
        try:
            loop.call_soon_threadsafe(self._resolve, waiter, executor)
        except RuntimeError:  # that loop is closed
            return False
        return True

    def _resolve(self, waiter: asyncio.Future[RequestThread], executor: RequestThread) -> None:
        if waiter.done():  # cancelled meanwhile
            self.release(executor)
        else:
            waiter.set_result(executor)

    async def aclose(self) -> None:
        """Close every idle thread's database connections and end the threads.

        Executors still lent out are retired as their requests return them.
        """
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
            self._size -= len(idle)
            waiters, self._waiters = list(self._waiters), collections.deque()
        for waiter in waiters:
            waiter.get_loop().call_soon_threadsafe(_fail, waiter)
        for executor in idle:
            await asyncio.wrap_future(executor.submit(_close_all_connections))
            executor.shutdown(wait=False)


class RequestExecutor(Executor):
    """The executor of one request's ``ThreadSensitiveContext``.

    While the request is served, its thread-sensitive work goes to the pooled
    thread lent to it. Tasks the view started (``asyncio.create_task``) inherit
    the context and may outlive the response; once :meth:`detach` is called
    (the request is done and its thread is back in the pool), their
    thread-sensitive calls go to one background thread, borrowed on first use
    (:meth:`ExecutorPool.lend_background`). When the last of those tasks is gone
    (nothing refers to the request's context any more), that thread's
    connections get ``close_old_connections`` and the thread goes back to the
    pool.
    """

    def __init__(self, pool: ExecutorPool, lent: RequestThread) -> None:
        self.lent: RequestThread | None = lent
        self._pool = pool
        self._background: RequestThread | None = None
        self._lock = threading.Lock()

    def detach(self) -> None:
        """The request is done: later work goes to a background thread."""
        self.lent = None

    def submit(self, fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> Future[_T]:
        lent = self.lent
        if lent is not None:
            return lent.submit(fn, *args, **kwargs)
        with self._lock:
            background = self._background
            if background is None:
                background = self._background = self._pool.lend_background()
                weakref.finalize(self, self._pool.return_background, background)
        return background.submit(fn, *args, **kwargs)


def _retire(executor: ThreadPoolExecutor) -> None:
    # The connection lives on the executor's thread: close it there, then let
    # the thread end once the queue is drained (without blocking the loop).
    executor.submit(_close_all_connections)
    executor.shutdown(wait=False)


def _fail(waiter: asyncio.Future[RequestThread]) -> None:
    if not waiter.done():
        waiter.set_exception(RuntimeError("ExecutorPool closed while waiting for an executor."))


#: Django's own sync receivers of ``request_started``/``request_finished`` that tidy
#: the connections of the thread they run on: run on the request's thread, in a hop
#: the request makes anyway (see the module docstring).
_THREAD_UPKEEP: Final[frozenset[Callable[..., object]]] = frozenset(
    {close_old_connections, reset_queries}
)


def _runs_on_loop(receiver: Callable[..., object]) -> bool:
    """Whether Django's own ``receiver`` only touches this request's context, without I/O.

    ``reset_urlconf`` resets a context-local setting; ``close_caches`` closes the
    caches this context opened, which is a no-op unless one of them has a
    ``close()`` of its own (memcached's, a third-party backend's).
    """
    if receiver is reset_urlconf:
        return True
    if receiver is close_caches:
        # Imported here: importing restflow.asgi must not need settings (a project's
        # asgi.py imports it before DJANGO_SETTINGS_MODULE is set), and the hook
        # declarations import DRF's batteries, which read them.
        from restflow._introspect import replaces

        return all(
            not replaces(type(cache), BaseCache, "close")
            for cache in caches.all(initialized_only=True)
        )
    return False


def _closes_on_loop(closer: Callable[[], object]) -> bool:
    """Whether a response's resource closer only closes the request's body.

    Django's handler adds ``request.close`` to every response, and closes the body
    file on the loop itself. Uploaded files (closing one deletes its temporary
    file) and any other resource go to a thread, as in Django.
    """
    request = getattr(closer, "__self__", None)
    return (
        isinstance(request, HttpRequest)
        and getattr(closer, "__func__", None) in _REQUEST_CLOSE
        and not getattr(request, "_files", None)
    )


_REQUEST_CLOSE: Final = frozenset({HttpRequest.close, django_asgi.ASGIRequest.close})

#: The executor lent to the request this task serves.
_lent: contextvars.ContextVar[RequestThread] = contextvars.ContextVar("restflow_asgi_lent")


class ASGIHandler(django_asgi.ASGIHandler):
    """Django's ``ASGIHandler`` with pooled request threads and hop-free built-in signals.

    Request parsing, middleware, the view, disconnect handling and response
    sending are Django's own methods; :meth:`handle` sequences them and sends
    ``request_started``/``request_finished`` as the module docstring says.
    """

    def __init__(
        self,
        *,
        max_executors: int = DEFAULT_MAX_EXECUTORS,
        max_idle_executors: int = DEFAULT_MAX_IDLE_EXECUTORS,
    ) -> None:
        super().__init__()
        self.executors: ExecutorPool = ExecutorPool(max_executors, max_idle_executors)

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        """Serve one HTTP request on a pooled thread; answer ``lifespan`` events."""
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        executor = await self.executors.acquire()
        request_executor = RequestExecutor(self.executors, executor)
        finished = False
        try:
            # Its own task, hence its own copy of the caller's context: asgiref
            # copies context variables set by sync code back to the awaiting
            # context, and the view runs in this task. Without a task of its
            # own they would outlive the request and show up in the next one
            # served from the caller's task.
            await asyncio.create_task(self._serve(executor, request_executor, scope, receive, send))
            finished = True
        finally:
            request_executor.detach()
            self.executors.release(executor, finished=finished)

    async def _serve(
        self,
        lent: RequestThread,
        executor: RequestExecutor,
        scope: dict[str, Any],
        receive: Receive,
        send: Send,
    ) -> None:
        # The request's thread-sensitive context is entered in this task's own
        # context and deliberately never exited: tasks the view starts inherit it
        # and may outlive the response (Django's handler lets them). An exited
        # context would fail their thread-sensitive calls; this one sends them to
        # a background thread once the request is done (see RequestExecutor).
        context = ThreadSensitiveContext(executor=executor)
        enter: Callable[[], Awaitable[object]] = context.__aenter__  # asgiref's is untyped
        await enter()
        # The token kept for the exit refers to this task's context, which refers
        # back to the ThreadSensitiveContext: without it, the request's context is
        # freed when its last task is (no cycle left for the garbage collector).
        context.token = None
        _lent.set(lent)
        await self.handle(scope, receive, send)

    async def handle(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        """Read the body, send ``request_started``, respond, close the response."""
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        with closing(body_file):
            set_script_prefix(django_asgi.get_script_prefix(scope))
            await self._send_signal(signals.request_started, scope=scope)
            request, error_response = self.create_request(scope, body_file)
            if request is None:
                assert error_response is not None
                await self.send_response(error_response, send)
                await self._close(error_response)
                return
            response = await self._respond(request, receive, send)
            if response is None:  # the client hung up first
                await self._send_signal(signals.request_finished)
            else:
                await self._close(response)

    async def _respond(
        self, request: django_asgi.ASGIRequest, receive: Receive, send: Send
    ) -> HttpResponseBase | None:
        """Run the view and send its response; cancel the view if the client hangs up.

        Returns the response, or None if the client hung up before the view returned.
        """
        response: HttpResponseBase | None = None
        try:
            try:
                async with asyncio.TaskGroup() as group:
                    listener = group.create_task(self.listen_for_disconnect(receive))
                    response = await self.run_get_response(request)
                    await self.send_response(response, send)
                    listener.cancel()
            except* RequestAborted:
                pass
        except BaseExceptionGroup as errors:
            # One failure (the server's send() raising, say): raise it as it is.
            if len(errors.exceptions) == 1:
                raise errors.exceptions[0] from None
            raise
        return response

    async def _close(self, response: HttpResponseBase) -> None:
        """``response.close()``: its resources, then ``request_finished``."""
        closers = getattr(response, "_resource_closers", None)
        if (
            closers is None
            or type(response).close is not HttpResponseBase.close
            or not all(map(_closes_on_loop, closers))
        ):
            # A resource of its own (a file), or a close() of its own: Django's way, in a hop.
            await sync_to_async(response.close)()
            return
        for closer in closers:
            with suppress(Exception):  # as Django's close(): a failing closer is ignored
                closer()
        closers.clear()
        response.closed = True
        await self._send_signal(signals.request_finished)

    async def _send_signal(self, signal: Signal, **named: Any) -> None:
        """``signal.asend()``, with Django's own sync receivers run without a hop of their own."""
        sender = type(self)
        executor = _lent.get(None)
        try:
            # Django's own split of the live receivers (5.0 to 6.1 alike).
            sync_receivers, async_receivers = signal._live_receivers(sender)
        except (AttributeError, TypeError, ValueError):
            executor = None  # a Django whose internals differ: its own asend()
            sync_receivers, async_receivers = [], []
        upkeep = [r for r in sync_receivers if r in _THREAD_UPKEEP]
        on_loop = [r for r in sync_receivers if _runs_on_loop(r)]
        if len(upkeep) + len(on_loop) < len(sync_receivers) or executor is None:
            # A receiver restflow does not know (or no pooled thread to defer to):
            # every sync receiver, in order, in a hop, as Django does.
            await signal.asend(sender=sender, **named)
            return

        def run(receivers: list[Callable[..., object]]) -> None:
            for receiver in receivers:
                receiver(signal=signal, sender=sender, **named)

        if upkeep:
            if signal is signals.request_finished:
                executor.after_request(lambda: run(upkeep))
            else:
                executor.before_first_job(lambda: run(upkeep))
        run(on_loop)
        if async_receivers:
            await asyncio.gather(
                *(receiver(signal=signal, sender=sender, **named) for receiver in async_receivers)
            )

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.executors.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def aclose(self) -> None:
        """Close the pooled threads' database connections and end the threads."""
        await self.executors.aclose()


def get_asgi_application(
    *, max_executors: int | None = None, max_idle_executors: int | None = None
) -> ASGIHandler:
    """Set Django up and return restflow's :class:`ASGIHandler` (an ASGI 3 callable).

    A drop-in for ``django.core.asgi.get_asgi_application()``. The pool sizes
    default to the ``RESTFLOW_ASGI_MAX_EXECUTORS`` and
    ``RESTFLOW_ASGI_MAX_IDLE_EXECUTORS`` settings, else 256 and 64.
    """
    django.setup(set_prefix=False)
    if max_executors is None:
        max_executors = int(getattr(settings, "RESTFLOW_ASGI_MAX_EXECUTORS", DEFAULT_MAX_EXECUTORS))
    if max_idle_executors is None:
        max_idle_executors = int(
            getattr(settings, "RESTFLOW_ASGI_MAX_IDLE_EXECUTORS", DEFAULT_MAX_IDLE_EXECUTORS)
        )
    return ASGIHandler(max_executors=max_executors, max_idle_executors=max_idle_executors)


def eager_uvloop() -> asyncio.AbstractEventLoop:
    """uvicorn's event loop for this handler: uvloop, accepting every pending connection at once.

    ``uvicorn project.asgi:application --loop restflow.asgi:eager_uvloop`` (uvicorn 0.36
    or later, uvloop installed). uvloop alone accepts one connection per loop iteration,
    so under load new connections wait in the kernel's accept queue, their first
    requests with them (see docs/guide/deployment.md).
    """
    return new_eager_uvloop()
