"""Run-time machinery the compiled closures share: user functions and how they are called,
control-flow signals, eager async tasks, and the dynamic stack of `handle` frames.

Environments are Python lists: `env[0]` is the enclosing environment, slots start at 1.
Statement-context code returns control signals as tuples (a 1-tuple carries a `return`
value; `BREAK` and `CONTINUE` are unique tuples). Tuples are never FluentAI values, so a
single `type(v) is tuple` test tells a signal from a value. Expression-context `return`,
`break` and `continue` raise the exceptions below instead.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Coroutine, Generator
from collections.abc import Callable as PyCallable
from typing import Any, Protocol

from .errors import FluentError, RuntimeFault, TypeErr
from .source import Span
from .values import Callable, Promise, a_type, expect_args, type_of

_MARK = object()
BREAK: tuple[Any, ...] = (_MARK, "break")
CONTINUE: tuple[Any, ...] = (_MARK, "continue")

Code = PyCallable[[list[Any]], Any]


class ReturnEx(Exception):
    def __init__(self, value: Any) -> None:
        self.value = value


class BreakEx(Exception):
    pass


class ContinueEx(Exception):
    pass


class StackOverflow(FluentError):
    """Too many nested calls. Not catchable by `try`: the stack has to unwind."""


class Host(Protocol):
    """What compiled code needs from the interpreter that runs it."""

    def perform(self, effect: str, op: str, args: list[Any], span: Span | None = None) -> Any: ...

    def report(self, error: BaseException, context: str) -> None: ...

    def track(self, task: asyncio.Task[Any]) -> None: ...


# The `handle` frames in force: innermost last. Each frame maps (effect, op) to a clause.
HandlerFrame = dict[tuple[str, str], Callable]
HANDLERS: contextvars.ContextVar[tuple[HandlerFrame, ...]] = contextvars.ContextVar(
    "fluentai_handlers", default=()
)

BUILTIN_TYPE_CHECKS: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "int": (int,),
    "float": (float, int),
    "number": (int, float),
    "bool": (bool,),
    "list": (list,),
    "map": (dict,),
    "bytes": (bytes,),
}


class Function(Callable):
    """A user function or lambda: compiled body plus the environment it closes over.

    `fast` is true for plain synchronous functions without checked parameters: call sites
    then build the frame and run the body inline.
    """

    __slots__ = (
        "body",
        "body_is_async",
        "checks",
        "defaults",
        "env",
        "fast",
        "fast_arity",
        "host",
        "is_async",
        "min_args",
        "nparams",
        "pad",
        "param_names",
        "span",
    )

    def __init__(
        self,
        name: str,
        param_names: tuple[str, ...],
        checks: tuple[tuple[int, str], ...],
        nslots: int,
        body: Code,
        body_is_async: bool,
        is_async: bool,
        env: list[Any] | None,
        span: Span,
        host: Host,
        defaults: tuple[tuple[int, Code], ...] = (),
    ) -> None:
        self.name = name
        self.defaults = defaults
        self.min_args = defaults[0][0] if defaults else len(param_names)
        self.param_names = param_names
        self.nparams = len(param_names)
        self.checks = checks
        self.pad = [None] * (nslots - self.nparams)
        self.body = body
        self.body_is_async = body_is_async
        self.is_async = is_async
        self.env = env
        self.span = span
        self.host = host
        self.fast = not checks and not is_async and not body_is_async and not defaults
        # Call sites test one number: the arity of a plain function, -1 otherwise.
        self.fast_arity = self.nparams if self.fast else -1

    def arity(self) -> int | None:
        return self.nparams

    def frame(self, args: list[Any]) -> list[Any]:
        given = len(args)
        if given != self.nparams:
            if not self.min_args <= given <= self.nparams:
                expected = expect_args(self.min_args, self.nparams)
                raise TypeErr(f"{self.name}() {expected}, got {given}")
            return self._frame_with_defaults(args)
        self._check(args)
        frame = [self.env, *args]
        frame.extend(self.pad)
        return frame

    def _frame_with_defaults(self, args: list[Any]) -> list[Any]:
        given = len(args)
        frame = [self.env, *args, *([None] * (self.nparams - given)), *self.pad]
        # Defaults are evaluated at call time, in the new frame: they may use earlier params.
        for i, code in self.defaults:
            if i >= given:
                frame[i + 1] = code(frame)
        self._check(frame[1 : 1 + self.nparams])
        return frame

    def _check(self, args: list[Any]) -> None:
        for i, tname in self.checks:
            v = args[i]
            if type(v) not in BUILTIN_TYPE_CHECKS[tname]:
                raise TypeErr(
                    f"{self.name}(): parameter '{self.param_names[i]}' expects {tname}, "
                    f"got {type_of(v)}"
                )

    def call(self, args: list[Any], span: Span | None = None) -> Any:
        """Call from Python (builtins, effects) or a call site's slow path; `span` is the
        call site, recorded in the traceback of a promise that fails later."""
        frame = self.frame(args)
        if self.is_async:
            return self._start(frame, span)
        if self.body_is_async:
            return run_to_completion(self._run_async(frame), self.name)
        return self._run(frame)

    def _run(self, frame: list[Any]) -> Any:
        try:
            r = self.body(frame)
        except ReturnEx as e:
            return e.value
        except RecursionError:
            raise StackOverflow("stack overflow: too many nested calls") from None
        return r[0] if type(r) is tuple else r

    async def _run_async(self, frame: list[Any]) -> Any:
        try:
            r = await self.body(frame)
        except ReturnEx as e:
            return e.value
        except RecursionError:
            raise StackOverflow("stack overflow: too many nested calls") from None
        return r[0] if type(r) is tuple else r

    def _start(self, frame: list[Any], span: Span | None = None) -> Promise:
        if not self.body_is_async:
            try:
                return Promise.resolved(self._run(frame))
            except FluentError as e:
                e.trace.append((self.name, span or self.span))
                return failed_promise(e, self.host)
        return start_eager(self._run_traced(frame, span or self.span), self.host)

    async def _run_traced(self, frame: list[Any], span: Span) -> Any:
        try:
            return await self._run_async(frame)
        except FluentError as e:
            e.trace.append((self.name, span))
            raise

    def invoke_async(self, args: list[Any]) -> Awaitable[Any]:
        """Run to completion as a coroutine whatever the declaration: for the runtime's own
        calls (main, server handlers), where waiting inside a plain function is fine."""
        frame = self.frame(args)
        if self.body_is_async:
            return self._run_async(frame)
        return _ready(self._run(frame) if not self.is_async else self._start(frame, self.span))


async def _ready(value: Any) -> Any:
    if type(value) is Promise:
        return await value.wait()
    return value


def call_value(f: Any, args: list[Any]) -> Any:
    """Call any FluentAI value with `args` (the slow path of every call site)."""
    if isinstance(f, Callable):
        return f.call(args)
    raise TypeErr(f"{a_type(f)} is not callable")


# Which promise's task each task is waiting for: an await that would close a cycle
# (a task waiting for itself, two waiting for each other) is an error, not a hang that even
# cancellation cannot break (asyncio's Task.cancel recurses around the cycle).
_WAITING_FOR: dict[asyncio.Task[Any], asyncio.Future[Any]] = {}


async def wait_without_cycles(promise: Promise) -> Any:
    me = asyncio.current_task()
    target = promise.future
    step: Any = target
    while step is not None:
        if step is me:
            raise RuntimeFault("ValueError", "deadlock: this promise is waiting, directly or "
                               "through others, for the task that awaits it")
        step = _WAITING_FOR.get(step)
    if me is None or target is None:
        return await promise.wait()
    _WAITING_FOR[me] = target
    try:
        return await promise.wait()
    finally:
        _WAITING_FOR.pop(me, None)


def run_to_completion(coro: Coroutine[Any, Any, Any], name: str) -> Any:
    """Run a coroutine that must not suspend: a plain function may `.await()` promises that
    have settled, but waiting would need the caller to be async too."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    coro.close()
    raise RuntimeFault(
        "TypeError",
        f"{name} is not async, so it cannot wait for a pending promise"
        + (" (a lambda cannot wait: use an async function)" if name == "<lambda>"
           else " (declare it 'async function')"),
    )


