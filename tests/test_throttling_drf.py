"""DRF's own throttling tests, ported, run against DRF's classes and restflow's side by side.

Each case of DRF's ``tests/test_throttling.py`` (request counts with the ``timer``
patched, expiry, ``wait()`` values, ``Retry-After`` headers, scoped, anon and user
throttles, ``NUM_PROXIES``/``get_ident``, ``rate = None``, configuration errors) is one
test here, parametrised over three implementations: DRF's throttles on DRF's
``APIView`` (the reference), restflow's on restflow's sync ``APIView``, and restflow's on
``AsyncAPIView``. DRF's name ``BaseThrottle`` maps to restflow's ``AsyncBaseThrottle``.

Not ported: DRF's newer case for rates like ``"1/2-sec"``, which the installed DRF's
``parse_rate`` does not accept (restflow inherits ``parse_rate`` unchanged).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest
from asgiref.sync import async_to_sync, iscoroutinefunction
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponseBase
from rest_framework import throttling as drf_throttling
from rest_framework import views as drf_views
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.test import APIRequestFactory, force_authenticate

from restflow import throttling
from restflow.protocols import AsyncBaseThrottle
from restflow.views import APIView, AsyncAPIView
from tests._clock import Clock

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Impl:
    """One implementation of DRF's throttling names."""

    name: str
    throttles: ModuleType
    base_throttle: type[drf_throttling.BaseThrottle]
    view: type[drf_views.APIView]

    def throttle(self, name: str, **attrs: Any) -> Any:
        base: type[drf_throttling.BaseThrottle] = getattr(self.throttles, name)
        return type(f"Test{name}", (base,), attrs)

    def view_fn(self, *throttle_classes: type[Any], **attrs: Any) -> Callable[..., Any]:
        if issubclass(self.view, AsyncAPIView):

            async def aget(view: Any, request: Request) -> Response:
                return Response("foo")

            handler: Callable[..., Any] = aget
        else:

            def get(view: Any, request: Request) -> Response:
                return Response("foo")

            handler = get
        view: type[drf_views.APIView] = type(
            "ThrottledView",
            (self.view,),
            {"throttle_classes": throttle_classes, "get": handler, **attrs},
        )
        return view.as_view()


IMPLS = (
    Impl("drf", drf_throttling, drf_throttling.BaseThrottle, drf_views.APIView),
    Impl("restflow", throttling, AsyncBaseThrottle, APIView),
    Impl("restflow-async", throttling, AsyncBaseThrottle, AsyncAPIView),
)


@pytest.fixture(params=IMPLS, ids=[impl.name for impl in IMPLS])
def impl(request: pytest.FixtureRequest) -> Impl:
    chosen: Impl = request.param
    return chosen


@pytest.fixture
def clock() -> Clock:
    return Clock()


def call(view: Callable[..., Any], request: HttpRequest) -> HttpResponseBase:
    if iscoroutinefunction(view):
        response: HttpResponseBase = async_to_sync(view)(request)
        return response
    result: HttpResponseBase = view(request)
    return result


def get() -> HttpRequest:
    return APIRequestFactory().get("/")


def statuses(view: Callable[..., Any], request: HttpRequest, count: int) -> list[int]:
    return [call(view, request).status_code for _ in range(count)]


def retry_after(response: HttpResponseBase) -> str | None:
    return response.headers.get("Retry-After")


# --- ThrottlingTests -------------------------------------------------------------------------


@pytest.fixture
def per_second(impl: Impl, clock: Clock) -> Any:
    return impl.throttle("UserRateThrottle", rate="3/sec", scope="seconds", timer=clock)


@pytest.fixture
def per_minute(impl: Impl, clock: Clock) -> Any:
    return impl.throttle("UserRateThrottle", rate="3/min", scope="minutes", timer=clock)


@pytest.fixture
def six_per_minute(impl: Impl, clock: Clock) -> Any:
    return impl.throttle("UserRateThrottle", rate="6/min", scope="minutes", timer=clock)


def test_the_fourth_request_in_a_second_is_refused(impl: Impl, per_second: Any) -> None:
    assert statuses(impl.view_fn(per_second), get(), 4) == [200, 200, 200, 429]


