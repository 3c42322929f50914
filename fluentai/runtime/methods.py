"""Built-in methods of FluentAI values (SPEC §4): `v.name(args)` for strings, lists, maps and
bytes, plus the methods every value has (`to_string`, `to_json`, `type_of`, `print`).

Owns `Method`, `lookup_method`, the per-type method tables, and the helpers the global
functions in `builtins.py` share with them: argument checks, callback calls and `compare`
(the ordering `sort`, `min` and `max` use).

Method lookup is one dict lookup per call: one table per Python type, built at import time,
with the any-value methods merged into each so that their errors name the receiver's type.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable as Fn
from functools import cmp_to_key
from typing import Any

from ..syntax.errors import IndexErr, TypeErr, ValueErr
from .args import FUNCTION, INT, LIST, MAP, STRING, check_count, expect
from .functions import fit_count
from .values import (
    Callable,
    Promise,
    display,
    equals,
    from_json,
    to_json,
    truthy,
    type_of,
)


class Method:
    """A built-in method: `fn(receiver, *args)` once the argument count is checked."""

    __slots__ = ("fn", "max_args", "min_args", "name")

    def __init__(self, name: str, fn: Fn[..., Any], min_args: int, max_args: int) -> None:
        self.name = name  # "string.substring": receiver type and the name the user wrote
        self.fn = fn
        self.min_args = min_args
        self.max_args = max_args

    def call(self, receiver: Any, args: list[Any]) -> Any:
        n = len(args)
        if n < self.min_args or n > self.max_args:
            check_count(f"{self.name}()", n, self.min_args, self.max_args)
        return self.fn(receiver, *args)

    def __repr__(self) -> str:
        return f"<method {self.name}>"


def quote(s: str, limit: int = 40) -> str:
    """A string as it appears inside an error message: quoted, shortened when long."""
    if len(s) > limit:
        s = s[: limit - 3] + "..."
    return display([s])[1:-1]


def write_line(text: str) -> None:
    # sys.stdout is looked up per call because the REPL swaps it; flushed at once so a
    # server's log can be followed through a pipe (SPEC §3).
    out = sys.stdout
    out.write(text + "\n")
    out.flush()


# --- callbacks -------------------------------------------------------------------------


# Callbacks get (item[, index]) or (acc, item[, index]) as `fit_count` says: the index only
# when they declare a parameter for it, nil for parameters beyond. The calls go straight to
# `Callable.call` (the value was checked to be callable): these loops are hot. Each iterates
# over a copy, so a callback that pushes to the list cannot loop forever.


def _offered(n: int, args: list[Any]) -> list[Any]:
    return args[:n] if n <= len(args) else [*args, *([None] * (n - len(args)))]


def map_list(f: Callable, xs: list[Any]) -> list[Any]:
    call = f.call
    n = fit_count(f, 2, optional=1)
    if n == 1:
        return [call([x]) for x in xs[:]]
    if n == 2:
        return [call([x, i]) for i, x in enumerate(xs[:])]
    return [call(_offered(n, [x, i])) for i, x in enumerate(xs[:])]


def filter_list(f: Callable, xs: list[Any]) -> list[Any]:
    items = xs[:]
    return [x for x, keep in zip(items, map_list(f, items), strict=True) if truthy(keep)]


def fold_list(f: Callable, init: Any, xs: list[Any]) -> Any:
    call = f.call
    n = fit_count(f, 3, optional=1)
    acc = init
    for i, x in enumerate(xs[:]):
        acc = call(_offered(n, [acc, x, i]))
    return acc


# --- ordering --------------------------------------------------------------------------


def compare(a: Any, b: Any) -> int:
    """-1, 0 or 1. Numbers order across int/float; strings, bytes, bools and lists
    (element by element) order within their own kind; anything else is a TypeError."""
    ta, tb = type(a), type(b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        return (a > b) - (a < b)
    if ta is tb:
        if ta is str or ta is bytes or ta is bool:
            return (a > b) - (a < b)
        if ta is list:
            for x, y in zip(a, b, strict=False):
                c = compare(x, y)
                if c:
                    return c
            return (len(a) > len(b)) - (len(a) < len(b))
    raise TypeErr(f"cannot compare {type_of(a)} with {type_of(b)}")


# Kinds Python's own sort orders exactly as `compare` does, so they skip the slow path.
_FAST_KINDS = ({int}, {float}, {int, float}, {str}, {bytes}, {bool})


def sort_values(xs: list[Any]) -> list[Any]:
    """A sorted copy of `xs`, or a TypeError naming the first two kinds that do not order."""
    kinds = {type(x) for x in xs}
    if kinds in _FAST_KINDS or not kinds:
        return sorted(xs)
    _same_kind(xs, kinds)
    return sorted(xs, key=cmp_to_key(compare))


def _same_kind(xs: list[Any], kinds: set[type]) -> None:
    """Raise the TypeError for the first two elements, in list order, of different kinds
    (the sort would find some pair, but not necessarily that one)."""
    if len(kinds - {int, float}) > 1 or (len(kinds) > 1 and kinds & {int, float}):
        first = xs[0]
        for x in xs[1:]:
            compare(first, x)


def _sort_by(what: str, xs: list[Any], f: Callable) -> list[Any]:
    if f.arity() == 2:  # a JavaScript-style comparator (a, b) => a - b
        call = f.call

        def by_comparator(a: Any, b: Any) -> int:
            r = call([a, b])
            t = type(r)
            if t is not int and t is not float:
                raise TypeErr(f"{what} comparator must return a number, got {type_of(r)}")
            return (r > 0) - (r < 0)

        return sorted(xs, key=cmp_to_key(by_comparator))
    items = xs[:]
    keys = map_list(f, items)
    kinds = {type(k) for k in keys}
    if kinds in _FAST_KINDS or not kinds:
        order = sorted(range(len(items)), key=lambda i: keys[i])
    else:
        _same_kind(keys, kinds)

        def by_key(i: int, j: int) -> int:
            return compare(keys[i], keys[j])

        order = sorted(range(len(items)), key=cmp_to_key(by_key))
    return [items[i] for i in order]


# --- string ----------------------------------------------------------------------------

_INT_TEXT = re.compile(r"\s*[+-]?[0-9]+\s*")
_FLOAT_TEXT = re.compile(
    r"\s*[+-]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|infinity|nan)\s*",
    re.IGNORECASE,
)


# Text to int is quadratic in the digits: programs parse untrusted text (requests, messages),
# so parsing is bounded like CPython's default, while ints the program computes are not.
MAX_PARSE_DIGITS = 4300


def parse_int(what: str, s: str) -> int:
    if _INT_TEXT.fullmatch(s):
        if sum(c.isdigit() for c in s) > MAX_PARSE_DIGITS:
            raise ValueErr(f"{what} cannot parse an int of more than {MAX_PARSE_DIGITS} digits")
        return int(s)
    raise ValueErr(f"{what} cannot parse {quote(s)} as an int")


def parse_float(what: str, s: str) -> float:
    if _FLOAT_TEXT.fullmatch(s):
        return float(s)
    raise ValueErr(f"{what} cannot parse {quote(s)} as a float")


def _s_substring(s: str, start: Any, end: Any = None) -> str:
    expect("string.substring()", start, INT)
    if end is None:
        return s[start:]
    return s[start : expect("string.substring()", end, INT)]


def _s_split(s: str, sep: Any = None) -> list[str]:
    if sep is None:
        return s.split()
    if expect("string.split()", sep, STRING) == "":
        return list(s)
    return s.split(sep)


def _s_contains(s: str, sub: Any) -> bool:
    return expect("string.contains()", sub, STRING) in s


def _s_starts_with(s: str, prefix: Any) -> bool:
    return s.startswith(expect("string.starts_with()", prefix, STRING))


def _s_ends_with(s: str, suffix: Any) -> bool:
    return s.endswith(expect("string.ends_with()", suffix, STRING))


def _s_replace(s: str, old: Any, new: Any) -> str:
    return s.replace(expect("string.replace()", old, STRING), expect("string.replace()", new, STRING))


def _s_index_of(s: str, sub: Any) -> int:
    return s.find(expect("string.index_of()", sub, STRING))


def _s_repeat(s: str, n: Any) -> str:
    if expect("string.repeat()", n, INT) < 0:
        raise ValueErr(f"string.repeat() count must not be negative, got {n}")
    return s * n


def _s_to_bytes(s: str) -> bytes:
    try:
        return s.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from a \u{D800} escape
        raise ValueErr("string.to_bytes(): the string is not valid Unicode") from None


STRING_METHODS: dict[str, tuple[Fn[..., Any], int, int]] = {
    "length": (len, 0, 0),
    "substring": (_s_substring, 1, 2),
    "to_upper": (str.upper, 0, 0),
    "to_uppercase": (str.upper, 0, 0),
    "to_lower": (str.lower, 0, 0),
    "to_lowercase": (str.lower, 0, 0),
    "trim": (str.strip, 0, 0),
    "split": (_s_split, 0, 1),
    "contains": (_s_contains, 1, 1),
    "starts_with": (_s_starts_with, 1, 1),
    "ends_with": (_s_ends_with, 1, 1),
    "replace": (_s_replace, 2, 2),
    "index_of": (_s_index_of, 1, 1),
    "repeat": (_s_repeat, 1, 1),
    "chars": (list, 0, 0),
    "to_int": (lambda s: parse_int("string.to_int()", s), 0, 0),
    "to_float": (lambda s: parse_float("string.to_float()", s), 0, 0),
    "from_json": (from_json, 0, 0),
    "to_bytes": (_s_to_bytes, 0, 0),
}


# --- list ------------------------------------------------------------------------------


def _l_push(xs: list[Any], v: Any) -> list[Any]:
    xs.append(v)
    return xs


def _l_pop(xs: list[Any]) -> Any:
    if not xs:
        raise IndexErr("list.pop() on an empty list")
    return xs.pop()


def _l_get(xs: list[Any], i: Any, default: Any = None) -> Any:
    expect("list.get()", i, INT)
    n = len(xs)
    if -n <= i < n:
        return xs[i]
    return default


def _l_first(xs: list[Any]) -> Any:
    return xs[0] if xs else None


def _l_last(xs: list[Any]) -> Any:
    return xs[-1] if xs else None


def _l_map(xs: list[Any], f: Any) -> list[Any]:
    return map_list(expect("list.map()", f, FUNCTION), xs)


def _l_filter(xs: list[Any], f: Any) -> list[Any]:
    return filter_list(expect("list.filter()", f, FUNCTION), xs)


def _l_reduce_as(what: str) -> Fn[[list[Any], Any, Any], Any]:
    def reduce(xs: list[Any], init: Any, f: Any) -> Any:
        return fold_list(expect(what, f, FUNCTION), init, xs)

    return reduce


def _l_for_each(xs: list[Any], f: Any) -> None:
    map_list(expect("list.for_each()", f, FUNCTION), xs)


def _l_find(xs: list[Any], f: Any) -> Any:
    f = expect("list.find()", f, FUNCTION)
    call = f.call
    n = fit_count(f, 2, optional=1)
    for i, x in enumerate(xs[:]):
        if truthy(call(_offered(n, [x, i]))):
            return x
    return None


def _l_contains(xs: list[Any], v: Any) -> bool:
    return _l_index_of(xs, v) >= 0


def _l_index_of(xs: list[Any], v: Any) -> int:
    for i, x in enumerate(xs):
        if equals(x, v):
            return i
    return -1


def _l_join(xs: list[Any], sep: Any) -> str:
    return expect("list.join()", sep, STRING).join([display(x) for x in xs])


def _l_slice(xs: list[Any], start: Any, end: Any = None) -> list[Any]:
    expect("list.slice()", start, INT)
    if end is None:
        return xs[start:]
    return xs[start : expect("list.slice()", end, INT)]


def _l_reverse(xs: list[Any]) -> list[Any]:
    return xs[::-1]


def _l_sort(xs: list[Any], key: Any = None) -> list[Any]:
    if key is None:
        return sort_values(xs)
    return _sort_by("list.sort()", xs, expect("list.sort()", key, FUNCTION))


def _l_concat(xs: list[Any], other: Any) -> list[Any]:
    return xs + expect("list.concat()", other, LIST)


def _is_empty(v: Any) -> bool:
    return not v


LIST_METHODS: dict[str, tuple[Fn[..., Any], int, int]] = {
    "length": (len, 0, 0),
    "push": (_l_push, 1, 1),
    "pop": (_l_pop, 0, 0),
    "get": (_l_get, 1, 2),
    "first": (_l_first, 0, 0),
    "last": (_l_last, 0, 0),
    "map": (_l_map, 1, 1),
    "filter": (_l_filter, 1, 1),
    "reduce": (_l_reduce_as("list.reduce()"), 2, 2),
    "fold": (_l_reduce_as("list.fold()"), 2, 2),
    "for_each": (_l_for_each, 1, 1),
    "find": (_l_find, 1, 1),
    "contains": (_l_contains, 1, 1),
    "index_of": (_l_index_of, 1, 1),
    "join": (_l_join, 1, 1),
    "slice": (_l_slice, 1, 2),
    "reverse": (_l_reverse, 0, 0),
    "sort": (_l_sort, 0, 1),
    "concat": (_l_concat, 1, 1),
    "is_empty": (_is_empty, 0, 0),
}


# --- map -------------------------------------------------------------------------------


def _key(what: str, k: Any) -> str:
    if type(k) is not str:
        raise TypeErr(f"{what} expects a string key, got {type_of(k)}")
    return str(k)


def _m_get(m: dict[str, Any], k: Any, default: Any = None) -> Any:
    return m.get(_key("map.get()", k), default)


def _m_set(m: dict[str, Any], k: Any, v: Any) -> dict[str, Any]:
    m[_key("map.set()", k)] = v
    return m


def _m_has_as(what: str) -> Fn[[dict[str, Any], Any], bool]:
    def has(m: dict[str, Any], k: Any) -> bool:
        return _key(what, k) in m

    return has


def _m_remove(m: dict[str, Any], k: Any) -> Any:
    return m.pop(_key("map.remove()", k), None)


def _m_merge(m: dict[str, Any], other: Any) -> dict[str, Any]:
    return {**m, **expect("map.merge()", other, MAP)}


MAP_METHODS: dict[str, tuple[Fn[..., Any], int, int]] = {
    "keys": (list, 0, 0),
    "values": (lambda m: list(m.values()), 0, 0),
    "entries": (lambda m: [[k, v] for k, v in m.items()], 0, 0),
    "get": (_m_get, 1, 2),
    "set": (_m_set, 2, 2),
    "has": (_m_has_as("map.has()"), 1, 1),
    "has_key": (_m_has_as("map.has_key()"), 1, 1),
    "contains_key": (_m_has_as("map.contains_key()"), 1, 1),
    "remove": (_m_remove, 1, 1),
    "length": (len, 0, 0),
    "size": (len, 0, 0),
    "is_empty": (_is_empty, 0, 0),
    "merge": (_m_merge, 1, 1),
}


# --- bytes and every value -------------------------------------------------------------


def _b_to_string(b: bytes) -> str:
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueErr(f"bytes.to_string(): invalid UTF-8 at byte {e.start}") from None


def _b_slice(b: bytes, start: Any, end: Any = None) -> bytes:
    expect("bytes.slice()", start, INT)
    if end is None:
        return b[start:]
    return b[start : expect("bytes.slice()", end, INT)]


BYTES_METHODS: dict[str, tuple[Fn[..., Any], int, int]] = {
    "length": (len, 0, 0),
    "to_string": (_b_to_string, 0, 0),
    "slice": (_b_slice, 1, 2),
}


def _print(v: Any) -> None:
    write_line(display(v))


ANY_METHODS: dict[str, tuple[Fn[..., Any], int, int]] = {
    "to_string": (display, 0, 0),
    "to_json": (to_json, 0, 0),
    "type_of": (type_of, 0, 0),
    "print": (_print, 0, 0),
}


def _table(type_name: str, own: dict[str, tuple[Fn[..., Any], int, int]]) -> dict[str, Method]:
    # Type-specific entries come last so bytes.to_string (UTF-8 decode) beats display.
    merged = {**ANY_METHODS, **own}
    return {
        name: Method(f"{type_name}.{name}", fn, lo, hi) for name, (fn, lo, hi) in merged.items()
    }


_TABLES: dict[type, dict[str, Method]] = {
    str: _table("string", STRING_METHODS),
    list: _table("list", LIST_METHODS),
    dict: _table("map", MAP_METHODS),
    bytes: _table("bytes", BYTES_METHODS),
    int: _table("int", {}),
    float: _table("float", {}),
    bool: _table("bool", {}),
    type(None): _table("nil", {}),
    Promise: _table("promise", {}),
}


def lookup_method(receiver: Any, name: str) -> Method | None:
    """The built-in method `name` of `receiver`'s type, or None (then try a global)."""
    table = _TABLES.get(type(receiver))
    if table is None:
        # Function values come in several Python classes; give each its table on first use.
        table = _TABLES[type(receiver)] = _table(type_of(receiver), {})
    return table.get(name)


def method_names(receiver: Any) -> list[str]:
    """Names of the built-in methods of `receiver` (for REPL completion and docs)."""
    table = _TABLES.get(type(receiver))
    return sorted(table if table is not None else ANY_METHODS)


__all__ = [
    "Method",
    "compare",
    "lookup_method",
    "method_names",
    "sort_values",
]