class _Resume:
    """Awaitable that continues a coroutine which already ran up to its first suspension."""

    __slots__ = ("coro", "first")

    def __init__(self, coro: Coroutine[Any, Any, Any], first: Any) -> None:
        self.coro = coro
        self.first = first

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, yielded = self.coro, self.first
        while True:
            try:
                sent = yield yielded
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:
                try:
                    yielded = coro.throw(exc)
                except StopIteration as stop:
                    return stop.value
            else:
                try:
                    yielded = coro.send(sent)
                except StopIteration as stop:
                    return stop.value


async def _continue(resume: _Resume) -> Any:
    return await resume


def resume(coro: Coroutine[Any, Any, Any], first: Any) -> _Resume:
    """Awaitable finishing `coro`, which has already run up to yielding `first`."""
    return _Resume(coro, first)


def start_eager(coro: Coroutine[Any, Any, Any], host: Host, span: Span | None = None) -> Promise:
    """Start `coro` now, running it synchronously up to its first real suspension (SPEC §5:
    calling an async function starts it at once); the rest runs as a task. The task has its
    own copy of the context, so `handle` frames follow it without leaking back."""
    ctx = contextvars.copy_context()
    try:
        first = ctx.run(coro.send, None)
    except StopIteration as stop:
        return Promise.resolved(stop.value)
    except FluentError as e:
        return failed_promise(e.at(span) if span is not None else e, host)
    loop = asyncio.get_running_loop()
    task = loop.create_task(_continue(_Resume(coro, first)), context=ctx)
    promise = Promise(task)
    host.track(task)
    task.add_done_callback(lambda t: _check_observed(promise, t, host, span))
    return promise


def spawn(coro: Coroutine[Any, Any, Any], host: Host, span: Span | None = None) -> Promise:
    """Run an effect operation's coroutine as a task of its own. Not eager: library code
    (anyio's cancel scopes, for one) must start and finish in the same task."""
    task = asyncio.get_running_loop().create_task(coro, context=contextvars.copy_context())
    promise = Promise(task)
    host.track(task)
    task.add_done_callback(lambda t: _check_observed(promise, t, host, span))
    return promise


def failed_promise(error: FluentError, host: Host) -> Promise:
    promise = Promise.failed(error)
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return promise
    loop.call_soon(_report_unobserved, promise, error, host)
    return promise


def _check_observed(promise: Promise, task: asyncio.Task[Any], host: Host,
                    span: Span | None = None) -> None:
    if task.cancelled():
        return
    error = task.exception()
    if error is None or promise.observed:
        return
    if span is not None and isinstance(error, FluentError):
        error.at(span)  # an effect operation's error points at its `perform`
    # Give code that is about to await the promise one turn of the loop to do so.
    asyncio.get_running_loop().call_soon(_report_unobserved, promise, error, host)


def _report_unobserved(promise: Promise, error: BaseException, host: Host) -> None:
    if not promise.observed:
        promise.observed = True
        host.report(error, "in a promise that nobody awaited")
