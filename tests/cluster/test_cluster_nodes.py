"""Several fluentai processes acting as one server through a real redis-server: each test
starts its own Redis on a free port and three nodes running node.flc (port 0: the group is
"0" for all of them), with WebSocket clients on each.

Bounds checked: a node killed with SIGKILL leaves the others' view within TTL + refresh
(3 s + 1 s) plus slack; after a Redis restart the nodes rejoin within the reconnection
backoff. Nothing sleeps to synchronise: conditions are polled with deadlines."""

from __future__ import annotations

import asyncio
import signal
import time
from typing import Any

from clusterkit import Client, Node, RedisServer, counts_are, wait_until

from fluentai.server.cluster_state import HEARTBEAT_S, TTL_S

LEAVE_BOUND_S = TTL_S + HEARTBEAT_S + 2.0  # the documented bound, plus slack for a busy CI


async def start_nodes(nodes: Any, url: str, n: int = 3, **kwargs: Any) -> list[Node]:
    return list(await asyncio.gather(*(asyncio.to_thread(nodes.start, url, **kwargs)
                                       for _ in range(n))))


async def clients_on(node: Node, n: int) -> list[Client]:
    return list(await asyncio.gather(*(Client.open(node.port) for _ in range(n))))


async def everyone_gets(clients: list[Client], expected: str | bytes) -> None:
    got = await asyncio.gather(*(c.next() for c in clients))
    assert all(g == expected for g in got), got


async def test_broadcast_from_one_node_reaches_every_client_of_every_node_once(
        redis_server: RedisServer, nodes: Any) -> None:
    a, b, c = await start_nodes(nodes, redis_server.url)
    clients = {node.port: await clients_on(node, 3) for node in (a, b, c)}
    everyone = [cl for group in clients.values() for cl in group]
    await counts_are([a, b, c], {cl.id for cl in everyone})

    sender = clients[a.port][0]
    reply = await sender.ask("broadcast", text="hello from A")
    assert reply["count"] == 9  # 3 queued here + the 6 the view lists on B and C
    await everyone_gets(everyone, "hello from A")
    # WebSocket.broadcast from B too; then a marker from C: had anything been delivered
    # twice, a duplicate would come before the marker.
    reply = await clients[b.port][1].ask("ws_broadcast", text="\x00binary from B", binary=True)
    assert reply["count"] == 9
    await everyone_gets(everyone, b"\x00binary from B")
    await clients[c.port][2].ask("broadcast", text="marker")
    await everyone_gets(everyone, "marker")
    assert all(cl.pending() == [] for cl in everyone)
    for cl in everyone:
        await cl.close()
    await counts_are([a, b, c], set())
    for node in (a, b, c):
        assert node.terminate() == 0, node.describe()
        assert "Traceback" not in node.stderr and "warning" not in node.stderr, node.stderr


async def test_send_close_info_and_meta_across_nodes(redis_server: RedisServer, nodes: Any) -> None:
    a, b, c = await start_nodes(nodes, redis_server.url)
    [on_a] = await clients_on(a, 1)
    [on_b] = await clients_on(b, 1)
    [on_c] = await clients_on(c, 1)
    await counts_are([a, b, c], {on_a.id, on_b.id, on_c.id})

    # ws_send to a connection another node holds: true once handed to Redis.
    assert (await on_a.ask("send", to=on_b.id, text="for B"))["ok"] is True
    assert await on_b.next() == "for B"
    # WebSocket.send waits until Redis delivered it to the node.
    assert (await on_c.ask("send_async", to=on_a.id, text="for A"))["ok"] is True
    assert await on_a.next() == "for A"
    # Order: numbered sends to one remote connection, some of them broadcasts (which go
    # through the group's channel), arrive in the order sent.
    await on_a.ask("burst", to=on_c.id, n=200, mixed=True)
    got = [await on_c.next() for _ in range(200)]
    assert got == [str(i) for i in range(200)]
    for cl in (on_a, on_b):  # they got the broadcasts of the burst, in order too
        assert [await cl.next() for _ in range(20)] == [str(i) for i in range(0, 200, 10)]

    # WebSocket.info of a remote connection, and meta set from another node.
    info = (await on_a.ask("info", of=on_b.id))["info"]
    assert info["id"] == on_b.id and info["server_id"] == f"server_{b.port}"
    assert info["path"] == "/" and info["node"] != (await on_a.ask("info", of=on_a.id))["info"]["node"]
    await on_a.ask("set_meta", of=on_b.id, key="name", value="Bea")

    async def meta_seen_by_c() -> bool:
        return (await on_c.ask("info", of=on_b.id))["info"]["meta"] == {"name": "Bea"}

    await wait_until(meta_seen_by_c, what="B's meta as seen from C")
    unknown = (await on_a.ask("info", of="no-such-connection"))["info"]
    assert "unknown connection id 'no-such-connection'" in unknown["error"]
    assert "unknown connection id" in (await on_a.ask("send", to="nope", text="x"))["ok"]

    # ws_close of a connection another node holds.
    await on_a.ask("close", to=on_b.id)
    assert await asyncio.wait_for(on_b.closed, 10) == (4001, "closed by a peer")
    await counts_are([a, b, c], {on_a.id, on_c.id})
    for node in (a, b, c):
        assert node.terminate() == 0, node.describe()


