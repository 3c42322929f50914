"""The REPL (SPEC §8): driven through a pseudo-terminal as a user would, through a pipe, and
its completion, highlighting (repl_style.py) and continuation logic directly.

The pty tests start `python -m fluentai repl` with a terminal of 24x80 as its controlling
terminal (so Ctrl-C is a key at the prompt and SIGINT during an evaluation), read its output
with a select-based `expect`, and strip terminal escape sequences before matching. Every wait
is bounded; a test that hangs fails with the output seen so far.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fluentai.frontends.repl import Repl, history_path
from fluentai.frontends.repl_input import Completions, incomplete, scan
from fluentai.frontends.repl_style import InputLexer, style

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pty")

TIMEOUT = 15.0
ANSI = re.compile(r"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78]|\r")


def _controlling_tty() -> None:
    # In the child, after setsid: make the pty (already its stdin) the controlling terminal.
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Pty:
    """A REPL process on a pseudo-terminal."""

    def __init__(self, cwd: Path, env: dict[str, str] | None = None) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        full_env = dict(os.environ)
        full_env.update({
            "TERM": "xterm",
            "FLUENTAI_HISTORY": "off",
            "PROMPT_TOOLKIT_NO_CPR": "1",  # nobody answers cursor-position requests here
            "PYTHONUNBUFFERED": "1",
        })
        full_env.pop("NO_COLOR", None)
        full_env.update(env or {})
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "fluentai", "repl"],
            stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=full_env,
            start_new_session=True, preexec_fn=_controlling_tty, close_fds=True,
        )
        os.close(slave)
        self.fd = master
        self.raw = b""
        self.pos = 0  # how much of `text` earlier expects consumed

    @property
    def text(self) -> str:
        return ANSI.sub("", self.raw.decode("utf-8", "replace"))

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return False
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # EIO: the child has gone and closed the terminal
            data = b""
        if not data:
            time.sleep(0.05)
            return False
        self.raw += data
        return True

    def expect(self, pattern: str, timeout: float = TIMEOUT) -> re.Match[str]:
        """Wait for `pattern` (a regex) in the output after the previous match."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.text, self.pos)
            if m:
                self.pos = m.end()
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                tail = self.text[self.pos:][-1500:]
                raise AssertionError(f"timed out waiting for {pattern!r}; output since the "
                                     f"last match:\n{tail}")
            if not self._read(min(left, 0.5)) and self.proc.poll() is not None:
                self._read(0.1)
                m = rx.search(self.text, self.pos)
                if m:
                    self.pos = m.end()
                    return m
                raise AssertionError(f"the REPL exited ({self.proc.returncode}) while waiting "
                                     f"for {pattern!r}; output:\n{self.text[-1500:]}")

    def drain(self, seconds: float) -> str:
        """Read for `seconds`; returns the output since the last match (not consumed)."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self._read(left)
        return self.text[self.pos:]

    def send(self, text: str) -> None:
        os.write(self.fd, text.encode())

    def line(self, text: str) -> None:
        self.send(text + "\r")

    def ready(self) -> None:
        self.expect(r">>>")

    def wait(self, timeout: float = TIMEOUT) -> int:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            self._read(0.1)
        if self.proc.poll() is None:
            raise AssertionError(f"the REPL did not exit; output:\n{self.text[-1500:]}")
        return self.proc.returncode

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(5)
        os.close(self.fd)


@pytest.fixture
def repl(tmp_path: Path) -> Iterator[Pty]:
    p = Pty(tmp_path)
    try:
        p.expect(r"FluentAI")
        p.ready()
        yield p
    finally:
        p.close()


def start_server(p: Pty) -> int:
    """Start a WebSocket server at the prompt with an echoing message handler."""
    p.line("let s = perform HttpServer.listen(0, true).await()")
    p.line('function handle_websocket_message(c, m) { print("handler saw " + m); '
           'perform HttpServer.ws_send(s.id, c, "got " + m) }')
    p.line('"port=" + s.port')
    port = int(p.expect(r'"port=(\d+)"').group(1))
    p.ready()
    return port


def ws_roundtrip(port: int, message: str) -> str:
    from websockets.sync.client import connect

    with connect(f"ws://127.0.0.1:{port}/", open_timeout=10, close_timeout=2) as ws:
        ws.send(message)
        reply = ws.recv(timeout=10)
    assert isinstance(reply, str)
    return reply


# ---------------------------------------------------------------------------- terminal
def test_definitions_persist_and_values_are_echoed(repl: Pty) -> None:
    repl.line("let x = 20")
    repl.line("function plus(a) { a + x }")
    repl.line("plus(22)")
    repl.expect(r"\n42\n")
    repl.line('"con" + "cat"')
    repl.expect(r'\n"concat"\n')  # strings echo quoted
    repl.line("[1, \"a\", nil]")
    repl.expect(r'\n\[1, "a", nil\]\n')
    repl.line("perform Time.sleep(5).await()")  # nil: nothing echoed
    repl.line("let y = 0")
    repl.line("y + 99")
    seen = repl.expect(r"\n99\n")
    between = repl.text[: seen.start()].rsplit("await()", 1)[-1]
    assert "nil" not in between


def test_multi_line_input_continues_while_brackets_are_open(repl: Pty) -> None:
    repl.line("function add(a, b) {")
    repl.expect(r"\.\.\.")  # the continuation prompt
    repl.line("let s = a + b")
    repl.expect(r"\.\.\.")
    repl.line("s")
    repl.line("}")
    repl.line('let t = "two')
    repl.expect(r"\.\.\.")
    repl.line('lines"')
    repl.line("add(40, 2) + t.length()")
    repl.expect(r"\n51\n")  # 42 + len("two\nlines")


def test_server_started_at_the_prompt_serves_while_it_waits(repl: Pty) -> None:
    port = start_server(repl)
    repl.send("let partial = 4")  # typed, not entered, while the server is used
    assert ws_roundtrip(port, "hello") == "got hello"
    repl.expect(r"handler saw hello")  # the handler's print reached the terminal
    repl.line("0")
    repl.line("partial + 2")
    repl.expect(r"\n42\n")  # the line being typed survived the output above it


def test_errors_are_reported_and_the_session_goes_on(repl: Pty) -> None:
    repl.line("nope")
    repl.expect(r"<repl>:1:1: error: NameError: 'nope' is not defined")
    repl.line("function f() {\n1 +* 2 }")
    repl.expect(r"<repl>:2:\d+: error: ")  # line numbers count within the input
    repl.line("6 * 7")
    repl.expect(r"\n42\n")


def test_ctrl_c_at_the_prompt_discards_the_input(repl: Pty) -> None:
    repl.send("let discarded = 1")
    repl.drain(0.3)
    repl.send("\x03")
    repl.drain(0.3)
    repl.line("discarded")
    repl.expect(r"NameError: 'discarded' is not defined")
    repl.line("1 + 2")
    repl.expect(r"\n3\n")


def test_ctrl_c_stops_the_evaluation_not_the_server(repl: Pty) -> None:
    port = start_server(repl)
    repl.line('print("loop" + "ing"); loop { perform Time.sleep(10).await() }')
    repl.expect(r"\nlooping\n")
    assert ws_roundtrip(port, "during") == "got during"  # served while the loop runs
    repl.send("\x03")
    repl.expect(r"interrupted")
    assert ws_roundtrip(port, "after") == "got after"
    repl.line("40 + 2")
    repl.expect(r"\n42\n")


def test_ctrl_c_stops_a_computation_that_never_waits(repl: Pty) -> None:
    repl.line('let n = 0; print("comput" + "ing"); loop { n += 1 }')
    repl.expect(r"\ncomputing\n")
    time.sleep(0.3)
    repl.send("\x03")
    repl.expect(r"interrupted")
    repl.line("n > 0")
    repl.expect(r"\ntrue\n")


def test_ctrl_d_stops_servers_gracefully_and_exits_0(repl: Pty) -> None:
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    port = start_server(repl)
    with connect(f"ws://127.0.0.1:{port}/", open_timeout=10) as ws:
        ws.send("hi")
        assert ws.recv(timeout=10) == "got hi"
        repl.send("\x04")
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001
    assert repl.wait() == 0


def test_sigterm_during_an_evaluation_exits_0(repl: Pty) -> None:
    repl.line('print("loop" + "ing"); loop { perform Time.sleep(10).await() }')
    repl.expect(r"\nlooping\n")
    repl.proc.send_signal(signal.SIGTERM)
    assert repl.wait() == 0


def test_quit_command_exits_0(repl: Pty) -> None:
    repl.line(":quit")
    assert repl.wait() == 0


def test_tab_completes_effects_and_operations(repl: Pty) -> None:
    # The terminal shows only what changes: wait for the completed part to be drawn.
    repl.send("perform Ti")
    repl.expect(r"Ti")
    repl.send("\t")
    repl.expect(r"me")
    repl.send(".no")
    repl.expect(r"\.no")
    repl.send("\t")
    repl.expect(r"w")
    repl.send("() > 0\r")
    repl.expect(r"\ntrue\n")


def test_history_is_kept_across_sessions(tmp_path: Path) -> None:
    hist = tmp_path / "hist"
    first = Pty(tmp_path, {"FLUENTAI_HISTORY": str(hist)})
    try:
        first.ready()
        first.line("let remembered = 12345")
        first.line("remembered")
        first.expect(r"\n12345\n")
        first.ready()
        first.send("\x04")
        assert first.wait() == 0
    finally:
        first.close()
    assert "let remembered = 12345" in hist.read_text(encoding="utf-8")
    second = Pty(tmp_path, {"FLUENTAI_HISTORY": str(hist)})
    try:
        second.ready()
        second.send("\x1b[A")  # Up: the last input
        second.drain(0.3)
        second.send("\x1b[A")  # Up again: the one before
        second.drain(0.3)
        second.send("\r")
        second.line("remembered + 1")
        second.expect(r"\n12346\n")
    finally:
        second.close()


# ---------------------------------------------------------------------------- piped
def run_piped(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fluentai", "repl"], input=text,
                          capture_output=True, text=True, timeout=60, cwd=tmp_path,
                          env={**os.environ, "FLUENTAI_HISTORY": "off"})


def test_piped_input_is_read_without_prompts(tmp_path: Path) -> None:
    r = run_piped(tmp_path, "let x = 1\nx = 2\nx * 21\n")  # nor assignments echoed
    assert (r.stdout, r.stderr, r.returncode) == ("42\n", "", 0)


def test_piped_error_goes_to_stderr_and_the_session_goes_on(tmp_path: Path) -> None:
    r = run_piped(tmp_path, 'nope\n"after"\nfunction f(a) {\n  a * 2\n}\nf(4)\n')
    assert r.stdout == '"after"\n8\n'
    assert r.stderr.startswith("<repl>:1:1: error: NameError: 'nope' is not defined\n")
    assert r.returncode == 1


def test_piped_commands(tmp_path: Path) -> None:
    (tmp_path / "lib.flc").write_text(
        'const K = 7\nfunction twice(v) { v * 2 }\nfunction main() { print("main ran") }\n',
        encoding="utf-8")
    r = run_piped(tmp_path, ":load lib.flc\ntwice(K)\n:effects\n:reset\n:help\nK\n")
    assert r.stdout.startswith("main ran\n14\n")
    assert re.search(r"^Time +.*sleep\(ms\)\*", r.stdout, re.M)
    assert "(fresh session)" in r.stdout and ":load FILE" in r.stdout
    assert "NameError: 'K' is not defined" in r.stderr  # :reset forgot it
    assert r.returncode == 1


def test_piped_quit_and_server_shutdown(tmp_path: Path) -> None:
    r = run_piped(tmp_path, "let s = perform HttpServer.listen(0).await()\ns.port > 0\n:quit\n")
    assert (r.stdout, r.stderr, r.returncode) == ("true\n", "", 0)


# ---------------------------------------------------------------------------- pieces
def test_incomplete_inputs() -> None:
    for text in ("function f() {", "[1, 2", '"abc', 'f"a {', 'f"a {"b', "/* note", "let x =",
                 "1 +\n", 'f"x {y}'):
        assert incomplete(text), text
    for text in ("1 + 2", "[1, 2 3", "}", "let x =\n\n", ":load a{", "let x = 1 // {"):
        assert not incomplete(text), text


def test_scan() -> None:
    text = 'let s = f"a {n + 1} b" // done\nperform Time.now() /* c */ 3.5 true'
    kinds = {text[a:b]: k for k, a, b in scan(text).tokens}
    assert kinds["let"] == "keyword" and kinds["perform"] == "keyword"
    assert kinds["Time"] == "effect" and kinds["true"] == "constant"
    assert kinds["3.5"] == "number" and kinds["1"] == "number"
    assert kinds["// done"] == "comment" and kinds["/* c */"] == "comment"
    assert kinds['f"'] == kinds["a "] == kinds[' b"'] == "string"
    assert kinds["{"] == kinds["}"] == "interp"


def highlighted(text: str) -> list[list[tuple[str, str]]]:
    """The prompt's lexer on `text`: per line, (style, text) fragments."""
    from prompt_toolkit.document import Document

    document = Document(text)
    get_line = InputLexer().lex_document(document)
    return [[(s, t) for s, t, *_ in get_line(n)] for n in range(len(document.lines))]


