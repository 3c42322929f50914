"""`fluentai.server.app.ServerApp` in-process: fake ASGI `receive`/`send` and a fake
`Dispatch` that runs Python callables in place of FluentAI functions (SPEC §7)."""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Callable
from typing import Any

import pytest

from fluentai.effects.http_dispatch import Dispatcher
from fluentai.effects.http_mapping import http_response, to_frame
from fluentai.server.app import Options, Response, ServerApp
from fluentai.server.routes import WEBSOCKET_UPGRADE, Router

TIMEOUT = 2.0


class FakeDispatch(Dispatcher):
    """The effects' dispatcher with Python callables for FluentAI functions: handlers by
    name from `functions`; records invocations and reports."""

    def __init__(self, functions: dict[str, Callable[..., Any]] | None = None) -> None:
        self.functions = dict(functions or {})
        self.calls: list[tuple[str, list[Any]]] = []
        self.reports: list[tuple[BaseException, str]] = []
        self.warnings: list[str] = []
        self.entered = 0
        self._next_id = 0

    def resolve(self, handler: Any) -> Any | None:
        if isinstance(handler, str):
            return self.functions.get(handler)
        return handler if callable(handler) else None

    async def invoke(self, fn: Any, args: list[Any]) -> Any:
        n = len(inspect.signature(fn).parameters)
        args = args[:n]
        self.calls.append((fn.__name__, list(args)))
        result = fn(*args)
        if inspect.isawaitable(result):
            result = await result
        return result

    def report(self, error: BaseException, context: str) -> None:
        self.reports.append((error, context))

    def enter(self) -> None:
        self.entered += 1

    def new_id(self) -> str:
        self._next_id += 1
        return f"conn-{self._next_id:04d}"

    def now_ms(self) -> int:
        return 1_700_000_000_000

    def global_names(self) -> list[str]:
        return list(self.functions)

    def arity(self, fn: Any) -> int | None:
        return len(inspect.signature(fn).parameters)

    def warn(self, text: str) -> None:
        self.warnings.append(text)

    def called(self, name: str) -> list[list[Any]]:
        return [args for fn, args in self.calls if fn == name]


def make_app(functions: dict[str, Callable[..., Any]] | None = None, *, ws: bool = True,
             router: Router | None = None, **options: Any) -> tuple[ServerApp, FakeDispatch]:
    dispatch = FakeDispatch(functions)
    app = ServerApp("server_1234", ws, Options(**options), router or Router(), dispatch)
    return app, dispatch


# ---------------------------------------------------------------------- HTTP harness


class HttpResult:
    def __init__(self, messages: list[dict[str, Any]]) -> None:
        self.messages = messages
        start = messages[0]
        assert start["type"] == "http.response.start", messages
        self.status: int = start["status"]
        self.headers = {k.decode(): v.decode() for k, v in start["headers"]}
        self.body = b"".join(m.get("body", b"") for m in messages[1:])
        assert all(m["type"] == "http.response.body" for m in messages[1:])

    def json(self) -> Any:
        return json.loads(self.body)


async def request(app: ServerApp, method: str, path: str, body: bytes = b"", *,
                  query: bytes = b"", headers: list[tuple[str, str]] | None = None,
                  chunks: list[bytes] | None = None) -> HttpResult:
    scope = {
        "type": "http", "method": method, "path": path, "query_string": query,
        "headers": [(k.encode(), v.encode()) for k, v in (headers or [])],
        "client": ("127.0.0.1", 50000), "http_version": "1.1", "scheme": "http",
    }
    parts = chunks if chunks is not None else [body]
    incoming = [{"type": "http.request", "body": p, "more_body": i < len(parts) - 1}
                for i, p in enumerate(parts)]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if incoming:
            return incoming.pop(0)
        await asyncio.Event().wait()  # nothing more ever arrives
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await asyncio.wait_for(app(scope, receive, send), TIMEOUT)
    return HttpResult(sent)


# ---------------------------------------------------------------------- HTTP tests


