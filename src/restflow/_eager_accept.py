"""uvloop with eager accepting: every pending connection is accepted when the listener is ready.

Since libuv 1.45 (uvloop 0.18 and later), a listening socket accepts *one* connection per
event-loop iteration (libuv pull request 3696). Under load an iteration runs every
callback that is ready, which can take a long time, so new connections pile up in the
kernel's accept queue while the requests their clients have already written wait there,
for seconds at a thousand connections. asyncio's own loop accepts up to ``backlog``
connections each time the listener is ready; this loop does the same on uvloop.

:func:`restflow.asgi.eager_uvloop` is the loop factory to give uvicorn
(``--loop restflow.asgi:eager_uvloop``).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import socket
from collections.abc import Callable
from typing import Any

__all__ = ["new_eager_uvloop"]

logger = logging.getLogger("restflow.asgi")

#: As asyncio's loop: how long to stop accepting after running out of file descriptors.
_RETRY_AFTER_EMFILE = 1.0
_OUT_OF_RESOURCES = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})


class _Acceptor:
    """Accepts every pending connection of one listening socket, through a duplicate of it.

    The server's own (libuv) watcher keeps accepting too; whichever calls ``accept()``
    first gets a connection, and each connection is accepted once.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        listening: socket.socket,
        protocol_factory: Callable[[], asyncio.BaseProtocol],
        limit: int,
    ) -> None:
        self._loop = loop
        self._socket = socket.socket(fileno=os.dup(listening.fileno()))
        self._socket.setblocking(False)
        self._protocol_factory = protocol_factory
        self._limit = max(limit, 1)
        self._closed = False
        self._resume()

    def _resume(self) -> None:
        if not self._closed:
            self._loop.add_reader(self._socket.fileno(), self._accept)

    def _accept(self) -> None:
        for _ in range(self._limit):
            try:
                connection, _address = self._socket.accept()
            except (BlockingIOError, InterruptedError):
                return  # nothing left (or the server's watcher took it)
            except ConnectionAbortedError:
                continue
            except OSError as error:
                if error.errno not in _OUT_OF_RESOURCES:
                    raise
                logger.error("Accepting a connection failed; retrying in a second", exc_info=error)
                self._loop.remove_reader(self._socket.fileno())
                self._loop.call_later(_RETRY_AFTER_EMFILE, self._resume)
                return
            connection.setblocking(False)
            self._loop.create_task(self._connect(connection))

    async def _connect(self, connection: socket.socket) -> None:
        try:
            await self._loop.connect_accepted_socket(self._protocol_factory, connection)
        except OSError:
            connection.close()  # the client left before its connection was set up

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._loop.remove_reader(self._socket.fileno())
            self._socket.close()


class _EagerServer:
    """The loop's server, plus the acceptors it closes along with itself."""

    def __init__(self, server: asyncio.AbstractServer, acceptors: list[_Acceptor]) -> None:
        self._server = server
        self._acceptors = acceptors

    def close(self) -> None:
        for acceptor in self._acceptors:
            acceptor.close()
        self._server.close()

    async def wait_closed(self) -> None:
        await self._server.wait_closed()

    async def __aenter__(self) -> _EagerServer:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()
        await self.wait_closed()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._server, name)


def new_eager_uvloop() -> asyncio.AbstractEventLoop:
    """A new uvloop event loop whose TCP servers accept every pending connection at once."""
    import uvloop

    class EagerAcceptLoop(uvloop.Loop):
        async def create_server(
            self,
            protocol_factory: Callable[[], asyncio.BaseProtocol],
            host: Any = None,
            port: Any = None,
            *args: Any,
            **kwargs: Any,
        ) -> Any:
            server = await super().create_server(protocol_factory, host, port, *args, **kwargs)
            if kwargs.get("ssl") is not None:
                return server  # TLS handshakes stay with uvloop's own accepting
            # uvloop's Server (typed as asyncio's abstract one) lists its sockets.
            listeners: tuple[socket.socket, ...] = getattr(server, "sockets", ())
            acceptors = [
                _Acceptor(self, listening, protocol_factory, kwargs.get("backlog", 100))
                for listening in listeners
                if listening.family in (socket.AF_INET, socket.AF_INET6)
            ]
            return _EagerServer(server, acceptors)

    loop: asyncio.AbstractEventLoop = EagerAcceptLoop()
    return loop
