"""The demo shop under every ASGI server the deployment guide names, with the guide's commands.

uvicorn, Granian, Hypercorn and Daphne each serve ``example/shop_project`` twice: through
``restflow.asgi`` (the default of ``shop_project.asgi``) and through Django's own handler
(``SHOP_ASGI=django``). Daphne also serves the API mounted in a Django Channels
``ProtocolTypeRouter`` beside a websocket consumer (``tests/channels_app.py``). All the
servers start at once, each on a free port with its own copy of one migrated SQLite
database. Each answers the same smoke requests: a list, a create with a token, a JSON 404,
an OPTIONS, and a 429 with ``Retry-After`` once the anonymous rate is spent.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest
from websockets.sync.client import connect

from tests._servers import EXAMPLE, free_port, manage, start, stop, wait_until_ready

pytestmark = pytest.mark.own_servers

ROOT = EXAMPLE.parent
BIN = Path(sys.executable).parent
START_DEADLINE = 90.0
REQUEST_TIMEOUT = 15.0
ANON_RATE = 3  # per minute: the fourth anonymous request of a server is throttled
APP = "shop_project.asgi:application"

#: The command lines of docs/guide/deployment.md, on 127.0.0.1 and a port.
COMMANDS: dict[str, list[str]] = {
    "uvicorn": ["uvicorn", APP, "--host", "127.0.0.1", "--port", "{port}"],
    "granian": ["granian", "--interface", "asgi", "--host", "127.0.0.1", "--port", "{port}", APP],
    "hypercorn": ["hypercorn", "--bind", "127.0.0.1:{port}", APP],
    "daphne": ["daphne", "-b", "127.0.0.1", "-p", "{port}", APP],
}
#: Granian's ASGI interface sends lifespan events, which Django's handler refuses;
#: its ``asginl`` interface is ASGI without lifespan.
DJANGO_HANDLER_ARGS = {"granian": ("--interface", "asgi", "--interface", "asginl")}
CHANNELS = "daphne + channels"
TARGETS = [
    *(f"{server} / restflow.asgi" for server in COMMANDS),
    *(f"{server} / Django's handler" for server in COMMANDS),
]

TOKEN_SCRIPT = """
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token
print(Token.objects.create(user=User.objects.create_user("smoke")).key)
"""


@dataclass
class Server:
    base: str
    process: Any
    log: IO[bytes]


@dataclass
class Servers:
    token: str
    running: dict[str, Server]


def _command(target: str, port: int) -> tuple[list[str], dict[str, str]]:
    if target == CHANNELS:
        argv = [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port)]
        return [*argv, "tests.channels_app:application"], {}
    server, _, handler = target.partition(" / ")
    argv = [arg.format(port=port) for arg in COMMANDS[server]]
    env = {}
    if handler == "Django's handler":
        env["SHOP_ASGI"] = "django"
        if server in DJANGO_HANDLER_ARGS:
            old, new = DJANGO_HANDLER_ARGS[server][:2], DJANGO_HANDLER_ARGS[server][2:]
            at = argv.index(old[0])
            argv[at : at + 2] = new
    argv[0] = str(BIN / argv[0])
    return argv, env


def _request(
    base: str, method: str, path: str, token: str | None = None, body: Any = None
) -> tuple[int, dict[str, str], Any]:
    headers = {"Accept": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Token {token}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(base + path, data, headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:
            received = {name.lower(): value for name, value in response.headers.items()}
            return response.status, received, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        with error:
            received = {name.lower(): value for name, value in error.headers.items()}
            return error.code, received, json.loads(error.read() or b"null")


def _healthy(base: str) -> bool:
    return _request(base, "GET", "/api/health/")[0] == 200


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    directory = tmp_path_factory.mktemp("servers")
    template = directory / "template.sqlite3"
    env = {
        **os.environ,
        "SHOP_DB": str(template),
        "SHOP_DEBUG": "0",
        "SHOP_ANON_RATE": f"{ANON_RATE}/min",
        "DJANGO_SETTINGS_MODULE": "shop_project.settings",
        # tests.channels_app from the repository, shop_project from example/.
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(EXAMPLE)]),
    }
    manage(env, "migrate", "--noinput")
    token = manage(env, "shell", "-v", "0", "-c", TOKEN_SCRIPT).split()[-1]
    running: dict[str, Server] = {}
    try:
        for target in [*TARGETS, CHANNELS]:
            slug = "".join(c if c.isalnum() else "-" for c in target)
            database = directory / f"{slug}.sqlite3"
            shutil.copyfile(template, database)
            port = free_port()
            argv, extra = _command(target, port)
            log = (directory / f"{slug}.log").open("wb")
            process = start(argv, env={**env, **extra, "SHOP_DB": str(database)}, log=log)
            running[target] = Server(f"http://127.0.0.1:{port}", process, log)
        for server in running.values():
            wait_until_ready(
                functools.partial(_healthy, server.base),
                server.process,
                server.log,
                seconds=START_DEADLINE,
            )
        yield Servers(token, running)
    finally:
        for server in running.values():
            stop(server.process)
            server.log.close()


@pytest.mark.parametrize("target", [*TARGETS, CHANNELS])
def test_smoke(servers: Servers, target: str) -> None:
    base, token = servers.running[target].base, servers.token

    status, _, page = _request(base, "GET", "/api/products/", token)
    assert (status, page["count"], len(page["results"])) == (200, 30, 20)

    status, _, created = _request(
        base, "POST", "/api/products/", token, {"name": "S", "price": "1"}
    )
    assert (status, created["name"], created["price"]) == (201, "S", "1.00")
    status, _, _ = _request(base, "POST", "/api/products/", None, {"name": "T", "price": "1"})
    assert status == 401

    status, headers, body = _request(base, "GET", "/api/products/999999/", token)
    assert (status, headers["content-type"]) == (404, "application/json")
    assert body == {"detail": "No Product matches the given query."}

    status, headers, options = _request(base, "OPTIONS", "/api/products/", token)
    assert (status, options["name"]) == (200, "Product List")
    assert "POST" in options["actions"]

    statuses = [_request(base, "GET", "/api/products/")[:2] for _ in range(ANON_RATE + 1)]
    assert [status for status, _ in statuses] == [200] * ANON_RATE + [429]
    assert 0 < int(statuses[-1][1]["retry-after"]) <= 60


def test_channels_routes_http_to_restflow_and_websockets_to_a_consumer(
    servers: Servers,
) -> None:
    base = servers.running[CHANNELS].base
    assert _request(base, "GET", "/api/health/")[::2] == (200, {"status": "ok"})
    with connect(base.replace("http://", "ws://") + "/ws/echo/", open_timeout=15) as socket:
        socket.send("hello")
        assert socket.recv(timeout=15) == "echo: hello"


def _log(servers: Servers, target: str) -> str:
    return Path(servers.running[target].log.name).read_text(errors="replace")


@pytest.mark.parametrize(
    ("server", "complaint"),
    [
        ("uvicorn", "ASGI 'lifespan' protocol appears unsupported."),
        ("hypercorn", "ASGI Framework Lifespan error, continuing without Lifespan support"),
    ],
)
def test_restflow_asgi_answers_lifespan_where_djangos_handler_does_not(
    servers: Servers, server: str, complaint: str
) -> None:
    assert complaint in _log(servers, f"{server} / Django's handler")
    restflow_log = _log(servers, f"{server} / restflow.asgi")
    assert complaint not in restflow_log
    assert "Traceback" not in restflow_log


def test_the_deployment_guide_shows_each_tested_command() -> None:
    guide = (ROOT / "docs" / "guide" / "deployment.md").read_text()
    for argv in COMMANDS.values():
        line = " ".join(argv).format(port=8000).replace(APP, "project.asgi:application")
        assert f"`{line}`" in guide