async def test_request_map_fields() -> None:
    seen: list[dict[str, Any]] = []

    def show(req: dict[str, Any]) -> str:
        seen.append(req)
        return "ok"

    app, dispatch = make_app({"show": show})
    app.router.add("POST", "/users/:id/*", "show")
    res = await request(app, "POST", "/users/42/a/b", b"hello",
                        query=b"q=search%20term&empty=",
                        headers=[("X-Custom", "One"), ("x-custom", "Two"),
                                 ("Content-Type", "text/plain")])
    assert res.status == 200
    [req] = seen
    assert req["method"] == "POST"
    assert req["path"] == "/users/42/a/b"
    assert req["params"] == {"id": "42", "*": "a/b"}
    assert req["query"] == {"q": "search term", "empty": ""}
    assert req["headers"]["x-custom"] == "One, Two"
    assert req["headers"]["content-type"] == "text/plain"
    assert req["body"] == "hello"
    assert "json" not in req
    assert dispatch.entered >= 1


async def test_json_body_is_parsed_into_json() -> None:
    seen: list[dict[str, Any]] = []
    app, _ = make_app({"h": lambda req: seen.append(req)})
    app.router.add("POST", "/j", "h")
    res = await request(app, "POST", "/j", b'{"a": [1, 2.5, null, true]}',
                        headers=[("content-type", "application/json; charset=utf-8")])
    assert res.status == 204
    assert seen[0]["json"] == {"a": [1, 2.5, None, True]}
    assert seen[0]["body"] == '{"a": [1, 2.5, null, true]}'


async def test_a_body_that_is_not_utf8_arrives_as_bytes() -> None:
    seen: list[dict[str, Any]] = []
    app, _ = make_app({"h": lambda req: seen.append(req)})
    app.router.add("POST", "/b", "h")
    res = await request(app, "POST", "/b", b"\xff\xfe\x00", headers=[("content-type", "image/x")])
    assert res.status == 204
    assert seen[0]["body"] == b"\xff\xfe\x00"
    res = await request(app, "POST", "/b", b"\xff", headers=[("content-type", "application/json")])
    assert res.status == 400
    assert len(seen) == 1


async def test_body_in_several_chunks_is_joined() -> None:
    seen: list[dict[str, Any]] = []
    app, _ = make_app({"h": lambda req: seen.append(req["body"])})
    app.router.add("PUT", "/x", "h")
    await request(app, "PUT", "/x", chunks=[b"ab", b"", b"cd"])
    assert seen == ["abcd"]


async def test_invalid_json_on_a_json_request_is_400() -> None:
    app, dispatch = make_app({"h": lambda req: "never"})
    app.router.add("POST", "/j", "h")
    res = await request(app, "POST", "/j", b'{"a": ', headers=[("content-type", "application/json")])
    assert res.status == 400
    assert "invalid JSON" in res.json()["error"]
    assert dispatch.called("<lambda>") == []


async def test_json_looking_body_without_json_content_type_is_plain_text() -> None:
    seen: list[dict[str, Any]] = []
    app, _ = make_app({"h": lambda req: seen.append(req)})
    app.router.add("POST", "/j", "h")
    res = await request(app, "POST", "/j", b'{"a": ', headers=[("content-type", "text/plain")])
    assert res.status == 204
    assert seen[0]["body"] == '{"a": ' and "json" not in seen[0]


async def test_body_over_max_body_size_is_413() -> None:
    app, dispatch = make_app({"h": lambda req: "ok"}, max_body_size=10)
    app.router.add("POST", "/up", "h")
    assert (await request(app, "POST", "/up", b"x" * 10)).status == 200
    res = await request(app, "POST", "/up", chunks=[b"x" * 6, b"y" * 5])
    assert res.status == 413
    assert len(dispatch.calls) == 1


async def test_map_response_with_status_headers_body() -> None:
    app, _ = make_app({"h": lambda req: {"status": 201, "headers": {"X-Id": 7, "Location": "/a/1"},
                                         "body": "made"}})
    app.router.add("POST", "/a", "h")
    res = await request(app, "POST", "/a")
    assert res.status == 201
    assert res.headers["x-id"] == "7"
    assert res.headers["location"] == "/a/1"
    assert res.headers["content-type"].startswith("text/plain")
    assert res.body == b"made"


