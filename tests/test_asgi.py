"""``restflow.asgi``: Django's ASGI handler with pooled, reused request threads.

The handlers are driven directly with ASGI ``scope``/``receive``/``send`` by the tiny
client in ``tests/_asgi.py``; the signals' placement is tested in ``test_asgi_signals.py``.
"""

from __future__ import annotations

import asyncio
import contextvars
import gc
import threading
from collections.abc import Iterator, Mapping
from typing import IO, Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.core.handlers.asgi import ASGIHandler as DjangoASGIHandler
from django.db import connection, connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from restflow.asgi import ASGIHandler, ExecutorPool, get_asgi_application
from restflow.views import AsyncAPIView
from tests._asgi import App, call, drained

pytestmark = [pytest.mark.urls(__name__)]


# -- views --------------------------------------------------------------------------------


def _thread_name() -> str:
    return threading.current_thread().name


async def threads_view(request: HttpRequest) -> JsonResponse:
    """The threads this request's three thread-sensitive calls ran on."""
    names = []
    for _ in range(3):
        names.append(await sync_to_async(_thread_name)())
        await asyncio.sleep(0)
    return JsonResponse({"threads": names})


#: Set by a test: concurrent requests meet here while both are in flight.
gate: dict[str, Any] = {}


async def meeting_view(request: HttpRequest) -> JsonResponse:
    before = await sync_to_async(_thread_name)()
    await gate["barrier"].wait()
    after = await sync_to_async(_thread_name)()
    return JsonResponse({"threads": [before, after]})


async def held_view(request: HttpRequest) -> JsonResponse:
    """Wait until the test releases it (or the client hangs up)."""
    name = await sync_to_async(_thread_name)()
    gate["entered"].set()
    try:
        await gate["release"].wait()
    except asyncio.CancelledError:
        gate["cancelled"] = True
        raise
    return JsonResponse({"threads": [name]})


#: Raw DB-API connections seen by requests, kept alive so each stays identifiable.
raw_connections: list[Any] = []


@pytest.fixture(autouse=True)
def _close_raw_connections() -> Iterator[None]:
    """Really close the pooled threads' connections a test collected.

    Django leaves in-memory SQLite connections open on ``close()``; Python 3.13
    warns when one is collected unclosed, which would fail an unrelated test.
    """
    yield
    own = connection.connection
    for raw in raw_connections:
        if raw is not own:
            raw.close()
    raw_connections.clear()


def _use_database() -> str:
    User.objects.exists()
    raw_connections.append(connection.connection)
    return _thread_name()


async def database_view(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"threads": [await sync_to_async(_use_database)()]})


async def failing_view(request: HttpRequest) -> HttpResponse:
    await sync_to_async(_thread_name)()
    raise RuntimeError("boom")


tag: contextvars.ContextVar[str] = contextvars.ContextVar("tag", default="unset")


class HeaderAuthentication(BaseAuthentication):
    """A sync authenticator (runs on the request's worker thread): user from a header."""

    def authenticate(self, request: Request) -> tuple[User, None]:
        name = request.headers["X-User"]
        tag.set(name)  # set on the worker thread; must come back to this request only
        return User(username=name), None


class WhoAmI(AsyncAPIView):
    authentication_classes = [HeaderAuthentication]
    permission_classes = [AllowAny]

    async def get(self, request: Request) -> Response:
        await gate["barrier"].wait()
        seen = await sync_to_async(tag.get)()
        return Response({"user": request.user.username, "tag": seen})


urlpatterns = [
    path("threads/", threads_view),
    path("meeting/", meeting_view),
    path("held/", held_view),
    path("database/", database_view),
    path("failing/", failing_view),
    path("whoami/", WhoAmI.as_view()),
]


def _balanced(app: ASGIHandler) -> bool:
    """Every executor the pool created is back in it."""
    return app.executors.size == app.executors.idle


# -- thread sensitivity and reuse ---------------------------------------------------------


async def test_one_request_runs_its_sync_work_on_one_thread() -> None:
    app = get_asgi_application()
    status, body = await call(app, "/threads/")
    assert status == 200
    assert len(set(body["threads"])) == 1
    assert body["threads"][0].startswith("restflow-asgi")
    await app.aclose()


async def test_concurrent_requests_run_on_different_threads() -> None:
    app = get_asgi_application()
    gate["barrier"] = asyncio.Barrier(2)
    (_, first), (_, second) = await asyncio.gather(call(app, "/meeting/"), call(app, "/meeting/"))
    assert len(set(first["threads"])) == 1
    assert len(set(second["threads"])) == 1
    assert first["threads"][0] != second["threads"][0]
    await app.aclose()


async def test_sequential_requests_reuse_one_thread() -> None:
    app = get_asgi_application(max_executors=4)
    names = set()
    for _ in range(8):
        _, body = await call(app, "/threads/")
        names.update(body["threads"])
    assert len(names) == 1
    assert app.executors.size == 1
    await app.aclose()


