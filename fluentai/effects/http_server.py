"""The HttpServer effect: `listen`, `stop`, routes, event handlers and WebSocket sends.

Servers are `server.ServerApp`s served by `server.Listener`; handler names are resolved in
the program's globals when each request or event arrives (SPEC §7). The program is kept
alive while a server runs.

With a cluster configured (`fluentai run --cluster redis://…`, the interpreter's `cluster`),
each server joins a group through a `server.cluster.ClusterNode` (imported only then) and
its registry covers every node's connections; see docs/scaling.md.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable as PyCallable
from typing import TYPE_CHECKING, Any

from ..runtime.tasks import HANDLERS
from ..runtime.values import Callable, type_of
from ..server.app import Options, ServerApp
from ..server.connections import CLOSE_GOING_AWAY, CLOSE_NORMAL, Connection
from ..server.listener import Listener, ListenError, bind
from ..server.routes import Route, RouteError, Router
from ..syntax.errors import RuntimeFault, ValueErr
from . import INT, MAP, STRING, EffectContext, EffectHandler, expect, operation
from .http_dispatch import ProgramDispatch
from .http_mapping import portable, to_frame

if TYPE_CHECKING:
    from ..server.cluster import ClusterNode

EVENTS = ("connect", "message", "close", "authorize")
LOOPBACK = ("127.", "::1", "localhost")
STOP_TIMEOUT_S = 3.0
HANDLER_GRACE_S = 1.0


async def _until_empty(app: ServerApp, seconds: float, spare: str | None = None) -> None:
    """Wait until no connection but `spare` (while its handler runs) is open."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds

    def open_ones() -> int:
        return sum(1 for c in app.registry.connections.values()
                   if not (c.id == spare and c.busy))

    while open_ones() and loop.time() < deadline:
        await asyncio.sleep(0.01)


class RunningServer:
    def __init__(self, app: ServerApp, listener: Listener, group: str | None = None) -> None:
        self.app = app
        self.listener = listener
        self.group = group  # the cluster group it joined
        self.stopping: asyncio.Task[None] | None = None


def parse_options(options: Any) -> Options:
    if options is None:
        return Options()
    expect("HttpServer.listen()", options, MAP.named("an options map"))
    o = Options()
    known = {"host", "origins", "max_message_size", "max_body_size", "max_connections",
             "queue_size", "ping_interval", "ping_timeout", "compression", "subprotocols",
             "rate_limit", "cluster"}
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
        expect("HttpServer.listen() option 'host'", options["host"], STRING)
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
    if "cluster" in options and options["cluster"] is not None:
        group = options["cluster"]
        if type(group) is not str or not group:
            raise ValueErr("HttpServer.listen(): option 'cluster' must be a non-empty string "
                           "(the name of the group of servers that act as one)")
        o.cluster = group
    return o


