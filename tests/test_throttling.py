"""restflow's rate throttles: DRF's answers, atomic counting, and no hop on the loop.

Runs with either cache backend of the suite (``RESTFLOW_TEST_CACHE=locmem|redis``).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache.backends.base import BaseCache, InvalidCacheKey, memcache_key_warnings
from django.core.cache.backends.locmem import LocMemCache
from django.test import AsyncClient, override_settings
from django.urls import URLPattern, path
from rest_framework import throttling as drf_throttling
from rest_framework import views as drf_views
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIClient, APIRequestFactory

from restflow import throttling
from restflow.test import hop_count
from restflow.views import APIView, AsyncAPIView
from tests._clients import CLIENTS, outcome, send
from tests._clock import Clock

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]


CLOCK = Clock(1000.0)


@pytest.fixture(autouse=True)
def _reset_clock() -> None:
    CLOCK.now = 1000.0


class ThreeAnon(throttling.AnonRateThrottle):
    rate = "3/min"
    timer = CLOCK


class ThreeUser(throttling.UserRateThrottle):
    rate = "3/min"
    timer = CLOCK


class Scoped(throttling.ScopedRateThrottle):
    THROTTLE_RATES = {"burst": "2/min", "open": None}
    timer = CLOCK


class InterleavingCache(LocMemCache):
    """Local memory that lets other requests run right after every call.

    A throttle that reads then writes (DRF's ``get`` + ``set``) lets a burst through with
    it; an atomic one does not. It has async methods of its own, so restflow awaits them.
    """

    def get(self, *args: Any, **kwargs: Any) -> Any:
        return _yield_thread(super().get(*args, **kwargs))

    def set(self, *args: Any, **kwargs: Any) -> None:
        super().set(*args, **kwargs)
        _yield_thread(None)

    async def aget(self, *args: Any, **kwargs: Any) -> Any:
        return await _yield_task(LocMemCache.get(self, *args, **kwargs))

    async def aset(self, *args: Any, **kwargs: Any) -> None:
        LocMemCache.set(self, *args, **kwargs)
        await _yield_task(None)


T = TypeVar("T")


def _yield_thread(value: T) -> T:
    time.sleep(0.001)
    return value


async def _yield_task(value: T) -> T:
    await asyncio.sleep(0)
    return value


INTERLEAVING = InterleavingCache("restflow-tests-interleaving", {})


class TenAnon(throttling.AnonRateThrottle):
    rate = "10/min"


class TenAnonInterleaved(TenAnon):
    cache = INTERLEAVING


class UnlimitedAnon(throttling.AnonRateThrottle):
    THROTTLE_RATES = {"anon": None}


class PerPathAnon(throttling.AnonRateThrottle):
    """A user override of the sync ``get_cache_key``: one quota per path."""

    rate = "1/min"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        return f"throttle_path_{request.path}"


class DRFThreeAnon(drf_throttling.AnonRateThrottle):
    rate = "3/min"
    timer = CLOCK


OPEN: dict[str, Any] = {"authentication_classes": [], "permission_classes": [AllowAny]}


class SyncView(APIView):
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response({"ok": True})


class AsyncView(AsyncAPIView):
    async def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response({"ok": True})


class DRFView(drf_views.APIView):
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response({"ok": True})


VIEWS: dict[str, type[drf_views.APIView]] = {"sync": SyncView, "async": AsyncView}


def _route(name: str, view: type[drf_views.APIView], **attrs: Any) -> URLPattern:
    configured: type[drf_views.APIView] = type(
        view.__name__, (view,), {"__module__": __name__, **attrs}
    )
    return path(f"{name}/", configured.as_view())


urlpatterns = [
    *(
        _route(f"{kind}/{name}", view, **attrs)
        for kind, view in VIEWS.items()
        for name, attrs in {
            "anon": {**OPEN, "throttle_classes": [ThreeAnon]},
            "user": {"permission_classes": [AllowAny], "throttle_classes": [ThreeUser]},
            "burst": {**OPEN, "throttle_classes": [Scoped], "throttle_scope": "burst"},
            "open-scope": {**OPEN, "throttle_classes": [Scoped], "throttle_scope": "open"},
            "no-scope": {**OPEN, "throttle_classes": [Scoped]},
            "ten": {**OPEN, "throttle_classes": [TenAnon]},
            "ten-interleaved": {**OPEN, "throttle_classes": [TenAnonInterleaved]},
            "unlimited": {**OPEN, "throttle_classes": [UnlimitedAnon]},
            "per-path/a": {**OPEN, "throttle_classes": [PerPathAnon]},
            "per-path/b": {**OPEN, "throttle_classes": [PerPathAnon]},
        }.items()
    ),
    _route("drf/anon", DRFView, **OPEN, throttle_classes=[DRFThreeAnon]),
]

KINDS = tuple(VIEWS)
THROTTLED = {
    "detail": "Request was throttled. Expected available in 60 seconds.",
}


def _statuses(client: str, url: str, count: int) -> list[int]:
    return [send(client, "get", url).status_code for _ in range(count)]


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("kind", KINDS)
def test_rate_is_enforced_with_drf_429(kind: str, client: str) -> None:
    assert _statuses(client, f"/{kind}/anon/", 3) == [200, 200, 200]
    response = send(client, "get", f"/{kind}/anon/")
    assert outcome(response)[:2] == (429, THROTTLED)
    assert response.headers["Retry-After"] == "60"


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("kind", KINDS)
def test_same_answers_as_drf_side_by_side(kind: str, client: str) -> None:
    ours = [outcome(send(client, "get", f"/{kind}/anon/")) for _ in range(5)]
    drf = [outcome(send(client, "get", "/drf/anon/")) for _ in range(5)]
    assert ours == drf
    assert [status for status, _, _ in ours] == [200, 200, 200, 429, 429]


@pytest.mark.parametrize("kind", KINDS)
def test_retry_after_is_the_time_left_in_the_window_rounded_up(kind: str) -> None:
    assert _statuses("api", f"/{kind}/anon/", 3) == [200, 200, 200]
    CLOCK.now += 44.5
    response = send("api", "get", f"/{kind}/anon/")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "16"
    assert response.data == {"detail": "Request was throttled. Expected available in 16 seconds."}


@pytest.mark.parametrize("kind", KINDS)
def test_each_request_leaves_the_window_a_duration_after_it_was_made(kind: str) -> None:
    assert _statuses("api", f"/{kind}/anon/", 1) == [200]
    CLOCK.now += 30
    assert _statuses("api", f"/{kind}/anon/", 3) == [200, 200, 429]
    # The first request leaves the window: one more passes, not a whole new quota.
    CLOCK.now += 30
    assert _statuses("api", f"/{kind}/anon/", 2) == [200, 429]
    # A whole duration after the last request, the whole quota is back.
    CLOCK.now += 60
    assert _statuses("api", f"/{kind}/anon/", 4) == [200, 200, 200, 429]


@pytest.mark.parametrize("kind", KINDS)
def test_anon_throttle_ignores_authenticated_users(kind: str, user: User) -> None:
    client = APIClient()
    client.force_authenticate(user)
    assert [client.get(f"/{kind}/anon/").status_code for _ in range(5)] == [200] * 5


@pytest.mark.parametrize("kind", KINDS)
def test_user_throttle_counts_each_user_apart(kind: str, user: User) -> None:
    other = User.objects.create_user(username="bob", password="bob-password")
    alice, bob = APIClient(), APIClient()
    alice.force_authenticate(user)
    bob.force_authenticate(other)
    assert [alice.get(f"/{kind}/user/").status_code for _ in range(4)] == [200, 200, 200, 429]
    assert [bob.get(f"/{kind}/user/").status_code for _ in range(4)] == [200, 200, 200, 429]


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("kind", KINDS)
def test_scoped_throttle_uses_the_view_scope(kind: str, client: str) -> None:
    assert _statuses(client, f"/{kind}/burst/", 3) == [200, 200, 429]
    assert _statuses(client, f"/{kind}/no-scope/", 4) == [200] * 4
    assert _statuses(client, f"/{kind}/open-scope/", 4) == [200] * 4


@pytest.mark.parametrize("kind", KINDS)
def test_none_rate_means_no_throttling(kind: str) -> None:
    assert _statuses("api", f"/{kind}/unlimited/", 5) == [200] * 5


@pytest.mark.parametrize("kind", KINDS)
def test_sync_get_cache_key_override_is_honoured(kind: str) -> None:
    assert _statuses("api", f"/{kind}/per-path/a/", 2) == [200, 429]
    assert _statuses("api", f"/{kind}/per-path/b/", 2) == [200, 429]


def test_wait_after_allowed_requests_is_drfs() -> None:
    ours, drf = ThreeAnon(), DRFThreeAnon()
    request = Request(APIRequestFactory().get("/"))
    waits = []
    for throttle in (ours, drf):
        assert throttle.allow_request(request, SyncView())
        CLOCK.now += 10
        assert throttle.allow_request(request, SyncView())
        waits.append(throttle.wait())
        CLOCK.now = 1000.0
    # 50 s until the first request leaves the window, spread over the 2 requests left.
    assert waits == [25.0, 25.0]


@pytest.fixture(autouse=True)
def _clear_interleaving_cache() -> None:
    INTERLEAVING.clear()


#: ``ten`` counts in the suite's cache (locmem or Redis); ``ten-interleaved`` in a cache
#: that switches to another request between any two calls.
CONCURRENT = ("ten", "ten-interleaved")


@pytest.mark.parametrize("endpoint", CONCURRENT)
async def test_concurrent_requests_pass_exactly_the_rate_on_an_async_view(endpoint: str) -> None:
    client = AsyncClient()
    responses = await asyncio.gather(*(client.get(f"/async/{endpoint}/") for _ in range(30)))
    statuses = [response.status_code for response in responses]
    assert statuses.count(200) == 10
    assert statuses.count(429) == 20


@pytest.mark.parametrize("endpoint", CONCURRENT)
def test_concurrent_requests_pass_exactly_the_rate_on_a_sync_view(endpoint: str) -> None:
    def status(_: int) -> int:
        return APIClient().get(f"/sync/{endpoint}/").status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(status, range(30)))
    assert statuses.count(200) == 10
    assert statuses.count(429) == 20


@pytest.fixture
def no_cache_wrappers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail if the throttle calls Django's ``sync_to_async`` cache wrappers (hidden hops)."""

    def hidden_hop(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a BaseCache async wrapper (a hidden worker-thread hop) was used")

    for name in ("aadd", "aget", "aincr", "aset"):
        monkeypatch.setattr(BaseCache, name, hidden_hop)


#: Hops of the throttle phase: none with the in-process cache; Django's RedisCache is sync,
#: so its calls share one worker-thread hop.
THROTTLE_HOPS = {"locmem": 0, "redis": 1}[settings.TEST_CACHE]


@pytest.mark.usefixtures("no_cache_wrappers")
async def test_throttle_phase_hops_on_an_async_view() -> None:
    client = AsyncClient()
    for expected_status in (200, 200, 200, 429):
        before = hop_count()
        response = await client.get("/async/anon/")
        assert response.status_code == expected_status
        assert hop_count() - before == THROTTLE_HOPS


async def test_sync_get_cache_key_override_takes_one_hop() -> None:
    before = hop_count()
    response = await AsyncClient().get("/async/per-path/a/")
    assert response.status_code == 200
    assert hop_count() - before == 1


THREADS_CACHE = LocMemCache("restflow-tests-threads", {})


class TenAnonOwnMemory(TenAnon):
    cache = THREADS_CACHE


def test_the_local_memory_check_is_atomic_under_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    # Django's own local-memory cache, slowed between reading the log and writing it back:
    # threads that read the same log would all pass.
    THREADS_CACHE.clear()
    read = LocMemCache.get

    def slow_get(self: LocMemCache, *args: Any, **kwargs: Any) -> Any:
        return _yield_thread(read(self, *args, **kwargs))

    monkeypatch.setattr(LocMemCache, "get", slow_get)
    request = Request(APIRequestFactory().get("/"))

    def allowed(_: int) -> bool:
        return TenAnonOwnMemory().allow_request(request, SyncView())

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(allowed, range(30)))
    assert results.count(True) == 10


class StrictKeys(LocMemCache):
    """A local-memory cache that refuses what memcached refuses (long keys, spaces)."""

    def validate_key(self, key: str) -> None:
        for warning in memcache_key_warnings(key):
            raise InvalidCacheKey(warning)


HOSTILE_FORWARDS = ["10.0.0.1 10.0.0.2", "a\tb", "x" * 600, "caf\u00e9 x"]


@pytest.mark.parametrize("forwarded", HOSTILE_FORWARDS)
@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("kind", KINDS)
def test_a_hostile_client_address_never_breaks_the_cache(
    kind: str, client: str, forwarded: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Under NUM_PROXIES the identity is the client's own text: memcached would refuse it.
    strict = StrictKeys(f"strict-throttle-{uuid.uuid4()}", {})  # storage of its own
    monkeypatch.setattr(ThreeAnon, "cache", strict)
    headers = {"X-Forwarded-For": forwarded}
    with override_settings(REST_FRAMEWORK={"NUM_PROXIES": 1}):
        statuses = [send(client, "get", f"/{kind}/anon/", headers=headers) for _ in range(4)]
    assert [response.status_code for response in statuses] == [200, 200, 200, 429]