def test_served_outside_a_sync_caller_threads_are_reused_not_created() -> None:
    # As under a server: no async_to_sync caller whose thread Django would reuse.
    async def thread_names(app: App) -> set[str]:
        names: set[str] = set()
        for _ in range(4):
            _, body = await call(app, "/threads/")
            names.update(body["threads"])
        return names

    pooled = get_asgi_application()
    assert len(asyncio.run(thread_names(pooled))) == 1
    asyncio.run(pooled.aclose())
    # The behaviour restflow.asgi replaces: a new executor (and thread) per request.
    assert len(asyncio.run(thread_names(DjangoASGIHandler()))) == 4


async def test_at_the_limit_a_request_waits_for_a_returned_executor() -> None:
    app = get_asgi_application(max_executors=1)
    gate.update(entered=asyncio.Event(), release=asyncio.Event())
    held = asyncio.ensure_future(call(app, "/held/"))
    await gate["entered"].wait()
    waiting = asyncio.ensure_future(call(app, "/threads/"))
    await asyncio.sleep(0.01)
    assert not waiting.done()
    assert app.executors.size == 1
    gate["release"].set()
    (_, first), (_, second) = await asyncio.gather(held, waiting)
    assert first["threads"][0] == second["threads"][0]
    assert _balanced(app)
    await app.aclose()


async def test_executors_beyond_max_idle_are_retired() -> None:
    app = get_asgi_application(max_executors=3, max_idle_executors=1)
    gate["barrier"] = asyncio.Barrier(3)
    await asyncio.gather(*(call(app, "/meeting/") for _ in range(3)))
    assert app.executors.size == app.executors.idle == 1
    await app.aclose()


def test_pool_refuses_nonsense_sizes() -> None:
    with pytest.raises(ValueError, match="max_executors=0"):
        ExecutorPool(0, 1)
    with pytest.raises(ValueError, match="max_idle=-1"):
        ExecutorPool(1, -1)


async def test_settings_size_the_pool(settings: Any) -> None:
    settings.RESTFLOW_ASGI_MAX_EXECUTORS = 7
    settings.RESTFLOW_ASGI_MAX_IDLE_EXECUTORS = 2
    app = get_asgi_application()
    assert (app.executors.max_executors, app.executors.max_idle) == (7, 2)


# -- database connections -----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_conn_max_age_0_closes_the_connection_after_each_request(
    monkeypatch: pytest.MonkeyPatch, closes: list[str]
) -> None:
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)
    app = get_asgi_application()
    _, first = await call(app, "/database/")
    await drained(app)
    assert closes == first["threads"]  # closed by request_finished, on the request's thread
    _, second = await call(app, "/database/")
    await drained(app)
    assert second["threads"] == first["threads"]  # the same pooled thread
    # Closed again after the second request (SQLite's in-memory database ignores
    # close(), so Django may also close it at request_started: never elsewhere).
    assert len(closes) >= 2
    assert set(closes) == set(first["threads"])
    await app.aclose()


@pytest.mark.django_db(transaction=True)
async def test_conn_max_age_reuses_the_threads_connection(
    monkeypatch: pytest.MonkeyPatch, closes: list[str]
) -> None:
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 60)
    raw_connections.clear()
    app = get_asgi_application()
    for _ in range(3):
        await call(app, "/database/")
    assert raw_connections[0] is raw_connections[1] is raw_connections[2]
    assert closes == []
    await app.aclose()  # closes the pooled threads' persistent connections
    assert len(closes) == 1
    assert closes[0].startswith("restflow-asgi")


# Django's handler leaves the request body's temporary file unclosed when the
# request ends by an exception or a cancellation; collected here, not in a later test.
_DJANGO_LEAKS_BODY_FILE = pytest.mark.filterwarnings(
    "ignore::pytest.PytestUnraisableExceptionWarning"
)


@_DJANGO_LEAKS_BODY_FILE
@pytest.mark.django_db(transaction=True)
async def test_a_request_without_request_finished_still_closes_its_connection(
    monkeypatch: pytest.MonkeyPatch, closes: list[str]
) -> None:
    # The client's send() fails: the exception escapes Django's handler before
    # request_finished; the pool queues close_old_connections on that thread.
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)
    app = get_asgi_application()

    async def broken_send(message: Mapping[str, Any]) -> None:
        raise OSError("connection reset")

    scope: dict[str, Any] = {"type": "http", "method": "GET", "path": "/database/", "headers": []}
    body_sent = asyncio.Event()

    async def receive() -> Mapping[str, Any]:
        if body_sent.is_set():
            await asyncio.Event().wait()  # the client never hangs up
        body_sent.set()
        return {"type": "http.request", "body": b""}

    with pytest.raises(OSError, match="connection reset"):
        await app(scope, receive, broken_send)
    await asyncio.wrap_future(app.executors._idle[-1].submit(_thread_name))
    assert len(closes) == 1
    assert closes[0].startswith("restflow-asgi")
    await app.aclose()
    gc.collect()


