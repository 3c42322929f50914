"""examples/chat.flc under --cluster: two processes sharing Redis are one chat room."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from clusterkit import ROOT, TIMEOUT, Node
from websockets.asyncio.client import ClientConnection, connect

CHAT = ROOT / "examples" / "chat.flc"


def start_chat(nodes: Any, url: str) -> tuple[Node, int]:
    node = nodes.start(url, program=CHAT, wait_port=False)
    line = node.wait_out(lambda line: line.startswith("Chat server running on"))
    return node, int(line.rstrip("/").rsplit(":", 1)[1])


async def next_of(ws: ClientConnection, kind: str) -> dict[str, Any]:
    """The next message of type `kind` (other notices are skipped)."""
    async with asyncio.timeout(TIMEOUT):
        while True:
            msg = json.loads(await ws.recv())
            if msg["type"] == kind:
                return msg  # type: ignore[no-any-return]


async def who_converges(ws: ClientConnection, expected: list[str]) -> None:
    async with asyncio.timeout(TIMEOUT):
        while True:
            await ws.send(json.dumps({"type": "say", "text": "/who"}))
            if sorted((await next_of(ws, "who"))["users"]) == expected:
                return
            await asyncio.sleep(0.05)  # polling a remote view: no event to await here


async def test_two_chat_processes_are_one_room(redis_server: Any, nodes: Any) -> None:
    node_a, port_a = start_chat(nodes, redis_server.url)
    node_b, port_b = start_chat(nodes, redis_server.url)
    async with connect(f"ws://127.0.0.1:{port_a}/ws") as ann, \
            connect(f"ws://127.0.0.1:{port_b}/ws") as bob:
        await ann.send(json.dumps({"type": "join", "name": "Ann"}))
        assert (await next_of(ann, "welcome"))["users"] == ["Ann"]
        assert (await next_of(ann, "joined"))["name"] == "Ann"  # everyone is told, Ann too
        # Bob joins on the other process, and Ann is told. (Each process learns the other's
        # names through Redis within moments: user lists converge, they are not instant.)
        await bob.send(json.dumps({"type": "join", "name": "Bob"}))
        assert "Bob" in (await next_of(bob, "welcome"))["users"]
        assert (await next_of(ann, "joined"))["name"] == "Bob"
        await who_converges(bob, ["Ann", "Bob"])
        # Names are unique across processes.
        async with connect(f"ws://127.0.0.1:{port_a}/ws") as third:
            await third.send(json.dumps({"type": "join", "name": "bob"}))
            assert (await next_of(third, "error"))["message"] == "the name Bob is taken"
        # A message said on one process reaches the other, and /who lists both.
        await bob.send(json.dumps({"type": "say", "text": "hello from B"}))
        heard = await next_of(ann, "message")
        assert (heard["from"], heard["text"]) == ("Bob", "hello from B")
        await who_converges(ann, ["Ann", "Bob"])
        await bob.close()
        left = await next_of(ann, "left")
        assert left["name"] == "Bob" and left["users"] == ["Ann"]
    for node in (node_a, node_b):
        assert node.terminate() == 0, node.describe()
        assert "Traceback" not in node.stderr
