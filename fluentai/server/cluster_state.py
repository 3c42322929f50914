"""What crosses Redis and what one node knows of the others: the tunables, the wire format
of frames and notices, `ClusterView` (the other nodes' connections, kept consistent from
numbered notices and snapshots) and `Publisher` (the bounded, ordered queue of everything
a node publishes). Pure logic, tested without Redis; `cluster` puts it to work.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .connections import Outgoing

HEARTBEAT_S = 1.0          # heartbeat and refresh period
TTL_S = 3.0                # a node whose heartbeat is older than this is gone
MAX_PENDING = 10_000       # messages waiting to be published (beyond: dropped, sends false)
MAX_PENDING_BYTES = 16 * 1024 * 1024
BATCH = 512                # commands per pipeline
BACKOFF_START_S = 0.2
BACKOFF_MAX_S = 5.0
CONNECT_TIMEOUT_S = 2.0
FIRST_JOIN_WAIT_S = 5.0    # `listen` waits this long at most for the first registration
CLOSE_FLUSH_S = 2.0        # at shutdown, for leave notices and the goodbye

# Deletes a node from the group's set only if its heartbeat is really gone (it may be
# rejoining at this very moment: then it keeps its place).
_FORGET_SCRIPT = """
if redis.call('exists', KEYS[1]) == 0 then return redis.call('srem', KEYS[2], ARGV[1]) end
return 0
"""

Command = tuple[Any, ...]
Report = Callable[[str], None]
# Turns a connection's meta and info into JSON-able data (given by the effects).
Portable = Callable[[Any], Any]


def redacted(url: str) -> str:
    """A Redis URL fit for a log line: without its password."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid URL>"
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))


# ---------------------------------------------------------------------------- wire format
# A payload starts with a kind byte. Frames carry a one-line header and the raw frame:
#   B <origin node>[?<meta key>] t|b \n <frame>   broadcast (text or binary), on the group
#                                       channel; with a meta key, only to connections having it
#   S <conn id> t|b \n <frame>          a send to one connection, on its node's channel
#   H <node> <seq>                      heartbeat, on the group channel
#   J \n <json>                         notices and requests (see ClusterGroup.on_notice)


def encode_frame(kind: bytes, key: str, frame: Outgoing) -> bytes:
    if isinstance(frame, str):
        return b"%s %s t\n%s" % (kind, key.encode(), frame.encode("utf-8", "surrogatepass"))
    return b"%s %s b\n%s" % (kind, key.encode(), frame)


def decode_frame(data: bytes) -> tuple[str, Outgoing]:
    """(key, frame) of an encoded B or S payload."""
    head, _, body = data.partition(b"\n")
    _, key, t = head.split(b" ")
    return key.decode(), (body.decode("utf-8", "surrogatepass") if t == b"t" else body)


def encode_notice(notice: dict[str, Any]) -> bytes:
    return b"J\n" + json.dumps(notice, ensure_ascii=False, separators=(",", ":")).encode()


def decode_notice(data: bytes) -> dict[str, Any]:
    notice = json.loads(data[2:])
    if type(notice) is not dict:
        raise ValueError("a notice is a JSON object")
    return notice


# ---------------------------------------------------------------------------- the view


@dataclass
class NodeState:
    seq: int = 0
    conns: dict[str, dict[str, Any]] = field(default_factory=dict)  # conn id → info


