"""Helpers for the server tests: FluentAI programs as subprocesses, an HTTP client, a
WebSocket client that honours no proxy settings, and a raw WebSocket client that can refuse
to read.

Everything talks to 127.0.0.1 only. Nothing here sleeps to synchronise: output lines are
awaited on a condition variable, and `wait_until` polls a condition with a deadline.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

START_TIMEOUT = 20.0
LINE_TIMEOUT = 10.0
EXIT_TIMEOUT = 15.0

LinePredicate = str | re.Pattern[str] | Callable[[str], bool]


def _matcher(what: LinePredicate) -> Callable[[str], bool]:
    if isinstance(what, str):
        return lambda line: what in line
    if isinstance(what, re.Pattern):
        return lambda line: what.search(line) is not None
    return what


class FlcProcess:
    """A `python -m fluentai run --deterministic PROG` subprocess (other `options` may be
    given) whose stdout and stderr are collected line by line by reader threads."""

    def __init__(self, directory: Path, source: str, *, name: str = "prog.flc",
                 stdin: bool = False, restore_sigint: bool = False,
                 first_line: str = r"port (\d+)",
                 options: tuple[str, ...] = ("--deterministic",)) -> None:
        self.path = directory / name
        self.path.write_text(source, encoding="utf-8")
        self._cond = threading.Condition()
        self._out: list[str] = []
        self._err: list[str] = []
        self.returncode: int | None = None

        def preexec() -> None:
            # A shell that starts us in the background may have set SIGINT to "ignore";
            # the child inherits that, and Python then never installs its SIGINT handler.
            signal.signal(signal.SIGINT, signal.SIG_DFL)

        self.proc = subprocess.Popen(
            [sys.executable, "-m", "fluentai", "run", *options, name],
            cwd=directory,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
            encoding="utf-8",
            preexec_fn=preexec if restore_sigint else None,
        )
        self._threads = [
            threading.Thread(target=self._pump, args=(self.proc.stdout, self._out), daemon=True),
            threading.Thread(target=self._pump, args=(self.proc.stderr, self._err), daemon=True),
        ]
        for t in self._threads:
            t.start()
        try:
            first = self.wait_for_line(lambda line: True, timeout=START_TIMEOUT, start=0)
            m = re.fullmatch(first_line, first)
            assert m, (f"the program's first line should match {first_line!r}, got {first!r}\n"
                       f"{self.describe()}")
        except BaseException:
            self.proc.kill()
            self.proc.wait()
            raise
        self.port = int(m.group(1))

    def _pump(self, stream: Any, sink: list[str]) -> None:
        for line in stream:
            with self._cond:
                sink.append(line.rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            sink.append(None)  # type: ignore[arg-type]  # end of stream marker
            self._cond.notify_all()

    # ------------------------------------------------------------------ output
    @property
    def lines(self) -> list[str]:
        with self._cond:
            return [line for line in self._out if line is not None]

    @property
    def stderr(self) -> str:
        with self._cond:
            return "\n".join(line for line in self._err if line is not None)

    def describe(self) -> str:
        return ("--- stdout ---\n" + "\n".join(self.lines) + "\n--- stderr ---\n" + self.stderr)

    def wait_for_line(self, what: LinePredicate, timeout: float = LINE_TIMEOUT,
                      start: int = 0) -> str:
        """The first stdout line from index `start` on that matches `what`."""
        return self._wait_line(self._out, "stdout", what, timeout, start)[1]

    def wait_for_err_line(self, what: LinePredicate, timeout: float = LINE_TIMEOUT,
                          start: int = 0) -> tuple[int, str]:
        """The first stderr line from index `start` on that matches `what`, with its index."""
        return self._wait_line(self._err, "stderr", what, timeout, start)

    def _wait_line(self, sink: list[str], name: str, what: LinePredicate, timeout: float,
                   start: int) -> tuple[int, str]:
        match = _matcher(what)
        deadline = time.monotonic() + timeout
        with self._cond:
            i = start
            while True:
                while i < len(sink):
                    line = sink[i]
                    if line is None:
                        raise AssertionError(f"{name} ended before a line matching {what!r}\n"
                                             f"{self._describe_locked()}")
                    if match(line):
                        return i, line
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {name} line matching {what!r} within {timeout}s\n"
                                         f"{self._describe_locked()}")
                self._cond.wait(left)

    def wait_for_lines(self, what: LinePredicate, count: int,
                       timeout: float = LINE_TIMEOUT) -> list[str]:
        match = _matcher(what)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [line for line in self._out if line is not None and match(line)]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0 or (self._out and self._out[-1] is None):
                    raise AssertionError(f"expected {count} stdout lines matching {what!r}, "
                                         f"got {len(found)}\n{self._describe_locked()}")
                self._cond.wait(left)

    def wait_for_stderr(self, text: str, timeout: float = LINE_TIMEOUT) -> str:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                err = "\n".join(line for line in self._err if line is not None)
                if text in err:
                    return err
                left = deadline - time.monotonic()
                if left <= 0 or (self._err and self._err[-1] is None):
                    raise AssertionError(f"{text!r} not on stderr\n{self._describe_locked()}")
                self._cond.wait(left)

    def _describe_locked(self) -> str:
        out = "\n".join(line for line in self._out if line is not None)
        err = "\n".join(line for line in self._err if line is not None)
        return f"--- stdout ---\n{out}\n--- stderr ---\n{err}"

    async def line(self, what: LinePredicate, timeout: float = LINE_TIMEOUT, start: int = 0) -> str:
        return await asyncio.to_thread(self.wait_for_line, what, timeout, start)

    async def lines_matching(self, what: LinePredicate, count: int,
                             timeout: float = LINE_TIMEOUT) -> list[str]:
        return await asyncio.to_thread(self.wait_for_lines, what, count, timeout)

    async def err(self, text: str, timeout: float = LINE_TIMEOUT) -> str:
        return await asyncio.to_thread(self.wait_for_stderr, text, timeout)

    def write_stdin(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text)
        self.proc.stdin.flush()

    # ------------------------------------------------------------------ ending
    def wait(self, timeout: float = EXIT_TIMEOUT) -> int:
        try:
            self.returncode = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"the program did not end within {timeout}s\n"
                                 f"{self.describe()}") from None
        for t in self._threads:
            t.join(5)
        return self.returncode

    async def ended(self, timeout: float = EXIT_TIMEOUT) -> int:
        return await asyncio.to_thread(self.wait, timeout)

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def terminate(self) -> int:
        """SIGTERM unless it has ended; the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.wait()

    @property
    def running(self) -> bool:
        return self.proc.poll() is None


