"""One benchmark target in its own process: requests driven in-process through Django's handler.

Started by ``python -m bench`` with ``BENCH_TARGET``, ``BENCH_HANDLER`` (``wsgi``,
``asgi`` for Django's stock ASGI handler, ``pool`` for ``restflow.asgi``) and ``BENCH_DB``;
reads one JSON command per line on stdin and answers one JSON line on stdout.
``python -m bench.worker --seed PATH`` builds the seeded template database instead.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django

django.setup()

from asgiref.sync import SyncToAsync  # noqa: E402
from django.db.backends import utils as db_utils  # noqa: E402

PRODUCTS = 1000
Request = tuple[str, str, bytes]  # method, path (with query), JSON body


# -- counters (only switched on for the counting pass, off while timing) --------------------

counters = {"queries": 0, "hops": 0}
_execute = db_utils.CursorWrapper._execute_with_wrappers
_sync_to_async_call = SyncToAsync.__call__


def _counting_execute(self: Any, *args: Any, **kwargs: Any) -> Any:
    counters["queries"] += 1
    return _execute(self, *args, **kwargs)


async def _counting_call(self: Any, *args: Any, **kwargs: Any) -> Any:
    counters["hops"] += 1
    return await _sync_to_async_call(self, *args, **kwargs)


def counting(on: bool) -> None:
    db_utils.CursorWrapper._execute_with_wrappers = _counting_execute if on else _execute  # type: ignore[method-assign]
    SyncToAsync.__call__ = _counting_call if on else _sync_to_async_call  # type: ignore[method-assign]


# -- scenarios: endless request streams ------------------------------------------------------


class Streams:
    """Request generators per scenario; writes keep their own rows (create feeds delete)."""

    def __init__(self) -> None:
        self.created: list[int] = []
        self.serial = 0

    def requests(self, scenario: str) -> Iterator[Request]:
        i = 0
        while True:
            i += 1
            yield self.one(scenario, i)

    def one(self, scenario: str, i: int) -> Request:
        if scenario in ("sync_hooks", "async_hooks", "bare"):
            return "GET", "/" + scenario.replace("_", "-") + "/", b""
        if scenario == "list":
            return "GET", f"/products/?page={i % 50 + 1}", b""
        if scenario == "list_latest":
            return "GET", f"/products-latest/?page={i % 50 + 1}", b""
        if scenario == "retrieve":
            return "GET", f"/products/{i % PRODUCTS + 1}/", b""
        if scenario == "create":
            self.serial += 1
            body = {"name": f"bench-{os.getpid()}-{self.serial}", "price": "1.50"}
            return "POST", "/products/", json.dumps(body).encode()
        if scenario == "update":
            body = {"price": f"{i % 90 + 10}.00"}
            return "PATCH", f"/products/{i % PRODUCTS + 1}/", json.dumps(body).encode()
        if scenario == "delete":
            return "DELETE", f"/products/{self.spare_id()}/", b""
        raise ValueError(f"unknown scenario {scenario!r}")

    def top_up(self, n: int) -> None:
        """Make sure ``n`` rows are there to delete (called off the event loop)."""
        from tests.testapp.models import Product

        while len(self.created) < n:
            self.serial += 1
            product = Product.objects.create(
                name=f"spare-{os.getpid()}-{self.serial}", price=Decimal("1.00")
            )
            self.created.append(product.pk)

    def spare_id(self) -> int:
        return self.created.pop()


# -- drivers -----------------------------------------------------------------------------------


def _scope(method: str, url: str, body: bytes) -> dict[str, Any]:
    path, _, query = url.partition("?")
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"x-token", b"bench"),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }


class AsgiDriver:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()

    async def _one(self, method: str, url: str, body: bytes) -> tuple[int, bytes]:
        sent = False
        status = 0
        chunks: list[bytes] = []
        never = asyncio.Event()

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await never.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            else:
                chunks.append(message.get("body", b""))

        await self.app(_scope(method, url, body), receive, send)
        return status, b"".join(chunks)

    def batch(
        self, requests: Iterator[Request], n: int, budget: float
    ) -> list[tuple[float, int, bytes]]:
        async def run() -> list[tuple[float, int, bytes]]:
            out = []
            deadline = time.perf_counter() + budget
            for _ in range(n):
                method, url, body = next(requests)
                start = time.perf_counter()
                status, content = await self._one(method, url, body)
                out.append((time.perf_counter() - start, status, content))
                if time.perf_counter() > deadline and len(out) >= 10:
                    break
            return out

        return self.loop.run_until_complete(run())


class WsgiDriver:
    def __init__(self, app: Any) -> None:
        self.app = app

    def _one(self, method: str, url: str, body: bytes) -> tuple[int, bytes]:
        path, _, query = url.partition("?")
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_X_TOKEN": "bench",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "wsgi.version": (1, 0),
        }
        status = []

        def start_response(line: str, headers: Any, exc_info: Any = None) -> Callable[..., None]:
            status.append(int(line.split()[0]))
            return lambda data: None

        result = self.app(environ, start_response)
        try:
            content = b"".join(result)
        finally:
            result.close()
        return status[0], content

    def batch(
        self, requests: Iterator[Request], n: int, budget: float
    ) -> list[tuple[float, int, bytes]]:
        out = []
        deadline = time.perf_counter() + budget
        for _ in range(n):
            method, url, body = next(requests)
            start = time.perf_counter()
            status, content = self._one(method, url, body)
            out.append((time.perf_counter() - start, status, content))
            if time.perf_counter() > deadline and len(out) >= 10:
                break
        return out


def make_driver(handler: str) -> AsgiDriver | WsgiDriver:
    if handler == "wsgi":
        from django.core.handlers.wsgi import WSGIHandler

        return WsgiDriver(WSGIHandler())
    if handler == "pool":
        from restflow.asgi import get_asgi_application

        return AsgiDriver(get_asgi_application())
    from django.core.asgi import get_asgi_application as django_asgi

    return AsgiDriver(django_asgi())


# -- commands ----------------------------------------------------------------------------------


EXPECTED = {"create": 201, "delete": 204}


#: URLconfs written with our restflow; any other target may not import it (drf-restflow's
#: worker runs in a side venv where ``restflow`` is drf-restflow)
OWN = {"restflow", "restflow_drf", "restflow_pool"}


def _own_hop_counter() -> Callable[[], int] | None:
    if os.environ.get("BENCH_TARGET", "restflow") not in OWN:
        return None
    from restflow.test import hop_count

    return hop_count


def serve_commands() -> None:
    hop_count = _own_hop_counter()
    driver = make_driver(os.environ.get("BENCH_HANDLER", "asgi"))
    streams = Streams()
    iterators: dict[str, Iterator[Request]] = {}
    for line in sys.stdin:
        command = json.loads(line)
        if command["op"] == "quit":
            break
        scenario = command["scenario"]
        requests = iterators.setdefault(scenario, streams.requests(scenario))
        if scenario == "delete":
            streams.top_up(command["n"])
        if command["op"] == "count":
            n = command["n"]
            counting(True)
            counters.update(queries=0, hops=0)
            restflow_before = hop_count() if hop_count else 0
            results = driver.batch(requests, n, budget=1e9)
            counting(False)
            reply: dict[str, Any] = {
                "queries": counters["queries"] / n,
                "hops": counters["hops"] / n,
                "restflow_hops": (hop_count() - restflow_before) / n if hop_count else None,
            }
        else:
            results = driver.batch(requests, command["n"], command["budget"])
            reply = {
                "median_us": statistics.median(t for t, _, _ in results) * 1e6,
                "n": len(results),
            }
        bad = [(s, c[:200]) for _, s, c in results if s != EXPECTED.get(scenario, 200)]
        if scenario == "create":
            streams.created.extend(json.loads(c)["id"] for _, s, c in results if s == 201)
        reply["errors"] = len(bad)
        if bad:
            reply["first_error"] = f"{bad[0][0]} {bad[0][1]!r}"
        print(json.dumps(reply), flush=True)


def seed(path: str) -> None:
    """Create the template database: schema, 1,000 products (a quarter with no category),
    1 to 8 reviews each."""
    import random
    from datetime import timedelta

    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from tests.testapp.models import Category, Product, Review

    call_command("migrate", verbosity=0)
    rng = random.Random(5)
    now = timezone.now()
    with transaction.atomic():
        category = Category.objects.create(name="bench")
        Product.objects.bulk_create(
            Product(
                name=f"product-{i:04d}",
                price=Decimal(rng.randint(100, 99999)) / 100,
                category=None if i % 4 == 3 else category,  # pages hold nulls, as real ones do
                is_top=i % 7 == 0,
            )
            for i in range(PRODUCTS)
        )
        Review.objects.bulk_create(
            Review(
                product=product,
                rating=rng.randint(1, 5),
                comment="x" * rng.randint(0, 80),
                created_at=now - timedelta(minutes=rng.randint(0, 100000)),
            )
            for product in Product.objects.all()
            for _ in range(rng.randint(1, 8))
        )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--seed":
        seed(sys.argv[2])
    else:
        serve_commands()
