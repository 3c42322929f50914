"""`fluentai run --workers N --reload`: each worker watches the program and reloads itself;
the connections of every worker stay open and get the new code."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path
from typing import Any

from clusterkit import RedisServer, free_port
from websockets.asyncio.client import connect

PROGRAM = """\
let port = int(args[0])
function handle_websocket_message(conn_id, message) {
  perform HttpServer.ws_send(server.id, conn_id, f"v1 {message}")
}
let server = perform HttpServer.listen(port, true).await()
print(f"port {server.port}")
"""


async def test_each_worker_reloads_itself(redis_server: RedisServer, nodes: Any,
                                          tmp_path: Path) -> None:
    program = tmp_path / "prog.flc"
    program.write_text(PROGRAM, encoding="utf-8")
    port = free_port()
    parent = nodes.start(redis_server.url, port=port, program=program,
                         options=["--workers", "2", "--reload"])
    await asyncio.to_thread(parent.wait_out, lambda line: parent.out.count(f"port {port}") == 2)
    # 16 connections: the kernel spreads them over both workers (all on one: 1 in 32,768).
    clients = [await connect(f"ws://127.0.0.1:{port}/", proxy=None) for _ in range(16)]
    try:
        for ws in clients:
            await ws.send("a")
            assert await asyncio.wait_for(ws.recv(), 10) == "v1 a"
        new = tmp_path / ".prog.flc.tmp"
        new.write_text(PROGRAM.replace("v1", "v2"), encoding="utf-8")
        os.replace(new, program)
        reported = re.compile(r"reloaded .*prog\.flc: 1 function changed \(\d+ ms\)")
        await asyncio.to_thread(parent.wait_err_count, reported.fullmatch, 2)
        for ws in clients:
            await ws.send("b")
            assert await asyncio.wait_for(ws.recv(), 10) == "v2 b"
    finally:
        for ws in clients:
            await ws.close()
    assert parent.terminate() == 0, parent.describe()
    assert "Traceback" not in parent.stderr
