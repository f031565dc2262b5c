"""Rate throttles: DRF's anon, user and scoped throttles with atomic counting.

Each class subclasses DRF's class of the same name, so rates, scopes,
``THROTTLE_RATES``, ``cache_format``/``get_cache_key``, ``rate = None`` (no
throttling), ``wait()`` and the 429 ``Retry-After`` header behave as in DRF.
What differs is how a request is counted.

DRF keeps a list of request timestamps per client (a sliding log) and updates it
with ``get`` then ``set``: two concurrent requests read the same list and both
pass, so a burst lets more than the rate through, and more still when several
server processes share the cache. restflow counts with the cache's atomic
primitives instead: a **fixed window per client**, opened by the client's first
request (``cache.add`` of a counter that expires after the rate's duration) and
counted with ``cache.incr``. Under N concurrent requests, across any number of
processes sharing the cache, exactly ``num_requests`` pass per window.

How the window differs from DRF's sliding log: a window starts at the client's
first request and lasts ``duration`` seconds; when it ends, the full quota is
available again. DRF lets a request through as soon as the oldest request in its
log is ``duration`` old. So at most ``num_requests`` pass per window (as in DRF),
but a client that uses its quota at the very end of one window and again at the
start of the next can pass ``2 * num_requests`` within one ``duration``. While
throttled, ``wait()`` is the time left in the window, which is what DRF reports
for a client whose oldest logged request opened the window. After an allowed
request ``wait()`` is None (DRF spreads the time left over the requests left;
that would cost a cache read per allowed request, and DRF only asks ``wait()``
of a throttle that refused).

Atomicity needs a backend whose ``add`` and ``incr`` are atomic and keep the
key's expiry: the local-memory cache (per process), Redis
(``django.core.cache.backends.redis.RedisCache``) and memcached. The database
and file caches implement ``incr`` as ``get`` + ``set`` and are not atomic.

Cost on async views: the counting runs on the event loop when the backend is the
in-process local-memory (or dummy) cache, is awaited when the backend implements
Django's async cache methods natively, and otherwise takes one worker-thread hop
for the whole throttle phase. (Django's own Redis and memcached backends only
wrap their sync methods with ``sync_to_async``: calling ``aadd`` then ``aincr``
would cost two hidden hops instead of one counted one.)
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from rest_framework import throttling as drf_throttling
from rest_framework.request import Request
from typing_extensions import override

from restflow._bridge import Flow, Step, call_step, drive_async, drive_sync, per_class
from restflow.protocols import AsyncBaseThrottle

if TYPE_CHECKING:
    from rest_framework.views import APIView

__all__ = [
    "AnonRateThrottle",
    "ScopedRateThrottle",
    "SimpleRateThrottle",
    "UserRateThrottle",
]

T = TypeVar("T")

#: Attempts to open or count a window before giving up (and throttling): a
#: counter can expire, or be evicted, between ``add`` and ``incr``.
_ATTEMPTS = 3


class _Access(enum.Enum):
    """How the throttle flow calls a cache backend."""

    #: in-process memory, no I/O: called on the event loop
    INLINE = "inline"
    #: the backend implements Django's async cache methods itself: awaited
    NATIVE = "native"
    #: sync I/O (Django's async methods would only wrap it): a worker thread
    BLOCKING = "blocking"


_OPERATIONS = ("add", "get", "incr", "set")
_IN_MEMORY = frozenset({LocMemCache, DummyCache})


def _definer(cls: type, name: str) -> type:
    return next(klass for klass in cls.__mro__ if name in klass.__dict__)


@per_class
def _cache_access(backend: type) -> _Access:
    if all(_definer(backend, name) in _IN_MEMORY for name in _OPERATIONS):
        return _Access.INLINE
    if all(_definer(backend, f"a{name}") is not BaseCache for name in _OPERATIONS):
        return _Access.NATIVE
    return _Access.BLOCKING


def _cache_step(
    cache: BaseCache,
    fn: Callable[..., T],
    afn: Callable[..., Awaitable[T]],
    /,
    *args: Any,
) -> Step[T]:
    # ``django.core.cache.cache`` is a proxy object; a bound method of it is
    # bound to the real backend, whose class decides how to call it.
    backend = type(getattr(cache.add, "__self__", cache))
    access = _cache_access(backend)
    if access is _Access.INLINE:
        return Step.pure(fn, *args)
    if access is _Access.NATIVE:
        return Step.either(fn, afn, *args)
    return Step.blocking(fn, *args)


class SimpleRateThrottle(drf_throttling.SimpleRateThrottle, AsyncBaseThrottle):
    """DRF's ``SimpleRateThrottle`` with an atomic fixed-window counter.

    Subclass it as you would DRF's: set ``scope`` (or ``rate``) and override
    :meth:`get_cache_key`. A sync override of ``get_cache_key``,
    ``throttle_success`` or ``throttle_failure`` may do I/O: on async views it
    runs in a worker thread. See the module docstring for the window; DRF's
    ``history`` list is not kept.
    """

    #: The rate's request count and period in seconds (None: not throttled).
    num_requests: int | None
    duration: int | None
    #: The client's count in the current window, as of the last request.
    count: int = 0
    #: When the client's current window opened (``timer()`` time), if known.
    window_start: float | None = None
    #: The check as a flow, so it shares the request phase's worker-thread hop.
    flow_methods: ClassVar[Mapping[str, str]] = {"allow_request": "_allow_flow"}

    @override
    def allow_request(self, request: Request, view: APIView) -> bool:
        """True if the request is within the rate; counts it atomically."""
        return drive_sync(self._allow_flow(request, view))

    @override
    async def aallow_request(self, request: Request, view: APIView) -> bool:
        """Async twin of :meth:`allow_request`; the cache is used without blocking the loop."""
        return await drive_async(self._allow_flow(request, view))

    @override
    def throttle_success(self) -> bool:
        """Called when a request is let through; returns True.

        DRF's writes its history list here; restflow has already counted the
        request. Override to observe allowed requests.
        """
        return True

    @override
    def wait(self) -> float | None:
        """Seconds until a refused client may retry: the time left in its window.

        DRF turns it into the 429's ``Retry-After`` header and message, rounded
        up. None after an allowed request (see the module docstring).
        """
        if self.num_requests is None or self.duration is None or self.window_start is None:
            return None
        if self.count <= self.num_requests:
            return None
        return max(self.window_start + self.duration - self.now, 0.0)

    def _select_rate(self, view: APIView) -> bool:
        """Set the rate for ``view``; False if the view is not throttled by this class."""
        return True

    def _allow_flow(self, request: Request, view: APIView) -> Flow[bool]:
        if not self._select_rate(view) or self.num_requests is None or self.duration is None:
            return True
        self.key: str | None = yield call_step(
            self, "get_cache_key", "aget_cache_key", request, view
        )
        if self.key is None:
            return True
        self.now: float = self.timer()
        self.count, self.window_start = yield from self._count_flow(
            self.key, self.num_requests, self.duration
        )
        if self.count <= self.num_requests:
            return bool((yield call_step(self, "throttle_success", "athrottle_success")))
        return bool((yield call_step(self, "throttle_failure", "athrottle_failure")))

    def _count_flow(self, key: str, limit: int, duration: int) -> Flow[tuple[int, float | None]]:
        """Count this request in the client's window; return (count, window start).

        The start is read only when the request is refused (``wait()`` needs it).
        """
        cache = self.cache
        count_key, start_key = f"{key}:count", f"{key}:start"
        for _ in range(_ATTEMPTS):
            created = yield _cache_step(cache, cache.add, cache.aadd, count_key, 1, duration)
            if created:
                yield _cache_step(cache, cache.set, cache.aset, start_key, self.now, duration)
                return 1, self.now
            try:
                count: int = yield _cache_step(cache, cache.incr, cache.aincr, count_key)
            except ValueError:
                continue  # the window closed between add and incr: open the next one
            if count <= limit:
                return count, None
            start = yield _cache_step(cache, cache.get, cache.aget, start_key)
            # A missing start (not written yet, or evicted) means a full window to wait.
            return count, float(start) if isinstance(start, int | float) else self.now
        # The counter keeps vanishing (evicted as soon as written): fail closed.
        return limit + 1, self.now


class AnonRateThrottle(SimpleRateThrottle, drf_throttling.AnonRateThrottle):
    """DRF's ``AnonRateThrottle``: limits anonymous clients by IP (``scope = "anon"``).

    Authenticated requests are not throttled by this class.
    """


class UserRateThrottle(SimpleRateThrottle, drf_throttling.UserRateThrottle):
    """DRF's ``UserRateThrottle``: limits each user, or each IP when anonymous
    (``scope = "user"``)."""


class ScopedRateThrottle(SimpleRateThrottle, drf_throttling.ScopedRateThrottle):
    """DRF's ``ScopedRateThrottle``: the rate of the view's ``throttle_scope``.

    Views without a ``throttle_scope`` are not throttled. The rate is looked up
    in ``THROTTLE_RATES`` when the view is known, as in DRF.
    """

    num_requests: int | None
    duration: int | None

    @override
    def _select_rate(self, view: APIView) -> bool:
        self.scope: str | None = getattr(view, self.scope_attr, None)
        if not self.scope:
            return False
        self.rate: str | None = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return True
