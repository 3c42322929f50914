"""Graceful shutdown under load: SIGTERM to examples/chat.flc while 200 joined clients chat.

Every client must get a close frame with code 1001 (going away), the program's close
handler must have run for every connection (chat.flc prints `disconnected <id> (code
1001)` and `<name> left (<id>)` for each), and the process must exit with status 0, without
a Python traceback, within 5 seconds of the signal.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import websockets
from websockets.exceptions import ConnectionClosed

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
CLIENTS = 200
CHAT_BEFORE_SIGNAL_S = 1.5
MAX_MESSAGES = 500  # per client: the send loop is bounded even if the signal never comes
WAIT = 30.0


class ChatUser:
    def __init__(self, index: int) -> None:
        self.name = f"s{index}"
        self.ws: websockets.ClientConnection | None = None
        self.conn_id = ""
        self.welcomed = asyncio.Event()
        self.own_back = asyncio.Event()
        self.sent = 0
        self.received = 0
        self.close_code: int | None = None
        self.unexpected: list[str] = []

    async def open(self, port: int) -> None:
        self.ws = await websockets.connect(f"ws://{HOST}:{port}/ws", open_timeout=WAIT,
                                           max_queue=None)
        await self.ws.send(json.dumps({"type": "join", "name": self.name}))

    async def read(self) -> None:
        assert self.ws is not None
        try:
            async for raw in self.ws:
                msg = json.loads(raw)
                if msg["type"] == "welcome":
                    self.conn_id = msg["id"]
                    self.welcomed.set()
                elif msg["type"] == "message":
                    self.received += 1
                    if msg["from"] == self.name:
                        self.own_back.set()
                elif msg["type"] not in ("joined", "left"):
                    self.unexpected.append(raw if isinstance(raw, str) else repr(raw))
        except ConnectionClosed:
            pass
        finally:
            rcvd = self.ws.close_code
            self.close_code = rcvd
            self.own_back.set()

    async def chat(self) -> None:
        """Say something, wait for it to come back, a short pause, again; until closed."""
        assert self.ws is not None
        for j in range(MAX_MESSAGES):
            self.own_back.clear()
            try:
                await self.ws.send(json.dumps({"type": "say", "text": f"{self.name} m{j}"}))
            except ConnectionClosed:
                return
            self.sent += 1
            await self.own_back.wait()
            if self.close_code is not None:
                return
            await asyncio.sleep(0.02)


async def wait_for_port(out: Path, proc: subprocess.Popen[bytes]) -> int:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        first, newline, _ = out.read_text(encoding="utf-8").partition("\n")
        if newline:
            found = re.search(r":(\d+)/", first)
            assert found, first
            return int(found.group(1))
        assert proc.poll() is None, "chat.flc exited at start"
        await asyncio.sleep(0.05)
    pytest.fail("chat.flc printed no port")


async def test_sigterm_while_200_clients_chat(tmp_path: Path) -> None:
    out, err = tmp_path / "chat.stdout", tmp_path / "chat.stderr"
    with out.open("wb") as o, err.open("wb") as e:
        proc = subprocess.Popen([sys.executable, "-m", "fluentai", "run", "examples/chat.flc", "0"],
                                cwd=ROOT, stdout=o, stderr=e, stdin=subprocess.DEVNULL)
    users = [ChatUser(i) for i in range(CLIENTS)]
    readers: list[asyncio.Task[None]] = []
    talkers: list[asyncio.Task[None]] = []
    try:
        port = await wait_for_port(out, proc)
        for start in range(0, CLIENTS, 50):
            group = users[start:start + 50]
            await asyncio.gather(*(u.open(port) for u in group))
            readers += [asyncio.create_task(u.read()) for u in group]
            await asyncio.wait_for(asyncio.gather(*(u.welcomed.wait() for u in group)), WAIT)
        talkers = [asyncio.create_task(u.chat()) for u in users]
        await asyncio.sleep(CHAT_BEFORE_SIGNAL_S)
        assert all(u.close_code is None for u in users), "a client was closed before the signal"
        assert sum(u.sent for u in users) >= CLIENTS, "the clients are not chatting"

        signalled = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        status = None
        while time.monotonic() - signalled < 10:
            status = proc.poll()
            if status is not None:
                break
            await asyncio.sleep(0.02)
        took = time.monotonic() - signalled
        assert status is not None, "chat.flc still running 10s after SIGTERM"
        await asyncio.wait_for(asyncio.gather(*readers, *talkers), WAIT)
    finally:
        for t in readers + talkers:
            t.cancel()
        for u in users:
            if u.ws is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(u.ws.close(), 2)
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    print(f"exit {status} {took:.2f}s after SIGTERM; {sum(u.sent for u in users)} messages sent, "
          f"{sum(u.received for u in users)} received")
    stderr = err.read_text(encoding="utf-8", errors="replace")
    stdout = out.read_text(encoding="utf-8", errors="replace")
    assert "Traceback (most recent call last)" not in stderr, stderr
    assert status == 0, f"exit status {status}\n{stderr}"
    assert took <= 5.0, f"the process exited {took:.2f}s after SIGTERM"

    codes: dict[int | None, int] = {}
    for u in users:
        codes[u.close_code] = codes.get(u.close_code, 0) + 1
    assert codes == {1001: CLIENTS}, f"close codes seen by the clients: {codes}"
    assert not any(u.unexpected for u in users), [u.unexpected[:3] for u in users if u.unexpected][:5]

    disconnected = re.findall(r"^disconnected (\S+) \(code (\d+)\)$", stdout, re.M)
    left = set(re.findall(r"^s\d+ left \((\S+)\)$", stdout, re.M))
    by_id = dict(disconnected)
    missing = [u.name for u in users if u.conn_id[:8] not in by_id]
    assert not missing, f"no close handler line for {len(missing)} clients: {missing[:10]}"
    wrong = {u.name: by_id[u.conn_id[:8]] for u in users if by_id[u.conn_id[:8]] != "1001"}
    assert not wrong, f"close handler saw other codes: {dict(list(wrong.items())[:10])}"
    assert len(disconnected) == CLIENTS, f"{len(disconnected)} disconnect lines for {CLIENTS} clients"
    not_left = [u.name for u in users if u.conn_id[:8] not in left]
    assert not not_left, f"no 'left' line for {not_left[:10]}"


AWAIT_CYCLE = """\
let p = nil
let q = nil
async function f() { perform Time.sleep(1).await(); q.await() }
async function g() { perform Time.sleep(1).await(); p.await() }
p = f()
q = g()
print(p.await())
"""


def test_an_await_cycle_is_a_deadlock_error(tmp_path: Path) -> None:
    """Two promises waiting for each other would never settle (and asyncio could not even
    cancel them: Task.cancel recurses around the cycle). The await that closes the cycle is a
    FluentAI error instead, and the program ends by itself."""
    (tmp_path / "cycle.flc").write_text(AWAIT_CYCLE, encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "fluentai", "run", "cycle.flc"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert proc.returncode == 1, proc.stderr
    assert "deadlock" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert re.search(r"^cycle\.flc:\d+:\d+: error: ", proc.stderr, re.M), proc.stderr
