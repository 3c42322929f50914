"""End-to-end: FluentAI programs serve real loopback sockets (SPEC §6–§7).

Each program runs as `python -m fluentai run --deterministic PROG` and prints `port N`
after `listen(0, true)`; clients are the `websockets` asyncio client, a raw socket client
and urllib. Programs live in `programs/` (the shared ones) or inline (the small ones).
"""

from __future__ import annotations

import asyncio
import json
import signal
from dataclasses import dataclass
from http.client import HTTPException
from pathlib import Path
from typing import Any

import pytest
from serverkit import (
    OP_CLOSE,
    OP_PING,
    OP_TEXT,
    FlcProcess,
    Programs,
    RawWebSocket,
    ahttp,
    ask,
    close_code,
    closed_with,
    http,
    recv,
    recv_json,
    wait_until,
    ws_connect,
)
from websockets.exceptions import ConnectionClosed, InvalidStatus

PROGRAMS = Path(__file__).parent / "programs"


def port_line(proc: FlcProcess, label: str) -> int:
    return int(proc.wait_for_line(lambda line: line.startswith(f"{label} ")).split()[1])


# ====================================================================== the main server


@dataclass
class Main:
    proc: FlcProcess
    port: int      # server S: routes, every WebSocket operation
    port2: int     # server T: started after the routes; its message handler comes later
    listen: Any    # what listen() gave for S
    setup_errors: list[str]  # messages of failing listen/route/on calls at the top level


@pytest.fixture(scope="module")
def main(module_programs: Programs) -> Main:
    proc = module_programs.start((PROGRAMS / "main.flc").read_text(encoding="utf-8"),
                                 name="main.flc", stdin=True)
    port2 = port_line(proc, "port2")
    listen = json.loads(proc.wait_for_line(lambda line: line.startswith("listen ")).split(" ", 1)[1])
    setup_errors = json.loads(proc.wait_for_line(lambda line: line.startswith("setup errors "))
                              .split(" ", 2)[2])
    return Main(proc, proc.port, port2, listen, setup_errors)


async def my_ids(*clients: Any) -> list[str]:
    return [(await ask(ws, "whoami"))["id"] for ws in clients]


async def server_sees_exactly(ws: Any, ids: list[str], total: int | None = None) -> None:
    """Wait until server S's connections are exactly `ids`, and the program has `total`
    connections on all its servers (other tests' connections may still be closing)."""
    want_total = len(ids) if total is None else total

    async def check() -> bool:
        conns = await ask(ws, "conns")
        return sorted(conns["ids"]) == sorted(ids) and conns["count"] == want_total
    await wait_until(check, what=f"server connections == {ids}, {want_total} in all")


def test_listen_gives_id_port_and_address(main: Main) -> None:
    assert main.listen == {"id": f"server_{main.port}", "port": main.port,
                           "address": f"127.0.0.1:{main.port}"}
    assert main.port != 0 and main.port2 not in (0, main.port)


def test_listen_route_and_on_errors(main: Main) -> None:
    out_of_range, unknown_option, in_use, bad_method, bad_path, bad_event = main.setup_errors
    assert "70000" in out_of_range and "out of range" in out_of_range
    assert "unknown option 'bogus'" in unknown_option
    assert f"cannot listen on 127.0.0.1:{main.port}" in in_use
    assert "FETCH" in bad_method
    assert "must start with '/'" in bad_path
    assert "unknown event" in bad_event and "bogus" in bad_event


def test_route_by_name_sync_handler(main: Main) -> None:
    r = http(main.port, "GET", "/hello/ann?x=1&y=two")
    assert r.status == 200
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"hello": "ann", "query": {"x": "1", "y": "two"}}
    r = http(main.port, "GET", "/hello/J%C3%BCrgen%20B?q=a%26b")  # percent-decoded
    assert r.json() == {"hello": "Jürgen B", "query": {"q": "a&b"}}


def test_route_by_function_value_async_handler_gets_the_request_map(main: Main) -> None:
    r = http(main.port, "POST", "/echo/42?q=v", b'{"n": [1, 2], "ok": true}',
             headers={"Content-Type": "application/json", "X-Test": "yes"})
    assert r.status == 201
    assert r.headers["x-handler"] == "echo"
    req = r.json()
    assert req["method"] == "POST"
    assert req["path"] == "/echo/42"
    assert req["params"] == {"id": "42"}
    assert req["query"] == {"q": "v"}
    assert req["headers"]["x-test"] == "yes"
    assert req["headers"]["content-type"] == "application/json"
    assert req["body"] == '{"n": [1, 2], "ok": true}'
    assert req["json"] == {"n": [1, 2], "ok": True}


def test_request_without_json_has_no_json(main: Main) -> None:
    r = http(main.port, "POST", "/echo/1", b"plain", headers={"Content-Type": "text/plain"})
    assert r.status == 201
    assert r.json()["body"] == "plain"
    assert r.json()["json"] is None  # `req.json` of a map without the key is nil


