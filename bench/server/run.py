"""Server benchmarks: a FluentAI server against a plain websockets server, same client, same
run, compression off, all on 127.0.0.1.

- echo: N connections in lockstep (each sends, waits for the echo, sends again); messages/s.
- broadcast: C clients connected; one sender sends M messages, each delivered to all C
  clients by the server (FluentAI `WebSocket.broadcast` vs websockets' `broadcast()`);
  deliveries/s measured until every client has every message.
- idle: K idle connections held open; server RSS growth per connection (FluentAI only).

Usage: python bench/server/run.py [--quick] [--only echo,broadcast,idle] [--json FILE]
Figures are ratios against the reference measured in the same run; nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def start(cmd: list[str]) -> tuple[subprocess.Popen[str], int]:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT, env=env)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("port "):
        proc.kill()
        raise RuntimeError(f"{' '.join(cmd)} did not start: {line!r} {proc.stderr.read() if proc.stderr else ''}")
    return proc, int(line.split()[1])


def stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def fluentai(program: str) -> list[str]:
    return [sys.executable, "-m", "fluentai", "run", str(HERE / program)]


def plain(mode: str) -> list[str]:
    return [sys.executable, str(HERE / "plain_websockets.py"), mode]


async def echo_rate(port: int, connections: int, seconds: float) -> float:
    clients = [await connect(f"ws://127.0.0.1:{port}/", compression=None)
               for _ in range(connections)]
    payload = "x" * 32
    count = 0
    deadline = time.perf_counter() + seconds

    async def lockstep(ws: ClientConnection) -> None:
        nonlocal count
        while time.perf_counter() < deadline:
            await ws.send(payload)
            reply = await ws.recv()
            assert reply == payload, reply
            count += 1

    begin = time.perf_counter()
    await asyncio.gather(*(lockstep(ws) for ws in clients))
    elapsed = time.perf_counter() - begin
    for ws in clients:
        await ws.close()
    return count / elapsed


async def broadcast_rate(port: int, clients_n: int, messages: int) -> float:
    clients = [await connect(f"ws://127.0.0.1:{port}/", compression=None, max_queue=None)
               for _ in range(clients_n)]
    sender = clients[0]

    async def drain(ws: ClientConnection) -> None:
        for _ in range(messages):
            await ws.recv()

    begin = time.perf_counter()
    receivers = [asyncio.create_task(drain(ws)) for ws in clients]
    for i in range(messages):
        await sender.send(f"m{i}")
        if i % 10 == 9:
            await asyncio.sleep(0)  # let the sender's own receiver keep up
    await asyncio.gather(*receivers)
    elapsed = time.perf_counter() - begin
    for ws in clients:
        await ws.close()
    return clients_n * messages / elapsed


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def idle_per_connection(port: int, pid: int, count: int) -> dict[str, float]:
    before = rss_kib(pid)
    clients = []
    for i in range(count):
        clients.append(await connect(f"ws://127.0.0.1:{port}/", compression=None,
                                     ping_interval=None))
        if i % 500 == 499:
            await asyncio.sleep(0)
    await asyncio.sleep(0.5)  # let the server finish registering (RSS is a reading, not a check)
    after = rss_kib(pid)
    for ws in clients:
        await ws.close()
    return {"connections": count, "rss_before_kib": before, "rss_after_kib": after,
            "kib_per_connection": (after - before) / count}


def raise_fd_limit(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))


def run_pair(label: str, fluent_cmd: list[str], plain_cmd: list[str], measure: Any) -> dict[str, Any]:
    results: dict[str, float] = {}
    for name, cmd in (("websockets", plain_cmd), ("fluentai", fluent_cmd)):
        proc, port = start(cmd)
        try:
            results[name] = asyncio.run(measure(port))
        finally:
            stop(proc)
    ratio = results["fluentai"] / results["websockets"]
    print(f"{label:<28} websockets {results['websockets']:>10.0f}/s   "
          f"fluentai {results['fluentai']:>10.0f}/s   ratio {ratio:.2f}")
    return {**results, "ratio": ratio}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: only checks it works")
    parser.add_argument("--only", default="echo,broadcast,idle")
    parser.add_argument("--json", type=Path)
    ns = parser.parse_args()
    which = set(ns.only.split(","))
    seconds = 0.5 if ns.quick else 5.0
    report: dict[str, Any] = {}
    raise_fd_limit(20_000)
    if "echo" in which:
        n = 20
        report["echo"] = run_pair(f"echo, {n} conns lockstep", fluentai("echo_server.flc"),
                                  plain("echo"), lambda port: echo_rate(port, n, seconds))
        report["echo_sync_send"] = run_pair(
            "echo (ws_send, no wait)", fluentai("echo_server_sync.flc"), plain("echo"),
            lambda port: echo_rate(port, n, seconds))
    if "broadcast" in which:
        clients, messages = (10, 20) if ns.quick else (100, 300)
        report["broadcast"] = run_pair(
            f"broadcast to {clients} clients", fluentai("broadcast_server.flc"),
            plain("broadcast"), lambda port: broadcast_rate(port, clients, messages))
    if "idle" in which:
        count = 200 if ns.quick else 5000
        proc, port = start(fluentai("idle_server.flc"))
        try:
            idle = asyncio.run(idle_per_connection(port, proc.pid, count))
        finally:
            stop(proc)
        report["idle"] = idle
        print(f"idle {count} connections: {idle['kib_per_connection']:.1f} KiB/connection "
              f"(RSS {idle['rss_before_kib']} -> {idle['rss_after_kib']} KiB)")
    if ns.json:
        ns.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
