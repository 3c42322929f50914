"""The baseline of the Autobahn conformance run (bench/conformance/run.py): a plain
`websockets` asyncio echo server with the settings of echo_plain.flc (16 MiB messages,
permessage-deflate, the default keepalive). Prints its port on the first line.

    python bench/conformance/echo_baseline.py [PORT]      (0 = any free port)
"""

from __future__ import annotations

import asyncio
import signal
import sys

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

MAX_MESSAGE_SIZE = 16 * 1024 * 1024


async def echo(ws: ServerConnection) -> None:
    try:
        async for message in ws:
            await ws.send(message)
    except ConnectionClosed:
        pass


async def main(port: int) -> None:
    async with serve(echo, "127.0.0.1", port, max_size=MAX_MESSAGE_SIZE,
                     compression="deflate") as server:
        actual = next(iter(server.sockets)).getsockname()[1]
        print(f"echo server on port {actual}", flush=True)
        stop = asyncio.get_running_loop().create_future()
        for sig in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
        await stop


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 9002))
