"""Rate throttles: DRF's anon, user and scoped throttles with an atomic sliding window.

Each class subclasses DRF's class of the same name: rates, scopes, ``THROTTLE_RATES``,
``cache_format``/``get_cache_key``, ``get_ident``/``NUM_PROXIES``, ``rate = None``,
``timer``, ``history``, ``wait()`` and the 429 ``Retry-After`` header are DRF's. What
differs is that the check is atomic (one Lua script on Redis, a lock per key
elsewhere): how, and what it costs on async views, is in ``docs/internals.md``.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from rest_framework import throttling as drf_throttling
from rest_framework.request import Request
from typing_extensions import override

from restflow import _hooks as hooks
from restflow._bridge import Flow, Step, call_step, drive_async, drive_sync
from restflow._hooks import Hook
from restflow._introspect import definer, per_class, user_sync_code
from restflow._sliding import LOG_SUFFIX, Check, acheck_locked, check_locked, check_redis
from restflow.protocols import AsyncBaseThrottle

if TYPE_CHECKING:
    from rest_framework.views import APIView

__all__ = [
    "AnonRateThrottle",
    "ScopedRateThrottle",
    "SimpleRateThrottle",
    "UserRateThrottle",
]


class _Access(enum.Enum):
    """How the throttle flow calls a cache backend."""

    #: in-process memory, no I/O: called on the event loop
    INLINE = "inline"
    #: the backend implements Django's async cache methods itself: awaited
    NATIVE = "native"
    #: sync I/O (Django's async methods would only wrap it): a worker thread
    BLOCKING = "blocking"
    #: Django's RedisCache: one server-side script, sync I/O: a worker thread
    SCRIPT = "script"


_OPERATIONS = ("get", "set")
#: Django's async twins of those (``BaseCache``'s only wrap the sync ones).
_ASYNC_OPERATIONS = ("aget", "aset")
_IN_MEMORY = frozenset({LocMemCache, DummyCache})


@per_class
def _cache_access(backend: type) -> _Access:
    if issubclass(backend, RedisCache):
        return _Access.SCRIPT
    if all(definer(backend, name) in _IN_MEMORY for name in _OPERATIONS):
        return _Access.INLINE
    if all(definer(backend, name) is not BaseCache for name in _ASYNC_OPERATIONS):
        return _Access.NATIVE
    return _Access.BLOCKING


def _check_step(cache: BaseCache, key: str, now: float, limit: int, duration: int) -> Step[Check]:
    # ``django.core.cache.cache`` is a proxy object; a bound method of it is
    # bound to the real backend, whose class decides how to call it.
    access = _cache_access(type(getattr(cache.get, "__self__", cache)))
    if access is _Access.SCRIPT:
        return Step.blocking(check_redis, cache, key, now, limit, duration)
    if access is _Access.INLINE:
        return Step.pure(check_locked, cache, key, now, limit, duration, in_memory=True)
    if access is _Access.NATIVE:
        return Step.either(
            check_locked, acheck_locked, cache, key, now, limit, duration, in_memory=False
        )
    return Step.blocking(check_locked, cache, key, now, limit, duration, in_memory=False)


#: Longest key kept as it is: memcached refuses keys over 250 bytes with prefix and version.
_MAX_PLAIN_KEY = 200


def _storable(key: str) -> str:
    """``key``, or a digest of it where a cache backend would refuse or warn about it.

    The identity in a throttle key comes from the client (``X-Forwarded-For`` under
    ``NUM_PROXIES``): spaces, control characters or a few kilobytes of it must not make the
    cache (memcached) fail the request.
    """
    if len(key) <= _MAX_PLAIN_KEY and key.isascii() and key.isprintable() and " " not in key:
        return key
    return "throttle_digest_" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class SimpleRateThrottle(drf_throttling.SimpleRateThrottle, AsyncBaseThrottle):
    """DRF's ``SimpleRateThrottle`` with an atomic sliding-window check.

    Subclass it as you would DRF's: set ``scope`` (or ``rate``) and override
    :meth:`get_cache_key`. A sync override of ``get_cache_key``,
    ``throttle_success`` or ``throttle_failure`` may do I/O: on async views it
    runs in a worker thread.
    """

    #: The rate's request count and period in seconds (None: not throttled).
    num_requests: int | None
    duration: int | None
    #: The check as a flow, so it shares the request phase's worker-thread hop.
    flow_methods: ClassVar[Mapping[Hook, str]] = {hooks.ALLOW_REQUEST: "_allow_flow"}

    @override
    def allow_request(self, request: Request, view: APIView) -> bool:
        """True if the request is within the rate; records it atomically."""
        return drive_sync(self._allow_flow(request, view))

    @override
    async def aallow_request(self, request: Request, view: APIView) -> bool:
        """Async twin of :meth:`allow_request`; the cache is used without blocking the loop."""
        return await drive_async(self._allow_flow(request, view))

    @override
    def throttle_success(self) -> bool:
        """Called when a request is let through; adds it to ``history`` and returns True.

        DRF's also writes the history to the cache; restflow has already recorded the
        request atomically. Override to observe allowed requests.
        """
        self.history.insert(0, self.now)
        return True

    # ``wait()`` is DRF's: the time until the oldest request in ``history`` leaves the
    # window, spread over the requests still available.

    def _select_rate(self, view: APIView) -> bool:
        """Set the rate for ``view``; False if the view is not throttled by this class."""
        return True

    def _allow_flow(self, request: Request, view: APIView) -> Flow[bool]:
        if not self._select_rate(view) or self.rate is None:
            return True
        step = call_step(self, hooks.GET_CACHE_KEY, request, view)
        if step.inline and user_sync_code(type(self), hooks.GET_IDENT):
            # The default ``get_cache_key`` calls the user's ``get_ident``: off the loop.
            step = Step.blocking(self.get_cache_key, request, view)
        self.key: str | None = yield step
        if self.key is None:
            return True
        if self.num_requests is None or self.duration is None:
            # ``rate`` was set after ``__init__`` parsed it.
            self.num_requests, self.duration = self.parse_rate(self.rate)
        limit, duration = self.num_requests, self.duration
        if limit is None or duration is None:
            return True  # a ``parse_rate`` override read the rate as "not throttled"
        self.now: float = self.timer()
        check: Check = yield _check_step(
            self.cache, _storable(self.key) + LOG_SUFFIX, self.now, limit, duration
        )
        self.history: list[Any] = check.history
        if check.allowed:
            return bool((yield call_step(self, hooks.THROTTLE_SUCCESS)))
        return bool((yield call_step(self, hooks.THROTTLE_FAILURE)))


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
