"""``restflow.asgi``: tasks a view leaves behind keep using the ORM after the response.

A view may start a task (``asyncio.create_task``) that outlives its response and writes
through the async ORM (or ``sync_to_async``). Django's handler lets it; restflow's must
too (issue 10, item 5): those calls go to a background thread once the request is done,
that thread's connections are tidied when the last such task is gone, and it never counts
against ``max_executors``.

Checked in-process (both handlers driven by ``tests/_asgi.py``) and served by uvicorn
(``tests/background_app.py``), on the suite's database: SQLite by default, PostgreSQL with
``RESTFLOW_TEST_DB=postgres``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler as DjangoASGIHandler
from django.db import connections
from django.http import HttpRequest, JsonResponse
from django.urls import path

from restflow.asgi import ASGIHandler, get_asgi_application
from tests._asgi import App, call, drained
from tests._servers import free_port, start_uvicorn, stop, wait_until_ready
from tests.background_app import WRITES
from tests.testapp.models import Category

ROOT = Path(__file__).resolve().parent.parent
REQUEST_TIMEOUT = 15.0

pytestmark = [pytest.mark.urls(__name__)]

#: The tasks the last ``/spawn/`` left behind, and the event that lets them write.
left_behind: list[asyncio.Task[str]] = []
gate: dict[str, Any] = {}


def _thread_name() -> str:
    return threading.current_thread().name


async def _write(name: str) -> str:
    await gate["go"].wait()
    await Category.objects.acreate(name=name)
    return await sync_to_async(_thread_name)()


async def spawn_view(request: HttpRequest) -> JsonResponse:
    left_behind.extend(asyncio.create_task(_write(f"bg-{index}")) for index in range(WRITES))
    return JsonResponse({"left": WRITES})


async def _hold() -> str:
    await gate["go"].wait()
    return await sync_to_async(_wait_for_release)()


def _wait_for_release() -> str:
    gate["holding"].set()
    gate["release"].wait(REQUEST_TIMEOUT)
    return _thread_name()


async def holding_view(request: HttpRequest) -> JsonResponse:
    left_behind.append(asyncio.create_task(_hold()))
    return JsonResponse({"left": 1})


async def threads_view(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"threads": [await sync_to_async(_thread_name)()]})


urlpatterns = [
    path("spawn/", spawn_view),
    path("hold/", holding_view),
    path("threads/", threads_view),
]


@pytest.fixture(autouse=True)
def _fresh_gate() -> Iterator[None]:
    left_behind.clear()
    gate.clear()
    yield
    left_behind.clear()


async def _spawn_then_write(app: App) -> list[str]:
    """GET /spawn/; once the handler has returned, let the tasks write; their threads."""
    gate["go"] = asyncio.Event()
    status, _ = await call(app, "/spawn/")
    assert status == 200
    gate["go"].set()  # the response is sent and the handler has returned
    return [await task for task in left_behind]


async def _forget_left_behind() -> None:
    """Drop the tasks: the request's context is freed with the last one.

    No ``gc.collect()``: the background thread must come back without the cyclic
    garbage collector, as soon as nothing refers to the request's context.
    """
    left_behind.clear()
    await asyncio.sleep(0)  # the loop's handle that woke this test holds the last task


async def _returned(app: ASGIHandler) -> None:
    """Wait (bounded) until the background executor is back in the pool.

    The last reference to the request's context may be dropped by the worker thread
    just after the task's result reached the loop: the return follows a moment later.
    """
    for _ in range(500):
        if app.executors.idle >= 1 and app.executors.size == app.executors.idle:
            return
        await asyncio.sleep(0.01)
    pytest.fail(f"executor not returned: size {app.executors.size}, idle {app.executors.idle}")


# -- in-process -------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "handler", [DjangoASGIHandler, get_asgi_application], ids=["django", "restflow"]
)
async def test_tasks_left_behind_write_after_the_response(handler: Callable[[], App]) -> None:
    threads = await _spawn_then_write(handler())
    assert len(threads) == WRITES
    assert await Category.objects.filter(name__startswith="bg-").acount() == WRITES


@pytest.mark.django_db(transaction=True)
async def test_work_left_behind_shares_one_background_thread_then_returns_it(
    monkeypatch: pytest.MonkeyPatch, closes: list[str]
) -> None:
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)
    app = get_asgi_application()
    threads = await _spawn_then_write(app)
    # Thread-sensitive, as during the request: one thread for all of them, a pooled one.
    assert len(set(threads)) == 1
    assert threads[0].startswith("restflow-asgi")
    assert threads[0] != _thread_name()
    # The request's executor went back to the pool, then out again for the work left
    # behind: none is idle until that work's context is freed.
    assert (app.executors.size, app.executors.idle) == (0, 0)
    await _forget_left_behind()
    await _returned(app)
    await drained(app)
    assert threads[0] in closes  # its connection tidied (CONN_MAX_AGE = 0: closed) there
    await app.aclose()


@pytest.mark.django_db(transaction=True)
async def test_work_left_behind_never_makes_a_request_wait() -> None:
    app: ASGIHandler = get_asgi_application(max_executors=1)
    gate.update(go=asyncio.Event(), holding=threading.Event(), release=threading.Event())
    await call(app, "/hold/")
    gate["go"].set()
    try:
        holding = await asyncio.to_thread(gate["holding"].wait, REQUEST_TIMEOUT)
        assert holding, "the work left behind never reached a thread"
        # The only executor the limit allows is busy with the work left behind; a new
        # request still gets one.
        status, body = await asyncio.wait_for(call(app, "/threads/"), REQUEST_TIMEOUT)
    finally:
        gate["release"].set()
    held = await left_behind[0]
    assert status == 200
    assert body["threads"] != [held]
    await _forget_left_behind()
    await _returned(app)
    await drained(app)
    assert app.executors.size == app.executors.idle == 1
    await app.aclose()


# -- served by uvicorn ------------------------------------------------------------------


def _get(port: int, path: str) -> tuple[int, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def _connect_pg(dbname: str) -> Any:
    import psycopg

    return psycopg.connect(
        host="127.0.0.1", port=5432, user="postgres", dbname=dbname, autocommit=True
    )


@pytest.fixture(scope="module")
def database() -> Iterator[dict[str, str]]:
    """A database of the suite's kind for the served app, created and migrated here."""
    with contextlib.ExitStack() as cleanup:
        if settings.TEST_DB == "postgres":
            name = f"restflow_bg_{os.getpid()}"
            with _connect_pg("test") as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                admin.execute(f'CREATE DATABASE "{name}"')

            def drop() -> None:
                with _connect_pg("test") as admin:
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

            cleanup.callback(drop)
        else:
            name = str(Path(cleanup.enter_context(tempfile.TemporaryDirectory())) / "bg.sqlite3")
        env = {
            **os.environ,
            "RESTFLOW_BG_DB": settings.TEST_DB,
            "RESTFLOW_BG_NAME": name,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        }
        env.pop("DJANGO_SETTINGS_MODULE", None)  # the app configures its own settings
        subprocess.run(
            [sys.executable, "-m", "tests.background_app"],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=120,
        )
        yield env


@pytest.mark.parametrize("handler", ["django", "restflow"])
def test_served_tasks_left_behind_write_after_the_response(
    database: dict[str, str], handler: str
) -> None:
    port = free_port()
    with tempfile.NamedTemporaryFile() as log:
        process = start_uvicorn(
            "tests.background_app:create_app",
            port,
            env={**database, "RESTFLOW_BG_HANDLER": handler},
            log=log,
            cwd=ROOT,
            app_dir=None,
            extra_args=["--factory", "--no-access-log"],
        )
        try:
            wait_until_ready(
                functools.partial(_answers, port), process, log, seconds=REQUEST_TIMEOUT
            )
            assert _get(port, f"/spawn/?tag={handler}") == (200, {"left": WRITES})
            assert _get(port, "/go/")[0] == 200
            deadline = time.monotonic() + REQUEST_TIMEOUT
            while True:
                _, seen = _get(port, f"/count/?tag={handler}")
                if seen["pending"] == 0 or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
        finally:
            stop(process)
    assert seen == {"rows": WRITES, "pending": 0, "errors": []}


def _answers(port: int) -> bool:
    return _get(port, "/count/?tag=ready")[0] == 200
