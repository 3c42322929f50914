"""FluentAI values as Python objects, and the operations every layer needs on them.

Mapping (SPEC §4): nil → None, bool → bool, int → int, float → float, string → str,
bytes → bytes, list → list, map → dict (string keys, insertion ordered), function →
`Callable` subclasses, promise → `Promise`. Python tuples are never FluentAI values: the
evaluator uses them as control-flow signals.
"""

from __future__ import annotations

import asyncio
import json
import math
from typing import Any

from ..syntax.errors import FluentError, TypeErr, ValueErr
from ..syntax.source import Span


class Callable:
    """Anything a FluentAI program can call. Subclasses: user functions and builtins."""

    __slots__ = ("name",)
    name: str

    def call(self, args: list[Any], span: Any = None) -> Any:
        """Call synchronously; async user functions return a `Promise`. `span`: the call
        site, when there is one."""
        raise NotImplementedError  # abstract: every concrete callable overrides it

    def arity(self) -> int | None:
        """Number of declared parameters, or None when any number is accepted."""
        return None


class Promise:
    """The result of an async call or async effect operation.

    Either already settled (`done`) or backed by an asyncio future/task. `settled_value`
    re-raises a failure. `observed` records that someone awaited it, so a failure nobody
    awaited can be reported.
    """

    __slots__ = ("__weakref__", "_done", "_error", "_value", "future", "observed")

    def __init__(self, future: asyncio.Future[Any] | None = None) -> None:
        self.future = future
        self._done = future is None
        self._value: Any = None
        self._error: BaseException | None = None
        self.observed = False

    @classmethod
    def resolved(cls, value: Any) -> Promise:
        p = cls()
        p._value = value
        return p

    @classmethod
    def failed(cls, error: BaseException) -> Promise:
        p = cls()
        p._error = error
        return p

    @property
    def done(self) -> bool:
        if self._done:
            return True
        fut = self.future
        return fut is not None and fut.done()

    def settled_value(self) -> Any:
        """Value of a settled promise, or raise its error."""
        self.observed = True
        if self._done:
            if self._error is not None:
                raise self._error
            return self._value
        assert self.future is not None
        return self.future.result()

    async def wait(self) -> Any:
        self.observed = True
        if self._done:
            return self.settled_value()
        assert self.future is not None
        return await self.future


TYPE_NAMES: dict[type, str] = {
    type(None): "nil",
    bool: "bool",
    int: "int",
    float: "float",
    str: "string",
    bytes: "bytes",
    list: "list",
    dict: "map",
    Promise: "promise",
}


def a_type(v: Any) -> str:
    """'an int', 'a string': the type of `v` with its article, for messages."""
    name = type_of(v)
    return ("an " if name[0] in "aeiou" else "a ") + name


def type_of(v: Any) -> str:
    name = TYPE_NAMES.get(type(v))
    if name is not None:
        return name
    if isinstance(v, Callable):
        return "function"
    if isinstance(v, Promise):
        return "promise"
    if isinstance(v, dict):
        return "map"
    if isinstance(v, list):
        return "list"
    return type(v).__name__


def truthy(v: Any) -> bool:
    """Falsy: false, nil, 0, 0.0, "", [], {}; everything else is truthy."""
    if v is None or v is False:
        return False
    if v is True:
        return True
    t = type(v)
    if t is int or t is float or t is str or t is list or t is dict or t is bytes:
        return bool(v)
    return True


def equals(a: Any, b: Any) -> bool:
    """Structural `==`: numbers compare by value across int/float, bools are not numbers."""
    try:
        return _equals(a, b)
    except RecursionError:
        raise ValueErr("values are nested too deeply to compare") from None


def _equals(a: Any, b: Any) -> bool:
    ta, tb = type(a), type(b)
    if ta is tb:
        if ta is list:
            return len(a) == len(b) and all(_equals(x, y) for x, y in zip(a, b, strict=True))
        if ta is dict:
            if len(a) != len(b):
                return False
            return all(k in b and _equals(x, b[k]) for k, x in a.items())
        if ta is float or ta is int or ta is str or ta is bytes or ta is bool:
            return bool(a == b)
        return a is b
    if (ta is int and tb is float) or (ta is float and tb is int):
        return bool(a == b)
    return False


