"""The effect runtime's Python side: how an effect handler is written and found.

An effect is a subclass of `EffectHandler` naming its `effect` and marking operations with
`@operation`. Synchronous operations return a value; asynchronous ones are coroutines and
their result reaches the program as a promise. Handlers receive an `EffectContext`: the
interpreter's services (clock, random source, output, id generator, calling FluentAI
functions, starting tasks) without access to its internals.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from ..runtime.args import (
    BOOL,
    BYTES,
    FUNCTION,
    INT,
    LIST,
    MAP,
    NUMBER,
    STRING,
    Kind,
    check_count,
    expect,
)
from ..syntax.errors import EffectErr, TypeErr, ValueErr
from ..syntax.source import Span


@dataclass(frozen=True)
class OpSpec:
    name: str
    fn: Callable[..., Any]
    is_async: bool
    min_args: int
    max_args: int | None
    eager: bool = False


def operation(name: str | None = None, *, eager: bool = False
              ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a handler method as the operation `name` (default: the method's name, without a
    trailing underscore). Arity comes from the signature; `async def` makes it async.

    `eager=True` (async operations only) runs the coroutine in the caller's task up to its
    first real wait, so an operation that finishes without waiting costs no task. Only for
    coroutines that await plain asyncio futures: libraries whose state is bound to the task
    that entered it (anyio cancel scopes, as under httpx) must not be eager."""

    def mark(fn: Callable[..., Any]) -> Callable[..., Any]:
        _MARKED[fn] = (name or fn.__name__.rstrip("_"), eager)
        return fn

    return mark


# Methods marked with @operation: (operation name, eager). Functions live as long as their
# class, so a plain dict is enough.
_MARKED: dict[Callable[..., Any], tuple[str, bool]] = {}


class EffectContext(Protocol):
    """What an effect handler may use of the interpreter."""

    deterministic: bool
    cluster: str | None  # the Redis URL of `--cluster` (docs/scaling.md), else None
    # Where the operation running now was performed (its `perform` expression), while a
    # synchronous operation runs; None when it was not performed by the program.
    performing: Span | None

    def now_ms(self) -> int: ...

    async def sleep(self, ms: float) -> None: ...

    def write_out(self, text: str) -> None: ...

    def write_err(self, text: str) -> None: ...

    def new_id(self, prefix: str) -> str: ...

    def call(self, fn: Any, args: list[Any]) -> Any: ...

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> Any: ...

    def track(self, task: Any) -> None:
        """Keep the program alive until `task` finishes (a server, a background job)."""

    def report(self, error: BaseException, context: str) -> None:
        """Report an error on stderr (a FluentAI traceback for FluentAI errors)."""

    def global_names(self) -> Iterable[str]:
        """The names of the program's globals."""

    def lookup_global(self, name: str) -> Any:
        """The program's global `name` (None when undefined): handlers by name."""

    async def invoke(self, fn: Any, args: list[Any]) -> Any:
        """Run a FluentAI function to completion with as many of `args` as it declares."""

    def handler(self, effect: str) -> EffectHandler | None:
        """The runtime handler of another effect."""

    @property
    def random(self) -> Any: ...


class EffectHandler:
    effect: ClassVar[str] = ""

    def __init__(self, ctx: EffectContext) -> None:
        self.ctx = ctx

    async def shutdown(self) -> None:
        """Called once when the program ends or is interrupted: release what you hold."""

    @classmethod
    def operations(cls) -> dict[str, OpSpec]:
        ops: dict[str, OpSpec] = {}
        for klass in reversed(cls.__mro__):  # a subclass's operations override its base's
            for fn in vars(klass).values():
                marked = _MARKED.get(fn) if callable(fn) else None
                if marked is not None:
                    ops[marked[0]] = _spec(marked[0], fn, marked[1])
        return ops


def _spec(name: str, fn: Callable[..., Any], eager: bool) -> OpSpec:
    """An operation's spec: its arity comes from the method's signature."""
    params = list(inspect.signature(fn).parameters.values())[1:]  # drop self
    required = sum(
        1 for p in params if p.default is inspect.Parameter.empty
        and p.kind is p.POSITIONAL_OR_KEYWORD
    )
    variadic = any(p.kind is p.VAR_POSITIONAL for p in params)
    return OpSpec(name, fn, inspect.iscoroutinefunction(fn), required,
                  None if variadic else len(params), eager)


ENTRY_POINT_GROUP = "fluentai.effects"


