"""The sliding request log behind restflow's rate throttles: one atomic check per request.

A check is given the throttle's clock reading ``now`` (its ``timer()``, as in DRF),
the rate's ``limit`` and ``duration``, and answers whether the request passes and which
earlier requests are still in the window (DRF's ``history``). It is atomic per key:

- on Django's ``RedisCache``, one Lua script does the whole check on the server (trim,
  count, add, expiry) through the cache's own client and connection pool;
- on any other cache, a lock held around ``get`` and ``set`` makes the check atomic among
  the threads and tasks of one process (the local-memory cache is per process anyway).

Timestamps are kept ``2 * duration`` (the key expires then too): requests are counted by
their timestamp, and a request whose clock reading reaches the store late (another process
ran its check in between) still sees every request of its own window.
"""

from __future__ import annotations

import asyncio
import math
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.redis import RedisCache

__all__ = ["LOG_SUFFIX", "Check", "acheck_locked", "check_locked", "check_redis", "slide"]

#: Appended to the throttle's cache key: DRF's own throttles, which may share the cache,
#: keep their (non-atomic) list under the plain key, and on Redis the log is a sorted set.
LOG_SUFFIX = ":log"


@dataclass(frozen=True, slots=True)
class Check:
    """The outcome of one check."""

    #: True if the request is within the rate (it has been recorded).
    allowed: bool
    #: The earlier requests still in the window, newest first (DRF's ``history``).
    history: list[float]


def slide(
    stored: Sequence[float], now: float, limit: int, duration: int
) -> tuple[Check, list[float] | None]:
    """Check a request against the log ``stored``; return the check and the log to store.

    The log to store is None when nothing needs writing (the request was refused).
    """
    kept = [stamp for stamp in stored if stamp > now - 2 * duration]
    history = sorted((stamp for stamp in kept if stamp > now - duration), reverse=True)
    if len(history) >= limit:
        return Check(False, history), None
    return Check(True, history), sorted([now, *kept], reverse=True)


def _stamps(value: Any) -> list[float]:
    # Anything but a list of numbers (a foreign value under the key) counts as empty.
    if not isinstance(value, list):
        return []
    return [float(stamp) for stamp in value if isinstance(stamp, int | float)]


# --- any cache: a lock around get and set --------------------------------------------------

_STRIPES = 64
#: In-memory caches never wait for I/O while holding one of these, so the event loop may
#: take them; other backends have their own stripes.
_MEMORY_LOCKS = tuple(threading.Lock() for _ in range(_STRIPES))
_IO_LOCKS = tuple(threading.Lock() for _ in range(_STRIPES))


def _lock(key: str, *, in_memory: bool) -> threading.Lock:
    locks = _MEMORY_LOCKS if in_memory else _IO_LOCKS
    return locks[hash(key) % _STRIPES]


def check_locked(
    cache: BaseCache, key: str, now: float, limit: int, duration: int, *, in_memory: bool
) -> Check:
    """The check with ``cache.get`` and ``cache.set`` under this process's lock for ``key``."""
    with _lock(key, in_memory=in_memory):
        check, log = slide(_stamps(cache.get(key)), now, limit, duration)
        if log is not None:
            cache.set(key, log, 2 * duration)
        return check


async def acheck_locked(
    cache: BaseCache, key: str, now: float, limit: int, duration: int, *, in_memory: bool
) -> Check:
    """:func:`check_locked` with the cache's own async methods, never blocking the loop.

    The lock is shared with the sync face (threads), so it is taken by polling. The
    cache's ``aget``/``aset`` must not wait for Django's thread-sensitive executor (a
    thread may be waiting there for this lock): that is what native async means.
    """
    lock = _lock(key, in_memory=in_memory)
    delay = 0.0
    while not lock.acquire(blocking=False):
        await asyncio.sleep(delay)
        delay = min(delay * 2 or 0.0001, 0.005)
    try:
        check, log = slide(_stamps(await cache.aget(key)), now, limit, duration)
        if log is not None:
            await cache.aset(key, log, 2 * duration)
        return check
    finally:
        lock.release()


# --- Redis: one script on the server ------------------------------------------------------

#: KEYS[1]: the log (a sorted set of request ids scored by timestamp).
#: ARGV: now, now - duration, now - 2 * duration, limit, expiry in ms, a fresh request id.
#: Returns {1 if allowed else 0, {id, timestamp, ...} of the requests in the window}.
_SCRIPT = b"""
local key = KEYS[1]
local kind = redis.call('TYPE', key)['ok']
if kind ~= 'zset' and kind ~= 'none' then
  redis.call('DEL', key)
end
redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[3])
local window = redis.call('ZRANGEBYSCORE', key, '(' .. ARGV[2], '+inf', 'WITHSCORES')
local allowed = 0
if #window / 2 < tonumber(ARGV[4]) then
  redis.call('ZADD', key, ARGV[1], ARGV[6])
  allowed = 1
end
redis.call('PEXPIRE', key, ARGV[5])
return {allowed, window}
"""

_script_lock = threading.Lock()
_script: Any = None


def _redis_script() -> Any:
    global _script
    with _script_lock:
        if _script is None:
            from redis.commands.core import Script

            # Bytes, so no client is needed to encode it; the client is given per call.
            _script = Script(None, _SCRIPT)  # type: ignore[arg-type]  # redis-py types a registered client; a bytes script needs none
        return _script


def check_redis(cache: BaseCache, key: str, now: float, limit: int, duration: int) -> Check:
    """The check as one Lua script, sent through ``cache``'s own client and pool.

    ``cache`` is Django's ``RedisCache`` (or the ``django.core.cache.cache`` proxy to
    one); the key is made by the cache (``KEY_PREFIX``, ``VERSION``, ``KEY_FUNCTION``).
    """
    backend = getattr(cache.get, "__self__", cache)
    if not isinstance(backend, RedisCache):
        raise TypeError(f"{type(backend).__name__} is not Django's RedisCache.")
    made = backend.make_and_validate_key(key)
    client = backend._cache.get_client(made, write=True)
    allowed, window = _redis_script()(
        keys=[made],
        args=[
            repr(now),
            repr(now - duration),
            repr(now - 2 * duration),
            limit,
            math.ceil(2 * duration * 1000),
            uuid.uuid4().hex,
        ],
        client=client,
    )
    history = sorted((float(stamp) for stamp in window[1::2]), reverse=True)
    return Check(bool(allowed), history)
