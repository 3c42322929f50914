"""The interactive session (`fluentai` or `fluentai repl`, SPEC §8).

Definitions persist between inputs (one set of module globals for the whole session, which
is also where servers look up their handlers by name), the value of an expression is echoed
(strings quoted; nothing for nil, a declaration or an assignment), and `perform` and
`.await()` work at the prompt.

On a terminal (stdin and stdout both ttys) the prompt is prompt_toolkit's, run without
blocking the event loop: servers started at the prompt keep serving while it waits, and what
their handlers print appears above the line being typed. The input continues on further
lines (prompt `... `) while a bracket, string, f-string or comment is open, or while it ends
where more must follow (`let x =`; a blank line then submits it to show the error).
Alt-Enter inserts a newline into a complete input. Tab completes globals, keywords, effect
names (after `perform `) and their operations (after `Effect.`), and methods after `.` (of
the value's type when the name before the dot is a session global, map keys included;
otherwise every method name); the input is highlighted by the Pygments lexer of
`pygments_lexer.py`, the one `pygmentize` uses (colours in `repl_style.py`).

History is kept in `~/.fluentai_history`; the environment variable FLUENTAI_HISTORY names
another file, and FLUENTAI_HISTORY=off (or empty) keeps history for the session only.

Each evaluation runs as an asyncio task. Ctrl-C at the prompt discards the input; during an
evaluation it cancels that task (or, when the evaluation is computing without waiting,
interrupts it where it is) and returns to the prompt. Servers and other background tasks are
never cancelled by Ctrl-C. Ctrl-D, `:quit` or SIGTERM stop the servers gracefully
(`Interpreter.shutdown`: WebSockets get close code 1001) and exit with status 0.

Errors are rendered as by `fluentai run`, with file name `<repl>` and line numbers counted
within the input; the session goes on.

Commands: `:help`, `:quit` (`:q`, `:exit`), `:load FILE` (run a file into the session: its
definitions become session globals; like `run`, it calls `main()` when the file defines
`main` and its top level does not call it), `:reload` (read the loaded files again and
replace their definitions, servers and state kept: docs/reload.md), `:reset` (stop servers,
start a fresh session), `:effects` (effects and their operations).

When stdin or stdout is not a terminal, inputs are read from stdin without prompts (an
input ends at the end of a line where nothing is left open), values are echoed on stdout and
errors go to stderr, and the session goes on after an error. At the end of the input the
session, like a program, keeps running while servers or tasks it started are running. The
exit status is 1 if any input failed (a syntax or runtime error, an unknown command, a file
`:load` cannot read), else 0 — as a program run with `fluentai run` would report.

`use name` at the prompt finds `name.flc` in the current directory, else the standard
library; in a file run by `:load`, beside that file.
"""

from __future__ import annotations

import asyncio
import os
import queue
import re
import shutil
import signal
import sys
import threading
from collections.abc import Callable as Fn
from collections.abc import Coroutine, Iterable, Iterator
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..effects import EffectHandler, operation
from ..effects.io import IO
from ..interpreter import (
    Interpreter,
    LoadError,
    configure_process,
    internal_error_text,
    read_source,
)
from ..interpreter.host import new_module
from ..interpreter.reload import Reloader
from ..runtime.values import display, literal_text
from ..syntax import ast
from ..syntax.errors import EffectErr, FluentError
from ..syntax.source import Source
from .effect_catalog import op_signature
from .repl_input import (
    COMMANDS,
    QUIT_COMMANDS,
    Completions,
    incomplete,
)

if TYPE_CHECKING:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.completion import CompleteEvent, Completion
    from prompt_toolkit.document import Document

PROMPT = ">>> "
CONTINUATION = "... "
INDENT = "    "
HISTORY_ENV = "FLUENTAI_HISTORY"
HISTORY_FILE = ".fluentai_history"

# The reserved words of grammar/fluentai.lark.