class Programs:
    """Starts programs in one directory; `close()` ends them with SIGTERM and checks that
    each exited 0 without a Python traceback."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.started: list[FlcProcess] = []
        self._n = 0

    def start(self, source: str, **kwargs: Any) -> FlcProcess:
        self._n += 1
        kwargs.setdefault("name", f"prog{self._n}.flc")
        proc = FlcProcess(self.directory, source, **kwargs)
        self.started.append(proc)
        return proc

    def close(self) -> None:
        problems = []
        for proc in self.started:
            try:
                status = proc.terminate()
            except AssertionError as e:
                problems.append(str(e))
                continue
            if status != 0:
                problems.append(f"{proc.path.name} exited {status}\n{proc.describe()}")
            if "Traceback (most recent call last)" in proc.stderr:
                problems.append(f"{proc.path.name}: Python traceback on stderr\n{proc.describe()}")
        assert not problems, "\n\n".join(problems)


# ---------------------------------------------------------------------- HTTP


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.body)


_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http(port: int, method: str, path: str, body: bytes | str | None = None,
         headers: dict[str, str] | None = None, timeout: float = 10) -> Response:
    data = body.encode() if isinstance(body, str) else body
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                 headers=headers or {})
    try:
        with _opener.open(req, timeout=timeout) as r:
            return Response(r.status, {k.lower(): v for k, v in r.headers.items()}, r.read())
    except urllib.error.HTTPError as e:
        with e:
            return Response(e.code, {k.lower(): v for k, v in e.headers.items()}, e.read())


async def ahttp(port: int, method: str, path: str, body: bytes | str | None = None,
                headers: dict[str, str] | None = None, timeout: float = 10) -> Response:
    return await asyncio.to_thread(http, port, method, path, body, headers, timeout)


# ---------------------------------------------------------------------- WebSocket


def ws_connect(port: int, path: str = "/", **kwargs: Any) -> Any:
    """`websockets` client connect to the loopback server (never through a proxy)."""
    kwargs.setdefault("proxy", None)
    kwargs.setdefault("open_timeout", 10)
    kwargs.setdefault("close_timeout", 5)
    return connect(f"ws://127.0.0.1:{port}{path}", **kwargs)


async def recv(ws: ClientConnection, timeout: float = LINE_TIMEOUT) -> str | bytes:
    return await asyncio.wait_for(ws.recv(), timeout)


async def recv_json(ws: ClientConnection, timeout: float = LINE_TIMEOUT) -> Any:
    msg = await recv(ws, timeout)
    assert isinstance(msg, str), f"expected a text frame, got {msg!r}"
    return json.loads(msg)


async def ask(ws: ClientConnection, op: str, timeout: float = LINE_TIMEOUT, **fields: Any) -> Any:
    """Send a JSON command {"op": op, ...} and return the JSON reply."""
    await ws.send(json.dumps({"op": op, **fields}))
    return await recv_json(ws, timeout)


async def closed_with(ws: ClientConnection, timeout: float = LINE_TIMEOUT) -> tuple[int | None, str]:
    """Wait until the server closes `ws`; the (code, reason) it sent. Frames still
    queued before the close are skipped."""
    async def drain() -> None:
        try:
            while True:
                await ws.recv()
        except ConnectionClosed:
            pass

    await asyncio.wait_for(drain(), timeout)
    rcvd = ws.protocol.close_rcvd
    return (rcvd.code, rcvd.reason) if rcvd is not None else (None, "")


async def wait_until(condition: Callable[[], Any], timeout: float = LINE_TIMEOUT,
                     what: str = "condition") -> Any:
    """Poll a (sync or async) condition until it is truthy; its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


