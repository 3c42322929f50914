"""End-to-end tests of the server examples (`examples/*.flc` whose first line is `// server`).

Each example runs as a real subprocess, `python -m fluentai run --deterministic
examples/NAME.flc 0`, so it listens on a free port and prints that port on its first line.
The tests drive it over 127.0.0.1 (WebSockets with the `websockets` asyncio client, HTTP
with `http.client` in a thread), stop it with SIGTERM and check that it exits 0 without a
Python traceback.

The server's stdout during a scripted session is a golden, `examples/NAME.session.out`
(the port on the first line written as PORT). `--deterministic` makes connection ids and
timestamps predictable; the script waits for each log line that a client cannot observe
(a close, for example) so the order of the log is fixed. Rewrite the goldens after
checking the new output by hand:
    pytest tests/test_server_examples.py --update-goldens
"""

from __future__ import annotations

import asyncio
import http.client
import json
import re
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import websockets

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
HOST = "127.0.0.1"
TIMEOUT = 15.0  # seconds for any single wait


class Server:
    """A server example running as a subprocess; its stdout is collected line by line."""

    def __init__(self, proc: asyncio.subprocess.Process, name: str) -> None:
        self.proc = proc
        self.name = name
        self.lines: list[str] = []  # stdout so far
        self.port = 0
        self.stderr = ""
        self._stderr_task = asyncio.create_task(self._drain_stderr())

    @classmethod
    async def start(cls, name: str, cwd: Path = ROOT) -> Server:
        program = EXAMPLES / f"{name}.flc"
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "fluentai", "run", "--deterministic",
            str(program.relative_to(cwd)), "0",
            cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        server = cls(proc, name)
        first = await server.next_line()
        found = re.search(r"(?:port |:)(\d+)\b", first)
        assert found, f"{name}: no port in the first line {first!r}\n{await server.kill()}"
        server.port = int(found.group(1))
        assert server.port != 0
        return server

    async def _drain_stderr(self) -> None:
        assert self.proc.stderr is not None
        self.stderr = (await self.proc.stderr.read()).decode("utf-8", "replace")

    async def next_line(self) -> str:
        assert self.proc.stdout is not None
        try:
            raw = await asyncio.wait_for(self.proc.stdout.readline(), TIMEOUT)
        except TimeoutError:
            pytest.fail(f"{self.name}: no output line within {TIMEOUT}s; so far: {self.lines}")
        if not raw:
            await self.proc.wait()
            await self._stderr_task
            pytest.fail(f"{self.name}: exited ({self.proc.returncode}) while a line was "
                        f"expected; stdout: {self.lines}\nstderr:\n{self.stderr}")
        line = raw.decode("utf-8").rstrip("\n")
        self.lines.append(line)
        return line

    async def expect_line(self, pattern: str) -> str:
        """Read stdout up to a line matching the regular expression `pattern` (the lines
        before it are kept too) and give that line."""
        while True:
            line = await self.next_line()
            if re.fullmatch(pattern, line):
                return line

    async def stop(self) -> str:
        """SIGTERM; the process must exit 0 without a Python traceback. Gives the stdout,
        the port on the first line written as PORT."""
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.stdout is not None
        rest = await asyncio.wait_for(self.proc.stdout.read(), TIMEOUT)
        status = await asyncio.wait_for(self.proc.wait(), TIMEOUT)
        await asyncio.wait_for(self._stderr_task, TIMEOUT)
        self.lines.extend(rest.decode("utf-8").splitlines())
        assert "Traceback" not in self.stderr, self.stderr
        assert status == 0, f"{self.name}: exit status {status}\nstderr:\n{self.stderr}"
        assert self.stderr == "", self.stderr
        first = re.sub(rf"\b{self.port}\b", "PORT", self.lines[0])
        return "\n".join([first, *self.lines[1:]]) + "\n"

    async def kill(self) -> str:
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        await self._stderr_task
        return self.stderr


@pytest.fixture
async def servers() -> AsyncIterator[list[Server]]:
    """Servers started by a test; any still running at the end are killed."""
    started: list[Server] = []
    yield started
    for server in started:
        await server.kill()


async def start(servers: list[Server], name: str, cwd: Path = ROOT) -> Server:
    server = await Server.start(name, cwd)
    servers.append(server)
    return server


def check_golden(name: str, out: str, update: bool) -> None:
    golden = EXAMPLES / f"{name}.session.out"
    if update:
        golden.write_text(out, encoding="utf-8")
        return
    assert golden.exists(), f"{golden.name} missing: run pytest {__file__} --update-goldens"
    assert out == golden.read_text(encoding="utf-8"), (
        f"the stdout of examples/{name}.flc differs from {golden.name}:\n{out}")


