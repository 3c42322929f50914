"""Clustering: several fluentai processes, on one machine or many, serving as one server.

Imported only when a program runs with `--cluster redis://…` (or FLUENTAI_CLUSTER); redis-py
is imported only when the node first connects. docs/scaling.md is the user's side of this.

This module holds what talks to Redis; `cluster_state` holds the pure logic it builds on
(the wire format, `ClusterView` — what one node knows of the other nodes' connections — and
`Publisher`, the node's single, ordered, bounded way out to Redis). Here, from the bottom up:

- `ClusterRegistry`: a `connections.Registry` whose group is every node's; connections of
  other nodes appear as `RemoteConnection`s whose outbox publishes to their node.
- `ClusterGroup`: one logical server (a `listen` option `cluster`, default the port the
  program asked for) as seen from this node: its keys, channels, view and registry.
- `ClusterNode`: the process's connection to Redis: subscriber, publisher, heartbeat and
  refresh, reconnection with backoff.

Redis layout for group G and node N (all names start with `fluentai:G:`):

    nodes        set of node ids that joined (cleaned up once their heartbeat is gone)
    hb:N         N's heartbeat: its change counter (seq), expires TTL_S after the last beat
    conns:N      hash conn id → info JSON, plus "_seq"; expires like the heartbeat
    all          channel: notices (join, leave, meta, hello, bye, heartbeat) and broadcasts
    node:N       channel: sends and close / meta requests for N's connections

Order: one publisher connection, batches in order, one subscriber connection for both of a
node's channels, so whatever one node sends to one connection arrives in the order sent.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections.abc import Iterable
from typing import Any

from .cluster_state import (
    _FORGET_SCRIPT,
    BACKOFF_MAX_S,
    BACKOFF_START_S,
    CLOSE_FLUSH_S,
    CONNECT_TIMEOUT_S,
    FIRST_JOIN_WAIT_S,
    HEARTBEAT_S,
    TTL_S,
    ClusterView,
    Command,
    Portable,
    Publisher,
    Report,
    decode_frame,
    decode_notice,
    encode_frame,
    encode_notice,
    redacted,
)
from .connections import Connection, Outgoing, Registry

# ---------------------------------------------------------------------------- registry


class RemoteOutbox:
    """The outbox of a connection held by another node: frames and close requests are
    published on that node's channel. It never fills (the remote node's buffer does: a
    full one closes the connection with 1013 there, as for a local `ws_send`)."""

    closing = None

    def __init__(self, group: ClusterGroup, conn: RemoteConnection) -> None:
        self.group = group
        self.conn = conn

    def __len__(self) -> int:
        return 0

    def offer(self, frame: Outgoing) -> bool:
        return self.group.send_to(self.conn, frame)

    async def put(self, frame: Outgoing) -> bool:
        return await self.group.send_to_wait(self.conn, frame)

    def close(self, code: int, reason: str, discard: bool = False) -> None:
        self.group.request(self.conn, {"t": "close", "c": self.conn.id, "code": code,
                                       "reason": reason})


class RemoteConnection:
    """A connection held by another node of the group, as the cluster view shows it."""

    def __init__(self, group: ClusterGroup, conn_id: str, node: str, data: dict[str, Any]) -> None:
        self.id = conn_id
        self.node = node
        self.data = data
        self.server_id = str(data.get("server_id", ""))
        self.outbox = RemoteOutbox(group, self)

    @property
    def meta(self) -> dict[str, Any]:
        meta = self.data.get("meta")
        if type(meta) is not dict:
            meta = self.data["meta"] = {}
        return meta

    def info(self) -> dict[str, Any]:
        info = dict(self.data)
        info["id"] = self.id
        return info


class ClusterRegistry(Registry):
    """The registry of a server that is one node of a cluster group: the local
    connections as in `Registry` (limits, shutdown and `len` stay local), and the group's
    view for everything the effects ask (`lookup`, `group_*`, `put`, `info`, `set_meta`)."""

    def __init__(self, server_id: str, group: ClusterGroup) -> None:
        super().__init__(server_id)
        self.group = group

    def add(self, conn: Connection) -> None:
        super().add(conn)
        self.group.local_changed("join", conn)

    def remove(self, conn_id: str) -> None:
        conn = self.connections.pop(conn_id, None)
        if conn is not None:
            self.group.local_left(conn_id)

    def lookup(self, conn_id: str) -> Any:
        conn = self.connections.get(conn_id)
        if conn is not None:
            return conn
        return self.group.remote(conn_id)

    def group_ids(self) -> list[str]:
        return [*self.connections, *self.group.view.ids()]

    def group_count(self) -> int:
        return len(self.connections) + self.group.view.count()

    def send_nowait(self, conn: Any, frame: Outgoing) -> bool:
        if type(conn) is RemoteConnection:
            return self.group.send_to(conn, frame)
        return super().send_nowait(conn, frame)

    async def put(self, conn: Any, frame: Outgoing) -> bool:
        if type(conn) is RemoteConnection:
            return await self.group.send_to_wait(conn, frame)
        return await conn.outbox.put(frame)

    def group_broadcast(self, frame: Outgoing, meta: str | None = None) -> int:
        """Local connections it was queued for, plus the connections of the other nodes
        (as this node's view lists them) when the message was handed to Redis. With `meta`,
        only connections whose meta has that key, here and on every node."""
        count = self.broadcast(frame, meta)
        remote = self.group.view.count(meta)
        if self.group.publish_broadcast(frame, meta):
            count += remote
        return count

    def info(self, conn: Any) -> dict[str, Any]:
        info = conn.info()
        info["node"] = conn.node if type(conn) is RemoteConnection else self.group.node.node_id
        return info

    def set_meta(self, conn: Any, key: str, value: Any) -> None:
        if type(conn) is RemoteConnection:
            self.group.request(conn, {"t": "set_meta", "c": conn.id, "k": key,
                                      "v": self.group.node.portable(value)})
            if value is None:
                conn.meta.pop(key, None)
            else:
                conn.meta[key] = self.group.node.portable(value)  # this node sees it at once; the owner confirms
            return
        super().set_meta(conn, key, value)
        self.group.local_changed("meta", conn)


# ---------------------------------------------------------------------------- group


class ClusterGroup:
    """One logical server (group `name`) as seen from this node."""

    def __init__(self, node: ClusterNode, name: str, server_id: str) -> None:
        self.node = node
        self.name = name
        self.server_id = server_id
        self.view = ClusterView()
        self.registry = ClusterRegistry(server_id, self)
        self.seq = 0
        self.dirty: set[str] = set()  # nodes whose snapshot is needed
        self.ready = asyncio.Event()  # registered and refreshed at least once
        me = node.node_id
        prefix = f"fluentai:{name}:"
        self.nodes_key = prefix + "nodes"
        self.hb_prefix = prefix + "hb:"
        self.conns_prefix = prefix + "conns:"
        self.hb_key = self.hb_prefix + me
        self.conns_key = self.conns_prefix + me
        self.all_channel = (prefix + "all").encode()
        self.node_prefix = prefix + "node:"
        self.my_channel = (self.node_prefix + me).encode()
        self._ttl_ms = int(TTL_S * 1000)

    @property
    def channels(self) -> tuple[bytes, bytes]:
        return (self.all_channel, self.my_channel)

    # ------------------------------------------------------------ local changes → Redis
    def _info_json(self, conn: Connection) -> str:
        info = self.node.portable(conn.info())
        info.pop("id", None)
        return json.dumps(info, ensure_ascii=False, separators=(",", ":"))

    def local_changed(self, kind: str, conn: Connection) -> None:
        """A connection joined, or its meta changed: record it and tell the group."""
        self.seq += 1
        info = self._info_json(conn)
        publisher = self.node.publisher
        if publisher.offer(("HSET", self.conns_key, conn.id, info, "_seq", self.seq),
                           essential=True):
            notice = (b'J\n{"t":"%s","n":"%s","s":%d,"c":%s,"i":%s}'
                      % (kind.encode(), self.node.node_id.encode(), self.seq,
                         json.dumps(conn.id).encode(), info.encode()))
            publisher.offer(("PUBLISH", self.all_channel, notice), essential=True)

    def local_left(self, conn_id: str) -> None:
        self.seq += 1
        publisher = self.node.publisher
        if publisher.offer(("HDEL", self.conns_key, conn_id), essential=True):
            publisher.offer(("HSET", self.conns_key, "_seq", self.seq), essential=True)
            publisher.offer(("PUBLISH", self.all_channel, encode_notice(
                {"t": "leave", "n": self.node.node_id, "s": self.seq, "c": conn_id})),
                essential=True)

    def registration(self) -> list[Command]:
        """Everything the group must know of this node, written from scratch (joining, and
        rejoining after an outage)."""
        self.seq += 1
        fields: list[Any] = ["_seq", self.seq]
        for conn in self.registry.connections.values():
            fields += [conn.id, self._info_json(conn)]
        me = self.node.node_id
        return [
            ("DEL", self.conns_key),
            ("HSET", self.conns_key, *fields),
            ("PEXPIRE", self.conns_key, self._ttl_ms),
            ("SET", self.hb_key, self.seq, "PX", self._ttl_ms),
            ("SADD", self.nodes_key, me),
            ("PUBLISH", self.all_channel, encode_notice({"t": "hello", "n": me, "s": self.seq})),
        ]

    def heartbeat(self) -> list[Command]:
        me = self.node.node_id
        return [
            ("SET", self.hb_key, self.seq, "PX", self._ttl_ms),
            ("PEXPIRE", self.conns_key, self._ttl_ms),
            ("SADD", self.nodes_key, me),
            ("PUBLISH", self.all_channel, b"H %s %d" % (me.encode(), self.seq)),
        ]

    def goodbye(self) -> list[Command]:
        me = self.node.node_id
        return [
            ("PUBLISH", self.all_channel, encode_notice({"t": "bye", "n": me})),
            ("DEL", self.hb_key, self.conns_key),
            ("SREM", self.nodes_key, me),
        ]

    # ------------------------------------------------------------ sending to other nodes
    def remote(self, conn_id: str) -> RemoteConnection | None:
        found = self.view.lookup(conn_id)
        if found is None:
            return None
        node, data = found
        return RemoteConnection(self, conn_id, node, data)

    def _node_channel(self, node: str) -> bytes:
        return (self.node_prefix + node).encode()

    def send_to(self, conn: RemoteConnection, frame: Outgoing) -> bool:
        payload = encode_frame(b"S", conn.id, frame)
        return self.node.publisher.offer(("PUBLISH", self._node_channel(conn.node), payload),
                                         size=len(payload))

    async def send_to_wait(self, conn: RemoteConnection, frame: Outgoing) -> bool:
        """True once Redis has delivered the message to the connection's node."""
        payload = encode_frame(b"S", conn.id, frame)
        waiter: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.node.publisher.offer(("PUBLISH", self._node_channel(conn.node), payload),
                                  size=len(payload), waiter=waiter)
        return await waiter > 0

    def publish_broadcast(self, frame: Outgoing, meta: str | None = None) -> bool:
        # The filter travels in the key: "<origin node>" or "<origin node>?<meta key>".
        key = self.node.node_id if meta is None else f"{self.node.node_id}?{meta}"
        payload = encode_frame(b"B", key, frame)
        return self.node.publisher.offer(("PUBLISH", self.all_channel, payload),
                                         size=len(payload))

    def request(self, conn: RemoteConnection, request: dict[str, Any]) -> bool:
        payload = encode_notice(request)
        return self.node.publisher.offer(("PUBLISH", self._node_channel(conn.node), payload),
                                         size=len(payload))

    # ------------------------------------------------------------ messages from Redis
    def on_message(self, channel: bytes, data: bytes) -> None:
        kind = data[:1]
        if kind == b"B":
            key, frame = decode_frame(data)
            origin, _, meta = key.partition("?")
            if origin != self.node.node_id:
                self.registry.broadcast(frame, meta or None)
        elif kind == b"S":
            conn_id, frame = decode_frame(data)
            conn = self.registry.get(conn_id)
            if conn is not None:
                self.registry.send_nowait(conn, frame)
        elif kind == b"H":
            _, node, seq = data.split(b" ")
            name = node.decode()
            if name != self.node.node_id and self.view.heartbeat(name, int(seq)):
                self.want_snapshot(name)
        elif kind == b"J":
            self.on_notice(decode_notice(data), channel == self.my_channel)

    def on_notice(self, notice: dict[str, Any], to_me: bool) -> None:
        t = notice.get("t")
        if to_me:
            conn = self.registry.get(str(notice.get("c")))
            if conn is None:
                return
            if t == "close":
                code, reason = notice.get("code"), notice.get("reason")
                conn.outbox.close(code if type(code) is int else 1000,
                                  reason if type(reason) is str else "")
            elif t == "set_meta" and type(notice.get("k")) is str:
                self.registry.set_meta(conn, notice["k"], notice.get("v"))
            return
        node = notice.get("n")
        if type(node) is not str or node == self.node.node_id:
            return
        seq = notice.get("s")
        if t in ("join", "meta") and type(seq) is int:
            info = notice.get("i")
            if self.view.join(node, seq, str(notice.get("c")), info if type(info) is dict else {}):
                self.want_snapshot(node)
        elif t == "leave" and type(seq) is int:
            if self.view.leave(node, seq, str(notice.get("c"))):
                self.want_snapshot(node)
        elif t == "hello":
            self.want_snapshot(node)
        elif t == "bye":
            self.view.drop(node)
            self.dirty.discard(node)

    def want_snapshot(self, node: str) -> None:
        self.dirty.add(node)
        self.node.wake_refresh()

    # ------------------------------------------------------------ refresh from Redis keys
    async def refresh(self, client: Any, full: bool = False) -> None:
        """Bring the view in line with Redis: drop nodes whose heartbeat is gone, fetch
        snapshots of nodes with changes the view missed (all of them when `full`)."""
        me = self.node.node_id
        known = set(self.view.nodes)
        members = {m.decode() if type(m) is bytes else str(m)
                   for m in await client.smembers(self.nodes_key)}
        candidates = sorted((members | known) - {me})
        if candidates:
            pipe = client.pipeline(transaction=False)
            for m in candidates:
                pipe.get(self.hb_prefix + m)
            beats = await pipe.execute()
        else:
            beats = []
        alive: dict[str, int] = {}
        for m, beat in zip(candidates, beats, strict=True):
            if beat is not None:
                alive[m] = int(beat)
        for m in known - alive.keys():
            self.view.drop(m)  # its heartbeat expired (or it left): its connections go
            self.dirty.discard(m)
        for m in members - alive.keys() - {me}:
            await client.eval(_FORGET_SCRIPT, 2, self.hb_prefix + m, self.nodes_key, m)
        wanted = [m for m, seq in alive.items()
                  if full or m in self.dirty or self.view.heartbeat(m, seq)]
        if not wanted:
            return
        pipe = client.pipeline(transaction=False)
        for m in wanted:
            pipe.hgetall(self.conns_prefix + m)
        hashes = await pipe.execute()
        for m, raw in zip(wanted, hashes, strict=True):
            self.dirty.discard(m)
            conns: dict[str, dict[str, Any]] = {}
            seq = 0
            for k, v in raw.items():
                key = k.decode() if type(k) is bytes else str(k)
                if key == "_seq":
                    seq = int(v)
                    continue
                try:
                    info = json.loads(v)
                except ValueError:
                    continue
                conns[key] = info if type(info) is dict else {}
            if raw:
                self.view.snapshot(m, seq, conns)


# ---------------------------------------------------------------------------- node


class ClusterNode:
    """This process in the cluster: one Redis client (a publisher pipeline and the refresh
    reads), one subscriber, and the groups its servers joined."""

    def __init__(self, url: str, report: Report, portable: Portable) -> None:
        self.url = url
        self.report = report
        # Connection meta and info as JSON-able data for the other nodes: the program's
        # values are the effects' business, not the transport's.
        self.portable = portable
        self.node_id = uuid.uuid4().hex[:12]
        self.groups: dict[str, ClusterGroup] = {}
        self.publisher = Publisher()
        self.connected = False
        self.client: Any = None
        self.pubsub: Any = None
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._attempted = asyncio.Event()  # the first connection attempt has finished
        self._refresh_wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._channels: dict[bytes, ClusterGroup] = {}
        self._confirm: dict[bytes, asyncio.Event] = {}
        self._last_received = 0.0
        self._outage: str | None = None  # the outage reported, until rejoined
        self._outage_first = False  # it was the first attempt (never connected yet)
        self._expire: asyncio.TimerHandle | None = None
        self._receiver: asyncio.Task[None] | None = None
        self._entering: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------ groups
    async def join(self, name: str, server_id: str) -> ClusterRegistry:
        """Join group `name` with the server `server_id`; its registry. Waits (a few
        seconds at most) for the registration when Redis is reachable; otherwise the
        server serves its own connections and the node keeps trying in the background."""
        if name in self.groups:
            raise ValueError(f"cluster group '{name}' is already served by "
                             f"{self.groups[name].server_id} in this process")
        group = ClusterGroup(self, name, server_id)
        self.groups[name] = group
        for ch in group.channels:
            self._channels[ch] = group
        if self._task is None:
            self._closing = False
            self._task = asyncio.get_running_loop().create_task(self._supervise())
        entering = asyncio.get_running_loop().create_task(self._enter_soon(group))
        self._entering.add(entering)
        entering.add_done_callback(self._entering.discard)
        try:
            # shielded: a registration half done would leave the group unregistered
            await asyncio.wait_for(asyncio.shield(entering), FIRST_JOIN_WAIT_S)
        except TimeoutError:
            pass
        return group.registry

    async def _enter_soon(self, group: ClusterGroup) -> None:
        """Once the first connection attempt is over: register `group` if connected and the
        session did not (it registers the groups it finds when it connects)."""
        await self._attempted.wait()
        try:
            await self._enter(group)
        except Exception:
            pass  # the session notices the lost connection and rejoins every group
        if self.connected:
            await group.ready.wait()

    async def leave(self, name: str) -> None:
        """The server of group `name` stopped: say goodbye to the group."""
        group = self.groups.pop(name, None)
        if group is None:
            return
        for ch in group.channels:
            self._channels.pop(ch, None)
        if not self.groups:
            await self._stop([group])  # no server left: the node leaves Redis altogether
            return
        if self.connected:
            for command in group.goodbye():
                self.publisher.offer(command, essential=True)
            await self.publisher.flush(CLOSE_FLUSH_S)
            try:
                await self.pubsub.unsubscribe(*group.channels)
            except Exception:
                pass

    async def close(self) -> None:
        """Shutdown: flush what is queued (leave notices), say goodbye, disconnect."""
        groups = list(self.groups.values())
        self.groups.clear()
        self._channels.clear()
        await self._stop(groups)

    async def _stop(self, groups: list[ClusterGroup]) -> None:
        self._closing = True
        if self.connected:
            for group in groups:
                for command in group.goodbye():
                    self.publisher.offer(command, essential=True)
            await self.publisher.flush(CLOSE_FLUSH_S)
        if self._expire is not None:
            self._expire.cancel()
            self._expire = None
        for task in [*self._entering, self._task]:
            if task is not None and not task.done():
                task.cancel()
                try:
                    await task
                except BaseException:
                    pass
        self._task = None
        self._attempted.clear()
        self._outage = None

    def wake_refresh(self) -> None:
        self._refresh_wake.set()

    # ------------------------------------------------------------ the session
    async def _supervise(self) -> None:
        backoff = BACKOFF_START_S
        while not self._closing:
            started = time.monotonic()
            error: BaseException
            try:
                await self._session()
                error = ConnectionError("the connection ended")
            except asyncio.CancelledError:
                raise
            except Exception as e:
                error = e
            self._attempted.set()
            if self._closing:
                return
            self._went_down(error)
            if time.monotonic() - started > 2 * TTL_S:
                backoff = BACKOFF_START_S  # it had been up: start over
            await asyncio.sleep(backoff * random.uniform(0.8, 1.2))
            backoff = min(backoff * 2, BACKOFF_MAX_S)

    def _new_client(self) -> Any:
        import redis.asyncio as aioredis  # only when clustering: see the module docstring
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        return aioredis.Redis.from_url(
            self.url,
            socket_connect_timeout=CONNECT_TIMEOUT_S,
            socket_timeout=TTL_S,
            retry=Retry(NoBackoff(), 0),  # this class does the reconnecting, and rejoins
            health_check_interval=0,
            client_name=f"fluentai-{self.node_id}",
        )

    async def _session(self) -> None:
        client = self._new_client()
        pubsub = None
        tasks: list[asyncio.Task[Any]] = []
        loop = asyncio.get_running_loop()
        try:
            await client.ping()
            pubsub = client.pubsub()
            async with self._lock:
                groups = list(self.groups.values())
                channels = [ch for g in groups for ch in g.channels]
                confirmed = self._expect(channels)
                if channels:
                    await pubsub.subscribe(*channels)
                self.client, self.pubsub = client, pubsub
                self._last_received = loop.time()
                self._receiver = loop.create_task(self._receive(pubsub))
                tasks.append(self._receiver)
                await self._confirmed(confirmed)
                self.publisher.connected = True
                tasks.append(loop.create_task(self.publisher.run(self._execute)))
                for g in groups:
                    for command in g.registration():
                        self.publisher.offer(command, essential=True)
                for g in groups:
                    await g.refresh(client, full=True)
                self.connected = True
                self._came_back()
                for g in groups:
                    g.ready.set()
            self._attempted.set()
            tasks.append(loop.create_task(self._tick()))
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for t in done:
                exc = t.exception()
                if exc is not None:
                    raise exc
        finally:
            self.connected = False
            self.publisher.disconnect()
            self.client = self.pubsub = self._receiver = None
            self._confirm.clear()
            for t in tasks:
                t.cancel()
            for t in tasks:
                try:
                    await t
                except BaseException:
                    pass
            await self._dispose(client, pubsub)

    async def _dispose(self, client: Any, pubsub: Any) -> None:
        async def close() -> None:
            if pubsub is not None:
                await pubsub.aclose() if hasattr(pubsub, "aclose") else await pubsub.close()
            await client.aclose() if hasattr(client, "aclose") else await client.close()

        try:
            await asyncio.wait_for(close(), 1.0)
        except BaseException:
            pass

    def _expect(self, channels: Iterable[bytes]) -> list[asyncio.Event]:
        events = []
        for ch in channels:
            event = self._confirm[ch] = asyncio.Event()
            events.append(event)
        return events

    async def _confirmed(self, events: list[asyncio.Event]) -> None:
        """Wait until Redis confirmed the subscriptions (so that whatever the group sends
        once it knows this node reaches it); raise if the receiver failed meanwhile."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CONNECT_TIMEOUT_S + TTL_S
        waits = {asyncio.ensure_future(e.wait()) for e in events}
        receiver = self._receiver
        try:
            while waits:
                left = deadline - loop.time()
                if left <= 0:
                    raise TimeoutError("Redis did not confirm the subscriptions")
                watch = {*waits, receiver} if receiver is not None else waits
                await asyncio.wait(watch, timeout=left, return_when=asyncio.FIRST_COMPLETED)
                if receiver is not None and receiver.done():
                    receiver.result()  # raises the receiver's error
                    raise ConnectionError("the subscription ended")
                waits = {w for w in waits if not w.done()}
        finally:
            for w in waits:
                w.cancel()

    async def _enter(self, group: ClusterGroup) -> None:
        """A group joined while connected: subscribe, register, refresh."""
        async with self._lock:
            if not self.connected or self.pubsub is None or group.ready.is_set():
                return
            if self.groups.get(group.name) is not group:
                return  # left meanwhile
            confirmed = self._expect(group.channels)
            await self.pubsub.subscribe(*group.channels)
            await self._confirmed(confirmed)
            for command in group.registration():
                self.publisher.offer(command, essential=True)
            await group.refresh(self.client, full=True)
            group.ready.set()

    async def _execute(self, commands: list[Command]) -> list[Any]:
        pipe = self.client.pipeline(transaction=False)
        for command in commands:
            pipe.execute_command(*command)
        return await pipe.execute(raise_on_error=False)

    async def _receive(self, pubsub: Any) -> None:
        loop = asyncio.get_running_loop()
        channels = self._channels
        async for message in pubsub.listen():
            self._last_received = loop.time()
            kind = message["type"]
            channel = message["channel"]
            if kind == "message":
                group = channels.get(channel)
                if group is None:
                    continue
                try:
                    group.on_message(channel, message["data"])
                except Exception:
                    pass  # a malformed message from some other program: ignored
            elif kind == "subscribe":
                event = self._confirm.pop(channel, None)
                if event is not None:
                    event.set()
        raise ConnectionError("the subscription ended")

    async def _tick(self) -> None:
        """Heartbeats every HEARTBEAT_S; refreshes then, and whenever a snapshot is
        wanted. A subscriber that heard nothing (not even this node's own heartbeats) for
        TTL_S is taken as a lost connection."""
        loop = asyncio.get_running_loop()
        next_beat = loop.time()
        while True:
            now = loop.time()
            if now >= next_beat:
                next_beat = now + HEARTBEAT_S
                for g in list(self.groups.values()):
                    for command in g.heartbeat():
                        self.publisher.offer(command, essential=True)
                if self.groups and now - self._last_received > TTL_S:
                    raise ConnectionError(f"no message from Redis for {TTL_S:g} s")
            self._refresh_wake.clear()
            for g in list(self.groups.values()):
                await g.refresh(self.client)
            try:
                await asyncio.wait_for(self._refresh_wake.wait(), max(0.0, next_beat - loop.time()))
            except TimeoutError:
                pass

    # ------------------------------------------------------------ outages
    def _went_down(self, error: BaseException) -> None:
        if self._outage is not None:
            return  # reported once per outage
        reason = str(error) or type(error).__name__
        first = not any(g.ready.is_set() for g in self.groups.values()) and self._expire is None
        what = "cannot reach" if first else "lost the connection to"
        self._outage = reason
        self._outage_first = first
        self.report(f"warning: cluster: {what} Redis at {redacted(self.url)} ({reason}); "
                    f"serving this node's connections only, reconnecting in the background\n")
        self._expire = asyncio.get_running_loop().call_later(TTL_S, self._forget_others)

    def _forget_others(self) -> None:
        """Down for a whole TTL: the other nodes' connections can no longer be vouched
        for (they consider this node gone too), so they leave the view."""
        if not self.connected:
            for group in self.groups.values():
                group.view.clear()

    def _came_back(self) -> None:
        if self._expire is not None:
            self._expire.cancel()
        if self._outage is not None:
            names = ", ".join(f"'{n}'" for n in self.groups)
            if self._outage_first:
                self.report(f"cluster: connected to Redis at {redacted(self.url)}; "
                            f"joined {names}\n")
            else:
                self.report(f"cluster: connected to Redis at {redacted(self.url)} again; "
                            f"rejoined {names}\n")
            self._outage = None
        self._expire = None


__all__ = ["ClusterNode", "ClusterRegistry", "ClusterView", "Publisher", "RemoteConnection"]
