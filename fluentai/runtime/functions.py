"""User functions and how they are called, and the control-flow signals compiled code
passes around.

Environments are Python lists: `env[0]` is the enclosing environment, slots start at 1.
Statement-context code returns control signals as tuples (a 1-tuple carries a `return`
value; `BREAK` and `CONTINUE` are unique tuples). Tuples are never FluentAI values, so a
single `type(v) is tuple` test tells a signal from a value. Expression-context `return`,
`break` and `continue` raise the exceptions below instead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Coroutine
from collections.abc import Callable as PyCallable
from typing import Any

from ..syntax.errors import FluentError, RuntimeFault, TypeErr
from ..syntax.source import Span
from .args import check_count, count_text
from .tasks import Host, failed_promise, start_eager
from .values import Callable, Promise, type_of

_MARK = object()
BREAK: tuple[Any, ...] = (_MARK, "break")
CONTINUE: tuple[Any, ...] = (_MARK, "continue")


class _Unset:
    """What a slot holds before its `let` ran, when the resolver saw a use that may come
    first (a forward reference from a nested function). Never a FluentAI value."""

    __slots__ = ()


UNSET = _Unset()

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


class Builtin(Callable):
    """A global function written in Python: `fn(*args)`; errors without span get the caller's."""

    __slots__ = ("fn", "max_args", "min_args")

    def __init__(self, name: str, fn: Any, min_args: int, max_args: int | None) -> None:
        self.name = name
        self.fn = fn
        self.min_args = min_args
        self.max_args = max_args

    def call(self, args: list[Any], span: Any = None) -> Any:
        n = len(args)
        if n < self.min_args or (self.max_args is not None and n > self.max_args):
            check_count(f"{self.name}()", n, self.min_args, self.max_args)
        return self.fn(*args)

    def arity(self) -> int | None:
        return self.max_args


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
                expected = count_text(self.min_args, self.nparams)
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


def call(f: Any, args: list[Any], span: Span | None = None, name: str = "") -> Any:
    """Call any FluentAI value: the one way in for call sites (their slow path), builtins
    and effects. `span` is the call site: it locates errors that have no position yet and
    enters the FluentAI traceback; `name` is how the call site spelt the callee."""
    if isinstance(f, Callable):
        try:
            return f.call(args, span)
        except FluentError as e:
            if span is not None:
                if e.span is None:
                    e.span = span
                elif type(f) is Function:
                    e.trace.append((f.name, span))
                else:
                    add_callback_frame(e, args, f.name, span)
            raise
        except RecursionError:
            raise StackOverflow("stack overflow: too many nested calls", span) from None
    what = f"'{name}'" if name and name != "<expression>" else "this value"
    error = TypeErr(f"{what} is not a function (it is {type_of(f)})")
    raise error.at(span) if span is not None else error


def add_callback_frame(e: FluentError, args: list[Any], via: str, span: Span) -> None:
    """`e` left a builtin (`map`, `xs.sort_by(f)`, ...) already located: it was raised inside
    a FluentAI function the builtin called back, the one among its arguments. The traceback
    gets that call (at the builtin's call site), so the callback's frame is not lost. Only
    called on the error path: the builtins' loops call callbacks directly."""
    for arg in args:
        if type(arg) is Function:
            e.trace.append((f"{arg.name} (called by {via})", span))
            return


def fit_count(f: Callable, offered: int, optional: int = 0) -> int:
    """How many arguments `f` gets out of `offered` ones when the runtime calls it on the
    program's behalf — a callback, a server handler, a `handle` clause: the one arity policy
    for those calls. A function gets as many as it declares (beyond the offered ones, nil).
    The last `optional` offered ones (a callback's index) go only to a FluentAI function
    that declares parameters for them: a builtin's arity counts its optional parameters, so
    it never gets them (`xs.map(range)` is not `range(x, i)`)."""
    n = f.arity()
    if isinstance(f, Builtin) or n is None:
        base = offered - optional
        return base if n is None else min(n, base)
    return n


def fit(f: Callable, args: list[Any], optional: int = 0) -> list[Any]:
    """`args` cut or padded with nil to `fit_count`."""
    n = fit_count(f, len(args), optional)
    if n <= len(args):
        return args if n == len(args) else args[:n]
    return [*args, *([None] * (n - len(args)))]


async def call_async(f: Any, args: list[Any]) -> Any:
    """Call `f` to completion, waiting whatever its declaration (a plain function that
    `.await()`s included), with `fit` arguments: the runtime's own calls of `main` and of
    server handlers."""
    if not isinstance(f, Callable):
        return call(f, args)
    args = fit(f, args)
    if isinstance(f, Function):
        result = await f.invoke_async(args)
    else:
        result = f.call(args)
    if type(result) is Promise:
        result = await result.wait()
    return result


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