@pytest.mark.parametrize("body", [{"k": [1, {"n": None}]}, [1, "two", None]])
async def test_map_or_list_body_is_sent_as_json(body: Any) -> None:
    app, _ = make_app({"wrapped": lambda req: {"status": 202, "body": body},
                       "bare": lambda req: body})
    app.router.add("GET", "/wrapped", "wrapped")
    app.router.add("GET", "/bare", "bare")
    for path, status in (("/wrapped", 202), ("/bare", 200)):
        res = await request(app, "GET", path)
        assert res.status == status
        assert res.headers["content-type"] == "application/json"
        assert res.json() == body


async def test_explicit_content_type_is_kept() -> None:
    app, _ = make_app({"h": lambda req: {"headers": {"Content-Type": "text/html"}, "body": "<p>"}})
    app.router.add("GET", "/", "h")
    res = await request(app, "GET", "/")
    assert res.status == 200
    assert res.headers == {"content-type": "text/html"}
    assert res.body == b"<p>"


async def test_string_result_is_200_text() -> None:
    app, _ = make_app({"h": lambda req: "héllo"})
    app.router.add("GET", "/", "h")
    res = await request(app, "GET", "/")
    assert res.status == 200
    assert res.headers["content-type"] == "text/plain; charset=utf-8"
    assert res.body == "héllo".encode()


async def test_nil_result_is_204() -> None:
    app, _ = make_app({"h": lambda req: None})
    app.router.add("DELETE", "/x", "h")
    res = await request(app, "DELETE", "/x")
    assert res.status == 204
    assert res.body == b""


def test_http_response_conversions() -> None:
    assert http_response(None) == Response(204, {}, b"")
    assert http_response("hi") == Response(200, {"content-type": "text/plain; charset=utf-8"},
                                           b"hi")
    assert http_response(b"\x00\x01") == Response(
        200, {"content-type": "application/octet-stream"}, b"\x00\x01")
    assert http_response({"status": 404}) == Response(404, {}, b"")
    r = http_response({"name": "Ann"})  # no response keys: a JSON body
    assert (r.status, r.headers["content-type"], json.loads(r.body)) == (
        200, "application/json", {"name": "Ann"})