def test_refusal_ends_when_the_duration_has_passed(
    impl: Impl, per_second: Any, clock: Clock
) -> None:
    view, request = impl.view_fn(per_second), get()
    assert statuses(view, request, 4)[-1] == 429
    clock.now = 1
    assert call(view, request).status_code == 200


def test_each_user_has_its_own_quota(impl: Impl, per_second: Any) -> None:
    view, request = impl.view_fn(per_second), get()
    request.user = User.objects.create(username="a")
    statuses(view, request, 3)
    request.user = User.objects.create(username="b")
    assert call(view, request).status_code == 200


def test_every_throttle_sees_every_request_even_once_refused(
    impl: Impl, per_second: Any, six_per_minute: Any, clock: Clock
) -> None:
    view, request = impl.view_fn(per_second, six_per_minute), get()
    responses = [call(view, request) for _ in range(4)]
    assert responses[-1].status_code == 429
    assert retry_after(responses[-1]) == "1"
    # Four requests so far, all counted by the per-minute throttle: two more pass a
    # second later, then it refuses until its oldest request is a minute old.
    clock.now = 1
    assert statuses(view, request, 2) == [200, 200]
    refused = call(view, request)
    assert (refused.status_code, retry_after(refused)) == (429, "59")
    clock.now = 2
    refused = call(view, request)
    assert (refused.status_code, retry_after(refused)) == (429, "58")


def test_the_longest_wait_wins_after_a_burst(
    impl: Impl, per_second: Any, six_per_minute: Any
) -> None:
    view, request = impl.view_fn(per_second, six_per_minute), get()
    responses = [call(view, request) for _ in range(24)]
    assert (responses[-1].status_code, retry_after(responses[-1])) == (429, "60")


@pytest.mark.parametrize(
    ("rate", "expected"),
    [("3/sec", [None, None, None, "1"]), ("3/min", [None, None, None, "60"])],
)
def test_retry_after_only_on_refusal(
    impl: Impl, clock: Clock, rate: str, expected: list[str | None]
) -> None:
    throttle = impl.throttle("UserRateThrottle", rate=rate, timer=clock)
    view, request = impl.view_fn(throttle), get()
    assert [retry_after(call(view, request)) for _ in expected] == expected


def test_a_client_keeping_to_the_rate_is_never_refused(
    impl: Impl, per_minute: Any, clock: Clock
) -> None:
    view, request = impl.view_fn(per_minute), get()
    seen = []
    for now in (0, 20, 40, 60, 80):
        clock.now = now
        response = call(view, request)
        seen.append((response.status_code, retry_after(response)))
    assert seen == [(200, None)] * 5


def test_a_throttle_without_a_wait_sends_no_retry_after(impl: Impl) -> None:
    def allow_request(self: Any, request: Request, view: Any) -> bool:
        owner: Any = type(self)
        first = not owner.called
        owner.called = True
        return first

    once: Any = type(
        "Once", (impl.base_throttle,), {"called": False, "allow_request": allow_request}
    )
    view, request = impl.view_fn(once), get()
    first, second = call(view, request), call(view, request)
    assert once.called
    assert (first.status_code, retry_after(first)) == (200, None)
    assert (second.status_code, retry_after(second)) == (429, None)


# --- ScopedRateThrottleTests -----------------------------------------------------------------


@pytest.fixture
def xy(impl: Impl, clock: Clock) -> Any:
    return impl.throttle(
        "ScopedRateThrottle", THROTTLE_RATES={"x": "3/min", "y": "1/min"}, timer=clock
    )


def test_each_scope_has_its_own_rate(impl: Impl, xy: Any, clock: Clock) -> None:
    x_view = impl.view_fn(xy, throttle_scope="x")
    y_view = impl.view_fn(xy, throttle_scope="y")
    request = get()

    def tick(view: Callable[..., Any], seconds: float = 1) -> int:
        clock.now += seconds
        return call(view, request).status_code

    assert [call(x_view, request).status_code] + [tick(x_view) for _ in range(3)] == [
        *[200] * 3,
        429,
    ]
    assert [tick(y_view), tick(y_view)] == [200, 429]
    # The rest of the minute: both quotas are back.
    clock.now += 55
    assert [call(x_view, request).status_code] + [tick(x_view) for _ in range(3)] == [
        *[200] * 3,
        429,
    ]
    assert [tick(y_view), tick(y_view)] == [200, 429]