async def test_counts_cover_the_whole_group_and_groups_are_separate(
        redis_server: RedisServer, nodes: Any) -> None:
    a, b, c = await start_nodes(nodes, redis_server.url)
    other = nodes.start(redis_server.url, group="another-group")
    on_a = await clients_on(a, 2)
    on_b = await clients_on(b, 1)
    [lone] = await clients_on(other, 1)
    await counts_are([a, b, c], {cl.id for cl in on_a + on_b})
    seen = await c.acount()
    assert seen["local"] == []  # C holds none of them
    assert (await on_b[0].ask("count"))["count"] == 3
    # The other group sees only its own, and a broadcast there stays there.
    assert (await other.acount())["ids"] == [lone.id]
    assert (await lone.ask("broadcast", text="elsewhere"))["count"] == 1
    await on_a[0].ask("broadcast", text="here")
    assert await lone.next() == "elsewhere"
    await everyone_gets(on_a + on_b, "here")
    assert lone.pending() == []
    # A graceful stop (SIGTERM) says goodbye: its connections leave the view at once.
    assert a.terminate() == 0, a.describe()
    await counts_are([b, c], {on_b[0].id}, timeout=2)


async def test_a_killed_node_leaves_the_view_within_the_bound(
        redis_server: RedisServer, nodes: Any) -> None:
    a, b, c = await start_nodes(nodes, redis_server.url)
    on_a = await clients_on(a, 1)
    on_b = await clients_on(b, 1)
    on_c = await clients_on(c, 2)
    await counts_are([a, b, c], {cl.id for cl in on_a + on_b + on_c})
    c.kill()  # SIGKILL: no goodbye
    killed = time.monotonic()
    await counts_are([a, b], {on_a[0].id, on_b[0].id}, timeout=LEAVE_BOUND_S + 2)
    assert time.monotonic() - killed <= LEAVE_BOUND_S
    # The survivors still act as one.
    assert (await on_a[0].ask("broadcast", text="still here"))["count"] == 2
    await everyone_gets(on_a + on_b, "still here")
    for node in (a, b):
        assert node.terminate() == 0, node.describe()


async def test_nodes_survive_a_redis_restart_and_rejoin(redis_server: RedisServer, nodes: Any) -> None:
    a, b, c = await start_nodes(nodes, redis_server.url)
    [on_a] = await clients_on(a, 1)
    [on_b] = await clients_on(b, 1)
    [on_c] = await clients_on(c, 1)
    await counts_are([a, b, c], {on_a.id, on_b.id, on_c.id})

    redis_server.kill()
    for node in (a, b, c):
        await node.err_line("cluster: lost the connection to Redis")
    # Each node keeps serving its own connections. Cross-node messages are dropped during
    # the outage (never buffered): the broadcast counts the local connection only, and a
    # send to a remote connection says false (or, once the view has expired, that the id is
    # unknown).
    assert (await on_a.ask("broadcast", text="during the outage"))["count"] == 1
    assert await on_a.next() == "during the outage"
    sent = (await on_a.ask("send", to=on_b.id, text="lost"))["ok"]
    assert sent is False or "unknown connection id" in sent
    # After TTL_S the others' connections leave the view.
    async def alone() -> bool:
        return (await on_a.ask("count"))["count"] == 1

    await wait_until(alone, timeout=TTL_S + 3, what="A's view to drop B and C")

    redis_server.start()  # same port, empty
    for node in (a, b, c):
        await node.err_line("cluster: connected to Redis at", timeout=BACKOFF_BOUND_S)
    await counts_are([a, b, c], {on_a.id, on_b.id, on_c.id})
    await on_c.ask("broadcast", text="after the restart")
    # What was broadcast during the outage never arrives: the next message is this one.
    await everyone_gets([on_a, on_b, on_c], "after the restart")
    for node in (a, b, c):
        assert node.stderr.count("lost the connection") == 1, node.stderr  # reported once
        assert node.terminate() == 0, node.describe()


BACKOFF_BOUND_S = 15.0


async def test_redis_down_at_start_serves_locally_and_joins_later(
        redis_server: RedisServer, nodes: Any) -> None:
    redis_server.kill()
    a = nodes.start(redis_server.url)
    await a.err_line("warning: cluster: cannot reach Redis at")
    [on_a] = await clients_on(a, 1)
    assert (await on_a.ask("broadcast", text="local"))["count"] == 1
    assert await on_a.next() == "local"
    redis_server.start()
    await a.err_line("cluster: connected to Redis at", timeout=BACKOFF_BOUND_S)
    b = nodes.start(redis_server.url)
    [on_b] = await clients_on(b, 1)
    await counts_are([a, b], {on_a.id, on_b.id})
    assert a.terminate(signal.SIGINT) == 0, a.describe()
    assert b.terminate() == 0, b.describe()