def test_highlight() -> None:
    text = 'let s = f"a {n + 1} b" // done\nperform Time.now() /* c\n */ 3.5 true'
    lines = highlighted(text)
    assert ["".join(t for _, t in line) for line in lines] == text.split("\n")
    colours = style()

    def look(piece: str) -> tuple[str, bool, bool]:
        found = [s for line in lines for s, t in line if t == piece]
        assert found, f"{piece!r} is not one fragment: {lines}"
        attrs = colours.get_attrs_for_style_str(found[0])
        return attrs.color or "", bool(attrs.bold), bool(attrs.italic)

    # Keywords, strings, numbers and comments each look different, and unlike plain names.
    kinds = {"let": look("let"), "string": look("a "), "number": look("3.5"),
             "comment": look("// done"), "name": look("s")}
    assert len(set(kinds.values())) == len(kinds), kinds
    assert look("perform") == kinds["let"] and look("1") == kinds["number"]
    assert look(" c") == look("*/") == kinds["comment"]  # over the line break
    assert look("true") not in (kinds["let"], kinds["name"])  # constants
    assert look("Time") not in (kinds["let"], kinds["name"])  # the effect
    assert look("{") != kinds["string"]  # an f-string's braces stand out from its text
    # A command is not FluentAI: one colour for the whole line.
    (command,) = highlighted(":load examples/hello.flc")
    assert len(command) == 1 and colours.get_attrs_for_style_str(command[0][0]).color