def test_a_view_without_a_scope_is_not_throttled(impl: Impl, xy: Any, clock: Clock) -> None:
    view, request = impl.view_fn(xy), get()
    seen = []
    for _ in range(10):
        clock.now += 1
        seen.append(call(view, request).status_code)
    assert seen == [200] * 10


def test_scoped_cache_key_of_an_authenticated_user(impl: Impl) -> None:
    class DummyView:
        throttle_scope = "user"

    throttle = impl.throttles.ScopedRateThrottle()
    request = Request(HttpRequest())
    user = User.objects.create(username="test")
    force_authenticate(request, user)
    request.user = user
    throttle.allow_request(request, DummyView())
    assert throttle.get_cache_key(request, view=DummyView()) == f"throttle_user_{user.pk}"


# --- X-Forwarded-For and NUM_PROXIES ---------------------------------------------------------


@pytest.fixture
def one_a_day(impl: Impl, clock: Clock) -> Callable[..., Any]:
    throttle = impl.throttle("ScopedRateThrottle", THROTTLE_RATES={"test_limit": "1/day"})
    return impl.view_fn(throttle, throttle_scope="test_limit")


def forwarded(xff: str = "0.0.0.0, 1.1.1.1, 2.2.2.2") -> HttpRequest:
    # A new request each time: ``request.headers`` is cached once read.
    return APIRequestFactory().get("/some_uri", REMOTE_ADDR="3.3.3.3", HTTP_X_FORWARDED_FOR=xff)


@pytest.fixture
def num_proxies(monkeypatch: pytest.MonkeyPatch) -> Callable[[int | None], None]:
    def configure(count: int | None) -> None:
        monkeypatch.setattr(api_settings, "NUM_PROXIES", count)

    return configure


def test_under_the_limit_behind_no_proxy(
    one_a_day: Any, num_proxies: Callable[[int | None], None]
) -> None:
    num_proxies(0)
    assert call(one_a_day, forwarded()).status_code == 200


def test_over_the_limit_behind_no_proxy(
    one_a_day: Any, num_proxies: Callable[[int | None], None]
) -> None:
    num_proxies(0)
    call(one_a_day, forwarded())
    assert call(one_a_day, forwarded()).status_code == 429


@pytest.mark.parametrize(
    ("proxies", "second_xff", "second_status"),
    [
        # Spoofed addresses before the trusted proxies do not change the client.
        (1, "4.4.4.4, 5.5.5.5, 2.2.2.2", 429),
        (2, "4.4.4.4, 1.1.1.1, 2.2.2.2", 429),
        # A different client as seen by the trusted proxies is counted apart.
        (1, "0.0.0.0, 1.1.1.1, 7.7.7.7", 200),
        (2, "0.0.0.0, 7.7.7.7, 2.2.2.2", 200),
    ],
)
def test_the_client_is_the_address_the_trusted_proxies_saw(
    one_a_day: Any,
    num_proxies: Callable[[int | None], None],
    proxies: int,
    second_xff: str,
    second_status: int,
) -> None:
    num_proxies(proxies)
    call(one_a_day, forwarded())
    assert call(one_a_day, forwarded(second_xff)).status_code == second_status


@pytest.mark.parametrize("proxies", [None, 0, 1, 2, 5])
@pytest.mark.parametrize("xff", [None, "0.0.0.0, 1.1.1.1, 2.2.2.2", " 9.9.9.9 ,8.8.8.8"])
def test_get_ident_is_drfs(
    impl: Impl, num_proxies: Callable[[int | None], None], proxies: int | None, xff: str | None
) -> None:
    num_proxies(proxies)
    request = APIRequestFactory().get("/", REMOTE_ADDR="3.3.3.3")
    if xff is not None:
        request.META["HTTP_X_FORWARDED_FOR"] = xff
    ours = impl.throttles.AnonRateThrottle().get_ident(Request(request))
    assert ours == drf_throttling.AnonRateThrottle().get_ident(Request(request))


# --- BaseThrottle, SimpleRateThrottle, AnonRateThrottle -------------------------------------


def test_base_allow_request_must_be_overridden(impl: Impl) -> None:
    with pytest.raises(NotImplementedError):
        impl.base_throttle().allow_request(request={}, view={})  # type: ignore[arg-type]  # as DRF's test


