"""What every part of code generation shares: the `Gen` interface the node-specific modules
(calls, loops, control, patterns, operators) compile sub-nodes through, telling async code
from sync code, and attaching a span to errors from helper functions."""

from __future__ import annotations

import inspect
from collections.abc import Callable as PyCallable
from typing import Any, Protocol

from ..resolve.resolution import Resolution
from ..runtime.functions import Code
from ..runtime.tasks import Host
from ..syntax import ast
from ..syntax.errors import FluentError, ValueErr
from ..syntax.source import Span


class Gen(Protocol):
    """The code generator, as the node-specific modules see it."""

    res: Resolution
    host: Host
    module_globals: dict[str, Any]
    # Finds, compiles and caches a module for `use` (None where `use` is not available).
    loader: PyCallable[[str, Span], tuple[Any, Code]] | None

    def expr(self, node: ast.Node) -> Code:
        """Expression context: never returns a control signal."""

    def code(self, node: ast.Node, stmt: bool) -> Code:
        """`node` in statement (`stmt`) or expression context."""

    def statements(self, nodes: tuple[ast.Node, ...], stmt: bool) -> Code:
        """A statement sequence in the current frame; its value is the last one's."""

    def function(self, node: Any, name: str, params: tuple[ast.Param, ...], body: ast.Node,
                 declared_async: bool, span: Span) -> Code:
        """Code that makes the function value, closing over the env it runs in."""


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


def const(value: Any) -> Code:
    return lambda env: value


NUMBER_TYPES = (int, float)


def numeric_literal(node: ast.Node) -> Any | None:
    """The value of an int or float literal node (fast paths know its type), else None."""
    if type(node) is ast.Literal and type(node.value) in NUMBER_TYPES:
        return node.value
    return None