async def test_async_handler_is_awaited() -> None:
    async def h(req: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(0)
        return {"status": 200, "body": {"path": req["path"]}}

    app, _ = make_app({"h": h})
    app.router.add("GET", "/p", "h")
    assert (await request(app, "GET", "/p")).json() == {"path": "/p"}


async def test_function_value_handler() -> None:
    def h(req: dict[str, Any]) -> str:
        return "by value"

    app, _ = make_app()
    app.router.add("GET", "/v", h)
    assert (await request(app, "GET", "/v")).body == b"by value"


async def test_handler_resolved_per_request() -> None:
    app, dispatch = make_app()
    app.router.add("GET", "/late", "late")
    first = await request(app, "GET", "/late")
    assert first.status == 500
    assert any("late" in str(e) for e, _ in dispatch.reports)
    dispatch.functions["late"] = lambda req: "now defined"
    second = await request(app, "GET", "/late")
    assert (second.status, second.body) == (200, b"now defined")


async def test_no_route_is_404_and_wrong_method_is_405() -> None:
    app, dispatch = make_app({"h": lambda req: "x"})
    app.router.add("GET", "/only-get", "h")
    res = await request(app, "GET", "/missing")
    assert res.status == 404
    assert res.headers["content-type"] == "application/json"
    assert "/missing" in res.json()["error"]
    res = await request(app, "POST", "/only-get")
    assert res.status == 405
    assert dispatch.calls == []


async def test_head_uses_the_get_route_without_a_body() -> None:
    app, dispatch = make_app({"h": lambda req: "content"})
    app.router.add("GET", "/page", "h")
    res = await request(app, "HEAD", "/page")
    assert res.status == 200
    assert res.body == b""
    assert dispatch.called("<lambda>")[0][0]["method"] == "HEAD"


async def test_plain_http_on_a_websocket_only_path_is_426() -> None:
    app, dispatch = make_app({"page": lambda req: "page"})
    app.router.add("GET", "/ws", WEBSOCKET_UPGRADE)
    app.router.add("GET", "/page", "page")
    res = await request(app, "GET", "/ws")
    assert res.status == 426
    assert (await request(app, "POST", "/ws")).status == 426
    assert (await request(app, "GET", "/elsewhere")).status == 404
    assert (await request(app, "GET", "/page")).status == 200
    assert dispatch.reports == []


async def test_handler_error_is_500_and_reported() -> None:
    def h(req: dict[str, Any]) -> str:
        raise RuntimeError("handler blew up")

    app, dispatch = make_app({"h": h, "ok": lambda req: "fine"})
    app.router.add("GET", "/boom", "h")
    app.router.add("GET", "/ok", "ok")
    res = await request(app, "GET", "/boom")
    assert res.status == 500
    assert "blew up" not in res.body.decode()  # no internals leak to the client
    [(error, context)] = dispatch.reports
    assert str(error) == "handler blew up"
    assert "GET /boom" in context
    assert (await request(app, "GET", "/ok")).status == 200  # and the server goes on


async def test_invalid_status_is_500() -> None:
    app, _ = make_app({"h": lambda req: {"status": 42, "body": "x"}})
    app.router.add("GET", "/", "h")
    assert (await request(app, "GET", "/")).status == 500


async def test_client_gone_before_the_body_gets_no_response() -> None:
    app, dispatch = make_app({"h": lambda req: "x"})
    app.router.add("POST", "/", "h")
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/", "query_string": b"", "headers": []}
    await asyncio.wait_for(app(scope, receive, send), TIMEOUT)
    assert sent == [] and dispatch.calls == []


# ---------------------------------------------------------------------- WebSocket harness


class FakeSocket:
    """The protocol side of one WebSocket: like uvicorn, a close sent by the app after the
    accept also ends the app's receive loop with `websocket.disconnect` carrying its code."""

    def __init__(self, app: ServerApp, path: str = "/", headers: list[tuple[str, str]] | None = None,
                 subprotocols: list[str] | None = None) -> None:
        self.app = app
        self.incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.outgoing: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.accepted = False
        self.scope = {
            "type": "websocket", "path": path, "query_string": b"",
            "headers": [(k.encode(), v.encode()) for k, v in (headers or [])],
            "subprotocols": list(subprotocols or []), "client": ("127.0.0.1", 40001),
        }
        self.task: asyncio.Task[None] | None = None

    async def _send(self, message: dict[str, Any]) -> None:
        if message["type"] == "websocket.accept":
            self.accepted = True
        elif message["type"] == "websocket.close" and self.accepted:
            self.incoming.put_nowait({"type": "websocket.disconnect",
                                      "code": message.get("code", 1000)})
        await self.outgoing.put(message)

    async def connect(self) -> dict[str, Any]:
        """Start the app on this socket; the first message it sends."""
        self.task = asyncio.create_task(self.app(self.scope, self.incoming.get, self._send))
        self.incoming.put_nowait({"type": "websocket.connect"})
        return await self.sent()

    async def sent(self) -> dict[str, Any]:
        return await asyncio.wait_for(self.outgoing.get(), TIMEOUT)

    def text(self, text: str) -> None:
        self.incoming.put_nowait({"type": "websocket.receive", "text": text})

    def binary(self, data: bytes) -> None:
        self.incoming.put_nowait({"type": "websocket.receive", "bytes": data})

    def disconnect(self, code: int = 1000) -> None:
        self.incoming.put_nowait({"type": "websocket.disconnect", "code": code})

    async def finished(self) -> None:
        assert self.task is not None
        await asyncio.wait_for(self.task, TIMEOUT)

    def nothing_sent(self) -> bool:
        return self.outgoing.empty()


async def settle(condition: Callable[[], bool]) -> None:
    """Let the event loop run until `condition` holds (bounded)."""
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0)
    await asyncio.wait_for(poll(), TIMEOUT)


# ---------------------------------------------------------------------- WebSocket tests


async def test_websocket_refused_with_403_when_not_ws_enabled() -> None:
    app, dispatch = make_app({"handle_websocket_connect": lambda cid: None}, ws=False)
    sock = FakeSocket(app)
    assert await sock.connect() == {"type": "websocket.close"}  # uvicorn answers 403
    await sock.finished()
    assert dispatch.calls == [] and len(app.registry) == 0


