"""WebSocket connections: the registry of one server, and each connection's bounded outbound
buffer, drained by a writer task so that no sender ever waits on a slow client.

Non-waiting sends (`offer`) on a full buffer close that connection with 1013 and report it
as not sent; waiting sends (`put`) wait for space. The registry is the seam a cluster
backend replaces (`cluster.ClusterRegistry`): everything the effects do to connections goes
through it. Its `group_*` methods, `lookup`, `put`, `info` and `set_meta` are what the
effects use; here the group is this one server, with a cluster it is every node's.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from ..runtime.tasks import resume

CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009
CLOSE_INTERNAL = 1011
CLOSE_TRY_LATER = 1013

Outgoing = str | bytes  # a text frame or a binary frame


class RateLimiter:
    """At most `messages` per sliding window of `per_ms` milliseconds."""

    def __init__(self, messages: int, per_ms: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.messages = messages
        self.window = per_ms / 1000
        self.clock = clock
        self.stamps: deque[float] = deque()

    def allow(self) -> bool:
        now = self.clock()
        stamps = self.stamps
        while stamps and now - stamps[0] >= self.window:
            stamps.popleft()
        if len(stamps) >= self.messages:
            return False
        stamps.append(now)
        return True


@dataclass
class Closing:
    code: int
    reason: str


@dataclass
class InFlight:
    """A write that started directly and had to wait: the writer task finishes it."""

    coro: Coroutine[Any, Any, None]
    first: Any


DirectWrite = Callable[[Outgoing], Coroutine[Any, Any, None]]


class Outbox:
    """Bounded FIFO of outgoing frames with an out-of-band close request.

    With `direct` set, a frame offered while the queue is empty and the writer idle is
    written at once by the sender (one task switch less per message); a direct write that
    has to wait is queued as `InFlight` so frames stay in order."""

    def __init__(self, capacity: int, direct: DirectWrite | None = None) -> None:
        self.capacity = capacity
        self.items: deque[Outgoing | InFlight] = deque()
        self.closing: Closing | None = None
        self.direct = direct
        self.writer_idle = False
        self._readable = asyncio.Event()
        self._space: asyncio.Event = asyncio.Event()
        self._space.set()

    def __len__(self) -> int:
        return len(self.items)

    def offer(self, item: Outgoing) -> bool:
        if self.closing is not None or len(self.items) >= self.capacity:
            return False
        if self.writer_idle and not self.items and self.direct is not None:
            coro = self.direct(item)
            try:
                first = coro.send(None)
            except StopIteration:
                return True
            except Exception:
                return True
            self.items.append(InFlight(coro, first))
        else:
            self.items.append(item)
        self._readable.set()
        if len(self.items) >= self.capacity:
            self._space.clear()
        return True

    async def put(self, item: Outgoing) -> bool:
        """Wait for space, then queue; False when the connection closed meanwhile."""
        while self.closing is None and len(self.items) >= self.capacity:
            self._space.clear()
            await self._space.wait()
        return self.offer(item)

    def close(self, code: int, reason: str, discard: bool = False) -> None:
        if self.closing is not None:
            return
        self.closing = Closing(code, reason)
        if discard:
            self.items.clear()
        self._readable.set()
        self._space.set()  # release waiting senders: they will see `closing`

    async def next(self) -> Outgoing | InFlight | Closing:
        """The next frame to write, or the close request once the queue is drained."""
        while not self.items:
            if self.closing is not None:
                return self.closing
            self._readable.clear()
            self.writer_idle = True
            try:
                await self._readable.wait()
            finally:
                self.writer_idle = False
        item = self.items.popleft()
        if len(self.items) < self.capacity:
            self._space.set()
        return item


@dataclass
class Connection:
    id: str
    server_id: str
    path: str
    remote_address: str
    headers: dict[str, str]
    subprotocol: str | None
    connected_at: int
    outbox: Outbox
    limiter: RateLimiter | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    closed_code: int | None = None
    busy: bool = False  # a handler of this connection is running

    def info(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "server_id": self.server_id,
            "path": self.path,
            "remote_address": self.remote_address,
            "headers": dict(self.headers),
            "subprotocol": self.subprotocol,
            "connected_at": self.connected_at,
            "meta": self.meta,
        }


async def write_loop(conn: Connection, send: Callable[[Outgoing], Awaitable[None]],
                     close: Callable[[int, str], Awaitable[None]]) -> None:
    """Drain `conn`'s outbox into the socket until a close request has been written."""
    outbox = conn.outbox
    while True:
        item = await outbox.next()
        if isinstance(item, Closing):
            await close(item.code, item.reason)
            return
        if isinstance(item, InFlight):
            await resume(item.coro, item.first)
        else:
            await send(item)


class Registry:
    """The open WebSocket connections of one server, by id, in connection order."""

    def __init__(self, server_id: str) -> None:
        self.server_id = server_id
        self.connections: dict[str, Connection] = {}

    def __len__(self) -> int:
        return len(self.connections)

    def add(self, conn: Connection) -> None:
        self.connections[conn.id] = conn

    def remove(self, conn_id: str) -> None:
        self.connections.pop(conn_id, None)

    def get(self, conn_id: str) -> Connection | None:
        return self.connections.get(conn_id)

    def ids(self) -> list[str]:
        return list(self.connections)

    def send_nowait(self, conn: Connection, frame: Outgoing) -> bool:
        """Queue without waiting; a full buffer closes the connection with 1013."""
        if conn.outbox.offer(frame):
            return True
        if conn.outbox.closing is None:
            conn.outbox.close(CLOSE_TRY_LATER, "outbound buffer full", discard=True)
        return False

    def broadcast(self, frame: Outgoing, meta: str | None = None) -> int:
        """Queue for every connection (with `meta`: every one whose meta has that key);
        returns how many it was queued for."""
        return sum(self.send_nowait(conn, frame) for conn in list(self.connections.values())
                   if meta is None or meta in conn.meta)

    def close_all(self, code: int, reason: str) -> None:
        for conn in list(self.connections.values()):
            conn.outbox.close(code, reason)

    # The group's view, used by the effects. Without a cluster the group is this server:
    # a cluster registry adds the connections other nodes hold (SPEC §7, docs/scaling.md).
    def lookup(self, conn_id: str) -> Any:
        """The connection `conn_id` of the group (a `Connection`, or a cluster registry's
        stand-in for a connection held by another node), or None."""
        return self.connections.get(conn_id)

    def group_ids(self) -> list[str]:
        return list(self.connections)

    def group_count(self) -> int:
        return len(self.connections)

    def group_broadcast(self, frame: Outgoing, meta: str | None = None) -> int:
        return self.broadcast(frame, meta)

    async def put(self, conn: Any, frame: Outgoing) -> bool:
        """Queue, waiting for buffer space; False when the connection closed meanwhile."""
        return await conn.outbox.put(frame)

    def info(self, conn: Any) -> dict[str, Any]:
        return conn.info()

    def set_meta(self, conn: Any, key: str, value: Any) -> None:
        """Set a meta entry; nil removes it (so a {"meta": key} broadcast skips it)."""
        if value is None:
            conn.meta.pop(key, None)
        else:
            conn.meta[key] = value
