"""The IO effect: console output and input, and whole-file reads and writes."""

from __future__ import annotations

import asyncio
import sys
import threading
from typing import Any

from ..runtime.values import display
from ..syntax.errors import EffectErr
from . import STRING, EffectHandler, expect, operation


class _StdinReader:
    """Reads stdin in a daemon thread, one line per request. A blocked read cannot be
    cancelled, so it must not be an executor job (the executor would keep the process alive
    after Ctrl-C); a line read for a cancelled request is kept for the next one."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ready: list[str] = []
        self.reading = False
        self.waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[str]]] = []

    async def read_line(self) -> str:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[str] = loop.create_future()
        with self.lock:
            if self.ready:
                return self.ready.pop(0)
            self.waiters.append((loop, future))
            if not self.reading:
                self.reading = True
                threading.Thread(target=self._read, daemon=True).start()
        return await future

    def _read(self) -> None:
        while True:
            try:
                line = sys.stdin.readline()
            except (OSError, ValueError):
                line = ""
            with self.lock:
                while self.waiters:
                    loop, future = self.waiters.pop(0)
                    if not future.done():
                        try:
                            loop.call_soon_threadsafe(_settle, future, line)
                        except RuntimeError:  # that loop is closed
                            continue
                        break
                else:
                    self.ready.append(line)
                if not self.waiters or line == "":
                    self.reading = False
                    return


def _settle(future: asyncio.Future[str], line: str) -> None:
    if not future.done():
        future.set_result(line)


_reader: _StdinReader | None = None


def _stdin_reader() -> _StdinReader:
    global _reader
    if _reader is None:
        _reader = _StdinReader()
    return _reader


class IO(EffectHandler):
    effect = "IO"

    @operation()
    def print(self, value: Any) -> None:
        """Write the value's text without a newline."""
        self.ctx.write_out(display(value))

    @operation()
    def println(self, value: Any = "") -> None:
        """Write the value's text and a newline."""
        self.ctx.write_out(display(value) + "\n")

    @operation()
    async def read_line(self) -> str | None:
        """One line from standard input without its newline; nil at end of input."""
        line = await _stdin_reader().read_line()
        if line == "":
            return None
        return line[:-1] if line.endswith("\n") else line

    @operation()
    def read_file(self, path: Any) -> str:
        """The text of a UTF-8 file."""
        expect("IO.read_file()", path, STRING.named("a path string"))
        try:
            with open(path, encoding="utf-8") as f:
                return f.read()
        except UnicodeDecodeError:
            raise EffectErr(f"IO.read_file(): '{path}' is not valid UTF-8 text") from None
        except OSError as e:
            raise EffectErr(f"IO.read_file(): cannot read '{path}': {e.strerror}") from None

    @operation()
    def write_file(self, path: Any, text: Any) -> None:
        """Write a value's text to a file, replacing what it held."""
        expect("IO.write_file()", path, STRING.named("a path string"))
        try:
            with open(path, "w", encoding="utf-8") as f:
                f.write(display(text))
        except OSError as e:
            raise EffectErr(f"IO.write_file(): cannot write '{path}': {e.strerror}") from None
