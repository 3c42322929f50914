"""Listen-option limits and handshake authorization over real loopback sockets (SPEC §7,
hardening): 1009, 1008, 1013 are close codes the client sees; 403, 401, 503, 413 and 400 are
HTTP answers; a peer that stops answering pings is dropped."""

from __future__ import annotations

import asyncio
import http.client
import json
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

ROOT = Path(__file__).resolve().parent.parent


class Server:
    def __init__(self, proc: subprocess.Popen[str], port: int) -> None:
        self.proc = proc
        self.port = port
        self.url = f"ws://127.0.0.1:{port}/"

    def stop(self) -> tuple[str, str]:
        self.proc.send_signal(signal.SIGTERM)
        out, err = self.proc.communicate(timeout=20)
        assert self.proc.returncode == 0, err
        assert "Traceback" not in err
        return out, err


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[object]:
    started: list[Server] = []

    def start(options: str, handlers: str = "") -> Server:
        prog = tmp_path / f"server{len(started)}.flc"
        prog.write_text(handlers + f"""
            async function main() {{
                let server = perform HttpServer.listen(0, true, {options}).await()
                setup(server)
                print(f"port {{server.port}}")
            }}
        """ + ("" if "function setup" in handlers else "function setup(server) { nil }\n"))
        proc = subprocess.Popen([sys.executable, "-m", "fluentai", "run", str(prog)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                cwd=ROOT)
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("port "), proc.stderr.read() if proc.stderr else line
        server = Server(proc, int(line.split()[1]))
        started.append(server)
        return server

    yield start
    for server in started:
        if server.proc.poll() is None:
            server.proc.kill()
            server.proc.wait()


def request(port: int, method: str, path: str, body: bytes = b"",
         headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, data


async def close_code(ws: object) -> int | None:
    try:
        while True:
            await ws.recv()  # type: ignore[attr-defined]
    except ConnectionClosed as e:
        return e.rcvd.code if e.rcvd else None


ECHO = """
    async function handle_websocket_message(conn_id, message) {
        perform WebSocket.send(conn_id, message).await()
    }
"""


def test_message_over_max_message_size_closes_with_1009(serve: object) -> None:
    server = serve('{"max_message_size": 1000}', ECHO)  # type: ignore[operator]

    async def scenario() -> int | None:
        async with connect(server.url, max_size=None) as ws:
            await ws.send("x" * 1000)
            assert await ws.recv() == "x" * 1000  # at the limit: fine
            await ws.send("x" * 1001)
            return await close_code(ws)

    assert asyncio.run(scenario()) == 1009
    server.stop()


def test_rate_limit_closes_with_1008(serve: object) -> None:
    server = serve('{"rate_limit": {"messages": 5, "per_ms": 60000}}', ECHO)  # type: ignore[operator]

    async def scenario() -> tuple[list[str], int | None]:
        async with connect(server.url) as ws:
            got = []
            for i in range(5):
                await ws.send(f"m{i}")
                got.append(await ws.recv())
            await ws.send("one too many")
            return got, await close_code(ws)

    got, code = asyncio.run(scenario())
    assert got == [f"m{i}" for i in range(5)]
    assert code == 1008
    server.stop()


def test_origins_and_max_connections_refuse_the_handshake(serve: object) -> None:
    server = serve('{"origins": ["http://good.example"], "max_connections": 1}')  # type: ignore[operator]

    async def scenario() -> list[int]:
        statuses = []
        try:
            async with connect(server.url, origin="http://evil.example"):
                pass
        except InvalidStatus as e:
            statuses.append(e.response.status_code)
        async with connect(server.url, origin="http://good.example"):
            try:
                async with connect(server.url, origin="http://good.example"):
                    pass
            except InvalidStatus as e:
                statuses.append(e.response.status_code)
        return statuses

    assert asyncio.run(scenario()) == [403, 503]
    server.stop()


def test_http_body_limit_and_invalid_json(serve: object) -> None:
    handlers = """
        function setup(server) {
            perform HttpServer.route("POST", "/echo", req => {"got": req.json})
        }
    """
    server = serve('{"max_body_size": 100}', handlers)  # type: ignore[operator]
    ok = request(server.port, "POST", "/echo", b'{"a": 1}', {"content-type": "application/json"})
    assert ok == (200, b'{"got":{"a":1}}')
    too_big = request(server.port, "POST", "/echo", b"x" * 101, {"content-type": "text/plain"})
    assert too_big[0] == 413
    bad = request(server.port, "POST", "/echo", b"{nope", {"content-type": "application/json"})
    assert bad[0] == 400 and b"invalid JSON" in bad[1]
    server.stop()


def test_authorize_accepts_refuses_and_stores_meta(serve: object) -> None:
    handlers = """
        function authorize(req) {
            match req.query.token {
                "admin" => {"role": "admin"},
                "guest" => true,
                "boom" => 1 / 0,
                _ => false,
            }
        }
        function setup(server) { perform HttpServer.on(server.id, "authorize", authorize) }
        async function handle_websocket_message(conn_id, message) {
            perform WebSocket.send(conn_id, perform WebSocket.info(conn_id).meta).await()
        }
    """
    server = serve("{}", handlers)  # type: ignore[operator]

    async def attempt(token: str) -> object:
        try:
            async with connect(f"{server.url}?token={token}") as ws:
                await ws.send("who am i")
                return json.loads(await ws.recv())
        except InvalidStatus as e:
            return e.response.status_code

    results = {t: asyncio.run(attempt(t)) for t in ("admin", "guest", "nobody", "boom")}
    assert results == {"admin": {"role": "admin"}, "guest": {}, "nobody": 401, "boom": 500}
    _, err = server.stop()
    assert "ZeroDivisionError" in err and "authorize" in err


def test_subprotocol_is_chosen_and_reported(serve: object) -> None:
    handlers = """
        async function handle_websocket_message(conn_id, message) {
            perform WebSocket.send(conn_id, perform WebSocket.info(conn_id).subprotocol).await()
        }
    """
    server = serve('{"subprotocols": ["chat.v2", "chat.v1"]}', handlers)  # type: ignore[operator]

    async def scenario() -> tuple[str | None, object]:
        async with connect(server.url, subprotocols=["chat.v1", "other"]) as ws:
            await ws.send("?")
            return ws.subprotocol, await ws.recv()

    assert asyncio.run(scenario()) == ("chat.v1", "chat.v1")
    server.stop()


def test_a_peer_that_stops_answering_pings_is_dropped(serve: object) -> None:
    handlers = """
        function handle_websocket_close(conn_id, code) { print(f"closed {code}") }
    """
    server = serve('{"ping_interval": 100, "ping_timeout": 200}', handlers)  # type: ignore[operator]
    # A raw client completes the handshake, then never reads or answers anything.
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                 b"Sec-WebSocket-Version: 13\r\n\r\n")
    assert b"101" in sock.recv(4096).split(b"\r\n")[0]
    assert server.proc.stdout is not None
    line = server.proc.stdout.readline()  # blocks until the server gives up on the peer
    assert line.strip() == "closed 1006" or line.startswith("closed 10"), line
    sock.close()
    server.stop()


def test_listen_on_all_interfaces_without_origins_warns(serve: object) -> None:
    server = serve('{"host": "0.0.0.0"}')  # type: ignore[operator]
    _, err = server.stop()
    assert "warning: server_" in err and "origins" in err
