"""The interactive session: definitions persist between inputs, expression values are echoed,
and the event loop keeps running while the prompt waits (so servers started at the prompt
keep serving). With stdin not a terminal, inputs are read from stdin without prompts."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from .builtins import new_globals
from .compile_support import is_async
from .compiler import Compiler, Module
from .errors import FluentError, FluentSyntaxError
from .interpreter import RECURSION_LIMIT, Interpreter, internal_error_text
from .parser import parse
from .source import Source
from .values import literal_text

PROMPT = ">>> "
CONTINUATION = "... "


class Session:
    """One REPL session: an interpreter plus the module whose globals persist."""

    def __init__(self, deterministic: bool = False) -> None:
        self.interp = Interpreter(deterministic=deterministic)
        self.module = Module("<repl>", "<repl>", new_globals())
        self.count = 0

    def needs_more(self, text: str) -> bool:
        """Whether `text` is an incomplete input (an open bracket, string or f-string)."""
        try:
            parse(Source("<repl>", text))
        except FluentSyntaxError as e:
            return e.message.startswith(("unclosed", "unterminated"))
        return False

    async def evaluate(self, text: str) -> Any:
        """Compile and run one input; returns its value (nil for declarations)."""
        source = Source("<repl>", text)
        program = parse(source)
        compiler = Compiler(self.interp, self.module,
                            lambda name, span: self.interp.load_module(name, span, None))
        code, size = compiler.program(program)
        env: list[Any] = [None] * size
        value = code(env)
        if is_async(code):
            value = await value
        if type(value) is tuple:
            value = value[0]
        return value

    async def run_input(self, text: str) -> None:
        if not text.strip():
            return
        try:
            value = await self.evaluate(text)
        except FluentError as e:
            sys.stderr.write(e.render() + "\n")
            sys.stderr.flush()
            return
        except Exception as e:
            sys.stderr.write(internal_error_text(e) + "\n")
            return
        if value is not None:
            sys.stdout.write(literal_text(value) + "\n")
            sys.stdout.flush()


async def _piped(session: Session) -> int:
    buffer = ""
    for line in sys.stdin:
        buffer += line
        if session.needs_more(buffer):
            continue
        await session.run_input(buffer)
        buffer = ""
    if buffer.strip():
        await session.run_input(buffer)
    while session.interp.tasks:
        await asyncio.wait(list(session.interp.tasks))
    return 0


async def _interactive(session: Session) -> int:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.patch_stdout import patch_stdout

    prompt: PromptSession[str] = PromptSession()
    sys.stdout.write("FluentAI REPL - :quit or Ctrl-D to exit\n")
    with patch_stdout(raw=True):
        while True:
            text = ""
            try:
                line = await prompt.prompt_async(PROMPT)
                text = line
                while session.needs_more(text):
                    text += "\n" + await prompt.prompt_async(CONTINUATION)
            except KeyboardInterrupt:
                continue
            except EOFError:
                return 0
            if text.strip() in (":quit", ":q", ":exit"):
                return 0
            await session.run_input(text)


def main(args: list[str]) -> int:
    sys.setrecursionlimit(max(sys.getrecursionlimit(), RECURSION_LIMIT))
    session = Session()
    runner = _interactive if sys.stdin.isatty() else _piped
    try:
        return asyncio.run(runner(session))
    except KeyboardInterrupt:
        return 0