async def test_websocket_refused_when_origin_not_allowed() -> None:
    app, _ = make_app(origins=["https://good.example"])
    bad = FakeSocket(app, headers=[("Origin", "https://evil.example")])
    assert (await bad.connect())["type"] == "websocket.close"
    await bad.finished()
    missing = FakeSocket(app)
    assert (await missing.connect())["type"] == "websocket.close"
    await missing.finished()
    good = FakeSocket(app, headers=[("Origin", "https://good.example")])
    assert (await good.connect())["type"] == "websocket.accept"
    good.disconnect()
    await good.finished()


async def test_websocket_refused_off_the_registered_upgrade_paths() -> None:
    router = Router()
    router.add("GET", "/ws", WEBSOCKET_UPGRADE)
    app, _ = make_app(router=router)
    other = FakeSocket(app, path="/other")
    assert (await other.connect())["type"] == "websocket.close"
    await other.finished()
    ok = FakeSocket(app, path="/ws")
    assert (await ok.connect())["type"] == "websocket.accept"
    ok.disconnect()
    await ok.finished()


async def test_websocket_refused_after_the_server_stops_accepting() -> None:
    app, _ = make_app()
    app.accepting = False
    sock = FakeSocket(app)
    assert (await sock.connect())["type"] == "websocket.close"
    await sock.finished()


async def test_over_max_connections_is_503_before_the_upgrade() -> None:
    app, _ = make_app(max_connections=1)
    first = FakeSocket(app)
    assert (await first.connect())["type"] == "websocket.accept"
    second = FakeSocket(app)
    start = await second.connect()
    assert start["type"] == "websocket.http.response.start"
    assert start["status"] == 503
    body = await second.sent()
    assert body["type"] == "websocket.http.response.body" and body["body"]
    await second.finished()
    first.disconnect()
    await first.finished()
    third = FakeSocket(app)  # a slot is free again
    assert (await third.connect())["type"] == "websocket.accept"
    third.disconnect()
    await third.finished()


@pytest.mark.parametrize(("offered", "chosen"), [
    (["x", "chat.v2", "chat.v1"], "chat.v2"),  # the client's first acceptable preference
    (["chat.v1"], "chat.v1"),
    (["x"], None),
    ([], None),
])
async def test_subprotocol_choice(offered: list[str], chosen: str | None) -> None:
    app, _ = make_app(subprotocols=["chat.v1", "chat.v2"])
    sock = FakeSocket(app, subprotocols=offered)
    accept = await sock.connect()
    assert accept == {"type": "websocket.accept", "subprotocol": chosen}
    conn = app.registry.get(app.registry.ids()[0])
    assert conn is not None and conn.info()["subprotocol"] == chosen
    sock.disconnect()
    await sock.finished()


async def test_connection_registered_with_its_info() -> None:
    app, _ = make_app()
    sock = FakeSocket(app, path="/room/7", headers=[("X-Token", "abc")])
    await sock.connect()
    [cid] = app.registry.ids()
    info = app.registry.get(cid).info()
    assert info == {"id": "conn-0001", "server_id": "server_1234", "path": "/room/7",
                    "remote_address": "127.0.0.1:40001", "headers": {"x-token": "abc"},
                    "subprotocol": None, "connected_at": 1_700_000_000_000, "meta": {}}
    sock.disconnect(1000)
    await sock.finished()
    assert len(app.registry) == 0


async def test_connect_message_close_handlers_get_their_arguments() -> None:
    events: list[tuple[Any, ...]] = []
    app, _ = make_app({
        "handle_websocket_connect": lambda cid: events.append(("connect", cid)),
        "handle_websocket_message": lambda cid, msg: events.append(("message", cid, msg)),
        "handle_websocket_close": lambda cid, code: events.append(("close", cid, code)),
    })
    sock = FakeSocket(app)
    await sock.connect()
    sock.text("hello")
    sock.binary(b"\x00\xff")
    sock.disconnect(1001)
    await sock.finished()
    cid = "conn-0001"
    assert events == [("connect", cid), ("message", cid, "hello"),
                      ("message", cid, b"\x00\xff"), ("close", cid, 1001)]
    assert type(events[1][2]) is str and type(events[2][2]) is bytes


async def test_close_handler_runs_after_the_connection_left_the_registry() -> None:
    seen: list[list[str]] = []
    app, _ = make_app()
    app.dispatch.functions["handle_websocket_close"] = (
        lambda cid: seen.append(app.registry.ids()))
    sock = FakeSocket(app)
    await sock.connect()
    sock.disconnect()
    await sock.finished()
    assert seen == [[]]