class HttpServer(EffectHandler):
    effect = "HttpServer"

    def __init__(self, ctx: EffectContext) -> None:
        super().__init__(ctx)
        self.router = Router()
        # While a reload runs a program's route statements, the routes they make are
        # collected here and go live together (`stage_routes`, `replace_routes`).
        self.staged: list[Route] | None = None
        self.servers: dict[str, RunningServer] = {}
        # The Redis URL when the program runs clustered (`fluentai run --cluster`).
        self.cluster_url: str | None = ctx.cluster
        self.cluster_node: ClusterNode | None = None

    # ------------------------------------------------------------------ lookups
    def server(self, server_id: Any) -> ServerApp:
        expect("HttpServer", server_id, STRING.named("a server id string"))
        running = self.servers.get(server_id)
        if running is None:
            raise ValueErr(f"unknown server id '{server_id}'")
        return running.app

    def connection(self, app: ServerApp, conn_id: Any) -> Connection:
        """A connection of the server's group (with a cluster, it may be another node's:
        a `RemoteConnection` that offers the same operations)."""
        expect("HttpServer", conn_id, STRING.named("a connection id string"))
        conn = app.registry.lookup(conn_id)
        if conn is None:
            raise ValueErr(f"unknown connection id '{conn_id}' on {app.server_id}")
        return conn

    def find_connection(self, conn_id: Any) -> tuple[ServerApp, Connection]:
        expect("WebSocket", conn_id, STRING.named("a connection id string"))
        for running in self.servers.values():
            conn = running.app.registry.lookup(conn_id)
            if conn is not None:
                return running.app, conn
        raise ValueErr(f"unknown connection id '{conn_id}'")

    # ------------------------------------------------------------------ operations
    @operation(eager=True)
    async def listen(self, port: Any, ws_enabled: Any = False, options: Any = None) -> dict[str, Any]:
        """Start an HTTP server on `port` (0: any free one), with WebSockets when `ws_enabled`; gives {"id", "port", "address"}."""
        expect("HttpServer.listen()", port, INT.named("a port number"))
        if not 0 <= port <= 65535:
            raise ValueErr(f"HttpServer.listen(): port {port} is out of range")
        opts = parse_options(options)
        clustered = self.cluster_url is not None
        try:
            sock = bind(opts.host, port, reuse_port=clustered)
        except ListenError as e:
            raise ValueErr(f"HttpServer.listen(): {e}") from None
        actual = int(sock.getsockname()[1])
        server_id = f"server_{actual}"
        if server_id in self.servers:
            sock.close()
            raise ValueErr(f"HttpServer.listen(): {server_id} is already running")
        group = None
        registry = None
        if clustered:
            group = opts.cluster if opts.cluster is not None else str(port)
            try:
                registry = await self._cluster().join(group, server_id)
            except ValueError as e:
                sock.close()
                raise ValueErr(f"HttpServer.listen(): {e}; give each server its own "
                               f"'cluster' option") from None
            if port == 0 and os.environ.get("FLUENTAI_WORKER"):
                self.ctx.write_err(
                    f"warning: {server_id}: port 0 picks a different free port in each worker; "
                    f"give a fixed port to share one among the workers\n")
        dispatch = ProgramDispatch(self.ctx, HANDLERS.get(), server_id, unique_ids=clustered)
        if ws_enabled:
            try:
                dispatch.check_message_handler()
            except RuntimeFault:
                sock.close()
                raise
        app = ServerApp(server_id, bool(ws_enabled), opts, self.router, dispatch, registry)
        listener = Listener(app, sock, max_message_size=opts.max_message_size,
                            ping_interval_ms=opts.ping_interval, ping_timeout_ms=opts.ping_timeout,
                            compression=opts.compression)
        try:
            await listener.start()
        except BaseException:
            if group is not None and self.cluster_node is not None:
                await self.cluster_node.leave(group)
            raise
        self.servers[server_id] = RunningServer(app, listener, group)
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
        """Stop a server: its WebSockets are closed with 1001 and it stops listening."""
        self.server(server_id)
        running = self.servers[server_id]
        if running.stopping is not None:  # stopped twice: wait for the first
            await asyncio.shield(running.stopping)
            return
        # Called from one of this server's own handlers, `stop` cannot wait for that handler
        # (it is waiting for `stop`): it resolves once everything else has closed, and the
        # server finishes stopping after the handler returns.
        spare = running.app.caller_connection()
        closed_but_caller: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        stopping = asyncio.get_running_loop().create_task(
            self._stop(running, CLOSE_GOING_AWAY, "server stopping", spare, closed_but_caller))
        running.stopping = stopping
        self.ctx.track(stopping)
        if running.app.serves_caller():
            await closed_but_caller
        else:
            await stopping

    def _cluster(self) -> ClusterNode:
        if self.cluster_node is None:
            from ..server.cluster import ClusterNode

            assert self.cluster_url is not None
            self.cluster_node = ClusterNode(self.cluster_url, self.ctx.write_err, portable)
        return self.cluster_node

    async def _stop(self, running: RunningServer, code: int, reason: str,
                    spare: str | None = None,
                    closed_but_spare: asyncio.Future[None] | None = None) -> None:
        # The server stays listed until it has stopped: close handlers may still use it.
        app = running.app
        app.accepting = False
        app.registry.close_all(code, reason)
        # Each connection leaves the registry once its close handler has run; handlers still
        # busy after a grace period are cancelled (their close handlers run all the same).
        await _until_empty(app, HANDLER_GRACE_S, spare)
        app.cancel_busy(spare)
        await _until_empty(app, STOP_TIMEOUT_S, spare)
        if closed_but_spare is not None and not closed_but_spare.done():
            closed_but_spare.set_result(None)
        await _until_empty(app, STOP_TIMEOUT_S)
        await running.listener.stop()
        self.servers.pop(app.server_id, None)
        if running.group is not None and self.cluster_node is not None:
            await self.cluster_node.leave(running.group)

    async def shutdown(self) -> None:
        """SIGINT/SIGTERM or the end of the program: close every WebSocket with 1001 (and
        leave the cluster)."""
        await asyncio.gather(*(
            asyncio.shield(r.stopping) if r.stopping is not None
            else self._stop(r, CLOSE_GOING_AWAY, "server shutting down")
            for r in list(self.servers.values())))
        if self.cluster_node is not None:
            await self.cluster_node.close()

    @operation()
    def route(self, method: Any, path: Any, handler: Any) -> None:
        """Answer requests for `method` and `path` (`:param` segments, a final `*`) with a handler or a handler's name."""
        expect("HttpServer.route()", method, STRING.named("an HTTP method string"))
        expect("HttpServer.route()", path, STRING.named("a path string"))
        if not isinstance(handler, str | Callable):
            raise ValueErr(f"HttpServer.route() expects a function or its name, got {type_of(handler)}")
        # Each route remembers the statement that registered it: a reload replaces the
        # routes of a file's route statements by those of its new version.
        origin = self.ctx.performing
        try:
            if self.staged is not None:
                self.staged.append(self.router.make(method, path, handler, origin))
            else:
                self.router.add(method, path, handler, origin)
        except RouteError as e:
            raise ValueErr(f"HttpServer.route(): {e}") from None

    def stage_routes(self) -> None:
        """From now on, `route` collects its routes instead of serving them (a reload)."""
        self.staged = []

    def replace_routes(self, old: PyCallable[[Any], bool] | None) -> None:
        """Serve the routes collected since `stage_routes` in place of those whose origin
        `old` selects; with `old` None, discard them instead (a failed reload)."""
        staged, self.staged = self.staged or [], None
        if old is not None:
            self.router.replace(lambda route: old(route.origin), staged)

    @operation()
    def on(self, server_id: Any, event: Any, handler: Any) -> None:
        """Handle an event (connect, message, close, authorize) of a server with a function or a function's name."""
        app = self.server(server_id)
        if event not in EVENTS:
            raise ValueErr(f"HttpServer.on(): unknown event {event!r} (one of {', '.join(EVENTS)})")
        if not isinstance(handler, str | Callable):
            raise ValueErr(f"HttpServer.on() expects a function or its name, got {type_of(handler)}")
        app.events[event] = handler

    @operation()
    def ws_connections(self, server_id: Any) -> list[str]:
        """The ids of a server's open WebSocket connections, in the order they connected."""
        return self.server(server_id).registry.group_ids()

    @operation()
    def ws_send(self, server_id: Any, conn_id: Any, message: Any) -> bool:
        """Queue a message for one connection without waiting; false when it is gone (a full buffer closes it with 1013)."""
        app = self.server(server_id)
        return app.registry.send_nowait(self.connection(app, conn_id), to_frame(message))

    @operation(eager=True)
    async def ws_send_async(self, server_id: Any, conn_id: Any, message: Any) -> bool:
        """Send a message to one connection, waiting while its buffer is full; false when it is gone."""
        app = self.server(server_id)
        return await app.registry.put(self.connection(app, conn_id), to_frame(message))

    @operation(eager=True)
    async def ws_broadcast(self, server_id: Any, message: Any, options: Any = None) -> int:
        """To every connection of the server (or its cluster group); options
        {"meta": KEY}: only to connections whose meta has KEY (set by authorize or
        WebSocket.set_meta), e.g. the users who have joined a chat."""
        return self.server(server_id).registry.group_broadcast(
            to_frame(message), broadcast_filter("HttpServer.ws_broadcast()", options))

    @operation(eager=True)
    async def ws_close(self, server_id: Any, conn_id: Any, code: Any = CLOSE_NORMAL,
                       reason: Any = "") -> None:
        """Close one WebSocket connection of a server (code 1000 unless given)."""
        app = self.server(server_id)
        conn = self.connection(app, conn_id)
        close_connection(conn, code, reason, "HttpServer.ws_close()")


def broadcast_filter(what: str, options: Any) -> str | None:
    if options is None:
        return None
    expect(what, options, MAP.named("an options map"))
    unknown = sorted(set(options) - {"meta"})
    if unknown:
        raise ValueErr(f"{what}: unknown option '{unknown[0]}' (known: meta)")
    meta = options.get("meta")
    if meta is not None:
        expect(f"{what} option 'meta'", meta, STRING.named("a meta key string"))
    return meta


def close_connection(conn: Connection, code: Any, reason: Any, what: str) -> None:
    expect(what, code, INT.named("a close code"))
    expect(what, reason, STRING.named("a reason string"))
    # 1004-1006 and 1015 are reserved: they never appear in a close frame (RFC 6455 7.4.1).
    if not (code in (1000, 1001, 1002, 1003) or 1007 <= code <= 1014 or 3000 <= code <= 4999):
        raise ValueErr(f"{what}: {code} is not a close code a server may send")
    conn.outbox.close(code, reason)
