"""``get_asgi_application()``: Django's ASGI handler with pooled request threads.

Django runs every request's thread-sensitive sync work (sync middleware, signal
receivers such as ``close_old_connections``, sync views, restflow's worker-thread
hops) on one thread per request, so that the request's database connection is
used by one thread only. The stock handler gets that thread by creating a new
``ThreadPoolExecutor`` for every request and shutting it down afterwards: two
thread starts per request, and persistent database connections that are never
reused (each request opens its connection on a brand-new thread).

:class:`ASGIHandler` lends each request a single-thread executor from a pool
instead (asgiref's ``ThreadSensitiveContext(executor=...)``) and takes it back
when the request is done. One request still runs its sync work on one thread,
and no two requests share a thread at the same time; threads, and the
connections Django keeps on them, are reused.

Database connections follow Django's rules unchanged: ``request_started`` and
``request_finished`` run ``close_old_connections`` on the request's own pooled
thread, so ``CONN_MAX_AGE = 0`` closes the connection at the end of every
request and ``CONN_MAX_AGE > 0`` keeps it open on that thread for the next
request that borrows it, as a threaded WSGI server does. A request that ends
without ``request_finished`` (an exception escaping Django's handler, a
cancelled task) gets the same ``close_old_connections`` call queued on its
thread before the thread is lent again. An executor retired from the pool closes
its thread's connections first.

Sizing (keyword arguments, else settings, else the defaults):

- ``max_executors`` (``RESTFLOW_ASGI_MAX_EXECUTORS``, default 256): how many
  requests may hold a thread at once. A request that arrives when all are lent
  out waits (first come, first served) for one to come back; it has not read its
  body yet. As with a threaded WSGI server, a request that waits on another
  request of the same process (an HTTP call to itself) can then deadlock: keep
  this above the concurrency such patterns need.
- ``max_idle_executors`` (``RESTFLOW_ASGI_MAX_IDLE_EXECUTORS``, default 64): how
  many returned executors are kept for reuse; beyond that a returned executor is
  retired (connections closed, thread ended). It also bounds the persistent
  database connections idle threads keep open.

Serve it as Django's own: ``application = get_asgi_application()`` in
``asgi.py``. Unlike Django's handler it also answers the ASGI ``lifespan``
protocol; on shutdown it closes the pooled threads' connections.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import threading
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

import django
from asgiref.sync import ThreadSensitiveContext
from django.conf import settings
from django.core.handlers import asgi as django_asgi
from django.db import close_old_connections, connections

__all__ = ["ASGIHandler", "ExecutorPool", "get_asgi_application"]

Receive = Callable[[], Awaitable[Mapping[str, Any]]]
Send = Callable[[Mapping[str, Any]], Awaitable[None]]

#: Default for ``max_executors`` (setting ``RESTFLOW_ASGI_MAX_EXECUTORS``).
DEFAULT_MAX_EXECUTORS: Final = 256
#: Default for ``max_idle_executors`` (setting ``RESTFLOW_ASGI_MAX_IDLE_EXECUTORS``).
DEFAULT_MAX_IDLE_EXECUTORS: Final = 64


_numbers = itertools.count(1)


def _close_all_connections() -> None:
    connections.close_all()


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
        self._idle: list[ThreadPoolExecutor] = []
        self._waiters: collections.deque[asyncio.Future[ThreadPoolExecutor]] = collections.deque()
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

    async def acquire(self) -> ThreadPoolExecutor:
        """Lend an executor: an idle one, a new one, or (at the limit) the next one returned."""
        with self._lock:
            if self._closed:
                raise RuntimeError("ExecutorPool is closed; the server is shutting down.")
            if self._idle:
                return self._idle.pop()
            if self._size < self.max_executors:
                self._size += 1
                return ThreadPoolExecutor(
                    max_workers=1, thread_name_prefix=f"restflow-asgi-{next(_numbers)}"
                )
            waiter: asyncio.Future[ThreadPoolExecutor] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            with self._lock:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
            if waiter.done() and not waiter.cancelled():
                # Handed an executor just as the request was cancelled: pass it on.
                self.release(waiter.result())
            raise

    def release(self, executor: ThreadPoolExecutor, *, finished: bool = True) -> None:
        """Take ``executor`` back.

        ``finished=False`` says the request ended without Django's
        ``request_finished`` signal: ``close_old_connections`` is queued on the
        executor's thread first, so the next request never inherits a connection
        that should have been closed.
        """
        if not finished:
            executor.submit(close_old_connections)
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

    def _hand_over(
        self, waiter: asyncio.Future[ThreadPoolExecutor], executor: ThreadPoolExecutor
    ) -> bool:
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

    def _resolve(
        self, waiter: asyncio.Future[ThreadPoolExecutor], executor: ThreadPoolExecutor
    ) -> None:
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


def _retire(executor: ThreadPoolExecutor) -> None:
    # The connection lives on the executor's thread: close it there, then let
    # the thread end once the queue is drained (without blocking the loop).
    executor.submit(_close_all_connections)
    executor.shutdown(wait=False)


def _fail(waiter: asyncio.Future[ThreadPoolExecutor]) -> None:
    if not waiter.done():
        waiter.set_exception(RuntimeError("ExecutorPool closed while waiting for an executor."))


class ASGIHandler(django_asgi.ASGIHandler):
    """Django's ``ASGIHandler`` whose per-request thread comes from an :class:`ExecutorPool`.

    Everything else (middleware, request parsing, signals, disconnect handling,
    streaming) is Django's own handler.
    """

    def __init__(
        self,
        *,
        max_executors: int = DEFAULT_MAX_EXECUTORS,
        max_idle_executors: int = DEFAULT_MAX_IDLE_EXECUTORS,
    ) -> None:
        super().__init__()
        self.executors = ExecutorPool(max_executors, max_idle_executors)

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        """Serve one HTTP request on a pooled thread; answer ``lifespan`` events."""
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        executor = await self.executors.acquire()
        finished = False
        try:
            async with ThreadSensitiveContext(executor=executor):
                # Its own task, hence its own copy of the caller's context. asgiref
                # copies context variables set by sync code back to the awaiting
                # context, and since Django 6 ``handle`` runs the view in the
                # calling task: without a task of its own, they would outlive the
                # request and show up in the next one served from that task.
                await asyncio.create_task(self.handle(scope, receive, send))
            finished = True
        finally:
            self.executors.release(executor, finished=finished)

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
