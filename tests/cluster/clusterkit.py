"""Helpers for the cluster tests: a private redis-server, fluentai nodes as subprocesses,
WebSocket clients that separate command replies from everything else they receive.

Everything talks to 127.0.0.1 only. Nothing sleeps to synchronise: output lines are awaited
on a condition variable, and `wait_until` polls a condition with a deadline.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
NODE = HERE / "node.flc"
TIMEOUT = 10.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def redis_server_binary() -> str | None:
    return shutil.which("redis-server")


class RedisServer:
    """`redis-server --save "" --appendonly no --port P` on 127.0.0.1, for one test."""

    def __init__(self, binary: str, directory: Path) -> None:
        self.binary = binary
        self.directory = directory
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.binary, "--save", "", "--appendonly", "no", "--port", str(self.port),
             "--bind", "127.0.0.1", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + TIMEOUT
        while not self.ping():
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited with status {self.proc.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not answer PING")
            time.sleep(0.02)

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        """Stop at once (SIGKILL): every client's connection drops."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Node:
    """`python -m fluentai run --cluster URL node.flc PORT [GROUP]` (or any extra options
    before the file), stdout and stderr collected line by line by reader threads."""

    def __init__(self, url: str, port: int = 0, group: str | None = None,
                 options: list[str] | None = None, program: Path = NODE,
                 env: dict[str, str] | None = None, wait_port: bool = True) -> None:
        args = [str(port)] + ([group] if group is not None else [])
        cluster = ["--cluster", url] if url else []
        self.command = [sys.executable, "-m", "fluentai", "run", *cluster, *(options or []),
                        str(program), *args]
        self._cond = threading.Condition()
        self.out: list[str] = []
        self.err: list[str] = []
        self.eof = 0
        self.proc = subprocess.Popen(self.command, cwd=ROOT, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, encoding="utf-8",
                                     env=dict(os.environ, **(env or {})))
        for stream, sink in ((self.proc.stdout, self.out), (self.proc.stderr, self.err)):
            threading.Thread(target=self._pump, args=(stream, sink), daemon=True).start()
        self.port = 0
        if wait_port:
            line = self.wait_out(lambda line: line.startswith("port "))
            self.port = int(line.split()[1])

    def _pump(self, stream: Any, sink: list[str]) -> None:
        for line in stream:
            with self._cond:
                sink.append(line.rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self.eof += 1
            self._cond.notify_all()

    def describe(self) -> str:
        with self._cond:
            return ("--- stdout ---\n" + "\n".join(self.out)
                    + "\n--- stderr ---\n" + "\n".join(self.err))

    def _wait(self, sink: list[str], match: Callable[[str], bool], timeout: float) -> str:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in sink:
                    if match(line):
                        return line
                left = deadline - time.monotonic()
                if left <= 0 or self.eof == 2:
                    raise AssertionError(f"no matching line within {timeout}s\n"
                                         f"{' '.join(self.command)}\n{self._describe()}")
                self._cond.wait(left)

    def _describe(self) -> str:
        return "--- stdout ---\n" + "\n".join(self.out) + "\n--- stderr ---\n" + "\n".join(self.err)

    def wait_out(self, match: Callable[[str], bool], timeout: float = TIMEOUT * 2) -> str:
        return self._wait(self.out, match, timeout)

    def wait_err(self, text: str, timeout: float = TIMEOUT) -> str:
        return self._wait(self.err, lambda line: text in line, timeout)

    def wait_err_count(self, match: Callable[[str], bool], count: int,
                       timeout: float = TIMEOUT) -> None:
        """Wait until `count` stderr lines match (the workers of one parent share it)."""
        self._wait(self.err, lambda _: sum(1 for line in self.err if match(line)) >= count,
                   timeout)

    async def err_line(self, text: str, timeout: float = TIMEOUT) -> str:
        return await asyncio.to_thread(self.wait_err, text, timeout)

    @property
    def stderr(self) -> str:
        with self._cond:
            return "\n".join(self.err)

    def count(self) -> dict[str, Any]:
        """GET /count: {"count", "ids", "local"} as this node sees the group."""
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(f"http://127.0.0.1:{self.port}/count", timeout=5) as r:
            return json.loads(r.read())  # type: ignore[no-any-return]

    async def acount(self) -> dict[str, Any]:
        return await asyncio.to_thread(self.count)

    def terminate(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"did not end within {timeout}s\n{self.describe()}") from None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Client:
    """A WebSocket client of a test node: `ask` sends a JSON command and gives its reply
    (a map with "re"); everything else received waits in `inbox`."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.replies: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.inbox: asyncio.Queue[str | bytes] = asyncio.Queue()
        self.closed: asyncio.Future[tuple[int | None, str]] = asyncio.get_running_loop().create_future()
        self.id = ""
        self.node = ""
        self._reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def open(cls, port: int) -> Client:
        ws = await connect(f"ws://127.0.0.1:{port}/", proxy=None, open_timeout=TIMEOUT,
                           close_timeout=5, compression=None, max_queue=None)
        client = cls(ws)
        client.id = (await client.ask("whoami"))["id"]
        return client

    async def _read(self) -> None:
        try:
            async for message in self.ws:
                if isinstance(message, str) and message.startswith('{"re":'):
                    self.replies.put_nowait(json.loads(message))
                else:
                    self.inbox.put_nowait(message)
        except ConnectionClosed:
            pass
        rcvd = self.ws.protocol.close_rcvd
        if not self.closed.done():
            self.closed.set_result((rcvd.code, rcvd.reason) if rcvd else (None, ""))

    async def ask(self, op: str, timeout: float = TIMEOUT, **fields: Any) -> dict[str, Any]:
        await self.ws.send(json.dumps({"op": op, **fields}))
        reply = await asyncio.wait_for(self.replies.get(), timeout)
        assert reply["re"] == op, reply
        return reply

    async def next(self, timeout: float = TIMEOUT) -> str | bytes:
        return await asyncio.wait_for(self.inbox.get(), timeout)

    def pending(self) -> list[str | bytes]:
        """What arrived and was not read yet (without waiting)."""
        items = []
        while not self.inbox.empty():
            items.append(self.inbox.get_nowait())
        return items

    async def close(self) -> None:
        await self.ws.close()
        self._reader.cancel()


async def wait_until(condition: Callable[[], Any], timeout: float = TIMEOUT,
                     what: str = "condition") -> Any:
    """Poll a (sync or async) condition until it is truthy; its value."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        value = condition()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        last = value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")
        await asyncio.sleep(0.05)


async def counts_are(nodes: list[Node], expected: set[str], timeout: float = TIMEOUT) -> None:
    """Wait until every node lists exactly the connection ids `expected`."""
    async def check() -> bool:
        for node in nodes:
            seen = await node.acount()
            if set(seen["ids"]) != expected or seen["count"] != len(expected):
                return False
        return True

    await wait_until(check, timeout, f"every node to list {len(expected)} connections")