HELP = """\
Type a statement or an expression; the value of an expression is printed. Definitions
persist between inputs; `perform` and `.await()` work at the prompt, and servers started
here keep serving while the prompt waits.

An input continues on further lines (prompt `... `) while a bracket, string or comment is
open. Alt-Enter inserts a newline anyway.

Commands:
{commands}

Keys: Tab completes (globals, keywords, `perform Effect.op`, methods after `.`); Up/Down
walk the history; Ctrl-C discards the input or stops the running evaluation (servers keep
running); Ctrl-D leaves.
History: ~/{history} (set {env} to another file, or to `off`).
"""


class Interrupted(Exception):
    """Raised into an evaluation that Ctrl-C caught computing (not waiting)."""


# ---------------------------------------------------------------------------- the session
class Session:
    """One REPL session: an interpreter plus the module whose globals persist.

    `effects` are installed over the built-in handlers (the interactive front end replaces
    IO to read lines from the terminal itself)."""

    def __init__(self, deterministic: bool = False,
                 effects: Iterable[type[EffectHandler]] = ()) -> None:
        self.interp = Interpreter(deterministic=deterministic)
        for effect in effects:
            self.interp.register_effect(effect)
        self.module = new_module("<repl>", "<repl>")
        self.module.globals["args"] = []
        # Handlers named by servers (`handle_websocket_message`, routes by name) are looked
        # up here, so functions defined at the prompt serve requests.
        self.interp.main_globals = self.module.globals
        # The files `:load` ran, for `:reload`; its reports answer the command, on stdout.
        self.reloader = Reloader(self.interp, say=lambda line: _write_out(line + "\n"))
        self._plugins_loaded = False

    @property
    def globals(self) -> dict[str, Any]:
        return self.module.globals

    def needs_more(self, text: str) -> bool:
        """Whether `text` is an incomplete input (an open bracket, string or f-string)."""
        return incomplete(text)

    async def evaluate(self, text: str) -> Any:
        """Compile and run one input; returns its value (nil for declarations)."""
        value, res = await self.interp.exec(Source("<repl>", text), self.module, Path.cwd(),
                                            run_main=False)
        body = res.program.body
        if body and isinstance(body[-1], ast.Assign):
            return None  # like a declaration, an assignment is not echoed
        return value

    async def load(self, path: str) -> None:
        """`:load FILE`: run a program's top level in this session (then `main()` as `run`
        would), so its definitions become session globals."""
        source = read_source(path)
        compiled = self.interp.compile(source, self.module, Path(path).resolve().parent)
        self.reloader.adopt(path, self.module, compiled.resolution.program)
        await self.interp.run_top(compiled)
        await self.interp.run_main(compiled)

    async def reload(self) -> bool:
        """`:reload`: the files `:load` ran, and the modules they use that changed, reloaded
        into the session (docs/reload.md); False when one could not be."""
        paths = [*self.reloader.files, *(self.reloader.changed() - self.reloader.files.keys())]
        outcomes = await self.reloader.reload(paths)
        return all(o.ok for o in outcomes)

    def effects(self) -> dict[str, list[str]]:
        """Effect name -> operation names, installed plugins included."""
        self.load_plugins()
        return self.interp.registry.effects()

    def load_plugins(self) -> list[str]:
        if self._plugins_loaded:
            return []
        self._plugins_loaded = True
        try:
            return self.interp.registry.load_plugins()
        except Exception as e:  # a broken installation must not break the prompt
            return [f"effect plugins not loaded: {e}"]

    def effects_text(self, width: int = 80) -> str:
        problems = self.load_plugins()
        registry = self.interp.registry
        names = sorted(registry.effects())
        pad = max((len(n) for n in names), default=0) + 2
        lines: list[str] = [f"warning: {p}" for p in problems]
        for name in names:
            handler = registry.handler(name)
            if handler is None:
                continue
            ops = type(handler).operations()
            entries = [op_signature(ops[op]) for op in sorted(ops)]
            line = name.ljust(pad)
            for entry in entries:
                if len(line) > pad and len(line) + 1 + len(entry) > width:
                    lines.append(line.rstrip())
                    line = " " * pad
                line += entry + " "
            lines.append(line.rstrip())
        lines.append("(* async: gives a promise; use `perform E.op(...).await()`)")
        return "\n".join(lines)

    async def wait_tasks(self) -> None:
        """Wait, as a program would, until the servers and tasks started have finished."""
        while self.interp.tasks:
            await asyncio.wait(list(self.interp.tasks))

    async def close(self) -> None:
        """Stop servers gracefully and cancel what is still running."""
        await self.interp.shutdown()
        pending = [t for t in self.interp.tasks if not t.done()]
        if pending:
            await asyncio.wait(pending, timeout=3)


