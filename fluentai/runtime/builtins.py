"""Global built-in functions of FluentAI (SPEC §4): `print len range str int float abs min
max floor ceil round sqrt type_of`, the function-first forms `map filter fold length`, and
the `Promise` namespace (`Promise.all`, `Promise.race`).

Owns `GLOBALS` (name -> `Builtin`, or a dict for a namespace) and `new_globals()`. The
per-type methods (`v.name(args)`) live in `methods.py`.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable as Fn
from typing import Any

from ..syntax.errors import EffectErr, TypeErr, ValueErr
from .args import FUNCTION, INT, LIST, NUMBER, expect
from .callbacks import filter_list, fold_list, map_list
from .functions import Builtin
from .methods import write_line
from .ordering import compare
from .string_methods import parse_float, parse_int
from .values import Promise, display, format_float, type_of

# A list of this many elements is almost certainly a mistake; failing beats exhausting memory.
MAX_RANGE = 100_000_000


def _print(*values: Any) -> None:
    write_line(" ".join([display(v) for v in values]))


def _sized(what: str) -> Fn[[Any], int]:
    def size(v: Any) -> int:
        t = type(v)
        if t is str or t is list or t is dict or t is bytes:
            return len(v)
        raise TypeErr(f"{what} expects a string, list, map or bytes, got {type_of(v)}")

    return size


def _range(a: Any, b: Any = None) -> list[int]:
    if b is None:
        start, stop = 0, expect("range()", a, INT)
    else:
        start, stop = expect("range()", a, INT), expect("range()", b, INT)
    if stop - start > MAX_RANGE:
        raise ValueErr(f"range() of {stop - start} elements is too large (limit {MAX_RANGE})")
    return list(range(start, stop))


def _int(v: Any) -> int:
    t = type(v)
    if t is int:
        return int(v)
    if t is float:
        if math.isnan(v) or math.isinf(v):
            raise ValueErr(f"int() cannot convert {format_float(v)} to an int")
        return int(v)  # truncates toward zero
    if t is str:
        return parse_int("int()", v)
    raise TypeErr(f"int() expects a number or a string, got {type_of(v)}")


def _float(v: Any) -> float:
    t = type(v)
    if t is float:
        return float(v)
    if t is int:
        try:
            return float(v)
        except OverflowError:
            raise ValueErr("float() of an int too large for a float") from None
    if t is str:
        return parse_float("float()", v)
    raise TypeErr(f"float() expects a number or a string, got {type_of(v)}")


def _abs(x: Any) -> int | float:
    return abs(expect("abs()", x, NUMBER))


def _extreme(what: str, pick: Fn[[int], bool]) -> Fn[..., Any]:
    """min or max: of several arguments, or of the elements of one list argument."""

    def extreme(*args: Any) -> Any:
        items = args[0] if len(args) == 1 and type(args[0]) is list else args
        if not items:
            raise ValueErr(f"{what} of an empty list")
        for x in items:
            t = type(x)
            if t is not int and t is not float and t is not str:
                raise TypeErr(f"{what} expects numbers or strings, got {type_of(x)}")
        best = items[0]
        for x in items[1:]:
            if pick(compare(best, x)):  # strict, so the first of equal values wins
                best = x
        return best

    return extreme


def _whole(what: str, to_int: Fn[[float], int]) -> Fn[[Any], int]:
    def whole(x: Any) -> int:
        x = expect(what, x, NUMBER)
        if type(x) is int:
            return int(x)
        if math.isnan(x) or math.isinf(x):
            raise ValueErr(f"{what} cannot convert {format_float(x)} to an int")
        return to_int(x)

    return whole


def _round_half_away(x: float) -> int:
    t = math.trunc(x)
    if abs(x - t) >= 0.5:  # exact: x - trunc(x) loses no bits
        t += 1 if x > 0 else -1
    return t


def _sqrt(x: Any) -> float:
    x = expect("sqrt()", x, NUMBER)
    if x < 0:
        raise ValueErr(f"sqrt() of a negative number: {display(x)}")
    try:
        return math.sqrt(x)
    except OverflowError:
        raise ValueErr("sqrt() of an int too large for a float") from None


# Function-first forms (FluentAI's `map(f, xs)`); the data-first order also works so that
# `xs |> map(f)`, which calls `map(xs, f)`, does what it reads as.
def _g_map(a: Any, b: Any) -> list[Any]:
    if type(a) is list:
        a, b = b, a
    return map_list(expect("map()", a, FUNCTION), expect("map()", b, LIST))


def _g_filter(a: Any, b: Any) -> list[Any]:
    if type(a) is list:
        a, b = b, a
    return filter_list(expect("filter()", a, FUNCTION), expect("filter()", b, LIST))


def _g_fold(a: Any, init: Any, b: Any) -> Any:
    if type(a) is list:
        a, b = b, a
    return fold_list(expect("fold()", a, FUNCTION), init, expect("fold()", b, LIST))


# --- Promise.all / Promise.race ------------------------------------------------------


def _loop(what: str) -> asyncio.AbstractEventLoop:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        raise EffectErr(f"{what} needs a running event loop") from None


def _retrieve(fut: asyncio.Future[Any]) -> None:
    # Mark a failure as seen: the combined promise reports it, asyncio must not log it too.
    if not fut.cancelled():
        fut.exception()


def _split(what: str, items: Any) -> tuple[list[Any], dict[asyncio.Future[Any], list[int]]]:
    """The elements, and the futures still pending with the positions each one fills."""
    items = expect(what, items, LIST)[:]
    pending: dict[asyncio.Future[Any], list[int]] = {}
    for i, p in enumerate(items):
        if type(p) is not Promise:
            continue
        p.observed = True
        fut = p.future
        if fut is None:
            continue
        fut.add_done_callback(_retrieve)
        if not fut.done():
            pending.setdefault(fut, []).append(i)
    return items, pending


def _settled(v: Any) -> Any:
    """The value of a plain value or settled promise; raises a settled promise's error."""
    return v.settled_value() if type(v) is Promise else v


