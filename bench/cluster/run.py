"""Cluster benchmark: broadcast through Redis across nodes against one node, same run, same
machine, all on 127.0.0.1.

Configurations (each a fresh set of processes running bench/cluster/broadcast_node.flc,
whose message handler is `WebSocket.broadcast(message)`):

  1 node            one process, no cluster, 300 clients (the embedded default)
  1 node + Redis    one process with --cluster, 300 clients (the cost of the cluster layer)
  3 nodes + Redis   three processes with --cluster, 100 clients each

One client connection (on the first node) sends; every broadcast is delivered to all 300
clients, the sender included. Two phases per configuration:

  throughput  the sender sends M messages back to back; deliveries/s = 300 × M / the time
              from the first send until every client has every message
  latency     K messages paced at R per second; for each delivery, the time from the send
              to its arrival at a client (one clock: all clients live in this process);
              p50 and p99 over all deliveries

All clients run in this one process (a minimal client that parses frames in whole chunks,
much cheaper than the servers' work), but on a small machine they still compete with the
servers and Redis for the same cores: the figures compare configurations in one run; they
are not absolute capacities. Nothing is asserted.

Usage: python bench/cluster/run.py [--quick] [--clients 300] [--messages 200]
                                   [--latency-messages 100] [--rate 20] [--json FILE]
Needs redis-server (Debian package) and the redis package (pip install -e '.[cluster]').
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import resource
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
PROGRAM = HERE / "broadcast_node.flc"
TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Redis:
    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise SystemExit("bench/cluster: redis-server is not installed "
                             "(apt-get install redis-server)")
        self.port = free_port()
        self.proc = subprocess.Popen(
            [binary, "--save", "", "--appendonly", "no", "--port", str(self.port),
             "--bind", "127.0.0.1"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("bench/cluster: redis-server did not start")
            time.sleep(0.05)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def start_node(cluster: str | None, group: str) -> tuple[subprocess.Popen[str], int]:
    command = [sys.executable, "-m", "fluentai", "run"]
    if cluster:
        command += ["--cluster", cluster]
    command += [str(PROGRAM), group]
    env = {k: v for k, v in os.environ.items() if k != "FLUENTAI_CLUSTER"}
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("port "):
        proc.kill()
        raise RuntimeError(f"{' '.join(command)} did not start: {line!r} "
                           f"{proc.stderr.read() if proc.stderr else ''}")
    return proc, int(line.split()[1])


def stop_node(proc: subprocess.Popen[str]) -> str:
    proc.terminate()
    try:
        _, err = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return err


def group_count(port: int) -> int:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"http://127.0.0.1:{port}/count", timeout=5) as r:
        return int(json.loads(r.read())["count"])


async def wait_for_count(ports: list[int], expected: int) -> None:
    deadline = time.monotonic() + TIMEOUT
    while True:
        counts = [await asyncio.to_thread(group_count, p) for p in ports]
        if all(c == expected for c in counts):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"the nodes see {counts} connections, expected {expected}")
        await asyncio.sleep(0.05)


class LightClient:
    """A minimal WebSocket client on an asyncio stream: it parses frames in whole chunks
    (no task switch per message), so that the clients, which share one process, cost the
    machine much less than the servers they measure."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.buf = b""
        self.latencies: list[int] = []

    @classmethod
    async def open(cls, port: int) -> LightClient:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write((f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                      f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                      "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        head = await reader.readuntil(b"\r\n\r\n")
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise RuntimeError(f"handshake refused: {head[:80]!r}")
        return cls(reader, writer)

    def send_text(self, text: str) -> None:
        payload = text.encode()
        mask = os.urandom(4)
        n = len(payload)
        header = bytes([0x81, 0x80 | n]) if n < 126 else bytes([0x81, 0xFE]) + struct.pack(">H", n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.writer.write(header + mask + masked)

    async def take(self, n: int, record: bool) -> None:
        """Read `n` text frames (answering pings); with `record`, the latency of each."""
        got = 0
        while got < n:
            buf = self.buf
            while got < n and len(buf) >= 2:
                length, off = buf[1] & 0x7F, 2
                if length == 126:
                    if len(buf) < 4:
                        break
                    length, off = struct.unpack(">H", buf[2:4])[0], 4
                elif length == 127:
                    if len(buf) < 10:
                        break
                    length, off = struct.unpack(">Q", buf[2:10])[0], 10
                if len(buf) < off + length:
                    break
                opcode, payload = buf[0] & 0x0F, buf[off:off + length]
                buf = buf[off + length:]
                if opcode == 0x1:
                    got += 1
                    if record:
                        self.latencies.append(time.perf_counter_ns() - int(payload.split(b" ", 2)[1]))
                elif opcode == 0x9:
                    self.writer.write(bytes([0x8A, 0x80]) + b"\0\0\0\0")  # pong, empty
                elif opcode == 0x8:
                    raise RuntimeError("the server closed a client connection")
            self.buf = buf
            if got < n:
                data = await self.reader.read(1 << 16)
                if not data:
                    raise RuntimeError("connection lost")
                self.buf += data

    def close(self) -> None:
        self.writer.close()


async def measure(ports: list[int], per_node: int, messages: int, latency_messages: int,
                  rate: float) -> dict[str, Any]:
    clients = [await LightClient.open(port) for port in ports for _ in range(per_node)]
    total = len(clients)
    await wait_for_count(ports, total)
    sender = clients[0]

    async def phase(n: int, record: bool, interval: float) -> float:
        tasks = [asyncio.create_task(c.take(n, record)) for c in clients]
        begin = time.perf_counter()
        for i in range(n):
            sender.send_text(f"{i} {time.perf_counter_ns()} x")
            if interval:
                await asyncio.sleep(interval)
            elif i % 10 == 9:
                await asyncio.sleep(0)  # let the receivers keep up with the sender
        await asyncio.wait_for(asyncio.gather(*tasks), TIMEOUT)
        return time.perf_counter() - begin

    await phase(5, False, 0.01)  # warm-up
    elapsed = await phase(messages, False, 0)
    await phase(latency_messages, True, 1 / rate)
    latencies = sorted(x for c in clients for x in c.latencies)
    for c in clients:
        c.close()
    q = statistics.quantiles(latencies, n=100, method="inclusive")
    return {
        "clients": total,
        "deliveries": total * messages,
        "deliveries_per_s": total * messages / elapsed,
        "latency_p50_ms": q[49] / 1e6,
        "latency_p99_ms": q[98] / 1e6,
        "latency_deliveries": len(latencies),
    }


def run_configuration(label: str, nodes: int, cluster: str | None, clients: int,
                      ns: argparse.Namespace) -> dict[str, Any]:
    group = f"bench-{os.getpid()}-{label.replace(' ', '')}"
    started = [start_node(cluster, group) for _ in range(nodes)]
    try:
        result = asyncio.run(measure([port for _, port in started], clients // nodes,
                                     ns.messages, ns.latency_messages, ns.rate))
    finally:
        errors = [stop_node(proc) for proc, _ in started]
    for err in errors:
        if err.strip():
            sys.stderr.write(f"{label}: {err}")
    result["nodes"] = nodes
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: only checks it works")
    parser.add_argument("--clients", type=int, default=300)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--latency-messages", type=int, default=100)
    parser.add_argument("--rate", type=float, default=20.0, help="paced broadcasts per second")
    parser.add_argument("--json", type=Path)
    ns = parser.parse_args()
    if ns.quick:
        ns.clients, ns.messages, ns.latency_messages, ns.rate = 30, 20, 10, 50.0
    ns.clients -= ns.clients % 3
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4 * ns.clients + 256)), hard))
    redis = Redis()
    report: dict[str, Any] = {"python": sys.version.split()[0], "cpus": os.cpu_count(),
                              "clients": ns.clients, "messages": ns.messages,
                              "latency_messages": ns.latency_messages, "rate": ns.rate,
                              "results": {}}
    try:
        configurations = [
            ("1 node", 1, None),
            ("1 node + Redis", 1, redis.url),
            ("3 nodes + Redis", 3, redis.url),
        ]
        print(f"broadcast to {ns.clients} clients: {ns.messages} messages back to back, "
              f"then {ns.latency_messages} paced at {ns.rate:g}/s "
              f"({os.cpu_count()} CPUs, clients in one process)")
        print(f"{'configuration':<18} {'clients':>9} {'deliveries/s':>13} {'p50 ms':>8} {'p99 ms':>8}")
        for label, nodes, cluster in configurations:
            r = run_configuration(label, nodes, cluster, ns.clients, ns)
            report["results"][label] = r
            shown = f"{nodes}×{ns.clients // nodes}" if nodes > 1 else str(ns.clients)
            print(f"{label:<18} {shown:>9} {r['deliveries_per_s']:>13.0f} "
                  f"{r['latency_p50_ms']:>8.2f} {r['latency_p99_ms']:>8.2f}", flush=True)
    finally:
        redis.stop()
    if ns.json:
        ns.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