# ---------------------------------------------------------------------------- commands
class Repl:
    """What both front ends share: commands, running an input as a cancellable task,
    reporting its value or error."""

    def __init__(self, deterministic: bool = False, terminal: bool = False) -> None:
        self.deterministic = deterministic
        self.effects: tuple[type[EffectHandler], ...] = (_terminal_io(self),) if terminal else ()
        self.session = Session(deterministic, self.effects)
        self.current: asyncio.Task[Any] | None = None  # the running evaluation
        self.failed = False  # some input failed (the piped mode's exit status)
        self.quit = False
        self.on_quit: Fn[[], None] | None = None  # stops a prompt that is waiting
        self.prompting = False  # the REPL's prompt is reading the terminal

    async def handle(self, text: str) -> bool:
        """Run one input (a command or FluentAI code); False when it failed."""
        stripped = text.strip()
        if not stripped:
            return True
        if stripped.startswith(":"):
            return await self.command(stripped)
        return await self.run(self.session.evaluate(text), echo=True)

    async def command(self, text: str) -> bool:
        name, _, arg = text.partition(" ")
        arg = arg.strip()
        if name in QUIT_COMMANDS:
            self.quit = True
            return True
        if name in (":help", ":h", ":?"):
            _write_out(_help_text())
            return True
        if name == ":effects":
            _write_out(self.session.effects_text(_terminal_width()) + "\n")
            return True
        if name == ":reset":
            await self.session.close()
            self.session = Session(self.deterministic, self.effects)
            _write_out("(fresh session)\n")
            return True
        if name == ":load":
            if not arg:
                return self.fail("error: usage: :load FILE")
            if len(arg) >= 2 and arg[0] == arg[-1] and arg[0] in "\"'":
                arg = arg[1:-1]
            return await self.run(self.session.load(os.path.expanduser(arg)), echo=False)
        if name == ":reload":
            if not self.session.reloader.files:
                return self.fail("error: nothing to reload: :reload reloads the files "
                                 ":load ran")
            reloaded: list[bool] = []

            async def reload() -> None:
                reloaded.append(await self.session.reload())

            if not await self.run(reload(), echo=False):
                return False
            if not reloaded[0]:  # reported by the reload
                self.failed = True
                return False
            return True
        return self.fail(f"error: unknown command '{name}' (:help lists the commands)")

    def fail(self, message: str) -> bool:
        self.failed = True
        _write_err(message + "\n")
        return False

    async def run(self, coro: Coroutine[Any, Any, Any], echo: bool) -> bool:
        """Run `coro` as a task that Ctrl-C can cancel; echo its value or report its error."""
        io = self.session.interp.handler("IO")
        if isinstance(io, TerminalIO):
            io.partial = ""
        task = asyncio.get_running_loop().create_task(coro)
        self.current = task
        try:
            await asyncio.wait({task})
        except asyncio.CancelledError:
            task.cancel()
            raise
        finally:
            self.current = None
        if task.cancelled():
            _write_err("interrupted\n")
            return False
        error = task.exception()
        if error is None:
            value = task.result()
            if echo and value is not None:
                _write_out(literal_text(value) + "\n")
            return True
        if isinstance(error, Interrupted):
            _write_err("interrupted\n")
            return False
        self.failed = True
        _write_err(error_text(error) + "\n")
        return False

    # Signals -----------------------------------------------------------------------
    def on_sigint(self, signum: int, frame: FrameType | None) -> None:
        """Ctrl-C outside the prompt (prompt_toolkit handles it at the prompt): stop the
        running evaluation, never the servers."""
        task = self.current
        if task is None or task.done():
            return
        loop = task.get_loop()
        if asyncio.current_task(loop) is task:
            # The evaluation is computing right now (say `loop {}`): a cancellation would
            # wait for an await that may never come, so stop it where it is.
            raise Interrupted()
        loop.call_soon_threadsafe(task.cancel)

    def on_sigterm(self) -> None:
        self.quit = True
        if self.current is not None:
            self.current.cancel()
        if self.on_quit is not None:
            self.on_quit()


