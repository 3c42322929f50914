"""`:reload` at the REPL: the files `:load` ran (and the modules they use) are read again
and their definitions replaced, with the session's servers, connections and state kept. The
session runs in-process (its piped front end's command handling) with a real server and a
real WebSocket client."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from reloadkit import write
from serverkit import recv, ws_connect

from fluentai.frontends.repl import Repl

APP = """\
use words::{shout}
let said = []
function handle_websocket_message(conn_id, message) {
  said.push(message)
  perform HttpServer.ws_send(server.id, conn_id, f"v1 {shout(message)} {said.length()}")
}
let server = perform HttpServer.listen(0, true).await()
"""


@pytest.fixture
async def repl(tmp_path: Path) -> AsyncIterator[Repl]:
    r = Repl(deterministic=True)
    try:
        yield r
    finally:
        await r.session.close()


async def test_reload_replaces_functions_and_keeps_servers_and_state(
        repl: Repl, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path / "words.flc", "public function shout(s) { s.to_upper() }\n")
    write(tmp_path / "app.flc", APP)
    assert await repl.handle(f":load {tmp_path / 'app.flc'}")
    port = repl.session.globals["server"]["port"]
    async with ws_connect(port) as ws:
        await ws.send("a")
        assert await recv(ws) == "v1 A 1"
        write(tmp_path / "app.flc", APP.replace("v1", "v2"))
        write(tmp_path / "words.flc", 'public function shout(s) { s.to_upper() + "!" }\n')
        capsys.readouterr()
        assert await repl.handle(":reload")
        out = capsys.readouterr().out
        # The module first, then the file that uses it; the reports answer the command.
        assert re.fullmatch(r"reloaded \S*words\.flc: 1 function changed \(\d+ ms\)\n"
                            r"reloaded \S*app\.flc: 1 function changed \(\d+ ms\)\n", out), out
        await ws.send("b")
        assert await recv(ws) == "v2 B! 2"
        # Nothing changed: the loaded file is read again all the same.
        assert await repl.handle(":reload")
        assert re.fullmatch(r"reloaded \S*app\.flc: no changes \(\d+ ms\)\n",
                            capsys.readouterr().out)
        # A syntax error: reported, the session fails the command and keeps the old code.
        write(tmp_path / "app.flc", APP.replace("v1", "v3").replace("said.length()}", "said"))
        assert not await repl.handle(":reload")
        assert repl.failed
        assert "was not reloaded" in capsys.readouterr().err
        await ws.send("c")
        assert await recv(ws) == "v2 C! 3"


async def test_reload_with_nothing_loaded_says_so(
        repl: Repl, capsys: pytest.CaptureFixture[str]) -> None:
    assert not await repl.handle(":reload")
    assert capsys.readouterr().err == "error: nothing to reload: :reload reloads the files " \
                                      ":load ran\n"
