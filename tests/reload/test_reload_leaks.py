"""Twenty reloads in a row leak nothing: the program's tasks, its function values and its
traced memory stay level. In-process, so the counts are read directly: the program runs on
this test's event loop with a real server (127.0.0.1, port 0), a real WebSocket client
stays connected throughout, and the real watcher sees each rewrite of the file."""

from __future__ import annotations

import asyncio
import gc
import re
import tracemalloc
from pathlib import Path

from serverkit import recv, ws_connect

from fluentai.interpreter import Interpreter, read_source
from fluentai.interpreter.host import new_module
from fluentai.interpreter.reload import Reloader
from fluentai.interpreter.watch import Watcher
from fluentai.runtime.functions import Function

RELOADS = 20
SETTLED = 5  # reloads after which every cache has been filled once

PROGRAM = """\
let received = []
function reply(message) {{ f"v{version}: {{message}} ({{received.length()}})" }}
function handle_websocket_message(conn_id, message) {{
  received.push(message)
  perform HttpServer.ws_send(server.id, conn_id, reply(message))
}}
function status(request) {{ {{"version": {version}, "received": received.length()}} }}
perform HttpServer.route("GET", "/status", "status")
perform HttpServer.route("GET", "/v{version}", request => "version {version}")
let server = perform HttpServer.listen(0, true).await()
"""


def functions() -> int:
    return sum(1 for o in gc.get_objects() if type(o) is Function)


def footprint(interp: Interpreter, path: Path) -> int:
    """The memory one compiled version of the program holds on to: what each reload would
    add if old versions were kept."""
    gc.collect()
    before = tracemalloc.get_traced_memory()[0]
    res = interp.check(read_source(str(path)))
    compiled = interp.generate(res, new_module("probe", str(path)), path.parent)
    gc.collect()
    size = tracemalloc.get_traced_memory()[0] - before
    del compiled, res
    return size


async def test_twenty_reloads_leak_no_tasks_functions_or_memory(tmp_path: Path) -> None:
    path = tmp_path / "prog.flc"
    path.write_text(PROGRAM.format(version=0), encoding="utf-8")
    interp = Interpreter(deterministic=True)
    module = new_module("__main__", str(path))
    interp.main_globals = module.globals
    compiled = interp.compile(read_source(str(path)), module, tmp_path)
    reports: asyncio.Queue[str] = asyncio.Queue()
    reloader = Reloader(interp, say=reports.put_nowait)
    reloader.adopt(path, module, compiled.resolution.program)
    watcher = Watcher(reloader)
    watcher.start()
    tracemalloc.start()
    try:
        await interp.run_top(compiled)
        watcher.ready()
        port = module.globals["server"]["port"]
        counts: list[tuple[int, int, int, int]] = []
        async with ws_connect(port) as ws:
            for version in range(1, RELOADS + 1):
                # A plain rewrite in place (the reload tests' other programs are saved by
                # renaming, as many editors do).
                path.write_text(PROGRAM.format(version=version), encoding="utf-8")
                line = await asyncio.wait_for(reports.get(), 15)
                while ": no changes (" in line:  # a second event for the same write
                    line = await asyncio.wait_for(reports.get(), 15)
                assert re.fullmatch(r"reloaded .*prog\.flc: 2 functions changed, 1 route "
                                    r"added, 1 removed \(\d+ ms\)", line), line
                await ws.send("m")
                assert await recv(ws) == f"v{version}: m ({version})"
                gc.collect()
                counts.append((len(asyncio.all_tasks()), len(interp.tasks), functions(),
                               tracemalloc.get_traced_memory()[0]))
            one_version = footprint(interp, path)
        settled, last = counts[SETTLED - 1], counts[-1]
        assert last[:3] == settled[:3], (
            f"tasks, program tasks and function values after reload {SETTLED} and "
            f"{RELOADS}: {settled[:3]} then {last[:3]}")
        # Fifteen leaked versions would add fifteen footprints; allow less than one.
        grown = last[3] - settled[3]
        assert grown < one_version, (
            f"traced memory grew by {grown} bytes over {RELOADS - SETTLED} reloads; one "
            f"compiled version holds {one_version} bytes")
        routes = interp.handler("HttpServer").router.routes  # type: ignore[union-attr]
        assert [r.pattern for r in routes] == ["/status", f"/v{RELOADS}"]
    finally:
        tracemalloc.stop()
        await watcher.stop()
        await interp.shutdown()