class TerminalIO(IO):
    """IO whose `read_line` reads the terminal with a prompt_toolkit prompt of its own, so
    that Ctrl-C cancels it. (The stock one reads stdin in a thread, which cannot be stopped:
    an abandoned read would swallow what is typed at the REPL's prompt.) `_terminal_io`
    makes the subclass that knows its REPL."""

    repl: Repl
    # What IO.print left on the current line: read_line redraws it as its prompt, since
    # prompt_toolkit draws from the start of the line (`IO.print("Name? ")` idiom).
    partial = ""

    @operation()
    def print(self, value: Any) -> None:
        text = display(value)
        super().print(text)
        _, newline, tail = text.rpartition("\n")
        self.partial = tail if newline else self.partial + tail

    @operation()
    def println(self, value: Any = "") -> None:
        super().println(value)
        self.partial = ""

    @operation()
    async def read_line(self) -> str | None:
        from prompt_toolkit import PromptSession

        if self.repl.prompting:
            raise EffectErr("IO.read_line() cannot read the terminal while the REPL's "
                            "prompt is waiting for input")
        sys.stdout.flush()
        reader: PromptSession[str] = PromptSession()
        message, self.partial = self.partial, ""
        try:
            return await reader.prompt_async(message)
        except EOFError:
            return None
        except KeyboardInterrupt:
            raise asyncio.CancelledError() from None


def _terminal_io(repl: Repl) -> type[EffectHandler]:
    return type("TerminalIO", (TerminalIO,), {"repl": repl})


def _help_text() -> str:
    commands = "\n".join(f"  {c + a:<11} {d}" for c, (a, d) in COMMANDS.items())
    return HELP.format(commands=commands, history=HISTORY_FILE, env=HISTORY_ENV)


def error_text(error: BaseException) -> str:
    if isinstance(error, FluentError):
        return error.render()
    if isinstance(error, LoadError):
        return f"error: {error}"
    if isinstance(error, RecursionError):
        return "error: stack overflow: too many nested calls"
    return internal_error_text(error)