def test_response_kinds(main: Main) -> None:
    r = http(main.port, "GET", "/text")
    assert (r.status, r.text) == (200, "just text")
    assert r.headers["content-type"].startswith("text/plain")
    r = http(main.port, "GET", "/nothing")
    assert (r.status, r.body) == (204, b"")
    r = http(main.port, "GET", "/list")
    assert r.status == 200 and r.headers["content-type"] == "application/json"
    assert r.json() == [1, "two", None]
    r = http(main.port, "GET", "/files/a/b/c.txt")
    assert r.json() == {"rest": "a/b/c.txt"}


def test_404_405_and_head(main: Main) -> None:
    assert http(main.port, "GET", "/no/such/route").status == 404
    assert http(main.port, "DELETE", "/hello/ann").status == 405
    r = http(main.port, "HEAD", "/hello/ann")
    assert (r.status, r.body) == (200, b"")


def test_routes_apply_to_servers_started_before_and_after(main: Main) -> None:
    for port in (main.port, main.port2):
        assert http(port, "GET", "/before").text == "registered before listen"
        assert http(port, "GET", "/hello/bo").json()["hello"] == "bo"


def test_handler_error_is_500_with_a_fluentai_traceback_and_the_server_goes_on(main: Main) -> None:
    r = http(main.port, "GET", "/boom")
    assert r.status == 500
    err = main.proc.wait_for_stderr("note: in HTTP handler for GET /boom")
    assert "error:" in err
    assert "ZeroDivisionError" in err
    assert "in call to helper_that_fails" in err
    assert "main.flc:" in err
    assert "Traceback" not in err
    assert http(main.port, "GET", "/hello/after").status == 200
    assert http(main.port, "GET", "/boom").status == 500  # and again
    assert http(main.port, "GET", "/text").status == 200


def test_undefined_route_handler_is_reported_as_a_program_error(main: Main) -> None:
    assert http(main.port, "GET", "/undefined").status == 500
    err = main.proc.wait_for_stderr("'no_such_handler' is not defined")
    assert "NameError" in err
    assert "internal error" not in err
    assert "bug in fluentai" not in err
    assert http(main.port, "GET", "/text").status == 200


async def test_handlers_defined_after_listen_are_used(main: Main) -> None:
    r = await ahttp(main.port, "GET", "/later")
    assert r.status == 500  # `later_fn` does not exist yet
    async with ws_connect(main.port2) as early:  # connected before its handler exists
        main.proc.write_stdin("now\n")
        await main.proc.line("later defined")
        r = await ahttp(main.port, "GET", "/later")
        assert (r.status, r.text) == (200, "defined later: now")
        await early.send("after")
        assert await recv(early) == "late after"


# ---------------------------------------------------------------------- WebSocket sends


async def test_ws_send_returns_true_and_the_text_arrives(main: Main) -> None:
    async with ws_connect(main.port) as ws:
        await ws.send(json.dumps({"op": "send"}))
        assert await recv(ws) == "plain text"
        assert await recv_json(ws) == {"ws_send": True}


async def test_ws_send_async_and_websocket_send_wait_and_return_true(main: Main) -> None:
    async with ws_connect(main.port) as ws:
        await ws.send(json.dumps({"op": "send_async"}))
        assert await recv(ws) == "async text"
        assert await recv_json(ws) == {"ws_send_async": True}
        await ws.send(json.dumps({"op": "effect_send"}))
        assert await recv(ws) == "effect text"
        assert await recv_json(ws) == {"WebSocket.send": True}


async def test_asynchronous_operations_give_promises_synchronous_ones_values(main: Main) -> None:
    async with ws_connect(main.port) as ws:
        await ws.send(json.dumps({"op": "types"}))
        assert sorted([await recv(ws) for _ in range(3)]) == ["t1", "t2", "t3"]
        types = await recv_json(ws)
    assert types == {
        "ws_send": "bool", "ws_send_async": "promise", "ws_broadcast": "promise",
        "WebSocket.send": "promise", "ws_connections": "list", "WebSocket.connections": "list",
        "WebSocket.connection_count": "int", "WebSocket.info": "map", "route": "nil",
    }


async def test_maps_and_lists_are_sent_as_json_text_bytes_as_binary(main: Main) -> None:
    async with ws_connect(main.port) as ws:
        await ws.send(json.dumps({"op": "json"}))
        first, second = await recv(ws), await recv(ws)
        assert isinstance(first, str) and isinstance(second, str)
        assert json.loads(first) == {"a": 1, "nested": [1, 2.5, {"b": None}], "s": "é"}
        assert json.loads(second) == [1, "two", None, True]
        await ws.send(json.dumps({"op": "bytes"}))
        frame = await recv(ws)
        assert isinstance(frame, bytes) and frame == "héllo €".encode()


async def test_text_arrives_as_string_and_binary_as_bytes(main: Main) -> None:
    async with ws_connect(main.port) as ws:
        assert (await ask(ws, "whoami"))["type"] == "string"
        await ws.send(b"\x00\x01\xfe\xff")
        assert await recv(ws) == b"\x00\x01\xfe\xff"  # echoed back as a binary frame
        await main.proc.line("binary 4")