def _promise_all(items: Any) -> Promise:
    loop = _loop("Promise.all()")
    items, pending = _split("Promise.all()", items)
    waiting_at = {i for positions in pending.values() for i in positions}

    async def run() -> list[Any]:
        # Elements settled before the call come first: one that failed fails the whole at once.
        values = [None if i in waiting_at else _settled(v) for i, v in enumerate(items)]
        waiting = set(pending)
        while waiting:
            done, waiting = await asyncio.wait(waiting, return_when=asyncio.FIRST_EXCEPTION)
            # Of several that settled together, the earliest in the list decides.
            for fut in sorted(done, key=lambda f: pending[f][0]):
                result = fut.result()  # raises the element's error
                for i in pending[fut]:
                    values[i] = result
        return values

    return Promise(loop.create_task(run()))


def _promise_race(items: Any) -> Promise:
    loop = _loop("Promise.race()")
    items, pending = _split("Promise.race()", items)
    if not items:
        raise ValueErr("Promise.race() of an empty list would never settle")
    waiting_at = {i for positions in pending.values() for i in positions}
    first_settled = next((i for i in range(len(items)) if i not in waiting_at), None)

    async def run() -> Any:
        if first_settled is not None:  # like JavaScript, an element settled already wins
            return _settled(items[first_settled])
        done, _ = await asyncio.wait(set(pending), return_when=asyncio.FIRST_COMPLETED)
        return min(done, key=lambda f: pending[f][0]).result()

    return Promise(loop.create_task(run()))


def _b(name: str, fn: Fn[..., Any], lo: int, hi: int | None) -> Builtin:
    return Builtin(name, fn, lo, hi)


GLOBALS: dict[str, Any] = {
    "print": _b("print", _print, 0, None),
    # FluentAI's names for it (`print` ends its line too).
    "print_line": _b("print_line", _print, 0, None),
    "println": _b("println", _print, 0, None),
    "len": _b("len", _sized("len()"), 1, 1),
    "length": _b("length", _sized("length()"), 1, 1),
    "range": _b("range", _range, 1, 2),
    "str": _b("str", display, 1, 1),
    "int": _b("int", _int, 1, 1),
    "float": _b("float", _float, 1, 1),
    "abs": _b("abs", _abs, 1, 1),
    "min": _b("min", _extreme("min()", lambda c: c > 0), 1, None),
    "max": _b("max", _extreme("max()", lambda c: c < 0), 1, None),
    "floor": _b("floor", _whole("floor()", math.floor), 1, 1),
    "ceil": _b("ceil", _whole("ceil()", math.ceil), 1, 1),
    "round": _b("round", _whole("round()", _round_half_away), 1, 1),
    "sqrt": _b("sqrt", _sqrt, 1, 1),
    "type_of": _b("type_of", type_of, 1, 1),
    "map": _b("map", _g_map, 2, 2),
    "filter": _b("filter", _g_filter, 2, 2),
    "fold": _b("fold", _g_fold, 3, 3),
    "Promise": {
        "all": _b("Promise.all", _promise_all, 1, 1),
        "race": _b("Promise.race", _promise_race, 1, 1),
    },
}


def new_globals() -> dict[str, Any]:
    """A copy of GLOBALS for one interpreter: namespaces are maps a program can mutate
    (`Promise.all = f`), so each run gets its own."""
    return {k: dict(v) if type(v) is dict else v for k, v in GLOBALS.items()}


__all__ = ["GLOBALS", "MAX_RANGE", "new_globals"]