def format_float(f: float) -> str:
    if math.isnan(f):
        return "nan"
    if math.isinf(f):
        return "inf" if f > 0 else "-inf"
    if f.is_integer() and abs(f) < 1e16:
        return str(int(f))
    return repr(f)


def display(v: Any) -> str:
    """The text `print`, f-strings and `to_string` give: strings raw at top level."""
    if type(v) is str:
        return v
    return _repr(v, 0)


_MAX_DEPTH = 200


def literal_text(v: Any) -> str:
    """The text of a value as it appears inside a collection (strings quoted): the REPL's
    echo."""
    return _repr(v, 0)


def _repr(v: Any, depth: int) -> str:
    t = type(v)
    if t is str:
        return json.dumps(v, ensure_ascii=False)
    if v is None:
        return "nil"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if t is int:
        return str(v)
    if t is float:
        return format_float(v)
    if depth > _MAX_DEPTH:
        return "..."
    if t is list:
        return "[" + ", ".join(_repr(x, depth + 1) for x in v) + "]"
    if t is dict:
        return (
            "{"
            + ", ".join(f"{json.dumps(k, ensure_ascii=False)}: {_repr(x, depth + 1)}" for k, x in v.items())
            + "}"
        )
    if t is bytes:
        return "b" + json.dumps(v.decode("latin-1"))
    if isinstance(v, Callable):
        return f"<function {v.name}>"
    if isinstance(v, Promise):
        return "<promise>"
    return f"<{type_of(v)}>"


def format_value(v: Any, spec: str) -> str:
    """`f"{v:spec}"`: a number through Python's format mini-language (`.2f`, `>8`, `,`,
    `08.3f`, `x`); any other value as its display text, padded and aligned the same way."""
    t = type(v)
    try:
        if t is int or t is float:
            return format(v, spec)
        return format(display(v), spec)
    except ValueError as e:
        raise ValueErr(f"invalid format spec '{spec}' for {a_type(v)}: {e}") from None


def to_json(v: Any) -> str:
    """Compact JSON text (like JavaScript's JSON.stringify); integral floats as integers."""
    return json.dumps(_jsonable(v, 0), ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _jsonable(v: Any, depth: int) -> Any:
    t = type(v)
    if v is None or t is bool or t is int or t is str:
        return v
    if t is float:
        if math.isnan(v) or math.isinf(v):
            raise TypeErr(f"to_json: {format_float(v)} has no JSON form")
        return int(v) if v.is_integer() and abs(v) < 1e16 else v
    if depth > _MAX_DEPTH:
        raise TypeErr("to_json: value is nested too deeply")
    if t is list:
        return [_jsonable(x, depth + 1) for x in v]
    if t is dict:
        return {k: _jsonable(x, depth + 1) for k, x in v.items()}
    raise TypeErr(f"to_json: {a_type(v)} has no JSON form")


def from_json(text: str) -> Any:
    try:
        return json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError) as e:
        raise ValueErr(f"from_json: invalid JSON: {e}") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class Thrown(FluentError):
    """`throw v` and `perform Error.raise(msg)`: carries the FluentAI value itself."""

    def __init__(self, value: Any, span: Span | None = None) -> None:
        super().__init__(display(value), span)
        self.payload = value

    def headline(self) -> str:
        v = self.payload
        if isinstance(v, dict) and isinstance(v.get("kind"), str) and "message" in v:
            return f"{v['kind']}: {display(v['message'])}"
        return f"uncaught {self.message}"

    def value(self) -> Any:
        return self.payload


__all__ = [
    "Callable",
    "FluentError",
    "Promise",
    "Thrown",
    "display",
    "equals",
    "format_float",
    "from_json",
    "to_json",
    "truthy",
    "type_of",
]