async def test_default_max_message_size_is_one_mib(main: Main) -> None:
    async with ws_connect(main.port, max_size=2 * 1024 * 1024) as ws:
        await ws.send(bytes(1024 * 1024))
        assert await recv(ws) == bytes(1024 * 1024)
        await ws.send(bytes(1024 * 1024 + 1))
        code, _ = await closed_with(ws)
    assert code == 1009


async def test_connection_ids_are_unique_strings_of_8_or_more(main: Main) -> None:
    clients = [await ws_connect(main.port).__aenter__() for _ in range(6)]
    try:
        ids = await my_ids(*clients)
    finally:
        for ws in clients:
            await ws.close()
    assert len(set(ids)) == 6
    assert all(isinstance(i, str) and len(i) >= 8 for i in ids)
    for i in ids:
        await main.proc.line(f"connect {i}")


async def test_info_fields(main: Main) -> None:
    async with ws_connect(main.port, "/info/path?x=1", subprotocols=["chat.v1"],
                          additional_headers={"X-Test-Header": "yes"}) as ws:
        [my_id] = await my_ids(ws)
        info = await ask(ws, "info")
        local_host, local_port = ws.local_address[:2]
    assert set(info) == {"id", "server_id", "path", "remote_address", "headers", "subprotocol",
                         "connected_at", "meta"}
    assert info["id"] == my_id
    assert info["server_id"] == f"server_{main.port}"
    assert info["path"] == "/info/path"
    assert info["remote_address"] == f"{local_host}:{local_port}"
    assert info["headers"]["x-test-header"] == "yes"
    assert info["headers"]["host"] == f"127.0.0.1:{main.port}"
    assert info["subprotocol"] == "chat.v1"
    assert isinstance(info["connected_at"], int) and info["connected_at"] >= 1_704_067_200_000
    assert info["meta"] == {}


async def test_subprotocol_choice(main: Main) -> None:
    async with ws_connect(main.port, subprotocols=["x-unknown", "chat.v1", "chat.v2"]) as ws:
        assert ws.subprotocol == "chat.v1"
        assert (await ask(ws, "info"))["subprotocol"] == "chat.v1"
    async with ws_connect(main.port) as ws:
        assert ws.subprotocol is None
        assert (await ask(ws, "info"))["subprotocol"] is None


async def test_compression_is_negotiated_by_default(main: Main) -> None:
    async with ws_connect(main.port) as ws:
        assert [e.name for e in ws.protocol.extensions] == ["permessage-deflate"]
        assert (await ask(ws, "whoami"))["type"] == "string"


async def test_connections_and_counts(main: Main) -> None:
    async with ws_connect(main.port) as a, ws_connect(main.port) as b, \
            ws_connect(main.port2) as other_server:
        ids = await my_ids(a, b)
        await server_sees_exactly(a, ids, total=3)
        conns = await ask(a, "conns")
        assert conns["ids"] == ids  # in connection order
        # The WebSocket effect sees the connections of every server of the program.
        assert set(ids) < set(conns["all"])
        assert conns["count"] == len(conns["all"]) == 3
        assert other_server.state.name == "OPEN"


async def test_broadcasts_count_and_reach_every_connection(main: Main) -> None:
    async with ws_connect(main.port) as a, ws_connect(main.port) as b, ws_connect(main.port) as c:
        ids = await my_ids(a, b, c)
        await server_sees_exactly(a, ids)
        await a.send(json.dumps({"op": "broadcast", "text": "to all"}))
        for ws in (a, b, c):
            assert await recv(ws) == "to all"
        assert await recv_json(a) == {"ws_broadcast": 3}
        await b.send(json.dumps({"op": "effect_broadcast", "text": "via WebSocket"}))
        for ws in (a, b, c):
            assert await recv(ws) == "via WebSocket"
        assert await recv_json(b) == {"WebSocket.broadcast": 3}


async def test_ws_close_with_code_and_reason(main: Main) -> None:
    async with ws_connect(main.port) as ws:
        [my_id] = await my_ids(ws)
        await ws.send(json.dumps({"op": "close", "code": 4321, "reason": "see you"}))
        assert await closed_with(ws) == (4321, "see you")
    await main.proc.line(f"close {my_id} 4321")


async def test_websocket_close_uses_1000(main: Main) -> None:
    async with ws_connect(main.port) as ws:
        [my_id] = await my_ids(ws)
        await ws.send(json.dumps({"op": "effect_close"}))
        assert await closed_with(ws) == (1000, "")
    await main.proc.line(f"close {my_id} 1000")


async def test_close_handler_gets_the_client_code(main: Main) -> None:
    ws = await ws_connect(main.port).__aenter__()
    [my_id] = await my_ids(ws)
    await ws.close(4100, "client leaves")
    await main.proc.line(f"close {my_id} 4100")


