"""`fluentai run --cluster URL` / FLUENTAI_CLUSTER and `--workers N`: usage errors, the
workers sharing one port and acting as one server, signals forwarded by the parent, and
nothing of the cluster loaded when no cluster is configured."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from clusterkit import NODE, ROOT, Client, RedisServer, counts_are, free_port, wait_until


def fluentai(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "FLUENTAI_CLUSTER"}
    return subprocess.run([sys.executable, "-m", "fluentai", *args], cwd=ROOT, text=True,
                          capture_output=True, timeout=60, stdin=subprocess.DEVNULL,
                          env={**environ, **(env or {})})


def test_workers_without_a_cluster_is_a_usage_error() -> None:
    done = fluentai("run", "--workers", "2", str(NODE))
    assert done.returncode == 2
    assert "--workers needs --cluster URL" in done.stderr and "usage:" in done.stderr
    assert done.stdout == ""


@pytest.mark.parametrize(("args", "message"), [
    (["--cluster", "localhost:6379"], "--cluster expects a Redis URL like redis://HOST:PORT"),
    (["--cluster", "redis://127.0.0.1:1", "--workers", "0"], "expected a number of processes >= 1"),
])
def test_bad_cluster_options_are_usage_errors(args: list[str], message: str) -> None:
    done = fluentai("run", *args, str(NODE))
    assert done.returncode == 2
    assert message in done.stderr


def test_a_bad_cluster_url_in_the_environment_is_a_usage_error() -> None:
    done = fluentai("run", str(NODE), env={"FLUENTAI_CLUSTER": "nonsense"})
    assert done.returncode == 2 and "--cluster expects a Redis URL" in done.stderr


def test_without_a_cluster_nothing_of_it_is_imported(tmp_path: Path) -> None:
    prog = tmp_path / "serve.flc"
    prog.write_text(textwrap.dedent("""
        let server = perform HttpServer.listen(0, true, {"cluster": "ignored"}).await()
        perform WebSocket.broadcast("nobody").await()
        print(perform WebSocket.connection_count())
        perform HttpServer.stop(server.id).await()
    """))
    code = textwrap.dedent(f"""
        import sys
        from fluentai.interpreter import run_path
        status = run_path({str(prog)!r})
        print("status", status, "redis" in sys.modules, "fluentai.server.cluster" in sys.modules)
    """)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, text=True,
                          capture_output=True, timeout=60,
                          env={k: v for k, v in os.environ.items() if k != "FLUENTAI_CLUSTER"})
    assert done.stdout.splitlines() == ["0", "status 0 False False"], done.stderr


async def test_the_environment_variable_joins_like_the_option(
        redis_server: RedisServer, nodes: Any) -> None:
    by_option = nodes.start(redis_server.url)
    by_env = nodes.start("", env={"FLUENTAI_CLUSTER": redis_server.url})
    one = await Client.open(by_option.port)
    two = await Client.open(by_env.port)
    await counts_are([by_option, by_env], {one.id, two.id})
    assert by_env.terminate() == 0 and by_option.terminate() == 0


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_workers_share_the_port_and_act_as_one_server(
        redis_server: RedisServer, nodes: Any, sig: int) -> None:
    port = free_port()
    parent = nodes.start(redis_server.url, port=port, options=["--workers", "2"])
    assert parent.port == port
    await asyncio.to_thread(parent.wait_out, lambda line: parent.out.count(f"port {port}") == 2)
    clients = [await Client.open(port) for _ in range(16)]
    # The kernel spread the connections over both workers (for 16 connections, all on one
    # worker has a chance of 2 in 65,536).
    homes = {(await c.ask("info", of=c.id))["info"]["node"] for c in clients}
    assert len(homes) == 2
    await wait_until(lambda: parent.count()["count"] == 16, what="16 connections in the group")
    assert (await clients[3].ask("broadcast", text="to all workers"))["count"] == 16
    got = await asyncio.gather(*(c.next() for c in clients))
    assert got == ["to all workers"] * 16
    status = await asyncio.to_thread(parent.terminate, sig)
    assert status == 0, parent.describe()
    assert "Traceback" not in parent.stderr
    closed = await asyncio.gather(*(asyncio.wait_for(c.closed, 10) for c in clients))
    assert {code for code, _ in closed} == {1001}  # each worker shut down gracefully
