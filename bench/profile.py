"""Profiles behind the benchmark notes: ``python -m bench.profile serializer|render|dispatch``.

``serializer``: one page (20 rows) rendered by DRF's ``ModelSerializer``, restflow's
``ModelSerializer``, both through restflow's compiled path, and the hand-built dicts of
the plain async Django view (µs each, in-process, median of repeats; ratios to DRF's).

``render``: the first page as the list endpoint returns it (count, links with a ``null``,
DRF's ``ModelSerializer`` output with a ``null`` category in every fourth row) encoded by
DRF's ``JSONRenderer`` and by restflow's (identical bytes checked first), and by orjson
alone (the floor).

``dispatch``: the same restflow view (the bench's no-hook trivial GET) driven through
Django's stock ASGI handler and through ``restflow.asgi``, each in a fresh process under
cProfile; prints the cumulative seconds inside restflow's ``dispatch`` per 2,000 requests
and the time per request.

Both use the bench's seeded database (built on first use in a temporary directory).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REQUESTS = 2000


def _environment(db: Path, handler: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "BENCH_TARGET": "restflow",
        "BENCH_HANDLER": handler,
        "BENCH_DB": str(db),
        "PYTHONPATH": str(ROOT),
    }


def _seed(directory: Path) -> Path:
    db = directory / "profile.sqlite3"
    subprocess.run(
        [sys.executable, "-m", "bench.worker", "--seed", str(db)],
        cwd=ROOT,
        env=_environment(db, "asgi"),
        check=True,
    )
    return db


def _per_call_us(function: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        function()
    return (time.perf_counter() - start) / calls * 1e6


def _interleaved(timings: dict[str, Callable[[], object]], unit: str, rounds: int = 31) -> None:
    """Time each function in turn, round after round; ratios to the first, per round.

    Each sample lasts about 5 ms, so a burst of load from elsewhere on the (shared)
    machine spoils few of them. Prints the median µs per call and the median of the
    per-round ratios, then their quartiles and their full range: only ratios within a
    round mean much here.
    """
    calls = {}
    for name, function in timings.items():
        once = _per_call_us(function, 3)
        calls[name] = max(3, int(5000 / max(once, 1.0)))
    samples: dict[str, list[float]] = {name: [] for name in timings}
    for _ in range(rounds):
        for name, function in timings.items():
            samples[name].append(_per_call_us(function, calls[name]))
    base = samples[next(iter(timings))]
    for name, values in samples.items():
        ratios = sorted(value / reference for value, reference in zip(values, base, strict=True))
        low, _, high = statistics.quantiles(ratios, n=4)
        print(
            f"{name:36s} {statistics.median(values):8.1f} µs per {unit}  "
            f"{statistics.median(ratios):5.2f}x (quartiles {low:.2f}-{high:.2f}, "
            f"range {ratios[0]:.2f}-{ratios[-1]:.2f})"
        )


def serializer() -> None:
    """In this process: the three ways of rendering one page."""
    import django

    django.setup()
    from bench.targets import common
    from bench.targets.django_async import _row
    from bench.targets.restflow import ProductSerializer
    from restflow._compiled import serializer_data

    rows = list(common.products()[: common.PAGE_SIZE])
    timings = {
        "DRF ModelSerializer": lambda: common.ProductSerializer(rows, many=True).data,
        "restflow ModelSerializer": lambda: ProductSerializer(rows, many=True).data,
        "DRF ModelSerializer, compiled": lambda: serializer_data(
            common.ProductSerializer(rows, many=True)
        ),
        "restflow ModelSerializer, compiled": lambda: serializer_data(
            ProductSerializer(rows, many=True)
        ),
        "hand-built dicts (plain view)": lambda: [_row(product, False) for product in rows],
    }
    if common.ProductSerializer(rows, many=True).data != serializer_data(
        common.ProductSerializer(rows, many=True)
    ):
        raise SystemExit("the compiled output differs from DRF's")
    _interleaved(timings, f"{len(rows)} rows")


def render() -> None:
    """In this process: DRF's JSONRenderer and restflow's on the serializer page."""
    import django

    django.setup()
    import orjson
    from rest_framework.renderers import JSONRenderer as DRFJSONRenderer

    from bench.targets import common
    from restflow.renderers import JSONRenderer

    rows = list(common.products()[: common.PAGE_SIZE])
    page = {
        "count": common.products().count(),
        "next": "http://127.0.0.1/products/?page=2",
        "previous": None,
        "results": common.ProductSerializer(rows, many=True).data,
    }
    drf, ours = DRFJSONRenderer(), JSONRenderer()
    if drf.render(page, "application/json", {}) != ours.render(page, "application/json", {}):
        raise SystemExit("restflow's JSON bytes differ from DRF's")
    if b"null" not in drf.render(page, "application/json", {}):
        raise SystemExit("the page holds no null: reseed the bench database")
    _interleaved(
        {
            "DRF JSONRenderer": lambda: drf.render(page, "application/json", {}),
            "restflow JSONRenderer": lambda: ours.render(page, "application/json", {}),
            "orjson.dumps alone": lambda: orjson.dumps(page),
        },
        f"page of {len(rows)} rows",
    )


def dispatch_once() -> None:
    """In this process: drive the trivial GET and profile restflow's dispatch."""
    import asyncio
    import cProfile
    import pstats

    if os.environ["BENCH_HANDLER"] == "pool":
        from restflow.asgi import get_asgi_application

        app: Any = get_asgi_application()
    else:
        from django.core.asgi import get_asgi_application as stock

        app = stock()

    async def one() -> None:
        messages = [{"type": "http.request", "body": b""}]

        async def receive() -> dict[str, Any]:
            if messages:
                return messages.pop()
            await asyncio.sleep(60)
            return {"type": "http.disconnect"}

        async def send(message: Any) -> None:
            pass

        scope = {
            "type": "http",
            "method": "GET",
            "path": "/bare/",
            "headers": [(b"host", b"127.0.0.1")],
            "query_string": b"",
            "client": ("127.0.0.1", 50000),
        }
        await app(scope, receive, send)

    async def many(n: int) -> None:
        for _ in range(n):
            await one()

    asyncio.run(many(200))  # warm up
    start = time.perf_counter()
    asyncio.run(many(REQUESTS))
    per_request = (time.perf_counter() - start) / REQUESTS * 1e6
    profiler = cProfile.Profile()
    profiler.runcall(asyncio.run, many(REQUESTS))
    stats = pstats.Stats(profiler)
    dispatch = sum(
        row[3]  # cumulative time
        for (filename, _, name), row in stats.stats.items()  # type: ignore[attr-defined]  # pstats keeps its table untyped
        if name == "dispatch" and filename.endswith("restflow/_apiview.py")
    )
    print(
        f"{os.environ['BENCH_HANDLER']:5s} {per_request:7.0f} µs per request unprofiled; "
        f"restflow dispatch {dispatch:.2f} s cumulative per {REQUESTS} requests (profiled)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("what", choices=["serializer", "render", "dispatch", "dispatch-once"])
    args = parser.parse_args()
    if args.what == "dispatch-once":
        dispatch_once()
        return
    with tempfile.TemporaryDirectory(prefix="restflow-profile-") as tmp:
        db = _seed(Path(tmp))
        if args.what in ("serializer", "render"):
            subprocess.run(
                [sys.executable, "-c", f"from bench.profile import {args.what}; {args.what}()"],
                cwd=ROOT,
                env=_environment(db, "asgi"),
                check=True,
            )
            return
        for handler in ("asgi", "pool"):  # Django's stock handler, then restflow.asgi
            subprocess.run(
                [sys.executable, "-m", "bench.profile", "dispatch-once"],
                cwd=ROOT,
                env=_environment(db, handler),
                check=True,
            )


if __name__ == "__main__":
    main()