async def test_handlers_may_declare_fewer_parameters() -> None:
    events: list[Any] = []
    app, _ = make_app({
        "handle_websocket_connect": lambda: events.append("connect"),
        "handle_websocket_message": lambda cid: events.append(("message", cid)),
        "handle_websocket_close": lambda cid: events.append(("close", cid)),
    })
    sock = FakeSocket(app)
    await sock.connect()
    sock.text("ignored")
    sock.disconnect(1000)
    await sock.finished()
    assert events == ["connect", ("message", "conn-0001"), ("close", "conn-0001")]


async def test_alias_handler_names() -> None:
    events: list[Any] = []
    app, _ = make_app({
        "handle_new_connection": lambda cid: events.append("new"),
        "handle_websocket_disconnect": lambda cid, code: events.append(("gone", code)),
    })
    sock = FakeSocket(app)
    await sock.connect()
    sock.disconnect(1000)
    await sock.finished()
    assert events == ["new", ("gone", 1000)]


async def test_conventional_name_wins_over_its_alias() -> None:
    events: list[str] = []
    app, _ = make_app({
        "handle_websocket_connect": lambda cid: events.append("connect"),
        "handle_new_connection": lambda cid: events.append("new"),
        "handle_websocket_close": lambda cid: events.append("close"),
        "handle_websocket_disconnect": lambda cid: events.append("disconnect"),
    })
    sock = FakeSocket(app)
    await sock.connect()
    sock.disconnect()
    await sock.finished()
    assert events == ["connect", "close"]


async def test_on_overrides_conventional_names() -> None:
    events: list[Any] = []

    def my_close(cid: str, code: int) -> None:
        events.append(("mine-close", code))

    app, _ = make_app({
        "handle_websocket_message": lambda cid, m: events.append("conventional"),
        "handle_websocket_close": lambda cid, code: events.append("conventional-close"),
        "custom": lambda cid, m: events.append(("custom", m)),
    })
    app.events["message"] = "custom"   # by name
    app.events["close"] = my_close     # by value
    sock = FakeSocket(app)
    await sock.connect()
    sock.text("a")
    sock.disconnect(4000)
    await sock.finished()
    assert events == [("custom", "a"), ("mine-close", 4000)]


async def test_no_handlers_is_fine() -> None:
    app, dispatch = make_app()
    sock = FakeSocket(app)
    assert (await sock.connect())["type"] == "websocket.accept"
    sock.text("nobody listens")
    sock.disconnect()
    await sock.finished()
    assert dispatch.reports == []


async def test_connect_handler_failure_closes_with_1011() -> None:
    closes: list[int] = []

    def connect(cid: str) -> None:
        raise RuntimeError("no entry")

    app, dispatch = make_app({"handle_websocket_connect": connect,
                              "handle_websocket_message": lambda cid, m: closes.append(-1),
                              "handle_websocket_close": lambda cid, code: closes.append(code)})
    sock = FakeSocket(app)
    assert (await sock.connect())["type"] == "websocket.accept"
    close = await sock.sent()
    assert close["type"] == "websocket.close" and close["code"] == 1011
    await sock.finished()
    assert closes == [1011]
    [(error, context)] = dispatch.reports
    assert str(error) == "no entry" and "connect" in context


async def test_message_handler_error_is_reported_and_the_connection_stays() -> None:
    handled: list[str] = []

    def on_message(cid: str, msg: str) -> None:
        if msg == "bad":
            raise ValueError("bad message")
        handled.append(msg)
        app.registry.send_nowait(app.registry.get(cid), f"ack {msg}")

    app, dispatch = make_app({"handle_websocket_message": on_message})
    sock = FakeSocket(app)
    await sock.connect()
    sock.text("bad")
    sock.text("good")
    assert await sock.sent() == {"type": "websocket.send", "text": "ack good"}
    assert handled == ["good"]
    [(error, context)] = dispatch.reports
    assert str(error) == "bad message" and "message" in context and "conn-0001" in context
    assert len(app.registry) == 1
    sock.disconnect()
    await sock.finished()


