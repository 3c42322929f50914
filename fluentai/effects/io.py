"""The IO effect: console output and input, and whole-file reads and writes."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from ..errors import EffectErr
from ..values import display
from . import EffectHandler, expect, operation


class IO(EffectHandler):
    effect = "IO"

    @operation()
    def print(self, value: Any) -> None:
        """Write the value's text without a newline."""
        self.ctx.write_out(display(value))

    @operation()
    def println(self, value: Any = "") -> None:
        self.ctx.write_out(display(value) + "\n")

    @operation()
    async def read_line(self) -> str | None:
        """One line from standard input without its newline; nil at end of input."""
        loop = asyncio.get_running_loop()
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if line == "":
            return None
        return line[:-1] if line.endswith("\n") else line

    @operation()
    def read_file(self, path: Any) -> str:
        expect("IO.read_file()", path, str, name="a path string")
        try:
            with open(path, encoding="utf-8") as f:
                return f.read()
        except UnicodeDecodeError:
            raise EffectErr(f"IO.read_file(): '{path}' is not valid UTF-8 text") from None
        except OSError as e:
            raise EffectErr(f"IO.read_file(): cannot read '{path}': {e.strerror}") from None

    @operation()
    def write_file(self, path: Any, text: Any) -> None:
        expect("IO.write_file()", path, str, name="a path string")
        try:
            with open(path, "w", encoding="utf-8") as f:
                f.write(display(text))
        except OSError as e:
            raise EffectErr(f"IO.write_file(): cannot write '{path}': {e.strerror}") from None
