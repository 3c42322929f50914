"""The ordering of FluentAI values that `sort`, `min` and `max` use: numbers across int and
float, strings, bytes, bools and lists within their own kind; anything else is a
TypeError."""

from __future__ import annotations

from functools import cmp_to_key
from typing import Any

from ..syntax.errors import TypeErr
from .callbacks import map_list
from .values import Callable, type_of


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


def sort_by(what: str, xs: list[Any], f: Callable) -> list[Any]:
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
