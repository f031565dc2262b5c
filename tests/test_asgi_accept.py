"""``restflow.asgi.eager_uvloop``: every pending connection is accepted when the listener is ready.

uvloop alone (libuv 1.45 and later) accepts one connection per loop iteration: under load
new connections, and the requests their clients already sent, wait in the kernel's accept
queue (issue 13, item 5: the served tail at 1,000 connections). Counted here, not timed:
connections pending at once, and how many each loop accepts within the same few turns.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

import pytest
import uvloop

from restflow.asgi import eager_uvloop

#: Connections that wait in the accept queue together (below the listen backlog).
PENDING = 50
#: Loop turns allowed to accept them: enough for eager accepting, far too few for one a turn.
TURNS = 5


class _Counting(asyncio.Protocol):
    made: list[asyncio.BaseTransport]

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.made.append(transport)


async def _accepted_within_turns() -> tuple[int, int]:
    """(connections made within TURNS loop turns, port) with PENDING clients waiting."""
    made: list[asyncio.BaseTransport] = []

    def protocol() -> _Counting:
        counting = _Counting()
        counting.made = made
        return counting

    loop = asyncio.get_running_loop()
    server = await loop.create_server(protocol, "127.0.0.1", 0, backlog=PENDING * 2)
    port: int = server.sockets[0].getsockname()[1]
    # Blocking connects: the kernel completes each handshake and queues the connection.
    clients = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(PENDING)]
    try:
        for _ in range(TURNS):
            await asyncio.sleep(0)
        return len(made), port
    finally:
        for client in clients:
            client.close()
        for transport in made:
            transport.close()
        server.close()
        await server.wait_closed()


def _run(new_loop: Callable[[], asyncio.AbstractEventLoop]) -> tuple[int, int]:
    loop = new_loop()
    try:
        return loop.run_until_complete(_accepted_within_turns())
    finally:
        loop.close()


def test_eager_uvloop_accepts_every_pending_connection_in_one_turn() -> None:
    eager, _ = _run(eager_uvloop)
    plain, _ = _run(uvloop.new_event_loop)
    assert eager == PENDING
    assert plain <= TURNS + 1  # uvloop's own accepting: one connection a turn


def test_closing_the_server_stops_accepting() -> None:
    _, port = _run(eager_uvloop)
    # The duplicate listening socket is closed with the server: nothing listens any more.
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
