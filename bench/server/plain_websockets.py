"""Reference servers written directly with the websockets library (compression off):
`echo` answers each message with itself; `broadcast` sends every message it receives to all
connected clients with websockets.broadcast(). Prints `port N` once listening."""

from __future__ import annotations

import asyncio
import sys

from websockets.asyncio.server import ServerConnection, broadcast, serve

CLIENTS: set[ServerConnection] = set()


async def echo(ws: ServerConnection) -> None:
    async for message in ws:
        await ws.send(message)


async def fanout(ws: ServerConnection) -> None:
    CLIENTS.add(ws)
    try:
        async for message in ws:
            broadcast(CLIENTS, message)
    finally:
        CLIENTS.discard(ws)


async def main(mode: str) -> None:
    handler = echo if mode == "echo" else fanout
    async with serve(handler, "127.0.0.1", 0, compression=None, max_queue=None) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        print(f"port {port}", flush=True)
        await asyncio.get_running_loop().create_future()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "echo"))
