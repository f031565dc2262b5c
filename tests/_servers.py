"""Real servers for the tests that need one: server subprocesses on 127.0.0.1.

Shared by the example-app smoke, fuzz, server and multi-process tests and the
multi-process throttle test, so starting, waiting for and stopping a server
is written once.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import pytest

#: The demo shop project.
EXAMPLE = Path(__file__).resolve().parent.parent / "example"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def manage(env: Mapping[str, str], *args: str) -> str:
    """Run the example's ``manage.py`` with ``args``; return its output (fails loudly)."""
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=EXAMPLE,
        env=dict(env),
        check=True,
        capture_output=True,
        timeout=120,
        text=True,
    )
    return done.stdout


def start(
    command: Sequence[str], *, env: Mapping[str, str], log: IO[bytes], cwd: Path = EXAMPLE
) -> subprocess.Popen[bytes]:
    """Start ``command`` (a server) with its output going to ``log``."""
    return subprocess.Popen(
        list(command), cwd=cwd, env=dict(env), stdout=log, stderr=subprocess.STDOUT
    )


def start_demo(port: int, *, env: Mapping[str, str], log: IO[bytes]) -> subprocess.Popen[bytes]:
    """Run ``example/demo.py`` (what ``scripts/demo`` runs) on 127.0.0.1:``port``."""
    return start([sys.executable, str(EXAMPLE / "demo.py"), "--port", str(port)], env=env, log=log)


def start_uvicorn(
    app: str,
    port: int,
    *,
    env: Mapping[str, str],
    log: IO[bytes],
    cwd: Path = EXAMPLE,
    app_dir: Path | None = EXAMPLE,
    extra_args: Sequence[str] = (),
) -> subprocess.Popen[bytes]:
    """Serve the ASGI ``app`` (``module:attribute``) on 127.0.0.1:``port``."""
    command = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)]
    if app_dir is not None:
        command += ["--app-dir", str(app_dir)]
    command += ["--log-level", "warning", *extra_args]
    return start(command, env=env, log=log, cwd=cwd)


def wait_until_ready(
    ready: Callable[[], bool],
    process: subprocess.Popen[bytes],
    log: IO[bytes],
    *,
    seconds: float,
) -> None:
    """Poll ``ready()`` until it is true; fail if the server exits or stays silent."""
    deadline = time.monotonic() + seconds
    while True:
        if process.poll() is not None:
            pytest.fail(f"the server exited with {process.returncode}:\n{_tail(log)}")
        try:
            if ready():
                return
        except OSError:
            pass  # not listening yet
        if time.monotonic() > deadline:
            pytest.fail(f"the server did not answer within {seconds} s:\n{_tail(log)}")
        time.sleep(0.1)


def stop(process: subprocess.Popen[bytes], *, seconds: float = 15.0) -> None:
    """Terminate ``process``, killing it if it does not exit in ``seconds``."""
    process.terminate()
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=seconds)


def connect_pg(dbname: str) -> Any:
    """An autocommit psycopg connection to ``dbname`` on 127.0.0.1:5432 (fails loudly)."""
    try:
        import psycopg
    except ImportError as exc:
        pytest.fail(
            f"RESTFLOW_TEST_DB=postgres needs psycopg (pip install 'psycopg[binary]'): {exc}"
        )
    try:
        return psycopg.connect(
            host="127.0.0.1",
            port=5432,
            user="postgres",
            dbname=dbname,
            autocommit=True,
            connect_timeout=5,
        )
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL at 127.0.0.1:5432 (user postgres) is not reachable: {exc}")


@contextlib.contextmanager
def throwaway_pg_database(prefix: str) -> Iterator[str]:
    """A PostgreSQL database of its own (``<prefix>_<pid>``), dropped on the way out.

    Servers started by a test use it, so the suite's own ``test`` database is never touched.
    """
    name = f"{prefix}_{os.getpid()}"
    with connect_pg("test") as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with connect_pg("test") as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _tail(log: IO[bytes]) -> str:
    try:
        with open(log.name, "rb") as output:
            return output.read().decode(errors="replace")[-4000:]
    except (OSError, TypeError):
        return "(no log)"