class RawWebSocket:
    """A minimal blocking WebSocket client on a plain socket: it completes the handshake
    and then reads only when asked, so it can play a client that never reads."""

    def __init__(self, port: int, path: str = "/", headers: dict[str, str] | None = None,
                 rcvbuf: int | None = None, timeout: float = 10) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.settimeout(timeout)
        sock.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        sock.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                      "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                      f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n")
                     .encode())
        self.sock = sock
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = sock.recv(4096)
            if not chunk:
                raise ConnectionError(f"handshake: connection closed after {self.buf!r}")
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        self.status_line = head.split(b"\r\n", 1)[0].decode()
        if " 101 " not in self.status_line:
            sock.close()
            raise ConnectionError(f"handshake refused: {self.status_line}")

    def _need(self, n: int) -> None:
        while len(self.buf) < n:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk

    def read_frame(self) -> tuple[int, bytes]:
        """(opcode, payload) of the next frame from the server (unmasked, unfragmented)."""
        self._need(2)
        b0, b1 = self.buf[0], self.buf[1]
        assert b0 & 0x80, "fragmented frames are not expected"
        assert not b1 & 0x80, "server frames must not be masked"
        n, off = b1 & 0x7F, 2
        if n == 126:
            self._need(4)
            n, off = struct.unpack(">H", self.buf[2:4])[0], 4
        elif n == 127:
            self._need(10)
            n, off = struct.unpack(">Q", self.buf[2:10])[0], 10
        self._need(off + n)
        payload = self.buf[off:off + n]
        self.buf = self.buf[off + n:]
        return b0 & 0x0F, payload

    def send_text(self, text: str) -> None:
        payload = text.encode()
        assert len(payload) < 126
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(bytes([0x81, 0x80 | len(payload)]) + mask + masked)

    def close(self) -> None:
        self.sock.close()


OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING = 0x1, 0x2, 0x8, 0x9


def close_code(payload: bytes) -> tuple[int | None, str]:
    if len(payload) < 2:
        return None, ""
    return struct.unpack(">H", payload[:2])[0], payload[2:].decode("utf-8", "replace")