class ClusterView:
    """The connections of the other nodes of one group, as this node knows them.

    Each node numbers its changes (`seq`); notices carry the number, snapshots (a node's
    hash in Redis) carry the number they reflect. A notice or snapshot older than what is
    known is ignored, so the two sources can arrive in any order. A notice that skips a
    number, or comes from a node not known yet, means something was missed: the node is
    then reported as needing a snapshot."""

    def __init__(self) -> None:
        self.nodes: dict[str, NodeState] = {}
        self.index: dict[str, str] = {}  # conn id → node id

    def __len__(self) -> int:
        return len(self.index)

    def count(self, meta: str | None = None) -> int:
        if meta is None:
            return len(self.index)
        return sum(1 for state in self.nodes.values() for data in state.conns.values()
                   if type(data.get("meta")) is dict and meta in data["meta"])

    def ids(self) -> list[str]:
        return [cid for state in self.nodes.values() for cid in state.conns]

    def lookup(self, conn_id: str) -> tuple[str, dict[str, Any]] | None:
        node = self.index.get(conn_id)
        if node is None:
            return None
        return node, self.nodes[node].conns[conn_id]

    def seen(self, node: str) -> int | None:
        state = self.nodes.get(node)
        return None if state is None else state.seq

    def _advance(self, node: str, seq: int) -> tuple[NodeState | None, bool]:
        """(the node's state if the change with number `seq` is new, whether to fetch a
        snapshot because changes were missed)."""
        state = self.nodes.get(node)
        if state is None:
            state = self.nodes[node] = NodeState(seq)
            return state, True
        if seq <= state.seq:
            return None, False
        gap = seq > state.seq + 1
        state.seq = seq
        return state, gap

    def join(self, node: str, seq: int, conn_id: str, info: dict[str, Any]) -> bool:
        """Apply a join (or an update of a connection's info); True when a snapshot of the
        node is needed."""
        state, gap = self._advance(node, seq)
        if state is not None:
            other = self.index.get(conn_id)
            if other is not None and other != node:
                self.nodes[other].conns.pop(conn_id, None)
            state.conns[conn_id] = info
            self.index[conn_id] = node
        return gap

    def leave(self, node: str, seq: int, conn_id: str) -> bool:
        state, gap = self._advance(node, seq)
        if state is not None and state.conns.pop(conn_id, None) is not None:
            del self.index[conn_id]
        return gap

    def heartbeat(self, node: str, seq: int) -> bool:
        """True when the node has changes this view has not seen (or is unknown)."""
        seen = self.seen(node)
        return seen is None or seq > seen

    def snapshot(self, node: str, seq: int, conns: dict[str, dict[str, Any]]) -> bool:
        """Replace what is known of `node` by a snapshot reflecting its changes up to
        `seq`; ignored (False) when the view already knows newer changes."""
        state = self.nodes.get(node)
        if state is not None and seq < state.seq:
            return False
        self.drop(node)
        self.nodes[node] = NodeState(seq, dict(conns))
        for cid in conns:
            other = self.index.get(cid)
            if other is not None:
                self.nodes[other].conns.pop(cid, None)
            self.index[cid] = node
        return True

    def drop(self, node: str) -> int:
        """Forget a node (gone, or said goodbye); how many connections went with it."""
        state = self.nodes.pop(node, None)
        if state is None:
            return 0
        for cid in state.conns:
            if self.index.get(cid) == node:
                del self.index[cid]
        return len(state.conns)

    def clear(self) -> None:
        self.nodes.clear()
        self.index.clear()


# ---------------------------------------------------------------------------- publisher


@dataclass(slots=True)
class Pending:
    command: Command
    size: int
    essential: bool
    waiter: asyncio.Future[int] | None


def _settle(waiter: asyncio.Future[int] | None, value: int) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(value)


class Publisher:
    """The ordered way out to Redis: commands run in the order offered, in pipelined
    batches, by `run` (one task per connected session).

    Messages (sends, broadcasts) are bounded by count and bytes: beyond, or whenever the
    node is not connected, they are dropped and the offer says so. Essential commands
    (registration, notices, heartbeats: a handful per connection change) pass the bound
    while connected; while disconnected they are dropped too, since reconnecting
    re-registers everything from the node's own state."""

    def __init__(self, limit: int = MAX_PENDING, limit_bytes: int = MAX_PENDING_BYTES) -> None:
        self.limit = limit
        self.limit_bytes = limit_bytes
        self.queue: deque[Pending] = deque()
        self.connected = False
        self.items = 0       # messages (not essential commands) queued
        self.bytes = 0
        self.dropped = 0     # messages dropped since the start
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()

    def __len__(self) -> int:
        return len(self.queue)

    def offer(self, command: Command, *, size: int = 0, essential: bool = False,
              waiter: asyncio.Future[int] | None = None) -> bool:
        if not self.connected or (not essential and (
                self.items >= self.limit or self.bytes + size > self.limit_bytes)):
            if not essential:
                self.dropped += 1
            _settle(waiter, 0)
            return False
        self.queue.append(Pending(command, size, essential, waiter))
        if not essential:
            self.items += 1
            self.bytes += size
        self._idle.clear()
        self._wake.set()
        return True

    def _take(self, n: int) -> list[Pending]:
        batch = []
        queue = self.queue
        for _ in range(min(n, len(queue))):
            item = queue.popleft()
            if not item.essential:
                self.items -= 1
                self.bytes -= item.size
            batch.append(item)
        return batch

    async def run(self, execute: Callable[[list[Command]], Awaitable[list[Any]]]) -> None:
        """Drain the queue through `execute` until it raises (the connection is lost)."""
        while True:
            if not self.queue:
                self._idle.set()
                self._wake.clear()
                await self._wake.wait()
                continue
            batch = self._take(BATCH)
            try:
                results = await execute([p.command for p in batch])
            except BaseException:
                for p in batch:
                    _settle(p.waiter, 0)
                raise
            for p, result in zip(batch, results, strict=False):
                _settle(p.waiter, result if type(result) is int else 0)

    def disconnect(self) -> None:
        """The connection is gone: drop everything queued (its waiters get 0)."""
        self.connected = False
        while self.queue:
            _settle(self.queue.popleft().waiter, 0)
        self.items = 0
        self.bytes = 0
        self._idle.set()

    async def flush(self, timeout: float) -> bool:
        """Wait until everything queued has run (or `timeout`); True when it has."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True
