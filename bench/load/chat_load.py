"""Load test of examples/chat.flc: many clients chat at once, and nothing may be lost.

    python bench/load/chat_load.py                          # 1,000 clients x 20 messages
    python bench/load/chat_load.py --clients 50 --messages 5
    python bench/load/chat_load.py --json figures.json      # also write the figures as JSON

It starts `python -m fluentai run examples/chat.flc 0` (a free port of 127.0.0.1), raises
the open-file limit (within the hard limit) for itself and the server, and then:

1. connects N WebSocket clients to /ws (at most --connect-concurrency handshakes at once);
2. joins them as c0 ... c<N-1>, --join-batch at a time; after each batch it waits until
   every joined client has seen the `joined` notices of the batch, so the N^2/2 notices of
   this phase (each with the full user list) never pile up in the server's buffers;
3. has every client send M messages `{"type": "say", "text": "c<i> m<j>"}`, each client
   keeping at most --window of its own messages in flight (it sends the next one when its
   own earlier message has come back as a broadcast);
4. checks that every client received every `message` broadcast exactly once and, per
   sender, in order (N x N x M deliveries; other types — joined, left, welcome — are not
   counted), and that no connection was closed by the server;
5. closes the clients and waits until the server has run its close handler for each (every
   one broadcasts a `left` notice to the users still there: N^2/2 more sends), then stops
   the server with SIGTERM and checks it exits 0 without a Python traceback.

Reported: wall time of each phase (connect, join, messages, leave), deliveries/s (message
broadcasts received by clients per second of the message phase), the server's RSS (VmRSS
from /proc) before the clients connect, after they joined, after the messages, after they
left and its peak (VmHWM), and the CPU time of the server and of the clients.

The clients are raw asyncio protocols with a small RFC 6455 frame codec, so that one Python
process can read the N^2 x M frames; they do not offer permessage-deflate (a browser would:
the server's compression cost is not part of these figures). Exit status: 0 when nothing
was lost, 1 on any loss, duplicate, misordering, unexpected close, server failure or
timeout, 2 usage error.
All traffic goes to 127.0.0.1; the run stops by itself after --timeout seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import json
import os
import re
import resource
import signal
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent.parent
HOST = "127.0.0.1"
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
SAY = re.compile(r"c(\d+) m(\d+)")
MAX_ERRORS = 20  # kept per client


def rss_kb(pid: int) -> dict[str, int]:
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0])
    except OSError:
        pass
    return out


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return round((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), 2)


def raise_fd_limit(needed: int) -> tuple[int, int]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


# ---------------------------------------------------------------- the client


def mask(payload: bytes, key: bytes) -> bytes:
    n = len(payload)
    if n == 0:
        return payload
    k = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(k, "big")).to_bytes(n, "big")


def client_frame(opcode: int, payload: bytes) -> bytes:
    n = len(payload)
    if n < 126:
        head = bytes([0x80 | opcode, 0x80 | n])
    elif n < 65536:
        head = bytes([0x80 | opcode, 0x80 | 126]) + struct.pack("!H", n)
    else:
        head = bytes([0x80 | opcode, 0x80 | 127]) + struct.pack("!Q", n)
    key = os.urandom(4)
    return head + key + mask(payload, key)


class PhaseError(Exception):
    pass


class ChatClient(asyncio.Protocol):
    """One chat user: speaks the handshake and frames itself and checks what it receives."""

    def __init__(self, index: int, load: Load) -> None:
        self.index = index
        self.name = f"c{index}"
        self.load = load
        self.transport: asyncio.Transport | None = None
        self.key = base64.b64encode(os.urandom(16))
        self.buf = bytearray()
        self.upgraded = False
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.welcomed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.fragments: list[bytes] = []
        self.next_seq = [0] * load.clients  # per sender: the next message number expected
        self.received = 0
        self.joined_seen = 0
        self.own_back = 0
        self.own_event = asyncio.Event()
        self.close_code: int | None = None
        self.close_reason = ""
        self.errors: list[str] = []
        self.join_rank = -1  # position in the join order

    # -- asyncio
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(
            b"GET /ws HTTP/1.1\r\nHost: " + f"{HOST}:{self.load.port}".encode()
            + b"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + self.key
            + b"\r\nSec-WebSocket-Version: 13\r\n\r\n")

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(ConnectionError(f"{self.name}: closed during the handshake"))
        if not self.lost.done():
            self.lost.set_result(None)
        if not self.load.closing and self.close_code is None:
            self.error(f"connection lost without a close frame ({exc})")
        self.own_event.set()

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if not self.upgraded:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buf[:end]).decode("latin-1")
            del self.buf[:end + 4]
            accept = base64.b64encode(hashlib.sha1(self.key + GUID).digest()).decode()
            if not head.startswith("HTTP/1.1 101") or accept not in head:
                self.opened.set_exception(ConnectionError(f"{self.name}: handshake refused: {head[:200]!r}"))
                assert self.transport is not None
                self.transport.close()
                return
            self.upgraded = True
            self.opened.set_result(None)
        self.parse_frames()

    # -- frames
    def parse_frames(self) -> None:
        buf = self.buf
        pos = 0
        size = len(buf)
        while size - pos >= 2:
            b0 = buf[pos]
            n = buf[pos + 1] & 0x7F
            at = pos + 2
            if n == 126:
                if size - at < 2:
                    break
                n = (buf[at] << 8) | buf[at + 1]
                at += 2
            elif n == 127:
                if size - at < 8:
                    break
                n = int.from_bytes(buf[at:at + 8], "big")
                at += 8
            if buf[pos + 1] & 0x80:
                self.error("the server sent a masked frame")
            if size - at < n:
                break
            payload = bytes(buf[at:at + n])
            pos = at + n
            self.on_frame(b0 >> 7, b0 & 0x0F, payload)
        if pos:
            del buf[:pos]

    def on_frame(self, fin: int, opcode: int, payload: bytes) -> None:
        if opcode in (0x1, 0x2, 0x0):
            self.fragments.append(payload)
            if fin:
                data = b"".join(self.fragments)
                self.fragments = []
                self.on_message(data)
        elif opcode == 0x9:  # ping: pong with the same payload
            self.write(client_frame(0xA, payload))
        elif opcode == 0x8:
            self.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
            self.close_reason = payload[2:].decode("utf-8", "replace")
            if not self.load.closing:
                self.error(f"closed by the server: {self.close_code} {self.close_reason}")
            self.write(client_frame(0x8, payload[:2]))
            assert self.transport is not None
            self.transport.close()

    def on_message(self, data: bytes) -> None:
        if data.startswith(b'{"type":"message"'):
            self.on_chat_line(data)
        elif data.startswith(b'{"type":"joined"'):
            self.joined_seen += 1
        elif data.startswith(b'{"type":"welcome"'):
            if not self.welcomed.done():
                self.welcomed.set_result(None)
        elif data.startswith(b'{"type":"left"'):
            pass
        else:
            self.error(f"unexpected message {data[:200]!r}")

    def on_chat_line(self, data: bytes) -> None:
        msg = json.loads(data)
        found = SAY.fullmatch(msg.get("text", ""))
        if not found:
            self.error(f"a message that no client sent: {data[:200]!r}")
            return
        sender, seq = int(found.group(1)), int(found.group(2))
        if sender >= len(self.next_seq) or msg.get("from") != f"c{sender}":
            self.error(f"message from the wrong name: {data[:200]!r}")
            return
        expected = self.next_seq[sender]
        if seq == expected:
            self.next_seq[sender] = seq + 1
            self.received += 1
        elif seq < expected:
            self.error(f"duplicate: c{sender} m{seq} after m{expected - 1}")
        else:
            self.error(f"out of order or lost: c{sender} m{seq} while m{expected} was expected")
            self.next_seq[sender] = seq + 1
            self.received += 1
        self.load.delivered += 1
        if sender == self.index:
            self.own_back = seq + 1
            self.own_event.set()
        if self.received == self.load.expected_per_client and not self.done.done():
            self.done.set_result(None)

    # -- sending
    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def send_json(self, value: Any) -> None:
        self.write(client_frame(0x1, json.dumps(value).encode()))

    def error(self, text: str) -> None:
        self.load.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(text)

    async def close(self) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        self.write(client_frame(0x8, struct.pack("!H", 1000)))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self.lost), 5)
        self.transport.close()


# ---------------------------------------------------------------- the run


class Load:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.clients: int = args.clients
        self.messages: int = args.messages
        self.expected_per_client = self.clients * self.messages
        self.port = 0
        self.delivered = 0
        self.error_count = 0
        self.closing = False
        self.users: list[ChatClient] = []
        self.figures: dict[str, Any] = {}
        self.proc: subprocess.Popen[bytes] | None = None
        self.workdir = Path(tempfile.mkdtemp(prefix="fluentai-chat-load-"))

    # -- server
    def start_server(self) -> None:
        out = (self.workdir / "server.stdout").open("wb")
        err = (self.workdir / "server.stderr").open("wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "fluentai", "run", "examples/chat.flc", "0"],
                                     cwd=ROOT, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        out.close()
        err.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            first, newline, _ = (self.workdir / "server.stdout").read_text().partition("\n")
            if newline:
                found = re.search(r":(\d+)/", first)
                if not found:
                    raise RuntimeError(f"no port in the server's first line {first!r}")
                self.port = int(found.group(1))
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"chat.flc did not start:\n{self.server_stderr()}")

    def server_stderr(self) -> str:
        return (self.workdir / "server.stderr").read_text(encoding="utf-8", errors="replace")

    def rss(self, label: str) -> None:
        assert self.proc is not None
        self.figures[f"rss_kb_{label}"] = rss_kb(self.proc.pid).get("VmRSS")

    def stop_server(self) -> None:
        proc = self.proc
        if proc is None:
            return
        self.figures["rss_kb_peak"] = rss_kb(proc.pid).get("VmHWM")
        self.figures["server_cpu_s"] = cpu_seconds(proc.pid)
        self.figures["client_cpu_s"] = round(sum(resource.getrusage(resource.RUSAGE_SELF)[:2]), 2)
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                self.figures["server_exit_status"] = "killed after 30s"
                return
        self.figures["server_exit_status"] = proc.returncode

    def kill_server(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    # -- phases
    async def connect(self) -> None:
        loop = asyncio.get_running_loop()
        gate = asyncio.Semaphore(self.args.connect_concurrency)

        async def one(i: int) -> ChatClient:
            async with gate:
                _, client = await loop.create_connection(lambda: ChatClient(i, self), HOST, self.port)
                await asyncio.wait_for(client.opened, 30)
                return client

        self.users = list(await asyncio.gather(*(one(i) for i in range(self.clients))))

    async def join(self) -> None:
        batch = self.args.join_batch
        for start in range(0, self.clients, batch):
            group = self.users[start:start + batch]
            for rank, c in enumerate(group, start):
                c.join_rank = rank
                c.send_json({"type": "join", "name": c.name})
            try:
                await asyncio.wait_for(asyncio.gather(*(c.welcomed for c in group)), 60)
            except TimeoutError:
                late = [c for c in group if not c.welcomed.done()]
                raise PhaseError(f"join: no welcome within 60s for {len(late)} client(s): "
                                 + self.describe(late)) from None
            total = start + len(group)
            # everyone joined so far has seen the notices of this batch (its own included)
            deadline = time.monotonic() + 60
            joined = self.users[:total]
            while not all(c.joined_seen >= total - c.join_rank for c in joined):
                gone = [c for c in joined if c.lost.done()]
                if gone:
                    raise PhaseError(f"join: {len(gone)} client(s) disconnected: "
                                     + self.describe(gone))
                if time.monotonic() > deadline:
                    late = [c for c in joined if c.joined_seen < total - c.join_rank]
                    raise PhaseError(f"join: 'joined' notices missing after 60s at {total} users "
                                     f"for {len(late)} client(s): " + self.describe(late))
                await asyncio.sleep(0.002)

    def describe(self, clients: list[ChatClient]) -> str:
        return ", ".join(
            f"{c.name} (welcomed {c.welcomed.done()}, joined notices {c.joined_seen}, "
            f"close {c.close_code} {c.close_reason!r}, lost {c.lost.done()})" for c in clients[:5])

    async def chat(self) -> None:
        window = self.args.window

        async def talk(c: ChatClient) -> None:
            for j in range(self.messages):
                while j - c.own_back >= window and not c.lost.done():
                    c.own_event.clear()
                    await c.own_event.wait()
                if c.lost.done():
                    return
                c.send_json({"type": "say", "text": f"c{c.index} m{j}"})

        senders = [asyncio.create_task(talk(c)) for c in self.users]
        waiting = [asyncio.ensure_future(asyncio.wait([c.done, c.lost], return_when=asyncio.FIRST_COMPLETED))
                   for c in self.users]
        try:
            await asyncio.gather(*senders, *waiting)
        finally:
            for t in senders:
                t.cancel()

    async def close_all(self) -> None:
        self.closing = True
        await asyncio.gather(*(c.close() for c in self.users), return_exceptions=True)

    async def run(self) -> None:
        started = time.monotonic()
        t = time.monotonic()
        await self.connect()
        self.figures["connect_s"] = round(time.monotonic() - t, 2)
        t = time.monotonic()
        await self.join()
        self.figures["join_s"] = round(time.monotonic() - t, 2)
        self.rss("after_join")
        t = time.monotonic()
        cpu = cpu_seconds(self.proc.pid) if self.proc is not None else None
        await self.chat()
        chat_s = time.monotonic() - t
        if cpu is not None and self.proc is not None:
            after = cpu_seconds(self.proc.pid)
            self.figures["server_cpu_chat_s"] = round(after - cpu, 2) if after is not None else None
        self.figures["chat_s"] = round(chat_s, 2)
        self.rss("after_messages")
        self.figures["deliveries"] = self.delivered
        self.figures["deliveries_per_s"] = round(self.delivered / chat_s) if chat_s > 0 else None
        self.figures["messages_sent_per_s"] = (round(self.clients * self.messages / chat_s)
                                               if chat_s > 0 else None)
        t = time.monotonic()
        await self.close_all()
        await self.wait_for_close_handlers()
        self.figures["leave_s"] = round(time.monotonic() - t, 2)
        self.rss("after_leave")
        self.figures["wall_s"] = round(time.monotonic() - started, 2)

    async def wait_for_close_handlers(self) -> None:
        """Until chat.flc has logged a disconnect for every client: each close handler
        broadcasts a `left` notice to the users still there, N^2/2 sends in all."""
        out = self.workdir / "server.stdout"
        while True:
            text = out.read_text(encoding="utf-8", errors="replace")
            if text.count("\ndisconnected ") >= self.clients:
                return
            if self.proc is not None and self.proc.poll() is not None:
                raise PhaseError("the server exited while clients were leaving")
            await asyncio.sleep(0.2)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Load test of examples/chat.flc (see the module doc).")
    ap.add_argument("--clients", type=int, default=1000, help="concurrent clients (default 1000)")
    ap.add_argument("--messages", type=int, default=20, help="messages per client (default 20)")
    ap.add_argument("--window", type=int, default=2,
                    help="own messages a client keeps in flight (default 2)")
    ap.add_argument("--join-batch", type=int, default=50, help="clients joining at once (default 50)")
    ap.add_argument("--connect-concurrency", type=int, default=100,
                    help="handshakes under way at once (default 100)")
    ap.add_argument("--timeout", type=float, default=1200,
                    help="seconds for the whole run (default 1200)")
    ap.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = ap.parse_args(argv)
    if args.clients < 1 or args.messages < 1 or args.window < 1 or args.join_batch < 1:
        ap.error("--clients, --messages, --window and --join-batch must be at least 1")

    soft, hard = raise_fd_limit(args.clients * 2 + 256)
    if soft != resource.RLIM_INFINITY and soft < args.clients + 64:
        print(f"error: the open-file limit ({soft}, hard {hard}) is too low for {args.clients} clients")
        return 2

    load = Load(args)
    status = 0
    try:
        load.start_server()
        load.rss("idle")
        print(f"chat.flc on port {load.port}; {args.clients} clients x {args.messages} messages",
              flush=True)
        try:
            asyncio.run(asyncio.wait_for(load.run(), args.timeout))
        except TimeoutError:
            print(f"FAIL: the run did not finish within {args.timeout:.0f}s")
            status = 1
        except (PhaseError, ConnectionError, OSError) as e:
            print(f"FAIL: {e}")
            status = 1
    finally:
        load.stop_server()
        load.kill_server()

    f = load.figures
    expected = args.clients * args.clients * args.messages
    incomplete = [c for c in load.users if c.received != load.expected_per_client]
    with_errors = [c for c in load.users if c.errors]
    stderr = load.server_stderr()
    f.update({"clients": args.clients, "messages_per_client": args.messages,
              "expected_deliveries": expected, "clients_incomplete": len(incomplete),
              "clients_with_errors": len(with_errors), "errors": load.error_count,
              "server_stderr_lines": len(stderr.splitlines())})

    def mb(kb: Any) -> str:
        return f"{kb / 1024:.1f} MiB" if isinstance(kb, int) else "?"

    print(f"connect {f.get('connect_s')}s, join {f.get('join_s')}s, messages {f.get('chat_s')}s, "
          f"leave {f.get('leave_s')}s, wall {f.get('wall_s')}s")
    print(f"deliveries {load.delivered}/{expected}, {f.get('deliveries_per_s')} deliveries/s "
          f"({f.get('messages_sent_per_s')} messages sent/s)")
    print(f"server RSS: idle {mb(f.get('rss_kb_idle'))}, after join {mb(f.get('rss_kb_after_join'))}, "
          f"after messages {mb(f.get('rss_kb_after_messages'))}, after leave "
          f"{mb(f.get('rss_kb_after_leave'))}, peak {mb(f.get('rss_kb_peak'))}")
    print(f"CPU: server {f.get('server_cpu_s')}s ({f.get('server_cpu_chat_s')}s in the message "
          f"phase), clients {f.get('client_cpu_s')}s; "
          f"server exit status after SIGTERM: {f.get('server_exit_status')}")
    if args.json:
        args.json.write_text(json.dumps(f, indent=2), encoding="utf-8")

    for c in with_errors[:10]:
        print(f"  {c.name}: " + "; ".join(c.errors[:5]))
    if incomplete:
        print(f"  {len(incomplete)} client(s) missing messages, e.g. " + ", ".join(
            f"{c.name} {c.received}/{load.expected_per_client}" for c in incomplete[:5]))
    if "Traceback (most recent call last)" in stderr:
        print("FAIL: Python traceback on the server's stderr:\n" + stderr[-3000:])
        status = 1
    if f.get("server_exit_status") != 0:
        print(f"FAIL: server exit status {f.get('server_exit_status')}\n{stderr[-3000:]}")
        status = 1
    if load.delivered != expected or incomplete or with_errors:
        print("FAIL: messages lost, duplicated or out of order, or clients disconnected")
        status = 1
    if status == 0:
        print("PASS: every client received every message exactly once, in order per sender")
    else:
        print(f"server logs kept in {load.workdir}")
    if status == 0:
        for name in ("server.stdout", "server.stderr"):
            with contextlib.suppress(OSError):
                (load.workdir / name).unlink()
        with contextlib.suppress(OSError):
            load.workdir.rmdir()
    return status


if __name__ == "__main__":
    sys.exit(main())
