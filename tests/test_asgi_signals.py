"""``restflow.asgi`` sends Django's request signals without hops of their own.

Django's stock handler makes two thread hops per request for its own signal
receivers (``request_started`` before the view, ``response.close()`` after it).
``restflow.asgi`` runs Django's own receivers where they belong instead (the
thread's connection upkeep on the request's thread, in a hop the request makes
anyway; context-local resets on the loop) and keeps Django's exact way for any
receiver it does not know. These tests pin both halves, and that the client sees
exactly what Django's handler sends.
"""

from __future__ import annotations

import asyncio
import io
import logging
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.core import signals
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.handlers.asgi import ASGIHandler as DjangoASGIHandler
from django.core.handlers.asgi import ASGIRequest
from django.db import connection, connections
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    JsonResponse,
    StreamingHttpResponse,
)
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from restflow import asgi
from restflow.asgi import get_asgi_application
from restflow.views import AsyncAPIView
from tests._asgi import call, drained, exchange

pytestmark = [pytest.mark.urls(__name__)]

#: What the views and receivers saw, in order: (event, thread name).
log: list[tuple[str, str]] = []


def _note(event: str) -> None:
    log.append((event, threading.current_thread().name))


@pytest.fixture(autouse=True)
def _fresh_log() -> None:
    log.clear()


@pytest.fixture(autouse=True)
def _no_middleware(settings: Any) -> None:
    """No sync middleware: its hops would hide the ones counted here."""
    settings.MIDDLEWARE = []


# -- views ------------------------------------------------------------------------------------


async def json_view(request: HttpRequest) -> JsonResponse:
    _note("view")
    return JsonResponse({"ok": True})


class DRFView(AsyncAPIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    async def get(self, request: Request) -> Response:
        return Response({"drf": True}, headers={"X-Extra": "1"})


async def stream_view(request: HttpRequest) -> StreamingHttpResponse:
    async def parts() -> AsyncIterator[bytes]:
        for part in (b"a", b"b", b"c"):
            yield part

    return StreamingHttpResponse(parts(), content_type="text/plain")


class RecordingFile(io.BytesIO):
    """A file whose ``close()`` notes the thread it ran on."""

    def close(self) -> None:
        _note("file closed")
        super().close()


async def file_view(request: HttpRequest) -> FileResponse:
    return FileResponse(RecordingFile(b"file body"), content_type="text/plain")


async def failing_view(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("boom")


def _query_database() -> None:
    _note("query")
    User.objects.exists()


async def database_view(request: HttpRequest) -> JsonResponse:
    await sync_to_async(_query_database)()
    return JsonResponse({"thread": log[-1][1]})


class ClosingCache(LocMemCache):
    """A cache backend with a ``close()`` of its own (as memcached's has)."""

    def close(self, **kwargs: Any) -> None:
        _note("cache closed")


async def cache_view(request: HttpRequest) -> JsonResponse:
    await caches[request.GET["alias"]].aget("key")
    return JsonResponse({"ok": True})


urlpatterns = [
    path("json/", json_view),
    path("drf/", DRFView.as_view()),
    path("stream/", stream_view),
    path("file/", file_view),
    path("failing/", failing_view),
    path("database/", database_view),
    path("cache/", cache_view),
]


# -- the client sees what Django's handler sends ----------------------------------------------

#: FileResponse streams a sync file: Django warns when it serves one under ASGI.
_SYNC_FILE_STREAMED = pytest.mark.filterwarnings(
    "ignore:StreamingHttpResponse must consume synchronous iterators"
)


@_SYNC_FILE_STREAMED
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("url", "query"),
    [
        ("/json/", b""),
        ("/drf/", b""),
        ("/stream/", b""),
        ("/file/", b""),
        ("/missing/", b""),
        ("/failing/", b""),
        ("/json/", b"a=%FF"),
    ],
)
async def test_responses_match_djangos_handler(url: str, query: bytes) -> None:
    pooled = get_asgi_application()
    ours = await exchange(pooled, url, query=query)
    theirs = await exchange(DjangoASGIHandler(), url, query=query)
    assert (ours.status, ours.headers, ours.body) == (theirs.status, theirs.headers, theirs.body)
    assert ours.status in (200, 404, 500)
    await pooled.aclose()


# -- Django's own receivers: no hops of their own ---------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_an_all_async_request_makes_no_hop(hops: list[str]) -> None:
    app = get_asgi_application()
    for url in ("/json/", "/drf/"):
        status, _ = await call(app, url)
        assert status == 200
    assert hops == []
    assert not app.executors._idle[-1].used  # its thread never ran anything
    # Django's stock handler: request_started and response.close, in hops.
    await call(DjangoASGIHandler(), "/json/")
    assert len(hops) == 2
    await app.aclose()


@pytest.mark.django_db(transaction=True)
async def test_a_request_using_its_thread_makes_only_its_own_hops(hops: list[str]) -> None:
    app = get_asgi_application()
    await call(app, "/database/")
    assert hops == ["_query_database"]
    await app.aclose()


@pytest.mark.django_db(transaction=True)
async def test_conn_max_age_0_closes_only_connections_a_request_used(
    monkeypatch: pytest.MonkeyPatch, closes: list[str]
) -> None:
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)
    app = get_asgi_application()
    _, body = await call(app, "/database/")
    await drained(app)
    assert closes == [body["thread"]]
    await call(app, "/json/")  # never touches the thread: nothing to tidy there
    await drained(app)
    assert closes == [body["thread"]]
    await app.aclose()