# ---- clients ------------------------------------------------------------------------------


class Client:
    """A chat client speaking the JSON protocol of examples/chat.flc."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws

    @classmethod
    async def connect(cls, port: int) -> Client:
        return cls(await websockets.connect(f"ws://{HOST}:{port}/ws", open_timeout=TIMEOUT))

    async def send(self, **msg: Any) -> None:
        await self.ws.send(json.dumps(msg))

    async def recv(self) -> dict[str, Any]:
        return json.loads(await asyncio.wait_for(self.ws.recv(), TIMEOUT))

    async def ask(self, **msg: Any) -> dict[str, Any]:
        await self.send(**msg)
        return await self.recv()

    async def close(self) -> None:
        await self.ws.close()


def fetch(port: int, method: str, path: str, body: Any = None, raw: str | None = None,
          ) -> tuple[int, dict[str, str], Any]:
    """One HTTP request (blocking: call it through asyncio.to_thread). JSON bodies are
    decoded; other bodies are given as text."""
    conn = http.client.HTTPConnection(HOST, port, timeout=TIMEOUT)
    try:
        headers = {}
        data = raw
        if body is not None:
            data = json.dumps(body)
        if data is not None:
            headers["content-type"] = "application/json"
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8")
        head = {k.lower(): v for k, v in response.getheaders()}
        if head.get("content-type", "").startswith("application/json") and text:
            return response.status, head, json.loads(text)
        return response.status, head, text
    finally:
        conn.close()


async def request(port: int, method: str, path: str, body: Any = None, raw: str | None = None,
                  ) -> tuple[int, dict[str, str], Any]:
    return await asyncio.to_thread(fetch, port, method, path, body, raw)


# ---- the marker --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["echo", "chat", "http_api"])
def test_server_examples_are_marked(name: str) -> None:
    """`// server` on the first line keeps tests/test_examples.py from running them."""
    with (EXAMPLES / f"{name}.flc").open(encoding="utf-8") as f:
        assert f.readline().strip() == "// server"


# ---- echo --------------------------------------------------------------------------------


async def test_echo(servers: list[Server], update_goldens: bool) -> None:
    server = await start(servers, "echo")
    url = f"ws://{HOST}:{server.port}/"
    first = await websockets.connect(url, open_timeout=TIMEOUT)
    await first.send("hello")
    assert await asyncio.wait_for(first.recv(), TIMEOUT) == "Echo: hello"
    await first.send("<b>ünïcödé</b> 🎉")
    assert await asyncio.wait_for(first.recv(), TIMEOUT) == "Echo: <b>ünïcödé</b> 🎉"
    await first.send(b"\x00\x01binary")
    assert await asyncio.wait_for(first.recv(), TIMEOUT) == b"\x00\x01binary"

    second = await websockets.connect(url, open_timeout=TIMEOUT)
    await second.send("second")
    assert await asyncio.wait_for(second.recv(), TIMEOUT) == "Echo: second"
    await first.send("first again")  # each client gets its own replies only
    assert await asyncio.wait_for(first.recv(), TIMEOUT) == "Echo: first again"

    # A burst is answered in order.
    for i in range(50):
        await second.send(str(i))
    assert [await asyncio.wait_for(second.recv(), TIMEOUT) for _ in range(50)] == [
        f"Echo: {i}" for i in range(50)]

    await first.close()
    assert first.close_code == 1000
    await server.expect_line(r"disconnected: [-0-9a-f]+ \(code 1000\)")
    await second.close()
    await server.expect_line(r"disconnected: [-0-9a-f]+ \(code 1000\)")
    check_golden("echo", await server.stop(), update_goldens)


async def test_echo_shutdown_closes_connections_with_1001(servers: list[Server]) -> None:
    server = await start(servers, "echo")
    ws = await websockets.connect(f"ws://{HOST}:{server.port}/", open_timeout=TIMEOUT)
    await ws.send("x")
    assert await asyncio.wait_for(ws.recv(), TIMEOUT) == "Echo: x"
    out = await server.stop()
    await asyncio.wait_for(ws.wait_closed(), TIMEOUT)
    assert ws.close_code == 1001
    assert out.splitlines()[-1].endswith("(code 1001)")


# ---- chat --------------------------------------------------------------------------------


async def test_chat_page(servers: list[Server]) -> None:
    server = await start(servers, "chat")
    status, headers, body = await request(server.port, "GET", "/")
    assert status == 200
    assert headers["content-type"].startswith("text/html")
    assert body.lstrip().lower().startswith("<!doctype html>")
    assert "<title>FluentAI chat</title>" in body
    assert '"/ws"' in body
    # User text is inserted with textContent only, and the page loads nothing else.
    assert not re.search(r"\.(innerHTML|outerHTML|insertAdjacentHTML)\b|document\.write", body)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", body)
    # Only /ws accepts WebSockets; other paths are 404.
    assert (await request(server.port, "GET", "/nothing-here"))[0] == 404
    status, _, _ = await request(server.port, "GET", "/ws")  # plain HTTP at the WebSocket path
    assert status in (404, 426)
    with pytest.raises(websockets.InvalidStatus):
        await websockets.connect(f"ws://{HOST}:{server.port}/", open_timeout=TIMEOUT)
    await server.stop()


async def test_chat_page_from_the_examples_folder(servers: list[Server]) -> None:
    server = await start(servers, "chat", cwd=EXAMPLES)
    status, headers, body = await request(server.port, "GET", "/")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert "<title>FluentAI chat</title>" in body
    await server.stop()


async def test_chat_session(servers: list[Server], update_goldens: bool) -> None:
    server = await start(servers, "chat")
    port = server.port

    # Before joining, saying anything is refused.
    ann = await Client.connect(port)
    assert await ann.ask(type="say", text="hello?") == {
        "type": "error", "message": "join the chat first"}
    assert (await ann.ask(type="say", text="/who"))["type"] == "error"

    # Ann joins (the name is trimmed): a welcome, then the joined notice everyone gets.
    welcome = await ann.ask(type="join", name="  Ann ", key="ann-secret")
    ann_id = welcome["id"]
    assert welcome["type"] == "welcome"
    assert welcome["name"] == "Ann" and welcome["users"] == ["Ann"]
    assert isinstance(welcome["id"], str) and len(welcome["id"]) >= 8
    joined = await ann.recv()
    assert joined["type"] == "joined" and joined["name"] == "Ann" and joined["users"] == ["Ann"]
    assert isinstance(joined["at"], int)
    assert (await ann.ask(type="join", name="Again"))["type"] == "error"

    # Bob: a taken name (in any case), an empty one and a long one are refused.
    bob = await Client.connect(port)
    assert await bob.ask(type="join", name="ann") == {
        "type": "error", "message": "the name Ann is taken"}
    assert (await bob.ask(type="join", name="   "))["type"] == "error"
    assert (await bob.ask(type="join", name="B" * 25))["type"] == "error"
    assert (await bob.ask(type="join", name=42))["type"] == "error"
    assert (await bob.ask(type="join"))["type"] == "error"
    welcome = await bob.ask(type="join", name="Bob")
    assert welcome["type"] == "welcome" and welcome["users"] == ["Ann", "Bob"]
    assert welcome["id"] != ann_id
    for client in (bob, ann):  # both see Bob's joined notice
        notice = await client.recv()
        assert notice["type"] == "joined" and notice["name"] == "Bob"
        assert notice["users"] == ["Ann", "Bob"]

    # A message reaches everyone, sender included, as it was typed (HTML stays text).
    await ann.send(type="say", text="<b>hi</b> Bob")
    for client in (ann, bob):
        msg = await client.recv()
        assert msg["type"] == "message" and msg["from"] == "Ann"
        assert msg["text"] == "<b>hi</b> Bob" and isinstance(msg["at"], int)

    # /who answers the asker only.
    assert await bob.ask(type="say", text="/who") == {"type": "who", "users": ["Ann", "Bob"]}
    error = await bob.ask(type="say", text="/nope")
    assert error["type"] == "error" and "/nope" in error["message"]
    assert (await bob.ask(type="say", text="  "))["type"] == "error"
    assert (await bob.ask(type="say", text="x" * 2001))["type"] == "error"
    assert (await bob.ask(type="dance"))["type"] == "error"
    await bob.ws.send("not json")
    assert (await bob.recv())["type"] == "error"
    await bob.ws.send(b"\x00binary")
    assert (await bob.recv())["type"] == "error"
    await bob.send(type="say", text="hello Ann")
    for client in (bob, ann):  # Ann's next message is this one: she got no /who answer
        msg = await client.recv()
        assert (msg["type"], msg["from"], msg["text"]) == ("message", "Bob", "hello Ann")

    # A connection that never joins gets no broadcasts, and its close announces nothing.
    lurker = await Client.connect(port)
    assert (await lurker.ask(type="say", text="hi"))["type"] == "error"
    await lurker.close()
    await server.expect_line(r"disconnected [0-9a-f]{8} \(code 1000\)")

    # Ann's page reconnects with the same name and key: the new connection takes the name
    # back, the old one is closed with 4000, and nobody sees Ann leave or join.
    ann2 = await Client.connect(port)
    welcome = await ann2.ask(type="join", name="Ann", key="ann-secret")
    assert welcome["type"] == "welcome" and welcome["name"] == "Ann"
    assert welcome["users"] == ["Bob", "Ann"]
    with pytest.raises(websockets.ConnectionClosed):
        await ann.recv()
    assert ann.ws.close_code == 4000
    await server.expect_line(r"Ann reconnected \([0-9a-f]{8}\)")
    await server.expect_line(rf"disconnected {ann_id[:8]} \(code 4000\)")

    # Bob leaves: Ann is told, with the new user list.
    await bob.close()
    left = await ann2.recv()
    assert left["type"] == "left" and left["name"] == "Bob" and left["users"] == ["Ann"]
    assert await ann2.ask(type="say", text="/who") == {"type": "who", "users": ["Ann"]}
    await ann2.close()
    await server.expect_line(r"Ann left \([0-9a-f]{8}\)")
    check_golden("chat", await server.stop(), update_goldens)


async def test_chat_shutdown_closes_connections_with_1001(servers: list[Server]) -> None:
    server = await start(servers, "chat")
    ann = await Client.connect(server.port)
    assert (await ann.ask(type="join", name="Ann"))["type"] == "welcome"
    await server.stop()
    with pytest.raises(websockets.ConnectionClosed):
        while True:
            await ann.recv()
    assert ann.ws.close_code == 1001


# ---- http_api ----------------------------------------------------------------------------


async def test_http_api(servers: list[Server], update_goldens: bool) -> None:
    server = await start(servers, "http_api")
    port = server.port

    async def call(method: str, path: str, body: Any = None, raw: str | None = None,
                   ) -> tuple[int, dict[str, str], Any]:
        return await request(port, method, path, body, raw)

    assert (await call("GET", "/todos"))[::2] == (200, [])

    status, headers, todo = await call("POST", "/todos", {"title": " buy milk "})
    assert status == 201
    assert todo == {"id": 1, "title": "buy milk", "done": False}
    assert headers["location"] == "/todos/1"
    assert headers["content-type"].startswith("application/json")
    status, _, todo = await call("POST", "/todos", {"title": "write tests", "done": True})
    assert (status, todo) == (201, {"id": 2, "title": "write tests", "done": True})

    # Bad bodies: 400 with {"error": ...}.
    for bad in [{}, {"title": ""}, {"title": 5}, {"title": "x", "done": "yes"}, [1, 2]]:
        status, _, body = await call("POST", "/todos", bad)
        assert status == 400 and isinstance(body["error"], str), bad
    status, _, body = await call("POST", "/todos", raw="{not json")
    assert status == 400 and "error" in body

    status, _, todos = await call("GET", "/todos")
    assert status == 200 and [t["id"] for t in todos] == [1, 2]
    assert (await call("GET", "/todos?done=false"))[2] == [
        {"id": 1, "title": "buy milk", "done": False}]
    assert [t["id"] for t in (await call("GET", "/todos?done=true"))[2]] == [2]
    assert (await call("GET", "/todos?done=maybe"))[0] == 400

    assert (await call("GET", "/todos/1"))[::2] == (200, {"id": 1, "title": "buy milk", "done": False})
    status, _, body = await call("GET", "/todos/99")
    assert status == 404 and body == {"error": "no todo with id 99"}
    assert (await call("GET", "/todos/abc"))[0] == 404

    status, _, todo = await call("PATCH", "/todos/1", {"done": True})
    assert (status, todo) == (200, {"id": 1, "title": "buy milk", "done": True})
    status, _, todo = await call("PATCH", "/todos/1", {"title": "buy oat milk"})
    assert (status, todo["title"], todo["done"]) == (200, "buy oat milk", True)
    assert (await call("PATCH", "/todos/1", {"done": "yes"}))[0] == 400
    assert (await call("PATCH", "/todos/99", {"done": True}))[0] == 404

    assert (await call("DELETE", "/todos/1"))[::2] == (204, "")
    assert (await call("DELETE", "/todos/1"))[0] == 404
    assert (await call("GET", "/todos/1"))[0] == 404
    assert [t["id"] for t in (await call("GET", "/todos"))[2]] == [2]

    # The server answers these itself: a method a path has no route for, an unknown path.
    assert (await call("PUT", "/todos/2", {"title": "x"}))[0] == 405
    assert (await call("GET", "/nothing"))[0] == 404
    status, headers, _ = await call("GET", "/")
    assert (status, headers["location"]) == (302, "/todos")

    check_golden("http_api", await server.stop(), update_goldens)
