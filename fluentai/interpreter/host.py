"""The interpreter: compiles programs and modules (parse, resolve, generate code), runs their
top level, and hosts the effect handlers.

`Interpreter` is the object compiled code and effect handlers talk to (`runtime.Host` and
`effects.EffectContext`). `exec` is the one way to compile and run a program's top level in
a module: `fluentai run` (see `program`) and the REPL both use it; its halves (`compile`,
which is `check` then `generate`, and `run_top`, `run_main`) are there for the callers that
need to act in between (`program` with `--reload`, `reload` running part of a top level).
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import time
import traceback
import uuid
from collections.abc import Collection, Coroutine, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..compile.codegen import compile_program
from ..compile.support import is_async
from ..effects import EffectHandler, EffectRegistry, check_arity
from ..effects.error import Error
from ..effects.io import IO
from ..effects.random import Random
from ..effects.state import State
from ..effects.time import Time
from ..resolve.resolution import Resolution
from ..resolve.resolver import resolve
from ..runtime.builtins import new_globals
from ..runtime.functions import Code, Function, call, call_async, fit
from ..runtime.modules import Module
from ..runtime.tasks import HANDLERS, spawn, start_eager
from ..runtime.values import Promise
from ..syntax import ast
from ..syntax.errors import FluentError, FluentSyntaxError, raise_static
from ..syntax.parser import parse
from ..syntax.source import Source, Span
from .modules import find_module, read_module

# Deterministic mode's clock starts here: 2024-01-01T00:00:00Z.
DETERMINISTIC_EPOCH_MS = 1_704_067_200_000
BUILTIN_EFFECTS: tuple[type[EffectHandler], ...] = (IO, Time, Random, State, Error)
# Imported on first use: they bring in uvicorn, websockets and httpx.
LAZY_EFFECTS = {
    "HttpServer": "fluentai.effects.http_server:HttpServer",
    "WebSocket": "fluentai.effects.websocket:WebSocket",
    "WebSocketClient": "fluentai.effects.ws_client:WebSocketClient",
    "Network": "fluentai.effects.network:Network",
}


@dataclass
class Compiled:
    """A program's top level, ready to run in a frame of `size` slots."""

    module: Module
    code: Code
    size: int
    resolution: Resolution


@dataclass
class LoadedModule:
    """A module loaded by `use`: its run-time state, the code that runs its top level once,
    and the program it was compiled from (a reload compares the file's new version with it)."""

    module: Module
    run: Code
    program: ast.Program
    path: Path


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
        self.modules: dict[Path, LoadedModule] = {}
        self._loading: list[Path] = []
        # The globals handlers are looked up in (the program's, or the REPL session's).
        self.main_globals: dict[str, Any] = {}
        # Where the effect operation being dispatched was performed (see `perform`).
        self.performing: Span | None = None
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
                    return call(clause, fit(clause, args))
                finally:
                    HANDLERS.reset(token)
        handler, spec = self.registry.lookup(effect, op)
        check_arity(effect, spec, args)
        # A handler may ask where it was performed while it runs synchronously (routes
        # remember the statement that registered them: a reload replaces those).
        outer, self.performing = self.performing, span
        try:
            result = spec.fn(handler, *args)
        finally:
            self.performing = outer
        if spec.is_async:
            return start_eager(result, self, span) if spec.eager else spawn(result, self, span)
        return result

    def report(self, error: BaseException, context: str) -> None:
        text = error.render() if isinstance(error, FluentError) else internal_error_text(error)
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
        return call(fn, args)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> Promise:
        return spawn(coro, self)

    def lookup_global(self, name: str) -> Any:
        return self.main_globals.get(name)

    def global_names(self) -> Iterable[str]:
        return self.main_globals.keys()

    async def invoke(self, fn: Any, args: list[Any]) -> Any:
        return await call_async(fn, args)

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

    # ------------------------------------------------------------------ compiling and running
    def compile(self, source: Source, module: Module, directory: Path | None) -> Compiled:
        """Parse, resolve (every static error of the file is raised together) and generate
        code for a program's top level, to run in `module`; `use` finds modules beside
        `directory`."""
        return self.generate(self.check(source, module.consts, module.globals), module,
                             directory)

    def check(self, source: Source, consts: Collection[str] = (),
              defined: Collection[str] = ()) -> Resolution:
        """Parse and resolve a program against the globals `defined` and constants `consts`
        its module already has; every static error of the file is raised together."""
        try:
            res = resolve(parse(source), defined=defined, consts=consts,
                          effects=self.registry.names())
        except RecursionError:
            raise FluentSyntaxError("program is nested too deeply", Span(source, 1, 1)) from None
        raise_static(res.errors)
        return res

    def generate(self, res: Resolution, module: Module, directory: Path | None) -> Compiled:
        """Generate the code of a resolved program's top level, to run in `module`."""
        try:
            code = compile_program(res, self, module,
                                   lambda name, span: self.load_module(name, span, directory))
        except RecursionError:
            raise FluentSyntaxError("program is nested too deeply",
                                    res.program.span) from None
        return Compiled(module, code, res.module_size, res)

    async def exec(self, source: Source, module: Module, directory: Path | None,
                   run_main: bool = True) -> tuple[Any, Resolution]:
        """Compile and run a program's top level in `module` (a program, a file loaded
        into the REPL, one REPL input); then, with `run_main`, when it defines `main` and
        does not call it itself, `main()` (SPEC §2). Returns the top level's value and what
        the resolver found."""
        compiled = self.compile(source, module, directory)
        value = await self.run_top(compiled)
        if run_main:
            await self.run_main(compiled)
        return value, compiled.resolution

    async def run_top(self, compiled: Compiled) -> Any:
        """Run a compiled top level in a fresh frame; its value."""
        value = compiled.code([None] * compiled.size)
        if is_async(compiled.code):
            value = await value
        return value

    async def run_main(self, compiled: Compiled) -> None:
        """`main()` when the program defines it and its top level does not call it."""
        res = compiled.resolution
        main = compiled.module.globals.get("main")
        if res.defines_main and not res.calls_main and isinstance(main, Function):
            await call_async(main, [])

    def load_module(self, name: str, span: Span, directory: Path | None) -> tuple[Module, Code]:
        """Find, compile and cache module `name`. Returns the module and code that runs its
        top level once."""
        path = find_module(name, directory, span)
        loaded = self.modules.get(path)
        if loaded is None:
            if path in self._loading:
                raise FluentSyntaxError(f"circular use of module '{name}'", span)
            self._loading.append(path)
            try:
                source = read_module(path, span)
                compiled = self.compile(source, new_module(name, source.name), path.parent)
            finally:
                self._loading.pop()
            loaded = LoadedModule(compiled.module, _run_once(compiled.code, compiled.size),
                                  compiled.resolution.program, path)
            self.modules[path] = loaded
        return loaded.module, loaded.run


def new_module(name: str, path: str | None) -> Module:
    """A module with its own copy of the builtins."""
    return Module(name, path, new_globals())


def internal_error_text(error: BaseException) -> str:
    """How an error that is a bug in fluentai (not in the program) is reported."""
    text = (
        f"internal error: {type(error).__name__}: {error}\n"
        "This is a bug in fluentai, not in your program; please report it."
    )
    if os.environ.get("FLUENTAI_DEBUG") == "1":
        text += "\n" + "".join(traceback.format_exception(error))
    else:
        text += " (set FLUENTAI_DEBUG=1 to see the Python traceback)"
    return text


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