def test_completions() -> None:
    repl = Repl()
    asyncio.run(repl.handle('let server = {"id": "x", "port": 1}; let xs = [1]'))
    c = Completions(lambda: repl.session)

    def names(before: str) -> list[str]:
        return [name for name, _ in c.at(before)[1]]

    assert "Time" in names("perform Ti") and "print" in names("pr")
    assert names("perform Time.sl") == ["sleep"]
    assert names("Time.") == ["format", "now", "sleep"]
    assert names("server.p")[0] == "port"  # map keys first, then map methods
    assert "push" in names("xs.pu") and "keys" not in names("xs.")
    assert "to_upper" in names('"abc".to_u')
    assert "push" in names("unknown.pu") and "keys" in names("unknown.ke")
    assert "function" in names("func") and "server" in names("ser")
    assert "mine" in names("let mine = 1; mi")
    assert names('"in a str') == [] and names("// comment pr") == []
    assert ":load" in names(":lo")


def test_history_location(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FLUENTAI_HISTORY", "off")
    assert history_path() is None
    monkeypatch.setenv("FLUENTAI_HISTORY", "")
    assert history_path() is None
    monkeypatch.setenv("FLUENTAI_HISTORY", str(tmp_path / "h"))
    assert history_path() == tmp_path / "h"
    monkeypatch.delenv("FLUENTAI_HISTORY")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert history_path() == tmp_path / ".fluentai_history"
