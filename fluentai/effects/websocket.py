"""The WebSocket effect: the connections of every running server, addressed by id alone
(with a cluster: of every server's group, on every node)."""

from __future__ import annotations

from typing import Any

from ..server.connections import CLOSE_NORMAL
from ..syntax.errors import EffectErr
from . import STRING, EffectContext, EffectHandler, expect, operation
from .http_mapping import to_frame
from .http_server import HttpServer, broadcast_filter, close_connection


class WebSocket(EffectHandler):
    effect = "WebSocket"

    def __init__(self, ctx: EffectContext) -> None:
        super().__init__(ctx)

    @property
    def http(self) -> HttpServer:
        handler = self.ctx.handler("HttpServer")
        if not isinstance(handler, HttpServer):
            raise EffectErr("WebSocket needs the HttpServer effect")
        return handler

    def _all(self) -> list[Any]:
        return [r.app for r in self.http.servers.values()]

    @operation()
    def connections(self) -> list[str]:
        """The ids of every server's open WebSocket connections."""
        return [cid for app in self._all() for cid in app.registry.group_ids()]

    @operation()
    def connection_count(self) -> int:
        """How many WebSocket connections every server has open."""
        return sum(app.registry.group_count() for app in self._all())

    @operation(eager=True)
    async def send(self, conn_id: Any, message: Any) -> bool:
        """Send a message to a connection of any server, waiting while its buffer is full; false when it is gone."""
        app, conn = self.http.find_connection(conn_id)
        return await app.registry.put(conn, to_frame(message))

    @operation(eager=True)
    async def broadcast(self, message: Any, options: Any = None) -> int:
        """To every connection of every server; options {"meta": KEY} as for ws_broadcast."""
        frame = to_frame(message)
        meta = broadcast_filter("WebSocket.broadcast()", options)
        return sum(app.registry.group_broadcast(frame, meta) for app in self._all())

    @operation(eager=True)
    async def close(self, conn_id: Any, code: Any = CLOSE_NORMAL, reason: Any = "") -> None:
        """Close a WebSocket connection of any server (code 1000 unless given)."""
        _, conn = self.http.find_connection(conn_id)
        close_connection(conn, code, reason, "WebSocket.close()")

    @operation()
    def info(self, conn_id: Any) -> dict[str, Any]:
        """A connection's {"id", "server_id", "path", "remote_address", "headers", "subprotocol", "connected_at", "meta"}."""
        app, conn = self.http.find_connection(conn_id)
        return app.registry.info(conn)

    @operation()
    def set_meta(self, conn_id: Any, key: Any, value: Any) -> None:
        """Store a value under `key` in a connection's meta (see `info`)."""
        app, conn = self.http.find_connection(conn_id)
        expect("WebSocket.set_meta()", key, STRING.named("a string key"))
        app.registry.set_meta(conn, key, value)
