"""Small helpers every part of the compiler uses: telling async code from sync code,
lifting sync code into async code, and attaching a span to errors from helper functions."""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable as PyCallable
from typing import Any

from ..runtime.functions import Code
from ..syntax.errors import FluentError, ValueErr
from ..syntax.source import Span


def is_async(code: Code | None) -> bool:
    """Whether compiled code is an `async def` closure (it contains an `.await()`)."""
    return code is not None and inspect.iscoroutinefunction(code)


def as_async(code: Code) -> Code:
    """The async form of `code`: itself when already async, else a coroutine wrapper."""
    if is_async(code):
        return code

    async def lifted(env: list[Any]) -> Any:
        return code(env)

    return lifted


def located(span: Span, fn: PyCallable[..., Any], *args: Any) -> Any:
    """`fn(*args)`, giving any span-less FluentAI error the span of the calling node."""
    try:
        return fn(*args)
    except FluentError as e:
        raise e.at(span) from None
    except OverflowError:  # int to float beyond float range, sizes beyond the machine's
        raise ValueErr("number too large for this operation").at(span) from None


# Code that only reads a slot of the current frame, by slot: consumers on hot paths read
# `env[slot]` themselves instead of calling the closure.
_LOCAL_SLOTS: weakref.WeakKeyDictionary[Code, int] = weakref.WeakKeyDictionary()


def local_reader(slot: int) -> Code:
    def read(env: list[Any]) -> Any:
        return env[slot]

    _LOCAL_SLOTS[read] = slot
    return read


def local_slot(code: Code) -> int | None:
    """The slot `code` reads when it is a plain read of a current-frame variable."""
    return _LOCAL_SLOTS.get(code)


# Code that only reads a module global: call sites look the name up inline.
_GLOBAL_READS: weakref.WeakKeyDictionary[Code, tuple[dict[str, Any], str]] = (
    weakref.WeakKeyDictionary()
)


def mark_global_reader(code: Code, globals_: dict[str, Any], name: str) -> Code:
    _GLOBAL_READS[code] = (globals_, name)
    return code


def global_read(code: Code) -> tuple[dict[str, Any], str] | None:
    return _GLOBAL_READS.get(code)