def _expire_connection() -> None:
    connection.close_at = time.monotonic() - 1


@pytest.mark.django_db(transaction=True)
async def test_an_expired_connection_is_closed_before_the_next_request_uses_it(
    monkeypatch: pytest.MonkeyPatch, closes: list[str]
) -> None:
    # request_started's close_old_connections runs on the request's thread just
    # before the request's first work there, as Django runs it before the view.
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 60)
    app = get_asgi_application()
    await call(app, "/database/")
    await drained(app)
    assert closes == []  # persistent
    thread = app.executors._idle[-1]
    await asyncio.wrap_future(thread.submit(_expire_connection))
    closes_before_query: list[int] = []
    original_query = _query_database

    def recording_query() -> None:
        closes_before_query.append(len(closes))
        original_query()

    monkeypatch.setitem(globals(), "_query_database", recording_query)
    _, body = await call(app, "/database/")
    await drained(app)
    assert closes_before_query == [1]  # closed before the view's query...
    # ... on that thread (SQLite's in-memory test database ignores close(), so its
    # still-expired connection is closed again after the request: never elsewhere).
    assert set(closes) == {body["thread"]}
    await app.aclose()


@pytest.mark.django_db(transaction=True)
async def test_request_finished_upkeep_failure_is_logged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    app = get_asgi_application()
    await call(app, "/database/")  # warm: the thread exists
    wrapper = type(connections["default"])

    def failing(self: Any) -> None:
        if log and log[-1][0] == "query":
            raise RuntimeError("upkeep broke")

    monkeypatch.setattr(wrapper, "close_if_unusable_or_obsolete", failing)
    log.clear()  # so only the upkeep after the query fails, not the one before it
    with caplog.at_level(logging.ERROR, logger="restflow.asgi"):
        status, _ = await call(app, "/database/")
        await drained(app)
    assert status == 200  # the response was out before the upkeep ran
    assert [r.getMessage() for r in caplog.records] == [
        "Upkeep after a request failed on its thread"
    ]
    await app.aclose()


# -- other receivers: Django's way ------------------------------------------------------------


@pytest.fixture
def sync_receivers() -> Iterator[None]:
    def started(**kwargs: Any) -> None:
        _note("started")

    def finished(**kwargs: Any) -> None:
        _note("finished")

    signals.request_started.connect(started)
    signals.request_finished.connect(finished)
    yield
    signals.request_started.disconnect(started)
    signals.request_finished.disconnect(finished)


@pytest.mark.usefixtures("sync_receivers")
async def test_a_sync_receiver_of_your_own_runs_as_in_django(hops: list[str]) -> None:
    app = get_asgi_application()
    await call(app, "/json/")
    events = [event for event, _ in log]
    assert events == ["started", "view", "finished"]
    threads = {thread for event, thread in log if event != "view"}
    assert len(threads) == 1
    assert threads.pop().startswith("restflow-asgi")  # the request's own thread
    assert len(hops) == 2  # as Django's handler: one for each signal
    await app.aclose()


