"""Built-in methods of lists (SPEC §4). Lists are mutable: `push`, `pop`, `reverse`,
`sort`, index assignment change the list itself; `map`, `filter`, `slice`, `concat`, ...
give new lists."""

from __future__ import annotations

from collections.abc import Callable as Fn
from typing import Any

from ..syntax.errors import IndexErr, ValueErr
from .args import FUNCTION, INT, LIST, STRING, expect
from .callbacks import filter_list, fold_list, map_list, offer
from .functions import fit_count
from .ordering import sort_by, sort_values
from .values import display, equals, truthy


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


def _first_index(what: str, xs: list[Any], f: Any) -> int:
    """The index of the first item for which callback `f` is truthy, else -1."""
    f = expect(what, f, FUNCTION)
    call = f.call
    n = fit_count(f, 2, optional=1)
    for i, x in enumerate(xs[:]):
        if truthy(call(offer(n, [x, i]))):
            return i
    return -1


def _l_find(xs: list[Any], f: Any) -> Any:
    i = _first_index("list.find()", xs, f)
    return xs[i] if i >= 0 else None


def _l_find_index(xs: list[Any], f: Any) -> int:
    return _first_index("list.find_index()", xs, f)


def _l_any(xs: list[Any], f: Any) -> bool:
    return _first_index("list.any()", xs, f) >= 0


def _l_all(xs: list[Any], f: Any) -> bool:
    f = expect("list.all()", f, FUNCTION)
    return all(truthy(keep) for keep in map_list(f, xs))


def _count(what: str, n: Any) -> int:
    if expect(what, n, INT) < 0:
        raise ValueErr(f"{what} expects a count of 0 or more, got {n}")
    return int(n)


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
    return sort_by("list.sort()", xs, expect("list.sort()", key, FUNCTION))


def _l_concat(xs: list[Any], other: Any) -> list[Any]:
    return xs + expect("list.concat()", other, LIST)


def _is_empty(v: Any) -> bool:
    return not v


# FluentAI's functional list vocabulary: each gives a new list (or an item), never changing
# the list it is called on.
def _l_append(xs: list[Any], v: Any) -> list[Any]:
    return [*xs, v]


def _l_cons(xs: list[Any], v: Any) -> list[Any]:
    return [v, *xs]


def _l_take(xs: list[Any], n: Any) -> list[Any]:
    return xs[: _count("list.take()", n)]


def _l_drop(xs: list[Any], n: Any) -> list[Any]:
    return xs[_count("list.drop()", n):]


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
    "append": (_l_append, 1, 1),
    "cons": (_l_cons, 1, 1),
    "head": (_l_first, 0, 0),
    "tail": (lambda xs: xs[1:], 0, 0),
    "take": (_l_take, 1, 1),
    "drop": (_l_drop, 1, 1),
    "nth": (_l_get, 1, 2),
    "find_index": (_l_find_index, 1, 1),
    "any": (_l_any, 1, 1),
    "all": (_l_all, 1, 1),
    "to_list": (lambda xs: xs[:], 0, 0),
}