@pytest.mark.parametrize("code", [999, 1004, 1005, 1006, 1015, 2000, 5000])
async def test_ws_close_rejects_codes_a_server_may_not_send(main: Main, code: int) -> None:
    async with ws_connect(main.port) as ws:
        reply = await ask(ws, "close_code", code=code)
        assert str(code) in reply["result"]
        assert (await ask(ws, "whoami"))["type"] == "string"  # still open


async def test_unknown_server_and_connection_ids_are_runtime_errors_naming_them(main: Main) -> None:
    async with ws_connect(main.port) as ws:
        messages = await ask(ws, "errors")
    assert len(messages) == 11
    expected_names = ["server_1", "no-such-conn", "server_2", "no-such-conn", "server_3",
                      "no-such-conn", "server_4", "server_5", "no-such-conn", "no-such-conn",
                      "no-such-conn"]
    for message, name in zip(messages, expected_names, strict=True):
        assert message != "no error"
        assert f"'{name}'" in message, (message, name)
    assert "unknown server id" in messages[0]
    assert "unknown connection id" in messages[1]


async def test_connect_handler_error_closes_with_1011(main: Main) -> None:
    async with ws_connect(main.port, "/fail-connect") as ws:
        code, _ = await closed_with(ws)
    assert code == 1011
    err = await main.proc.err("connect refused on purpose")
    assert "connect handler" in err


async def test_message_handler_error_is_reported_and_the_connection_stays(main: Main) -> None:
    async with ws_connect(main.port) as ws:
        await ws.send(json.dumps({"op": "fail"}))
        err = await main.proc.err("message handler failed on purpose")
        assert "message handler" in err
        assert "Traceback" not in err
        assert (await ask(ws, "whoami"))["type"] == "string"


# ====================================================================== limits and refusals


@dataclass
class Limits:
    proc: FlcProcess
    port: int   # L: origins, /ws only, rate limit 5/min, 64-byte messages, 16-byte bodies
    port2: int  # M: max_connections 2
    port3: int  # N: WebSocket not enabled


ORIGIN = "http://allowed.test"


@pytest.fixture(scope="module")
def limits(module_programs: Programs) -> Limits:
    proc = module_programs.start((PROGRAMS / "limits.flc").read_text(encoding="utf-8"),
                                 name="limits.flc")
    return Limits(proc, proc.port, port_line(proc, "port2"), port_line(proc, "port3"))


async def refused(port: int, path: str = "/ws", **kwargs: Any) -> int:
    with pytest.raises(InvalidStatus) as info:
        async with ws_connect(port, path, **kwargs):
            pass
    return info.value.response.status_code


async def test_origin_not_allowed_is_403(limits: Limits) -> None:
    assert await refused(limits.port) == 403
    assert await refused(limits.port, origin="http://evil.test") == 403
    async with ws_connect(limits.port, "/ws", origin=ORIGIN) as ws:
        await ws.send("hi")
        assert await recv(ws) == "ok hi"


async def test_upgrade_only_at_registered_paths(limits: Limits) -> None:
    assert await refused(limits.port, "/elsewhere", origin=ORIGIN) == 403
    assert await refused(limits.port, "/", origin=ORIGIN) == 403


def test_plain_http_on_an_upgrade_path_is_426(limits: Limits) -> None:
    assert http(limits.port, "GET", "/ws").status == 426
    assert http(limits.port, "GET", "/page").text == "page"


async def test_websocket_not_enabled_is_403(limits: Limits) -> None:
    assert await refused(limits.port3) == 403
    assert (await ahttp(limits.port3, "GET", "/page")).text == "page"


async def test_rate_limit_exceeded_closes_with_1008(limits: Limits) -> None:
    async with ws_connect(limits.port, "/ws", origin=ORIGIN) as ws:
        for i in range(7):
            await ws.send(str(i))
        got = []
        code = None
        try:
            while True:
                got.append(await recv(ws))
        except ConnectionClosed:
            code = ws.protocol.close_rcvd.code if ws.protocol.close_rcvd else None
    assert code == 1008
    assert got == [f"ok {i}" for i in range(5)]
    await limits.proc.line("close 1008")


async def test_message_over_max_message_size_closes_with_1009(limits: Limits) -> None:
    async with ws_connect(limits.port, "/ws", origin=ORIGIN) as ws:
        await ws.send("x" * 60)
        assert await recv(ws) == "ok " + "x" * 60
        await ws.send("y" * 65)
        code, _ = await closed_with(ws)
    assert code == 1009
    await limits.proc.line("close 1009")


def test_body_over_the_limit_is_413_and_invalid_json_400(limits: Limits) -> None:
    ok = http(limits.port, "POST", "/body", b'{"a": 12345678}', {"Content-Type": "application/json"})
    assert ok.status == 200 and ok.json() == {"length": 15, "json": {"a": 12345678}}
    assert http(limits.port, "POST", "/body", b"x" * 17, {"Content-Type": "text/plain"}).status == 413
    bad = http(limits.port, "POST", "/body", b'{"a": ', {"Content-Type": "application/json"})
    assert bad.status == 400
    assert http(limits.port, "POST", "/body", b'{"a": ', {"Content-Type": "text/plain"}).status == 200