async def test_rate_limit_exceeded_closes_with_1008() -> None:
    got: list[str] = []
    app, _ = make_app({"handle_websocket_message": lambda cid, m: got.append(m)},
                      rate_limit=(2, 60_000))
    sock = FakeSocket(app)
    await sock.connect()
    for m in ("1", "2", "3", "4"):
        sock.text(m)
    close = await sock.sent()
    assert close["type"] == "websocket.close" and close["code"] == 1008
    await sock.finished()
    assert got == ["1", "2"]


async def test_messages_are_handled_in_order_one_at_a_time() -> None:
    gate = asyncio.Event()
    active = 0
    most = 0
    order: list[str] = []

    async def on_message(cid: str, msg: str) -> None:
        nonlocal active, most
        active += 1
        most = max(most, active)
        order.append(f"start {msg}")
        if msg == "0":
            await gate.wait()
        await asyncio.sleep(0)
        order.append(f"end {msg}")
        active -= 1

    app, _ = make_app({"handle_websocket_message": on_message})
    sock = FakeSocket(app)
    await sock.connect()
    for i in range(20):
        sock.text(str(i))
    await settle(lambda: order == ["start 0"])
    for _ in range(10):
        await asyncio.sleep(0)
    assert order == ["start 0"]  # the second message waits for the first
    gate.set()
    await settle(lambda: len(order) == 40)
    assert order == [f"{what} {i}" for i in range(20) for what in ("start", "end")]
    assert most == 1
    sock.disconnect()
    await sock.finished()


async def test_connections_are_served_concurrently() -> None:
    gate = asyncio.Event()
    seen: list[str] = []

    async def on_message(cid: str, msg: str) -> None:
        seen.append(msg)
        if msg == "block":
            await gate.wait()

    app, _ = make_app({"handle_websocket_message": on_message})
    a, b = FakeSocket(app), FakeSocket(app)
    await a.connect()
    await b.connect()
    a.text("block")
    await settle(lambda: seen == ["block"])
    b.text("other")
    await settle(lambda: seen == ["block", "other"])  # b is not held up by a
    gate.set()
    a.disconnect()
    b.disconnect()
    await a.finished()
    await b.finished()


async def test_frames_from_the_outbox_are_sent_text_and_binary() -> None:
    def on_message(cid: str, msg: Any) -> None:
        conn = app.registry.get(cid)
        assert conn is not None
        for value in ("text", b"\x01\x02", {"a": [1, None]}, [1, "x"]):
            app.registry.send_nowait(conn, to_frame(value))

    app, _ = make_app({"handle_websocket_message": on_message})
    sock = FakeSocket(app)
    await sock.connect()
    sock.text("go")
    frames = [await sock.sent() for _ in range(4)]
    assert frames[0] == {"type": "websocket.send", "text": "text"}
    assert frames[1] == {"type": "websocket.send", "bytes": b"\x01\x02"}
    assert json.loads(frames[2]["text"]) == {"a": [1, None]}
    assert json.loads(frames[3]["text"]) == [1, "x"]
    sock.disconnect()
    await sock.finished()


def test_to_frame() -> None:
    assert to_frame("s") == "s"
    assert to_frame(b"b") == b"b"
    assert json.loads(to_frame({"a": 1})) == {"a": 1}
    assert json.loads(to_frame([1, 2])) == [1, 2]
    assert to_frame(42) == "42"
    assert to_frame(None) == "nil"


async def test_server_close_request_reaches_the_client_and_the_close_handler() -> None:
    closes: list[int] = []
    app, _ = make_app({"handle_websocket_message":
                       lambda cid, m: app.registry.get(cid).outbox.close(4002, "bye"),
                       "handle_websocket_close": lambda cid, code: closes.append(code)})
    sock = FakeSocket(app)
    await sock.connect()
    sock.text("close me")
    assert await sock.sent() == {"type": "websocket.close", "code": 4002, "reason": "bye"}
    await sock.finished()
    assert closes == [4002]


async def test_close_handler_error_is_reported() -> None:
    def on_close(cid: str, code: int) -> None:
        raise RuntimeError("close failed")

    app, dispatch = make_app({"handle_websocket_close": on_close})
    sock = FakeSocket(app)
    await sock.connect()
    sock.disconnect()
    await sock.finished()
    assert [str(e) for e, _ in dispatch.reports] == ["close failed"]
