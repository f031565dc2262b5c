"""Throttling holds exactly across server processes that share Redis.

Two uvicorn processes serve ``tests/mp_app.py``; 60 concurrent requests over loopback,
split between them, must see exactly ``RATE`` (20) answers of 200 and the rest 429. With a
per-process count (or DRF's get-then-set history) more would pass.

At a window edge: clients keep both processes busy for a few seconds on an endpoint
limited to ``EDGE_RATE`` (5) a second. The window slides: no one-second span holds more
than 5 passed requests (a fixed window lets 10 through around each of its edges), the
quota keeps coming back, and no key in Redis is ever seen without an expiry (the old
add-then-incr counter could leave one, refusing its client for good).

Runs in the Redis configuration (``RESTFLOW_TEST_CACHE=redis``, CI section 2), where a
missing Redis server is a failure, not a skip.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import json
import os
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO

import pytest
from django.conf import settings

from tests._servers import free_port, start_uvicorn, stop, wait_until_ready
from tests.mp_app import EDGE_RATE, RATE

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(
        settings.TEST_CACHE != "redis",
        reason="needs Redis: runs with RESTFLOW_TEST_CACHE=redis (CI section 2)",
    ),
]

ROOT = Path(__file__).resolve().parent.parent
#: Database 1, so that the suite's ``cache.clear()`` on database 0 (run by other test
#: sessions sharing this Redis) cannot reset the counters mid-test.
REDIS_URL = "redis://127.0.0.1:6379/1"
REQUESTS = 60
STARTUP_SECONDS = 15.0
REQUEST_TIMEOUT = 10.0


def _get(port: int, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _answers(port: int) -> bool:
    return _get(port, "/ready/")[0] == 200


def _pid(port: int) -> int:
    status, body = _get(port, "/ready/")
    assert status == 200, body
    pid: int = json.loads(body)["pid"]
    return pid


@pytest.fixture(scope="module")
def redis_prefix() -> Iterator[str]:
    """A cache key prefix unique to this run; fails (not skips) if Redis is unreachable."""
    try:
        import redis
    except ImportError as exc:
        pytest.fail(f"RESTFLOW_TEST_CACHE=redis needs the redis package: {exc}")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(
            f"Redis at {REDIS_URL} is not reachable ({exc}). Start Redis, or run without "
            "RESTFLOW_TEST_CACHE=redis."
        )
    prefix = f"restflow-mp-{uuid.uuid4().hex}"
    yield prefix
    stale = list(client.scan_iter(match=f"{prefix}:*"))
    if stale:
        client.delete(*stale)
    client.close()


@pytest.fixture(scope="module")
def servers(redis_prefix: str) -> Iterator[dict[int, int]]:
    """Two uvicorn processes sharing Redis; yields {port: pid}. Always terminated."""
    env = {
        **os.environ,
        "RESTFLOW_MP_REDIS_URL": REDIS_URL,
        "RESTFLOW_MP_PREFIX": redis_prefix,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)  # the app configures its own settings
    started: list[tuple[int, subprocess.Popen[bytes], IO[bytes]]] = []
    with contextlib.ExitStack() as logs:
        for _ in range(2):
            port = free_port()
            log = logs.enter_context(tempfile.NamedTemporaryFile())
            process = start_uvicorn(
                "tests.mp_app:create_app",
                port,
                env=env,
                log=log,
                cwd=ROOT,
                app_dir=None,
                extra_args=["--factory", "--no-access-log"],
            )
            logs.callback(stop, process)
            started.append((port, process, log))
        for port, process, output in started:
            wait_until_ready(
                functools.partial(_answers, port), process, output, seconds=STARTUP_SECONDS
            )
        yield {port: _pid(port) for port, _, _ in started}


def test_exactly_the_rate_passes_across_two_processes(servers: dict[int, int]) -> None:
    ports = list(servers)
    assert len(set(servers.values())) == 2, "both ports must be served by distinct processes"
    barrier = threading.Barrier(REQUESTS, timeout=REQUEST_TIMEOUT)

    def fire(index: int) -> tuple[int, int]:
        port = ports[index % 2]
        barrier.wait()
        status, _ = _get(port, "/limited/")
        return port, status

    with ThreadPoolExecutor(max_workers=REQUESTS) as pool:
        results = list(pool.map(fire, range(REQUESTS)))

    statuses = [status for _, status in results]
    assert statuses.count(200) == RATE
    assert statuses.count(429) == REQUESTS - RATE
    assert {port for port, _ in results} == set(ports)


#: How long the clients keep both processes busy on ``/edge/``, in seconds (several windows).
EDGE_SECONDS = 3.5
EDGE_CLIENTS = 6


def test_no_second_passes_more_than_the_rate_across_two_processes(
    servers: dict[int, int], redis_prefix: str
) -> None:
    import redis

    ports = list(servers)
    deadline = time.monotonic() + EDGE_SECONDS
    answers: list[tuple[int, int, float | None]] = []
    persistent: list[bytes] = []
    looks = 0
    done = threading.Event()

    def client(index: int) -> None:
        sent = 0
        while time.monotonic() < deadline:
            port = ports[(index + sent) % 2]
            sent += 1
            status, body = _get(port, "/edge/")
            now = json.loads(body)["now"] if status == 200 else None
            answers.append((port, status, now))

    def watch() -> None:
        # Every key of this run, over and over: PTTL -1 is a key without an expiry.
        nonlocal looks
        watcher = redis.Redis.from_url(REDIS_URL)
        try:
            while not done.is_set():
                for key in watcher.scan_iter(match=f"{redis_prefix}:*"):
                    looks += 1
                    if watcher.pttl(key) == -1:
                        persistent.append(key)
        finally:
            watcher.close()

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with ThreadPoolExecutor(max_workers=EDGE_CLIENTS) as pool:
            list(pool.map(client, range(EDGE_CLIENTS)))
    finally:
        done.set()
        watcher.join()

    passed = sorted(now for _, status, now in answers if status == 200 and now is not None)
    busiest = max(sum(start <= t < start + 1 for t in passed) for start in passed)
    refused = sum(status == 429 for _, status, _ in answers)
    print(  # the figures behind the assertions, shown with ``pytest -s``
        f"edge: {len(answers)} requests, {len(passed)} passed, {refused} refused, "
        f"at most {busiest} passed within any 1 s span (rate {EDGE_RATE}/s); "
        f"{looks} key TTL reads, {len(persistent)} without an expiry"
    )
    assert refused + len(passed) == len(answers)
    assert busiest <= EDGE_RATE
    # Saturated, and the quota came back window after window.
    assert refused > len(passed)
    assert len(passed) >= EDGE_RATE * int(EDGE_SECONDS - 1)
    assert {port for port, status, _ in answers if status == 200} == set(ports)
    assert looks > 0
    assert persistent == []