def test_an_invalid_response_header_is_a_500_and_a_program_error(limits: Limits) -> None:
    try:
        status: object = http(limits.port, "GET", "/bad-header").status
    except (ConnectionError, HTTPException) as e:
        status = f"no response ({e!r})"
    assert status == 500
    err = limits.proc.wait_for_stderr("GET /bad-header", timeout=5)
    assert "Bad Name" in err
    assert "internal error" not in err


def test_an_invalid_status_is_a_500_with_a_generic_body_and_the_reason_on_stderr(
        limits: Limits) -> None:
    # docs/server.md, "Errors and status codes": the client learns nothing of the program;
    # its author reads why on stderr.
    r = http(limits.port, "GET", "/bad-status")
    assert (r.status, r.json()) == (500, {"error": "internal server error"})
    err = limits.proc.wait_for_stderr("note: in the response of the HTTP handler for "
                                      "GET /bad-status", timeout=5)
    assert "ValueError: a response status must be an int from 100 to 599, got 1000" in err


async def test_beyond_max_connections_is_503_before_the_upgrade(limits: Limits) -> None:
    async with ws_connect(limits.port2, "/ws") as a, ws_connect(limits.port2, "/ws") as b:
        with pytest.raises(InvalidStatus) as info:
            async with ws_connect(limits.port2, "/ws"):
                pass
        assert info.value.response.status_code == 503
        for ws in (a, b):  # the two admitted connections are unaffected
            await ws.send("still here")
            assert await recv(ws) == "ok still here"


async def test_compression_option_off(limits: Limits) -> None:
    async with ws_connect(limits.port, "/ws", origin=ORIGIN) as ws:
        assert ws.protocol.extensions == []


async def test_ping_interval_sends_pings(limits: Limits) -> None:
    def first_ping() -> bytes:
        raw = RawWebSocket(limits.port, "/ws", headers={"Origin": ORIGIN})
        try:
            while True:
                opcode, payload = raw.read_frame()
                if opcode == OP_PING:
                    return payload
        finally:
            raw.close()

    await asyncio.wait_for(asyncio.to_thread(first_ping), 10)


# ====================================================================== event handler names


ALIASES = """
let S = perform HttpServer.listen(0, true).await()
function handle_new_connection(id) { print(f"new connection {id}") }
function handle_websocket_message(id) {
    perform HttpServer.ws_send(S.id, id, f"only the id: {id}")
}
function handle_websocket_disconnect() { print("disconnect handler without parameters") }
print(f"port {S.port}")
"""


async def test_alias_names_and_handlers_with_fewer_parameters(programs: Programs) -> None:
    proc = programs.start(ALIASES)
    async with ws_connect(proc.port) as ws:
        line = await proc.line("new connection ")
        conn_id = line.split()[-1]
        await ws.send("ignored text")
        assert await recv(ws) == f"only the id: {conn_id}"
    await proc.line("disconnect handler without parameters")


ON_OVERRIDES = """
let S = perform HttpServer.listen(0, true).await()
let T = perform HttpServer.listen(0, true).await()
function handle_websocket_connect(id) { print(f"conventional connect") }
function handle_websocket_message(id, m) {
    perform HttpServer.ws_send(perform WebSocket.info(id).server_id, id, f"conventional {m}")
}
function handle_websocket_close(id, code) { print(f"conventional close {code}") }
function my_connect(id) { print(f"on connect {id}") }
function my_close(id, code) { print(f"on close {code}") }
perform HttpServer.on(S.id, "connect", "my_connect")
perform HttpServer.on(S.id, "message", (id, m) => perform HttpServer.ws_send(S.id, id, f"on message {m}"))
perform HttpServer.on(S.id, "close", my_close)
print(f"port {S.port}")
print(f"port2 {T.port}")
"""


async def test_on_overrides_the_conventional_names_per_server(programs: Programs) -> None:
    proc = programs.start(ON_OVERRIDES)
    port2 = port_line(proc, "port2")
    async with ws_connect(proc.port) as ws:
        await proc.line("on connect ")
        await ws.send("hi")
        assert await recv(ws) == "on message hi"
    await proc.line("on close 1000")
    assert not any(line.startswith("conventional") for line in proc.lines)
    async with ws_connect(port2) as ws:  # the other server keeps the conventional names
        await proc.line("conventional connect")
        await ws.send("hey")
        assert await recv(ws) == "conventional hey"
    await proc.line("conventional close 1000")


SERVER_ID_FIRST = """
function handle_message(server_id, conn_id, message) {
    perform HttpServer.ws_send(server_id, conn_id, f"{server_id} got {message}")
}
function handle_websocket_connect(server_id, conn_id) { print(f"connect {server_id} {conn_id}") }
let S = perform HttpServer.listen(0, true).await()
print(f"port {S.port}")
"""


async def test_handle_message_and_handlers_declaring_the_server_id_first(
        programs: Programs) -> None:
    # FluentAI's own websocket_echo.flc: `handle_message(server_id, conn_id, message)`.
    proc = programs.start(SERVER_ID_FIRST)
    async with ws_connect(proc.port) as ws:
        line = await proc.line("connect ")
        assert line.split()[1] == f"server_{proc.port}" and len(line.split()[2]) >= 8
        await ws.send("ping")
        assert await recv(ws) == f"server_{proc.port} got ping"


