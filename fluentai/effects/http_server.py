"""The HttpServer effect: `listen`, `stop`, routes, event handlers and WebSocket sends.

Servers are `server.ServerApp`s served by `server.Listener`; handler names are resolved in
the program's globals when each request or event arrives (SPEC §7). The program is kept
alive while a server runs.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ..errors import ValueErr
from ..runtime import HANDLERS, HandlerFrame
from ..server.app import Options, ServerApp, to_frame
from ..server.connections import CLOSE_GOING_AWAY, CLOSE_NORMAL, Connection
from ..server.listener import Listener, ListenError, bind
from ..server.routes import RouteError, Router
from ..values import Callable, type_of
from . import EffectContext, EffectHandler, expect, operation

EVENTS = ("connect", "message", "close", "authorize")
LOOPBACK = ("127.", "::1", "localhost")
STOP_TIMEOUT_S = 5.0


class ProgramDispatch:
    """`server.app.Dispatch` for the running program (handler frames as at `listen`)."""

    def __init__(self, ctx: EffectContext, frames: tuple[HandlerFrame, ...]) -> None:
        self.ctx = ctx
        self.frames = frames

    def resolve(self, handler: Any) -> Any | None:
        if isinstance(handler, str):
            value = self.ctx.lookup_global(handler)
            return value if isinstance(value, Callable) else None
        return handler if isinstance(handler, Callable) else None

    async def invoke(self, fn: Any, args: list[Any]) -> Any:
        return await self.ctx.invoke(fn, args)

    def report(self, error: BaseException, context: str) -> None:
        self.ctx.report(error, context)

    def enter(self) -> None:
        if self.frames:
            HANDLERS.set(self.frames)

    def new_id(self) -> str:
        return self.ctx.new_id("")

    def now_ms(self) -> int:
        return self.ctx.now_ms()


class RunningServer:
    def __init__(self, app: ServerApp, listener: Listener) -> None:
        self.app = app
        self.listener = listener


def parse_options(options: Any) -> Options:
    if options is None:
        return Options()
    expect("HttpServer.listen()", options, dict, name="an options map")
    o = Options()
    known = {"host", "origins", "max_message_size", "max_body_size", "max_connections",
             "queue_size", "ping_interval", "ping_timeout", "compression", "subprotocols",
             "rate_limit"}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ValueErr(f"HttpServer.listen(): unknown option '{unknown[0]}' "
                       f"(known: {', '.join(sorted(known))})")

    def number(key: str, minimum: float) -> Any:
        v = options[key]
        if v is None:
            return None
        if type(v) not in (int, float) or v < minimum:
            raise ValueErr(f"HttpServer.listen(): option '{key}' must be a number >= {minimum}")
        return v

    def strings(key: str) -> list[str]:
        v = options[key]
        if type(v) is not list or any(type(x) is not str for x in v):
            raise ValueErr(f"HttpServer.listen(): option '{key}' must be a list of strings")
        return list(v)

    if "host" in options:
        expect("HttpServer.listen() option 'host'", options["host"], str, name="a string")
        o.host = options["host"]
    if "origins" in options:
        o.origins = strings("origins") if options["origins"] is not None else None
    if "subprotocols" in options:
        o.subprotocols = strings("subprotocols")
    for key in ("max_message_size", "max_body_size", "queue_size"):
        if key in options and options[key] is not None:  # nil keeps the default
            setattr(o, key, int(number(key, 1)))
    if "max_connections" in options:
        v = number("max_connections", 0)
        o.max_connections = None if v is None else int(v)
    for key in ("ping_interval", "ping_timeout"):
        if key in options:
            setattr(o, key, number(key, 0) or None)
    if "compression" in options:
        o.compression = bool(options["compression"])
    if "rate_limit" in options:
        rate = options["rate_limit"]
        if (type(rate) is not dict or type(rate.get("messages")) is not int
                or type(rate.get("per_ms")) not in (int, float)
                or rate["messages"] < 1 or rate["per_ms"] <= 0):
            raise ValueErr('HttpServer.listen(): rate_limit must be {"messages": N, "per_ms": M}')
        o.rate_limit = (rate["messages"], float(rate["per_ms"]))
    return o


class HttpServer(EffectHandler):
    effect = "HttpServer"

    def __init__(self, ctx: EffectContext) -> None:
        super().__init__(ctx)
        self.router = Router()
        self.servers: dict[str, RunningServer] = {}

    # ------------------------------------------------------------------ lookups
    def server(self, server_id: Any) -> ServerApp:
        expect("HttpServer", server_id, str, name="a server id string")
        running = self.servers.get(server_id)
        if running is None:
            raise ValueErr(f"unknown server id '{server_id}'")
        return running.app

    def connection(self, app: ServerApp, conn_id: Any) -> Connection:
        expect("HttpServer", conn_id, str, name="a connection id string")
        conn = app.registry.get(conn_id)
        if conn is None:
            raise ValueErr(f"unknown connection id '{conn_id}' on {app.server_id}")
        return conn

    def find_connection(self, conn_id: Any) -> tuple[ServerApp, Connection]:
        expect("WebSocket", conn_id, str, name="a connection id string")
        for running in self.servers.values():
            conn = running.app.registry.get(conn_id)
            if conn is not None:
                return running.app, conn
        raise ValueErr(f"unknown connection id '{conn_id}'")

    # ------------------------------------------------------------------ operations
    @operation(eager=True)
    async def listen(self, port: Any, ws_enabled: Any = False, options: Any = None) -> dict[str, Any]:
        expect("HttpServer.listen()", port, int, name="a port number")
        if not 0 <= port <= 65535:
            raise ValueErr(f"HttpServer.listen(): port {port} is out of range")
        opts = parse_options(options)
        try:
            sock = bind(opts.host, port)
        except ListenError as e:
            raise ValueErr(f"HttpServer.listen(): {e}") from None
        actual = int(sock.getsockname()[1])
        server_id = f"server_{actual}"
        if server_id in self.servers:
            sock.close()
            raise ValueErr(f"HttpServer.listen(): {server_id} is already running")
        dispatch = ProgramDispatch(self.ctx, HANDLERS.get())
        app = ServerApp(server_id, bool(ws_enabled), opts, self.router, dispatch)
        listener = Listener(app, sock, max_message_size=opts.max_message_size,
                            ping_interval_ms=opts.ping_interval, ping_timeout_ms=opts.ping_timeout,
                            compression=opts.compression)
        await listener.start()
        self.servers[server_id] = RunningServer(app, listener)
        if ws_enabled and opts.origins is None and not opts.host.startswith(LOOPBACK):
            self.ctx.write_err(
                f"warning: {server_id} listens on {opts.host} and accepts WebSocket handshakes "
                f"from any web page's origin; pass the 'origins' option to restrict them\n"
            )
        assert listener.task is not None
        self.ctx.track(listener.task)  # the program lives while the server serves
        host = opts.host if ":" not in opts.host else f"[{opts.host}]"
        return {"id": server_id, "port": actual, "address": f"{host}:{actual}"}

    @operation(eager=True)
    async def stop(self, server_id: Any) -> None:
        self.server(server_id)
        await self._stop(self.servers.pop(server_id), CLOSE_GOING_AWAY, "server stopping")

    async def _stop(self, running: RunningServer, code: int, reason: str) -> None:
        app = running.app
        app.accepting = False
        app.registry.close_all(code, reason)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STOP_TIMEOUT_S
        # Each connection leaves the registry once its close handler has run.
        while len(app.registry) and loop.time() < deadline:
            await asyncio.sleep(0.01)
        await running.listener.stop()

    async def shutdown(self) -> None:
        """SIGINT/SIGTERM or the end of the program: close every WebSocket with 1001."""
        running = list(self.servers.values())
        self.servers.clear()
        await asyncio.gather(*(self._stop(r, CLOSE_GOING_AWAY, "server shutting down")
                               for r in running))

    @operation()
    def route(self, method: Any, path: Any, handler: Any) -> None:
        expect("HttpServer.route()", method, str, name="an HTTP method string")
        expect("HttpServer.route()", path, str, name="a path string")
        if not isinstance(handler, str | Callable):
            raise ValueErr(f"HttpServer.route() expects a function or its name, got {type_of(handler)}")
        try:
            self.router.add(method, path, handler)
        except RouteError as e:
            raise ValueErr(f"HttpServer.route(): {e}") from None

    @operation()
    def on(self, server_id: Any, event: Any, handler: Any) -> None:
        app = self.server(server_id)
        if event not in EVENTS:
            raise ValueErr(f"HttpServer.on(): unknown event {event!r} (one of {', '.join(EVENTS)})")
        if not isinstance(handler, str | Callable):
            raise ValueErr(f"HttpServer.on() expects a function or its name, got {type_of(handler)}")
        app.events[event] = handler

    @operation()
    def ws_connections(self, server_id: Any) -> list[str]:
        return self.server(server_id).registry.ids()

    @operation()
    def ws_send(self, server_id: Any, conn_id: Any, message: Any) -> bool:
        app = self.server(server_id)
        return app.registry.send_nowait(self.connection(app, conn_id), to_frame(message))

    @operation(eager=True)
    async def ws_send_async(self, server_id: Any, conn_id: Any, message: Any) -> bool:
        app = self.server(server_id)
        return await self.connection(app, conn_id).outbox.put(to_frame(message))

    @operation(eager=True)
    async def ws_broadcast(self, server_id: Any, message: Any) -> int:
        return self.server(server_id).registry.broadcast(to_frame(message))

    @operation(eager=True)
    async def ws_close(self, server_id: Any, conn_id: Any, code: Any = CLOSE_NORMAL,
                       reason: Any = "") -> None:
        app = self.server(server_id)
        conn = self.connection(app, conn_id)
        close_connection(conn, code, reason, "HttpServer.ws_close()")


def close_connection(conn: Connection, code: Any, reason: Any, what: str) -> None:
    expect(what, code, int, name="a close code")
    expect(what, reason, str, name="a reason string")
    # 1004-1006 and 1015 are reserved: they never appear in a close frame (RFC 6455 7.4.1).
    if not (code in (1000, 1001, 1002, 1003) or 1007 <= code <= 1014 or 3000 <= code <= 4999):
        raise ValueErr(f"{what}: {code} is not a close code a server may send")
    conn.outbox.close(code, reason)
