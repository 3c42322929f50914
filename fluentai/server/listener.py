"""Serving an ASGI app with uvicorn (HTTP/1.1, WebSockets by websockets' sans-I/O protocol)
on a socket we bind ourselves, so port 0 works and bind errors are ours to word."""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any


class ListenError(OSError):
    pass


def bind(host: str, port: int, reuse_port: bool = False) -> socket.socket:
    """A listening socket. `reuse_port` (clustering: `fluentai run --workers N`) sets
    SO_REUSEPORT, so several processes listen on one port and the kernel spreads the
    incoming connections among them."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        if not hasattr(socket, "SO_REUSEPORT"):
            sock.close()
            raise ListenError(f"cannot listen on {host}:{port} with several processes: "
                              "this system has no SO_REUSEPORT")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as e:
        sock.close()
        raise ListenError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
    sock.setblocking(False)
    return sock


def _quiet_uvicorn() -> None:
    # Our app reports its own errors in FluentAI terms; uvicorn's logs would add Python
    # tracebacks and access lines to the program's output.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi"):
        logger = logging.getLogger(name)
        logger.handlers = [logging.NullHandler()]
        logger.propagate = False


class Listener:
    """One uvicorn server on one bound socket."""

    def __init__(self, app: Any, sock: socket.socket, *, max_message_size: int,
                 ping_interval_ms: float | None, ping_timeout_ms: float | None,
                 compression: bool) -> None:
        import uvicorn  # imported on first listen: programs without servers never load it

        _quiet_uvicorn()
        self.sock = sock
        self.config = uvicorn.Config(
            app,
            ws="websockets-sansio",
            lifespan="off",
            log_config=None,
            access_log=False,
            ws_max_size=max_message_size,
            ws_ping_interval=ping_interval_ms / 1000 if ping_interval_ms else None,
            ws_ping_timeout=ping_timeout_ms / 1000 if ping_timeout_ms else None,
            ws_per_message_deflate=compression,
            timeout_graceful_shutdown=5,
        )
        self.server = uvicorn.Server(self.config)
        self.task: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    async def start(self) -> None:
        config = self.config
        if not config.loaded:
            config.load()
        self.server.lifespan = config.lifespan_class(config)
        await self.server.startup(sockets=[self.sock])
        self.task = asyncio.get_running_loop().create_task(self._serve())

    async def _serve(self) -> None:
        await self.server.main_loop()
        await self.server.shutdown(sockets=[self.sock])

    async def stop(self) -> None:
        """Stop accepting, let in-flight requests finish, close the socket."""
        self.server.should_exit = True
        if self.task is not None:
            await asyncio.shield(self.task)
