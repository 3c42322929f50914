"""The interpreter: compiles programs and modules, hosts the effect handlers, and runs a
program through its whole lifetime (top level, `main`, then whatever tasks it left running).

`Interpreter` is the object compiled code and effect handlers talk to (`runtime.Host` and
`effects.EffectContext`). `run_path` is the `fluentai run` command as a function.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
import time
import traceback
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..compile.codegen import Compiler, Module
from ..compile.support import is_async
from ..effects import EffectHandler, EffectRegistry, check_arity
from ..effects.error import Error
from ..effects.io import IO
from ..effects.random import Random
from ..effects.state import State
from ..effects.time import Time
from ..runtime.builtins import new_globals
from ..runtime.functions import Code, Function, call_value
from ..runtime.tasks import HANDLERS, spawn, start_eager
from ..runtime.values import Callable, Promise
from ..syntax import ast
from ..syntax.errors import FluentError, FluentSyntaxError, RuntimeFault
from ..syntax.parser import parse
from ..syntax.resources import stdlib_dir
from ..syntax.source import Source, Span

# Deterministic mode's clock starts here: 2024-01-01T00:00:00Z.
DETERMINISTIC_EPOCH_MS = 1_704_067_200_000
RECURSION_LIMIT = 20_000
BUILTIN_EFFECTS: tuple[type[EffectHandler], ...] = (IO, Time, Random, State, Error)
# Imported on first use: they bring in uvicorn, websockets and httpx.
LAZY_EFFECTS = {
    "HttpServer": "fluentai.effects.http_server:HttpServer",
    "WebSocket": "fluentai.effects.websocket:WebSocket",
    "WebSocketClient": "fluentai.effects.ws_client:WebSocketClient",
    "Network": "fluentai.effects.network:Network",
}


class LoadError(Exception):
    """A program file that cannot be read: exit status `status`, message without span."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def read_source(path: str) -> Source:
    p = Path(path)
    if p.is_dir():
        raise LoadError(f"{path} is a directory, not a program file", 2)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise LoadError(f"cannot open {path}: no such file", 2) from None
    except OSError as e:
        raise LoadError(f"cannot open {path}: {e.strerror}", 2) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        before = data[: e.start]
        line = before.count(b"\n") + 1
        col = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
        src = Source(path, data.decode("utf-8", "replace"))
        raise FluentSyntaxError(
            f"invalid UTF-8 (byte 0x{data[e.start]:02x}); programs must be UTF-8 text",
            Span(src, line, col),
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise LoadError(f"{path} is empty: nothing to run", 1)
    return Source(path, text)


class Interpreter:
    def __init__(
        self,
        *,
        deterministic: bool = False,
        argv: list[str] | None = None,
        effects: list[type[EffectHandler]] | None = None,
        cluster: str | None = None,
    ) -> None:
        self.deterministic = deterministic
        # A Redis URL: the program's servers join their cluster groups there (HttpServer).
        self.cluster = cluster
        self.argv = list(argv or [])
        self.registry = EffectRegistry(self)
        self._random = random.Random(0 if deterministic else None)
        self._id_random = random.Random(1 if deterministic else None)
        self._clock_ms = DETERMINISTIC_EPOCH_MS
        self.tasks: set[asyncio.Task[Any]] = set()
        self.modules: dict[Path, tuple[Module, Code]] = {}
        self._loading: list[Path] = []
        # The globals handlers are looked up in (the program's, or the REPL session's).
        self.main_globals: dict[str, Any] = {}
        for name, target in LAZY_EFFECTS.items():
            self.registry.register_lazy(name, target)
        for effect in (*BUILTIN_EFFECTS, *(effects or ())):
            self.register_effect(effect)

    def register_effect(self, effect: type[EffectHandler]) -> EffectHandler:
        """Install a runtime handler (replacing any for the same effect); returns it."""
        handler = effect(self)
        self.registry.register(handler)
        return handler

    # ------------------------------------------------------------------ runtime.Host
    def perform(self, effect: str, op: str, args: list[Any], span: Span | None = None) -> Any:
        stack = HANDLERS.get()
        for i in range(len(stack) - 1, -1, -1):
            clause = stack[i].get((effect, op))
            if clause is not None:
                # The clause runs outside its own frame: a perform inside it goes outward.
                token = HANDLERS.set(stack[:i])
                try:
                    return clause.call(_fit(args, clause))
                finally:
                    HANDLERS.reset(token)
        handler, spec = self.registry.lookup(effect, op)
        check_arity(effect, spec, args)
        result = spec.fn(handler, *args)
        if spec.is_async:
            return start_eager(result, self, span) if spec.eager else spawn(result, self, span)
        return result

    def report(self, error: BaseException, context: str) -> None:
        if isinstance(error, FluentError):
            text = error.render()
        else:
            text = internal_error_text(error)
        self.write_err(f"{text}\nnote: {context}\n")

    def track(self, task: asyncio.Task[Any]) -> None:
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    # ------------------------------------------------------------------ effects.EffectContext
    def now_ms(self) -> int:
        if self.deterministic:
            return self._clock_ms
        return int(time.time() * 1000)

    async def sleep(self, ms: float) -> None:
        start = self._clock_ms
        await asyncio.sleep(ms / 1000)
        if self.deterministic:
            # The clock advances with sleeps; concurrent sleepers keep it monotonic.
            self._clock_ms = max(self._clock_ms, start + int(ms))

    def write_out(self, text: str) -> None:
        out = sys.stdout
        out.write(text)
        out.flush()

    def write_err(self, text: str) -> None:
        err = sys.stderr
        err.write(text)
        err.flush()

    def new_id(self, prefix: str = "") -> str:
        return prefix + str(uuid.UUID(int=self._id_random.getrandbits(128), version=4))

    def call(self, fn: Any, args: list[Any]) -> Any:
        return call_value(fn, args)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> Promise:
        return spawn(coro, self)

    def lookup_global(self, name: str) -> Any:
        return self.main_globals.get(name)

    async def invoke(self, fn: Any, args: list[Any]) -> Any:
        n = fn.arity() if isinstance(fn, Callable) else None
        if n is not None and n < len(args):
            args = args[:n]  # handlers may declare fewer parameters (SPEC §7)
        if isinstance(fn, Function):
            result = await fn.invoke_async(args)
        else:
            result = call_value(fn, args)
        if type(result) is Promise:
            result = await result.wait()
        return result

    def handler(self, effect: str) -> EffectHandler | None:
        return self.registry.handler(effect)

    async def shutdown(self) -> None:
        """End of program or signal: every effect releases what it holds (servers close
        their WebSockets with 1001), then tasks still running are cancelled."""
        for handler in self.registry.handlers():
            try:
                await handler.shutdown()
            except Exception as e:
                self.report(e, f"while shutting down {handler.effect}")
        for task in list(self.tasks):
            task.cancel()

    @property
    def random(self) -> random.Random:
        return self._random

    # ------------------------------------------------------------------ compiling
    def compile_module(self, source: Source, name: str, directory: Path | None,
                       globals_: dict[str, Any] | None = None) -> Compiled:
        program = parse(source)
        module = Module(name, source.name, globals_ if globals_ is not None else new_globals())
        compiler = Compiler(self, module, lambda mod, span: self.load_module(mod, span, directory))
        try:
            code, size = compiler.program(program)
        except RecursionError:
            raise FluentSyntaxError("program is nested too deeply", Span(source, 1, 1)) from None
        return Compiled(module, code, size, compiler, program)

    def load_module(self, name: str, span: Span, directory: Path | None) -> tuple[Module, Code]:
        """Find, compile and cache module `name`: `name.flc` beside the importing file, else
        the standard library. Returns the module and code that runs its top level once."""
        candidates = [directory / f"{name}.flc"] if directory is not None else []
        candidates.append(stdlib_dir() / f"{name}.flc")
        path = next((p for p in candidates if p.is_file()), None)
        if path is None:
            raise FluentSyntaxError(f"no module named '{name}' (looked for {name}.flc beside "
                                    f"the program and in the standard library)", span)
        path = path.resolve()
        if path in self.modules:
            return self.modules[path]
        if path in self._loading:
            raise FluentSyntaxError(f"circular use of module '{name}'", span)
        self._loading.append(path)
        try:
            try:
                source = read_source(_shown_path(path))
            except LoadError as e:
                raise FluentSyntaxError(str(e), span) from None
            compiled = self.compile_module(source, name, path.parent)
        finally:
            self._loading.pop()
        entry = (compiled.module, _run_once(compiled.code, compiled.size))
        self.modules[path] = entry
        return entry

    # ------------------------------------------------------------------ running
    async def run_program(self, source: Source) -> None:
        """Compile and run a program to the end of its lifetime (SPEC §2)."""
        directory = Path(source.name).parent
        compiled = self.compile_module(source, "__main__", directory)
        module, code, program = compiled.module, compiled.code, compiled.program
        module.globals["args"] = list(self.argv)
        self.main_globals = module.globals
        env: list[Any] = [None] * compiled.size
        try:
            result = code(env)
            if is_async(code):
                await result
            main = module.globals.get("main")
            if isinstance(main, Function) and not calls_main(program):
                await main.invoke_async([])
            while self.tasks:
                await asyncio.wait(list(self.tasks))
        finally:
            await asyncio.shield(self.shutdown())


@dataclass
class Compiled:
    module: Module
    code: Code
    size: int  # of the module frame the code runs in
    compiler: Compiler
    program: ast.Program


def calls_main(program: ast.Program) -> bool:
    """Whether the top level (outside function bodies) calls `main` itself."""
    stack: list[Any] = list(program.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDecl | ast.Lambda):
            continue
        if isinstance(node, ast.Call) and isinstance(node.callee, ast.Var) and node.callee.name == "main":
            return True
        if isinstance(node, ast.Node):
            stack.extend(getattr(node, name) for name in node._fields)
        elif isinstance(node, tuple):
            stack.extend(node)
    return False


def _shown_path(path: Path) -> str:
    """A module's path as diagnostics show it: relative to the current folder when inside it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _run_once(code: Code, size: int) -> Code:
    state: dict[str, Any] = {}

    if is_async(code):
        async def run_async(env: list[Any]) -> None:
            if "done" not in state:
                state["done"] = True
                await code([None] * size)
        return run_async

    def run(env: list[Any]) -> None:
        if "done" not in state:
            state["done"] = True
            code([None] * size)
    return run


def _fit(args: list[Any], fn: Any) -> list[Any]:
    """Handler clauses may declare fewer or more parameters than the operation passes."""
    n = fn.arity()
    if n is None or n == len(args):
        return args
    return (args + [None] * n)[:n]


def internal_error_text(error: BaseException) -> str:
    text = (
        f"internal error: {type(error).__name__}: {error}\n"
        "This is a bug in fluentai, not in your program; please report it."
    )
    if os.environ.get("FLUENTAI_DEBUG") == "1":
        text += "\n" + "".join(traceback.format_exception(error))
    else:
        text += " (set FLUENTAI_DEBUG=1 to see the Python traceback)"
    return text


def configure_process() -> None:
    """What every command needs of the Python process: room for deep FluentAI recursion, and
    ints printed at any size (SPEC: integers are unbounded)."""
    sys.setrecursionlimit(max(sys.getrecursionlimit(), RECURSION_LIMIT))
    sys.set_int_max_str_digits(0)


def run_path(path: str, args: list[str] | None = None, deterministic: bool = False,
             cluster: str | None = None) -> int:
    """`fluentai run PATH ARGS…`: 0 on success, 1 on a program error, 2 for a bad file.
    `cluster`: the Redis URL of `--cluster` (docs/scaling.md)."""
    configure_process()
    try:
        source = read_source(path)
    except LoadError as e:
        sys.stderr.write(f"error: {e}\n")
        return e.status
    except FluentError as e:
        sys.stderr.write(e.render() + "\n")
        return 1
    interp = Interpreter(deterministic=deterministic, argv=args, cluster=cluster)
    return run_interpreter(interp, source)


def run_interpreter(interp: Interpreter, source: Source) -> int:
    try:
        asyncio.run(_with_signals(interp.run_program(source)))
    except FluentError as e:
        sys.stdout.flush()
        sys.stderr.write(e.render() + "\n")
        return 1
    except (KeyboardInterrupt, asyncio.CancelledError):
        return 0  # SIGINT/SIGTERM: graceful shutdown (SPEC §2)
    except BrokenPipeError:
        # The reader of our output went away (`fluentai run x | head`): stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except RecursionError:
        sys.stderr.write("error: stack overflow: too many nested calls\n")
        return 1
    except MemoryError:
        sys.stderr.write("error: out of memory\n")
        return 1
    except Exception as e:
        sys.stderr.write(internal_error_text(e) + "\n")
        return 1
    return 0


async def _with_signals(coro: Coroutine[Any, Any, None]) -> None:
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    if task is not None:
        try:
            loop.add_signal_handler(signal.SIGTERM, task.cancel)
        except (NotImplementedError, RuntimeError, ValueError):
            pass  # not the main thread, or no signals here
    try:
        await coro
    finally:
        try:
            loop.remove_signal_handler(signal.SIGTERM)
        except (NotImplementedError, RuntimeError, ValueError):
            pass


__all__ = ["Interpreter", "LoadError", "RuntimeFault", "read_source", "run_path"]