NAMED_HANDLER = """
function handle_chat_message(conn_id, message) {
    perform WebSocket.send(conn_id, f"chat: {message}").await()
}
let S = perform HttpServer.listen(0, true).await()
print(f"port {S.port}")
"""


async def test_the_single_handle_name_message_function_gets_messages(programs: Programs) -> None:
    proc = programs.start(NAMED_HANDLER)
    async with ws_connect(proc.port) as ws:
        await ws.send("hi")
        assert await recv(ws) == "chat: hi"
    assert "warning" not in proc.stderr


NO_HANDLER = """
function handle_websocket_connect(id) { print(f"connected {id}") }
let S = perform HttpServer.listen(0, true).await()
let T = perform HttpServer.listen(0, true).await()
print(f"port {S.port}")
print(f"port2 {T.port}")
"""


async def test_a_message_nobody_handles_is_reported_once_per_server(programs: Programs) -> None:
    proc = programs.start(NO_HANDLER)
    port2 = port_line(proc, "port2")
    async with ws_connect(proc.port) as ws:
        await proc.line("connected ")
        for text in ("first", "second", "third"):
            await ws.send(text)
        await proc.err(f"server_{proc.port} received a WebSocket message")
        async with ws_connect(port2) as other:
            await other.send("elsewhere")
            await proc.err(f"server_{port2} received a WebSocket message")
        await ws.send("fourth")
        pong = await ws.ping()
        await pong  # the server has read "fourth" by the time the pong comes back
    [warning] = [line for line in proc.stderr.splitlines()
                 if line.startswith(f"warning: server_{proc.port} ")]
    assert warning.startswith(f"warning: server_{proc.port} received a WebSocket message "
                              f"('first' from connection ")
    assert "handle_websocket_message, handle_message, or one function handle_<name>_message" \
        in warning
    assert 'perform HttpServer.on(server.id, "message", handler)' in warning
    assert sum("received a WebSocket message" in line for line in proc.stderr.splitlines()) == 2


SEVERAL_CANDIDATES = """
function handle_chat_message(id, m) { 1 }
function handle_game_message(id, m) { 2 }
let plain = perform HttpServer.listen(0, false).await()
print(f"port {plain.port}")
let r = try { perform HttpServer.listen(0, true).await() } catch (e) { e.message }
print(r)
"""


async def test_several_handle_name_message_functions_are_an_error_at_listen(
        programs: Programs) -> None:
    proc = programs.start(SEVERAL_CANDIDATES)
    assert await proc.line("HttpServer.listen") == (
        "HttpServer.listen(): several functions could handle WebSocket messages: "
        "handle_chat_message, handle_game_message; define handle_websocket_message, or keep "
        "one handle_<name>_message")


# ====================================================================== volume and back-pressure


IN_ORDER = """
let S = perform HttpServer.listen(0, true).await()
let active = 0
let overlaps = 0
let expected = 0
let disorder = 0
async function handle_websocket_message(id, msg) {
    active += 1
    if active > 1 { overlaps += 1 }
    perform Time.sleep(0).await()
    if int(msg) != expected { disorder += 1 }
    expected += 1
    perform HttpServer.ws_send_async(S.id, id, msg).await()
    active -= 1
    if expected == 1000 { print(f"handled {expected} overlaps {overlaps} disorder {disorder}") }
}
print(f"port {S.port}")
"""


async def test_a_thousand_messages_arrive_and_are_handled_in_order(programs: Programs) -> None:
    proc = programs.start(IN_ORDER)
    async with ws_connect(proc.port) as ws:
        for i in range(1000):
            await ws.send(str(i))
        echoed = [await recv(ws) for _ in range(1000)]
    assert echoed == [str(i) for i in range(1000)]
    await proc.line("handled 1000 overlaps 0 disorder 0")


BROADCAST = """
let S = perform HttpServer.listen(0, true).await()
async function handle_websocket_message(id, msg) {
    let n = perform HttpServer.ws_broadcast(S.id, msg).await()
    print(f"broadcast {n}")
}
print(f"port {S.port}")
"""


async def test_a_broadcast_to_200_connections_loses_nothing(programs: Programs) -> None:
    proc = programs.start(BROADCAST)
    clients = await asyncio.gather(*(ws_connect(proc.port, compression=None).__aenter__()
                                     for _ in range(200)))
    try:
        await clients[0].send("hello, all 200")
        got = await asyncio.gather(*(recv(ws, timeout=20) for ws in clients))
        assert got == ["hello, all 200"] * 200
        await proc.line("broadcast 200")
    finally:
        await asyncio.gather(*(ws.close() for ws in clients))


