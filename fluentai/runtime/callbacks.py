"""Calling FluentAI callbacks from built-in functions and methods (`map`, `filter`,
`reduce`, `find`, ...): how many arguments each callback gets (`functions.fit_count`)."""

from __future__ import annotations

from typing import Any

from .functions import fit_count
from .values import Callable, truthy

# Callbacks get (item[, index]) or (acc, item[, index]) as `fit_count` says: the index only
# when they declare a parameter for it, nil for parameters beyond. The calls go straight to
# `Callable.call` (the value was checked to be callable): these loops are hot. Each iterates
# over a copy, so a callback that pushes to the list cannot loop forever.


def offer(n: int, args: list[Any]) -> list[Any]:
    return args[:n] if n <= len(args) else [*args, *([None] * (n - len(args)))]


def map_list(f: Callable, xs: list[Any]) -> list[Any]:
    call = f.call
    n = fit_count(f, 2, optional=1)
    if n == 1:
        return [call([x]) for x in xs[:]]
    if n == 2:
        return [call([x, i]) for i, x in enumerate(xs[:])]
    return [call(offer(n, [x, i])) for i, x in enumerate(xs[:])]


def filter_list(f: Callable, xs: list[Any]) -> list[Any]:
    items = xs[:]
    return [x for x, keep in zip(items, map_list(f, items), strict=True) if truthy(keep)]


def fold_list(f: Callable, init: Any, xs: list[Any]) -> Any:
    call = f.call
    n = fit_count(f, 3, optional=1)
    acc = init
    if n == 2:  # (acc, item): the common reducer, without building the index in
        for x in xs[:]:
            acc = call([acc, x])
        return acc
    for i, x in enumerate(xs[:]):
        acc = call(offer(n, [acc, x, i]))
    return acc
