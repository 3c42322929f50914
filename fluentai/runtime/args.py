"""Checking the arguments of built-in functions, methods and effect operations: the one way
they are unpacked (starlark-go's `UnpackPositionalArgs` in spirit).

Argument counts come from the Python signature of what is called (`Builtin`, `Method`, an
effect's `@operation`) and are checked with `check_count`; each argument's type is checked
with `expect(what, value, KIND)`, which names the call, the expected kind and the actual
type in one uniform TypeError: `Time.sleep() expects a number, got string`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ..syntax.errors import TypeErr
from .values import Callable, type_of


class Kind(NamedTuple):
    """What an argument must be: its Python types (exactly: a bool is not an int) and how
    a message names it."""

    types: tuple[type, ...]
    name: str

    def named(self, name: str) -> Kind:
        """The same kind, named for one parameter (`NUMBER.named("milliseconds")`)."""
        return Kind(self.types, name)


INT = Kind((int,), "an int")
NUMBER = Kind((int, float), "a number")
STRING = Kind((str,), "a string")
BOOL = Kind((bool,), "a bool")
LIST = Kind((list,), "a list")
MAP = Kind((dict,), "a map")
BYTES = Kind((bytes,), "bytes")
FUNCTION = Kind((Callable,), "a function")  # any callable value: checked with isinstance


def expect(what: str, value: Any, kind: Kind) -> Any:
    """`value` when it is of `kind`, else a TypeError naming `what` (the call)."""
    if type(value) in kind.types or (kind.types == FUNCTION.types and isinstance(value, Callable)):
        return value
    raise TypeErr(f"{what} expects {kind.name}, got {type_of(value)}")


def count_text(lo: int, hi: int | None) -> str:
    """How many arguments a call takes: 'takes 2 arguments', 'takes 1 to 3 arguments'."""
    if hi == lo:
        return f"takes {lo} argument{'s' if lo != 1 else ''}"
    if hi is None:
        return f"takes at least {lo} argument{'s' if lo != 1 else ''}"
    return f"takes {lo} to {hi} arguments"


def check_count(what: str, given: int, lo: int, hi: int | None) -> None:
    """A TypeError unless `lo <= given <= hi` (`hi` None: no upper bound); `what` is the
    call as the user wrote it, `f()`."""
    if given < lo or (hi is not None and given > hi):
        raise TypeErr(f"{what} {count_text(lo, hi)}, got {given}")
