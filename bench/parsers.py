"""restflow's JSONParser against DRF's on crafted and ordinary bodies: ``python -m bench.parsers``.

Each line is the best of several interleaved runs of each parser on the same body, in
CPU time of this process (other processes on a shared machine do not count), and the
ratio restflow / DRF. The bodies are the ones ``tests/test_parsers.py`` times.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import time

import django
from django.conf import settings

settings.configure(DATA_UPLOAD_MAX_MEMORY_SIZE=2_621_440)
django.setup()

from rest_framework import exceptions  # noqa: E402  (needs configured settings)
from rest_framework import parsers as drf_parsers  # noqa: E402

from restflow import parsers  # noqa: E402


def crafted(size: int) -> bytes:
    """513 ``[`` and an unterminated string of escaped quotes (issue 10, item 1)."""
    head = "[" * 513 + '"'
    return (head + '\\"' * ((size - len(head)) // 2)).encode()


def records(size: int) -> bytes:
    """About ``size`` bytes of product records."""
    return json.dumps(
        [
            {
                "id": i,
                "name": f"product {i} " + "x" * (5 + i % 36),
                "price": f"{1 + i % 999}.{i % 100:02d}",
                "category": 1 + i % 50,
                "tags": ["tools", "garden"],
                "size": {"w": (i % 97) / 7, "h": (i % 89) / 3},
            }
            for i in range(size // 185)
        ]
    ).encode()


def _once(parser: drf_parsers.BaseParser, body: bytes) -> float:
    start = time.process_time()
    with contextlib.suppress(exceptions.ParseError, RecursionError):
        parser.parse(io.BytesIO(body), "application/json", {})
    return time.process_time() - start


def compare(name: str, body: bytes, rounds: int) -> None:
    ours, drf = parsers.JSONParser(), drf_parsers.JSONParser()
    a = b = math.inf
    for _ in range(rounds):
        a, b = min(a, _once(ours, body)), min(b, _once(drf, body))
    times = f"restflow {a * 1e3:8.3f} ms  DRF {b * 1e3:8.3f} ms"
    print(f"{name:26} {len(body):>9} B  {times}  {a / b:5.2f}x")


def main() -> None:
    for size, label in ((4608, "4.5 KB"), (16 * 1024, "16 KB"), (64 * 1024, "64 KB")):
        compare(f"crafted {label}", crafted(size), 50)
    compare("crafted 2.5 MB", crafted(2_600_000), 9)
    compare("ordinary records 2.4 MB", records(2_400_000), 9)
    compare("ordinary text 2.4 MB", json.dumps({"text": "lorem ipsum " * 200_000}).encode(), 9)
    compare("ordinary floats 2.4 MB", json.dumps([i / 7 for i in range(120_000)]).encode(), 9)
    compare("ordinary small", json.dumps({"name": "chisel", "price": "4.20"}).encode(), 5_000)


if __name__ == "__main__":
    main()