@pytest.mark.django_db(transaction=True)
async def test_lifespan_shutdown_closes_pooled_connections(
    monkeypatch: pytest.MonkeyPatch, closes: list[str]
) -> None:
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 60)
    app = get_asgi_application()
    await call(app, "/database/")
    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent: list[str] = []

    async def receive() -> Mapping[str, Any]:
        return next(messages)

    async def send(message: Mapping[str, Any]) -> None:
        sent.append(message["type"])

    await app({"type": "lifespan"}, receive, send)
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert len(closes) == 1


# -- request isolation --------------------------------------------------------------------


async def test_concurrent_requests_keep_their_own_user_and_context() -> None:
    app = get_asgi_application()
    gate["barrier"] = asyncio.Barrier(2)
    (_, alice), (_, bob) = await asyncio.gather(
        call(app, "/whoami/", headers={"X-User": "alice"}),
        call(app, "/whoami/", headers={"X-User": "bob"}),
    )
    assert alice == {"user": "alice", "tag": "alice"}
    assert bob == {"user": "bob", "tag": "bob"}
    await app.aclose()


async def test_a_reused_thread_does_not_carry_context_over() -> None:
    app = get_asgi_application(max_executors=1)
    gate["barrier"] = asyncio.Barrier(1)
    await call(app, "/whoami/", headers={"X-User": "alice"})
    assert tag.get() == "unset"
    _, bob = await call(app, "/whoami/", headers={"X-User": "bob"})
    assert bob == {"user": "bob", "tag": "bob"}
    await app.aclose()


# -- errors and cancellation return the executor ------------------------------------------


async def test_a_failing_view_returns_the_executor() -> None:
    app = get_asgi_application()
    status, _ = await call(app, "/failing/")
    assert status == 500
    assert _balanced(app)
    assert app.executors.size == 1
    await app.aclose()


async def test_a_client_disconnect_returns_the_executor() -> None:
    app = get_asgi_application()
    gate.update(entered=asyncio.Event(), release=asyncio.Event(), cancelled=False)
    hang_up = asyncio.Event()
    request = asyncio.ensure_future(call(app, "/held/", disconnect=hang_up))
    await gate["entered"].wait()
    hang_up.set()
    await request
    assert gate["cancelled"]
    assert _balanced(app)
    await app.aclose()


@pytest.fixture
def body_files(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[IO[bytes]]]:
    """Close the request body files Django's handler leaves open when it is cancelled."""
    files: list[IO[bytes]] = []
    read_body = DjangoASGIHandler.read_body

    async def recording(self: DjangoASGIHandler, receive: Any) -> IO[bytes]:
        body_file = await read_body(self, receive)
        files.append(body_file)
        return body_file

    monkeypatch.setattr(DjangoASGIHandler, "read_body", recording)
    yield files
    for body_file in files:
        body_file.close()


async def test_a_cancelled_request_returns_the_executor(body_files: list[IO[bytes]]) -> None:
    app = get_asgi_application()
    gate.update(entered=asyncio.Event(), release=asyncio.Event())
    request = asyncio.ensure_future(call(app, "/held/"))
    await gate["entered"].wait()
    request.cancel()
    with pytest.raises(asyncio.CancelledError):
        await request
    assert _balanced(app)
    # The thread is lent again, and works.
    _, body = await call(app, "/threads/")
    assert body["threads"][0].startswith("restflow-asgi")
    # Django leaves its request task running when its handler is cancelled; let it end
    # (its next thread-sensitive call is refused, and Django answers 500 to nobody).
    gate["release"].set()
    for _ in range(100):
        await asyncio.sleep(0.001)
    orphans = asyncio.all_tasks() - {asyncio.current_task()}
    for orphan in orphans:
        orphan.cancel()  # the disconnect listener: the client never hangs up
    await asyncio.gather(*orphans, return_exceptions=True)
    await app.aclose()


async def test_a_waiting_request_cancelled_leaves_the_pool_consistent() -> None:
    app = get_asgi_application(max_executors=1)
    gate.update(entered=asyncio.Event(), release=asyncio.Event())
    held = asyncio.ensure_future(call(app, "/held/"))
    await gate["entered"].wait()
    waiting = asyncio.ensure_future(call(app, "/threads/"))
    await asyncio.sleep(0.01)
    waiting.cancel()
    gate["release"].set()
    await held
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert _balanced(app)
    assert app.executors.size == 1
    await app.aclose()


def test_other_scopes_are_refused_as_django_does() -> None:
    app = get_asgi_application()

    async def receive() -> Mapping[str, Any]:
        raise AssertionError("not called")

    async def send(message: Mapping[str, Any]) -> None:
        raise AssertionError("not called")

    with pytest.raises(ValueError, match="not websocket"):
        asyncio.run(app({"type": "websocket"}, receive, send))
