"""`fluentai run --reload` with real clients: a program is run as a subprocess, the test
rewrites its files, waits for the reload's report on stderr, and talks to the server with a
real WebSocket client and real HTTP requests (127.0.0.1, port 0)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from reloadkit import DevServers
from serverkit import ahttp, closed_with, recv, ws_connect

ECHO = """\
let seen = {}
function reply(message) { f"v1: {message}" }
function handle_websocket_connect(conn_id) { print("connected") }
function handle_websocket_message(conn_id, message) {
  seen[message] = seen.get(message, 0) + 1
  perform HttpServer.ws_send(server.id, conn_id, f"{reply(message)} #{seen[message]}")
}
function ping(request) { "pong v1" }
function gone(request) { "soon gone" }
perform HttpServer.route("GET", "/ping", "ping")
perform HttpServer.route("GET", "/gone", "gone")
perform HttpServer.route("GET", "/lambda", request => "lambda v1")
let server = perform HttpServer.listen(0, true).await()
print(f"port {server.port}")
"""

REPORT = re.compile(r"^reloaded prog\.flc: (.+) \((\d+) ms\)$")


def report_of(line: str) -> str:
    m = REPORT.match(line)
    assert m, f"not a reload report: {line!r}"
    return m.group(1)


async def test_a_websocket_client_keeps_its_connection_and_gets_the_new_handler(
        dev: DevServers) -> None:
    server = dev.start(ECHO)
    async with ws_connect(server.port) as ws:
        await ws.send("hi")
        assert await recv(ws) == "v1: hi #1"
        line = server.edit(ECHO.replace('f"v1: {message}"', 'f"v2: {message.to_upper()}"'))
        assert report_of(line) == "1 function changed"
        await ws.send("hi")
        # The same connection, the new function, and the map's count went on.
        assert await recv(ws) == "v2: HI #2"
        assert server.proc.lines.count("connected") == 1
        server.close()
        assert (await closed_with(ws))[0] == 1001  # a graceful shutdown, as without --reload


async def test_a_syntax_error_keeps_the_old_code_and_is_reported(dev: DevServers) -> None:
    server = dev.start(ECHO)
    broken = ECHO.replace('function reply(message) { f"v1: {message}" }',
                          'function reply(message) { f"v2: {message}" ')
    async with ws_connect(server.port) as ws:
        before = len(server.proc.stderr.split("\n"))
        assert server.edit(broken) == "note: prog.flc was not reloaded: the program goes " \
                                      "on with its previous version"
        err = server.stderr_since(before - 1)
        # The usual diagnostic: file:line:col, the source line and a caret (here the end of
        # the file, where the brace opened on line 2 is still open).
        assert "prog.flc:14:29: error: unclosed '{' opened at 2:25" in err, err
        assert '14 | print(f"port {server.port}")' in err
        assert "     |                             ^" in err
        await ws.send("a")
        assert await recv(ws) == "v1: a #1"
        assert (await ahttp(server.port, "GET", "/ping")).text == "pong v1"
        # Fixed, the new version goes in.
        assert report_of(server.edit(broken.replace('{message}" ', '{message}" }'))) \
            == "1 function changed"
        await ws.send("a")
        assert await recv(ws) == "v2: a #2"


async def test_a_removed_route_answers_404_and_the_others_get_new_code(
        dev: DevServers) -> None:
    server = dev.start(ECHO)
    assert (await ahttp(server.port, "GET", "/gone")).text == "soon gone"
    assert (await ahttp(server.port, "GET", "/lambda")).text == "lambda v1"
    new = (ECHO.replace('perform HttpServer.route("GET", "/gone", "gone")\n', "")
               .replace('"lambda v1"', '"lambda v2"')
               .replace('"pong v1"', '"pong v2"')
           + 'perform HttpServer.route("POST", "/echo", request => request.body)\n')
    assert report_of(server.edit(new)) == \
        "1 function changed, 2 routes added, 2 removed"
    assert (await ahttp(server.port, "GET", "/gone")).status == 404
    assert (await ahttp(server.port, "GET", "/ping")).text == "pong v2"
    # A route given a function value is registered again from the new file.
    assert (await ahttp(server.port, "GET", "/lambda")).text == "lambda v2"
    assert (await ahttp(server.port, "POST", "/echo", body="back")).text == "back"
    # `gone` is no longer defined either: the file does not declare it.
    assert report_of(server.edit(new + "// a comment\n")) == "no definitions changed"


VISITS = """\
let visits = {}
let started = "first"
function count(request) {
  let who = request.params.name
  visits[who] = visits.get(who, 0) + 1
  f"{who} {visits[who]}"
}
perform HttpServer.route("GET", "/hello/:name", "count")
let server = perform HttpServer.listen(0, false).await()
print(f"port {server.port}")
"""


async def test_state_in_a_top_level_map_survives_and_new_lets_run(dev: DevServers) -> None:
    server = dev.start(VISITS)
    for _ in range(3):
        await ahttp(server.port, "GET", "/hello/ann")
    new = (VISITS.replace('f"{who} {visits[who]}"', 'f"{who} has {visits[who]} visits, {extra}"')
                 .replace('let started = "first"', 'let started = "second"')
                 .replace("let server", 'let extra = "new let"\nconst UNIT = "v"\nlet server')
                 .replace('print(f"port {server.port}")', 'print(f"listening on {server.port}")'))
    assert report_of(server.edit(new)) == "1 function changed, 1 const added, 1 let added"
    # The changed `let` keeps its value, and a note says so; `listen` did not run again.
    server.proc.wait_for_err_line("note: line 2: let 'started' changed but keeps its current "
                                  "value (a reload does not run an existing let again; restart "
                                  "to apply it)", start=server.seen)
    server.proc.wait_for_err_line("note: line 12: top-level code changed, which a reload does "
                                  "not run (restart to apply it): print(f\"listening on",
                                  start=server.seen)
    assert not any(line.startswith("listening") for line in server.proc.lines)
    assert (await ahttp(server.port, "GET", "/hello/ann")).text == "ann has 4 visits, new let"


async def test_a_used_module_is_reloaded_and_its_users_see_its_new_exports(
        dev: DevServers, tmp_path: Path) -> None:
    (tmp_path / "greeting.flc").write_text(
        'public function greet(name) { f"hello {name}" }\n', encoding="utf-8")
    program = ECHO.replace("let seen = {}", "use greeting::{greet}\nlet seen = {}") \
                  .replace('f"v1: {message}"', "greet(message)")
    server = dev.start(program)
    async with ws_connect(server.port) as ws:
        await ws.send("ann")
        assert await recv(ws) == "hello ann #1"
        line = server.edit('public function greet(name) { f"good morning {name}" }\n',
                           file="greeting.flc")
        assert re.fullmatch(r"reloaded greeting\.flc: 1 function changed \(\d+ ms\)", line)
        await ws.send("ann")
        assert await recv(ws) == "good morning ann #2"
        # A module the program no longer exports what it imports is refused.
        assert "was not reloaded" in server.edit(
            'public function hello(name) { name }\n', file="greeting.flc")
        assert "module 'greeting' has no public 'greet' any more" in server.proc.stderr
        await ws.send("ann")
        assert await recv(ws) == "good morning ann #3"


async def test_a_module_first_used_by_a_reload_is_watched_too(
        dev: DevServers, tmp_path: Path) -> None:
    server = dev.start(ECHO)
    (tmp_path / "shout.flc").write_text('public function shout(s) { s.to_upper() }\n',
                                        encoding="utf-8")
    new = ECHO.replace("let seen = {}", "use shout::{shout}\nlet seen = {}") \
              .replace('f"v1: {message}"', "shout(message)")
    assert report_of(server.edit(new)) == "1 function changed"
    async with ws_connect(server.port) as ws:
        await ws.send("hey")
        assert await recv(ws) == "HEY #1"
        line = server.edit('public function shout(s) { s.to_upper() + "!" }\n',
                           file="shout.flc")
        assert line.startswith("reloaded shout.flc: 1 function changed")
        await ws.send("hey")
        assert await recv(ws) == "HEY! #2"


async def test_a_run_time_error_in_a_reload_undoes_it(dev: DevServers) -> None:
    server = dev.start(ECHO)
    new = ECHO.replace('f"v1: {message}"', 'f"v2: {message}"') \
              .replace("let seen = {}", "let seen = {}\nconst LIMIT = int(\"many\")")
    assert "was not reloaded" in server.edit(new)
    assert 'prog.flc:2:15: error: ValueError: int() cannot parse "many" as an int' \
        in server.proc.stderr
    async with ws_connect(server.port) as ws:
        await ws.send("x")
        assert await recv(ws) == "v1: x #1"  # the function of the same version did not go in


def test_a_program_without_servers_ends_on_its_own(tmp_path: Path) -> None:
    (tmp_path / "hello.flc").write_text('print("hello")\n', encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "fluentai", "run", "--reload", "hello.flc"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert (done.returncode, done.stdout, done.stderr) == (0, "hello\n", "")


def test_without_watchfiles_reload_says_what_to_install(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        tmp_path: Path) -> None:
    import importlib.util

    from fluentai.frontends.cli import main

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "watchfiles" else real(name, *a))
    (tmp_path / "p.flc").write_text("print(1)\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--reload", str(tmp_path / "p.flc")])
    assert exit_.value.code == 2
    assert "--reload needs the watchfiles package: pip install watchfiles" in \
        capsys.readouterr().err


async def test_watching_ends_when_the_servers_stop(dev: DevServers) -> None:
    server = dev.start("""\
function stop(request) { perform HttpServer.stop(server.id); "stopping" }
perform HttpServer.route("GET", "/stop", "stop")
let server = perform HttpServer.listen(0, false).await()
print(f"port {server.port}")
""")
    assert (await ahttp(server.port, "GET", "/stop")).text == "stopping"
    assert await server.proc.ended() == 0  # the watcher did not keep the program alive
