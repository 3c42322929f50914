"""A small Language Server Protocol client for the tests and the benchmark: it starts
`fluentai lsp` as a real subprocess and speaks JSON-RPC to it over stdin and stdout, with
the protocol's `Content-Length` framing. A reader thread files every message the server
sends: responses by id, notifications in arrival order, and answers the server's own
requests (`workspace/configuration`, capability registration) with nothing. `where` finds
a 0-based position in a text."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 60.0  # a safety net against a hung server, never a measure of speed


class ServerError(Exception):
    """The server answered a request with an error."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error.get("message", ""))
        self.error = error


class LspClient:
    def __init__(self, *args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> None:
        command = [sys.executable, "-m", "fluentai", "lsp", *args]
        self.proc = subprocess.Popen(
            command, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env={**os.environ, **(env or {})})
        self._next_id = 0
        self._lock = threading.Lock()
        self._responses: dict[int, queue.Queue[dict[str, Any]]] = {}
        self.notifications: queue.Queue[dict[str, Any]] = queue.Queue()
        self.seen: list[dict[str, Any]] = []  # every notification, in arrival order
        self._stderr: list[bytes] = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._drain_stderr, daemon=True).start()

    # ---------------------------------------------------------------- wire
    def _send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8")
        assert self.proc.stdin is not None
        with self._lock:
            self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            self.proc.stdin.flush()

    def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    self.notifications.put({"method": "$eof"})
                    return
                line = line.strip()
                if not line:
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            assert length is not None, "a message without Content-Length"
            message = json.loads(out.read(length))
            if "id" in message and "method" in message:  # the server asks something
                self._send({"id": message["id"], "result": None})
            elif "id" in message:
                self._queue(message["id"]).put(message)
            else:
                self.seen.append(message)
                self.notifications.put(message)

    def _drain_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._stderr.append(line)

    @property
    def stderr(self) -> str:
        return b"".join(self._stderr).decode("utf-8", "replace")

    def _queue(self, msg_id: int) -> queue.Queue[dict[str, Any]]:
        with self._lock:
            return self._responses.setdefault(msg_id, queue.Queue())

    # ---------------------------------------------------------------- calls
    def send_request(self, method: str, params: Any) -> int:
        with self._lock:
            self._next_id += 1
            msg_id = self._next_id
        self._send({"id": msg_id, "method": method, "params": params})
        return msg_id

    def response(self, msg_id: int) -> dict[str, Any]:
        try:
            return self._queue(msg_id).get(timeout=WAIT_S)
        except queue.Empty:
            raise AssertionError(f"no response to request {msg_id}; stderr:\n"
                                 f"{self.stderr}") from None

    def request(self, method: str, params: Any) -> Any:
        """The result of a request (ServerError for an error answer)."""
        message = self.response(self.send_request(method, params))
        if "error" in message:
            raise ServerError(message["error"])
        return message.get("result")

    def notify(self, method: str, params: Any) -> None:
        self._send({"method": method, "params": params})

    def wait_for(self, method: str, where: Callable[[dict[str, Any]], bool] = lambda p: True
                 ) -> dict[str, Any]:
        """The params of the next notification `method` for which `where` holds."""
        while True:
            try:
                message = self.notifications.get(timeout=WAIT_S)
            except queue.Empty:
                raise AssertionError(f"no {method} notification; stderr:\n"
                                     f"{self.stderr}") from None
            if message["method"] == "$eof":
                raise AssertionError(f"the server exited while waiting for {method}; "
                                     f"stderr:\n{self.stderr}")
            if message["method"] == method and where(message["params"]):
                return message["params"]

    # ---------------------------------------------------------------- the protocol
    def initialize(self, options: dict[str, Any] | None = None,
                   encodings: list[str] | None = None) -> dict[str, Any]:
        capabilities: dict[str, Any] = {
            "textDocument": {"semanticTokens": {"requests": {"full": True},
                                                "tokenTypes": [], "tokenModifiers": [],
                                                "formats": ["relative"]},
                             "hover": {"contentFormat": ["markdown"]},
                             "documentSymbol": {"hierarchicalDocumentSymbolSupport": True},
                             "rename": {"prepareSupport": True}}}
        if encodings:
            capabilities["general"] = {"positionEncodings": encodings}
        result = self.request("initialize", {
            "processId": os.getpid(), "rootUri": ROOT.as_uri(), "capabilities": capabilities,
            "initializationOptions": options or {}})
        self.notify("initialized", {})
        return result

    def open(self, uri: str, text: str, version: int = 1) -> dict[str, Any]:
        """didOpen, then the diagnostics published for it."""
        self.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": "fluentai", "version": version, "text": text}})
        return self.wait_for("textDocument/publishDiagnostics",
                             lambda p: p["uri"] == uri and p.get("version") == version)

    def change(self, uri: str, version: int, text: str,
               at: tuple[tuple[int, int], tuple[int, int]] | None = None) -> None:
        """didChange: the whole text, or `text` replacing the range `at`."""
        change: dict[str, Any] = {"text": text}
        if at is not None:
            (l1, c1), (l2, c2) = at
            change["range"] = {"start": {"line": l1, "character": c1},
                               "end": {"line": l2, "character": c2}}
        self.notify("textDocument/didChange", {
            "textDocument": {"uri": uri, "version": version}, "contentChanges": [change]})

    def diagnostics_for(self, uri: str, version: int) -> dict[str, Any]:
        return self.wait_for("textDocument/publishDiagnostics",
                             lambda p: p["uri"] == uri and p.get("version") == version)

    def at(self, method: str, uri: str, line: int, character: int, **extra: Any) -> Any:
        return self.request(method, {"textDocument": {"uri": uri},
                                     "position": {"line": line, "character": character},
                                     **extra})

    def close(self) -> int:
        """shutdown, exit, and the server's exit status."""
        if self.proc.poll() is None:
            try:
                self.request("shutdown", None)
                self.notify("exit", None)
            except (OSError, AssertionError):
                self.proc.kill()
        try:
            return self.proc.wait(timeout=WAIT_S)
        finally:
            for stream in (self.proc.stdin, self.proc.stdout):
                if stream is not None:
                    stream.close()


def where(text: str, needle: str, nth: int = 0, offset: int = 0) -> tuple[int, int]:
    """0-based (line, character) of the `nth` occurrence of `needle`, plus `offset`
    characters (the texts here are ASCII, so characters are UTF-16 units)."""
    start = -1
    for _ in range(nth + 1):
        start = text.index(needle, start + 1)
    start += offset
    line = text.count("\n", 0, start)
    return line, start - (text.rfind("\n", 0, start) + 1)
