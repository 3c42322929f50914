"""Tasks and promises: eager start of async code, effect operations as tasks, reporting
failures nobody awaited, deadlock detection between awaiting tasks, and the dynamic stack of
`handle` frames (a context variable, so tasks inherit it).
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Coroutine, Generator
from typing import Any, Protocol

from ..syntax.errors import FluentError, RuntimeFault
from ..syntax.source import Span
from .values import Callable, Promise


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
