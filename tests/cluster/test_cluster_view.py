"""The cluster's logic without Redis: the view of other nodes' connections (notices,
snapshots, gaps, dropped nodes), the bounded ordered publisher, the wire format, and a
group's registry turning program operations into Redis commands and Redis messages into
deliveries to local connections."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from fluentai.effects.http_mapping import portable
from fluentai.runtime.values import display
from fluentai.server.cluster import ClusterNode, RemoteConnection
from fluentai.server.cluster_state import (
    ClusterView,
    Publisher,
    decode_frame,
    decode_notice,
    encode_frame,
    encode_notice,
    redacted,
)
from fluentai.server.connections import Connection, Outbox

# ---------------------------------------------------------------------- ClusterView


def test_join_and_leave_notices_build_the_view() -> None:
    view = ClusterView()
    assert view.join("n1", 1, "c1", {"path": "/"})  # first news of n1: fetch its snapshot
    assert not view.join("n1", 2, "c2", {"path": "/x"})
    assert view.join("n2", 1, "c3", {})  # a new node wants a snapshot too
    assert view.ids() == ["c1", "c2", "c3"]
    assert view.count() == 3
    assert view.lookup("c2") == ("n1", {"path": "/x"})
    assert not view.leave("n1", 3, "c1")
    assert view.ids() == ["c2", "c3"]
    assert view.lookup("c1") is None


def test_old_and_repeated_notices_are_ignored() -> None:
    view = ClusterView()
    view.join("n1", 1, "c1", {})
    view.leave("n1", 2, "c1")
    view.join("n1", 1, "c1", {})  # a late duplicate of the join: ignored
    assert view.ids() == []
    assert view.seen("n1") == 2


def test_a_gap_in_numbers_asks_for_a_snapshot_and_still_applies() -> None:
    view = ClusterView()
    view.join("n1", 1, "c1", {})
    assert view.join("n1", 4, "c4", {})  # 2 and 3 were missed
    assert view.ids() == ["c1", "c4"]


def test_a_snapshot_replaces_the_node_unless_the_view_knows_newer() -> None:
    view = ClusterView()
    view.join("n1", 5, "c1", {})
    assert not view.snapshot("n1", 4, {"old": {}})  # older than what the view knows
    assert view.ids() == ["c1"]
    assert view.snapshot("n1", 7, {"c2": {"a": 1}, "c3": {}})
    assert view.ids() == ["c2", "c3"]
    assert view.seen("n1") == 7
    view.leave("n1", 6, "c2")  # in flight before the snapshot: ignored
    assert view.ids() == ["c2", "c3"]
    view.leave("n1", 8, "c2")
    assert view.ids() == ["c3"]


def test_heartbeat_tells_whether_changes_were_missed() -> None:
    view = ClusterView()
    assert view.heartbeat("n1", 0)  # unknown node
    view.snapshot("n1", 3, {})
    assert not view.heartbeat("n1", 3)
    assert not view.heartbeat("n1", 2)
    assert view.heartbeat("n1", 4)


def test_dropping_a_node_removes_its_connections_only() -> None:
    view = ClusterView()
    view.snapshot("n1", 1, {"a": {}, "b": {}})
    view.snapshot("n2", 1, {"c": {}})
    assert view.drop("n1") == 2
    assert view.ids() == ["c"]
    assert view.lookup("a") is None
    assert view.drop("n1") == 0
    view.clear()
    assert view.count() == 0 and view.ids() == []


def test_a_connection_id_belongs_to_one_node_at_a_time() -> None:
    view = ClusterView()
    view.snapshot("n1", 1, {"a": {}})
    view.snapshot("n2", 1, {"a": {}})
    assert view.ids() == ["a"] and view.lookup("a") == ("n2", {})
    view.drop("n1")
    assert view.lookup("a") == ("n2", {})


# ---------------------------------------------------------------------- wire format


def test_frames_round_trip_text_and_binary() -> None:
    for frame in ["hello", "", "é ✓ \n newline", b"\x00\xff bytes\n"]:
        key, back = decode_frame(encode_frame(b"S", "conn-1", frame))
        assert key == "conn-1" and back == frame and type(back) is type(frame)


def test_notices_round_trip() -> None:
    notice = {"t": "join", "n": "abc", "s": 3, "c": "x", "i": {"meta": {"k": "ü"}}}
    data = encode_notice(notice)
    assert data.startswith(b"J\n")
    assert decode_notice(data) == notice


def test_portable_values_and_redacted_urls() -> None:
    assert portable({"a": [1, 2.5, None, True], 3: "x"}) == {"a": [1, 2.5, None, True], "3": "x"}
    odd = portable({"x": float("nan"), "y": b"z"})
    assert odd == {"x": display(float("nan")), "y": display(b"z")}
    assert json.dumps(odd)  # always JSON-able
    assert redacted("redis://:secret@host:6379/0") == "redis://:***@host:6379/0"
    assert redacted("redis://user:pw@host/1") == "redis://user:***@host/1"
    assert redacted("redis://host:6379") == "redis://host:6379"


# ---------------------------------------------------------------------- Publisher


async def test_publisher_runs_commands_in_order_in_batches() -> None:
    pub = Publisher()
    pub.connected = True
    seen: list[list[Any]] = []

    async def execute(commands: list[Any]) -> list[Any]:
        seen.append(list(commands))
        await asyncio.sleep(0)
        return [1] * len(commands)

    loop = asyncio.get_running_loop()
    waiter: asyncio.Future[int] = loop.create_future()
    for i in range(5):
        assert pub.offer(("PUBLISH", "ch", i), size=1)
    assert pub.offer(("PUBLISH", "ch", 5), waiter=waiter)
    task = loop.create_task(pub.run(execute))
    assert await asyncio.wait_for(waiter, 2) == 1
    assert await pub.flush(2)
    assert [c[2] for batch in seen for c in batch] == [0, 1, 2, 3, 4, 5]
    task.cancel()


async def test_publisher_drops_messages_when_disconnected_or_full() -> None:
    pub = Publisher(limit=3, limit_bytes=100)
    waiter: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    assert not pub.offer(("PUBLISH", "ch", "x"), waiter=waiter)  # not connected: dropped
    assert waiter.result() == 0
    pub.connected = True
    assert all(pub.offer(("PUBLISH", "ch", i), size=10) for i in range(3))
    assert not pub.offer(("PUBLISH", "ch", 3), size=10)  # count bound
    assert pub.offer(("SET", "k", 1), essential=True)  # registration passes the bound
    assert pub.dropped == 2
    pub.disconnect()
    assert len(pub) == 0 and pub.items == 0 and pub.bytes == 0
    pub.connected = True
    assert not pub.offer(("PUBLISH", "ch", "big"), size=101)  # byte bound


async def test_publisher_failure_settles_waiters_with_zero() -> None:
    pub = Publisher()
    pub.connected = True
    waiter: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    pub.offer(("PUBLISH", "ch", "x"), waiter=waiter)

    async def execute(commands: list[Any]) -> list[Any]:
        raise ConnectionError("gone")

    with pytest.raises(ConnectionError):
        await pub.run(execute)
    assert waiter.result() == 0


# ---------------------------------------------------------------------- a group's registry


class Sink:
    def __init__(self) -> None:
        self.frames: list[Any] = []

    async def write(self, item: Any) -> None:
        self.frames.append(item)


def local_connection(cid: str, sink: Sink) -> Connection:
    return Connection(id=cid, server_id="server_1", path="/", remote_address="127.0.0.1:1",
                      headers={}, subprotocol=None, connected_at=0,
                      outbox=Outbox(10, direct=sink.write))


def commands(node: ClusterNode) -> list[tuple[Any, ...]]:
    out = [p.command for p in node.publisher.queue]
    node.publisher.queue.clear()
    return out


async def test_group_registry_announces_local_connections_and_reaches_remote_ones() -> None:
    node = ClusterNode("redis://127.0.0.1:1/0", lambda text: None, portable)
    node.publisher.connected = True
    from fluentai.server.cluster import ClusterGroup

    group = ClusterGroup(node, "8080", "server_1")
    node.groups["8080"] = group
    reg = group.registry
    sink = Sink()
    conn = local_connection("local-1", sink)
    conn.outbox.writer_idle = True
    reg.add(conn)
    hset, publish = commands(node)
    assert hset[:3] == ("HSET", "fluentai:8080:conns:" + node.node_id, "local-1")
    assert publish[0] == "PUBLISH" and decode_notice(publish[2])["t"] == "join"

    # Another node's connections come from notices.
    group.on_message(group.all_channel, encode_notice(
        {"t": "join", "n": "other", "s": 1, "c": "remote-1", "i": {"server_id": "server_2"}}))
    assert reg.group_ids() == ["local-1", "remote-1"]
    assert reg.group_count() == 2 and len(reg) == 1
    remote = reg.lookup("remote-1")
    assert isinstance(remote, RemoteConnection) and remote.node == "other"
    assert reg.info(remote)["node"] == "other"
    assert reg.info(conn)["node"] == node.node_id

    # A send to it is published on its node's channel; a broadcast on the group channel,
    # counting the local connection and the remote one.
    assert reg.send_nowait(remote, "hi")
    (cmd,) = commands(node)
    assert cmd[:2] == ("PUBLISH", b"fluentai:8080:node:other")
    assert decode_frame(cmd[2]) == ("remote-1", "hi")
    assert reg.group_broadcast("all") == 2
    (cmd,) = commands(node)
    assert cmd[1] == group.all_channel and decode_frame(cmd[2]) == (node.node_id, "all")
    await asyncio.sleep(0)
    assert sink.frames == ["all"]

    # Messages from other nodes reach the local connection; this node's own broadcast,
    # echoed by Redis, does not (it was delivered locally already).
    group.on_message(group.my_channel, encode_frame(b"S", "local-1", b"\x01"))
    group.on_message(group.all_channel, encode_frame(b"B", "other", "from other"))
    group.on_message(group.all_channel, encode_frame(b"B", node.node_id, "echo"))
    await asyncio.sleep(0)
    assert sink.frames == ["all", b"\x01", "from other"]

    # A close request for a local connection closes it; a remote close is published.
    remote.outbox.close(4000, "bye")
    (cmd,) = commands(node)
    assert decode_notice(cmd[2]) == {"t": "close", "c": "remote-1", "code": 4000, "reason": "bye"}
    group.on_message(group.my_channel, encode_notice({"t": "close", "c": "local-1",
                                                      "code": 4001, "reason": "x"}))
    assert conn.outbox.closing is not None and conn.outbox.closing.code == 4001

    # Leaving, and another node's goodbye.
    reg.remove("local-1")
    hdel, seq, leave = commands(node)
    assert hdel[0] == "HDEL" and seq[:3] == ("HSET", hdel[1], "_seq")
    assert decode_notice(leave[2])["t"] == "leave"
    group.on_message(group.all_channel, encode_notice({"t": "bye", "n": "other"}))
    assert reg.group_ids() == [] and reg.group_count() == 0


async def test_while_disconnected_remote_sends_are_dropped_and_broadcast_counts_local_only() -> None:
    node = ClusterNode("redis://127.0.0.1:1/0", lambda text: None, portable)
    from fluentai.server.cluster import ClusterGroup

    group = ClusterGroup(node, "g", "server_1")
    reg = group.registry
    sink = Sink()
    conn = local_connection("local-1", sink)
    reg.add(conn)  # not connected: nothing queued (rejoining re-registers everything)
    assert len(node.publisher) == 0
    group.view.snapshot("other", 1, {"remote-1": {}})
    remote = reg.lookup("remote-1")
    assert reg.send_nowait(remote, "lost") is False
    assert await reg.put(remote, "lost") is False
    assert reg.group_broadcast("local only") == 1
    assert len(node.publisher) == 0


def test_registration_rewrites_everything_and_numbers_it() -> None:
    node = ClusterNode("redis://127.0.0.1:1/0", lambda text: None, portable)
    from fluentai.server.cluster import ClusterGroup

    group = ClusterGroup(node, "g", "server_1")
    group.registry.connections["c1"] = local_connection("c1", Sink())
    cmds = group.registration()
    names = [c[0] for c in cmds]
    assert names == ["DEL", "HSET", "PEXPIRE", "SET", "SADD", "PUBLISH"]
    assert cmds[1][2:4] == ("_seq", group.seq) and cmds[1][4] == "c1"
    assert decode_notice(cmds[-1][2]) == {"t": "hello", "n": node.node_id, "s": group.seq}
    beat = group.heartbeat()
    assert beat[0] == ("SET", group.hb_key, group.seq, "PX", 3000)
    assert beat[-1][2] == b"H %s %d" % (node.node_id.encode(), group.seq)