async def test_async_receivers_are_awaited_on_the_loop(hops: list[str]) -> None:
    scopes: list[str] = []

    async def started(*, scope: dict[str, Any], **kwargs: Any) -> None:
        scopes.append(scope["path"])
        _note("started")

    async def finished(**kwargs: Any) -> None:
        _note("finished")

    signals.request_started.connect(started)
    signals.request_finished.connect(finished)
    try:
        app = get_asgi_application()
        await call(app, "/json/")
    finally:
        signals.request_started.disconnect(started)
        signals.request_finished.disconnect(finished)
    loop_thread = threading.current_thread().name
    assert log == [("started", loop_thread), ("view", loop_thread), ("finished", loop_thread)]
    assert scopes == ["/json/"]
    assert hops == []
    await app.aclose()


@_SYNC_FILE_STREAMED
@pytest.mark.django_db(transaction=True)
async def test_a_response_with_resources_of_its_own_is_closed_on_the_requests_thread(
    hops: list[str],
) -> None:
    app = get_asgi_application()
    seen = await exchange(app, "/file/")
    assert seen.body == b"file body"
    [(event, thread)] = log
    assert event == "file closed"
    assert thread.startswith("restflow-asgi")
    assert hops[-1] == "HttpResponseBase.close"  # in a hop, as Django does it
    ours = len(hops)
    hops.clear()
    await exchange(DjangoASGIHandler(), "/file/")
    assert len(hops) == ours + 1  # Django's handler also hops for request_started
    await app.aclose()


async def test_a_cache_with_its_own_close_is_closed_as_django_does(
    settings: Any, hops: list[str]
) -> None:
    settings.CACHES = {
        **settings.CACHES,
        "closing": {"BACKEND": f"{__name__}.ClosingCache", "LOCATION": "closing"},
        "plain": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "p"},
    }
    app = get_asgi_application()
    hops.clear()
    await exchange(app, "/cache/", query=b"alias=plain")
    plain_hops = list(hops)
    hops.clear()
    await exchange(app, "/cache/", query=b"alias=closing")
    assert [event for event, _ in log] == ["cache closed"]
    assert log[0][1].startswith("restflow-asgi")
    # aget() is one hop either way; only the closing cache costs Django's close hop.
    assert len(hops) == len(plain_hops) + 1
    await app.aclose()


def test_only_a_bodys_close_runs_on_the_loop() -> None:
    plain = ASGIRequest({"type": "http", "method": "GET", "path": "/", "headers": []}, io.BytesIO())
    assert asgi._closes_on_loop(plain.close)
    body = encode_multipart(BOUNDARY, {"f": SimpleUploadedFile("f.txt", b"x")})
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "headers": [
            (b"content-type", MULTIPART_CONTENT.encode()),
            (b"content-length", str(len(body)).encode()),
        ],
    }
    upload = ASGIRequest(scope, io.BytesIO(body))
    assert list(upload.FILES) == ["f"]
    assert not asgi._closes_on_loop(upload.close)  # closing uploads deletes temporary files
    upload.close()
    assert not asgi._closes_on_loop(io.BytesIO().close)


async def test_a_django_without_the_receiver_split_gets_its_own_asend(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Only these two signals: the test's own settings fixture sends others.
    for signal, event in (
        (signals.request_started, "asend started"),
        (signals.request_finished, "asend finished"),
    ):
        monkeypatch.setattr(signal, "_live_receivers", _missing)
        monkeypatch.setattr(signal, "asend", _noting(event))
    app = get_asgi_application()
    status, _ = await call(app, "/json/")
    assert status == 200
    assert [event for event, _ in log] == ["asend started", "view", "asend finished"]
    await app.aclose()


def _missing(sender: Any) -> Any:
    raise AttributeError("_live_receivers")


def _noting(event: str) -> Any:
    async def asend(sender: Any, **named: Any) -> list[Any]:
        _note(event)  # Django's own asend would need the split this test removed
        return []

    return asend
