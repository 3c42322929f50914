"""Small helpers every part of the compiler uses: telling async code from sync code,
lifting sync code into async code, and attaching a span to errors from helper functions."""

from __future__ import annotations

import inspect
from collections.abc import Callable as PyCallable
from typing import Any

from .errors import FluentError
from .runtime import Code
from .source import Span


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