@pytest.fixture
def anon_scoped(impl: Impl) -> Any:
    return impl.throttle("SimpleRateThrottle", scope="anon")


def test_get_rate_needs_a_scope(anon_scoped: Any) -> None:
    throttle = anon_scoped()
    throttle.scope = None
    with pytest.raises(ImproperlyConfigured):
        throttle.get_rate()


def test_a_scope_without_a_rate_is_a_configuration_error(impl: Impl) -> None:
    with pytest.raises(ImproperlyConfigured):
        impl.throttle("SimpleRateThrottle", scope="invalid scope")()


def test_parse_rate_of_none(anon_scoped: Any) -> None:
    assert anon_scoped().parse_rate(None) == (None, None)


def _error(parse: Callable[[], object]) -> type[Exception] | None:
    try:
        parse()
    except Exception as error:  # the type is what is compared
        return type(error)
    return None


@pytest.mark.parametrize("rate", ["abc", "3/x", "x/min", "3", "", "3/min/1"])
def test_parse_rate_refuses_what_drf_refuses(anon_scoped: Any, rate: str) -> None:
    expected = _error(lambda: drf_throttling.SimpleRateThrottle.parse_rate(anon_scoped(), rate))
    assert expected in {ValueError, KeyError}
    assert _error(lambda: anon_scoped().parse_rate(rate)) is expected


def test_allow_request_without_a_rate(anon_scoped: Any) -> None:
    assert anon_scoped().allow_request(request={}, view={}) is True


def test_get_cache_key_must_be_overridden(anon_scoped: Any) -> None:
    with pytest.raises(NotImplementedError):
        anon_scoped().get_cache_key({}, {})


def test_allow_request_without_a_key(anon_scoped: Any) -> None:
    throttle = anon_scoped()
    throttle.rate = "some rate"
    throttle.get_cache_key = lambda *args: None
    assert throttle.allow_request(request={}, view={}) is True


def test_wait_without_history(anon_scoped: Any) -> None:
    throttle = anon_scoped()
    throttle.num_requests, throttle.duration, throttle.history = 1, 60, []
    waiting = throttle.wait()
    assert isinstance(waiting, float)
    assert waiting == 30.0


def test_wait_is_none_without_available_requests(anon_scoped: Any) -> None:
    throttle = anon_scoped()
    throttle.num_requests, throttle.duration = 1, 60
    throttle.now = throttle.timer()
    throttle.history = [throttle.timer() for _ in range(3)]
    assert throttle.wait() is None


def test_anon_throttle_skips_authenticated_users(impl: Impl) -> None:
    request = Request(HttpRequest())
    user = User.objects.create(username="test")
    force_authenticate(request, user)
    request.user = user
    assert impl.throttles.AnonRateThrottle().get_cache_key(request, view={}) is None


def test_anon_cache_key(impl: Impl) -> None:
    request = Request(HttpRequest())
    assert impl.throttles.AnonRateThrottle().get_cache_key(request, view={}) == (
        "throttle_anon_None"
    )


# --- wait() after every request, against DRF's ----------------------------------------------


def _waits(
    throttle_class: Any, clock: Clock, times: Iterator[float]
) -> list[tuple[bool, Any, list[Any]]]:
    cache.clear()
    request = Request(APIRequestFactory().get("/", REMOTE_ADDR="5.5.5.5"))
    seen = []
    for now in times:
        clock.now = now
        throttle = throttle_class()
        allowed = throttle.allow_request(request, None)
        seen.append((allowed, throttle.wait(), list(throttle.history)))
    return seen


@pytest.mark.parametrize("rate", ["1/sec", "3/min", "5/hour"])
def test_allow_wait_and_history_match_drf_request_by_request(
    impl: Impl, clock: Clock, rate: str
) -> None:
    times = [0, 0, 0.5, 0.99, 1, 1.5, 2, 20, 20, 21, 40, 59.9, 60, 61, 80, 3599, 3600, 3601, 7300]
    ours = impl.throttle("AnonRateThrottle", rate=rate, timer=clock)
    drf = type("DRFAnon", (drf_throttling.AnonRateThrottle,), {"rate": rate, "timer": clock})
    expected = _waits(drf, clock, iter(times))
    assert _waits(ours, clock, iter(times)) == expected