class EffectRegistry:
    """The runtime handlers of one interpreter, by effect name.

    Installed plugins (the `fluentai.effects` entry-point group, each entry naming an
    `EffectHandler` subclass) are looked up the first time a program performs an effect that
    is not registered, so programs that use none pay nothing at start-up."""

    def __init__(self, ctx: EffectContext | None = None) -> None:
        self._handlers: dict[str, tuple[EffectHandler, dict[str, OpSpec]]] = {}
        self._lazy: dict[str, str] = {}
        self._ctx = ctx
        self._plugins_loaded = ctx is None

    def register(self, handler: EffectHandler) -> None:
        if not handler.effect:
            raise ValueError(f"{type(handler).__name__} does not name its effect")
        self._lazy.pop(handler.effect, None)
        self._handlers[handler.effect] = (handler, type(handler).operations())

    def register_lazy(self, effect: str, target: str) -> None:
        """Register `module:Class`, imported the first time `effect` is used (server and
        client effects pull in uvicorn, websockets and httpx: only programs using them
        should pay for those imports)."""
        self._lazy[effect] = target

    def _materialize(self, effect: str) -> None:
        target = self._lazy.pop(effect)
        module_name, _, class_name = target.partition(":")
        import importlib

        cls = getattr(importlib.import_module(module_name), class_name)
        assert self._ctx is not None
        self.register(cls(self._ctx))

    def load_plugins(self) -> list[str]:
        """Register every installed plugin effect not registered yet; returns problems found
        (a plugin that fails to load is skipped, not fatal)."""
        self._plugins_loaded = True
        assert self._ctx is not None
        classes, problems = plugin_classes()
        for cls in classes:
            # Plugins add effects; they never replace a built-in or an embedder's.
            if cls.effect not in self._handlers and cls.effect not in self._lazy:
                try:
                    self.register(cls(self._ctx))
                except Exception as e:
                    problems.append(f"effect plugin {cls.__name__} not loaded: {e}")
        return problems

    def names(self) -> set[str]:
        """The effects registered so far, lazy ones included (nothing is imported)."""
        return set(self._handlers) | set(self._lazy)

    def effects(self) -> dict[str, list[str]]:
        for effect in list(self._lazy):
            self._materialize(effect)
        return {name: sorted(ops) for name, (_, ops) in sorted(self._handlers.items())}

    def handler(self, effect: str) -> EffectHandler | None:
        if effect in self._lazy:
            self._materialize(effect)
        entry = self._handlers.get(effect)
        return entry[0] if entry else None

    def handlers(self) -> list[EffectHandler]:
        return [h for h, _ in self._handlers.values()]

    def lookup(self, effect: str, op: str) -> tuple[EffectHandler, OpSpec]:
        entry = self._handlers.get(effect)
        if entry is None and effect in self._lazy:
            self._materialize(effect)
            entry = self._handlers.get(effect)
        if entry is None and not self._plugins_loaded:
            for problem in self.load_plugins():
                assert self._ctx is not None
                self._ctx.write_err(f"warning: {problem}\n")
            entry = self._handlers.get(effect)
        if entry is None:
            raise EffectErr(f"unhandled effect {effect}.{op} (no handler for effect '{effect}')")
        handler, ops = entry
        spec = ops.get(op)
        if spec is None:
            known = ", ".join(sorted(ops))
            raise EffectErr(f"unhandled effect {effect}.{op} ({effect} has: {known})")
        return handler, spec


def plugin_classes() -> tuple[list[type[EffectHandler]], list[str]]:
    """The handler classes of the installed plugins (the `fluentai.effects` entry-point
    group), and what went wrong with those that could not be loaded (skipped, not fatal).
    The registry instantiates them; tools (the language server) only read them."""
    from importlib.metadata import entry_points

    classes: list[type[EffectHandler]] = []
    problems: list[str] = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            cls = ep.load()
            if not (isinstance(cls, type) and issubclass(cls, EffectHandler)):
                raise TypeError("it is not an EffectHandler subclass")
            classes.append(cls)
        except Exception as e:
            problems.append(f"effect plugin '{ep.name}' ({ep.value}) not loaded: {e}")
    return classes, problems


def check_arity(effect: str, spec: OpSpec, args: list[Any]) -> None:
    check_count(f"{effect}.{spec.name}()", len(args), spec.min_args, spec.max_args)


# The plugin API (docs/effects.md). Handlers check their arguments as builtins do:
# `expect("Time.sleep()", ms, NUMBER)` gives "Time.sleep() expects a number, got string"
# (see runtime.args); they fail with the runtime's error kinds.
__all__ = ["BOOL", "BYTES", "FUNCTION", "INT", "LIST", "MAP", "NUMBER", "STRING",
           "EffectContext", "EffectErr", "EffectHandler", "EffectRegistry", "Kind", "OpSpec",
           "TypeErr", "ValueErr", "expect", "operation"]