FLOOD = """
let S = perform HttpServer.listen(0, true, { "queue_size": 8 }).await()
let chunk = "0123456789abcdef".repeat(2048)
async function handle_websocket_message(id, msg) {
    let slow = perform HttpServer.ws_connections(S.id).filter(c => c != id)[0]
    let i = 0
    let failed_at = -1
    while i < 3000 && (failed_at < 0 || i < failed_at + 20) {
        let frame = f"{i}:{chunk}"
        perform HttpServer.ws_send_async(S.id, id, frame).await()
        if failed_at < 0 {
            if !perform HttpServer.ws_send(S.id, slow, frame) {
                failed_at = i
                print(f"slow buffer full at {i}")
            }
        }
        i += 1
    }
    perform HttpServer.ws_send_async(S.id, id, f"done {i} {failed_at}").await()
}
function handle_websocket_close(id, code) { print(f"close {code}") }
print(f"port {S.port}")
"""


async def test_a_client_that_never_reads_is_closed_with_1013_and_others_get_everything(
        programs: Programs) -> None:
    proc = programs.start(FLOOD)
    # The slow client completes the handshake, then reads nothing (a small receive buffer
    # makes the server's socket buffers fill sooner).
    slow = await asyncio.to_thread(RawWebSocket, proc.port, "/", None, 4096)
    try:
        async with ws_connect(proc.port, max_size=None) as fast:
            await fast.send("flood")
            received: list[str] = []
            while True:
                msg = await recv(fast, timeout=30)
                assert isinstance(msg, str)
                if msg.startswith("done "):
                    break
                received.append(msg)
            _, total, failed_at = msg.split()
            assert int(failed_at) >= 0, "the slow client's buffer never filled"
            assert len(received) == int(total)
            assert [m.split(":", 1)[0] for m in received] == [str(i) for i in range(int(total))]
            assert all(len(m.split(":", 1)[1]) == 32768 for m in received)
            await proc.line(f"slow buffer full at {failed_at}")

            # Now the slow client reads: what had been written, then the 1013 close.
            def read_all() -> tuple[list[int], int | None]:
                indices: list[int] = []
                while True:
                    opcode, payload = slow.read_frame()
                    if opcode == OP_CLOSE:
                        return indices, close_code(payload)[0]
                    assert opcode == OP_TEXT
                    indices.append(int(payload.split(b":", 1)[0]))

            indices, code = await asyncio.wait_for(asyncio.to_thread(read_all), 30)
            assert code == 1013
            assert indices == list(range(len(indices)))  # in order, a prefix
            assert len(indices) < int(failed_at)
            await proc.line("close 1013")
    finally:
        slow.close()


WAITING = """
let S = perform HttpServer.listen(0, true, { "queue_size": 2 }).await()
let chunk = "0123456789abcdef".repeat(2048)
async function handle_websocket_message(id, msg) {
    let slow = perform HttpServer.ws_connections(S.id).filter(c => c != id)[0]
    let sent = 0
    let all_true = true
    while sent < 200 {
        if !perform HttpServer.ws_send_async(S.id, slow, f"{sent}:{chunk}").await() { all_true = false }
        sent += 1
    }
    print(f"sent {sent} {all_true}")
}
function handle_websocket_close(id, code) { print(f"close {code}") }
print(f"port {S.port}")
"""


async def test_ws_send_async_waits_for_a_slow_client_instead_of_dropping_it(
        programs: Programs) -> None:
    proc = programs.start(WAITING)
    slow = await asyncio.to_thread(RawWebSocket, proc.port, "/", None, 4096)
    try:
        async with ws_connect(proc.port) as control:
            await control.send("go")  # 200 x 32 KiB: far more than the buffers hold

            def read_200() -> list[int]:
                indices: list[int] = []
                while len(indices) < 200:
                    opcode, payload = slow.read_frame()
                    assert opcode == OP_TEXT, (opcode, payload[:40])
                    indices.append(int(payload.split(b":", 1)[0]))
                return indices

            indices = await asyncio.wait_for(asyncio.to_thread(read_200), 30)
            assert indices == list(range(200))
            await proc.line("sent 200 true")
        assert "close 1013" not in proc.lines
    finally:
        slow.close()


HANDLE_FRAMES = """
let S = handle {
    perform HttpServer.listen(0, true).await()
} with {
    Time.now() => 42
}
perform HttpServer.route("GET", "/now", req => { "now": perform Time.now() })
function handle_websocket_message(id, m) {
    perform HttpServer.ws_send(S.id, id, f"now {perform Time.now()}")
}
print(f"port {S.port}")
print(f"outside {perform Time.now() == 42}")
"""


async def test_handle_frames_in_force_at_listen_apply_to_its_handlers(programs: Programs) -> None:
    proc = programs.start(HANDLE_FRAMES)
    await proc.line("outside false")
    assert (await ahttp(proc.port, "GET", "/now")).json() == {"now": 42}
    async with ws_connect(proc.port) as ws:
        await ws.send("what time is it")
        assert await recv(ws) == "now 42"


# ====================================================================== client effects


