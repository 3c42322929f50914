"""How long `fluentai run --reload` takes to reload examples/chat.flc, with a chat user
connected throughout.

A copy of the chat (its program and page) is run in a temporary folder as
`python -m fluentai run --reload chat.flc 0`; a WebSocket client joins, and the program is
edited ROUNDS times (saved the way editors do: a new file renamed over the old one). Each
round waits for the reload's report on stderr, then the user says something and must get
the new code's answer on the same connection. Printed: the first report line (an edit of
three functions plus a new one), the reload time each report gives (reading, parsing,
resolving, compiling and running the new definitions) and the time from the save to the
report line (that plus the watcher's notice: watchfiles' event, `STEP_MS` without another).

    python bench/reload/run.py [--rounds N]

Standard library and websockets only; no figure here is asserted by a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parents[2]
REPORT = re.compile(r"^reloaded chat\.flc: (.*) \((\d+) ms\)$")


class Server:
    def __init__(self, folder: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "fluentai", "run", "--reload", "chat.flc", "0"],
            cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)
        self.cond = threading.Condition()
        self.out: list[str] = []
        self.err: list[tuple[float, str]] = []
        for stream, sink, stamp in ((self.proc.stdout, self.out, False),
                                    (self.proc.stderr, self.err, True)):
            threading.Thread(target=self.pump, args=(stream, sink, stamp), daemon=True).start()

    def pump(self, stream: object, sink: list, stamp: bool) -> None:
        for line in stream:  # type: ignore[attr-defined]
            with self.cond:
                line = line.rstrip("\n")
                sink.append((time.perf_counter(), line) if stamp else line)
                self.cond.notify_all()

    def wait(self, sink: list, match, start: int = 0, timeout: float = 20) -> tuple[int, object]:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for i in range(start, len(sink)):
                    if match(sink[i]):
                        return i, sink[i]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise SystemExit(f"timed out; stderr: {self.err}")
                self.cond.wait(left)


def save(path: Path, text: str) -> float:
    tmp = path.with_name(".chat.flc.tmp")
    tmp.write_text(text, encoding="utf-8")
    saved = time.perf_counter()
    os.replace(tmp, path)
    return saved


def first_edit(text: str) -> str:
    """Three functions changed and one added, as a developer might."""
    text = text.replace('print(f"connected {short(conn_id)}")',
                        'print(f"connected {short(conn_id)} at {stamp()}")')
    text = text.replace('function short(conn_id) { conn_id.substring(0, 8) }',
                        'function short(conn_id) { conn_id.substring(0, 6) }\n\n'
                        'function stamp() { perform Time.now() }')
    return text.replace('print(f"{name}: {text}")', 'print(f"{name} [0]: {text}")')


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    rounds = parser.parse_args().rounds
    folder = Path(tempfile.mkdtemp(prefix="fluentai-reload-"))
    shutil.copy(ROOT / "examples" / "chat.flc", folder / "chat.flc")
    (folder / "chat").mkdir()
    shutil.copy(ROOT / "examples" / "chat" / "index.html", folder / "chat" / "index.html")
    original = (folder / "chat.flc").read_text(encoding="utf-8")
    server = Server(folder)
    try:
        _, line = server.wait(server.out, lambda s: "Chat server running" in s)
        port = int(re.search(r":(\d+)/", str(line)).group(1))  # type: ignore[union-attr]
        reported: list[int] = []
        noticed: list[float] = []
        first_line = ""
        async with connect(f"ws://127.0.0.1:{port}/ws", proxy=None) as ws:
            await ws.send(json.dumps({"type": "join", "name": "bench"}))
            assert json.loads(await ws.recv())["type"] == "welcome"
            assert json.loads(await ws.recv())["type"] == "joined"
            text = first_edit(original)
            seen = 0
            for i in range(rounds):
                if i:
                    text = re.sub(r"\[\d+\]: \{text\}", f"[{i}]: {{text}}", text)
                saved = save(folder / "chat.flc", text)
                seen, (at, report) = server.wait(
                    server.err, lambda e: REPORT.match(e[1]) is not None
                    and "no changes" not in e[1], seen)
                seen += 1
                m = REPORT.match(report)
                assert m is not None
                first_line = first_line or report
                reported.append(int(m.group(2)))
                noticed.append((at - saved) * 1000)
                await ws.send(json.dumps({"type": "say", "text": f"round {i}"}))
                assert json.loads(await ws.recv())["text"] == f"round {i}"
                server.wait(server.out, lambda s, i=i: s == f"bench [{i}]: round {i}")
        print(f"first report: {first_line}")
        print(f"{rounds} reloads of examples/chat.flc, one user connected throughout")
        print(f"  reload (report):  median {statistics.median(reported):.0f} ms, "
              f"min {min(reported)} ms, max {max(reported)} ms")
        print(f"  save to report:   median {statistics.median(noticed):.0f} ms, "
              f"min {min(noticed):.0f} ms, max {max(noticed):.0f} ms")
    finally:
        server.proc.terminate()
        server.proc.wait(15)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