def _write_out(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def _write_err(text: str) -> None:
    sys.stdout.flush()
    sys.stderr.write(text)
    sys.stderr.flush()


def _terminal_width() -> int:
    return max(40, shutil.get_terminal_size((80, 24)).columns)


# ---------------------------------------------------------------------------- piped mode
class _LineReader:
    """Reads lines of a blocking stream in a daemon thread, one per request, so the event
    loop keeps serving while no input comes and nothing is read ahead (an evaluation's
    `IO.read_line` gets the next line)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._requests: queue.Queue[tuple[asyncio.AbstractEventLoop, asyncio.Future[str]]]
        self._requests = queue.Queue()
        threading.Thread(target=self._serve, name="fluentai-repl-stdin", daemon=True).start()

    def _serve(self) -> None:
        while True:
            loop, fut = self._requests.get()
            try:
                line: str | BaseException = self._stream.readline()
            except BaseException as e:
                line = e
            try:
                loop.call_soon_threadsafe(_settle, fut, line)
            except RuntimeError:
                return  # the loop has closed

    async def readline(self) -> str:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[str] = loop.create_future()
        self._requests.put((loop, fut))
        return await fut


def _settle(fut: asyncio.Future[str], line: str | BaseException) -> None:
    if fut.done():
        return
    if isinstance(line, BaseException):
        fut.set_exception(line)
    else:
        fut.set_result(line)


async def _piped(repl: Repl) -> int:
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    try:
        if task is not None:
            loop.add_signal_handler(signal.SIGTERM, task.cancel)
    except (NotImplementedError, RuntimeError, ValueError):
        pass
    reader = _LineReader(sys.stdin)
    buffer = ""
    try:
        while not repl.quit:
            try:
                line = await reader.readline()
            except (OSError, ValueError, UnicodeDecodeError) as e:
                repl.fail(f"error: cannot read the input: {e}")
                break
            if not line:
                break
            buffer += line
            if repl.session.needs_more(buffer):
                continue
            text, buffer = buffer, ""
            await repl.handle(text)
        if buffer.strip() and not repl.quit:
            await repl.handle(buffer)
        if not repl.quit:
            await repl.session.wait_tasks()
    finally:
        await asyncio.shield(repl.session.close())
        try:
            loop.remove_signal_handler(signal.SIGTERM)
        except (NotImplementedError, RuntimeError, ValueError):
            pass
    return 1 if repl.failed else 0


# ---------------------------------------------------------------------------- interactive
def history_path() -> Path | None:
    """Where the history is kept: FLUENTAI_HISTORY, else ~/.fluentai_history; None for no
    history file (FLUENTAI_HISTORY=off or empty, or no home directory)."""
    configured = os.environ.get(HISTORY_ENV)
    if configured is not None:
        if configured.strip().lower() in ("", "off", "none", "0", "false", "no"):
            return None
        return Path(configured).expanduser()
    try:
        return Path.home() / HISTORY_FILE
    except (RuntimeError, KeyError):
        return None


def _history() -> Any:
    from prompt_toolkit.history import FileHistory, InMemoryHistory

    path = history_path()
    if path is None:
        return InMemoryHistory()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8"):
            pass
    except OSError as e:
        _write_err(f"warning: history not saved: cannot write {path}: {e.strerror}\n")
        return InMemoryHistory()
    return FileHistory(str(path))


def _make_completer(repl: Repl) -> Any:
    from prompt_toolkit.completion import Completer, Completion, PathCompleter
    from prompt_toolkit.document import Document

    completions = Completions(lambda: repl.session)
    paths = PathCompleter(expanduser=True)

    class FluentCompleter(Completer):
        def get_completions(self, document: Document,
                            complete_event: CompleteEvent) -> Iterator[Completion]:
            before = document.text_before_cursor
            m = re.match(r"\s*:load\s+(.*)$", before, re.S)
            if m:
                sub = Document(m.group(1), len(m.group(1)))
                yield from paths.get_completions(sub, complete_event)
                return
            try:
                replace, items = completions.at(before)
            except Exception:
                return  # completion must never break the prompt
            for text, meta in items:
                yield Completion(text, start_position=-replace, display_meta=meta)

    return FluentCompleter()


def _key_bindings(repl: Repl) -> Any:
    from prompt_toolkit.filters import Condition
    from prompt_toolkit.key_binding import KeyBindings

    kb = KeyBindings()

    def newline(event: Any) -> None:
        buf = event.current_buffer
        doc = buf.document
        line = doc.current_line_before_cursor
        indent = line[: len(line) - len(line.lstrip())]
        if line.rstrip().endswith(("{", "[", "(")):
            indent += INDENT
        buf.insert_text("\n" + indent)

    @kb.add("enter")
    @kb.add("c-j")
    def _enter(event: Any) -> None:
        buf = event.current_buffer
        if buf.complete_state is not None and buf.complete_state.current_completion:
            buf.apply_completion(buf.complete_state.current_completion)
            return
        if repl.session.needs_more(buf.text):
            newline(event)
        else:
            buf.validate_and_handle()

    @kb.add("escape", "enter")
    def _newline(event: Any) -> None:
        newline(event)

    @Condition
    def blank_before_cursor() -> bool:
        from prompt_toolkit.application.current import get_app

        line = get_app().current_buffer.document.current_line_before_cursor
        return not line.strip()

    @kb.add("tab", filter=blank_before_cursor)
    def _indent(event: Any) -> None:
        event.current_buffer.insert_text(INDENT)

    for closer in ")]}":
        @kb.add(closer, filter=blank_before_cursor)
        def _dedent(event: Any) -> None:
            buf = event.current_buffer
            line = buf.document.current_line_before_cursor
            if line.endswith(INDENT):
                buf.delete_before_cursor(len(INDENT))
            buf.insert_text(event.data)

    return kb


def _prompt_session(repl: Repl) -> PromptSession[str]:
    from prompt_toolkit import PromptSession

    from .repl_style import InputLexer, style

    def continuation(width: int, line_number: int, is_soft_wrap: int) -> str:
        return "" if is_soft_wrap else CONTINUATION.rjust(width)

    return PromptSession(
        message=PROMPT,
        multiline=True,
        prompt_continuation=continuation,
        lexer=InputLexer(),
        completer=_make_completer(repl),
        complete_while_typing=False,
        history=_history(),
        key_bindings=_key_bindings(repl),
        style=style(),
        include_default_pygments_style=False,
        enable_open_in_editor=False,
    )


async def _interactive(repl: Repl) -> int:
    from prompt_toolkit.patch_stdout import patch_stdout

    prompt = _prompt_session(repl)
    loop = asyncio.get_running_loop()

    def stop_prompt() -> None:
        if prompt.app.is_running:
            prompt.app.exit(exception=EOFError())

    repl.on_quit = stop_prompt
    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, repl.on_sigint)
    try:
        loop.add_signal_handler(signal.SIGTERM, repl.on_sigterm)
    except (NotImplementedError, RuntimeError, ValueError):
        pass
    _write_out(f"FluentAI {__version__} - :help for help, :quit or Ctrl-D to leave\n")
    try:
        while not repl.quit:
            try:
                # Patched only while the prompt waits: what runs meanwhile (servers) prints
                # above the prompt; an evaluation's own output goes straight out, in order.
                with patch_stdout(raw=True):
                    repl.prompting = True
                    try:
                        text = await prompt.prompt_async()
                    finally:
                        repl.prompting = False
                        sys.stdout.flush()
            except KeyboardInterrupt:
                continue
            except EOFError:
                break
            await repl.handle(text)
    finally:
        signal.signal(signal.SIGINT, previous)
        try:
            loop.remove_signal_handler(signal.SIGTERM)
        except (NotImplementedError, RuntimeError, ValueError):
            pass
        await asyncio.shield(repl.session.close())
    return 0


USAGE = "usage: fluentai repl [--deterministic]"


def main(args: list[str]) -> int:
    deterministic = False
    for arg in args:
        if arg == "--deterministic":
            deterministic = True
        elif arg in ("-h", "--help"):
            _write_out(f"{USAGE}\n\n  --deterministic   fixed clock advancing with sleeps, "
                       f"seeded Random, predictable ids\n\n{_help_text()}")
            return 0
        else:
            sys.stderr.write(f"fluentai repl: unknown argument '{arg}'\n{USAGE}\n")
            return 2
    configure_process()
    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    repl = Repl(deterministic, terminal=interactive)
    runner = _interactive if interactive else _piped
    try:
        return asyncio.run(runner(repl))
    except (KeyboardInterrupt, asyncio.CancelledError):
        return 1 if repl.failed else 0
