"""Built-in methods of FluentAI values (SPEC §4): `Method`, `lookup_method` and the method
tables: each type's own (`string_methods`, `list_methods`, `map_methods`) merged with the
methods every value has (`to_string`, `to_json`, `type_of`, `print`).

Method lookup is one dict lookup per call: one table per Python type, built at import time,
with the any-value methods merged into each so that their errors name the receiver's type.
"""

from __future__ import annotations

import sys
from collections.abc import Callable as Fn
from typing import Any

from .args import check_count
from .list_methods import LIST_METHODS
from .map_methods import BYTES_METHODS, MAP_METHODS
from .string_methods import STRING_METHODS
from .values import Promise, display, to_json, type_of


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


def write_line(text: str) -> None:
    # sys.stdout is looked up per call because the REPL swaps it; flushed at once so a
    # server's log can be followed through a pipe (SPEC §3).
    out = sys.stdout
    out.write(text + "\n")
    out.flush()


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
    "lookup_method",
    "method_names",
]
