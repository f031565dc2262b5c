"""The demo shop served by two uvicorn processes that share PostgreSQL and Redis.

Two ``uvicorn`` processes serve ``example/`` (``shop_project.settings``) on two free
127.0.0.1 ports, switched to PostgreSQL and Redis by the example's environment variables:

- PostgreSQL: a throwaway database ``restflow_mp_<pid>`` created here (so the suite's own
  ``test`` database is never touched), migrated and seeded by ``manage.py migrate``, and
  dropped at the end;
- Redis: database 2 (the suite clears database 0, the throttling multi-process test uses
  database 1), with a key prefix unique to the run, deleted at the end.

Concurrent requests over loopback (bounded counts, every request with a timeout) show that

- throttles hold exactly across both processes: of 50 anonymous GETs at ``SHOP_ANON_RATE``
  (20/min), exactly 20 pass;
- concurrent authenticated creates are neither lost nor duplicated: N distinct names make
  exactly N rows; N creates of one name make one row and N - 1 answers of 400;
- a request cancelled mid-write (the client disconnects while sending the body, or right
  after sending it, without reading the answer) leaves no partial row: every name ends with
  exactly one complete row, the one whose request was answered 201.

Runs in CI's PostgreSQL + Redis section (``RESTFLOW_TEST_DB=postgres`` and
``RESTFLOW_TEST_CACHE=redis``); there, a server that cannot be reached is a failure, not a
skip. The uvicorn processes are always terminated and the database always dropped.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import json
import os
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any, TypeVar

import pytest
from django.conf import settings

from tests._servers import (
    connect_pg,
    free_port,
    manage,
    start_uvicorn,
    stop,
    throwaway_pg_database,
    wait_until_ready,
)

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(
        not (settings.TEST_DB == "postgres" and settings.TEST_CACHE == "redis"),
        reason="needs PostgreSQL and Redis: runs with RESTFLOW_TEST_DB=postgres and "
        "RESTFLOW_TEST_CACHE=redis (CI's PostgreSQL + Redis section)",
    ),
]

T = TypeVar("T")

#: Not 0 (the suite's ``cache.clear()``) nor 1 (``test_throttling_multiprocess.py``).
REDIS_URL = "redis://127.0.0.1:6379/2"
ANON_RATE = 20
ANON_REQUESTS = 50
CREATES = 24
PASSWORD = "mp-password-123"
STARTUP_SECONDS = 20.0
REQUEST_TIMEOUT = 15.0


# -- HTTP over loopback ---------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


def _request(
    port: int, method: str, path: str, body: Any = None, token: str | None = None
) -> Answer:
    headers = {"Accept": "application/json"}
    payload = None
    if body is not None:
        payload = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token is not None:
        headers["Authorization"] = f"Token {token}"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    try:
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        raw = response.read()
        found = {name.lower(): value for name, value in response.getheaders()}
        return Answer(response.status, found, json.loads(raw) if raw else None)
    finally:
        connection.close()


def _abandon(
    port: int, token: str, body: dict[str, str], *, send_all: bool, linger: float = 0.0
) -> None:
    """POST ``body`` and disconnect without reading the answer.

    ``send_all=False`` sends the headers and half of the body, then closes: the server
    waits for a body that never comes. ``send_all=True`` sends the whole request and closes
    ``linger`` seconds later: the server reads it, starts the view, and sees the disconnect
    (Django then cancels the view) wherever the request has got to by then: checks,
    validation, the write, or after the commit.
    """
    payload = json.dumps(body).encode()
    head = (
        "POST /api/products/ HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        "Content-Type: application/json\r\n"
        f"Authorization: Token {token}\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=REQUEST_TIMEOUT) as sock:
        sock.sendall(head + (payload if send_all else payload[: len(payload) // 2]))
        time.sleep(linger)


def _concurrently(count: int, call: Callable[[int], T]) -> list[T]:
    """``call(0..count-1)`` from ``count`` threads released together."""
    barrier = threading.Barrier(count, timeout=REQUEST_TIMEOUT)

    def run(index: int) -> T:
        barrier.wait()
        return call(index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


# -- PostgreSQL, Redis and the two servers --------------------------------------------


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    """A database of its own, created for this module and dropped after it."""
    with throwaway_pg_database("restflow_mp") as name:
        yield name


@pytest.fixture(scope="module")
def redis_prefix() -> Iterator[str]:
    """A cache key prefix unique to this run; its keys are deleted afterwards."""
    try:
        import redis
    except ImportError as exc:
        pytest.fail(f"RESTFLOW_TEST_CACHE=redis needs the redis package: {exc}")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis at {REDIS_URL} is not reachable: {exc}")
    prefix = f"restflow-mp-shop-{uuid.uuid4().hex}"
    try:
        yield prefix
    finally:
        stale = list(client.scan_iter(match=f"{prefix}:*"))
        if stale:
            client.delete(*stale)
        client.close()


@dataclass(frozen=True)
class Shop:
    """Two server processes of the demo shop, a user's token and the shared database."""

    ports: tuple[int, int]
    token: str
    database: str

    def port(self, index: int) -> int:
        """Alternate between the two processes."""
        return self.ports[index % 2]

    def rows(self, pattern: str) -> list[tuple[str, Decimal]]:
        """``(name, price)`` of every product whose name is LIKE ``pattern``."""
        with connect_pg(self.database) as conn:
            found: list[tuple[str, Decimal]] = conn.execute(
                "SELECT name, price FROM shop_product WHERE name LIKE %s ORDER BY name",
                (pattern,),
            ).fetchall()
            return found


def _answers_health(port: int) -> bool:
    return _request(port, "GET", "/api/health/").status == 200


