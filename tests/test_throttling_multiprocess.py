"""Throttling holds exactly across server processes that share Redis.

Two uvicorn processes serve ``tests/mp_app.py``; 60 concurrent requests over loopback,
split between them, must see exactly ``RATE`` (20) answers of 200 and the rest 429. With a
per-process count (or DRF's get-then-set history) more would pass.

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
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO

import pytest
from django.conf import settings

from tests._servers import free_port, start_uvicorn, stop, wait_until_ready
from tests.mp_app import RATE

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


@pytest.fixture
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


@pytest.fixture
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
