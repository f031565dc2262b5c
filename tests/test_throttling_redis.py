"""restflow's throttles on Django's ``RedisCache``: one script per check, and keys that expire.

Django's ``RedisCache.incr`` is two commands (``EXISTS``, then ``INCR``): a counter that
expires between them is recreated by ``INCR`` without an expiry, and its client is refused
for good. restflow checks a request with one Lua script that sets the expiry itself. These
tests expire the key before each command a check sends (the old race, at every boundary),
and read every key's TTL after every check across several windows.

Runs in the Redis configuration (``RESTFLOW_TEST_CACHE=redis``, CI section 2).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from restflow import throttling
from tests._clock import Clock

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(
        settings.TEST_CACHE != "redis",
        reason="needs Redis: runs with RESTFLOW_TEST_CACHE=redis (CI section 2)",
    ),
]

LOCATION = "redis://127.0.0.1:6379/0"


@pytest.fixture
def clock() -> Clock:
    return Clock(1000.0)


@pytest.fixture
def raw() -> Iterator[Any]:
    """A separate client for looking at the server (not the one under test)."""
    import redis

    client = redis.Redis.from_url(LOCATION)
    yield client
    client.close()


def _request() -> Request:
    return Request(APIRequestFactory().get("/", REMOTE_ADDR="5.5.5.5"))


def _throttle(clock: Clock, rate: str = "3/sec", **attrs: Any) -> Any:
    return type("Limit", (throttling.AnonRateThrottle,), {"rate": rate, "timer": clock, **attrs})


@pytest.fixture
def commands(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """(command, connection pool) of every command sent through the cache's client."""
    sent: list[tuple[str, Any]] = []
    original = RedisCacheClient.get_client

    def get_client(self: RedisCacheClient, key: Any = None, *, write: bool = False) -> Any:
        client = original(self, key, write=write)
        execute: Any = client.execute_command

        def recorded(*args: Any, **options: Any) -> Any:
            sent.append((str(args[0]).upper(), client.connection_pool))
            return execute(*args, **options)

        client.execute_command = recorded  # type: ignore[method-assign]  # a spy on this one client
        return client

    monkeypatch.setattr(RedisCacheClient, "get_client", get_client)
    return sent


def test_a_check_is_one_script_through_the_caches_own_pool(
    clock: Clock, commands: list[tuple[str, Any]]
) -> None:
    limit = _throttle(clock)
    assert limit().allow_request(_request(), None)  # loads the script if the server lacks it
    commands.clear()
    allowed = [limit().allow_request(_request(), None) for _ in range(4)]
    assert allowed == [True, True, False, False]
    assert [name for name, _ in commands] == ["EVALSHA"] * 4
    backend = getattr(cache.get, "__self__", cache)
    assert isinstance(backend, RedisCache)
    own_pool = backend._cache.get_client(None, write=True).connection_pool
    assert {id(pool) for _, pool in commands} == {id(own_pool)}


def test_the_key_is_made_by_the_cache(clock: Clock, raw: Any) -> None:
    prefixed = RedisCache(LOCATION, {"KEY_PREFIX": "restflow-throttle-test", "VERSION": 7})
    assert _throttle(clock, cache=prefixed)().allow_request(_request(), None)
    assert raw.exists("restflow-throttle-test:7:throttle_anon_5.5.5.5:log") == 1
    assert raw.exists(cache.make_key("throttle_anon_5.5.5.5:log")) == 0


def _ttls(raw: Any) -> dict[bytes, int]:
    return {key: raw.pttl(key) for key in raw.scan_iter(match="*throttle_anon_5.5.5.5*")}


@pytest.mark.parametrize("command", [1, 2, 3, 4])
def test_keys_keep_an_expiry_whatever_command_they_expire_before(
    clock: Clock, raw: Any, monkeypatch: pytest.MonkeyPatch, command: int
) -> None:
    sent = 0
    original = RedisCacheClient.get_client

    def get_client(self: RedisCacheClient, key: Any = None, *, write: bool = False) -> Any:
        client = original(self, key, write=write)
        execute: Any = client.execute_command

        def expiring(*args: Any, **options: Any) -> Any:
            nonlocal sent
            sent += 1
            if sent == command:
                # The cache expires the client's keys right before this command.
                for stale in raw.scan_iter(match="*throttle_anon_5.5.5.5*"):
                    raw.delete(stale)
            return execute(*args, **options)

        client.execute_command = expiring  # type: ignore[method-assign]  # an adversary for this one client
        return client

    monkeypatch.setattr(RedisCacheClient, "get_client", get_client)
    limit = _throttle(clock)
    for _ in range(12):
        sent = 0
        limit().allow_request(_request(), None)
        ttls = _ttls(raw)
        assert ttls, "the check left no key"
        assert all(ttl > 0 for ttl in ttls.values()), ttls
        clock.now += 0.25


def test_keys_keep_an_expiry_across_many_windows(clock: Clock, raw: Any) -> None:
    limit = _throttle(clock, rate="3/sec")
    passed = []
    for step in range(80):
        clock.now = 1000 + step * 0.1
        if limit().allow_request(_request(), None):
            passed.append(clock.now)
        ttls = _ttls(raw)
        assert ttls
        # Set by the script on every check: twice the duration, in milliseconds.
        assert all(0 < ttl <= 2000 for ttl in ttls.values()), ttls
    # Sliding: never more than 3 within any second, and the quota keeps coming back.
    assert all(sum(start <= t < start + 1 for t in passed) <= 3 for start in passed)
    assert len(passed) >= 3 * 7


def test_a_foreign_value_under_the_key_is_replaced(clock: Clock, raw: Any) -> None:
    key = cache.make_key("throttle_anon_5.5.5.5:log")
    raw.set(key, b"not a log")
    assert _throttle(clock)().allow_request(_request(), None)
    assert raw.type(key) == b"zset"
    assert raw.pttl(key) > 0
