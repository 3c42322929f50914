"""`fluentai.server.connections` without sockets: the rate limiter, the bounded outbox
with back-pressure, and the connection registry (SPEC §7 buffers, 1013, broadcast counts)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from fluentai.server.connections import (
    CLOSE_GOING_AWAY,
    CLOSE_TRY_LATER,
    Closing,
    Connection,
    Outbox,
    RateLimiter,
    Registry,
    write_loop,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


# ---------------------------------------------------------------------- RateLimiter


def test_rate_limiter_allows_n_per_window() -> None:
    clock = FakeClock()
    rl = RateLimiter(3, 1000, clock=clock)
    assert [rl.allow() for _ in range(4)] == [True, True, True, False]
    clock.now = 100.75
    assert not rl.allow()
    clock.now = 101.0  # one full window later all three have left it
    assert [rl.allow() for _ in range(4)] == [True, True, True, False]


def test_rate_limiter_window_slides() -> None:
    clock = FakeClock()
    rl = RateLimiter(2, 100, clock=clock)
    assert rl.allow()            # t = 0
    clock.now = 100.0625
    assert rl.allow()            # t = 62.5 ms
    assert not rl.allow()
    clock.now = 100.125          # t = 125 ms: the first one has left the window
    assert rl.allow()
    assert not rl.allow()        # the one at 62.5 ms is still inside
    clock.now = 100.1875         # t = 187.5 ms
    assert rl.allow()


def test_rejected_messages_do_not_use_up_the_window() -> None:
    clock = FakeClock()
    rl = RateLimiter(1, 1000, clock=clock)
    assert rl.allow()
    for i in range(1, 6):
        clock.now = 100.0 + i / 8
        assert not rl.allow()
    clock.now = 101.0  # 1.0 s after the only accepted message
    assert rl.allow()


# ---------------------------------------------------------------------- Outbox


async def test_outbox_is_fifo_and_bounded() -> None:
    box = Outbox(2)
    assert box.offer("a")
    assert box.offer(b"b")
    assert not box.offer("c")
    assert len(box) == 2
    assert await box.next() == "a"
    assert box.offer("c")
    assert await box.next() == b"b"
    assert await box.next() == "c"
    assert len(box) == 0


async def test_next_waits_for_an_item() -> None:
    box = Outbox(2)
    getter = asyncio.create_task(box.next())
    await asyncio.sleep(0)
    assert not getter.done()
    box.offer("x")
    assert await asyncio.wait_for(getter, 1) == "x"


async def test_put_waits_for_space_and_keeps_order() -> None:
    box = Outbox(1)
    assert await box.put("first")
    putter = asyncio.create_task(box.put("second"))
    await asyncio.sleep(0)
    assert not putter.done()
    assert await box.next() == "first"
    assert await asyncio.wait_for(putter, 1) is True
    assert await box.next() == "second"


async def test_several_waiting_puts_each_get_one_slot() -> None:
    box = Outbox(1)
    box.offer("0")
    putters = [asyncio.create_task(box.put(str(i))) for i in range(1, 4)]
    await asyncio.sleep(0)
    got = []
    for _ in range(4):
        got.append(await asyncio.wait_for(box.next(), 1))
        assert len(box) <= 1
    assert all(await asyncio.gather(*putters))
    assert sorted(got) == ["0", "1", "2", "3"]
    assert got[0] == "0"


async def test_close_releases_a_waiting_put_with_false() -> None:
    box = Outbox(1)
    box.offer("a")
    putter = asyncio.create_task(box.put("b"))
    await asyncio.sleep(0)
    assert not putter.done()
    box.close(CLOSE_GOING_AWAY, "bye")
    assert await asyncio.wait_for(putter, 1) is False


async def test_close_drains_queued_items_first() -> None:
    box = Outbox(5)
    box.offer("a")
    box.offer("b")
    box.close(1000, "done")
    assert not box.offer("c")
    assert await box.next() == "a"
    assert await box.next() == "b"
    assert await box.next() == Closing(1000, "done")
    assert await box.next() == Closing(1000, "done")  # stays closed


async def test_close_with_discard_drops_queued_items() -> None:
    box = Outbox(5)
    box.offer("a")
    box.offer("b")
    box.close(CLOSE_TRY_LATER, "full", discard=True)
    assert len(box) == 0
    assert await box.next() == Closing(CLOSE_TRY_LATER, "full")


async def test_close_wakes_a_waiting_next() -> None:
    box = Outbox(5)
    getter = asyncio.create_task(box.next())
    await asyncio.sleep(0)
    box.close(1000, "")
    assert await asyncio.wait_for(getter, 1) == Closing(1000, "")


async def test_first_close_wins() -> None:
    box = Outbox(5)
    box.close(4001, "first")
    box.close(1000, "second")
    assert box.closing == Closing(4001, "first")
    assert await box.put("x") is False


async def test_write_loop_sends_frames_then_the_close() -> None:
    conn = make_conn("c1", capacity=10)
    sent: list[object] = []

    async def send(item: str | bytes) -> None:
        sent.append(item)

    async def close(code: int, reason: str) -> None:
        sent.append(("close", code, reason))

    conn.outbox.offer("one")
    conn.outbox.offer(b"two")
    conn.outbox.close(1000, "end")
    await asyncio.wait_for(write_loop(conn, send, close), 1)
    assert sent == ["one", b"two", ("close", 1000, "end")]


# ---------------------------------------------------------------------- Registry


def make_conn(conn_id: str, capacity: int = 3) -> Connection:
    return Connection(id=conn_id, server_id="server_1", path="/", remote_address="127.0.0.1:1",
                      headers={}, subprotocol=None, connected_at=0, outbox=Outbox(capacity))


def test_registry_keeps_connection_order_and_looks_up_by_id() -> None:
    reg = Registry("server_1")
    conns = [make_conn(f"id-{i}") for i in range(3)]
    for c in conns:
        reg.add(c)
    assert reg.ids() == ["id-0", "id-1", "id-2"]
    assert len(reg) == 3
    assert reg.get("id-1") is conns[1]
    assert reg.get("nope") is None
    reg.remove("id-1")
    reg.remove("id-1")  # removing twice is harmless
    assert reg.ids() == ["id-0", "id-2"]


def test_broadcast_counts_the_connections_it_queued_for() -> None:
    reg = Registry("server_1")
    for i in range(4):
        reg.add(make_conn(f"id-{i}"))
    assert reg.broadcast("hello") == 4
    for i in range(4):
        assert list(reg.get(f"id-{i}").outbox.items) == ["hello"]


def test_full_buffer_closes_with_1013_and_is_not_counted() -> None:
    reg = Registry("server_1")
    slow, fast = make_conn("slow", capacity=2), make_conn("fast", capacity=2)
    reg.add(slow)
    reg.add(fast)
    assert reg.broadcast("m1") == 2
    assert reg.broadcast("m2") == 2
    fast.outbox.items.clear()  # the fast client has read everything
    assert reg.broadcast("m3") == 1
    assert slow.outbox.closing == Closing(CLOSE_TRY_LATER, "outbound buffer full")
    assert len(slow.outbox) == 0  # what was queued is dropped
    assert fast.outbox.closing is None
    assert list(fast.outbox.items) == ["m3"]
    # A closing connection is never counted again, and keeps its first close code.
    assert reg.broadcast("m4") == 1
    assert reg.send_nowait(slow, "x") is False
    assert slow.outbox.closing.code == CLOSE_TRY_LATER


def test_send_nowait_never_waits() -> None:
    reg = Registry("server_1")
    conn = make_conn("c", capacity=1)
    reg.add(conn)
    assert reg.send_nowait(conn, "a") is True
    assert reg.send_nowait(conn, "b") is False
    assert conn.outbox.closing is not None and conn.outbox.closing.code == CLOSE_TRY_LATER


def test_send_nowait_to_a_closing_connection_keeps_its_code() -> None:
    reg = Registry("server_1")
    conn = make_conn("c")
    reg.add(conn)
    conn.outbox.close(4000, "app")
    assert reg.send_nowait(conn, "a") is False
    assert conn.outbox.closing == Closing(4000, "app")


async def test_close_all_closes_every_connection_after_its_queue() -> None:
    reg = Registry("server_1")
    conns = [make_conn(f"id-{i}") for i in range(3)]
    for c in conns:
        reg.add(c)
    conns[0].outbox.offer("pending")
    reg.close_all(CLOSE_GOING_AWAY, "server stopping")
    for c in conns:
        assert c.outbox.closing == Closing(CLOSE_GOING_AWAY, "server stopping")
    assert await conns[0].outbox.next() == "pending"  # not discarded
    assert await conns[0].outbox.next() == Closing(CLOSE_GOING_AWAY, "server stopping")


def test_connection_info_fields() -> None:
    conn = Connection(id="abc12345", server_id="server_9", path="/chat",
                      remote_address="127.0.0.1:5000", headers={"x-a": "1"},
                      subprotocol="chat.v1", connected_at=1234, outbox=Outbox(1))
    info = conn.info()
    assert info == {"id": "abc12345", "server_id": "server_9", "path": "/chat",
                    "remote_address": "127.0.0.1:5000", "headers": {"x-a": "1"},
                    "subprotocol": "chat.v1", "connected_at": 1234, "meta": {}}
    info["headers"]["x-b"] = "2"
    assert conn.headers == {"x-a": "1"}  # a copy


@pytest.mark.parametrize("capacity", [1, 3])
async def test_put_on_full_then_offer_fails_until_drained(capacity: int) -> None:
    box = Outbox(capacity)
    for i in range(capacity):
        assert box.offer(str(i))
    assert not box.offer("over")
    await box.next()
    assert box.offer("again")


# ---------------------------------------------------------------------- direct writes


async def test_offer_to_an_idle_writer_writes_directly_in_order() -> None:
    written: list[str | bytes] = []

    async def direct(item: str | bytes) -> None:
        written.append(item)

    conn = make_conn("c", capacity=3)
    conn.outbox = Outbox(3, direct=direct)
    sent: list[object] = []

    async def send(item: str | bytes) -> None:
        sent.append(item)

    async def close(code: int, reason: str) -> None:
        sent.append(("close", code))

    writer = asyncio.create_task(write_loop(conn, send, close))
    await settle(lambda: conn.outbox.writer_idle)
    assert conn.outbox.offer("a")  # written by the sender at once, nothing queued
    assert written == ["a"] and len(conn.outbox) == 0
    conn.outbox.close(1000, "")
    await asyncio.wait_for(writer, 1)
    assert sent == [("close", 1000)]


async def test_a_direct_write_that_must_wait_keeps_its_place() -> None:
    gate = asyncio.Event()
    order: list[str] = []

    async def direct(item: str | bytes) -> None:
        await gate.wait()  # the socket is not writable yet
        order.append(f"direct {item!s}")

    async def send(item: str | bytes) -> None:
        order.append(f"writer {item!s}")

    async def close(code: int, reason: str) -> None:
        order.append(f"close {code}")

    conn = make_conn("c")
    conn.outbox = Outbox(3, direct=direct)
    writer = asyncio.create_task(write_loop(conn, send, close))
    await settle(lambda: conn.outbox.writer_idle)
    assert conn.outbox.offer("first")   # starts directly, then has to wait
    assert conn.outbox.offer("second")  # queued behind it
    assert len(conn.outbox) == 2
    assert conn.outbox.offer("third")
    assert not conn.outbox.offer("fourth")  # the waiting direct write takes a slot
    gate.set()
    conn.outbox.close(1000, "")
    await asyncio.wait_for(writer, 1)
    assert order == ["direct first", "writer second", "writer third", "close 1000"]


async def settle(condition: Callable[[], bool]) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0)
    await asyncio.wait_for(poll(), 1)
