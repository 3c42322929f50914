"""The ASGI application of one server: HTTP requests are matched to routes, WebSocket
connections are accepted or refused, and every frame out goes through the connection's
outbox (see `connections`).

This is transport only: it never sees a FluentAI value. Route handlers, event handlers and
the verdict of an `authorize` handler are opaque to it and go to the `Dispatch` it is
handed (the HttpServer effect's, which maps requests and results to FluentAI values).
Nothing a client sends, and nothing a handler does, can raise out of this app: errors are
reported and turned into status codes or close codes.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qsl

from .connections import (
    CLOSE_INTERNAL,
    CLOSE_POLICY,
    Connection,
    Outbox,
    Outgoing,
    RateLimiter,
    Registry,
    write_loop,
)
from .routes import Miss, Router

MiB = 1024 * 1024

# The ASGI task serving the current request or connection, in that task's context.
SERVING_TASK: contextvars.ContextVar[asyncio.Task[Any] | None] = contextvars.ContextVar(
    "fluentai_serving_task", default=None
)

@dataclass(frozen=True)
class Request:
    """An HTTP request as the program's route handler is to see it."""

    method: str
    path: str
    params: dict[str, str]
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names; repeated headers joined with ", "
    body: bytes


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Handshake:
    """A WebSocket handshake as an `authorize` handler is to see it."""

    path: str
    query: dict[str, str]
    headers: dict[str, str]


class Dispatch(Protocol):
    """How the server reaches the program. Handlers are opaque values (what the program
    registered); the dispatch finds, runs and reports them."""

    async def respond(self, handler: Any, request: Request) -> Response:
        """The response to `request` from route `handler`; raises `HttpError` for a
        request it refuses (400) or a handler that failed (500, reported)."""

    async def authorize(self, handler: Any, handshake: Handshake) -> bool | dict[str, Any] | int:
        """Accept (true, or a map that becomes the connection's meta) or refuse with an
        HTTP status."""

    async def event(self, event: str, chosen: Any, conn_id: str, args: list[Any]) -> bool:
        """Run the handler of a WebSocket event (`chosen` by the program, or None); False
        when it failed."""

    def report(self, error: BaseException, context: str) -> None: ...

    def enter(self) -> None:
        """Prepare the current task to run handlers."""

    def new_id(self) -> str: ...

    def now_ms(self) -> int: ...


@dataclass
class Options:
    host: str = "127.0.0.1"
    origins: list[str] | None = None
    max_message_size: int = MiB
    max_body_size: int = MiB
    max_connections: int | None = None
    queue_size: int = 100
    ping_interval: float | None = 20_000
    ping_timeout: float | None = 20_000
    compression: bool = True
    subprotocols: list[str] = field(default_factory=list)
    rate_limit: tuple[int, float] | None = None
    cluster: str | None = None  # the group's name with --cluster (default: the port asked for)


class HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class ServerApp:
    def __init__(self, server_id: str, ws_enabled: bool, options: Options, router: Router,
                 dispatch: Dispatch, registry: Registry | None = None) -> None:
        self.server_id = server_id
        self.ws_enabled = ws_enabled
        self.options = options
        self.router = router
        self.dispatch = dispatch
        # A cluster registry (server.cluster) when the program runs with --cluster.
        self.registry = registry if registry is not None else Registry(server_id)
        self.events: dict[str, Any] = {}
        self.accepting = True
        # The tasks serving this server's requests and connections (by connection id for
        # WebSockets): `stop` must not wait for the task it is called from, and shutdown
        # cancels handlers that are still busy.
        self.tasks: set[asyncio.Task[Any]] = set()
        self.connection_tasks: dict[str, asyncio.Task[Any]] = {}

    def caller_connection(self) -> str | None:
        """The connection whose handler the current code runs in (also inside tasks that
        handler started), while that handler is still running; else None."""
        task = SERVING_TASK.get()
        for conn_id, conn_task in self.connection_tasks.items():
            if conn_task is task:
                conn = self.registry.get(conn_id)
                return conn_id if conn is not None and conn.busy else None
        return None

    def serves_caller(self) -> bool:
        """Whether the current code runs in (a task started by) one of this server's requests
        or connections: waiting for this server to finish would wait for itself."""
        return SERVING_TASK.get() in self.tasks

    def cancel_busy(self, spare: str | None) -> None:
        """Cancel connections still running a handler after a close was requested (but not
        `spare`'s); their close handlers still run, with the code that was sent."""
        for conn_id, task in list(self.connection_tasks.items()):
            if conn_id != spare:
                task.cancel()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        kind = scope["type"]
        task = asyncio.current_task()
        if task is not None:
            self.tasks.add(task)
            SERVING_TASK.set(task)  # this task's own context: handlers and their tasks see it
        try:
            self.dispatch.enter()
            if kind == "http":
                await self.http(scope, receive, send)
            elif kind == "websocket":
                await self.websocket(scope, receive, send)
        except asyncio.CancelledError:
            raise
        except Exception as e:  # a bug must not take the server down
            self.dispatch.report(e, f"in the server {self.server_id}")
        finally:
            if task is not None:
                self.tasks.discard(task)

    # ------------------------------------------------------------------ HTTP
    async def http(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        method, path = scope["method"], scope["path"]
        try:
            body = await self._read_body(receive)
            if body is None:
                return  # the client went away
            response = await self._handle_request(scope, method, path, body)
        except HttpError as e:
            response = Response(e.status, {"content-type": "application/json"},
                                json.dumps({"error": str(e)}).encode())
        raw_headers = [(k.lower().encode("latin-1"), v.encode("latin-1", "replace"))
                       for k, v in response.headers.items()]
        await send({"type": "http.response.start", "status": response.status,
                    "headers": raw_headers})
        await send({"type": "http.response.body",
                    "body": b"" if method == "HEAD" else response.body})

    async def _read_body(self, receive: Any) -> bytes | None:
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            body += message.get("body", b"")
            if len(body) > self.options.max_body_size:
                raise HttpError(413, f"request body is larger than {self.options.max_body_size} bytes")
            if not message.get("more_body", False):
                return bytes(body)

    async def _handle_request(self, scope: dict[str, Any], method: str, path: str,
                              body: bytes) -> Response:
        found = self.router.match(method, path)
        if isinstance(found, Miss):
            raise HttpError(found.status, found.reason)
        request = Request(method, path, found.params, query_map(scope), header_map(scope), body)
        return await self.dispatch.respond(found.route.handler, request)

    # ------------------------------------------------------------------ WebSocket
    async def websocket(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        headers = header_map(scope)
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            status, text = refusal
            if status == 403:
                await send({"type": "websocket.close"})  # the protocol layer answers 403
            else:
                await send({"type": "websocket.http.response.start", "status": status,
                            "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
                await send({"type": "websocket.http.response.body", "body": text.encode()})
            return
        meta = await self._authorize(scope, headers)
        if type(meta) is int:
            await send({"type": "websocket.http.response.start", "status": meta,
                        "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
            await send({"type": "websocket.http.response.body",
                        "body": b"unauthorized" if meta == 401 else b"internal server error"})
            return
        offered = scope.get("subprotocols") or []
        chosen = next((p for p in offered if p in self.options.subprotocols), None)
        await send({"type": "websocket.accept", "subprotocol": chosen})
        conn = self._connection(scope, headers, chosen, send)
        if type(meta) is dict:
            conn.meta.update(meta)
        self.registry.add(conn)
        task = asyncio.current_task()
        if task is not None:
            self.connection_tasks[conn.id] = task
        writer = asyncio.get_running_loop().create_task(self._write(conn, send))
        code = None
        try:
            code = await self._serve_connection(conn, receive)
        finally:
            if code is None:  # cancelled (shutdown while a handler was busy) or failed
                closing = conn.outbox.closing
                code = closing.code if closing is not None else 1006
            self.connection_tasks.pop(conn.id, None)
            self.registry.remove(conn.id)
            conn.closed_code = code
            conn.outbox.close(code, "")
            if not writer.done():
                writer.cancel()
            await self._run_handler("close", [conn.id, code], conn)

    async def _authorize(self, scope: dict[str, Any], headers: dict[str, str]) -> Any:
        """None without an `authorize` handler, else its verdict (see `Dispatch`)."""
        chosen = self.events.get("authorize")
        if chosen is None:
            return None
        handshake = Handshake(scope["path"], query_map(scope), headers)
        return await self.dispatch.authorize(chosen, handshake)

    def _refusal(self, scope: dict[str, Any], headers: dict[str, str]) -> tuple[int, str] | None:
        if not self.ws_enabled or not self.accepting:
            return (403, "")
        if not self.router.websocket_allowed(scope["path"]):
            return (403, "")
        origins = self.options.origins
        if origins is not None and headers.get("origin") not in origins:
            return (403, "")
        limit = self.options.max_connections
        if limit is not None and len(self.registry) >= limit:
            return (503, "too many connections")
        return None

    def _connection(self, scope: dict[str, Any], headers: dict[str, str],
                    subprotocol: str | None, send: Any) -> Connection:
        client = scope.get("client")
        remote = f"{client[0]}:{client[1]}" if client else ""
        rate = self.options.rate_limit
        return Connection(
            id=self.dispatch.new_id(),
            server_id=self.server_id,
            path=scope["path"],
            remote_address=remote,
            headers=headers,
            subprotocol=subprotocol,
            connected_at=self.dispatch.now_ms(),
            outbox=Outbox(self.options.queue_size, direct=_frame_sender(send)),
            limiter=RateLimiter(rate[0], rate[1]) if rate else None,
        )

    async def _serve_connection(self, conn: Connection, receive: Any) -> int:
        if not await self._run_handler("connect", [conn.id], conn):
            conn.outbox.close(CLOSE_INTERNAL, "connect handler failed")
        while True:
            message = await receive()
            kind = message["type"]
            if kind == "websocket.disconnect":
                return int(message.get("code", 1005))
            if kind != "websocket.receive" or conn.outbox.closing is not None:
                continue
            if conn.limiter is not None and not conn.limiter.allow():
                conn.outbox.close(CLOSE_POLICY, "rate limit exceeded", discard=True)
                continue
            text = message.get("text")
            data: Any = text if text is not None else message.get("bytes", b"")
            await self._run_handler("message", [conn.id, data], conn)

    async def _run_handler(self, event: str, args: list[Any], conn: Connection) -> bool:
        conn.busy = True
        try:
            return await self.dispatch.event(event, self.events.get(event), conn.id, args)
        finally:
            conn.busy = False

    async def _write(self, conn: Connection, send: Any) -> None:
        frame = _frame_sender(send)

        async def close(code: int, reason: str) -> None:
            await send({"type": "websocket.close", "code": code, "reason": reason})

        try:
            await write_loop(conn, frame, close)
        except asyncio.CancelledError:
            raise
        except Exception:
            pass


def _frame_sender(send: Any) -> Any:
    async def frame(item: Outgoing) -> None:
        if type(item) is str:
            await send({"type": "websocket.send", "text": item})
        else:
            await send({"type": "websocket.send", "bytes": item})
    return frame


def header_map(scope: dict[str, Any]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers", []):
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


def query_map(scope: dict[str, Any]) -> dict[str, str]:
    return dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"),
                          keep_blank_values=True))