@pytest.fixture(scope="module")
def shop(database: str, redis_prefix: str) -> Iterator[Shop]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "shop_project.settings",
        "SHOP_DEBUG": "0",
        "SHOP_DB_ENGINE": "postgres",
        "SHOP_DB_NAME": database,
        "SHOP_CACHE": "redis",
        "SHOP_REDIS_URL": REDIS_URL,
        "SHOP_CACHE_PREFIX": redis_prefix,
        "SHOP_ANON_RATE": f"{ANON_RATE}/min",
        "DJANGO_SUPERUSER_PASSWORD": PASSWORD,
    }
    manage(env, "migrate", "--noinput")
    manage(env, "createsuperuser", "--noinput", "--username", "mp", "--email", "mp@example.com")
    with contextlib.ExitStack() as stack:
        started: list[tuple[int, subprocess.Popen[bytes], IO[bytes]]] = []
        for _ in range(2):
            port = free_port()
            log: IO[bytes] = stack.enter_context(tempfile.NamedTemporaryFile())
            process = start_uvicorn(
                "shop_project.asgi:application",
                port,
                env=env,
                log=log,
                extra_args=["--no-access-log"],
            )
            stack.callback(stop, process)
            started.append((port, process, log))
        for port, process, output in started:
            wait_until_ready(
                functools.partial(_answers_health, port),
                process,
                output,
                seconds=STARTUP_SECONDS,
            )
        first, second = (port for port, _, _ in started)
        answer = _request(first, "POST", "/api/token/", {"username": "mp", "password": PASSWORD})
        assert answer.status == 200, answer.body
        yield Shop((first, second), answer.body["token"], database)


# -- the tests ----------------------------------------------------------------------


def _statuses(answers: Sequence[Answer]) -> list[int]:
    return sorted(answer.status for answer in answers)


def test_the_anonymous_rate_holds_exactly_across_both_processes(shop: Shop) -> None:
    def fetch(index: int) -> tuple[int, Answer]:
        port = shop.port(index)
        return port, _request(port, "GET", "/api/products/1/")

    results = _concurrently(ANON_REQUESTS, fetch)

    answers = [answer for _, answer in results]
    assert _statuses(answers) == [200] * ANON_RATE + [429] * (ANON_REQUESTS - ANON_RATE)
    assert {port for port, _ in results} == set(shop.ports)
    refused = next(answer for answer in answers if answer.status == 429)
    assert int(refused.headers["retry-after"]) > 0
    assert refused.body["detail"].startswith("Request was throttled.")


def test_concurrent_distinct_creates_are_neither_lost_nor_duplicated(shop: Shop) -> None:
    run = uuid.uuid4().hex[:8]
    names = [f"mp-{run}-{index:02d}" for index in range(CREATES)]

    def create(index: int) -> Answer:
        body = {"name": names[index], "price": f"{index}.50"}
        return _request(shop.port(index), "POST", "/api/products/", body, shop.token)

    answers = _concurrently(CREATES, create)

    assert _statuses(answers) == [201] * CREATES
    assert sorted(answer.body["name"] for answer in answers) == names
    assert len({answer.body["id"] for answer in answers}) == CREATES
    assert shop.rows(f"mp-{run}-%") == [
        (name, Decimal(f"{index}.50")) for index, name in enumerate(names)
    ]


def test_concurrent_creates_of_one_name_make_one_row(shop: Shop) -> None:
    name = f"mp-same-{uuid.uuid4().hex[:8]}"

    def create(index: int) -> Answer:
        body = {"name": name, "price": f"{index}.25"}
        return _request(shop.port(index), "POST", "/api/products/", body, shop.token)

    answers = _concurrently(CREATES, create)

    assert _statuses(answers) == [201] + [400] * (CREATES - 1)
    losers = [answer.body for answer in answers if answer.status == 400]
    assert losers == [{"name": ["product with this name already exists."]}] * (CREATES - 1)
    winner = next(answer.body for answer in answers if answer.status == 201)
    assert shop.rows(name) == [(name, Decimal(winner["price"]))]


@pytest.mark.parametrize("send_all", [False, True], ids=["body-cut-short", "reset-after-body"])
def test_a_request_cancelled_mid_write_leaves_no_partial_row(shop: Shop, send_all: bool) -> None:
    run = uuid.uuid4().hex[:8]
    names = [f"mp-cancel-{run}-{index:02d}" for index in range(CREATES)]

    def abandon(index: int) -> None:
        body = {"name": names[index], "price": "7.77"}
        # Staggered disconnects (0 to ~70 ms after the body) land in different phases of
        # the request; the assertions below hold wherever each one lands.
        linger = index * 0.003 if send_all else 0.0
        _abandon(shop.port(index), shop.token, body, send_all=send_all, linger=linger)

    _concurrently(CREATES, abandon)

    # Create every name again, properly. The unique name makes each outcome tell what the
    # abandoned request left behind, whenever it finishes: a 201 means it wrote nothing (or
    # never will: it would now fail on the name); a 400 means it committed a whole row.
    def retry(index: int) -> Answer:
        body = {"name": names[index], "price": "1.11"}
        return _request(shop.port(index + 1), "POST", "/api/products/", body, shop.token)

    answers = _concurrently(CREATES, retry)

    expected = []
    for name, answer in zip(names, answers, strict=True):
        if answer.status == 201:
            expected.append((name, Decimal("1.11")))
        else:
            assert send_all, "a body that never arrived cannot have been saved"
            assert (answer.status, answer.body) == (
                400,
                {"name": ["product with this name already exists."]},
            )
            expected.append((name, Decimal("7.77")))
    assert shop.rows(f"mp-cancel-{run}-%") == expected
