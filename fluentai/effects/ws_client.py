"""The WebSocketClient effect: connect to a WebSocket server, send, receive, close.

Uses the websockets library's asyncio client (imported on first connect). Clients are named
by ids the program gets from `connect`."""

from __future__ import annotations

import asyncio
from typing import Any

from ..syntax.errors import EffectErr, ValueErr
from . import INT, MAP, NUMBER, STRING, EffectContext, EffectHandler, expect, operation
from .http_mapping import to_frame
from .network import cannot_connect


class WebSocketClient(EffectHandler):
    effect = "WebSocketClient"

    def __init__(self, ctx: EffectContext) -> None:
        super().__init__(ctx)
        self.clients: dict[str, Any] = {}
        self.count = 0

    def _client(self, what: str, client_id: Any) -> Any:
        expect(what, client_id, STRING.named("a client id string"))
        ws = self.clients.get(client_id)
        if ws is None:
            raise ValueErr(f"{what}: unknown client id '{client_id}'")
        return ws

    @operation()
    async def connect(self, url: Any, options: Any = None) -> str:
        """Open a connection; options: headers (map), subprotocols (list),
        max_message_size (bytes), compression (bool), open_timeout_ms."""
        from websockets.asyncio.client import connect
        from websockets.exceptions import InvalidHandshake, InvalidURI

        expect("WebSocketClient.connect()", url, STRING.named("a ws:// or wss:// URL"))
        opts = options or {}
        expect("WebSocketClient.connect()", opts, MAP.named("an options map"))
        headers = opts.get("headers") or {}
        kwargs: dict[str, Any] = {
            "additional_headers": {str(k): str(v) for k, v in headers.items()},
            "max_size": opts.get("max_message_size", 1024 * 1024),
            "compression": "deflate" if opts.get("compression", True) else None,
            "open_timeout": opts.get("open_timeout_ms", 10_000) / 1000,
        }
        if opts.get("subprotocols"):
            kwargs["subprotocols"] = list(opts["subprotocols"])
        try:
            ws = await connect(url, **kwargs)
        except InvalidURI:
            raise ValueErr(f"WebSocketClient.connect(): invalid URL '{url}'") from None
        except InvalidHandshake as e:
            raise EffectErr(f"WebSocketClient.connect(): {url} refused the connection: {e}") from None
        except (TimeoutError, OSError) as e:
            raise EffectErr(cannot_connect("WebSocketClient.connect()", url, e)) from None
        self.count += 1
        client_id = f"client_{self.count}"
        self.clients[client_id] = ws
        return client_id

    @operation()
    async def send(self, client_id: Any, message: Any) -> bool:
        """Send a frame; false when the connection is already closed."""
        from websockets.exceptions import ConnectionClosed

        ws = self._client("WebSocketClient.send()", client_id)
        try:
            await ws.send(to_frame(message))
        except ConnectionClosed:
            return False
        return True

    @operation()
    async def receive(self, client_id: Any, timeout_ms: Any = None) -> Any:
        """The next message (string or bytes); nil once the connection is closed, or when
        `timeout_ms` passes first (see `status` to tell them apart)."""
        from websockets.exceptions import ConnectionClosed

        ws = self._client("WebSocketClient.receive()", client_id)
        if timeout_ms is not None:
            expect("WebSocketClient.receive()", timeout_ms, NUMBER.named("milliseconds"))
        try:
            if timeout_ms is None:
                return await ws.recv()
            return await asyncio.wait_for(ws.recv(), timeout_ms / 1000)
        except (TimeoutError, ConnectionClosed):
            return None

    @operation()
    def status(self, client_id: Any) -> dict[str, Any]:
        """{"open": bool, "close_code": int or nil, "close_reason": string or nil}."""
        from websockets.protocol import State

        ws = self._client("WebSocketClient.status()", client_id)
        return {"open": ws.state is State.OPEN, "close_code": ws.close_code,
                "close_reason": ws.close_reason}

    @operation()
    async def close(self, client_id: Any, code: Any = 1000, reason: Any = "") -> None:
        """Close a client connection (code 1000 unless given)."""
        ws = self._client("WebSocketClient.close()", client_id)
        expect("WebSocketClient.close()", code, INT.named("a close code"))
        expect("WebSocketClient.close()", reason, STRING.named("a reason string"))
        await ws.close(code, reason)

    async def shutdown(self) -> None:
        for ws in list(self.clients.values()):
            try:
                await asyncio.wait_for(ws.close(1001, "client shutting down"), 2)
            except Exception:
                pass
        self.clients.clear()
