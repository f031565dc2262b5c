"""Run the benchmark suite: ``python -m bench`` (full, ~7 min) or ``python -m bench --quick``.

In-process: every target runs in its own process (see ``bench/worker.py``); the
orchestrator asks them in turn for each scenario's batch, cut into slices that the
targets take turns at (interleaved, in a rotating order), and keeps the median of
each round's slice medians. Served: every target behind a real
server on 127.0.0.1, loaded by ``wrk`` in turn. Results: ``bench/results/``.

drf-restflow's import name is ``restflow`` too: its worker and server run with the
interpreter of a side venv, ``.venvs/bench-drf-restflow``, built on first use (see
``bench/sidevenv.py``); every other target runs with this interpreter.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from bench import report, sidevenv

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"

#: name -> (URLconf module, handler)
TARGETS: dict[str, tuple[str, str]] = {
    "drf": ("drf", "wsgi"),
    "adrf": ("adrf", "asgi"),
    "restflow": ("restflow", "asgi"),
    "restflow-drf": ("restflow_drf", "asgi"),
    "restflow+asgi": ("restflow_pool", "pool"),
    "django-async": ("django_async", "asgi"),
    "drf-restflow": ("drf_restflow", "asgi"),
    "ninja": ("django_ninja", "asgi"),
}
SCENARIOS = [
    "sync_hooks",
    "async_hooks",
    "bare",
    "list",
    "list_latest",
    "retrieve",
    "create",
    "update",
    "delete",
]
#: the plain async Django views (and the django-ninja operations) only exist for these
PLAIN = {"bare", "list", "list_latest"}
LIMITED = {"django-async", "ninja"}
SERVED = ["restflow+asgi", "restflow", "drf-restflow", "adrf", "drf"]
#: uvicorn's ``--loop`` per served async target (default uvloop). ``restflow+asgi`` is
#: served as docs/guide/deployment.md recommends; ``--served-only --targets
#: restflow+asgi@uvloop`` serves it on another loop for comparison.
LOOPS = {"restflow+asgi": "restflow.asgi:eager_uvloop"}
DRF_THREADS = 64
#: Slices of each round's batch per target and scenario, interleaved across targets.
SLICES = 4


def _env(target: str, db: Path) -> dict[str, str]:
    module, handler = TARGETS[_base(target)]
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "BENCH_TARGET": module,
        "BENCH_HANDLER": handler,
        "BENCH_DB": str(db),
        "PYTHONPATH": str(ROOT),
    }


class Worker:
    def __init__(self, target: str, db: Path) -> None:
        self.target = target
        self.process = subprocess.Popen(
            [sidevenv.python(target), "-m", "bench.worker"],
            cwd=ROOT,
            env=_env(target, db),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def ask(self, **command: Any) -> dict[str, Any]:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"worker {self.target} died (see its stderr above)")
        reply: dict[str, Any] = json.loads(line)
        if reply.get("errors"):
            raise RuntimeError(f"{self.target} {command}: {reply}")
        return reply

    def close(self) -> None:
        with suppress(RuntimeError, BrokenPipeError, ValueError):
            self.ask(op="quit")
        self.process.wait(timeout=10)


def supports(target: str, scenario: str) -> bool:
    return target not in LIMITED or scenario in PLAIN


def in_process(db: Path, work: Path, rounds: int, n: int, budget: float) -> dict[str, Any]:
    workers = {}
    for target in TARGETS:
        copy = work / f"{target}.sqlite3"
        shutil.copy(db, copy)
        workers[target] = Worker(target, copy)
    try:
        counts: dict[str, dict[str, Any]] = {}
        for scenario in SCENARIOS:
            for target, worker in workers.items():
                if supports(target, scenario):
                    worker.ask(op="run", scenario=scenario, n=20, budget=1.0)  # warm up
                    counts.setdefault(scenario, {})[target] = worker.ask(
                        op="count", scenario=scenario, n=10
                    )
        medians: dict[str, dict[str, list[float]]] = {s: {} for s in SCENARIOS}
        names = list(workers)
        for r in range(rounds):
            for scenario in SCENARIOS:
                # The round's batch per target is cut into slices, the targets taking
                # turns slice by slice (in a rotating order), so a burst of load from
                # outside hits every target of the round alike rather than one target's
                # whole batch; the round's figure is the median of its slice medians.
                slices: dict[str, list[float]] = {}
                for k in range(SLICES):
                    turn = r + k
                    for target in names[turn % len(names) :] + names[: turn % len(names)]:
                        if supports(target, scenario):
                            reply = workers[target].ask(
                                op="run",
                                scenario=scenario,
                                n=max(n // SLICES, 10),
                                budget=budget / SLICES,
                            )
                            slices.setdefault(target, []).append(reply["median_us"])
                for target, values in slices.items():
                    medians[scenario].setdefault(target, []).append(statistics.median(values))
            print(f"  in-process round {r + 1}/{rounds} done", flush=True)
    finally:
        for worker in workers.values():
            worker.close()
    return {"counts": counts, "medians_us": medians}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _base(target: str) -> str:
    """``restflow+asgi@uvloop`` -> ``restflow+asgi``: a served target with its loop named."""
    return target.partition("@")[0]


def _server_command(target: str, port: int) -> list[str]:
    loop = target.partition("@")[2] or LOOPS.get(target, "uvloop")
    target = _base(target)
    if target == "drf":
        return [
            sys.executable, "-m", "gunicorn", "bench.wsgi:application",
            "--bind", f"127.0.0.1:{port}", "--workers", "1", "--worker-class", "gthread",
            "--threads", str(DRF_THREADS), "--backlog", "4096", "--worker-connections", "4096",
            "--log-level", "warning",
        ]  # fmt: skip
    return [
        sidevenv.python(target), "-m", "uvicorn", "bench.asgi:application",
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
        "--loop", loop, "--http", "httptools", "--backlog", "4096",
        "--no-access-log", "--log-level", "warning", "--lifespan", "off",
    ]  # fmt: skip


@contextmanager
def servers(db: Path, work: Path, targets: list[str] = SERVED) -> Iterator[dict[str, int]]:
    ports, processes = {}, []
    try:
        for target in targets:
            copy = work / f"served-{target.replace('@', '-')}.sqlite3"
            shutil.copy(db, copy)
            port = _free_port()
            processes.append(
                subprocess.Popen(_server_command(target, port), cwd=ROOT, env=_env(target, copy))
            )
            ports[target] = port
        for port in ports.values():
            _wait_for(port)
        yield ports
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def _wait_for(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"no server on 127.0.0.1:{port}")


def wrk(port: int, connections: int, seconds: int) -> dict[str, float]:
    """Load 127.0.0.1 only, for ``seconds`` (wrk stops by time)."""
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency",
         f"http://127.0.0.1:{port}/sleep/"],
        capture_output=True, text=True, check=True, timeout=seconds + 30,
    ).stdout  # fmt: skip
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}

    def percentile(name: str) -> float:
        found = re.search(rf"{name}%\s+([\d.]+)(us|ms|s)\b", out)
        return float(found.group(1)) * scale[found.group(2)] if found else float("nan")

    errors = sum(
        int(x)
        for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", out)
        + re.findall(r"Non-2xx or 3xx responses: (\d+)", out)
    )
    return {
        "rps": rps,
        "p50_ms": percentile("50"),
        "p99_ms": percentile("99"),
        "errors": errors,
    }


def served(
    db: Path,
    work: Path,
    rounds: int,
    levels: list[int],
    seconds: int,
    targets: list[str] = SERVED,
) -> dict[str, Any]:
    results: dict[str, dict[str, list[dict[str, float]]]] = {}
    with servers(db, work, targets) as ports:
        for port in ports.values():
            wrk(port, 50, 1)  # warm up
        for r in range(rounds):
            order = targets[r % len(targets) :] + targets[: r % len(targets)]
            for level in levels:
                for target in order:
                    result = wrk(ports[target], level, seconds)
                    results.setdefault(str(level), {}).setdefault(target, []).append(result)
                    time.sleep(0.5)
            print(f"  served round {r + 1}/{rounds} done", flush=True)
    return results


def _seed(work: Path) -> Path:
    """The seeded template database every target copies."""
    db = work / "template.sqlite3"
    subprocess.run(
        [sys.executable, "-m", "bench.worker", "--seed", str(db)],
        cwd=ROOT, env=_env("restflow", db), check=True,
    )  # fmt: skip
    return db


def served_only(args: argparse.Namespace) -> None:
    """The served runs alone, every round printed: the tails need the spread, not a median."""
    if shutil.which("wrk") is None:
        sys.exit("wrk not found: `apt-get install -y wrk`")
    targets = [t for t in args.targets.split(",") if t]
    unknown = sorted({_base(t) for t in targets} - set(SERVED))
    if unknown:
        sys.exit(f"unknown served targets {unknown}; known: {SERVED}")
    for target in targets:
        if target in sidevenv.SIDE:
            sidevenv.ensure(target)
    levels = [int(level) for level in args.levels.split(",")]
    with tempfile.TemporaryDirectory(prefix="restflow-bench-") as tmp:
        work = Path(tmp)
        db = _seed(work)
        results = served(db, work, args.rounds, levels, args.seconds, targets)
    print(f"\n{'c':>5} {'target':<14} {'round':>5} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'p99/p50':>7} {'÷drf':>6} {'errors':>6}")  # fmt: skip
    for level, per_target in results.items():
        drf = per_target.get("drf")
        for target, runs in per_target.items():
            for r, run in enumerate(runs):
                vs_drf = run["rps"] / drf[r]["rps"] if drf else float("nan")
                print(
                    f"{level:>5} {target:<14} {r + 1:>5} {run['rps']:>8,.0f} "
                    f"{run['p50_ms']:>8,.0f} {run['p99_ms']:>8,.0f} "
                    f"{run['p99_ms'] / run['p50_ms']:>7.2f} "
                    f"{vs_drf:>6.2f} {run['errors']:>6g}"
                )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smoke run (seconds)")
    parser.add_argument("--no-served", action="store_true", help="skip the uvicorn/wrk runs")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results directory")
    parser.add_argument(
        "--served-only",
        action="store_true",
        help="only the uvicorn/wrk runs; print per-round req/s, p50 and p99 (writes nothing)",
    )
    parser.add_argument(
        "--targets", default=",".join(SERVED), help="served targets, comma-separated"
    )
    parser.add_argument("--levels", default="200,1000", help="wrk connections (--served-only)")
    parser.add_argument(
        "--seconds", type=int, default=5, help="seconds per wrk run (--served-only)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds (--served-only)")
    args = parser.parse_args()
    if args.served_only:
        served_only(args)
        return
    if args.quick:
        rounds, n, budget = 1, 30, 0.2
        served_rounds, levels, seconds = 1, [50], 1
    else:
        rounds, n, budget = 5, 400, 1.0
        served_rounds, levels, seconds = 2, [50, 200, 1000], 5
    peers = {target: sidevenv.ensure(target) for target in sidevenv.SIDE}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="restflow-bench-") as tmp:
        work = Path(tmp)
        db = _seed(work)
        print(f"in-process: {rounds} rounds x {len(SCENARIOS)} scenarios", flush=True)
        data: dict[str, Any] = {"in_process": in_process(db, work, rounds, n, budget)}
        if not args.no_served:
            if shutil.which("wrk") is None:
                sys.exit("wrk not found: `apt-get install -y wrk` (or pass --no-served)")
            print(f"served: {served_rounds} rounds x {levels} connections", flush=True)
            data["served"] = served(db, work, served_rounds, levels, seconds)
    data["meta"] = {
        "quick": args.quick,
        "seconds": round(time.monotonic() - started, 1),
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "drf_threads": DRF_THREADS,
        "versions": {**report.versions(), **peers},
    }
    args.out.mkdir(parents=True, exist_ok=True)
    report.write(data, args.out)
    print((args.out / "results.md").read_text())


if __name__ == "__main__":
    main()