def test_websocket_client_and_network_effects_against_the_programs_own_server(
        programs: Programs) -> None:
    proc = programs.start((PROGRAMS / "clients.flc").read_text(encoding="utf-8"),
                          name="clients.flc")
    proc.wait_for_line("done", timeout=30)
    assert proc.wait() == 0  # it stops its server itself, then ends
    shown = {line.split(" {", 1)[0].split(" [", 1)[0]: line for line in proc.lines[1:-1]}

    def value(label: str) -> Any:
        return json.loads(shown[label][len(label) + 1:])

    assert value("get") == {"status": 200, "x-a": "1", "json": {"q": {"x": "1"}, "h": "yes"}}
    assert value("post") == {"status": 201, "json": {"body": '{"k":[1,2]}', "json": {"k": [1, 2]}}}
    assert value("request") == {"status": 200, "body": "PUT data"}
    assert value("missing") == {"status": 404}
    assert value("client") == {"id": "client_1", "sent": True}
    assert value("received") == {"msg": "echo hi"}
    assert value("binary") == {"type": "bytes", "text": "bin"}
    assert value("timeout") == {"msg": None}
    assert value("after close") == {"msg": None, "status": {"open": False, "close_code": 4005,
                                                             "close_reason": "as asked"}}
    assert value("closed by client")["close_code"] == 1000
    unknown_client, refused_ws, refused_http, bad_url = value("errors")
    assert unknown_client.startswith("ValueError") and "'client_99'" in unknown_client
    assert refused_ws.startswith("EffectError") and "cannot connect" in refused_ws
    assert refused_http.startswith("EffectError") and "http://127.0.0.1:" in refused_http
    assert bad_url.startswith("ValueError") and "'not a url'" in bad_url


# ====================================================================== stopping


STOP = """
let S = perform HttpServer.listen(0, true).await()
async function stopper() {
    perform HttpServer.stop(S.id).await()
    print("stopped")
}
function handle_websocket_message(id, msg) {
    if msg == "stop" { stopper() }
    nil
}
function handle_websocket_close(id, code) { print(f"close {code}") }
print(f"port {S.port}")
"""


async def test_stop_closes_clients_with_1001_and_the_program_ends(programs: Programs) -> None:
    proc = programs.start(STOP)
    async with ws_connect(proc.port) as a, ws_connect(proc.port) as b:
        await a.send("stop")
        assert (await closed_with(a))[0] == 1001
        assert (await closed_with(b))[0] == 1001
    assert await proc.ended() == 0
    assert proc.lines.count("close 1001") == 2
    assert proc.lines[-1] == "stopped"


STOP_IN_HANDLER = """
let S = perform HttpServer.listen(0, true).await()
async function handle_websocket_message(id, msg) {
    perform HttpServer.stop(S.id).await()
    print("stopped in handler")
}
function handle_websocket_close(id, code) { print(f"close {code}") }
print(f"port {S.port}")
"""


async def test_stop_awaited_inside_a_handler(tmp_path: Path) -> None:
    proc = FlcProcess(tmp_path, STOP_IN_HANDLER)
    try:
        async with ws_connect(proc.port) as ws:
            await ws.send("stop")
            assert (await closed_with(ws))[0] == 1001
        await proc.line("stopped in handler", timeout=3)
        await proc.line("close 1001", timeout=1)
        assert "close 1006" not in proc.lines
    finally:
        proc.proc.kill()
        proc.proc.wait()


BUSY_HANDLER = """
let S = perform HttpServer.listen(0, true).await()
async function handle_websocket_message(id, msg) {
    print("handling")
    perform Time.sleep(60000).await()
}
function handle_websocket_close(id, code) { print(f"close {code}") }
print(f"port {S.port}")
"""


async def test_signal_while_a_message_handler_is_busy(tmp_path: Path) -> None:
    proc = FlcProcess(tmp_path, BUSY_HANDLER)
    try:
        async with ws_connect(proc.port) as ws:
            await ws.send("work")
            await proc.line("handling")
            proc.signal(signal.SIGTERM)
            assert (await closed_with(ws))[0] == 1001
        await proc.line("close 1001", timeout=3)
    finally:
        proc.proc.kill()
        proc.proc.wait()


SIGNALS = """
let S = perform HttpServer.listen(0, true).await()
function handle_websocket_connect(id) { print("connected") }
function handle_websocket_close(id, code) { print(f"close handler {code}") }
print(f"port {S.port}")
"""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
async def test_signal_shuts_down_gracefully(tmp_path: Path, sig: signal.Signals) -> None:
    proc = FlcProcess(tmp_path, SIGNALS, restore_sigint=True)
    try:
        async with ws_connect(proc.port) as a, ws_connect(proc.port) as b:
            await proc.lines_matching("connected", 2)
            proc.signal(sig)
            assert await closed_with(a) == (1001, "server shutting down")
            assert (await closed_with(b))[0] == 1001
        assert await proc.ended() == 0
        assert proc.lines.count("close handler 1001") == 2
        assert "Traceback" not in proc.stderr
        assert "KeyboardInterrupt" not in proc.stderr
    finally:
        if proc.running:
            proc.proc.kill()
            proc.proc.wait()
